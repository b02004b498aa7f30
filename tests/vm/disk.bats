#!/usr/bin/env bats
# `make disk`'s images (iso/mkdisk.sh: this build's `ros install` on an
# image file) with a baked cloud-config and an OEM partition: the raw
# image boots under BIOS, the qcow2 (grown to 4 GiB) under UEFI, both to a
# console with the config applied.  docs/install.md.

load disk

setup_file() {
	export IMGDIR=$BATS_FILE_TMPDIR/img
	mkdir -p "$IMGDIR/oem"
	[ -f "${ROS_BUILD:-}/img/medium/ros/VERSION" ] && [ -x "$ROS_BUILD/bin/ros" ] && [ "$(id -u)" = 0 ] || return 0
	printf '#cloud-config\nhostname: baked-host\nros:\n  autologin: ttyS1\n' >"$IMGDIR/cc.yml"
	printf 'ros:\n  environment:\n    OEM_MARK: from-oem\n' >"$IMGDIR/oem/oem-config.yml"
	bash "$ROS_SRC/iso/mkdisk.sh" "$ROS_BUILD/bin/ros" "$ROS_BUILD/img/medium" "$IMGDIR/ros.img" \
		"$IMGDIR/ros.qcow2" 2048 "$IMGDIR/cc.yml" "$IMGDIR/oem" >"$IMGDIR/mkdisk.log" 2>&1 || true
}

setup() {
	disk_require
	[ "$(id -u)" = 0 ] || skip "making a disk image needs root (loop devices, mounts)"
	[ -f "$IMGDIR/ros.img" ] || { cat "$IMGDIR/mkdisk.log" >&2; false; }
}

teardown() { vm_stop; }

check_baked() {
	vm_wait_count 1 'is good'
	vm_wait 'login:'
	vm_shell_open
	run vm_sh 'hostname'
	[ "$output" = baked-host ]
	run vm_sh 'cat /usr/share/ros/oem/oem-config.yml'
	[[ "$output" == *"OEM_MARK: from-oem"* ]]
	run vm_sh 'ros config get ros.environment.OEM_MARK'
	[ "$output" = from-oem ]
	run vm_sh 'ros os list'
	echo "$output"
	[[ "$output" == *"good, running, next boot"* ]]
}

@test "make disk: the raw image with a baked cloud-config and OEM partition boots under BIOS" {
	cat "$IMGDIR/mkdisk.log"
	grep -q '\[5/7\] OEM partition (ROS_OEM)' "$IMGDIR/mkdisk.log"
	cp --sparse=always "$IMGDIR/ros.img" "$BATS_TEST_TMPDIR/boot.img"
	disk_boot bios "$BATS_TEST_TMPDIR/boot.img" raw
	check_baked
}

@test "make disk: the qcow2 image boots under UEFI and its state grows to the bigger disk" {
	cp "$IMGDIR/ros.qcow2" "$BATS_TEST_TMPDIR/boot.qcow2"
	qemu-img resize -q "$BATS_TEST_TMPDIR/boot.qcow2" 4G
	disk_boot uefi "$BATS_TEST_TMPDIR/boot.qcow2" qcow2
	check_baked
	vm_wait_count 1 'state partition /dev/vda6 grown to' 60
	run vm_sh "df -m /home | awk 'NR==2 {print \$2}'"
	echo "state: $output MiB"
	[ "$output" -gt 2500 ]
}
