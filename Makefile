# Basalt: one non-recursive GNU Makefile (shared/STYLE.md 2.11).
#   make              debug build (-O1 -g, assertions on)
#   make RELEASE=1    -O2 -g, debug logs compiled out
#   make DEVELOPER=1  extra warnings as errors (CI)
#   make SANITIZER=address|undefined|thread
#   make run | test | test-unit | test-e2e | test-s3 | bench | bench-cluster | bench-iam | bench-md5 | fuzz | format | check-format | check-layers
# Build output goes to build/ (build-release/ with RELEASE=1, build-$(SANITIZER)/ for sanitizers).

PKGS      := libmicrohttpd gnutls libisal libxxhash sqlite3 libssl libcrypto libcurl expat jansson zlib
CC        ?= cc
ifeq ($(origin CC),default)
CC        := cc
endif
PY        := /usr/bin/python3
BUILD     := build$(if $(SANITIZER),-$(SANITIZER))$(if $(RELEASE),-release)

CFLAGS_BASE := -std=gnu11 -g -Wall -Wextra -Wno-unused-parameter -Wvla -Wformat-security \
               -Wstrict-prototypes -Wmissing-prototypes -fno-common -pthread -MMD -MP -Isrc
ifdef RELEASE
CFLAGS_OPT := -O2 -DNDEBUG
else
CFLAGS_OPT := -O1 -DBASALT_DEBUG
endif
ifdef DEVELOPER
CFLAGS_OPT += -Werror -Wwrite-strings
endif
ifeq ($(SANITIZER),address)
CC        := clang
CFLAGS_OPT += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS_SAN := -fsanitize=address,undefined
else ifneq ($(SANITIZER),)
CC        := clang
CFLAGS_OPT += -fsanitize=$(SANITIZER) -fno-omit-frame-pointer
LDFLAGS_SAN := -fsanitize=$(SANITIZER)
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS    += $(CFLAGS_BASE) $(CFLAGS_OPT) $(PKG_CFLAGS)
LDLIBS    += $(PKG_LIBS) -lm -pthread
LDFLAGS   += $(LDFLAGS_SAN)

LIB_SRCS  := $(sort $(wildcard src/*/*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS := $(sort $(wildcard tests/unit/*.c tests/unit/*/*.c))
UNIT_OBJS := $(UNIT_SRCS:%.c=$(BUILD)/%.o)
$(UNIT_OBJS): CFLAGS += -Itests/unit

BIN       := $(BUILD)/basalt
UNIT      := $(BUILD)/unit

.PHONY: all deps run cluster cluster-stop test test-asan test-unit test-e2e test-s3 bench bench-cluster bench-iam bench-md5 fuzz format check-format check-layers clean
all: $(BIN)

deps:
	@scripts/install-deps.sh --quiet

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libbasalt.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(BUILD)/src/main.o $(BUILD)/libbasalt.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(UNIT): $(UNIT_OBJS) $(BUILD)/libbasalt.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The two commands of the README.
run: deps
	@$(MAKE) --no-print-directory -j2 RELEASE=1 all
	@mkdir -p data
	@exec build-release/basalt server --address 127.0.0.1:9000 'data/d{1...4}'

# A 4-node cluster on 127.0.0.1-4 (scripts/dev-cluster.sh start|status|stop).
cluster: deps
	@$(MAKE) --no-print-directory -j2 RELEASE=1 all
	@scripts/dev-cluster.sh start

cluster-stop:
	@scripts/dev-cluster.sh stop

# Everything CI runs: layering, the unit tests, the e2e suite and Ceph's s3-tests
# on the debug build, then unit and e2e again under AddressSanitizer + UBSan (slow
# e2e tests skipped there). Each runner ends with its own summary line.
test: deps
	@$(MAKE) --no-print-directory check-layers
	@$(MAKE) --no-print-directory check-format
	@$(MAKE) --no-print-directory -j2 DEVELOPER=1 all build/unit
	@$(MAKE) --no-print-directory test-unit test-e2e
	@$(MAKE) --no-print-directory test-s3
	@$(MAKE) --no-print-directory test-asan

test-asan:
	@$(MAKE) --no-print-directory -j2 SANITIZER=address build-address/basalt build-address/unit
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		build-address/unit
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		BASALT_BIN=$(abspath build-address/basalt) BASALT_SANITIZER=1 $(PY) -m pytest -q \
		-p no:cacheprovider -m "not slow" tests/e2e $(PYTEST_ARGS)

test-unit: $(UNIT)
	$(UNIT)

test-e2e: $(BIN)
	BASALT_BIN=$(abspath $(BIN)) $(PY) -m pytest -q -p no:cacheprovider tests/e2e $(PYTEST_ARGS)

# Ceph's s3-tests (../shared/s3-tests) against a fresh server, compared with
# tests/s3-tests/expected-pass.txt: a listed test that does not pass fails (issue 15).
test-s3: $(BIN)
	$(PY) -m pytest -q -p no:cacheprovider tests/s3-tests/test_compare.py
	tests/s3-tests/run.sh $(abspath $(BIN))

bench: deps
	@$(MAKE) --no-print-directory -j2 RELEASE=1 all
	BASALT_BIN=$(abspath build-release/basalt) bench/run.sh

# Issue 11's figures: a 4-node loopback cluster against one node (bench/cluster.sh).
bench-cluster: deps
	@$(MAKE) --no-print-directory -j2 RELEASE=1 all
	BASALT_BIN=$(abspath build-release/basalt) bench/cluster.sh $(BENCH_ARGS)

# Issue 12's figure: 4 KiB GET and PUT of a policy-bound user against root (bench/iam.py).
bench-iam: deps
	@$(MAKE) --no-print-directory -j2 RELEASE=1 all
	BASALT_BIN=$(abspath build-release/basalt) $(PY) bench/iam.py $(BENCH_ARGS)

# C micro-benchmarks (bench/*.c), linked against the library.
bench-md5:
	@$(MAKE) --no-print-directory -j2 RELEASE=1 build-release/bench/md5
	build-release/bench/md5

$(BUILD)/bench/%: bench/%.c $(BUILD)/libbasalt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libbasalt.a $(LDLIBS)

check-layers:
	@scripts/check-layers.sh

format:
	clang-format -i $(LIB_SRCS) $(wildcard src/*/*.h) src/main.c

check-format:
	@clang-format --dry-run --Werror $(LIB_SRCS) $(wildcard src/*/*.h) src/main.c && \
		echo "check-format: ok"

# libFuzzer targets: the library is built with fuzzer-no-link instrumentation
# into build-fuzzer/, each fuzz/<target>.c links against it.
FUZZ_SRCS := $(wildcard fuzz/*.c)
ifeq ($(SANITIZER),fuzzer)
CC         := clang
CFLAGS_OPT := -O1 -DBASALT_DEBUG -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
LDFLAGS_SAN := -fsanitize=fuzzer,address,undefined
endif
fuzz:
	@$(MAKE) --no-print-directory -j2 SANITIZER=fuzzer $(FUZZ_SRCS:fuzz/%.c=build-fuzzer/fuzz/%)
build-fuzzer/fuzz/%: fuzz/%.c $(BUILD)/libbasalt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libbasalt.a $(LDLIBS)

clean:
	rm -rf build build-* 

-include $(LIB_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(BUILD)/src/main.d
