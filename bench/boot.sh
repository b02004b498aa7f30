#!/usr/bin/env bash
# Boot timeline of the ISO under QEMU (BIOS, virtio-scsi CD): host seconds
# from QEMU's start to each serial-console marker, median of N boots
# (default 3), and the ISO's size.
#   bench/boot.sh [ISO] [RUNS]
set -euo pipefail
iso=${1:-build/ros.iso}
runs=${2:-3}
[ -f "$iso" ] || { echo "boot.sh: no ISO at $iso (make iso)" >&2; exit 1; }
markers=("kernel|Linux version 6"
	"init|ros init|init: boot medium"
	"root|init: (started sysctr|started rescue shell)"
	"login|login:")
accel=tcg
[ -w /dev/kvm ] && accel=kvm
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for r in $(seq 1 "$runs"); do
	log=$dir/serial.$r
	: >"$log"
	start=$(date +%s.%N)
	qemu-system-x86_64 -accel "$accel" -m 512 -display none -no-reboot -nic none -monitor none \
		-serial "file:$log" -device virtio-scsi-pci,id=scsi0 -device scsi-cd,drive=cd0,bootindex=0 \
		-drive "id=cd0,if=none,format=raw,media=cdrom,readonly=on,file=$iso" </dev/null >/dev/null 2>&1 &
	pid=$!
	pending=("${markers[@]}")
	deadline=$(echo "$start + 120" | bc)
	while [ ${#pending[@]} -gt 0 ] && [ "$(echo "$(date +%s.%N) < $deadline" | bc)" = 1 ]; do
		left=()
		for m in "${pending[@]}"; do
			if grep -qE "${m#*|}" "$log"; then
				echo "${m%%|*} $(echo "$(date +%s.%N) - $start" | bc)" >>"$dir/times"
			else
				left+=("$m")
			fi
		done
		pending=("${left[@]}")
		# the last marker may never come (no console service yet): stop 10 s after the root is up
		if grep -q '^root ' "$dir/times" 2>/dev/null && [ ${#pending[@]} -eq 1 ] &&
			[ "$(echo "$(date +%s.%N) - $start > $(awk '$1=="root"{t=$2} END{print t}' "$dir/times") + 10" | bc)" = 1 ]; then
			break
		fi
		sleep 0.05
	done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
done
printf 'ros boot (%s, %s runs, medians in s from QEMU start)\n' "$accel" "$runs"
for m in "${markers[@]}"; do
	name=${m%%|*}
	med=$(awk -v n="$name" '$1==n{print $2}' "$dir/times" 2>/dev/null | sort -n | awk '{a[NR]=$1} END{if(NR) printf "%.2f (%d/%s)", a[int((NR+1)/2)], NR, '"$runs"'; else print "not reached"}')
	printf '  %-6s %s\n' "$name" "$med"
done
printf '  ISO size: %s bytes (%s)\n' "$(stat -c %s "$iso")" "$(du -h "$iso" | cut -f1)"
