#!/usr/bin/env bash
# `make disk`: a pre-installed disk image, raw and qcow2, made by this
# build's `ros install` on an image file (docs/install.md).
#   iso/mkdisk.sh ROS MEDIUMDIR OUT.img OUT.qcow2 SIZE_MIB [CLOUD-CONFIG] [OEMDIR]
set -euo pipefail
ros=$1 medium=$2 img=$3 qcow=$4 size=$5 cc=${6:-} oem=${7:-}
args=(install -d "$img.tmp" --size "$size" --source "$medium" --no-reboot -f)
if [ -n "$cc" ]; then
	[ -f "$cc" ] || { echo "mkdisk: CLOUD_CONFIG=$cc: no such file" >&2; exit 1; }
	args+=(-c "$cc")
fi
if [ -n "$oem" ]; then
	[ -d "$oem" ] || { echo "mkdisk: OEM=$oem: no such directory" >&2; exit 1; }
	[ -f "$oem/oem-config.yml" ] || echo "mkdisk: warning: $oem has no oem-config.yml" >&2
	args+=(--oem "$oem")
fi
rm -f "$img.tmp"
"$ros" "${args[@]}" | sed 's/^/  DISK    /'
mv "$img.tmp" "$img"
qemu-img convert -O qcow2 "$img" "$qcow.tmp"
mv "$qcow.tmp" "$qcow"
echo "  DISK    $img: $(du -h --apparent-size "$img" | cut -f1) raw ($(du -h "$img" | cut -f1) allocated)," \
	"$qcow: $(du -h "$qcow" | cut -f1)" >&2
