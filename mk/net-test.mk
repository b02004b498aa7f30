# net-tool: a command line over lib/net for tests/integration/net.bats.
NET_TOOL := $(BUILD)/tests/net-tool
$(NET_TOOL): $(BUILD)/obj/tests/net-tool.o $(LIBROS)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)
tests: $(NET_TOOL)
