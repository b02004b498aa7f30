# Bootable OS pipeline (docs/iso.md): kernel, initramfs, root squashfs, ISO.
KERNEL ?= cloud
IMG := $(BUILD)/img
KDIR := $(IMG)/kernel-$(KERNEL)
# one ISO per kernel flavour (else switching KERNEL leaves the other's
# ISO looking up to date): ros.iso (cloud), ros-generic.iso
ISO := $(BUILD)/ros$(if $(filter-out cloud,$(KERNEL)),-$(KERNEL)).iso
export ROS_CACHE := $(abspath build/cache)

kernel: $(KDIR)/vmlinuz
$(KDIR)/vmlinuz: iso/kernel.sh
	$(Q)bash scripts/install-deps.sh image
	$(Q)mkdir -p $(KDIR) && bash iso/kernel.sh $(KDIR) $(KERNEL)

initramfs: $(IMG)/initrd-$(KERNEL).img
$(IMG)/initrd-$(KERNEL).img: $(KDIR)/vmlinuz $(BUILD)/bin/init iso/mkinitramfs.sh
	$(Q)bash iso/mkinitramfs.sh $(KDIR) $(BUILD)/bin/init $@

ROOTFS_BINS := $(filter $(addprefix $(BUILD)/bin/,sysctr ros roci userctr ros-network),$(PROGS))

# System service images (rootfs/images/NAME.sh recipes, docs/images.md):
# built together, as what two of them share goes to the `base` layer.
IMAGE_NAMES := $(basename $(notdir $(wildcard rootfs/images/*.sh)))
IMAGES_STAMP := $(IMG)/images/.built
images: $(IMAGES_STAMP)
$(IMAGES_STAMP): rootfs/mkimages.sh rootfs/mkimage.sh $(wildcard rootfs/images/*.sh) \
		$(shell find rootfs/images -type f 2>/dev/null) $(ROOTFS_BINS) VERSION
	$(Q)bash scripts/install-deps.sh image
	$(Q)rm -f $(IMG)/images/*.squashfs && mkdir -p $(IMG)/images
	$(Q)bash rootfs/mkimages.sh $(BUILD)/bin $(IMG)/images $(IMAGE_NAMES)
	$(Q)touch $@

rootfs: $(IMG)/root.squashfs
$(IMG)/root.squashfs: rootfs/mkrootfs.sh $(ROOTFS_BINS) $(IMAGES_STAMP) $(wildcard services/*.yml configs/os-config.yml) VERSION
	$(Q)mkdir -p $(IMG) && bash rootfs/mkrootfs.sh $(BUILD)/bin . $@

iso: $(ISO)
# the files of `ros install` (mk/disk.mk) go on every flavour's ISO
$(ISO): $(INSTALL_STAMP)
$(ISO): $(KDIR)/vmlinuz $(IMG)/initrd-$(KERNEL).img $(IMG)/root.squashfs iso/mkiso.sh VERSION
	$(Q)bash iso/mkiso.sh $(KDIR)/vmlinuz $(IMG)/initrd-$(KERNEL).img $(IMG)/root.squashfs VERSION $@

vm-prereqs: iso

RUN_MEM ?= 512
run: iso
	$(Q)bash scripts/install-deps.sh image
	$(Q)bash iso/run.sh $(ISO) $(RUN_MEM) $(CLOUD_CONFIG)

.PHONY: kernel initramfs rootfs images
