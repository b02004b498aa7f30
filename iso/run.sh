#!/usr/bin/env bash
# Boots the ISO in QEMU: KVM when /dev/kvm is usable, else TCG; serial on
# this terminal; user-mode network with ssh on localhost:2222.
#   iso/run.sh ISO [MEM_MB] [CLOUD_CONFIG.yml]
set -euo pipefail
iso=$1 mem=${2:-512} cc=${3:-}
accel=tcg
# KVM only when it really runs guest code (a /dev/kvm can exist and fail)
if [ -w /dev/kvm ] && ! timeout 3 qemu-system-x86_64 -accel kvm -display none -nodefaults -no-reboot \
	-serial none -monitor none 2>&1 | grep -qiE "error|fail|could not|doesn't support"; then
	accel=kvm
fi
# shellcheck disable=SC2054 # commas are QEMU option syntax
args=(-accel "$accel" -m "$mem" -nographic -no-reboot
	-device virtio-scsi-pci,id=scsi0 -device scsi-cd,drive=cd0,bootindex=0
	-drive "id=cd0,if=none,format=raw,media=cdrom,readonly=on,file=$iso"
	-nic user,model=virtio-net-pci,hostfwd=tcp::2222-:22)
if [ -n "$cc" ]; then
	[ -f "$cc" ] || { echo "run: CLOUD_CONFIG $cc: no such file" >&2; exit 1; }
	dir=$(mktemp -d)
	trap 'rm -rf "$dir"' EXIT
	mkdir "$dir/cidata"
	cp "$cc" "$dir/cidata/user-data"
	printf 'instance-id: ros-run\n' >"$dir/cidata/meta-data"
	xorriso -as mkisofs -quiet -o "$dir/cidata.iso" -V cidata -J -R "$dir/cidata" 2>"$dir/xorriso.log" ||
		{ cat "$dir/xorriso.log" >&2; exit 1; }
	args+=(-drive "file=$dir/cidata.iso,if=virtio,format=raw,readonly=on")
fi
echo "run: booting $iso ($accel, ${mem} MB). Log in on this console, or: ssh -p 2222 ros@localhost" >&2
echo "run: quit QEMU with Ctrl-a x" >&2
qemu-system-x86_64 "${args[@]}"
