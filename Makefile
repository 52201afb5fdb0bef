# dashspec — build, test and tooling.
#
# `make` builds libdashspec.a and the dashspec CLI over it. Sources are found by
# wildcard, so adding a file to common/, compiler/, runtime/ or cli/ needs no edit
# here. Dependencies come from pkg-config; scripts/deps.sh installs the Debian
# packages when they are missing (make test and make demo call it first).

CC       ?= cc
PKGS     := sqlite3 yaml-0.1 libcjson libpq
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
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

LIB_SRC  := $(sort $(wildcard common/*.c compiler/*.c runtime/*.c engine/postgres/*.c))
CLI_SRC  := $(sort $(wildcard cli/*.c))
TEST_SRC := $(sort $(wildcard tests/check_*.c))
TEST_UTIL:= $(sort $(wildcard tests/util_*.c))
MIGRATIONS := $(sort $(wildcard migrations/*.sql))

GEN_MIG  := $(BUILD)/gen/ds_migrations.c
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/ds_migrations.o
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o) $(TEST_UTIL:%.c=$(BUILD)/%.o)

LIB      := $(BUILD)/libdashspec.a
BIN      := $(BUILD)/dashspec
TESTBIN  := $(BUILD)/check_dashspec

.PHONY: all deps test unit asan valgrind install clean demo bench fuzz

all: $(BIN)
	@ln -sf $(BIN) dashspec 2>/dev/null || true

deps:
	@sh scripts/deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(GEN_MIG): $(MIGRATIONS) scripts/embed.sh
	@mkdir -p $(dir $@)
	@sh scripts/embed.sh $(MIGRATIONS) > $@

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
	@$(CC) -o $@ $(TEST_OBJ) $(LIB) $(CHECK_LIBS) $(LDLIBS_ALL)

# make test: install missing packages, build with warnings as errors, run every suite.
# SUITE=name runs one suite; CK_RUN_CASE=name narrows to one test case.
test: deps
	@$(MAKE) --no-print-directory unit

unit: $(TESTBIN)
	DS_BIN=$(abspath $(BIN)) DS_ROOT=$(CURDIR) $(TESTBIN) $(SUITE)

asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" unit

valgrind: deps
	@$(MAKE) --no-print-directory BUILD=build-vg OPT="-O1 -g" build-vg/check_dashspec
	DS_BIN=$(abspath build-vg/dashspec) DS_ROOT=$(CURDIR) DS_VALGRIND=1 CK_FORK=no \
	  valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	  build-vg/check_dashspec $(SUITE)

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/dashspec
	@if [ -f docs/dashspec.1 ]; then install -m 0644 docs/dashspec.1 $(DESTDIR)$(PREFIX)/share/man/man1/dashspec.1; fi

clean:
	rm -rf build build-asan build-vg dashspec

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
-include mk/*.mk
