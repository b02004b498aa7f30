#!/usr/bin/env bash
# Boots the ISO in QEMU: TCG (KVM with ROS_KVM=1); serial on
# this terminal; user-mode network with ssh on localhost:2222.
#   iso/run.sh ISO [MEM_MB] [CLOUD_CONFIG.yml]
set -euo pipefail
iso=$1 mem=${2:-512} cc=${3:-}
# TCG unless ROS_KVM=1: a /dev/kvm can exist and still fail on guest code
# (seen on these nested machines); ros boots to login in ~12 s under TCG.
accel=tcg
if [ "${ROS_KVM:-0}" = 1 ] && [ -w /dev/kvm ]; then accel=kvm; fi
# shellcheck disable=SC2054 # commas are QEMU option syntax
args=(-accel "$accel" -m "$mem" -nographic -no-reboot
	-device virtio-scsi-pci,id=scsi0 -device scsi-cd,drive=cd0,bootindex=0
	-drive "id=cd0,if=none,format=raw,media=cdrom,readonly=on,file=$iso"
	-nic user,model=virtio-net-pci,hostfwd=tcp::2222-:22)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/cidata"
if [ -n "$cc" ]; then
	[ -f "$cc" ] || { echo "run: CLOUD_CONFIG $cc: no such file" >&2; exit 1; }
	cp "$cc" "$dir/cidata/user-data"
else
	# a developer's VM: a root shell on the serial console (ros.autologin)
	# and the invoking user's ssh keys for ros@localhost:2222
	{
		echo '#cloud-config'
		echo 'ros: {autologin: ttyS0}'
		keys=$(cat "${SUDO_USER:+$(getent passwd "$SUDO_USER" | cut -d: -f6)}"/.ssh/id_*.pub ~/.ssh/id_*.pub 2>/dev/null | sort -u || true)
		if [ -n "$keys" ]; then
			echo 'ssh_authorized_keys:'
			while IFS= read -r k; do printf '  - "%s"\n' "$k"; done <<<"$keys"
		fi
	} >"$dir/cidata/user-data"
	echo "run: no CLOUD_CONFIG: autologin on the serial console; your ~/.ssh/id_*.pub for ssh" >&2
fi
printf 'instance-id: ros-run\n' >"$dir/cidata/meta-data"
xorriso -as mkisofs -quiet -o "$dir/cidata.iso" -V cidata -J -R "$dir/cidata" 2>"$dir/xorriso.log" ||
	{ cat "$dir/xorriso.log" >&2; exit 1; }
args+=(-drive "file=$dir/cidata.iso,if=virtio,format=raw,readonly=on")
echo "run: booting $iso ($accel, ${mem} MB). Log in on this console, or: ssh -p 2222 ros@localhost" >&2
echo "run: quit QEMU with Ctrl-a x" >&2
qemu-system-x86_64 "${args[@]}"
