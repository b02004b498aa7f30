# tests/drivers/pull-driver: image_pull from the command line, for
# tests/integration/pull.bats.  A test tool, never installed.
PULL_DRIVER := $(BUILD)/tests/drivers/pull-driver
$(PULL_DRIVER): tests/drivers/pull-driver.c $(LIBROS)
	@mkdir -p $(@D)
	@echo "  DRIVER  $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

tests: $(PULL_DRIVER)
