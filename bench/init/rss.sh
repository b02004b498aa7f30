#!/bin/bash
# Memory of ros init (PID 1), measured on the real static binary running as
# PID 1 of a PID + mount namespace with a busybox root and the test's fake
# sysctr (the harness of tests/integration/init.bats).  Prints one line per
# figure, "name value unit", for bench/sysctr.sh and friends to fold in:
#
#   init_rss_kib 1008        VmRSS after boot, sysctr running
#   init_hwm_kib 1016        VmHWM (peak) so far
#   init_anon_kib 60         RssAnon: what init itself allocated
#   init_file_kib 948        RssFile: pages of the static binary mapped
#   init_boot_ms 2           init start to sysctr started (boot-timeline)
#
# Any running init can be measured the same way: grep VmRSS /proc/PID/status
# (PID 1 inside the VM; from the host of a test, the pid in
# ROOT/run/ros/init.pid).  Target: init_rss_kib <= 1024.
#
# usage: bench/init/rss.sh [BUILD_DIR]     (root; default build/)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
ROS_BUILD=$(cd "${1:-$src/build}" && pwd)
export ROS_SRC=$src ROS_BUILD
[ -x "$ROS_BUILD/bin/init" ] || { echo "rss.sh: no $ROS_BUILD/bin/init: build it first" >&2; exit 1; }
BATS_TEST_TMPDIR=$(mktemp -d /tmp/ros-bench-init.XXXXXX)
export BATS_TEST_TMPDIR
# shellcheck source=tests/integration/init-lib.bash
. "$src/tests/integration/init-lib.bash"
trap 'init_cleanup; rm -rf "$BATS_TEST_TMPDIR"' EXIT
init_make_root "$BATS_TEST_TMPDIR/root"
init_start "ros.root=$BATS_TEST_TMPDIR/root ros.state=none"
wait_for 'fake-sysctr: container pid=' >/dev/null
sleep 0.5
status=/proc/$INIT_PID/status
awk '/^VmRSS:/ {print "init_rss_kib", $2} /^VmHWM:/ {print "init_hwm_kib", $2}
     /^RssAnon:/ {print "init_anon_kib", $2} /^RssFile:/ {print "init_file_kib", $2}' "$status"
awk '$2 == "kernel" {k = $1} $2 == "sysctr" {print "init_boot_ms", $1 - k}' \
	"/proc/$INIT_PID/root/run/ros/boot-timeline"
kill -USR2 "$INIT_PID"
init_wait_exit
