#!/usr/bin/env bash
# Fetches a Debian kernel (resolved through its metapackage), unpacks it
# without installing it, keeps only the modules ros needs and writes
# modules.boot in dependency order.
#   iso/kernel.sh OUTDIR [cloud|generic]
# Output: OUTDIR/vmlinuz, OUTDIR/kver, OUTDIR/modroot/lib/modules/KVER/...,
#         OUTDIR/modules.boot. The .deb is cached under build/cache/kernel.
set -euo pipefail
out=$1
flavour=${2:-cloud}
cache=$(realpath -m "${ROS_CACHE:-build/cache}")/kernel
case $flavour in
cloud) meta=linux-image-cloud-amd64 ;;
generic) meta=linux-image-amd64 ;;
*) echo "kernel.sh: unknown KERNEL=$flavour (cloud or generic)" >&2; exit 2 ;;
esac
pkg=$(apt-cache depends "$meta" | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
[ -n "$pkg" ] || { echo "kernel.sh: cannot resolve $meta (apt-get update?)" >&2; exit 1; }
kver=${pkg#linux-image-}
ver=$(apt-cache policy "$pkg" | awk '/Candidate:/{print $2}')
mkdir -p "$cache"
debs=("$cache/${pkg}_"*"${ver#*:}"*.deb)
deb=${debs[0]}
[ -f "$deb" ] || deb=
if [ -z "$deb" ]; then
	echo "  KERNEL  downloading $pkg $ver" >&2
	(cd "$cache" && apt-get download -q "$pkg=$ver" >&2)
	debs=("$cache/${pkg}_"*.deb)
	deb=${debs[0]}
fi
unpacked=$cache/$kver.unpacked
if [ ! -f "$unpacked/.done" ]; then
	rm -rf "$unpacked"
	dpkg -x "$deb" "$unpacked"
	depmod -b "$unpacked" "$kver"
	touch "$unpacked/.done"
fi
# The modules ros needs; missing names (built in, or absent in this
# flavour) are skipped. init loads the boot set before it sets up the root:
# what finding the medium, the root and the state disk takes (virtio, SCSI
# and ATA CDs and disks, isofs, ext4, squashfs, overlay), all but the last
# with async_probe so that their device probes overlap (docs/boot.md); the
# ATA and CD drivers first, as libata's port probe is the slowest (it
# sleeps 150 ms after the reset). The last, `loop` (a module in
# every flavour, needed by nothing else), is loaded plainly: the barrier
# that waits for every probe. A child of init loads the soon set at normal
# priority meanwhile and while init sets up the root (the NICs: the network
# service takes links as they appear; consoles, RNG, vfat for a cidata
# disk), and the late set at idle priority (what only services need:
# bridges, veth, tun, netfilter: the NAT of the user engine, with
# iptables-nft or legacy iptables). What docs/iso.md promises and no more:
# macvlan, vxlan and ip6tables were 0.15 MB of the initrd.
boot_wanted=(
	ata_piix ata_generic ahci sr_mod cdrom isofs
	virtio_pci virtio_blk virtio_scsi sd_mod
	overlay squashfs ext4
)
boot_last=loop
soon_wanted=(
	virtio_net e1000 e1000e virtio_console virtio_rng virtio_mmio
	vfat nls_cp437 nls_iso8859_1 nls_utf8
)
late_wanted=(
	veth bridge br_netfilter tun
	nf_tables nft_nat nft_masq nft_chain_nat nft_compat nft_ct nft_reject_inet nft_fib_inet
	ip_tables iptable_nat iptable_filter xt_MASQUERADE xt_conntrack xt_addrtype
)
rm -rf "$out/modroot" && mkdir -p "$out/modroot/lib/modules/$kver"
mdir=$unpacked/lib/modules/$kver
closure() { # MODULE...: their dependency-ordered .ko paths, relative
	for m in "$@"; do
		modprobe -d "$unpacked" -S "$kver" --show-depends "$m" 2>/dev/null | awk '$1=="insmod"{print $2}' || true
	done | sed "s|^$unpacked/lib/modules/$kver/||; s|^/lib/modules/$kver/||"
}
# loop: one device made at load (the default, 8, took 40 ms under
# emulation); more are made on demand (LOOP_CTL_GET_FREE)
closure "${boot_wanted[@]}" "$boot_last" | awk '!seen[$0]++ {print $0 ($0 ~ /\/loop\.ko$/ ? " max_loop=1" : "")}' \
	>"$out/modules.boot"
[ "$(basename "$(tail -1 "$out/modules.boot" | cut -d' ' -f1)" .ko)" = "$boot_last" ] ||
	{ echo "kernel.sh: $boot_last must be the last boot module (the probe barrier)" >&2; exit 1; }
# a module already in an earlier set is not loaded twice
closure "${soon_wanted[@]}" | awk 'NR == FNR {seen[$1] = 1; next} !seen[$1]++' "$out/modules.boot" - >"$out/modules.soon"
closure "${late_wanted[@]}" | awk 'FILENAME != "-" {seen[$1] = 1; next} !seen[$1]++' \
	"$out/modules.boot" "$out/modules.soon" - >"$out/modules.late"
cat "$out/modules.boot" "$out/modules.soon" "$out/modules.late" | while read -r rel _; do
	mkdir -p "$out/modroot/lib/modules/$kver/$(dirname "$rel")"
	cp "$mdir/$rel" "$out/modroot/lib/modules/$kver/$rel"
done
cp "$mdir"/modules.order "$mdir"/modules.builtin* "$out/modroot/lib/modules/$kver/"
depmod -b "$out/modroot" "$kver"
cp "$unpacked/boot/vmlinuz-$kver" "$out/vmlinuz"
echo "$kver" >"$out/kver"
echo "  KERNEL  $kver: $(wc -l <"$out/modules.boot") boot + $(wc -l <"$out/modules.soon") soon + $(wc -l <"$out/modules.late") late modules, vmlinuz $(du -h "$out/vmlinuz" | cut -f1)" >&2
