# muon — build, test, bench. Plain GNU make (see docs/build.md for why not CMake).
#
#   make            libmuon.a, libmuon.so, muon.pc, bin/muon, bin/example
#   make test       every tests/test_*.c (cmocka); one test: bin/test_x NAME
#   make asan       the same tests built with ASan+UBSan into build-asan/
#   make valgrind   the tests of the portable build under valgrind (slow)
#   make bench      bench/*.c, prints the machine line and ratios
#   make fuzz       libFuzzer targets (clang), run briefly
#   PORTABLE=1      -march=x86-64-v3 instead of -march=native (valgrind-friendly)

CC      ?= cc
BUILD   ?= build
PREFIX  ?= /usr/local
ifeq ($(PORTABLE),1)
ARCH    := -march=x86-64-v3
else
ARCH    := -march=native
endif
OPT     ?= -O3
BLASDIR := /usr/lib/x86_64-linux-gnu/openblas-openmp
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror $(OPT) $(ARCH) -fno-math-errno -fopenmp -fPIC \
           -fvisibility=hidden -Iinclude -Isrc -I/usr/include/cjson -g
LDLIBS  := -L$(BLASDIR) -Wl,-rpath,$(BLASDIR) -lopenblas -llapacke -ldnnl -lcjson -lgomp -lm -lpthread
TESTLIBS := -lcmocka

SRCS    := $(sort $(wildcard src/*/*.c))
OBJS    := $(SRCS:%.c=$(BUILD)/%.o)
TOOLSRC := $(sort $(wildcard tools/*.c))
TESTS   := $(sort $(wildcard tests/test_*.c))
TESTBIN := $(TESTS:tests/%.c=$(BUILD)/bin/%)
BENCHES := $(sort $(wildcard bench/bench_*.c))
BENCHBIN := $(BENCHES:bench/%.c=$(BUILD)/bin/%)
DEPS    := $(OBJS:.o=.d) $(TOOLSRC:%.c=$(BUILD)/%.d)  # tools too: a header change rebuilds the CLI

.PHONY: all test asan valgrind bench bench-deps fuzz clean install check-deps
LIBS_ALL := $(BUILD)/libmuon.a $(BUILD)/libmuon.so $(BUILD)/muon.pc $(BUILD)/bin/muon $(BUILD)/bin/example
ifeq ($(BUILD),build)
all: $(LIBS_ALL) bin/muon
else
all: $(LIBS_ALL)
endif

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# Provenance: checkpoints and run directories record the commit they were built from, "+dirty"
# when the tree had uncommitted changes. commit.txt is rewritten only when that string changes,
# and loop.o depends on it, so a new commit recompiles the one file that embeds it.
GIT_COMMIT := $(shell git describe --always --dirty=+dirty --abbrev=7 2>/dev/null || echo unknown)
$(BUILD)/commit.txt: FORCE
	@mkdir -p $(BUILD); [ "$$(cat $@ 2>/dev/null)" = "$(GIT_COMMIT)" ] || echo "$(GIT_COMMIT)" > $@
$(BUILD)/src/train/loop.o: $(BUILD)/commit.txt
$(BUILD)/src/train/loop.o: CFLAGS += -DMU_GIT_COMMIT='"$(GIT_COMMIT)"'
.PHONY: FORCE
FORCE:

$(BUILD)/libmuon.a: $(OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libmuon.so: $(OBJS)
	$(CC) -shared $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/muon.pc: muon.pc.in
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|0.1.0|' $< > $@

$(BUILD)/bin/muon: $(TOOLSRC:%.c=$(BUILD)/%.o) $(BUILD)/libmuon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.o,$^) $(BUILD)/libmuon.a $(LDLIBS)

bin/muon: $(BUILD)/bin/muon
	@mkdir -p bin
	cp $< $@

$(BUILD)/bin/example: examples/train_tiny.c $(BUILD)/libmuon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libmuon.a $(LDLIBS)

$(BUILD)/bin/test_%: tests/test_%.c $(wildcard tests/*.h) $(BUILD)/libmuon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-unused-parameter -o $@ $< $(BUILD)/libmuon.a $(LDLIBS) $(TESTLIBS)

$(BUILD)/bin/bench_%: bench/bench_%.c $(BUILD)/libmuon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libmuon.a $(LDLIBS)

# Tests run from the repository root; each prints cmocka's summary.
test: all $(TESTBIN)
	@MUON_BIN=$(abspath $(BUILD)/bin/muon) MUON_SRC=$(CURDIR) scripts/run-tests.sh $(TESTBIN)

asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	  LDFLAGS="-fsanitize=address,undefined" test

# valgrind 3.19 cannot decode AVX-512: the portable -march=x86-64-v3 build runs under it.
# Leaks are ASan/LSan's job (libgomp's thread TLS shows up as "possibly lost" here).
valgrind:
	$(MAKE) BUILD=build-vg PORTABLE=1 OPT=-O2 $(TESTS:tests/%.c=build-vg/bin/%) build-vg/bin/muon
	@MUON_BIN=$(abspath build-vg/bin/muon) MUON_SRC=$(CURDIR) VALGRIND="valgrind -q --error-exitcode=9" \
	  scripts/run-tests.sh $(TESTS:tests/%.c=build-vg/bin/%)

bench: all $(BENCHBIN)
	@for b in $(BENCHBIN); do echo "== $$b"; $$b || exit 1; done

bench-deps:
	scripts/setup.sh --bench

FUZZ := $(sort $(wildcard fuzz/fuzz_*.c))
fuzz:
	@mkdir -p build-fuzz
	@for f in $(FUZZ); do n=$$(basename $$f .c); \
	  clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc -I/usr/include/cjson \
	    -fopenmp=libgomp -o build-fuzz/$$n $$f $(SRCS) $(LDLIBS) || exit 1; \
	  mkdir -p build-fuzz/corpus-$$n; echo "== $$n"; \
	  build-fuzz/$$n -max_total_time=$${FUZZ_SECONDS:-20} build-fuzz/corpus-$$n fuzz/seeds/$$n 2>&1 | tail -3 || exit 1; done

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/muon $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m644 $(BUILD)/libmuon.a $(BUILD)/libmuon.so $(DESTDIR)$(PREFIX)/lib
	install -m644 include/muon/*.h $(DESTDIR)$(PREFIX)/include/muon
	install -m644 $(BUILD)/muon.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m755 bin/muon $(DESTDIR)$(PREFIX)/bin

clean:
	rm -rf build build-asan build-fuzz build-vg bin

-include $(DEPS)
