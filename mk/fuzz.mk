# make fuzz FUZZ_SECONDS=N — libFuzzer over the spec loader and SQL validator
# (clang, -fsanitize=fuzzer,address,undefined). The seed corpus is every spec of
# tests/fixtures and specs/; new inputs found go to build-fuzz/corpus.
# make fuzz-replay runs the seeds once (CI does this, then fuzzes for 60 s).
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_BIN     := build-fuzz/fuzz_spec
FUZZ_SRC     := $(LIB_SRC) tests/fuzz/fuzz_spec.c

$(FUZZ_BIN): $(FUZZ_SRC) $(GEN_MIG) $(wildcard include/*.h common/*.h compiler/*.h runtime/*.h)
	@mkdir -p build-fuzz
	@echo "  FUZZ    $@"
	@$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=undefined -Iinclude -Icommon -Icompiler -Iruntime $(PKG_CFLAGS) \
	  $(FUZZ_SRC) $(GEN_MIG) -o $@ $(PKG_LIBS) -lpthread -lm

build-fuzz/seeds: $(FUZZ_BIN)
	@rm -rf $@ && mkdir -p $@ build-fuzz/corpus
	@find tests/fixtures specs -name '*.y*ml' 2>/dev/null | while read f; do \
	  cp "$$f" "$@/$$(echo "$$f" | tr '/' '_')"; done

fuzz: deps-fuzz build-fuzz/seeds
	ASAN_OPTIONS=detect_leaks=1 $(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 build-fuzz/corpus build-fuzz/seeds

fuzz-replay: deps-fuzz build-fuzz/seeds
	ASAN_OPTIONS=detect_leaks=1 $(FUZZ_BIN) -runs=0 build-fuzz/seeds

deps-fuzz: deps
	@command -v $(FUZZ_CC) >/dev/null 2>&1 || { echo "installing clang" >&2; \
	  apt-get install -y -qq clang libclang-rt-dev >/dev/null; }

.PHONY: fuzz fuzz-replay deps-fuzz
