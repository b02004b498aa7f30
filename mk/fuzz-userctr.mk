# tests/fuzz/fuzz-userctr-http: userctr's HTTP request handling, linked with
# the engine's objects (all of userctr/ but main.c, whose engine_main,
# now_ms and userctr_listen the target provides).  fork() and
# image_rootfs_mount() are wrapped to fail, so no input can start a pull
# worker or a container.  The generic fuzz rules in the
# Makefile link libros alone; these explicit rules take precedence.
FUZZ_USERCTR_SRCS := $(filter-out userctr/main.c,$(userctr_SRCS))
FUZZ_USERCTR_LDFLAGS := -Wl,--wrap=fork -Wl,--wrap=image_rootfs_mount

$(BUILD)/asan-obj/tests/fuzz/fuzz-userctr-http.o: BASE_CFLAGS += -Iuserctr

$(BUILD)/fuzz-replay/fuzz-userctr-http: $(BUILD)/asan-obj/tests/fuzz/fuzz-userctr-http.o \
		$(BUILD)/asan-obj/tests/fuzz/replay.o $(FUZZ_USERCTR_SRCS:%.c=$(BUILD)/asan-obj/%.o) \
		$(LIB_SRCS:%.c=$(BUILD)/asan-obj/%.o)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(ASAN_FLAGS) $(FUZZ_USERCTR_LDFLAGS) -o $@ $^ $(PKG_LIBS)

ifneq ($(FUZZ),)
# The engine and libros instrumented for coverage, so libFuzzer sees into them.
FUZZ_INSTR := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
$(BUILD)/fuzz-obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC-FUZZ $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(FUZZ_INSTR) -MMD -MP -c -o $@ $<

$(BUILD)/fuzz/fuzz-userctr-http: tests/fuzz/fuzz-userctr-http.c $(FUZZ_USERCTR_SRCS:%.c=$(BUILD)/fuzz-obj/%.o) \
		$(LIB_SRCS:%.c=$(BUILD)/fuzz-obj/%.o)
	@mkdir -p $(@D)
	@echo "  FUZZ    $@"
	$(Q)$(CC) $(ALL_CFLAGS) -Iuserctr -fsanitize=fuzzer,address,undefined $(FUZZ_USERCTR_LDFLAGS) -o $@ $^ $(PKG_LIBS)
-include $(shell find $(BUILD)/fuzz-obj -name '*.d' -type f 2>/dev/null)
endif
