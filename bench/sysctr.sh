#!/bin/bash
# bench/sysctr.sh [N]: N (default 20) trivial system services (busybox
# `sleep`, a directory image) brought up by the real init + sysctr, in a PID
# + mount namespace with a busybox root (the harness of
# tests/integration/sysctr.bats), measured from the boot timeline:
#
#   sysctr_up_ms      sysctr started (init's timeline line) -> last service up
#   sysctr_rss_kib    VmRSS of sysctr with the N services running
#   init_rss_kib      VmRSS of init (PID 1) at the same moment
#
# Side by side: the same N containers started by a shell loop of
# `crun run --detach` and `runc run --detach` on one busybox bundle (the
# peers have no supervisor; this is the floor they would start from).
# Targets: sysctr_up_ms <= 200 for 20 services, sysctr_rss_kib <= 4096.
#
# usage: bench/sysctr.sh [N]     (root; ROS_BUILD, default build/)
set -euo pipefail
N=${1:-20}
src=$(cd "$(dirname "$0")/.." && pwd)
ROS_BUILD=$(cd "${ROS_BUILD:-$src/build}" && pwd)
export ROS_SRC=$src ROS_BUILD
[ -x "$ROS_BUILD/bin/sysctr" ] || { echo "sysctr.sh: no $ROS_BUILD/bin/sysctr: run make first" >&2; exit 1; }
BATS_TEST_TMPDIR=$(mktemp -d /tmp/ros-bench-sysctr.XXXXXX)
export BATS_TEST_TMPDIR
# shellcheck disable=SC1090 # bats' load, for sysctr-lib's `load init-lib`
load() { . "$src/tests/integration/$1.bash"; }
# shellcheck source=tests/integration/sysctr-lib.bash
. "$src/tests/integration/sysctr-lib.bash"
cleanup() {
	init_cleanup
	for d in /sys/fs/cgroup/*/sysctr; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	rm -rf "$BATS_TEST_TMPDIR"
}
trap cleanup EXIT

ROOT=$BATS_TEST_TMPDIR/root
sysctr_make_root "$ROOT"
for i in $(seq "$N"); do
	printf 's%02d:\n  image: /img/bb\n  command: ["sleep", "1000"]\n' "$i"
done >"$ROOT/usr/share/ros/services/bench.yml"
init_start "ros.root=$ROOT ros.state=none ros.cgroup=v1"
last=$(printf 's%02d' "$N")
for _ in $(seq 400); do
	[ "$(grep -c ' service s[0-9]* up$' "$(in_sys /run/ros/boot-timeline)" 2>/dev/null)" = "$N" ] && break
	sleep 0.05
done
tl=$(in_sys /run/ros/boot-timeline)
grep -q " service $last up" "$tl" || { echo "sysctr.sh: services never all came up" >&2; cat "$CONSOLE" >&2; exit 1; }
sleep 0.5
up_ms=$(awk '$2 == "sysctr" && !s {s = $1} $2 == "service" {l = $1} END {print l - s}' "$tl")
spid=$(awk '{print $1}' "/proc/$INIT_PID/task/$INIT_PID/children" | while read -r p; do
	[ "$(cat "/proc/$p/comm" 2>/dev/null)" = sysctr ] && echo "$p"; done | head -1)
sysctr_rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$spid/status")
init_rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$INIT_PID/status")

# The peers: N detached containers from a shell loop.
peer() { # RUNTIME: prints ms for N `run --detach`
	local rt=$1 b st t0 t1 i
	b=$BATS_TEST_TMPDIR/bundle
	st=$(mktemp -d -p /run)
	t0=$(date +%s%N)
	for i in $(seq "$N"); do
		"$rt" --root "$st" run --detach --bundle "$b" "bench$$-$i" >/dev/null 2>&1 </dev/null
	done
	t1=$(date +%s%N)
	for i in $(seq "$N"); do
		"$rt" --root "$st" delete --force "bench$$-$i" >/dev/null 2>&1 || true
	done
	rm -rf "$st"
	echo $(((t1 - t0) / 1000000))
}
export -f peer
export N BATS_TEST_TMPDIR
ROCI=$ROS_BUILD/bin/roci
export ROCI
# shellcheck source=tests/lib/ctr.bash
. "$src/tests/lib/ctr.bash"
BUNDLE=$BATS_TEST_TMPDIR/bundle
make_bundle "$BUNDLE"
set_config '.process.args = ["sleep", "1000"]'

printf '%-28s %10s %14s\n' "who ($N containers)" up_ms rss_KiB
printf '%-28s %10s %14s\n' "ros init + sysctr" "$up_ms" "$sysctr_rss (init $init_rss)"
for rt in "$ROCI" "$(command -v crun || true)" "$(command -v runc || true)"; do
	if [ -z "$rt" ] || [ ! -x "$rt" ]; then continue; fi
	# crun refuses the v1 hybrid with cgroup2 at /sys/fs/cgroup/unified
	ms=$(unshare -m bash -c "mount --make-rprivate /; umount /sys/fs/cgroup/unified 2>/dev/null || true; peer '$rt'")
	printf '%-28s %10s %14s\n' "$(basename "$rt") run -d loop" "$ms" -
done
echo "sysctr_up_ms $up_ms"
echo "sysctr_rss_kib $sysctr_rss"
echo "init_rss_kib $init_rss"
