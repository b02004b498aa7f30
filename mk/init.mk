# init (PID 1) finds the boot medium and the state disk by label with
# libblkid, linked statically (Debian ships libblkid.a).
INIT_LIBS := -Wl,--gc-sections -lblkid
