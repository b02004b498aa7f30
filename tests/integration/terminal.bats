#!/usr/bin/env bats
# roci: process.terminal and --console-socket.

load ../lib/ctr

setup() { ctr_setup; }
teardown() { ctr_teardown; }

@test "terminal: the pty master is sent to the console socket and the process runs on the pty" {
	sock="$BUNDLE/console.sock"
	console_receiver "$sock" "$BUNDLE/console.out"
	set_config '.process.terminal = true'
	set_args sh -c 'tty; test -t 0 && test -t 1 && test -t 2 && echo all-three-ttys; echo via-pty'
	roci create --bundle "$BUNDLE" --console-socket "$sock" "$ID"
	roci start "$ID"
	wait
	cat "$BUNDLE/console.out"
	grep -q '/dev/pts/0' "$BUNDLE/console.out"
	grep -q all-three-ttys "$BUNDLE/console.out"
	grep -q via-pty "$BUNDLE/console.out"
}

@test "terminal: what is written to the master reaches the process as its input" {
	sock="$BUNDLE/console.sock"
	console_receiver "$sock" "$BUNDLE/console.out" $'typed-line\n'
	set_config '.process.terminal = true'
	set_args sh -c 'read -r l; echo "got:$l"'
	roci create --bundle "$BUNDLE" --console-socket "$sock" "$ID"
	roci start "$ID"
	wait
	grep -q 'got:typed-line' "$BUNDLE/console.out"
}
