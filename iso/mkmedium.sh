#!/usr/bin/env bash
# Lays out a boot medium as a directory (the ISO's tree, without the
# bootloaders): what `ros install --source DIR` and iso/mkupgrade.sh read.
#   iso/mkmedium.sh OUTDIR VMLINUZ INITRD ROOT.squashfs VERSION INSTALLDIR
set -euo pipefail
out=$1 vmlinuz=$2 initrd=$3 root=$4 version=$5 inst=$6
rm -rf "$out.tmp"
mkdir -p "$out.tmp/boot" "$out.tmp/ros/install"
cp "$vmlinuz" "$out.tmp/boot/vmlinuz"
cp "$initrd" "$out.tmp/boot/initrd.img"
cp "$root" "$out.tmp/ros/root.squashfs"
printf '%s\n' "$version" >"$out.tmp/ros/VERSION"
cp "$inst"/{boot.img,core.img,esp.img.gz,ext4.img.gz} "$out.tmp/ros/install/"
rm -rf "$out"
mv "$out.tmp" "$out"
