# demo.mk — `make demo`: the bundled example end to end on a fresh machine.
#
# Installs missing packages, builds, generates the example application's
# database (examples/demo.db, only when it is missing), then shows check,
# compile, run, status and get against it. Run it twice: the second run finds
# nothing due.
#
# The example data ends at a fixed reference time, so every command that has
# a notion of "now" gets --now with that time: the values are the same on
# every machine and every day, and "due" and "fresh" are judged against it
# (see README.md, "The demo's clock"). `make demo-clean` removes the database
# (and with it the cache) so the next `make demo` starts from scratch.
#
#   make demo SCALE=10           a ten times bigger database (when generated;
#                                DEMO_SCALE=10 says the same)
#   make demo DEMO_DB=/tmp/x.db  another file

DEMO_DB    ?= examples/demo.db
DEMO_NOW   ?= 2026-02-12 10:00:00
DEMO_SCALE ?= $(or $(SCALE),1)
DEMO_BIN   := $(BUILD)/dashspec
DEMO_KEY   ?= pipeline_funnel

.PHONY: demo demo-clean

demo:
	@echo "==> dependencies (sh scripts/deps.sh)"
	@sh scripts/deps.sh
	@echo "==> build"
	@$(MAKE) --no-print-directory all
	@if [ -e '$(DEMO_DB)' ]; then \
	  echo "==> example database: $(DEMO_DB) exists, kept (make demo-clean starts over)"; \
	else \
	  echo "==> example database: generating $(DEMO_DB) (scale $(DEMO_SCALE), data up to $(DEMO_NOW) UTC)"; \
	  REF='$(DEMO_NOW)' sh examples/make-db.sh '$(DEMO_DB)' '$(DEMO_SCALE)'; \
	fi
	@echo "==> dashspec check --db $(DEMO_DB)      (every spec in specs/, SQL prepared against the database)"
	@$(DEMO_BIN) check --db '$(DEMO_DB)'
	@echo "==> dashspec compile --db $(DEMO_DB)    (the plan: table dashspec_plan)"
	@$(DEMO_BIN) compile --db '$(DEMO_DB)'
	@echo "==> dashspec run --db $(DEMO_DB) --now '$(DEMO_NOW)'    (computes what is due)"
	@$(DEMO_BIN) run --db '$(DEMO_DB)' --now '$(DEMO_NOW)'
	@echo "==> dashspec status --db $(DEMO_DB) --now '$(DEMO_NOW)'"
	@$(DEMO_BIN) status --db '$(DEMO_DB)' --now '$(DEMO_NOW)'
	@echo "==> dashspec get --db $(DEMO_DB) --now '$(DEMO_NOW)' $(DEMO_KEY)"
	@$(DEMO_BIN) get --db '$(DEMO_DB)' --now '$(DEMO_NOW)' '$(DEMO_KEY)'
	@echo "==> done. Run 'make demo' again: nothing is due, so run computes nothing."

demo-clean:
	rm -f '$(DEMO_DB)' '$(DEMO_DB)-journal' '$(DEMO_DB)-wal' '$(DEMO_DB)-shm' '$(DEMO_DB).tmp'
