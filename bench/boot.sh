#!/usr/bin/env bash
# Boot figures of the ISO under QEMU (BIOS, the VM tests' machine: TCG
# unless KVM really works), median of N boots (default 3):
#   - the boot timeline from /run/ros/boot-timeline (guest monotonic ms):
#     kernel -> init, init's stages, each service up, and "all up", the
#     last service up measured from init's start;
#   - host seconds from QEMU's start to the `login:` prompt on ttyS0;
#   - the host's steal time during each boot (ms, all host CPUs, from
#     /proc/stat). On a shared host emulation speed varies by a third and
#     more from hour to hour, with or without steal: kernel -> init, which
#     runs no ros code, shows how fast the host is right now, and builds
#     are compared by interleaving their boots;
#   - RAM in use after boot (free: used, MiB), and the sizes of the ISOs
#     (cloud kernel: ros.iso, the one booted; generic kernel:
#     ros-generic.iso, when `make iso KERNEL=generic` has built it), of
#     what each holds, the root and each system image.
# Targets (TCG, cloud kernel): all services up <= 1 s after init starts;
# ISO <= 40 MiB with the generic kernel.
#   bench/boot.sh [RUNS]        (ROS_BUILD: build dir with ros.iso)
set -euo pipefail
runs=${1:-3}
src=$(cd "$(dirname "$0")/.." && pwd)
ROS_BUILD=$(cd "${ROS_BUILD:-$src/build}" && pwd)
export ROS_BUILD
skip() { echo "boot.sh: $*" >&2; exit 1; }
# shellcheck source=tests/vm/lib.bash
. "$src/tests/vm/lib.bash"
vm_require
work=$(mktemp -d)
trap 'vm_stop; rm -rf "$work"' EXIT
printf '#cloud-config\nros:\n  autologin: ttyS1\n' >"$work/cc.yml"
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "-"}'; }

for r in $(seq "$runs"); do
	vm_cidata "$work/cc.yml"
	steal0=$(awk '$1 == "cpu" {print $9}' /proc/stat)
	t0=$(date +%s%N)
	VM_MEM=${VM_MEM:-512} vm_boot bios
	vm_wait 'login:' 300
	echo "login_s $(( ($(date +%s%N) - t0) / 1000000 ))" >>"$work/run.$r"
	vm_shell_open
	for _ in $(seq 60); do
		[ "$(vm_sh 'ros service ps' | awk '$2 == "running"' | wc -l)" -ge 5 ] && break
		sleep 1
	done
	vm_sh 'cat /run/ros/boot-timeline' | awk '
		$2 == "kernel" {k = $1; print "kernel_to_init_ms", $1; next}
		$2 == "service" {print "service_" $3 "_ms", $1 - k; last = $1 - k; next}
		NF >= 2 {print "init_" $2 "_ms", $1 - k}
		END {print "all_services_up_ms", last}' >>"$work/run.$r"
	echo "ram_used_mib $(vm_sh 'free -m' | awk '$1 == "Mem:" {print $3}')" >>"$work/run.$r"
	vm_stop
	steal1=$(awk '$1 == "cpu" {print $9}' /proc/stat)
	echo "host_steal_ms $(( (steal1 - steal0) * 1000 / $(getconf CLK_TCK) ))" >>"$work/run.$r"
done

echo "ros boot: $runs runs, $( vm_kvm_works && echo KVM || echo TCG ), medians"
printf '  %-28s %s\n' figure median
cat "$work"/run.* | awk '!seen[$1]++ {print $1}' >"$work/keys"
while read -r k; do
	v=$(cat "$work"/run.* | awk -v k="$k" '$1 == k {print $2}' | median)
	if [ "$k" = login_s ]; then
		printf '  %-28s %s s (QEMU start to login:)\n' login "$(awk -v v="$v" 'BEGIN {printf "%.1f", v / 1000}')"
	else
		printf '  %-28s %s\n' "$k" "$v"
	fi
done <"$work/keys"
mib() { [ -f "$1" ] && awk -v b="$(stat -c %s "$1")" 'BEGIN {printf "%.2f MiB", b / 1048576}' || echo -; }
iso_file() { # ISO PATH: the size of one file in it
	[ -f "$1" ] && xorriso -indev "$1" -find "$2" -exec lsdl 2>/dev/null | awk -v p="'$2'" '$NF == p {printf "%.2f MiB", $5 / 1048576; f = 1} END {if (!f) print "-"}' || echo -
}
generic=$ROS_BUILD/ros-generic.iso
printf '\n  %-28s %-14s %s\n' sizes cloud generic
printf '  %-28s %-14s %s\n' "ISO" "$(mib "$VM_ISO")" "$(mib "$generic")"
for f in /boot/vmlinuz /boot/initrd.img /boot/efiboot.img /ros/root.squashfs; do
	printf '  %-28s %-14s %s\n' "  $f" "$(iso_file "$VM_ISO" "$f")" "$(iso_file "$generic" "$f")"
done
printf '  %-28s %s bytes cloud, %s bytes generic\n' "ISO" "$(stat -c %s "$VM_ISO")" \
	"$([ -f "$generic" ] && stat -c %s "$generic" || echo -)"
for i in "$ROS_BUILD"/img/images/*.squashfs; do
	printf '  %-28s %s\n' "image $(basename "$i" .squashfs)" "$(mib "$i")"
done
