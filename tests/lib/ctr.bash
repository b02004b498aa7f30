# Shared set-up for the runtime tests: a busybox-static rootfs and a bundle.
# shellcheck shell=bash

ROCI="$ROS_BUILD/bin/roci"

# make_bundle DIR: DIR/rootfs (busybox) and DIR/config.json (roci spec, no tty)
make_bundle() {
	local b=$1
	mkdir -p "$b/rootfs/bin" "$b/rootfs/tmp" "$b/rootfs/etc"
	cp /bin/busybox "$b/rootfs/bin/busybox"
	local c
	for c in sh true false echo cat ls id hostname sleep ps mount grep mkdir touch stat readlink ulimit head \
		wc tr sed dd kill printf env pwd; do
		ln -sf busybox "$b/rootfs/bin/$c"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$b/rootfs/etc/passwd"
	(cd "$b" && "$ROCI" spec)
	set_config '.process.terminal = false | .root.readonly = false'
}

# set_config JQ-EXPR: edits $BUNDLE/config.json
set_config() {
	local tmp
	tmp=$(mktemp)
	jq "$1" "$BUNDLE/config.json" >"$tmp" && mv "$tmp" "$BUNDLE/config.json"
}

# set_args ARG...: the container's process.args
set_args() {
	local json
	json=$(printf '%s\n' "$@" | jq -R . | jq -s .)
	set_config ".process.args = $json"
}

roci() {
	"$ROCI" --root "$STATE" "$@"
}

ctr_setup() {
	BUNDLE=$(mktemp -d)
	STATE=$(mktemp -d)
	make_bundle "$BUNDLE"
	ID="t$$-$RANDOM"
}

ctr_teardown() {
	local id
	for id in $("$ROCI" --root "$STATE" list -q 2>/dev/null); do
		"$ROCI" --root "$STATE" delete --force "$id" >/dev/null 2>&1 || true
	done
	rm -rf "$BUNDLE" "$STATE"
}

# console_receiver SOCK OUT [INPUT]: listens on the unix socket SOCK in the
# background, receives one pty master sent over it with SCM_RIGHTS (runc's
# --console-socket protocol), writes INPUT to the master, and copies what
# the pty prints to OUT until it hangs up.  Returns once SOCK listens;
# `wait` for the receiver.  It gives up after 60 s.
console_receiver() {
	python3 - "$1" "${3-}" >"$2" 2>&1 3>&- <<'PY' &
import array, os, signal, socket, sys
signal.alarm(60)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
# listening before the name appears: a connect never meets a bound, deaf socket
s.bind(sys.argv[1] + ".tmp")
s.listen(1)
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
c, _ = s.accept()
fds = array.array("i")
msg, anc, flags, addr = c.recvmsg(16, socket.CMSG_LEN(4))
for level, typ, data in anc:
    fds.frombytes(data[:4])
m = fds[0]
if sys.argv[2]:
    os.write(m, sys.argv[2].encode())
out = b""
while True:
    try:
        d = os.read(m, 1024)
    except OSError:
        break
    if not d:
        break
    out += d
sys.stdout.write(out.decode(errors="replace"))
PY
	local _
	for _ in $(seq 50); do [ -S "$1" ] && return 0; sleep 0.1; done
	return 1
}
