# ckpt - Hugging Face Mistral/Mixtral checkpoints -> quantized, signed, verified GGUF.
#
#   make            build the tools into build/bin
#   make demo       install what is missing, build, run the pipeline on the bundled tiny model
#   make test       the whole test suite (unit, CLI, hostile files, llama.cpp interop)
#   make asan       the whole test suite under AddressSanitizer + UBSan
#   make clang      build everything with clang as well (warnings are errors: WERROR=)
#   make fuzz       run each libFuzzer target for FUZZ_SECONDS, FUZZ_JOBS at a time (clang;
#                   FUZZ_SRCS=tests/fuzz/fuzz_x.c for some)
#   make bench      throughput figures against the peers found on this machine
#   make bench-fidelity  KL divergence of quantized files on held-out text
#   make install    PREFIX=/usr/local DESTDIR= (tools and man pages); make uninstall
#
# Results must not depend on the build: no fast-math flags, and -ffp-contract=off
# everywhere (quantizers and the reference forward pass are bit-reproducible).

PKG_CONFIG ?= pkg-config
CC         ?= cc
CFLAGS     ?= -O2 -g
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DESTDIR    ?=
BUILD      ?= build
SANITIZE   ?=
WERROR     ?= -Werror
FUZZ_SECONDS ?= 60
FUZZ_JOBS  ?= 1
VERSION    := 0.1.0

DEP_MODULES  = zlib libcrypto libcjson libpcre2-8
TEST_MODULES = check
# pkg-config module -> Debian package (the openssl command is checked too: tests use it
# as an outside oracle for signatures)
DEB_zlib      = zlib1g-dev
DEB_libcrypto = libssl-dev
DEB_libcjson  = libcjson-dev
DEB_libpcre2-8 = libpcre2-dev
DEB_check     = check

# Recursively expanded on purpose: evaluated when a recipe runs, i.e. after
# the dependency stamp below has installed what was missing.
DEP_CFLAGS  = $(shell $(PKG_CONFIG) --cflags $(DEP_MODULES) 2>/dev/null)
DEP_LIBS    = $(shell $(PKG_CONFIG) --libs $(DEP_MODULES) 2>/dev/null)
TEST_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(TEST_MODULES) 2>/dev/null)
TEST_LIBS   = $(shell $(PKG_CONFIG) --libs $(TEST_MODULES) 2>/dev/null)

CKPT_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -DCKPT_VERSION='"$(VERSION)"' \
              -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
              -Wno-unused-parameter $(WERROR) -ffp-contract=off -fno-fast-math -pthread -MMD -MP -I.
ifneq ($(SANITIZE),)
CKPT_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_LDFLAGS  = -fsanitize=address,undefined
endif
LDLIBS_ALL  = $(DEP_LIBS) -lpthread -lm

LIB_DIRS  = kernels arch formats convert quant verify
ALL_SRCS  = $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
MAIN_SRCS = $(filter %_main.c,$(ALL_SRCS))
LIB_SRCS  = $(filter-out %_main.c,$(ALL_SRCS))
LIB_OBJS  = $(LIB_SRCS:%.c=$(BUILD)/%.o)
TOOLS     = $(foreach m,$(MAIN_SRCS),$(BUILD)/bin/ckpt-$(patsubst %_main.c,%,$(notdir $(m)))) \
            $(BUILD)/bin/ckpt
LIB       = $(BUILD)/libckpt.a
# The tools' layer (options, messages, progress, checked stdout): linked into
# the tools only, never into libckpt.a, since it prints and the library must not.
CLI_SRCS  = $(filter-out %_main.c,$(wildcard cli/*.c))
CLI_OBJS  = $(CLI_SRCS:%.c=$(BUILD)/%.o)
CLI_LIB   = $(BUILD)/libckpt-cli.a

TEST_SRCS  = $(wildcard tests/check_*.c tests/*/check_*.c) tests/testutil.c
TEST_OBJS  = $(TEST_SRCS:%.c=$(BUILD)/%.o)
TEST_TOOLS = $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/gen_*.c)) \
             $(BUILD)/tests/bench_llama_quantize $(FUZZ_REPLAYS)
FUZZ_SRCS  = $(wildcard tests/fuzz/fuzz_*.c)
# each fuzz target linked with a plain main that replays its seeds (any compiler)
FUZZ_REPLAYS = $(patsubst tests/fuzz/%.c,$(BUILD)/tests/fuzz/%,$(FUZZ_SRCS))
MANPAGES   = $(wildcard man/*.1 man/*.5)
DEPS_STAMP = $(BUILD)/.deps-ok

# SIMD siblings get their ISA flags per file; the rest stays baseline x86-64.
$(BUILD)/kernels/%_avx2.o: CKPT_CFLAGS += -mavx2 -mfma -mf16c
$(BUILD)/kernels/%_avx512.o: CKPT_CFLAGS += -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512vl
$(BUILD)/kernels/%_vnni.o: CKPT_CFLAGS += -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512vl \
                                          -mavx512vnni

.SECONDARY:
.PHONY: all test check unit cli interop asan clang fuzz expf-check bench bench-fidelity demo install uninstall clean deps options
all: $(TOOLS) $(TEST_TOOLS)

options:
	@echo "CC=$(CC) CFLAGS=$(CFLAGS)"; echo "CKPT_CFLAGS=$(CKPT_CFLAGS) $(DEP_CFLAGS)"; \
	 echo "LDLIBS=$(LDLIBS_ALL)"; echo "TOOLS=$(TOOLS)"

# ---- dependencies: found with pkg-config, installed with apt-get when we can ----
deps: $(DEPS_STAMP)
$(DEPS_STAMP):
	@mkdir -p $(@D)
	@CKPT_MODULES="$(DEP_MODULES) $(TEST_MODULES)" \
	 CKPT_PACKAGES="$(foreach m,$(DEP_MODULES) $(TEST_MODULES),$(m):$(DEB_$(m)))" \
	 PKG_CONFIG="$(PKG_CONFIG)" sh tests/ensure-deps.sh openssl
	@touch $@

# ---- build ----
$(BUILD)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CKPT_CFLAGS) $(DEP_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(CLI_LIB): $(CLI_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/bin/ckpt-%: $(BUILD)/convert/%_main.o $(CLI_LIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN_LDFLAGS) -pthread $< $(CLI_LIB) $(LIB) $(LDLIBS_ALL) -o $@
$(BUILD)/bin/ckpt-%: $(BUILD)/quant/%_main.o $(CLI_LIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN_LDFLAGS) -pthread $< $(CLI_LIB) $(LIB) $(LDLIBS_ALL) -o $@
$(BUILD)/bin/ckpt-%: $(BUILD)/verify/%_main.o $(CLI_LIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN_LDFLAGS) -pthread $< $(CLI_LIB) $(LIB) $(LDLIBS_ALL) -o $@
# the front: `ckpt quant ...` runs ckpt-quant (cli/ckpt_main.c says why it execs)
$(BUILD)/bin/ckpt: $(BUILD)/cli/ckpt_main.o $(CLI_LIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN_LDFLAGS) -pthread $< $(CLI_LIB) $(LIB) $(LDLIBS_ALL) -o $@

# ---- tests ----
# The suite list is generated from the `Suite *NAME_suite(void)` definitions,
# so adding tests/<part>/check_foo.c is all it takes to add a suite.
$(BUILD)/tests/suites.h: $(TEST_SRCS) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@sed -n 's/^Suite \*\([a-z0-9_]*\)_suite(void).*/CKPT_SUITE(\1)/p' $(TEST_SRCS) > $@.tmp && mv $@.tmp $@

$(BUILD)/tests/check_all.o: $(BUILD)/tests/suites.h
$(BUILD)/tests/%.o: tests/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CKPT_CFLAGS) $(DEP_CFLAGS) $(TEST_CFLAGS) -Itests -I$(BUILD)/tests \
	  -Wno-missing-prototypes -DTESTDATA='"$(CURDIR)/tests/data"' -c $< -o $@

$(BUILD)/tests/check_all: $(TEST_OBJS) $(LIB)
	$(CC) $(CFLAGS) $(SAN_LDFLAGS) -pthread $(TEST_OBJS) $(LIB) $(TEST_LIBS) $(LDLIBS_ALL) -o $@

$(BUILD)/tests/gen_%: $(BUILD)/tests/gen_%.o $(LIB)
	$(CC) $(CFLAGS) $(SAN_LDFLAGS) -pthread $< $(LIB) $(LDLIBS_ALL) -o $@

$(BUILD)/tests/expf_exhaustive: $(BUILD)/tests/expf_exhaustive.o $(LIB)
	$(CC) $(CFLAGS) $(SAN_LDFLAGS) -pthread $< $(LIB) $(LDLIBS_ALL) -o $@

$(BUILD)/tests/fuzz/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/replay_main.o $(LIB)
	$(CC) $(CFLAGS) $(SAN_LDFLAGS) -pthread $^ $(LDLIBS_ALL) -o $@

# llama.cpp's quantizer as a benchmark peer: loaded with dlopen, never linked
$(BUILD)/tests/bench_llama_quantize: $(BUILD)/tests/bench_llama_quantize.o
	$(CC) $(CFLAGS) $(SAN_LDFLAGS) $< -ldl -o $@

unit: $(BUILD)/tests/check_all $(TOOLS) $(TEST_TOOLS)
	CKPT_BIN=$(CURDIR)/$(BUILD)/bin CKPT_TESTBIN=$(CURDIR)/$(BUILD)/tests \
	CK_DEFAULT_TIMEOUT=120 $(BUILD)/tests/check_all

cli: $(TOOLS) $(TEST_TOOLS)
	sh tests/cli/run.sh $(CURDIR)/$(BUILD)

interop: $(TOOLS) $(TEST_TOOLS)
	sh tests/interop/run.sh $(CURDIR)/$(BUILD)

# The three groups run at once (they share nothing but the built tools);
# each one's output is printed whole, in this order.
test: $(BUILD)/tests/check_all $(TOOLS) $(TEST_TOOLS)
	@sh tests/groups.sh "$(MAKE) -s --no-print-directory" unit cli interop

check: test
	@command -v mandoc >/dev/null && mandoc -Tlint -Wwarning $(MANPAGES) || true

asan:
	$(MAKE) BUILD=build-asan SANITIZE=1 CFLAGS="-O1 -g" unit cli \
	  CK_FORK=no ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1

# The same sources, warning-free under clang too (CI builds both compilers at -Werror).
clang: | $(DEPS_STAMP)
	@command -v clang >/dev/null || sh tests/ensure-deps.sh clang
	$(MAKE) BUILD=build-clang CC=clang all build-clang/tests/check_all

# ---- fuzzing (clang + libFuzzer) ----
FUZZ_BUILD = build-fuzz
fuzz: | $(DEPS_STAMP)
	@command -v clang >/dev/null || sh tests/ensure-deps.sh clang
	@mkdir -p $(FUZZ_BUILD)
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=clang SANITIZE=1 CFLAGS="-O1 -g -fsanitize=fuzzer-no-link" $(FUZZ_BUILD)/libckpt.a
	@set -e; for f in $(FUZZ_SRCS); do \
	  clang -O1 -g -fsanitize=fuzzer,address,undefined -I. -Itests/fuzz $(DEP_CFLAGS) $$f \
	    $(FUZZ_BUILD)/libckpt.a $(LDLIBS_ALL) -o $(FUZZ_BUILD)/$$(basename $$f .c); \
	done
	sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_JOBS) $(notdir $(FUZZ_SRCS:.c=))

# every one of the 2^32 floats through kernels/expf.h's exponential, against
# libm's and between its kernels (two minutes on two cores; check_ops.c samples it)
expf-check: $(BUILD)/tests/expf_exhaustive
	$(BUILD)/tests/expf_exhaustive

# ---- benchmark (prints figures; never a pass/fail test) ----
bench: all
	sh tests/bench.sh $(CURDIR)/$(BUILD)

# how close quantized files stay to their source on held-out text (figures, not a test)
bench-fidelity: all
	sh tests/bench_fidelity.sh $(CURDIR)/$(BUILD)

# ---- demo: the pipeline on the bundled tiny Mistral ----
demo: all
	sh tests/demo.sh $(CURDIR)/$(BUILD)

# ---- install ----
install: all
	[ -d $(DESTDIR)$(BINDIR) ] || install -d -m 755 $(DESTDIR)$(BINDIR)
	install -m 755 $(TOOLS) $(DESTDIR)$(BINDIR)/
	[ -d $(DESTDIR)$(MANDIR)/man1 ] || install -d -m 755 $(DESTDIR)$(MANDIR)/man1
	[ -d $(DESTDIR)$(MANDIR)/man5 ] || install -d -m 755 $(DESTDIR)$(MANDIR)/man5
	for m in $(MANPAGES); do \
	  s=$${m##*.}; sed 's/@VERSION@/$(VERSION)/g' $$m > $(DESTDIR)$(MANDIR)/man$$s/$$(basename $$m); \
	  chmod 644 $(DESTDIR)$(MANDIR)/man$$s/$$(basename $$m); done

# The folders install created go too: each one, and the parents install -d
# made for it, while they are empty (anything else there is not ours),
# never DESTDIR itself.
uninstall:
	for t in $(notdir $(TOOLS)); do rm -f $(DESTDIR)$(BINDIR)/$$t; done
	for m in $(MANPAGES); do s=$${m##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$$(basename $$m); done
	for d in $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(BINDIR); do \
	  while [ "$$d" != "$(DESTDIR)" ] && [ "$$d" != / ]; do \
	    if [ -d "$$d" ]; then [ -z "$$(ls -A "$$d")" ] && rmdir "$$d" || break; fi; \
	    d=$$(dirname "$$d"); done; done

clean:
	rm -rf build build-asan build-fuzz build-clang

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(MAIN_SRCS:%.c=$(BUILD)/%.d) \
         $(BUILD)/cli/ckpt_main.d
