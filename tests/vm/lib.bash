# Boot helpers for the VM tests: boot build/ros.iso in QEMU (TCG here),
# serial console to a log file, wait for markers with a timeout.
# Environment: ROS_BUILD (build dir with ros.iso), VM_MEM (MB, default 256),
# VM_TIMEOUT (s per wait, default 120).

vm_require() {
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (bash scripts/install-deps.sh image)"
	VM_ISO=${VM_ISO:-$ROS_BUILD/ros.iso}
	[ -f "$VM_ISO" ] || skip "no ISO at $VM_ISO (make vm-prereqs)"
}

# True when the tests may use KVM: only with ROS_KVM=1 (a /dev/kvm can
# exist and fail on guest code, as on these nested machines).
vm_kvm_works() {
	[ "${ROS_KVM:-0}" = 1 ] && [ -w /dev/kvm ]
}

# vm_boot bios|uefi [extra qemu args...]: starts QEMU in the background,
# serial console (ttyS0) to $VM_LOG.
vm_boot() {
	local fw=$1
	shift
	VM_DIR=$(mktemp -d)
	VM_LOG=$VM_DIR/serial.log
	# ttyS0: the console, to a file; ttyS1: a socket for the test shell
	# (the console service runs an autologin root shell there when the
	# cloud-config says ros.autologin: ttyS1, see vm_cidata)
	local args=(-accel tcg -m "${VM_MEM:-256}" -display none -no-reboot
		-nic "user,model=virtio-net-pci${VM_NET_OPTS:-}"
		-serial "file:$VM_LOG" -chardev "socket,id=s1,path=$VM_DIR/ttyS1.sock,server=on,wait=off"
		-serial chardev:s1 -monitor none -boot d -cdrom "$VM_ISO")
	[ -n "${VM_CIDATA:-}" ] && args+=(-drive "file=$VM_CIDATA,if=virtio,format=raw,readonly=on")
	if vm_kvm_works; then args[1]=kvm; fi
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
	vm_wait_count 1 "$@"
}

# vm_count REGEX: lines of the serial log matching it (0 without a log).
vm_count() {
	local c
	c=$(grep -cE "$1" "$VM_LOG" 2>/dev/null)
	echo "${c:-0}"
}

# vm_wait_count N REGEX [TIMEOUT]: waits for the Nth line matching REGEX
# (after a reboot in the same QEMU, the serial log holds both boots).
vm_wait_count() {
	local n=$1 re=$2 limit=${3:-${VM_TIMEOUT:-120}} t=0
	while [ "$(vm_count "$re")" -lt "$n" ]; do
		if ! kill -0 "$VM_PID" 2>/dev/null; then
			echo "QEMU exited before match $n of /$re/; serial log:" >&2
			tail -40 "$VM_LOG" >&2
			return 1
		fi
		if [ "$t" -ge $((limit * 5)) ]; then
			echo "timeout (${limit}s) waiting for match $n of /$re/; serial log:" >&2
			tail -40 "$VM_LOG" >&2
			return 1
		fi
		sleep 0.2
		t=$((t + 1))
	done
}

# vm_boot_kernel "EXTRA CMDLINE" [qemu args...]: boots the ISO's kernel and
# initrd directly (-kernel/-append) with the ISO as the medium, so a test
# can add kernel arguments; BIOS.
vm_boot_kernel() {
	local extra=$1 k
	shift
	k=$ROS_BUILD/img/kernel-${KERNEL:-cloud}
	[ -f "$k/vmlinuz" ] || skip "no kernel at $k (make iso)"
	vm_boot bios -kernel "$k/vmlinuz" -initrd "$ROS_BUILD/img/initrd-${KERNEL:-cloud}.img" \
		-append "console=ttyS0 $extra" "$@"
}

# vm_wait_exit [TIMEOUT]: waits for QEMU to exit by itself; sets VM_RC.
vm_wait_exit() {
	local t=0 limit=${1:-${VM_TIMEOUT:-120}}
	while kill -0 "$VM_PID" 2>/dev/null; do
		if [ "$t" -ge $((limit * 5)) ]; then
			echo "QEMU did not exit in ${limit}s; serial log:" >&2
			tail -20 "$VM_LOG" >&2
			return 1
		fi
		sleep 0.2
		t=$((t + 1))
	done
	local rc=0
	wait "$VM_PID" || rc=$?
	export VM_RC=$rc
	VM_PID=
}

# vm_cidata FILE.yml: a NoCloud cidata ISO from that user-data, used by the
# next vm_boot (VM_CIDATA).
vm_cidata() {
	local d
	d=$(mktemp -d)
	mkdir "$d/cidata"
	cp "$1" "$d/cidata/user-data"
	printf 'instance-id: ros-vm-test\nlocal-hostname: meta-host\n' >"$d/cidata/meta-data"
	xorriso -as mkisofs -quiet -o "$d/cidata.iso" -V cidata -J -R "$d/cidata" 2>/dev/null
	VM_CIDATA=$d/cidata.iso
	VM_CIDATA_DIR=$d
}

# vm_shell_open: connects to the autologin shell on ttyS1 (after the
# console is up), turns echo off.
vm_shell_open() {
	local i line
	for _ in $(seq 100); do [ -S "$VM_DIR/ttyS1.sock" ] && break; sleep 0.1; done
	coproc VMSH { exec socat - "UNIX-CONNECT:$VM_DIR/ttyS1.sock" 2>/dev/null; }
	# plain fds: bash closes a coproc's own fds in subshells (pipelines, $(...))
	exec {VM_SH_IN}>&"${VMSH[1]}" {VM_SH_OUT}<&"${VMSH[0]}"
	VM_SH_N=0
	for i in $(seq "${VM_TIMEOUT:-120}"); do
		printf 'stty -echo 2>/dev/null; PS1=; PS2=; echo __READY""_%s\n' "$i" >&"$VM_SH_IN"
		while IFS= read -r -t 1 line <&"$VM_SH_OUT"; do
			[[ "${line%$'\r'}" == *__READY_$i ]] && return 0
		done
		kill -0 "$VM_PID" 2>/dev/null || { echo "QEMU exited; serial log:" >&2; tail -40 "$VM_LOG" >&2; return 1; }
	done
	echo "no shell on ttyS1; serial log:" >&2
	tail -40 "$VM_LOG" >&2
	return 1
}

# vm_sh CMD [TIMEOUT]: runs CMD in the VM's shell; its output on stdout,
# its exit status returned.
vm_sh() {
	local n=$((++VM_SH_N)) line rc=
	printf '%s\n' "$1; echo __END""_$n:\$?" >&"$VM_SH_IN"
	while IFS= read -r -t "${2:-60}" line <&"$VM_SH_OUT"; do
		line=${line%$'\r'}
		if [[ "$line" =~ __END_$n:([0-9]+)$ ]]; then
			rc=${BASH_REMATCH[1]}
			break
		fi
		printf '%s\n' "$line"
	done
	[ -n "$rc" ] || { echo "vm_sh: no answer to: $1" >&2; return 124; }
	return "$rc"
}

vm_stop() {
	if [ -n "${VMSH_PID:-}" ]; then
		kill "$VMSH_PID" 2>/dev/null || true
		exec {VM_SH_IN}>&- {VM_SH_OUT}<&-
		VMSH_PID=
	fi
	if [ -n "${VM_PID:-}" ]; then
		kill "$VM_PID" 2>/dev/null || true
		wait "$VM_PID" 2>/dev/null || true
		VM_PID=
	fi
	[ -n "${VM_DIR:-}" ] && rm -rf "$VM_DIR"
	[ -n "${VM_CIDATA_DIR:-}" ] && rm -rf "$VM_CIDATA_DIR"
	VM_CIDATA='' VM_CIDATA_DIR=''
	VM_DIR=
}

# True if the ISO's root squashfs carries /usr/bin/NAME.
vm_iso_has() {
	xorriso -osirrox on -indev "$VM_ISO" -extract /ros/root.squashfs "$BATS_TEST_TMPDIR/root.sqfs" >/dev/null 2>&1 &&
		unsquashfs -l "$BATS_TEST_TMPDIR/root.sqfs" 2>/dev/null | grep -q "squashfs-root/usr/bin/$1\$"
}
