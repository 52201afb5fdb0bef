# mk/faults.mk — fault injection (tests/fault/, tests/check_faults.c).
#
# The shim $(BUILD)/fault/dsfault.so is preloaded into the dashspec binary by
# the faults suite to fail allocations and file I/O on demand (see
# tests/fault/dsfault.c). It is built without sanitizers whatever SAN says:
# it passes every allocation on to the next allocator (ASan's in make asan,
# the C library's under valgrind), so it must not bring its own.
#
#   make faults     the faults suite with every fault point: allocation N for
#                   every N of check, compile, run (serial and parallel),
#                   status and get, and every write/fsync/read of a run
#                   failing with ENOSPC or EIO (the suite samples ~30 each)
#   make killtest   SIGKILL/SIGTERM a run at random moments, 200 times
#                   (KILL_ROUNDS=N to change; the suite does 12)
#   DS_KILL_SEED=N  replays a kill test's random moments
FAULT_SO    := $(BUILD)/fault/dsfault.so
KILL_ROUNDS ?= 200

$(FAULT_SO): tests/fault/dsfault.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(CC) -std=c11 -D_GNU_SOURCE -O2 -g -fPIC -shared -Wall -Wextra $(WERROR) $< -o $@ -ldl -lpthread

# The suites preload it, so the test binary needs it.
$(TESTBIN): $(FAULT_SO)

.PHONY: faults killtest
faults: $(TESTBIN)
	DS_BIN=$(abspath $(BIN)) DS_ROOT=$(CURDIR) DS_FAULT_FULL=1 CK_DEFAULT_TIMEOUT=7200 \
	  $(TESTBIN) faults

killtest: $(TESTBIN)
	DS_BIN=$(abspath $(BIN)) DS_ROOT=$(CURDIR) DS_KILL_ROUNDS=$(KILL_ROUNDS) CK_RUN_CASE=kill \
	  CK_DEFAULT_TIMEOUT=7200 $(TESTBIN) faults
