#!/bin/bash
# ros init on a real kernel (QEMU, TCG): boots a minimal initramfs — init,
# the loop/squashfs/overlay modules and an embedded root squashfs of busybox
# with a stand-in sysctr that reports and powers off — and prints:
#
#   vm_kernel_to_init_ms 1494   the "kernel" stage of /run/ros/boot-timeline
#   vm_init_to_sysctr_ms 142    init start to sysctr started
#   vm_init_rss_kib 1020        VmRSS of PID 1 with sysctr running
#   vm_init_hwm_kib 1032        VmHWM of PID 1
#   vm_wall_ms 3500             QEMU start to power-off
#
# usage: bench/init/vm.sh KROOT [BUILD_DIR]
#   KROOT: a Debian kernel package unpacked with dpkg -x and depmod'ed, e.g.
#     apt-get download linux-image-6.1.0-56-cloud-amd64
#     dpkg -x linux-image-*.deb kroot && depmod -b kroot 6.1.0-56-cloud-amd64
set -euo pipefail
kroot=$(cd "${1:?usage: vm.sh KROOT [BUILD_DIR]}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${2:-$src/build}" && pwd)
kernels=("$kroot"/boot/vmlinuz-*)
kernel=${kernels[0]}
kver=${kernel##*/vmlinuz-}
work=$(mktemp -d /tmp/ros-bench-init-vm.XXXXXX)
trap 'rm -rf "$work"' EXIT

export ROS_SRC=$src
# shellcheck source=tests/integration/init-lib.bash
. "$src/tests/integration/init-lib.bash"
init_make_root "$work/root"
cat >"$work/root/usr/bin/sysctr" <<'SYSCTR'
#!/bin/sh
sleep 0.5
echo "BENCH-TIMELINE $(awk '$2 == "kernel" {k = $1} $2 == "sysctr" {print k, $1 - k}' /run/ros/boot-timeline)"
echo "BENCH-RSS $(awk '/^VmRSS:/ {r = $2} /^VmHWM:/ {h = $2} END {print r, h}' /proc/1/status)"
kill -USR2 1
exec sleep 1000
SYSCTR

ird=$work/initramfs
mkdir -p "$ird/dev" "$ird/etc/ros" "$ird/ros"
cp "$build/bin/init" "$ird/init"
mknod "$ird/dev/console" c 5 1
mksquashfs "$work/root" "$ird/ros/root.squashfs" -noappend -quiet -no-progress -comp zstd >/dev/null
for m in loop squashfs overlay; do
	modprobe -d "$kroot" -S "$kver" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' | while read -r ko; do
	rel=${ko#"$kroot"/lib/modules/"$kver"/}
	mkdir -p "$ird/lib/modules/$kver/$(dirname "$rel")"
	cp "$ko" "$ird/lib/modules/$kver/$rel"
	echo "$rel" >>"$ird/etc/ros/modules.boot"
done
(cd "$ird" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$work/initrd.img"

start=$(date +%s%N)
timeout 120 qemu-system-x86_64 -accel tcg -m 256 -nographic -no-reboot -nic none \
	-kernel "$kernel" -initrd "$work/initrd.img" -append "console=ttyS0 quiet panic=-1" \
	</dev/null >"$work/console.log" 2>&1 || true
end=$(date +%s%N)
if ! grep -q 'BENCH-RSS' "$work/console.log"; then
	echo "vm.sh: the boot did not reach sysctr; console:" >&2
	cat "$work/console.log" >&2
	exit 1
fi
tr -d '\r' <"$work/console.log" | awk '
	/BENCH-TIMELINE/ {print "vm_kernel_to_init_ms", $2; print "vm_init_to_sysctr_ms", $3}
	/BENCH-RSS/ {print "vm_init_rss_kib", $2; print "vm_init_hwm_kib", $3}'
echo "vm_wall_ms $(((end - start) / 1000000))"
