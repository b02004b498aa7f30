# Installed disks (docs/install.md): the GRUB and filesystem templates
# `ros install` writes (on the ISO too), the raw and qcow2 disk images
# (`make disk`, made by running this build's `ros install` on an image
# file: the same code as an install in a VM) and upgrade tarballs.
# (read before mk/iso.mk: its variables are spelled out here)
KERNEL ?= cloud
DISK_IMGDIR := $(BUILD)/img
DISK_KDIR := $(DISK_IMGDIR)/kernel-$(KERNEL)
INSTALL_DIR := $(DISK_IMGDIR)/install
INSTALL_STAMP := $(INSTALL_DIR)/.built
MEDIUM := $(DISK_IMGDIR)/medium
DISK_IMG := $(BUILD)/ros.img
DISK_QCOW := $(BUILD)/ros.qcow2
DISK_SIZE ?= 2048
UPGRADE_TAR := $(BUILD)/ros-upgrade.tar
UPGRADE_VERSION ?= $(shell cat VERSION)

install-files: $(INSTALL_STAMP)
$(INSTALL_STAMP): iso/mkinstall.sh
	$(Q)bash scripts/install-deps.sh image
	$(Q)bash iso/mkinstall.sh $(INSTALL_DIR)
	$(Q)touch $@

# the ISO carries them for `ros install` (iso/mkiso.sh looks next to the root)
$(BUILD)/ros.iso: $(INSTALL_STAMP)

# the medium's layout as a directory: what `ros install --source` reads
medium: $(MEDIUM)/.built
$(MEDIUM)/.built: $(DISK_KDIR)/vmlinuz $(DISK_IMGDIR)/initrd-$(KERNEL).img $(DISK_IMGDIR)/root.squashfs $(INSTALL_STAMP) VERSION iso/mkmedium.sh
	$(Q)bash iso/mkmedium.sh $(MEDIUM) $(DISK_KDIR)/vmlinuz $(DISK_IMGDIR)/initrd-$(KERNEL).img $(DISK_IMGDIR)/root.squashfs \
		"$$(cat VERSION)" $(INSTALL_DIR)
	$(Q)touch $@

# tests/vm/install.bats and disk.bats install from it
vm-prereqs: $(MEDIUM)/.built

# Always re-made: CLOUD_CONFIG= and OEM= change what goes in.
disk: $(MEDIUM)/.built $(BUILD)/bin/ros
	$(Q)bash iso/mkdisk.sh $(BUILD)/bin/ros $(MEDIUM) $(DISK_IMG) $(DISK_QCOW) $(DISK_SIZE) "$(CLOUD_CONFIG)" "$(OEM)"

# An upgrade image: this build's kernel, initrd and root as a tarball with
# SHA256SUMS, its sha256 next to it (UPGRADE_VERSION= names the version).
upgrade-tar: $(MEDIUM)/.built
	$(Q)bash iso/mkupgrade.sh $(MEDIUM) "$(UPGRADE_VERSION)" $(UPGRADE_TAR)

.PHONY: install-files medium upgrade-tar
