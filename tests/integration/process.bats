#!/usr/bin/env bats
# roci: process (user, groups, umask, env, cwd) and the device nodes
# (devices.bats: the device rules on cgroup v1 and v2).

load ../lib/ctr

setup() { ctr_setup; }
teardown() { ctr_teardown; }

@test "process.user sets uid, gid and additional gids; umask applies" {
	set_config '.process.user = {"uid": 1000, "gid": 1001, "additionalGids": [2000, 2001], "umask": 63}'
	set_args sh -c 'id; umask'
	run roci run --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[[ "$output" == *"uid=1000 gid=1001 groups=2000,2001"* ]]
	[[ "$output" == *"0077"* ]]
}


@test "process.env and process.cwd" {
	set_config '.process.env = ["PATH=/bin", "FOO=bar baz"] | .process.cwd = "/tmp"'
	set_args sh -c 'echo "$FOO"; pwd'
	run roci run --bundle "$BUNDLE" "$ID"
	[ "$output" = $'bar baz\n/tmp' ]
}


@test "the default devices exist and others do not" {
	set_args sh -c 'ls /dev; echo x > /dev/null && echo null-ok'
	run roci run --bundle "$BUNDLE" "$ID"
	for d in null zero full random urandom tty ptmx pts shm mqueue fd stdin; do
		[[ "$output" == *"$d"* ]]
	done
	[[ "$output" == *null-ok* ]]
	[[ "$output" != *sda* ]]
}


@test "linux.devices creates a device node with its mode" {
	set_config '.linux.devices = [{"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 384, "uid": 0, "gid": 0}]'
	set_args sh -c 'stat -c "%a %t %T" /dev/mynull; echo x > /dev/mynull && echo ok'
	run roci run --bundle "$BUNDLE" "$ID"
	[ "${lines[0]}" = "600 1 3" ]
	[ "${lines[1]}" = ok ]
}

@test "process.scheduler sets the policy and nice of the process; bad values are named" {
	# field 19 of /proc/self/stat: nice; field 41: policy (3: SCHED_BATCH, 5: SCHED_IDLE)
	set_config '.process.scheduler = {"policy": "SCHED_BATCH", "nice": 7}'
	set_args sh -c 'cut -d" " -f19,41 /proc/self/stat'
	run roci run --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[ "$output" = "7 3" ]
	# what the runtime itself runs at does not leak into the container
	set_config '.process.scheduler = {"policy": "SCHED_OTHER", "nice": 0}'
	run nice -n 5 "$ROCI" --root "$STATE" run --bundle "$BUNDLE" "$ID-2"
	[ "$output" = "0 0" ]
	set_config '.process.scheduler = {"policy": "SCHED_DEADLINE", "runtime": 1000}'
	run roci run --bundle "$BUNDLE" "$ID-3"
	[ "$status" -ne 0 ]
	[[ "$output" == *"process.scheduler.policy: not supported"* ]]
	set_config '.process.scheduler = {"policy": "SCHED_OTHER", "nice": 30}'
	run roci run --bundle "$BUNDLE" "$ID-4"
	[ "$status" -ne 0 ]
	[[ "$output" == *"process.scheduler.nice: 30 is outside -20..19"* ]]
}
