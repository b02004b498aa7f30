#!/usr/bin/env bats
# ros install from the booted ISO onto a blank virtual disk, then the A/B
# life of that disk (docs/install.md): BIOS and UEFI boots, state that
# survives, upgrade, rollback, automatic rollback, a power cut mid-upgrade.
# The tests run in order on one disk ($DISK): each starts from where the
# previous one left it.

load disk

setup_file() {
	export DISK=$BATS_FILE_TMPDIR/disk.qcow2
	export WWW=$BATS_FILE_TMPDIR/www
	mkdir -p "$WWW"
	[ -f "${ROS_BUILD:-}/img/medium/ros/VERSION" ] || return 0
	OLD_VERSION=$(cat "$ROS_BUILD/img/medium/ros/VERSION")
	export OLD_VERSION NEW_VERSION="$OLD_VERSION-upgrade" BROKEN_VERSION="$OLD_VERSION-broken"
	# a second build: the same OS with another version string
	bash "$ROS_SRC/iso/mkupgrade.sh" "$ROS_BUILD/img/medium" "$NEW_VERSION" "$WWW/ros-upgrade.tar"
	# a deliberately broken build: its init exits at once
	broken_initrd "$WWW/broken-initrd.img"
	bash "$ROS_SRC/iso/mkupgrade.sh" "$ROS_BUILD/img/medium" "$BROKEN_VERSION" "$WWW/ros-broken.tar" \
		"$WWW/broken-initrd.img"
	# and one whose essential service (ntpd) never comes up
	unsquashfs -q -d "$BATS_FILE_TMPDIR/root" "$ROS_BUILD/img/medium/ros/root.squashfs"
	sed -i 's|^  command: .*|  command: [/bin/false]|' "$BATS_FILE_TMPDIR/root/usr/share/ros/services/ntpd.yml"
	mksquashfs "$BATS_FILE_TMPDIR/root" "$WWW/noservice-root.squashfs" -comp zstd -quiet -no-progress >/dev/null
	rm -rf "$BATS_FILE_TMPDIR/root"
	# the ISO itself is an upgrade image too
	ln -s "$ROS_BUILD/ros.iso" "$WWW/ros.iso"
	bash "$ROS_SRC/iso/mkupgrade.sh" "$ROS_BUILD/img/medium" "$OLD_VERSION-noservice" "$WWW/ros-noservice.tar" \
		"" "$WWW/noservice-root.squashfs"
}

setup() {
	disk_require
	[ -n "${OLD_VERSION:-}" ] || skip "no medium"
	CC=$BATS_TEST_TMPDIR/user-data.yml
	printf '#cloud-config\nros:\n  autologin: ttyS1\n' >"$CC"
}

teardown() {
	http_stop
	vm_stop
}

# boots $DISK, waits for the Nth boot of SLOT to be marked good, opens the shell
boot_disk_until_good() {
	local fw=$1
	disk_boot "$fw" "$DISK" qcow2
	vm_wait_count 1 'is good'
	vm_wait 'login:'
	vm_shell_open
}

@test "ros install refuses a disk with partitions without -f and installs to a blank one" {
	qemu-img create -q -f qcow2 "$DISK" 4G
	vm_cidata "$CC"
	vm_boot bios -drive "file=$DISK,format=qcow2,if=virtio"
	vm_wait 'login:'
	vm_shell_open
	vm_sh 'cat /run/ros/media/ros/VERSION'
	# the installed system's own cloud-config: the test shell again, and a mark
	vm_sh 'printf "#cloud-config\nhostname: installed-host\nros:\n  autologin: ttyS1\n" > /tmp/cc.yml'
	run vm_sh 'ros install -d /dev/vdb -c /tmp/cc.yml --no-reboot' 300
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"[1/6] partitioning"* ]]
	[[ "$output" == *"[6/6] boot environment: slot A ($OLD_VERSION) good"* ]]
	[[ "$output" == *"installed ros $OLD_VERSION to /dev/vdb in "* ]]
	# now it holds a GPT: refused without -f, naming the problem
	run vm_sh 'ros install -d /dev/vdb --no-reboot'
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"/dev/vdb holds a partition table (gpt); use -f to overwrite it"* ]]
	# the live system is untouched: no slot boot
	run vm_sh 'ros os list'
	[ "$status" -ne 0 ]
	[[ "$output" == *"not booted from an installed disk"* ]]
}

@test "the installed disk boots under BIOS; /home and ros config set survive a reboot" {
	boot_disk_until_good bios
	grep -q 'ros: booting slot A' "$VM_LOG"
	run vm_sh 'ros os version'
	[ "$output" = "$OLD_VERSION" ]
	run vm_sh 'hostname'
	[ "$output" = installed-host ]
	run vm_sh 'ros os list'
	echo "$output"
	[[ "$output" == *"A     $OLD_VERSION"*"good, running, next boot"* ]]
	vm_sh 'echo kept-in-home > /home/ros/data.txt && sync'
	vm_sh 'ros config set ros.environment.INSTALL_MARK kept-in-config'
	vm_sh 'ros os reboot'
	vm_wait_count 2 'ros: booting slot A'
	vm_wait_count 2 'is good'
	vm_wait_count 2 'login:'
	disk_shell_reopen
	run vm_sh 'cat /home/ros/data.txt'
	[ "$output" = kept-in-home ]
	run vm_sh 'ros config get ros.environment.INSTALL_MARK'
	[ "$output" = kept-in-config ]
	# the state partition fills the 4 GiB disk
	run vm_sh "df -m /home | awk 'NR==2 {print \$2}'"
	echo "state: $output MiB"
	[ "$output" -gt 2500 ]
}

@test "the installed disk boots under UEFI with the same state" {
	boot_disk_until_good uefi
	grep -q 'ros: booting slot A' "$VM_LOG"
	run vm_sh 'cat /home/ros/data.txt'
	[ "$output" = kept-in-home ]
	run vm_sh 'ros config get ros.environment.INSTALL_MARK'
	[ "$output" = kept-in-config ]
	run vm_sh 'ros os version'
	[ "$output" = "$OLD_VERSION" ]
}

@test "ros os upgrade from a URL boots the new slot and marks it good; ros os rollback goes back" {
	http_serve "$WWW"
	boot_disk_until_good bios
	run vm_sh "ros os upgrade -i http://10.0.2.2:$HTTP_PORT/ros-upgrade.tar" 300
	echo "$output"
	[[ "$output" == *"sha256"*"verified"* ]]
	[[ "$output" == *"slot B: verifying"* ]]
	[[ "$output" == *"[3/3] slot B: ros $NEW_VERSION is the next boot, 3 tries"* ]]
	vm_wait_count 1 'ros: booting slot B trial boot, 2 tries left'
	vm_wait_count 1 "slot B \\($NEW_VERSION\\) is good"
	vm_wait_count 2 'login:'
	disk_shell_reopen
	run vm_sh 'ros os version'
	[ "$output" = "$NEW_VERSION" ]
	run vm_sh 'ros os list'
	echo "$output"
	[[ "$output" == *"A     $OLD_VERSION"*"good"* ]]
	[[ "$output" == *"B     $NEW_VERSION"*"good, running, next boot"* ]]
	[[ "$output" == *"last event: "*"slot B ($NEW_VERSION) booted and was marked good"* ]]
	# state carried over
	run vm_sh 'cat /home/ros/data.txt'
	[ "$output" = kept-in-home ]
	# a tampered image is refused before anything is written
	vm_sh "wget -q -O /tmp/t.tar http://10.0.2.2:$HTTP_PORT/ros-upgrade.tar && echo 0000 >> /tmp/t.tar"
	vm_sh "wget -q -O /tmp/t.tar.sha256 http://10.0.2.2:$HTTP_PORT/ros-upgrade.tar.sha256"
	run vm_sh 'ros os upgrade -i /tmp/t.tar --no-reboot'
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"expected"*"refusing it"* ]]
	# rollback
	run vm_sh 'ros os rollback'
	echo "$output"
	[[ "$output" == *"next boot: slot A ($OLD_VERSION)"* ]]
	vm_wait_count 2 'ros: booting slot A'
	vm_wait_count 3 'login:'
	disk_shell_reopen
	run vm_sh 'ros os version'
	[ "$output" = "$OLD_VERSION" ]
	run vm_sh 'ros os list'
	echo "$output"
	[[ "$output" == *"A     $OLD_VERSION"*"good, running, next boot"* ]]
	[[ "$output" == *"last event: "*"rollback from slot B to slot A"* ]]
}

@test "a broken upgrade runs out of tries and the old slot boots by itself; ros os list says so" {
	http_serve "$WWW"
	boot_disk_until_good bios
	run vm_sh "ros os upgrade --tries 2 -i http://10.0.2.2:$HTTP_PORT/ros-broken.tar" 300
	echo "$output"
	[[ "$output" == *"ros $BROKEN_VERSION is the next boot, 2 tries"* ]]
	# two trial boots that panic (the kernel reboots), then A by itself
	vm_wait_count 1 'ros: booting slot B trial boot, 1 tries left' 180
	vm_wait_count 1 'ros: booting slot B trial boot, 0 tries left' 180
	vm_wait_count 2 'ros: booting slot A' 180
	vm_wait_count 2 'is good' 180
	grep -c 'Kernel panic' "$VM_LOG"
	[ "$(grep -c 'Kernel panic' "$VM_LOG")" -ge 2 ]
	vm_wait_count 2 'login:'
	disk_shell_reopen
	run vm_sh 'ros os version'
	[ "$output" = "$OLD_VERSION" ]
	run vm_sh 'ros os list'
	echo "$output"
	[[ "$output" == *"B     $BROKEN_VERSION"*"failed (ran out of tries)"* ]]
	[[ "$output" == *"A     $OLD_VERSION"*"good, running, next boot"* ]]
	[[ "$output" == *"last event: "*"slot B ($BROKEN_VERSION) was not marked good in its tries; rolled back to slot A"* ]]
}

@test "an upgrade whose essential service never comes up reboots after its trial time and rolls back" {
	http_serve "$WWW"
	boot_disk_until_good bios
	run vm_sh "ros os upgrade --tries 1 --trial-timeout 20 -i http://10.0.2.2:$HTTP_PORT/ros-noservice.tar" 300
	echo "$output"
	[[ "$output" == *"ros $OLD_VERSION-noservice is the next boot, 1 tries"* ]]
	vm_wait_count 1 'ros: booting slot B trial boot, 0 tries left' 180
	vm_wait_count 1 'Command line: .* ros.slot=B .*ros.trial=20' 60
	vm_wait_count 1 'trial boot: service [a-z-]+ is not up after ros.trial seconds: rebooting' 180
	vm_wait_count 2 'ros: booting slot A' 180
	vm_wait_count 2 'is good' 180
	vm_wait_count 2 'login:'
	disk_shell_reopen
	run vm_sh 'ros os version'
	[ "$output" = "$OLD_VERSION" ]
	run vm_sh 'ros os list'
	echo "$output"
	[[ "$output" == *"B     $OLD_VERSION-noservice"*"failed (ran out of tries)"* ]]
	[[ "$output" == *"last event: "*"slot B ($OLD_VERSION-noservice) was not marked good in its tries; rolled back to slot A"* ]]
}

@test "a power cut in the middle of an upgrade write still boots the old slot" {
	http_serve "$WWW"
	boot_disk_until_good bios
	vm_sh "ros os upgrade -i http://10.0.2.2:$HTTP_PORT/ros-upgrade.tar --no-reboot > /tmp/up.log 2>&1 & sleep 0"
	for _ in $(seq 600); do
		vm_sh 'cat /tmp/up.log' >"$BATS_TEST_TMPDIR/up.log" || true
		grep -q 'slot B: /dev/vda4' "$BATS_TEST_TMPDIR/up.log" && break
		sleep 0.1
	done
	# at once: the slot's filesystem and files are being written
	kill -9 "$VM_PID"
	cat "$BATS_TEST_TMPDIR/up.log"
	grep -q 'slot B: /dev/vda4' "$BATS_TEST_TMPDIR/up.log"
	run grep -c 'slot B: verifying' "$BATS_TEST_TMPDIR/up.log"
	[ "$output" = 0 ]
	wait "$VM_PID" || true
	VM_PID=
	rm -rf "$VM_DIR"
	boot_disk_until_good bios
	grep -q 'ros: booting slot A' "$VM_LOG"
	run grep -c 'ros: booting slot B' "$VM_LOG"
	[ "$output" = 0 ]
	run vm_sh 'ros os version'
	[ "$output" = "$OLD_VERSION" ]
	run vm_sh 'ros os list'
	echo "$output"
	[[ "$output" == *"B     -"*"empty"* ]]
	[[ "$output" == *"A     $OLD_VERSION"*"good, running, next boot"* ]]
}

@test "ros os upgrade -i an ISO file writes its files to the other slot, which boots and is marked good" {
	http_serve "$WWW"
	boot_disk_until_good bios
	vm_sh "wget -q -O /var/lib/ros/ros.iso http://10.0.2.2:$HTTP_PORT/ros.iso"
	run vm_sh 'ros os upgrade -i /var/lib/ros/ros.iso --no-reboot' 300
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ros/root.squashfs ("*"MiB)"* ]]
	[[ "$output" == *"slot B: verifying"* ]]
	run vm_sh 'ros os list'
	echo "$output"
	[[ "$output" == *"B     $OLD_VERSION"*"on trial (3 tries left), next boot"* ]]
	vm_sh 'rm /var/lib/ros/ros.iso; ros os reboot'
	vm_wait_count 1 'ros: booting slot B trial boot, 2 tries left' 180
	vm_wait_count 2 'is good' 180
	vm_wait_count 2 'login:'
	disk_shell_reopen
	run vm_sh 'ros os list'
	echo "$output"
	[[ "$output" == *"B     $OLD_VERSION"*"good, running, next boot"* ]]
}
