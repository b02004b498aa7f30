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

@test "exec -t: the process runs on a pty sent to the console socket and its exit status comes back" {
	sock="$BUNDLE/console.sock"
	console_receiver "$sock" "$BUNDLE/console.out"
	run roci exec -t --console-socket "$sock" "$ID" sh -c 'tty; test -t 0 && test -t 1 && test -t 2 && echo all-tty; exit 3'
	wait
	[ "$status" -eq 3 ]
	grep -q '^/dev/pts/[0-9]' "$BUNDLE/console.out"
	grep -q all-tty "$BUNDLE/console.out"
}

@test "exec -t: the pty is the controlling terminal of the process's own session" {
	sock="$BUNDLE/console.sock"
	console_receiver "$sock" "$BUNDLE/console.out"
	# /proc/PID/stat: pid, comm, state, ppid, pgrp, session, tty_nr
	roci exec --tty --console-socket "$sock" "$ID" sh -c 'read -r l </proc/$$/stat; set -- $l; echo "pid=$1 sid=$6 tty=$7"'
	wait
	read -r pid sid tty < <(tr -d '\r' <"$BUNDLE/console.out")
	[ "${sid#sid=}" = "${pid#pid=}" ]
	[ "${tty#tty=}" != 0 ]
}

@test "exec -t: input written to the pty master reaches the process" {
	sock="$BUNDLE/console.sock"
	console_receiver "$sock" "$BUNDLE/console.out" $'hello\n'
	roci exec -t --console-socket "$sock" "$ID" sh -c 'read -r l; echo "got:$l"'
	wait
	grep -q 'got:hello' "$BUNDLE/console.out"
}

@test "exec --process with terminal true runs the process on a pty" {
	sock="$BUNDLE/console.sock"
	console_receiver "$sock" "$BUNDLE/console.out"
	echo '{"terminal": true, "args": ["sh", "-c", "test -t 0 && echo on-a-tty"], "cwd": "/"}' >"$BUNDLE/p.json"
	run roci exec --console-socket "$sock" --process "$BUNDLE/p.json" "$ID"
	wait
	[ "$status" -eq 0 ]
	grep -q on-a-tty "$BUNDLE/console.out"
}

@test "exec -t without --console-socket fails with a clear message and starts nothing" {
	run roci exec -t "$ID" sh -c 'echo ran >/tmp/ran'
	[ "$status" -ne 0 ]
	[[ "$output" == *"--console-socket"* ]]
	[ ! -e "$BUNDLE/rootfs/tmp/ran" ]
	echo '{"terminal": true, "args": ["true"], "cwd": "/"}' >"$BUNDLE/p.json"
	run roci exec --process "$BUNDLE/p.json" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"--console-socket"* ]]
}

@test "exec -t with a console socket nobody listens on fails and leaves no process behind" {
	run roci exec -t --console-socket "$BUNDLE/nobody.sock" "$ID" sleep 100
	[ "$status" -ne 0 ]
	[[ "$output" == *"console socket $BUNDLE/nobody.sock"* ]]
	run roci ps --format json "$ID"
	[ "$(echo "$output" | jq length)" -eq 1 ]
}

@test "exec without -t keeps the caller's stdio, not a terminal" {
	run roci exec "$ID" sh -c 'test -t 0 || echo no-tty' </dev/null
	[ "$output" = no-tty ]
}
