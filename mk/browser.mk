# browser.mk — `make test-browser`: the tests that need outside tools, with
# the tools required rather than optional (CI installs them: Debian's
# chromium and prometheus packages).
#
#   - report_in_a_real_browser: headless Chromium loads the page `dashspec
#     report` writes for a simulated day on the example database, its DOM is
#     checked (one entry per item, one chart per chart item, no script, a
#     hostile value stays text), and the screenshot is saved as
#     build/report.png for a person to look at;
#   - prometheus_on_a_day: `status --format prometheus` through
#     `promtool check metrics` (plain `make test` skips promtool, loudly, when
#     it is missing).
#
# Meant to be part of `make test-all` and .ci/run.

.PHONY: test-browser

test-browser: $(TESTBIN)
	@command -v chromium >/dev/null 2>&1 || { echo "test-browser: chromium is MISSING (apt-get install chromium)" >&2; exit 1; }
	@command -v promtool >/dev/null 2>&1 || { echo "test-browser: promtool is MISSING (apt-get install prometheus)" >&2; exit 1; }
	DS_BROWSER=1 DS_PROMTOOL=1 DS_BIN=$(abspath $(BIN)) DS_ROOT=$(CURDIR) $(TESTBIN) report
	@echo "test-browser: screenshot in $(BUILD)/report.png"
