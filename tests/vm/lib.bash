# Boot helpers for the VM tests: boot build/ros.iso in QEMU (TCG here),
# serial console to a log file, wait for markers with a timeout.
# Environment: ROS_BUILD (build dir with ros.iso), VM_MEM (MB, default 256),
# VM_TIMEOUT (s per wait, default 120).

vm_require() {
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (bash scripts/install-deps.sh image)"
	VM_ISO=${VM_ISO:-$ROS_BUILD/ros.iso}
	[ -f "$VM_ISO" ] || skip "no ISO at $VM_ISO (make vm-prereqs)"
}

# vm_boot bios|uefi [extra qemu args...]: starts QEMU in the background,
# serial console (ttyS0) to $VM_LOG.
vm_boot() {
	local fw=$1
	shift
	VM_DIR=$(mktemp -d)
	VM_LOG=$VM_DIR/serial.log
	local args=(-accel tcg -m "${VM_MEM:-256}" -display none -no-reboot -nic none
		-serial "file:$VM_LOG" -monitor none -boot d -cdrom "$VM_ISO")
	if [ -w /dev/kvm ]; then args[1]=kvm; fi
	if [ "$fw" = uefi ]; then
		[ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] || skip "OVMF is not installed (package ovmf)"
		cp /usr/share/OVMF/OVMF_VARS_4M.fd "$VM_DIR/vars.fd"
		args+=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd"
			-drive "if=pflash,format=raw,unit=1,file=$VM_DIR/vars.fd")
	fi
	qemu-system-x86_64 "${args[@]}" "$@" </dev/null >"$VM_DIR/qemu.out" 2>&1 &
	VM_PID=$!
}

# vm_wait REGEX [TIMEOUT]: waits until the serial log matches (grep -E).
vm_wait() {
	local re=$1 limit=${2:-${VM_TIMEOUT:-120}} t=0
	while ! grep -qE "$re" "$VM_LOG" 2>/dev/null; do
		if ! kill -0 "$VM_PID" 2>/dev/null; then
			echo "QEMU exited before /$re/; serial log:" >&2
			tail -40 "$VM_LOG" >&2
			return 1
		fi
		if [ "$t" -ge $((limit * 5)) ]; then
			echo "timeout (${limit}s) waiting for /$re/; serial log:" >&2
			tail -40 "$VM_LOG" >&2
			return 1
		fi
		sleep 0.2
		t=$((t + 1))
	done
}

vm_stop() {
	if [ -n "${VM_PID:-}" ]; then
		kill "$VM_PID" 2>/dev/null || true
		wait "$VM_PID" 2>/dev/null || true
		VM_PID=
	fi
	[ -n "${VM_DIR:-}" ] && rm -rf "$VM_DIR"
	VM_DIR=
}

# True if the ISO's root squashfs carries /usr/bin/NAME.
vm_iso_has() {
	xorriso -osirrox on -indev "$VM_ISO" -extract /ros/root.squashfs "$BATS_TEST_TMPDIR/root.sqfs" >/dev/null 2>&1 &&
		unsquashfs -l "$BATS_TEST_TMPDIR/root.sqfs" 2>/dev/null | grep -q "squashfs-root/usr/bin/$1\$"
}
