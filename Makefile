# dashspec — build, test and tooling.
#
# `make` builds libdashspec.a and the dashspec CLI over it. Sources are found by
# wildcard, so adding a file to common/, compiler/, runtime/, engine/ (and
# engine/sqlite/) or cli/ needs no edit here. Dependencies come from pkg-config; scripts/deps.sh installs the Debian
# packages when they are missing (make test and make demo call it first).

CC       ?= cc
PKGS     := sqlite3 yaml-0.1 libcjson libpq
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libpq is not linked: engine/postgres/pg_dl.c loads it at first use (its
# headers are still needed); the tests, which call libpq themselves, link it.
PKG_LIBS   := $(shell pkg-config --libs $(filter-out libpq,$(PKGS)) 2>/dev/null) -ldl
PQ_LIBS    := $(shell pkg-config --libs libpq 2>/dev/null)
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null)

WERROR   ?= -Werror
OPT      ?= -O2 -g
CFLAGS_ALL = -std=c11 -D_GNU_SOURCE $(OPT) -Wall -Wextra $(WERROR) -Wshadow \
             -Wno-unused-parameter -Iinclude -Icommon -Icompiler -Iruntime -Iengine \
             $(PKG_CFLAGS) $(SAN) $(CFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -lpthread -lm $(SAN) $(LDFLAGS)

BUILD    ?= build
PREFIX   ?= /usr/local
DESTDIR  ?=

LIB_SRC  := $(sort $(wildcard common/*.c compiler/*.c runtime/*.c engine/*.c engine/sqlite/*.c engine/postgres/*.c))
CLI_SRC  := $(sort $(wildcard cli/*.c))
TEST_SRC := $(sort $(wildcard tests/check_*.c))
TEST_UTIL:= $(sort $(wildcard tests/util_*.c))
MIGRATIONS := $(sort $(wildcard migrations/sqlite/*.sql))

GEN_MIG  := $(BUILD)/gen/ds_migrations.c
PG_MIGRATIONS := $(sort $(wildcard migrations/postgres/*.sql))
GEN_PGMIG := $(BUILD)/gen/ds_pg_migrations.c
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/ds_migrations.o $(BUILD)/gen/ds_pg_migrations.o
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o) $(TEST_UTIL:%.c=$(BUILD)/%.o)

LIB      := $(BUILD)/libdashspec.a
BIN      := $(BUILD)/dashspec
TESTBIN  := $(BUILD)/check_dashspec

.PHONY: all deps test test-slow test-all unit asan valgrind install clean demo bench fuzz pkg-check pkg-check-test

all: $(BIN)
	@ln -sf $(BIN) dashspec 2>/dev/null || true

deps:
	@sh scripts/deps.sh

# Before compiling anything: every pkg-config package there, else one line per
# missing one naming its Debian package, and a stop. Order-only, so it never
# makes a target out of date.
PKG_DEBS := sqlite3:libsqlite3-dev yaml-0.1:libyaml-dev libcjson:libcjson-dev libpq:libpq-dev
pkg-check:
	@command -v pkg-config >/dev/null 2>&1 || { \
	  echo "missing pkg-config (Debian: pkg-config): run 'make deps'" >&2; exit 1; }
	@st=0; for pd in $(PKG_DEBS); do pkg-config --exists $${pd%%:*} || { st=1; \
	  echo "missing $${pd%%:*} (Debian: $${pd#*:}): run 'make deps'" >&2; }; done; exit $$st

pkg-check-test: pkg-check
	@pkg-config --exists check || { echo "missing check (Debian: check): run 'make deps'" >&2; exit 1; }

$(LIB_OBJ) $(CLI_OBJ) $(GEN_MIG): | pkg-check
$(TEST_OBJ): | pkg-check-test

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(GEN_MIG): $(MIGRATIONS) scripts/embed.sh
	@mkdir -p $(dir $@)
	@sh scripts/embed.sh ds_sqlite_migrations $(MIGRATIONS) > $@

$(GEN_PGMIG): $(PG_MIGRATIONS) scripts/embed.sh
	@mkdir -p $(dir $@)
	@sh scripts/embed.sh ds_pg_migrations $(PG_MIGRATIONS) > $@

$(BUILD)/gen/ds_pg_migrations.o: $(GEN_PGMIG)
	@$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/gen/ds_migrations.o: $(GEN_MIG)
	@$(CC) $(CFLAGS_ALL) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	@echo "  LINK    $@"
	@$(CC) -o $@ $(CLI_OBJ) $(LIB) $(LDLIBS_ALL)

# The test runner: one Check suite per tests/check_<module>.c, each exporting
# <module>_suite(); the list is generated so a new suite needs no edit here.
$(BUILD)/gen/suites.h: $(TEST_SRC)
	@mkdir -p $(dir $@)
	@for f in $(TEST_SRC); do n=$${f#tests/check_}; n=$${n%.c}; \
	  [ "$$n" = main ] || echo "DS_SUITE($$n)"; done > $@.tmp && \
	  (cmp -s $@.tmp $@ || mv $@.tmp $@); rm -f $@.tmp

$(BUILD)/tests/check_main.o: $(BUILD)/gen/suites.h
$(BUILD)/tests/%.o: CFLAGS += -I$(BUILD)/gen $(CHECK_CFLAGS)

$(TESTBIN): $(TEST_OBJ) $(LIB) $(BIN)
	@echo "  LINK    $@"
	@$(CC) -o $@ $(TEST_OBJ) $(LIB) $(CHECK_LIBS) $(PQ_LIBS) $(LDLIBS_ALL)

# make test: install missing packages, build with warnings as errors, run every
# suite, two at a time (-O keeps each suite's output together), without the
# test cases tagged "slow" (tcase_set_tags): the edit-compile-test loop, about
# a minute on 2 cores. make test-slow: only the slow ones (the faults suite's
# allocation, I/O, kill and race loops, the run kill loop, --watch, runaway
# and long queries; several minutes). make test-all: everything CI runs, each
# once: test, test-slow, asan (every test), valgrind, fuzz-ci.
# SUITE=name runs one suite, every tag; CK_RUN_CASE=name narrows to one test case.
TEST_JOBS ?= 2
# Longest first, so that the two lanes end together.
SUITES := $(sort $(filter-out main,$(TEST_SRC:tests/check_%.c=%)))
SUITES := run examples hostile $(filter-out run examples hostile,$(SUITES))
.PHONY: $(SUITES:%=suite-%)

test: deps
	@$(MAKE) --no-print-directory $(TESTBIN)
	@$(MAKE) --no-print-directory -j$(TEST_JOBS) -O TAGS_ENV=CK_EXCLUDE_TAGS=slow $(SUITES:%=suite-%)

test-slow: deps
	@$(MAKE) --no-print-directory $(TESTBIN)
	@$(MAKE) --no-print-directory -j$(TEST_JOBS) -O TAGS_ENV=CK_INCLUDE_TAGS=slow $(SUITES:%=suite-%)

test-all: deps
	@$(MAKE) --no-print-directory test
	@$(MAKE) --no-print-directory test-slow
	@$(MAKE) --no-print-directory test-browser
	@$(MAKE) --no-print-directory asan
	@$(MAKE) --no-print-directory valgrind
	@$(MAKE) --no-print-directory fuzz-ci

$(SUITES:%=suite-%): suite-%:
	@$(TAGS_ENV) DS_BIN=$(abspath $(BIN)) DS_ROOT=$(CURDIR) $(TESTBIN) $*

unit: $(TESTBIN)
	DS_BIN=$(abspath $(BIN)) DS_ROOT=$(CURDIR) $(TESTBIN) $(SUITE)

asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" unit

# make valgrind: every test but the `slow` ones (they run natively in
# test-slow and under ASan in make asan; leaving them out keeps CI well inside
# its 90 minutes). VG_TAGS= runs them too.
VG_TAGS ?= CK_EXCLUDE_TAGS=slow
valgrind: deps
	@$(MAKE) --no-print-directory BUILD=build-vg OPT="-O1 -g" build-vg/check_dashspec
	$(VG_TAGS) DS_BIN=$(abspath build-vg/dashspec) DS_ROOT=$(CURDIR) DS_VALGRIND=1 CK_FORK=no \
	  valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	  build-vg/check_dashspec $(SUITE)

# make install: the binary, the man page, the migrations (share/dashspec/),
# bash and zsh completion, and the library with its header and dashspec.pc
# (pkg-config --cflags --libs dashspec). PREFIX and DESTDIR as usual.
VERSION := $(shell sed -n 's/^\#define DS_VERSION "\(.*\)"/\1/p' include/dashspec.h)
INSTALL_DIRS := bin lib lib/pkgconfig include share/man/man1 share/dashspec/migrations/sqlite \
                share/bash-completion/completions share/zsh/site-functions

install: $(BIN) $(LIB)
	@for d in $(INSTALL_DIRS); do install -d "$(DESTDIR)$(PREFIX)/$$d" || exit 1; done
	install -m 0755 $(BIN) "$(DESTDIR)$(PREFIX)/bin/dashspec"
	install -m 0644 docs/dashspec.1 "$(DESTDIR)$(PREFIX)/share/man/man1/dashspec.1"
	install -m 0644 $(MIGRATIONS) "$(DESTDIR)$(PREFIX)/share/dashspec/migrations/sqlite/"
	install -m 0644 $(LIB) "$(DESTDIR)$(PREFIX)/lib/libdashspec.a"
	install -m 0644 include/dashspec.h "$(DESTDIR)$(PREFIX)/include/dashspec.h"
	$(BIN) completion bash > "$(DESTDIR)$(PREFIX)/share/bash-completion/completions/dashspec"
	$(BIN) completion zsh > "$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_dashspec"
	@printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
	  'Name: dashspec' 'Description: pre-computes dashboard queries declared in YAML specs' \
	  'Version: $(VERSION)' 'Requires.private: $(PKGS)' 'Cflags: -I$${includedir}' \
	  'Libs: -L$${libdir} -ldashspec' 'Libs.private: -lpthread -lm' \
	  > "$(DESTDIR)$(PREFIX)/lib/pkgconfig/dashspec.pc"
	@echo "installed dashspec $(VERSION) under $(DESTDIR)$(PREFIX)"

clean:
	rm -rf build build-asan build-vg dashspec

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
-include mk/*.mk
