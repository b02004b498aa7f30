#!/usr/bin/env bash
# Builds every system service image (docs/images.md):
#   rootfs/mkimages.sh BINDIR OUTDIR NAME...
# Each image's tree is made by rootfs/mkimage.sh; then every file or link
# that two or more trees hold with the same content at the same path (glibc,
# busybox, OpenSSL, ...) moves to a shared lower layer, `base`, and each
# image names it in /.ros-lower (sysctr stacks it under the image). The
# result: OUTDIR/base.squashfs and OUTDIR/NAME.squashfs. Compression: zstd
# (fast to read: base, and what the services read while the system boots),
# or, where the recipe says COMPRESS=xz (mkimage.sh), xz with the x86 filter
# and 512 KiB blocks: a quarter smaller, several times slower to read. RAM:
# squashfs caches four blocks per mount and xz has a dictionary as large as
# one, 2.5 MB per image (1 MiB blocks: 0.4 MB smaller console, 5 MB of RAM).
# A recipe's COLD paths go to a layer of their own in xz, NAME-cold,
# stacked between the image (zstd) and base: the console's docker CLI (45
# MB) is read when someone runs it, sshd and co. while the system boots
# (in xz they cost the boot some 45 ms of decompression under TCG).
set -euo pipefail
bindir=$1 outdir=$2
shift 2
src=$(cd "$(dirname "$0")/.." && pwd)
trees=$outdir/trees
for n in "$@"; do
	bash "$src/rootfs/mkimage.sh" "$n" "$bindir" "$trees"
done
rm -rf "$trees/base"
mkdir -p "$trees/base"

# every regular file and symlink: "path<TAB>identity<TAB>image"
list=$(mktemp)
trap 'rm -f "$list"' EXIT
for n in "$@"; do
	(cd "$trees/$n" && find . \( -type f -o -type l \) ! -name .ros-lower -print0 |
		while IFS= read -r -d '' f; do
			if [ -L "$f" ]; then
				printf '%s\tL:%s\t%s\n' "$f" "$(readlink "$f")" "$n"
			else
				printf '%s\tF:%s:%s\t%s\n' "$f" "$(stat -c %a "$f")" "$(md5sum <"$f" | cut -c1-32)" "$n"
			fi
		done)
done >"$list"
# paths whose identity is the same in at least two images, and in every
# image that has the path (a differing copy stays in its image and shadows)
awk -F'\t' '{n[$1]++; id[$1 SUBSEP $2]++; ids[$1] = ids[$1] == "" ? $2 : (ids[$1] == $2 ? $2 : "*")}
	END {for (p in n) if (n[p] >= 2 && ids[p] != "*") print p}' "$list" >"$list.shared"
while IFS= read -r p; do
	first=
	for n in "$@"; do
		[ -e "$trees/$n/$p" ] || [ -L "$trees/$n/$p" ] || continue
		if [ -z "$first" ]; then
			mkdir -p "$trees/base/$(dirname "$p")"
			cp -a "$trees/$n/$p" "$trees/base/$p"
			first=$n
		fi
		rm -f "$trees/$n/$p"
	done
done <"$list.shared"
rm -f "$list.shared"
for n in "$@"; do
	echo base >"$trees/$n/.ros-lower"
done
# what the recipe calls cold (COLD, mkimage.sh) moves to NAME-cold, in xz,
# between the image and base: the image itself stays fast to read
cold=()
for n in "$@"; do
	[ -s "$trees/.$n.cold" ] || continue
	rm -rf "$trees/$n-cold"
	mkdir -p "$trees/$n-cold"
	while IFS= read -r p; do
		[ -e "$trees/$n/$p" ] || continue # shared: in base
		mkdir -p "$trees/$n-cold/$(dirname "$p")"
		mv "$trees/$n/$p" "$trees/$n-cold/$p"
	done <"$trees/.$n.cold"
	echo base >"$trees/$n-cold/.ros-lower"
	echo "$n-cold" >"$trees/$n/.ros-lower"
	echo xz >"$trees/.$n-cold.compress"
	cold+=("$n-cold")
done

squash() { # TREE OUT [MKSQUASHFS OPTIONS]
	rm -f "$2.tmp"
	mksquashfs "$1" "$2.tmp" "${@:3}" -noappend -quiet -no-progress -all-root >/dev/null
	mv "$2.tmp" "$2"
	echo "  IMAGE   $2 $(du -h "$2" | cut -f1)" >&2
}
zstd=(-comp zstd -Xcompression-level 22) # level 22: slower to make, as fast to read
xz=(-comp xz -Xbcj x86 -b 512K)
squash "$trees/base" "$outdir/base.squashfs" "${zstd[@]}"
for n in "$@" "${cold[@]}"; do
	if [ "$(cat "$trees/.$n.compress" 2>/dev/null)" = xz ]; then
		squash "$trees/$n" "$outdir/$n.squashfs" "${xz[@]}"
	else
		squash "$trees/$n" "$outdir/$n.squashfs" "${zstd[@]}"
	fi
done
total=0
for f in "$outdir"/*.squashfs; do total=$((total + $(stat -c %s "$f"))); done
echo "  IMAGES  $((total / 1024)) KiB in all" >&2
