# ros — one plain, non-recursive GNU Makefile.
#
#   make                 build everything into build/
#   make check           build and run unit, integration, fuzz-replay and VM tests
#   make run             build the ISO and boot it in QEMU
#   make lint | analyze  clang-format/cppcheck/shellcheck | gcc -fanalyzer
#
# Variants: SANITIZE=address,undefined  COVERAGE=1  CC=clang FUZZ=1  WERROR=1

BUILD ?= build$(if $(SANITIZE),-san)$(if $(COVERAGE),-cov)$(if $(FUZZ),-fuzz)
CC ?= gcc
PKG_CONFIG ?= pkg-config
PROVE ?= prove
V ?= 0
Q := $(if $(filter 1,$(V)),,@)

ROS_VERSION ?= $(shell cat VERSION 2>/dev/null || echo 0.0.0)-$(shell git rev-parse --short HEAD 2>/dev/null || echo dev)

PKGS := libseccomp libcap jansson yaml-0.1 mount blkid fdisk libnl-3.0 libnl-route-3.0 libcurl zlib libarchive libcrypto libmicrohttpd
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes -Wvla \
	-Wimplicit-fallthrough -Wpointer-arith -Wcast-qual -Wundef -Wno-unused-parameter \
	-Wno-format-nonliteral -Wno-format-truncation
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
CFLAGS ?= -O2 -g
BASE_CFLAGS := -std=gnu17 $(WARN) $(HARDEN) -Ilib -pthread $(PKG_CFLAGS) \
	-DROS_VERSION=\"$(ROS_VERSION)\" $(if $(filter 1,$(WERROR)),-Werror)
LDFLAGS_HARDEN := -pie -Wl,-z,relro,-z,now -Wl,--as-needed
ifneq ($(SANITIZE),)
BASE_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS_HARDEN += -fsanitize=$(SANITIZE)
endif
ifneq ($(COVERAGE),)
BASE_CFLAGS += --coverage
LDFLAGS_HARDEN += --coverage
endif
ALL_CFLAGS = $(BASE_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(LDFLAGS_HARDEN) $(LDFLAGS)


# ---- libros ---------------------------------------------------------------
LIB_SRCS := $(sort $(wildcard lib/*/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LIBROS := $(BUILD)/lib/libros.a

# ---- programs: one directory each, every .c in it --------------------------
PROG_DIRS := roci:cli/roci ros:cli/ros sysctr:sysctr userctr:userctr ros-network:network
# sysctr is static (as init): under emulation the dynamic loader (five
# libraries) was a third of its start-up; 465k instructions to main, 67k
# static.  Not for sanitizer or fuzz builds, which cannot link static.
ifeq ($(SANITIZE)$(FUZZ),)
LINK_sysctr := -static-pie -Wl,-z,relro,-z,now $(LDFLAGS)
LIBS_sysctr := $(shell $(PKG_CONFIG) --libs --static libseccomp libcap jansson yaml-0.1 2>/dev/null)
endif
define prog_template
$(1)_SRCS := $$(sort $$(wildcard $(2)/*.c))
ifneq ($$($(1)_SRCS),)
PROGS += $(BUILD)/bin/$(1)
$(BUILD)/bin/$(1): $$($(1)_SRCS:%.c=$(BUILD)/obj/%.o) $(LIBROS)
	@mkdir -p $$(@D)
	@echo "  LD      $$@"
	$(Q)$(CC) $(ALL_CFLAGS) $(or $(LINK_$(1)),$(ALL_LDFLAGS)) -o $$@ $$^ $(or $(LIBS_$(1)),$(PKG_LIBS)) $(EXTRA_LIBS_$(1))
endif
endef
$(foreach p,$(PROG_DIRS),$(eval $(call prog_template,$(word 1,$(subst :, ,$(p))),$(word 2,$(subst :, ,$(p))))))

# init (PID 1) is static and links only lib/core (dynamic under SANITIZE: ASan cannot link static).
INIT_SRCS := $(sort $(wildcard init/*.c))
ifneq ($(INIT_SRCS),)
PROGS += $(BUILD)/bin/init
INIT_LIBS ?=
$(BUILD)/bin/init: $(INIT_SRCS:%.c=$(BUILD)/obj/%.o) $(filter $(BUILD)/obj/lib/core/%,$(LIB_OBJS))
	@mkdir -p $(@D)
	@echo "  LD      $@ (static)"
	$(Q)$(CC) $(ALL_CFLAGS) $(if $(SANITIZE),-pie,-static-pie) -Wl,-z,relro,-z,now $(if $(SANITIZE),,-s) -o $@ $^ $(INIT_LIBS)
endif

# ---- tests -----------------------------------------------------------------
UNIT_SRCS := $(sort $(wildcard tests/unit/test-*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
HELPER_SRCS := $(sort $(wildcard tests/helpers/*.c))
HELPER_BINS := $(HELPER_SRCS:tests/helpers/%.c=$(BUILD)/tests/helpers/%)
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz-*.c))
# Fuzz targets always replay their corpus under ASan+UBSan in `make check`.
FUZZ_REPLAY_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz-replay/%)
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
INTEGRATION_TESTS := $(sort $(wildcard tests/integration/*.bats))
VM_TESTS := $(sort $(wildcard tests/vm/*.bats))

$(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/obj/tests/tap-main.o $(LIBROS)
	@mkdir -p $(@D)
	@echo "  TEST    $@"
	$(Q)$(CC) $(ALL_CFLAGS) -Itests $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# Test helpers run inside test containers: static, no libros.
$(BUILD)/tests/helpers/%: tests/helpers/%.c
	@mkdir -p $(@D)
	@echo "  HELPER  $@"
	$(Q)$(CC) -std=gnu17 -O2 -Wall -Wextra -static -o $@ $< $(if $(findstring seccomp,$*),-lseccomp)

$(BUILD)/asan-obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC-ASAN $<"
	$(Q)$(CC) $(BASE_CFLAGS) -O1 -g $(ASAN_FLAGS) -Itests -MMD -MP -c -o $@ $<

$(BUILD)/fuzz-replay/fuzz-%: $(BUILD)/asan-obj/tests/fuzz/fuzz-%.o $(BUILD)/asan-obj/tests/fuzz/replay.o \
		$(LIB_SRCS:%.c=$(BUILD)/asan-obj/%.o)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(ASAN_FLAGS) -o $@ $^ $(PKG_LIBS)

ifneq ($(FUZZ),)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
$(BUILD)/fuzz/fuzz-%: tests/fuzz/fuzz-%.c $(LIBROS)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $^ $(PKG_LIBS)
fuzz: $(FUZZ_BINS)
endif

# ---- generic rules -----------------------------------------------------------
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBROS): $(LIB_OBJS)
	@mkdir -p $(@D)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

DEPS_STAMP := $(BUILD)/.deps-ok
$(DEPS_STAMP): scripts/install-deps.sh
	@mkdir -p $(@D)
	$(Q)bash scripts/install-deps.sh
	@touch $@

.DEFAULT_GOAL := all
all: $(DEPS_STAMP)
	$(Q)$(MAKE) --no-print-directory build-all

build-all: $(LIBROS) $(PROGS) $(HELPER_BINS)

tests: $(UNIT_BINS) $(HELPER_BINS) $(FUZZ_REPLAY_BINS)

# Every test through one prove, so the run ends with prove's summary.
# TESTS=... narrows it (e.g. make check TESTS=tests/integration/lifecycle.bats).
TESTS ?= $(UNIT_BINS) $(FUZZ_REPLAY_BINS) $(INTEGRATION_TESTS) $(if $(NO_VM),,$(VM_TESTS))
check: all
	$(Q)$(MAKE) --no-print-directory tests $(if $(VM_TESTS),$(if $(NO_VM),,vm-prereqs))
	$(Q)ROS_BUILD=$(abspath $(BUILD)) ROS_SRC=$(CURDIR) $(PROVE) $(PROVE_FLAGS) --exec tests/run-test $(TESTS)

-include mk/*.mk

lint: $(DEPS_STAMP)
	$(Q)clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')
	$(Q)cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability --inline-suppr \
		--suppress=missingIncludeSystem -Ilib $$(git ls-files 'lib/*.c' 'cli/*.c' 'init/*.c' 'sysctr/*.c' 'userctr/*.c')
	$(Q)shellcheck -x $$(git ls-files '*.sh' '.ci/run' 'tests/run-test')

analyze: $(DEPS_STAMP)
	$(Q)for f in $(LIB_SRCS) $(INIT_SRCS) $(foreach p,roci ros sysctr userctr ros-network,$($(p)_SRCS)); do \
		$(CC) $(BASE_CFLAGS) -O1 -fanalyzer -Werror=analyzer-null-dereference -c -o /dev/null $$f || exit 1; done

clean:
	rm -rf build build-san build-cov build-fuzz

.PHONY: all build-all tests check lint analyze clean fuzz run iso disk vm-prereqs

-include $(shell find $(BUILD)/obj $(BUILD)/asan-obj -name '*.d' -type f 2>/dev/null)
.SECONDARY:
