#!/usr/bin/env bash
# Builds the hybrid ISO (volume label ROS): isolinux for BIOS, a standalone
# GRUB x86_64-efi in an El Torito FAT image for UEFI, isohybrid MBR + GPT.
#   iso/mkiso.sh VMLINUZ INITRD ROOT.squashfs VERSIONFILE OUT.iso
set -euo pipefail
vmlinuz=$1 initrd=$2 root=$3 verfile=$4 out=$5
cmdline="console=tty0 console=ttyS0"
tree=$(mktemp -d)
work=$(mktemp -d)
trap 'rm -rf "$tree" "$work"' EXIT
echo "  ISO     staging" >&2
mkdir -p "$tree"/{boot,isolinux,ros}
cp "$vmlinuz" "$tree/boot/vmlinuz"
cp "$initrd" "$tree/boot/initrd.img"
cp "$root" "$tree/ros/root.squashfs"
cp "$verfile" "$tree/ros/VERSION"
# what `ros install` writes besides the OS files (iso/mkinstall.sh, docs/install.md)
install_dir=${ROS_INSTALL_DIR:-$(dirname "$root")/install}
if [ -d "$install_dir" ]; then
	mkdir -p "$tree/ros/install"
	cp "$install_dir"/{boot.img,core.img,esp.img.gz,ext4.img.gz} "$tree/ros/install/"
fi
cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$tree/isolinux/"
cat >"$tree/isolinux/isolinux.cfg" <<CFG
SERIAL 0 115200
CONSOLE 0
PROMPT 0
TIMEOUT 0
DEFAULT default
LABEL default
  KERNEL /boot/vmlinuz
  INITRD /boot/initrd.img
  APPEND $cmdline
LABEL debug
  KERNEL /boot/vmlinuz
  INITRD /boot/initrd.img
  APPEND $cmdline ros.debug loglevel=7
LABEL rescue
  KERNEL /boot/vmlinuz
  INITRD /boot/initrd.img
  APPEND $cmdline ros.rescue
CFG
echo "  ISO     GRUB EFI" >&2
cat >"$work/grub.cfg" <<CFG
search --no-floppy --set=root --file /ros/VERSION
set timeout=0
set default=0
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
if [ "\$grub_platform" = efi ]; then insmod efi_gop; fi
menuentry "ros" {
  linux /boot/vmlinuz $cmdline
  initrd /boot/initrd.img
}
menuentry "ros (debug)" {
  linux /boot/vmlinuz $cmdline ros.debug loglevel=7
  initrd /boot/initrd.img
}
menuentry "ros (rescue shell)" {
  linux /boot/vmlinuz $cmdline ros.rescue
  initrd /boot/initrd.img
}
CFG
# GRUB with the modules it needs built in and a two-line embedded config that
# finds the medium; normal mode then reads /boot/grub/grub.cfg from it.
# 0.6 MB (grub-mkstandalone's memdisk of all 279 modules made it 3.4 MB)
mkdir -p "$tree/boot/grub"
cp "$work/grub.cfg" "$tree/boot/grub/grub.cfg"
cat >"$work/early.cfg" <<'CFG'
search --no-floppy --set=root --file /ros/VERSION
set prefix=($root)/boot/grub
CFG
grub-mkimage -O x86_64-efi -o "$work/BOOTX64.EFI" -p /boot/grub -c "$work/early.cfg" \
	part_gpt part_msdos iso9660 search search_fs_file linux normal serial terminal efi_gop test
mkfs.vfat -C -n EFIBOOT "$tree/boot/efiboot.img" $(($(stat -c %s "$work/BOOTX64.EFI") / 1024 + 64)) >/dev/null
mmd -i "$tree/boot/efiboot.img" ::/EFI ::/EFI/BOOT
mcopy -i "$tree/boot/efiboot.img" "$work/BOOTX64.EFI" ::/EFI/BOOT/
echo "  ISO     xorriso" >&2
# -partition_cyl_align off: xorriso would pad the image to a whole MBR
# "cylinder" (1 MiB with its 64 heads x 32 sectors), on average half a MiB
# of zeros; nothing reads CHS geometry any more (isohdpfx.bin, SeaBIOS,
# OVMF and Linux use LBA). The GPT's backup still ends the image, the 300
# KiB pad for CDs written in TAO mode stays.
xorriso -as mkisofs -quiet -o "$out.tmp" -V ROS -J -R \
	-isohybrid-mbr /usr/lib/ISOLINUX/isohdpfx.bin -partition_cyl_align off \
	-c isolinux/boot.cat -b isolinux/isolinux.bin -no-emul-boot -boot-load-size 4 -boot-info-table \
	-eltorito-alt-boot -e boot/efiboot.img -no-emul-boot -isohybrid-gpt-basdat "$tree" 2>"$work/xorriso.log" ||
	{ cat "$work/xorriso.log" >&2; exit 1; }
mv "$out.tmp" "$out"
echo "  ISO     $out" >&2
(cd "$tree" && du -h boot/vmlinuz boot/initrd.img boot/efiboot.img ros/root.squashfs) | sed 's/^/          /' >&2
echo "          total $(du -h "$out" | cut -f1)" >&2
