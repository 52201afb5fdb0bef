# make bench-freshness — one simulated hour of keeping the example's dashboard
# fresh (bench/freshness.py, issue 13): cron every minute with `run --now`
# stepped while the application appends rows, for dashspec with specs/, with
# bench/specs-fresh/ (refresh_key + incremental) and the origin's job every 10
# minutes; CPU-seconds per hour and worst staleness, written to
# bench/results.md. The database (examples/make-db.sh) is kept under bench/work/.
#   make bench-freshness FRESH_SCALE=1     (quick; default 10)
FRESH_SCALE ?= 10

bench-freshness: deps all
	python3 bench/freshness.py --scale $(FRESH_SCALE)

.PHONY: bench-freshness
