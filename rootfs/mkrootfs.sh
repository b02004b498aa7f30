#!/usr/bin/env bash
# Builds the root filesystem squashfs: a busybox-static base, the ros
# binaries present in BINDIR, the default config and service definitions,
# /etc/passwd and /etc/group with the `ros` user.
#   rootfs/mkrootfs.sh BINDIR SRCDIR OUT.squashfs
set -euo pipefail
bindir=$1 src=$2 out=$3
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree"/{bin,sbin,usr/bin,usr/sbin,etc/ros,dev,proc,sys,run,tmp,mnt,root,home/ros,var/log,var/lib/ros,var/lib/userctr,opt,usr/share/ros/services,usr/share/ros/images}
chmod 1777 "$tree/tmp"
install -m 0755 /bin/busybox "$tree/bin/busybox"
for a in $("$tree/bin/busybox" --list-full); do
	[ -e "$tree/$a" ] || ln -s /bin/busybox "$tree/$a"
done
# ros programs with the shared libraries they link (from the build host's
# Debian packages, resolved by ldd): sysctr, and ros and roci for the rescue
# shell. The services' programs (ros-network, ...) live in their images;
# userctr will have its own (its libarchive pulls libxml2 and ICU, 30 MB).
for b in sysctr ros roci; do
	[ -x "$bindir/$b" ] || continue
	install -s -m 0755 "$bindir/$b" "$tree/usr/bin/$b" # stripped: ros builds with -g
	for lib in $(ldd "$bindir/$b" | grep -oE '/[^ ]+'); do
		[ -e "$tree$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$tree$lib"
	done
done
# the system service images (rootfs/mkimage.sh), mounted by sysctr
for img in "$bindir"/../img/images/*.squashfs; do
	[ -f "$img" ] && install -m 0644 "$img" "$tree/usr/share/ros/images/"
done
ln -sfn ../run/resolvconf/resolv.conf "$tree/etc/resolv.conf"
[ -f "$src/configs/os-config.yml" ] && install -m 0644 "$src/configs/os-config.yml" "$tree/usr/share/ros/os-config.yml"
for f in "$src"/services/*.yml; do
	[ -f "$f" ] && install -m 0644 "$f" "$tree/usr/share/ros/services/"
done
cat >"$tree/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
ros:x:1100:1100:ros:/home/ros:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat >"$tree/etc/group" <<'G'
root:x:0:
sudo:x:27:ros
docker:x:999:ros
ros:x:1100:
nogroup:x:65534:
G
printf 'root:*:1::::::\nros:*:1::::::\nnobody:*:1::::::\n' >"$tree/etc/shadow"
chmod 0640 "$tree/etc/shadow"
echo ros >"$tree/etc/hostname"
printf 'NAME=ros\nID=ros\nVERSION=%s\n' "$(cat "$src/VERSION")" >"$tree/etc/os-release"
printf '127.0.0.1 localhost\n' >"$tree/etc/hosts"
chown -R 1100:1100 "$tree/home/ros" 2>/dev/null || true
rm -f "$out.tmp"
# zstd level 22 (as rootfs/mkimages.sh): slower to make, as fast to read
mksquashfs "$tree" "$out.tmp" -comp zstd -Xcompression-level 22 -noappend -quiet -no-progress >/dev/null
mv "$out.tmp" "$out"
echo "  ROOTFS  $out $(du -h "$out" | cut -f1)" >&2
