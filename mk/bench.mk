# make bench — side-by-side benchmarks (bench/bench.py): dashspec against the
# sqlite3 CLI running the same SQL and the Python script it replaces, plus
# per-item times, large values and goals met / not met, written to
# bench/results.md. Builds the example databases under bench/work/ on first
# use (about 1M and 5M rows). build/bench-rss (bench/rss.c) is the stopwatch:
# wall time and the command's own peak RSS.
#   make bench BENCH_SCALES=small,medium,large BENCH_RUNS=5
# make profile — callgrind of one run per item (bench/profile.py): where the
# instructions go (SQLite executing the query, shaping JSON, writing, the
# rest), written to bench/profile.md and into bench/results.md.
#   make profile PROFILE_SCALE=medium
BENCH_SCALES  ?= medium,large
BENCH_RUNS    ?= 5
PROFILE_SCALE ?= medium
BENCH_RSS     := $(BUILD)/bench-rss

$(BENCH_RSS): bench/rss.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra $(WERROR) $< -o $@

bench: deps all $(BENCH_RSS)
	python3 bench/bench.py --scales $(BENCH_SCALES) --runs $(BENCH_RUNS)

profile: deps all
	python3 bench/profile.py --scale $(PROFILE_SCALE)

.PHONY: bench profile
