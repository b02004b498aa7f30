#!/usr/bin/env bash
# Builds the initramfs of docs/boot.md: /init, dev/console, the kernel
# modules with /etc/ros/modules.boot, busybox for the rescue shell.
#   iso/mkinitramfs.sh KERNELDIR INIT OUT.img
set -euo pipefail
kdir=$1 init=$2 out=$3
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree"/{bin,dev,etc/ros,proc,sys,run,mnt,tmp}
install -m 0755 "$init" "$tree/init"
cp -a "$kdir/modroot/lib" "$tree/"
cp "$kdir/modules.boot" "$tree/etc/ros/modules.boot"
for l in soon late; do
	if [ -f "$kdir/modules.$l" ]; then cp "$kdir/modules.$l" "$tree/etc/ros/modules.$l"; fi
done
install -m 0755 /bin/busybox "$tree/bin/busybox"
ln -s busybox "$tree/bin/sh"
# dev/console (c 5 1): without it PID 1 has no stdio until devtmpfs is up.
if [ "$(id -u)" -eq 0 ]; then mknod -m 0600 "$tree/dev/console" c 5 1; fi
(cd "$tree" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | zstd -q -19 -T2 -f -o "$out.tmp"
mv "$out.tmp" "$out"
echo "  INITRD  $out $(du -h "$out" | cut -f1)" >&2
