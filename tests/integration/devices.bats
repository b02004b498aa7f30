#!/usr/bin/env bats
# linux.resources.devices on cgroup v2: the BPF device program roci attaches
# to the container's cgroup.  On a v1 hybrid host roci runs in a private
# mount namespace where /sys/fs/cgroup is the host's cgroup2 hierarchy
# (/sys/fs/cgroup/unified); the container's v1 cgroups are then the
# caller's, so what is denied is denied by the program.
#
# /dev/kmsg (c 1:11) is in no default rule.  It reaches the container as a
# bind mount: a node listed in linux.devices is allowed after the rules.
# The process gets CAP_SYSLOG, so with kernel.dmesg_restrict the driver
# does not refuse the open itself and an EPERM is the device rules' doing.

load ../lib/ctr

cgroup2fs() { [ "$(stat -f -c %T "$1" 2>/dev/null)" = cgroup2fs ]; }

setup() {
	ctr_setup
	if cgroup2fs /sys/fs/cgroup; then
		CG2=/sys/fs/cgroup
	elif cgroup2fs /sys/fs/cgroup/unified; then
		CG2=/sys/fs/cgroup/unified
	else
		CG2=
	fi
	# one level, so the container's directory is all there is to remove
	CGPATH="/roci-bats-devices-$ID"
	set_config ".linux.cgroupsPath = \"$CGPATH\"
		| .mounts += [{\"destination\": \"/dev/kmsg\", \"type\": \"bind\", \"source\": \"/dev/kmsg\", \"options\": [\"bind\"]}]
		| .process.capabilities |= with_entries(.value += [\"CAP_SYSLOG\"])"
}

teardown() {
	local id
	for id in $("$ROCI" --root "$STATE" list -q 2>/dev/null); do
		roci_v2 delete --force "$id" >/dev/null 2>&1 || true
	done
	[ -z "$CG2" ] || rmdir "$CG2$CGPATH" 2>/dev/null || true
	ctr_teardown
}

# roci_v2 ARGS...: roci where /sys/fs/cgroup is cgroup2
roci_v2() {
	if cgroup2fs /sys/fs/cgroup; then
		roci "$@"
	else
		unshare -m sh -c 'mount --make-rprivate / && mount --bind /sys/fs/cgroup/unified /sys/fs/cgroup && exec "$@"' \
			sh "$ROCI" --root "$STATE" "$@"
	fi
}

need_v2() {
	[ "$(id -u)" = 0 ] || skip "needs root (BPF_PROG_LOAD, mount namespace)"
	[ -n "$CG2" ] || skip "no cgroup2 hierarchy at /sys/fs/cgroup or /sys/fs/cgroup/unified"
	[ -c /dev/kmsg ] || skip "no /dev/kmsg"
}

# run_v2: `roci run` of the bundle on cgroup v2 into $status/$output; skips
# when the kernel cannot load or attach a device program
run_v2() {
	run roci_v2 run --bundle "$BUNDLE" "$ID"
	case "$output" in
	*"load the cgroup device program"* | *"attach the cgroup device program"*) skip "$output" ;;
	esac
}

rules() {
	set_config ".linux.resources.devices = $1"
}

@test "on cgroup v2 a device the rules do not allow is denied with EPERM while /dev/null opens" {
	need_v2
	rules '[{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"}]'
	set_args sh -c 'head -c1 /dev/kmsg >/dev/null && echo kmsg-opened; echo x >/dev/null && echo null-ok; cat /proc/self/cgroup'
	run_v2
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"/dev/kmsg: Operation not permitted"* ]]
	[[ "$output" != *kmsg-opened* ]]
	[[ "$output" == *null-ok* ]]
	# it ran in the cgroup2 directory, the root of its cgroup namespace
	# (made after the move, as runc does)
	[[ "$output" == *"0::/"$'\n'* ]] || [[ "$output" == *"0::/" ]]
}

@test "on cgroup v2 a device the rules allow opens" {
	need_v2
	rules '[{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "rw"}]'
	set_args sh -c 'head -c1 /dev/kmsg >/dev/null && echo kmsg-read; (: >/dev/kmsg) && echo kmsg-opened-for-writing'
	run_v2
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *kmsg-read* ]]
	[[ "$output" == *kmsg-opened-for-writing* ]]
}

@test "on cgroup v2 an access the rules leave out is denied: read allowed, write not" {
	need_v2
	rules '[{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "r"}]'
	set_args sh -c 'head -c1 /dev/kmsg >/dev/null && echo kmsg-read; (: >/dev/kmsg) && echo kmsg-opened-for-writing'
	run_v2
	echo "$output"
	[[ "$output" == *kmsg-read* ]]
	[[ "$output" == *"/dev/kmsg: Operation not permitted"* ]]
	[[ "$output" != *kmsg-opened-for-writing* ]]
}

@test "on cgroup v2 the last matching rule wins" {
	need_v2
	rules '[{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "rwm"}, {"allow": false, "type": "c", "major": 1, "access": "w"}]'
	set_args sh -c 'head -c1 /dev/kmsg >/dev/null && echo kmsg-read; (: >/dev/kmsg) && echo kmsg-opened-for-writing'
	run_v2
	echo "$output"
	[[ "$output" == *kmsg-read* ]]
	[[ "$output" == *"/dev/kmsg: Operation not permitted"* ]]
	[[ "$output" != *kmsg-opened-for-writing* ]]
}

@test "on cgroup v2 a device in linux.devices is allowed after the rules, as on v1" {
	need_v2
	rules '[{"allow": false, "access": "rwm"}]'
	set_config '.linux.devices = [{"path": "/dev/kmsg2", "type": "c", "major": 1, "minor": 11}]'
	# the rule is for the number: the bound /dev/kmsg (1:11 too) opens as well
	set_args sh -c 'head -c1 /dev/kmsg2 >/dev/null && echo kmsg2-read; head -c1 /dev/kmsg >/dev/null && echo kmsg-read'
	run_v2
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *kmsg2-read* ]]
	[[ "$output" == *kmsg-read* ]]
}

@test "on cgroup v2 the default rules allow mknod of any device but not opening it" {
	need_v2
	rules '[{"allow": false, "access": "rwm"}]'
	ln -sf busybox "$BUNDLE/rootfs/bin/mknod"
	set_config '.process.capabilities |= with_entries(.value += ["CAP_MKNOD"])'
	set_args sh -c 'mknod /dev/k c 1 11 && echo mknod-ok; head -c1 /dev/k'
	run_v2
	echo "$output"
	[[ "$output" == *mknod-ok* ]]
	[[ "$output" == *"/dev/k: Operation not permitted"* ]]
}

@test "on cgroup v2 the container's cgroup goes with it" {
	need_v2
	rules '[{"allow": false, "access": "rwm"}]'
	set_args true
	run_v2
	[ "$status" -eq 0 ]
	[ ! -e "$CG2$CGPATH" ]
	# and create/delete: the directory held the program until delete
	set_args sleep 100
	roci_v2 create --bundle "$BUNDLE" "$ID"
	[ -d "$CG2$CGPATH" ]
	roci_v2 delete --force "$ID"
	[ ! -e "$CG2$CGPATH" ]
}

@test "on cgroup v1 the same rules deny the device (the devices controller)" {
	[ "$(id -u)" = 0 ] || skip "needs root"
	! cgroup2fs /sys/fs/cgroup || skip "the host has cgroup v2 only"
	[ -d /sys/fs/cgroup/devices ] || skip "no v1 devices hierarchy"
	[ -c /dev/kmsg ] || skip "no /dev/kmsg"
	rules '[{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "r"}]'
	set_args sh -c 'head -c1 /dev/kmsg >/dev/null && echo kmsg-read; (: >/dev/kmsg) && echo kmsg-opened-for-writing; echo x >/dev/null && echo null-ok'
	run roci run --bundle "$BUNDLE" "$ID"
	echo "$output"
	[[ "$output" == *kmsg-read* ]]
	[[ "$output" == *"/dev/kmsg: Operation not permitted"* ]]
	[[ "$output" != *kmsg-opened-for-writing* ]]
	[[ "$output" == *null-ok* ]]
	[ ! -e "/sys/fs/cgroup/devices$CGPATH" ]
}
