#!/usr/bin/env bats
# init (PID 1): the real static init runs as PID 1 in its own PID and mount
# namespaces (unshare), with a busybox test root and a fake sysctr
# (init-fake-sysctr.sh) that reports on the console.  ROS_CMDLINE stands in
# for /proc/cmdline.  Inside a PID namespace reboot(2) ends the namespace:
# its init dies of SIGHUP for a reboot and SIGINT for poweroff/halt, which
# unshare re-raises (exit 129 / 130).

load init-lib

setup_file() {
	[ "$(id -u)" = 0 ] || skip "needs root (namespaces, mounts)"
	export ROOT=$BATS_FILE_TMPDIR/root
	init_make_root "$ROOT"
}

setup() {
	[ "$(id -u)" = 0 ] || skip "needs root (namespaces, mounts)"
	[ -x "$ROS_BUILD/bin/init" ] || skip "init not built"
	BASE="ros.root=$ROOT ros.state=none"
	LOOPS=()
}

teardown() {
	init_cleanup
	local l
	for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null || true; done
}

loop_attach() { # FILE -> sets LOOP
	[ -e /dev/loop-control ] || skip "no loop devices"
	LOOP=$(losetup --find --show "$1")
	LOOPS+=("$LOOP")
}

# The console lines matching a regex, in order.
console_grep() { grep -E -- "$1" "$CONSOLE"; }

@test "init starts sysctr, writes the boot timeline and ros os boot-time shows it" {
	init_start "$BASE"
	wait_for 'fake-sysctr: start pid=2 '
	run cat "/proc/$INIT_PID/root/run/ros/boot-timeline"
	[ "$status" -eq 0 ]
	[ "$(awk '{print $2}' <<<"$output" | tr '\n' ' ')" = "kernel mounts modules root state sysctr " ]
	awk 'NR > 1 && $1 < prev { exit 1 } { prev = $1 }' <<<"$output"
	[ "$(cat "/proc/$INIT_PID/root/run/ros/init.pid")" = "$INIT_PID" ]
	run "$ROS_BUILD/bin/ros" --root "/proc/$INIT_PID/root" os boot-time
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^kernel\ +[0-9]+\ ms\ +\(kernel\ start\ to\ init\)$ ]]
	[[ "$output" == *"sysctr "* ]]
	[[ "${lines[-1]}" == total* ]]
	run "$ROS_BUILD/bin/ros" --root "/proc/$INIT_PID/root" os version
	[ "$status" -eq 0 ]
	[ -n "$output" ]
	"$ROS_BUILD/bin/ros" --root "/proc/$INIT_PID/root" os poweroff
	init_wait_exit
	[ "$INIT_RC" -eq 130 ]
}

@test "killed sysctr is restarted with growing backoff and its containers keep running" {
	init_start "$BASE"
	wait_for 'fake-sysctr: container pid='
	local container n pid
	container=$(pgrep -P "$(init_children | tr -d " ")" -f fake-container)
	for n in 2 3 4 5; do
		pid=$(pgrep -P "$INIT_PID" -f /usr/bin/sysctr)
		kill -9 "$pid"
		for _ in $(seq 100); do
			[ "$(console_grep '^fake-sysctr: start' | wc -l)" -ge "$n" ] && break
			sleep 0.05
		done
	done
	[ "$(console_grep '^fake-sysctr: start' | wc -l)" -eq 5 ]
	console_grep 'restarting in (100|200|400|800) ms'
	# Gaps between starts grow: at least 100, 200, 400, 800 ms of backoff
	# (uptime has 10 ms steps; a busy machine only makes gaps longer).
	console_grep '^fake-sysctr: start' | sed 's/.*uptime=\([0-9.]*\).*/\1/' |
		awk 'NR > 1 { want = 0.1 * 2 ^ (NR - 2) - 0.011; if ($1 - prev < want) exit 1 } { prev = $1 }'
	# The container sysctr started was never touched, only re-parented.
	kill -0 "$container"
	[ "$(awk '/^PPid:/ {print $2}' "/proc/$container/status")" = "$INIT_PID" ]
	[ "$(console_grep '^fake-sysctr: container' | wc -l)" -eq 1 ]
	kill -USR2 "$INIT_PID"
	init_wait_exit
	[ "$INIT_RC" -eq 130 ]
}

@test "orphans are reaped: double-forked children do not stay zombies" {
	init_start "$BASE fake.mode=orphans"
	wait_for 'fake-sysctr: orphans made'
	# The orphans (re-parented to init) sleep up to 0.9 s; an unreaped one
	# would stay a zombie child of init for ever.  In the end sysctr alone
	# is left (the container is its child).
	local child zombies
	for _ in $(seq 100); do
		[ "$(init_children | wc -w)" -eq 1 ] && break
		sleep 0.05
	done
	zombies=0
	for child in $(init_children); do
		grep -q '^State:.*Z' "/proc/$child/status" 2>/dev/null && zombies=$((zombies + 1))
	done
	[ "$zombies" -eq 0 ]
	[ "$(init_children | wc -w)" -eq 1 ]
	kill -USR2 "$INIT_PID"
	init_wait_exit
}

@test "SIGUSR2 powers off: SIGTERM to sysctr first, then to the rest, then reboot(2)" {
	init_start "$BASE"
	wait_for 'fake-sysctr: container pid='
	kill -USR2 "$INIT_PID"
	init_wait_exit
	[ "$INIT_RC" -eq 130 ] # SIGINT: RB_POWER_OFF in a PID namespace
	local order
	order=$(grep -nE 'fake-sysctr: got SIGTERM|SIGTERM to all|fake-container: got SIGTERM|unmounting; poweroff' \
		"$CONSOLE" | cut -d: -f2- | tr '\n' '|')
	[ "$order" = "fake-sysctr: got SIGTERM pid=2|init: sending SIGTERM to all processes|fake-container: got SIGTERM|init: syncing and unmounting; poweroff|" ]
}

@test "SIGTERM and ros os reboot reboot: the namespace's init dies of SIGHUP" {
	init_start "$BASE"
	wait_for 'fake-sysctr: container pid='
	"$ROS_BUILD/bin/ros" --root "/proc/$INIT_PID/root" os reboot
	init_wait_exit
	[ "$INIT_RC" -eq 129 ]
	console_grep 'unmounting; reboot'
	init_start "$BASE"
	wait_for 'fake-sysctr: start'
	kill -TERM "$INIT_PID"
	init_wait_exit
	[ "$INIT_RC" -eq 129 ]
}

@test "SIGUSR1 halts" {
	init_start "$BASE"
	wait_for 'fake-sysctr: start'
	"$ROS_BUILD/bin/ros" --root "/proc/$INIT_PID/root" os halt
	init_wait_exit
	[ "$INIT_RC" -eq 130 ]
	console_grep 'unmounting; halt'
}

@test "sysctr that ignores SIGTERM is stopped after ros.shutdown.timeout, then killed" {
	init_start "$BASE ros.shutdown.timeout=1 fake.mode=stubborn"
	wait_for 'fake-sysctr: container pid='
	kill -USR2 "$INIT_PID"
	init_wait_exit
	[ "$INIT_RC" -eq 130 ]
	console_grep 'fake-sysctr: ignoring SIGTERM'
	console_grep 'sysctr did not stop in 1 s'
	console_grep 'sending SIGKILL'
}

@test "missing sysctr: init says why on the console and keeps a rescue shell" {
	printf 'echo RESCUE-$((6 * 7))\n' >"$BATS_TEST_TMPDIR/stdin"
	init_start "$BASE ros.sysctr=/usr/bin/nope" "$BATS_TEST_TMPDIR/stdin"
	wait_for 'RESCUE-42'
	console_grep 'init: cannot start sysctr /usr/bin/nope: No such file or directory'
	console_grep 'starting a rescue shell'
	# The shell ended at the end of its input and is started again.
	wait_for 'rescue shell \(pid [0-9]+\) exited .*restarting in 200 ms'
	grep -q rescue "/proc/$INIT_PID/root/run/ros/boot-timeline"
	kill -TERM "$INIT_PID"
	init_wait_exit
	[ "$INIT_RC" -eq 129 ]
}

@test "root set-up failure: the reason and a rescue shell from the initramfs" {
	printf 'echo RESCUE-$((6 * 7))\n' >"$BATS_TEST_TMPDIR/stdin"
	init_start "ros.root=$BATS_TEST_TMPDIR/missing ros.state=none" "$BATS_TEST_TMPDIR/stdin"
	wait_for 'RESCUE-42'
	console_grep "set up the root filesystem: root $BATS_TEST_TMPDIR/missing: No such file or directory"
	kill -USR2 "$INIT_PID"
	init_wait_exit
	[ "$INIT_RC" -eq 130 ]
}

@test "squashfs root: loop device, tmpfs overlay on top, loop released after poweroff" {
	command -v mksquashfs >/dev/null || skip "no mksquashfs"
	[ -e /dev/loop-control ] || skip "no loop devices"
	local sqfs=$BATS_TEST_TMPDIR/root.squashfs
	mksquashfs "$ROOT" "$sqfs" -noappend -quiet -no-progress >/dev/null
	init_start "ros.root=$sqfs ros.state=none"
	wait_for 'fake-sysctr: start pid=2 '
	grep -E ' /run/ros/root-ro .* - squashfs /dev/loop[0-9]+ ro' "/proc/$INIT_PID/mountinfo"
	grep -E ' / / .* - overlay overlay rw,lowerdir=/run/ros/root-ro,upperdir=/run/ros/root-rw/upper' \
		"/proc/$INIT_PID/mountinfo"
	# Writable through the tmpfs upper layer.
	echo hello >"/proc/$INIT_PID/root/etc/written"
	[ "$(cat "/proc/$INIT_PID/root/etc/written")" = hello ]
	kill -USR2 "$INIT_PID"
	init_wait_exit
	[ "$INIT_RC" -eq 130 ]
	for _ in $(seq 40); do
		[ -z "$(losetup -j "$sqfs")" ] && break
		sleep 0.05
	done
	[ -z "$(losetup -j "$sqfs")" ]
}

@test "state disk found by label is bind-mounted for the persistent directories" {
	local img=$BATS_TEST_TMPDIR/state.img label=RST$$ dir
	truncate -s 16M "$img"
	mkfs.ext4 -q -L "$label" "$img"
	loop_attach "$img"
	init_start "ros.root=$ROOT ros.state=LABEL=$label"
	wait_for 'fake-sysctr: start'
	console_grep "state disk $LOOP mounted on /run/ros/state"
	for dir in /var/lib/ros /var/lib/userctr /home /opt /var/log; do
		grep -E " $dir rw.* - ext4 $LOOP " "/proc/$INIT_PID/mountinfo"
	done
	echo kept >"/proc/$INIT_PID/root/home/file"
	grep -q 'state$' "/proc/$INIT_PID/root/run/ros/boot-timeline"
	kill -USR2 "$INIT_PID"
	init_wait_exit
	[ "$INIT_RC" -eq 130 ]
	[ "$(debugfs -R 'cat /home/file' "$img" 2>/dev/null)" = kept ]
}

@test "autoformat formats a blank disk and refuses one that holds data" {
	local img=$BATS_TEST_TMPDIR/blank.img label=RAF$$
	truncate -s 16M "$img"
	loop_attach "$img"
	init_start "ros.root=$ROOT ros.state=LABEL=$label ros.state.autoformat=$LOOP"
	wait_for 'fake-sysctr: start'
	console_grep "formatting blank $LOOP as ext4 $label"
	grep -E " /var/lib/ros rw.* $LOOP " "/proc/$INIT_PID/mountinfo"
	kill -USR2 "$INIT_PID"
	init_wait_exit
	[ "$(blkid -o value -s LABEL "$img")" = "$label" ]

	local full=$BATS_TEST_TMPDIR/full.img
	truncate -s 16M "$full"
	mkfs.ext4 -q -L OTHER$$ "$full"
	loop_attach "$full"
	init_start "ros.root=$ROOT ros.state=LABEL=$label-none ros.state.autoformat=$LOOP"
	wait_for 'fake-sysctr: start'
	console_grep "state disk: ros.state.autoformat: $LOOP is not blank \(it holds ext4\); state stays in RAM"
	kill -USR2 "$INIT_PID"
	init_wait_exit
	[ "$(blkid -o value -s LABEL "$full")" = "OTHER$$" ]
}

@test "bad ros.* values on the command line are reported and the boot goes on" {
	init_start "$BASE ros.cgroup=v3 ros.shutdown.timeout=soon"
	wait_for 'fake-sysctr: start'
	console_grep 'kernel command line: ros.cgroup=v3: expected v1 or v2 and more \(ignored\)'
	kill -USR2 "$INIT_PID"
	init_wait_exit
	[ "$INIT_RC" -eq 130 ]
}

@test "ros.state naming a blank autoformat device formats it with the default label" {
	local img=$BATS_TEST_TMPDIR/blank2.img
	truncate -s 16M "$img"
	loop_attach "$img"
	init_start "ros.root=$ROOT ros.state=$LOOP ros.state.autoformat=$LOOP"
	wait_for 'fake-sysctr: start'
	console_grep "formatting blank $LOOP as ext4 ROS_STATE"
	console_grep "state disk $LOOP mounted on /run/ros/state"
	kill -USR2 "$INIT_PID"
	init_wait_exit
	[ "$(blkid -o value -s LABEL "$img")" = ROS_STATE ]
}

@test "ros.cgroup=v1 mounts a tmpfs with one hierarchy per controller and cgroup2 at unified" {
	grep -q '^memory.*1$' /proc/cgroups || skip "no memory controller"
	# A controller already bound to cgroup2 cannot be mounted as v1.
	if grep -q memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
		skip "this host uses memory in cgroup2"
	fi
	init_start "$BASE ros.cgroup=v1"
	wait_for 'fake-sysctr: start'
	grep -E ' /sys/fs/cgroup rw.* - tmpfs cgroup ' "/proc/$INIT_PID/mountinfo"
	grep -E ' /sys/fs/cgroup/memory rw.* - cgroup cgroup rw.*memory' "/proc/$INIT_PID/mountinfo"
	grep -E ' /sys/fs/cgroup/unified rw.* - cgroup2 ' "/proc/$INIT_PID/mountinfo"
	kill -USR2 "$INIT_PID"
	init_wait_exit
	[ "$INIT_RC" -eq 130 ]
}

@test "SIGPWR powers off" {
	init_start "$BASE"
	wait_for 'fake-sysctr: start'
	kill -PWR "$INIT_PID"
	init_wait_exit
	[ "$INIT_RC" -eq 130 ]
	console_grep 'Power failure: poweroff'
}

@test "ros os boot-time shows the lines sysctr appends and names a bad line" {
	local root=$BATS_TEST_TMPDIR/fakeroot
	mkdir -p "$root/run/ros"
	printf '1500 kernel\n1510 mounts\n1600 sysctr\n1700 service udev up\n' >"$root/run/ros/boot-timeline"
	run "$ROS_BUILD/bin/ros" --root "$root" os boot-time
	[ "$status" -eq 0 ]
	[[ "${lines[3]}" =~ ^service\ udev\ up\ +1700\ ms\ +\+100\ ms$ ]]
	[[ "${lines[4]}" =~ ^total\ +1700\ ms\ +\(init\ to\ last\ stage:\ 200\ ms\)$ ]]
	printf '1500 kernel\nsoon mounts\n' >"$root/run/ros/boot-timeline"
	run "$ROS_BUILD/bin/ros" --root "$root" os boot-time
	[ "$status" -eq 1 ]
	[ "$output" = "ros os boot-time: $root/run/ros/boot-timeline:2: expected '<ms> <stage>', got 'soon mounts'" ]
}

@test "ros os without a running init says why" {
	run "$ROS_BUILD/bin/ros" --root "$BATS_TEST_TMPDIR/nothing" os poweroff
	[ "$status" -eq 1 ]
	[[ "$output" == *"/run/ros/init.pid"*"is ros init running with this root?"* ]]
	run "$ROS_BUILD/bin/ros" os frobnicate
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown subcommand 'frobnicate'"* ]]
}

@test "a second shutdown signal stops waiting for sysctr" {
	init_start "$BASE ros.shutdown.timeout=600 fake.mode=stubborn"
	wait_for 'fake-sysctr: container pid='
	kill -TERM "$INIT_PID"
	wait_for 'stopping sysctr \(pid 2\), up to 600 s'
	wait_for 'fake-sysctr: ignoring SIGTERM'
	kill -USR2 "$INIT_PID"
	init_wait_exit
	[ "$INIT_RC" -eq 129 ] # still the first request: reboot
	console_grep 'no more waiting for sysctr'
	console_grep 'unmounting; reboot'
}
