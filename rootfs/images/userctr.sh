# shellcheck shell=bash disable=SC2034,SC2154,SC2012 # a recipe sourced by rootfs/mkimage.sh (tree, src, cache are its)
# userctr: the user container engine (docs/userctr.md), with nft for NAT
# and published ports and tini as --init.
PKGS=(nftables)
# libnftables needs these two, which mkimage skips for other images
SKIP=${SKIP// libmnl0 / }
SKIP=${SKIP// libxtables12 / }
ROS_BINS=(userctr)
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
	# libarchive links libxml2 for its XAR format alone, and libxml2 pulls
	# ICU (31 MB).  Container images are tar archives, never XAR: the image
	# carries a libxml2.so.2 whose every entry point fails (NULL / 0), so a
	# XAR archive is refused with libarchive's own error.  Generated from
	# the symbols (and versions) libarchive asks for.
	local xml arc gen
	xml=$(find "$tree" -name 'libxml2.so.2*' -type f | head -1)
	arc=$(find "$tree" -name 'libarchive.so.13*' -type f | head -1)
	[ -n "$xml" ] && [ -n "$arc" ] || return 0
	gen=$(mktemp -d)
	nm -D --undefined-only "$arc" | awk '$2 ~ /@LIBXML2_/ {split($2, a, "@"); print a[1], a[2]}' | sort -u >"$gen/syms"
	awk '{print "long " $1 "(void);\nlong " $1 "(void) { return 0; }"}' "$gen/syms" >"$gen/xml.c"
	awk '{v[$2] = v[$2] " " $1 ";"} END {for (k in v) print k " {global:" v[k] "};"}' "$gen/syms" | sort >"$gen/xml.map"
	gcc -shared -fPIC -O2 -s -nostdlib -Wl,-soname,libxml2.so.2 -Wl,--version-script="$gen/xml.map" \
		-o "$xml" "$gen/xml.c"
	rm -rf "$gen"
}
