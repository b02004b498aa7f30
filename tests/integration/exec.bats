#!/usr/bin/env bats
# roci exec: a second process in a running container.

load ../lib/ctr

setup() {
	ctr_setup
	set_args sleep 1000
	roci run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
}
teardown() { ctr_teardown; }

@test "exec runs in the container's namespaces and cgroup with --env and --cwd" {
	run roci exec --env FOO=bar --cwd /tmp "$ID" sh -c 'echo "$$ $FOO"; pwd; readlink /proc/self/ns/pid; readlink /proc/self/ns/mnt; ls /bin/busybox'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" != "1 bar" ]
	[[ "${lines[0]}" == *" bar" ]]
	[ "${lines[1]}" = /tmp ]
	pid=$(roci state "$ID" | jq .pid)
	[ "${lines[2]}" = "$(readlink /proc/$pid/ns/pid)" ]
	[ "${lines[3]}" = "$(readlink /proc/$pid/ns/mnt)" ]
	[ "${lines[4]}" = /bin/busybox ]
}

@test "exec returns the process's exit status" {
	run roci exec "$ID" sh -c 'exit 5'
	[ "$status" -eq 5 ]
}

@test "exec --user and --process" {
	run roci exec --user 1000:1001 "$ID" id
	[ "$output" = "uid=1000 gid=1001" ]
	echo '{"args": ["sh", "-c", "echo $X; pwd"], "env": ["X=y"], "cwd": "/bin", "user": {"uid": 7, "gid": 8}}' >"$BUNDLE/p.json"
	run roci exec --process "$BUNDLE/p.json" "$ID"
	[ "$output" = $'y\n/bin' ]
}

@test "exec -d with a pid file: the process is in the container and ps shows it" {
	roci exec -d --pid-file "$STATE/p" "$ID" sleep 100
	p=$(cat "$STATE/p")
	[ -d "/proc/$p" ]
	run roci ps --format json "$ID"
	[[ "$output" == *"$p"* ]]
}

@test "exec of a missing program fails with a message; exec on an unknown id fails" {
	run roci exec "$ID" /nope
	[ "$status" -ne 0 ]
	[[ "$output" == *"exec"*"No such file"* ]]
	run roci exec nosuch true
	[ "$status" -ne 0 ]
	[[ "$output" == *"does not exist"* ]]
}

@test "exec on a stopped container fails" {
	roci kill "$ID" KILL
	for _ in $(seq 50); do [ "$(roci state "$ID" | jq -r .status)" = stopped ] && break; sleep 0.1; done
	run roci exec "$ID" true
	[ "$status" -ne 0 ]
	[[ "$output" == *stopped* ]]
}
