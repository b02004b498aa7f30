# Helpers for init.bats: a busybox test root, and the real init run as PID 1
# in its own PID and mount namespaces with ROS_CMDLINE as its command line.

# init_make_root DIR: busybox, the fake sysctr, a mkfs.ext4 for autoformat.
init_make_root() {
	local root=$1 applet
	mkdir -p "$root"/{bin,sbin,usr/bin,etc,proc,sys,dev,run,tmp,var/lib,home,opt,root}
	cp "$(command -v busybox)" "$root/bin/busybox"
	for applet in $("$root/bin/busybox" --list); do
		[ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
	done
	cp "$ROS_SRC/tests/integration/init-fake-sysctr.sh" "$root/usr/bin/sysctr"
	printf '#!/bin/sh\nexec /bin/busybox mke2fs "$@"\n' >"$root/sbin/mkfs.ext4"
	chmod 755 "$root/usr/bin/sysctr" "$root/sbin/mkfs.ext4"
}

# init_start CMDLINE [STDIN]: starts init; sets INIT_PID (host pid of init),
# UNSHARE_PID and CONSOLE (init's console output).
init_start() {
	CONSOLE=$BATS_TEST_TMPDIR/console.log
	: >"$CONSOLE"
	ROS_CMDLINE="$1" unshare --pid --fork --mount --propagation private \
		"$ROS_BUILD/bin/init" <"${2:-/dev/null}" >>"$CONSOLE" 2>&1 &
	UNSHARE_PID=$!
	INIT_PID=
	for _ in $(seq 100); do
		INIT_PID=$(awk '{print $1}' "/proc/$UNSHARE_PID/task/$UNSHARE_PID/children" 2>/dev/null)
		[ -n "$INIT_PID" ] && break
		sleep 0.05
	done
	[ -n "$INIT_PID" ]
}

# wait_for PATTERN [SECONDS]: until the console shows an extended regex.
wait_for() {
	for _ in $(seq $((${2:-10} * 20))); do
		grep -Eq -- "$1" "$CONSOLE" && return 0
		sleep 0.05
	done
	echo "console never showed: $1" >&2
	cat "$CONSOLE" >&2
	return 1
}

# init_wait_exit: waits for the namespace to end; sets INIT_RC (unshare
# re-raises the signal init died of: 129 SIGHUP = reboot, 130 SIGINT =
# poweroff or halt).
# shellcheck disable=SC2034 # INIT_RC is read by the tests
init_wait_exit() {
	for _ in $(seq 300); do
		kill -0 "$UNSHARE_PID" 2>/dev/null || break
		sleep 0.05
	done
	INIT_RC=0
	wait "$UNSHARE_PID" || INIT_RC=$?
	UNSHARE_PID=
}

init_cleanup() {
	if [ -n "${UNSHARE_PID:-}" ]; then
		[ -n "${INIT_PID:-}" ] && kill -9 "$INIT_PID" 2>/dev/null
		wait "$UNSHARE_PID" 2>/dev/null || true
	fi
	UNSHARE_PID=
}

# The host pids of init's children.
init_children() {
	cat "/proc/$INIT_PID/task/$INIT_PID/children" 2>/dev/null
}
