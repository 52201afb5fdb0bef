# postgres.mk — `make demo-postgres`: the example dashboard on PostgreSQL, end
# to end, on a throwaway server: starts one (tests/pg/cluster.sh: a temp
# directory, a Unix socket, no TCP port), loads the example data
# (examples/postgres/load.sh), then check, compile, run, status and get with
# the PostgreSQL specs (examples/postgres/specs), and stops and removes the
# server whatever happened.
#
#   make demo-postgres PG_DEMO_SCALE=1    the full-size example (default 0.1)

PG_DEMO_SCALE ?= 0.1
PG_DEMO_NOW   ?= 2026-02-12 10:00:00
PG_DEMO_KEY   ?= pipeline_funnel

.PHONY: demo-postgres

demo-postgres: all
	@set -e; out=$$(sh tests/pg/cluster.sh start); dir=$$(echo "$$out" | sed -n 1p); \
	db=$$(echo "$$out" | sed -n 2p); trap 'sh tests/pg/cluster.sh stop "$$dir"' EXIT INT TERM; \
	echo "==> a throwaway server: $$db"; \
	sh examples/postgres/load.sh "$$db" $(PG_DEMO_SCALE); \
	echo "==> dashspec check --db \"$$db\" --specs examples/postgres/specs"; \
	$(BUILD)/dashspec check --db "$$db" --specs examples/postgres/specs; \
	echo "==> dashspec compile"; \
	$(BUILD)/dashspec compile --db "$$db" --specs examples/postgres/specs; \
	echo "==> dashspec run --now '$(PG_DEMO_NOW)'"; \
	$(BUILD)/dashspec run --db "$$db" --now '$(PG_DEMO_NOW)'; echo; \
	echo "==> dashspec status"; \
	$(BUILD)/dashspec status --db "$$db" --now '$(PG_DEMO_NOW)'; \
	echo "==> dashspec get $(PG_DEMO_KEY)"; \
	$(BUILD)/dashspec get --db "$$db" --now '$(PG_DEMO_NOW)' $(PG_DEMO_KEY); \
	echo "==> the dashboard's read: SELECT cache_value FROM dashboard_cache WHERE cache_key = '$(PG_DEMO_KEY)' AND expires_at > now()"; \
	echo "==> stopping the server"
