#!/usr/bin/env bats
# The boot medium's layout (docs/boot.md), read without booting.

load lib

setup() {
	VM_ISO=${VM_ISO:-$ROS_BUILD/ros.iso}
	[ -f "$VM_ISO" ] || skip "no ISO at $VM_ISO (make vm-prereqs)"
	D=$BATS_TEST_TMPDIR
}

extract() { xorriso -osirrox on -indev "$VM_ISO" -extract "$1" "$D/$2" >/dev/null 2>&1; }

@test "the ISO is labelled ROS and carries kernel, initrd, root, VERSION, isolinux and the EFI image" {
	run xorriso -indev "$VM_ISO" -pvd_info
	[[ "$output" == *"Volume Id    : ROS"* ]]
	for f in /boot/vmlinuz /boot/initrd.img /boot/efiboot.img /ros/root.squashfs /ros/VERSION /isolinux/isolinux.bin; do
		run xorriso -indev "$VM_ISO" -find "$f"
		[[ "$output" == *"'$f'"* ]] || { echo "missing $f" >&2; false; }
	done
}

@test "the initrd has /init, dev/console, and modules.boot, modules.soon, modules.late in dependency order" {
	extract /boot/initrd.img initrd.img
	mkdir "$D/i"
	(cd "$D/i" && zstd -dc ../initrd.img | cpio -idm --quiet 2>/dev/null)
	[ -x "$D/i/init" ]
	[ -x "$D/i/bin/busybox" ]
	if [ "$(id -u)" -eq 0 ]; then [ -c "$D/i/dev/console" ]; fi
	kver=$(ls "$D/i/lib/modules")
	# boot: what the root needs, loaded first, the barrier `loop` last with
	# one device; soon: NICs and co., loaded meanwhile; late: what
	# services need, in the background; together in dependency order
	for m in overlay squashfs isofs sr_mod virtio_blk; do
		grep -q "/$m.ko$" "$D/i/etc/ros/modules.boot" || { echo "modules.boot lacks $m" >&2; false; }
	done
	[ "$(tail -1 "$D/i/etc/ros/modules.boot")" = "kernel/drivers/block/loop.ko max_loop=1" ]
	for m in virtio_net vfat; do
		grep -q "/$m.ko$" "$D/i/etc/ros/modules.soon" || { echo "modules.soon lacks $m" >&2; false; }
	done
	for m in veth bridge nf_tables; do
		grep -q "/$m.ko$" "$D/i/etc/ros/modules.late" || { echo "modules.late lacks $m" >&2; false; }
	done
	mb=$D/all-modules
	cat "$D/i/etc/ros/modules.boot" "$D/i/etc/ros/modules.soon" "$D/i/etc/ros/modules.late" | cut -d' ' -f1 >"$mb"
	[ "$(wc -l <"$mb")" -gt 10 ]
	[ "$(sort "$mb" | uniq -d | wc -l)" = 0 ] # none listed twice
	# every dependency (modules.dep) comes earlier
	n=0
	while read -r rel; do
		n=$((n + 1))
		[ -f "$D/i/lib/modules/$kver/$rel" ] || { echo "missing file $rel" >&2; false; }
		deps=$(awk -v m="$rel:" '$1==m{$1="";print}' "$D/i/lib/modules/$kver/modules.dep")
		for d in $deps; do
			pos=$(grep -nxF "$d" "$mb" | cut -d: -f1)
			[ -n "$pos" ] && [ "$pos" -lt "$n" ] || { echo "$rel needs $d earlier" >&2; false; }
		done
	done <"$mb"
}

@test "the root has busybox, the ros user (uid 1100, groups sudo and docker) and os-config.yml" {
	extract /ros/root.squashfs root.sqfs
	unsquashfs -q -d "$D/r" "$D/root.sqfs" etc usr/share/ros bin >/dev/null
	[ -x "$D/r/bin/busybox" ]
	grep -q '^ros:x:1100:1100:' "$D/r/etc/passwd"
	grep -Eq '^sudo:x:[0-9]+:(.*,)?ros' "$D/r/etc/group"
	grep -Eq '^docker:x:[0-9]+:(.*,)?ros' "$D/r/etc/group"
	[ -f "$D/r/usr/share/ros/os-config.yml" ]
}

@test "the images carry stubs for the libraries ros never calls, and not GnuTLS, p11-kit, SASL, libgcrypt or ICU" {
	extract /ros/root.squashfs root.sqfs
	unsquashfs -q -d "$D/r" "$D/root.sqfs" usr/share/ros/images >/dev/null
	mkdir "$D/i"
	for img in "$D"/r/usr/share/ros/images/*.squashfs; do
		unsquashfs -q -d "$D/i/$(basename "$img" .squashfs)" "$img" lib usr/lib >/dev/null 2>&1 || true
	done
	run find "$D/i" \( -name 'libp11-kit.so*' -o -name 'libtasn1.so*' -o -name 'libhogweed.so*' -o -name 'libsasl2.so*' \
		-o -name 'libgcrypt.so*' -o -name 'libicu*' \) -print
	[ -z "$output" ] || { echo "still there: $output" >&2; false; }
	# every copy of a stubbed library (rootfs/mkimage.sh STUB_LIBS) needs no other library
	n=0
	for so in libgnutls.so.30 librtmp.so.1 libldap-2.5.so.0 liblber-2.5.so.0 libssh2.so.1 libsystemd.so.0 libxml2.so.2; do
		while IFS= read -r f; do
			readelf -d "$f" | grep -qF "Library soname: [$so]" || { echo "$f: soname" >&2; false; }
			! readelf -d "$f" | grep -q '(NEEDED)' || { echo "$f is not a stub" >&2; false; }
			n=$((n + 1))
		done < <(find "$D/i" -type f -name "$so*")
	done
	[ "$n" -ge 7 ]
}
