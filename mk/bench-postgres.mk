# bench-postgres.mk — `make bench-postgres`: dashspec on PostgreSQL against its
# floor (bench/bench_postgres.py): a throwaway server (tests/pg/cluster.sh),
# the example data loaded (examples/postgres/load.sh), then medians of
# interleaved rounds of one psql running the same SQL (the floor),
# `run --force --jobs 1`, and two runner processes at once; written to the
# "PostgreSQL" section of bench/results.md. The server is always removed.
#
#   make bench-postgres PG_BENCH_SCALE=12 PG_BENCH_RUNS=5   (12: bench.py's "medium", ~1M rows)

PG_BENCH_SCALE ?= 12
PG_BENCH_RUNS  ?= 5

.PHONY: bench-postgres

bench-postgres: all
	python3 bench/bench_postgres.py --scale $(PG_BENCH_SCALE) --runs $(PG_BENCH_RUNS)
