# Helpers for the installed-disk VM tests (install.bats, disk.bats), on top
# of lib.bash: boot a disk image (no ISO) so that reboots stay in the same
# QEMU (no -no-reboot: GRUB's slot choice across reboots is the point),
# and count boots in the serial log.

load lib

disk_require() {
	vm_require
	command -v qemu-img >/dev/null || skip "qemu-img is not installed (qemu-utils)"
	command -v socat >/dev/null || skip "socat is not installed"
	MEDIUM=$ROS_BUILD/img/medium
	[ -f "$MEDIUM/ros/install/core.img" ] || skip "no $MEDIUM (make medium)"
}

# disk_boot bios|uefi DISK [FORMAT] [qemu args...]: boots DISK (virtio),
# serial console to $VM_LOG, the test shell's socket; reboots stay in QEMU.
disk_boot() {
	local fw=$1 disk=$2 fmt=${3:-qcow2}
	shift 3 || shift $#
	VM_DIR=$(mktemp -d)
	VM_LOG=$VM_DIR/serial.log
	local args=(-accel tcg -m "${VM_MEM:-384}" -display none
		-nic "user,model=virtio-net-pci"
		-serial "file:$VM_LOG" -chardev "socket,id=s1,path=$VM_DIR/ttyS1.sock,server=on,wait=off"
		-serial chardev:s1 -monitor none
		-drive "file=$disk,format=$fmt,if=virtio")
	if [ "$fw" = uefi ]; then
		[ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] || skip "OVMF is not installed (package ovmf)"
		cp /usr/share/OVMF/OVMF_VARS_4M.fd "$VM_DIR/vars.fd"
		args+=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd"
			-drive "if=pflash,format=raw,unit=1,file=$VM_DIR/vars.fd")
	fi
	qemu-system-x86_64 "${args[@]}" "$@" </dev/null >"$VM_DIR/qemu.out" 2>&1 &
	VM_PID=$!
}

# disk_boots SLOT: how many times GRUB has chosen SLOT so far.
disk_boots() {
	vm_count "ros: booting slot $1"
}

# disk_shell_reopen: after a reboot in the same QEMU, a new shell on ttyS1.
disk_shell_reopen() {
	if [ -n "${VMSH_PID:-}" ]; then
		kill "$VMSH_PID" 2>/dev/null || true
		exec {VM_SH_IN}>&- {VM_SH_OUT}<&-
		VMSH_PID=
	fi
	vm_shell_open
}

# An HTTP server on the host for `ros os upgrade -i URL` (the guest sees
# the host as 10.0.2.2); serves DIR; sets HTTP_PORT, HTTP_PID.
http_serve() {
	HTTP_PORT=$((20000 + RANDOM % 20000))
	python3 -m http.server "$HTTP_PORT" --bind 127.0.0.1 --directory "$1" >/dev/null 2>&1 &
	HTTP_PID=$!
	for _ in $(seq 50); do
		python3 -c "import socket; socket.create_connection(('127.0.0.1', $HTTP_PORT), 1)" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "http server on $HTTP_PORT did not start" >&2
	return 1
}

http_stop() {
	[ -n "${HTTP_PID:-}" ] && kill "$HTTP_PID" 2>/dev/null || true
	HTTP_PID=
}

# A broken initramfs: /init exits at once, so the kernel panics (and
# reboots after panic=5, GRUB's command line).
broken_initrd() {
	local d
	d=$(mktemp -d)
	mkdir -p "$d/bin" "$d/dev"
	cp /bin/busybox "$d/bin/busybox"
	printf '#!/bin/busybox sh\necho "broken-init: exiting on purpose"\nexit 1\n' >"$d/init"
	chmod 0755 "$d/init"
	(cd "$d" && find . | cpio -o -H newc --quiet | gzip -1) >"$1"
	rm -rf "$d"
}
