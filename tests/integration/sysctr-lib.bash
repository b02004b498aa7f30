# Helpers for sysctr.bats: a busybox test root carrying the real sysctr
# (with the shared libraries it links), service images as busybox
# directories, and the real init as PID 1 of a PID + mount namespace.

load init-lib

# copy_with_libs BIN DEST_ROOT DEST_PATH: a dynamic binary and its libraries.
copy_with_libs() {
	local bin=$1 root=$2 dest=$3 lib
	install -D -m 0755 "$bin" "$root$dest"
	for lib in $(ldd "$bin" | grep -oE '/[^ ]+'); do
		[ -e "$root$lib" ] || install -D -m 0755 "$lib" "$root$lib"
	done
}

# sysctr_make_root DIR: init's busybox root + sysctr + ros + a busybox image.
sysctr_make_root() {
	local root=$1
	init_make_root "$root"
	copy_with_libs "$ROS_BUILD/bin/sysctr" "$root" /usr/bin/sysctr
	copy_with_libs "$ROS_BUILD/bin/ros" "$root" /usr/bin/ros
	mkdir -p "$root/usr/share/ros/services" "$root/img/bb/bin" "$root/img/bb"/{proc,sys,dev,tmp,etc,run}
	cp "$(command -v busybox)" "$root/img/bb/bin/busybox"
	ln -s busybox "$root/img/bb/bin/sh"
	ln -s busybox "$root/img/bb/bin/sleep"
}

# services FILE.yml CONTENT: one shipped service file.
services() { printf '%s\n' "$2" >"$ROOT/usr/share/ros/services/$1"; }

# The host path of a file inside the running system.
in_sys() { echo "/proc/$INIT_PID/root$1"; }

# rs ARGS: `ros` run inside the system's root (its socket, its config).
rs() { nsenter -t "$INIT_PID" -p -r /usr/bin/ros "$@"; }

# wait_until CMD...: polls a command for up to 20 s.
wait_until() {
	for _ in $(seq 200); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "never true: $*" >&2
	cat "$CONSOLE" >&2
	return 1
}

# sys_kill ARGS: kill(1) in the system's PID namespace (pids from `ros service ps`).
sys_kill() { nsenter -t "$INIT_PID" -p -r /bin/kill "$@"; }

state_is() { rs service ps | awk -v n="$1" -v s="$2" '$1 == n && $2 == s {f=1} END {exit !f}'; }
