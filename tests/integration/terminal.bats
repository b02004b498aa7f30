#!/usr/bin/env bats
# roci: process.terminal and --console-socket.

load ../lib/ctr

setup() { ctr_setup; }
teardown() { ctr_teardown; }


@test "terminal: the pty master is sent to the console socket" {
	sock="$BUNDLE/console.sock"
	python3 - "$sock" >"$BUNDLE/console.out" 2>&1 <<'PY' &
import socket, sys, array, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
fds = array.array("i")
msg, anc, flags, addr = c.recvmsg(16, socket.CMSG_LEN(4))
for level, typ, data in anc:
    fds.frombytes(data[:4])
m = fds[0]
out = b""
while True:
    try:
        d = os.read(m, 1024)
    except OSError:
        break
    if not d:
        break
    out += d
print(out.decode(errors="replace"))
PY
	for _ in $(seq 30); do [ -S "$sock" ] && break; sleep 0.1; done
	set_config '.process.terminal = true'
	set_args sh -c 'tty; echo via-pty'
	roci create --bundle "$BUNDLE" --console-socket "$sock" "$ID"
	roci start "$ID"
	wait
	grep -q '/dev/pts/0' "$BUNDLE/console.out"
	grep -q via-pty "$BUNDLE/console.out"
}
