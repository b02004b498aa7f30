# shellcheck shell=bash disable=SC2034,SC2154,SC2012 # a recipe sourced by rootfs/mkimage.sh (tree, src, cache are its)
# userctr: the user container engine (docs/userctr.md), with nft for NAT
# and published ports and tini as --init.
PKGS=(nftables)
# libnftables needs these two, which mkimage skips for other images
SKIP=${SKIP// libmnl0 / }
SKIP=${SKIP// libxtables12 / }
ROS_BINS=(userctr)
# libarchive links libxml2 for its XAR format alone, and libxml2 pulls ICU
# (31 MB). Container images are tar archives, never XAR: a stub (mkimage.sh)
# refuses a XAR archive with libarchive's own error.
STUB_LIBS+=(libxml2.so.2)
customize() {
	# --init: Debian's static tini, where userctr looks for it
	local deb
	deb=$(ls -t "$cache"/tini_*.deb 2>/dev/null | head -1 || true)
	if [ -z "$deb" ]; then
		(cd "$cache" && apt-get download -q -o APT::Sandbox::User=root tini >/dev/null)
		deb=$(ls -t "$cache"/tini_*.deb | head -1)
	fi
	mkdir -p "$tree/usr/libexec/ros"
	dpkg --fsys-tarfile "$deb" | tar -xO ./usr/bin/tini-static >"$tree/usr/libexec/ros/docker-init"
	chmod 0755 "$tree/usr/libexec/ros/docker-init"
}
