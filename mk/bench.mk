# make bench — side-by-side benchmarks (bench/bench.py): dashspec against the
# sqlite3 CLI running the same SQL and the Python script it replaces. Builds the
# example databases under bench/work/ on first use (about 1M and 5M rows).
# BENCH_SCALES=small,medium,large  BENCH_RUNS=5
BENCH_SCALES ?= medium,large
BENCH_RUNS   ?= 5
bench: deps all
	python3 bench/bench.py --scales $(BENCH_SCALES) --runs $(BENCH_RUNS)
.PHONY: bench
