# mk/loadtest.mk — `make loadtest` (bench/loadtest.c): a reader process doing
# the dashboard's one query as fast as it can while 100 forced runs commit
# (rollback-journal and WAL databases, plus a sweep of reader busy timeouts),
# then four runs racing for one database, 50 rounds. Prints a table of reads,
# errors and latency percentiles; fails on any reader error at the default
# busy timeout, any torn value, or a race without exactly one winner.
#   make loadtest LOAD_RUNS=100 LOAD_ROUNDS=50 LOAD_BUSY_MS=5000
LOAD_RUNS    ?= 100
LOAD_ROUNDS  ?= 50
LOAD_BUSY_MS ?= 5000
LOADTEST     := $(BUILD)/loadtest

$(LOADTEST): bench/loadtest.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS_ALL) $< -o $@ $(LDLIBS_ALL)

.PHONY: loadtest
loadtest: deps all $(LOADTEST)
	$(LOADTEST) --bin $(abspath $(BIN)) --runs $(LOAD_RUNS) --rounds $(LOAD_ROUNDS) --busy $(LOAD_BUSY_MS)
