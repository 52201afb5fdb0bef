# mk/fuzz.mk — libFuzzer harnesses (clang, -fsanitize=fuzzer,address,undefined).
#
#   tests/fuzz/fuzz_spec.c   a spec file -> loader -> SQL validator -> diagnostics
#   tests/fuzz/fuzz_run.c    a spec file -> loader -> validator -> plan round trip
#                            -> executor -> shaper; every value must be valid JSON
#
# Seeds: every spec of tests/fixtures and specs/, plus tests/fuzz/regressions/
# (inputs that once crashed, leaked or tripped a sanitizer: each is replayed
# forever) and tests/fuzz/corpus/ (a minimized corpus from earlier runs).
# New inputs go to build-fuzz/corpus-NAME, crashes to build-fuzz/artifacts/.
#
#   make fuzz FUZZ_SECONDS=N    fuzz each harness for N seconds (default 60)
#   make fuzz FUZZ_TARGETS=spec one harness only
#   make fuzz FUZZ_MAX_LEN=8192 largest input tried (default 65536; smaller
#                               inputs run several times faster)
#   make fuzz-replay            run every seed, regression and corpus input once
#   make fuzz-ci                fuzz-replay, then 60 seconds of fuzzing in all
#                               (FUZZ_CI_SECONDS per harness; CI calls this)
#   make fuzz-merge             minimize build-fuzz/corpus-* into tests/fuzz/corpus/
#
# A crash: the input is in build-fuzz/artifacts/; reproduce with
# `build-fuzz/fuzz_spec FILE`, fix, then copy FILE to tests/fuzz/regressions/.
FUZZ_SECONDS    ?= 60
FUZZ_MAX_LEN    ?= 65536
FUZZ_CI_SECONDS ?= 30
FUZZ_CC         ?= clang
FUZZ_TARGETS    ?= spec run
FUZZ_FLAGS      := -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
                   -fno-sanitize-recover=undefined -Iinclude -Icommon -Icompiler -Iruntime -Iengine $(PKG_CFLAGS)
FUZZ_DIRS       := build-fuzz/seeds tests/fuzz/regressions $(wildcard tests/fuzz/corpus)
FUZZ_RUN_OPTS   := -timeout=20 -rss_limit_mb=2048
FUZZ_ENV        := ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRC) $(GEN_MIG) $(GEN_PGMIG) $(wildcard include/*.h common/*.h compiler/*.h runtime/*.h engine/*.h engine/sqlite/*.h)
	@mkdir -p build-fuzz
	@echo "  FUZZ    $@"
	@$(FUZZ_CC) $(FUZZ_FLAGS) $< $(LIB_SRC) $(GEN_MIG) $(GEN_PGMIG) -o $@ $(PKG_LIBS) -lpthread -lm

FUZZ_BINS := $(FUZZ_TARGETS:%=build-fuzz/fuzz_%)

# The seeds, flattened into one directory (file names keep their origin).
build-fuzz/seeds: $(FUZZ_BINS) $(wildcard tests/fixtures/*/*/*.y*ml tests/fixtures/*/*/*/*.y*ml specs/*.y*ml specs/*/*.y*ml)
	@rm -rf $@ && mkdir -p $@ build-fuzz/artifacts
	@find tests/fixtures specs -name '*.y*ml' 2>/dev/null | while read f; do \
	  cp "$$f" "$@/$$(echo "$$f" | tr '/' '_')"; done
	@touch $@

fuzz: deps-fuzz build-fuzz/seeds
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build-fuzz/corpus-$$t; \
	  echo "==> fuzz_$$t for $(FUZZ_SECONDS)s"; \
	  $(FUZZ_ENV) build-fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN) $(FUZZ_RUN_OPTS) \
	    -print_final_stats=1 -artifact_prefix=build-fuzz/artifacts/ \
	    build-fuzz/corpus-$$t $(FUZZ_DIRS) > build-fuzz/fuzz_$$t.log 2>&1; st=$$?; \
	  grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^==[0-9]+==|^SUMMARY|^stat::(number_of_executed_units|new_units_added|peak_rss_mb)' \
	    build-fuzz/fuzz_$$t.log; \
	  [ "$$st" = 0 ] || { tail -n 40 build-fuzz/fuzz_$$t.log; \
	    echo "fuzz_$$t failed (exit $$st): build-fuzz/fuzz_$$t.log, input in build-fuzz/artifacts/"; exit 1; }; \
	done

fuzz-replay: deps-fuzz build-fuzz/seeds
	@for t in $(FUZZ_TARGETS); do \
	  extra=$$(test -d build-fuzz/corpus-$$t && echo build-fuzz/corpus-$$t); \
	  echo "==> fuzz_$$t: replaying $(FUZZ_DIRS) $$extra"; \
	  $(FUZZ_ENV) build-fuzz/fuzz_$$t -runs=0 $(FUZZ_RUN_OPTS) -artifact_prefix=build-fuzz/artifacts/ $(FUZZ_DIRS) $$extra > build-fuzz/replay_$$t.log 2>&1; \
	  st=$$?; grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)' build-fuzz/replay_$$t.log; \
	  [ "$$st" = 0 ] || { tail -n 40 build-fuzz/replay_$$t.log; echo "fuzz_$$t: replay failed (exit $$st)"; exit 1; }; \
	done

fuzz-ci: fuzz-replay
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_CI_SECONDS)

# Minimizes what the fuzzers found into tests/fuzz/corpus/ (commit it).
fuzz-merge: deps-fuzz build-fuzz/seeds
	@mkdir -p tests/fuzz/corpus build-fuzz/merged
	@rm -rf build-fuzz/merged/*
	@for t in $(FUZZ_TARGETS); do \
	  $(FUZZ_ENV) build-fuzz/fuzz_$$t -merge=1 $(FUZZ_RUN_OPTS) build-fuzz/merged \
	    tests/fuzz/corpus $$(ls -d build-fuzz/corpus-* build-fuzz/corpus 2>/dev/null) >/dev/null 2>&1 || exit 1; \
	done
	@rm -rf tests/fuzz/corpus && mv build-fuzz/merged tests/fuzz/corpus
	@echo "tests/fuzz/corpus: $$(ls tests/fuzz/corpus | wc -l) inputs"

deps-fuzz: deps
	@command -v $(FUZZ_CC) >/dev/null 2>&1 || { echo "installing clang" >&2; \
	  apt-get install -y -qq clang libclang-rt-dev >/dev/null; }

.PHONY: fuzz fuzz-replay fuzz-ci fuzz-merge deps-fuzz
