#!/usr/bin/env bash
# An upgrade image for `ros os upgrade -i`: a tarball of a medium's boot
# and OS files plus SHA256SUMS (checked after the slot is written), and
# TAR.sha256 (checked before anything is written).
#   iso/mkupgrade.sh MEDIUMDIR VERSION OUT.tar [INITRD] [ROOT.squashfs]
# VERSION replaces ros/VERSION; INITRD and ROOT (tests: broken ones)
# replace the initramfs and the root.
set -euo pipefail
medium=$1 version=$2 out=$3 initrd=${4:-} root=${5:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$medium"/. "$work/"
printf '%s\n' "$version" >"$work/ros/VERSION"
[ -n "$initrd" ] && cp "$initrd" "$work/boot/initrd.img"
[ -n "$root" ] && cp "$root" "$work/ros/root.squashfs"
files=(boot/vmlinuz boot/initrd.img ros/root.squashfs ros/VERSION ros/install/boot.img ros/install/core.img
	ros/install/esp.img.gz ros/install/ext4.img.gz)
(cd "$work" && sha256sum "${files[@]}" >SHA256SUMS)
tar -C "$work" --format=ustar --owner=0 --group=0 -cf "$out.tmp" SHA256SUMS "${files[@]}"
mv "$out.tmp" "$out"
(cd "$(dirname "$out")" && sha256sum "$(basename "$out")") >"$out.sha256"
echo "  UPGRADE $out ($version) $(du -h "$out" | cut -f1)" >&2
