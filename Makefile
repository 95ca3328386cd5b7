# libkwire, libmockbroker, libkproducer and their programs. `make help` lists the targets.
B       ?= build
BIN     ?= bin
PREFIX  ?= /usr/local
CC      ?= cc
CFLAGS  ?= -O2 -g
WERROR  ?= -Werror
XFLAGS  := -std=c11 -D_POSIX_C_SOURCE=200809L -I. -MMD -MP -Wall -Wextra -Wshadow \
           -Wstrict-prototypes -Wvla -Wno-missing-field-initializers $(WERROR)
PKGS    := libevent_core libevent_pthreads libevent_extra zlib liblz4 libzstd jansson
LDLIBS  := -levent_extra -levent_pthreads -levent_core -lpthread -lz -llz4 -lzstd -lsnappy -ljansson

KW_SRC   := $(wildcard lib/*.c lib/proto/*.c)
KWEV_SRC := $(wildcard lib/ev/*.c)
MB_SRC   := $(filter-out mockbroker/main.c,$(wildcard mockbroker/*.c))
KP_SRC   := $(filter-out producer/cli.c,$(wildcard producer/*.c))
TEST_SRC := $(wildcard tests/*.c)
BENCHES  := $(patsubst tests/bench/%.c,$(B)/bench/%,$(wildcard tests/bench/*.c))
FUZZERS  := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(wildcard tests/fuzz/*.c))
PROGS    := $(BIN)/kdump $(if $(wildcard mockbroker/main.c),$(BIN)/mockbroker) \
            $(if $(wildcard producer/cli.c),$(BIN)/kproducer)
LIBS     := $(if $(KP_SRC),$(B)/libkproducer.a) $(if $(MB_SRC),$(B)/libmockbroker.a) \
            $(B)/libkwev.a $(B)/libkwire.a
DEPS_OK  := build/.deps-ok

all: $(PROGS) $(B)/tests/run $(B)/tests/genframes $(B)/tests/kp_interop

# Missing libraries are installed by the build itself when it runs as root on Debian.
$(DEPS_OK): scripts/deps.sh
	@sh scripts/deps.sh build
	@mkdir -p $(@D) && touch $@

$(B)/%.o: %.c | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(XFLAGS) $(CFLAGS) $(SAN) -c -o $@ $<

$(B)/libkwire.a:      $(KW_SRC:%.c=$(B)/%.o)   ; $(AR) rcs $@ $^
$(B)/libkwev.a:       $(KWEV_SRC:%.c=$(B)/%.o) ; $(AR) rcs $@ $^
$(B)/libmockbroker.a: $(MB_SRC:%.c=$(B)/%.o)   ; $(AR) rcs $@ $^
$(B)/libkproducer.a:  $(KP_SRC:%.c=$(B)/%.o)   ; $(AR) rcs $@ $^

LINK = @mkdir -p $(@D) && $(CC) $(LDFLAGS) $(SAN) -o $@ $^
$(BIN)/kdump:      $(B)/lib/kdump/kdump.o $(B)/libkwire.a ; $(LINK) $(LDLIBS)
$(BIN)/mockbroker: $(B)/mockbroker/main.o $(LIBS)        ; $(LINK) $(LDLIBS)
$(BIN)/kproducer:  $(B)/producer/cli.o $(LIBS)           ; $(LINK) $(LDLIBS)
$(B)/tests/run:    $(TEST_SRC:%.c=$(B)/%.o) $(LIBS)      ; $(LINK) -lcunit $(LDLIBS)
$(B)/bench/%:      $(B)/tests/bench/%.o $(B)/tests/bench/common/proc.o \
                   $(B)/tests/bench/common/broker.o $(LIBS) \
                   ; $(LINK) $(LDLIBS) -lrdkafka -lm
# Our encoding of every sample message, for tests/scripts/tshark.sh.
$(B)/tests/genframes: $(B)/tests/tools/genframes.o $(B)/tests/samples.o $(B)/tests/samples_a.o \
                      $(B)/tests/samples_b.o $(B)/tests/samples_c.o $(B)/tests/samples_d.o \
                      $(B)/libkwire.a \
                      ; $(LINK) $(LDLIBS)
$(B)/fuzz/%:       $(B)/tests/fuzz/%.o $(LIBS)            ; $(LINK) -fsanitize=fuzzer $(LDLIBS)
# The producer against librdkafka's mock cluster (tests/scripts/producer_interop.sh).
$(B)/tests/kp_interop: $(B)/tests/tools/kp_interop.o $(LIBS) ; $(LINK) $(LDLIBS) -lrdkafka

# The CUnit suites, then the interop and conformance scripts.
test: all
	$(B)/tests/run
	@for t in tests/scripts/*.sh; do [ -e "$$t" ] || continue; echo "== $$t"; \
		BIN=$(BIN) B=$(B) bash "$$t" || exit 1; done

unit: $(B)/tests/run
	$(B)/tests/run

VALGRIND := valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
	--show-leak-kinds=definite,indirect --error-exitcode=1 --suppressions=tests/valgrind.supp
valgrind: $(B)/tests/run
	$(VALGRIND) $(B)/tests/run

asan:
	$(MAKE) B=build/asan BIN=build/asan/bin CFLAGS='-O1 -g' \
		SAN='-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all' unit

bench: $(BENCHES) $(BIN)/mockbroker
	@for b in $(BENCHES); do BIN=$(BIN) $$b || exit 1; done

FUZZ_RUNS    ?= 1000000
FUZZ_SECONDS ?= 600
fuzz:
	$(MAKE) B=build/fuzz BIN=build/fuzz/bin CC=clang CFLAGS='-O1 -g' \
		SAN='-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all' fuzz-run
fuzz-run: $(FUZZERS)
	@mkdir -p $(B)/corpus
	@for f in fixtures/frames/*.hex; do sed 's/#.*//' $$f | xxd -r -p > $(B)/corpus/$$(basename $$f .hex); done
	@for z in $^; do echo "== $$z: $(FUZZ_RUNS) runs"; mkdir -p $(B)/corpus-$$(basename $$z); \
		$$z -runs=$(FUZZ_RUNS) -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(B)/ \
		$(B)/corpus-$$(basename $$z) $(B)/corpus 2>$(B)/$$(basename $$z).log \
		|| { tail -40 $(B)/$$(basename $$z).log; exit 1; }; tail -2 $(B)/$$(basename $$z).log; done

HEADERS := lib/kw.h lib/errors.h lib/crc.h lib/hash.h lib/batch.h lib/compress.h lib/msgset.h \
           lib/clock.h lib/describe.h \
           lib/ev/clock_ev.h $(wildcard lib/proto/*.h) $(wildcard mockbroker/mockbroker.h) \
           $(wildcard producer/kproducer.h)
install: all
	sh scripts/install.sh "$(DESTDIR)$(PREFIX)" "$(B)" "$(BIN)" $(HEADERS)

clean:
	rm -rf build bin

# The README's first command: an in-process cluster of three brokers, 100,000 messages from our
# idempotent producer, every one read back from the logs and checked, and a summary.
demo: $(BIN)/kproducer
	$(BIN)/kproducer --embedded 3 --count 100000 -X enable.idempotence=true

# docs/conformance.md: every client adapter (tests/adapters/) under every fixture scenario.
conformance: $(BIN)/mockbroker $(BIN)/kproducer
	BIN=$(BIN) bash tests/adapters/conformance.sh

# Everything CI runs, stage by stage with time budgets (scripts/check.sh).
check:
	bash scripts/check.sh

help:
	@echo "make [all|test|unit|valgrind|asan|fuzz|bench|check|conformance|install PREFIX=...|clean]"

.PHONY: all test unit valgrind asan bench fuzz fuzz-run install clean help check demo conformance
.SECONDARY:
-include $(shell find $(B) -name '*.d' 2>/dev/null)
