#!/usr/bin/env bash
# Install and upgrade times on a 4 GiB virtual disk, and image sizes
# (docs/install.md). QEMU under TCG unless ROS_KVM=1.
#   bench/lifecycle.sh            (after make iso medium; ROS_BUILD=build-ab ...)
# Prints: `ros install` time in the VM booted from the ISO; `ros os
# upgrade` time (download over the QEMU user network + write + verify)
# on the installed disk; the time to the upgraded slot marked good;
# `make disk` time on the host; sizes of the ISO, the disk images, the
# upgrade tarball and the install files.
set -euo pipefail
ROS_SRC=$(cd "$(dirname "$0")/.." && pwd)
ROS_BUILD=$(cd "${ROS_BUILD:-$ROS_SRC/build}" && pwd)
export ROS_SRC ROS_BUILD
# shellcheck source=/dev/null
load() { . "$ROS_SRC/tests/vm/$1.bash"; }
skip() { echo "lifecycle: $*" >&2; exit 1; }
load disk
disk_require
work=$(mktemp -d)
cleanup() { http_stop; vm_stop; rm -rf "$work"; }
trap cleanup EXIT
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

version=$(cat "$ROS_BUILD/img/medium/ros/VERSION")
mkdir -p "$work/www"
bash "$ROS_SRC/iso/mkupgrade.sh" "$ROS_BUILD/img/medium" "$version-bench" "$work/www/ros-upgrade.tar" 2>/dev/null

# make disk on the host (the same installer on an image file)
t0=$(now)
bash "$ROS_SRC/iso/mkdisk.sh" "$ROS_BUILD/bin/ros" "$ROS_BUILD/img/medium" "$work/ros.img" "$work/ros.qcow2" 2048 \
	>/dev/null 2>&1
t_mkdisk=$(secs "$t0" "$(now)")

# install from the ISO to a blank 4 GiB disk
qemu-img create -q -f qcow2 "$work/disk.qcow2" 4G
printf '#cloud-config\nros:\n  autologin: ttyS1\n' >"$work/cc.yml"
vm_cidata "$work/cc.yml"
vm_boot bios -drive "file=$work/disk.qcow2,format=qcow2,if=virtio"
vm_wait 'login:'
vm_shell_open
vm_sh 'cp /dev/null /tmp/x; printf "#cloud-config\nros:\n  autologin: ttyS1\n" > /tmp/cc.yml'
t0=$(now)
out=$(vm_sh 'ros install -d /dev/vdb -c /tmp/cc.yml --no-reboot' 600)
t_install=$(secs "$t0" "$(now)")
t_install_guest=$(printf '%s\n' "$out" | sed -n 's/.* in \([0-9.]*\) s$/\1/p')
vm_stop

# upgrade on the installed disk
http_serve "$work/www"
disk_boot bios "$work/disk.qcow2" qcow2
vm_wait_count 1 'is good'
vm_wait 'login:'
vm_shell_open
t0=$(now)
vm_sh "ros os upgrade -i http://10.0.2.2:$HTTP_PORT/ros-upgrade.tar --no-reboot" 600 >/dev/null
t_upgrade=$(secs "$t0" "$(now)")
t0=$(now)
vm_sh 'ros os reboot' >/dev/null
vm_wait_count 2 'is good' 300
t_reboot=$(secs "$t0" "$(now)")
vm_stop

size() { du -h --apparent-size "$1" | cut -f1; }
alloc() { du -h "$1" | cut -f1; }
echo "ros lifecycle ($version, TCG, 4 GiB virtio disk)"
printf '  %-44s %8s s\n' "ros install (wall, from the ISO)" "$t_install"
printf '  %-44s %8s s\n' "ros install (as it reports)" "${t_install_guest:-?}"
printf '  %-44s %8s s\n' "ros os upgrade -i URL (download+write+verify)" "$t_upgrade"
printf '  %-44s %8s s\n' "reboot to the new slot marked good" "$t_reboot"
printf '  %-44s %8s s\n' "make disk (host, 2 GiB raw + qcow2)" "$t_mkdisk"
printf '  %-44s %8s\n' "ISO" "$(size "$ROS_BUILD/ros.iso")"
printf '  %-44s %8s (%s allocated)\n' "raw disk image (make disk)" "$(size "$work/ros.img")" "$(alloc "$work/ros.img")"
printf '  %-44s %8s\n' "qcow2 disk image (make disk)" "$(alloc "$work/ros.qcow2")"
printf '  %-44s %8s\n' "upgrade tarball" "$(size "$work/www/ros-upgrade.tar")"
printf '  %-44s %8s\n' "install files on the ISO (/ros/install)" \
	"$(du -ch "$ROS_BUILD/img/medium/ros/install"/* | tail -1 | cut -f1)"
printf '  %-44s %8s\n' "installed disk after install+upgrade (qcow2)" "$(alloc "$work/disk.qcow2")"
