#!/bin/bash
# bench/runtime.sh [N]: start-to-exit time of `RUNTIME run` on /bin/true for
# roci, crun and runc, side by side (median of N single runs, and the total
# of 100 sequential runs), on the same busybox bundle, each inside
# the same private mount namespace with the cgroup2 mount detached (crun
# refuses the v1 hybrid otherwise).  Prints the median and the ratio to crun,
# and the peak RSS of the runtime process.
# Needs root, busybox, jq; ROS_BUILD (default build) for roci.
set -euo pipefail
N=${1:-30}
SRC=$(cd "$(dirname "$0")/.." && pwd)
ROS_BUILD=${ROS_BUILD:-$SRC/build}
export ROS_BUILD
# shellcheck source=tests/lib/ctr.bash
source "$SRC/tests/lib/ctr.bash"
BUNDLE=$(mktemp -d)
trap 'rm -rf "$BUNDLE"' EXIT
make_bundle "$BUNDLE"
set_args /bin/true

inner() {
	# runs in the private mount namespace: $1 runtime path, $2 N, $3 bundle
	local rt=$1 n=$2 b=$3 st i t0 t1
	mount --make-rprivate /
	umount /sys/fs/cgroup/unified 2>/dev/null || true
	st=$(mktemp -d -p /run) # tmpfs, the runtimes' default state place
	for ((i = 0; i < n; i++)); do
		t0=$(date +%s%N)
		"$rt" --root "$st" run --bundle "$b" "b$$-$i" >/dev/null
		t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000))
	done
	# 100 sequential runs, total wall time (ms)
	t0=$(date +%s%N)
	for ((i = 0; i < 100; i++)); do
		"$rt" --root "$st" run --bundle "$b" "s$$-$i" >/dev/null
	done
	t1=$(date +%s%N)
	echo "seq100 $(((t1 - t0) / 1000000))"
	# peak RSS (KiB) of one run
	/usr/bin/time -f 'rss %M' "$rt" --root "$st" run --bundle "$b" "b$$-rss" 2>&1 >/dev/null | grep '^rss'
	rm -rf "$st"
}
export -f inner

median() { sort -n | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print int((a[NR/2]+a[NR/2+1])/2)}'; }

declare -A med rss seq
for rt in "$ROS_BUILD/bin/roci" "$(command -v crun || true)" "$(command -v runc || true)"; do
	if [ -z "$rt" ] || [ ! -x "$rt" ]; then continue; fi
	name=$(basename "$rt")
	out=$(unshare -m bash -c "inner '$rt' $N '$BUNDLE'")
	med[$name]=$(grep -v '^rss\|^seq100' <<<"$out" | median)
	seq[$name]=$(awk '/^seq100/ {print $2}' <<<"$out")
	rss[$name]=$(awk '/^rss/ {print $2}' <<<"$out")
done
printf '%-6s %12s %10s %14s %12s\n' runtime median_ms vs_crun 100_seq_ms peak_rss_KiB
for name in roci crun runc; do
	[ -n "${med[$name]:-}" ] || continue
	ratio=-
	[ -n "${med[crun]:-}" ] && ratio=$(awk -v a="${med[$name]}" -v b="${med[crun]}" 'BEGIN {printf "%.2f", a / b}')
	printf '%-6s %12.2f %10s %14s %12s\n' "$name" "$(awk -v u="${med[$name]}" 'BEGIN {print u / 1000}')" "$ratio" \
		"${seq[$name]}" "${rss[$name]}"
done
