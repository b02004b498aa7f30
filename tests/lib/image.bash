# Image test helpers: a busybox-static layer and `docker save` archives.
# The caller sets TMP (a scratch directory).
# shellcheck shell=bash

# busybox_layer OUT [NAME=CONTENT]...: a plain tar of a busybox rootfs, with
# extra files /NAME holding CONTENT.
busybox_layer() {
	local out=$1 r kv a
	shift
	r=$(mktemp -d "$TMP/rootfs.XXXXXX")
	mkdir -p "$r/bin" "$r/etc" "$r/tmp"
	cp "$(command -v busybox)" "$r/bin/busybox"
	for a in sh echo ls cat sleep; do ln -sf busybox "$r/bin/$a"; done
	echo "root:x:0:0:root:/root:/bin/sh" >"$r/etc/passwd"
	for kv in "$@"; do printf '%s\n' "${kv#*=}" >"$r/${kv%%=*}"; done
	tar -C "$r" --sort=name --mtime=@1700000000 --owner=0 --group=0 -cf "$out" .
	rm -rf "$r"
}

# make_archive OUT TAG ARCH LAYER_TAR...: a `docker save` archive; prints
# the image id (the config's sha256).
make_archive() {
	local out=$1 tag=$2 arch=$3
	shift 3
	local dir layers="" diffs="" l h
	dir=$(mktemp -d "$TMP/arc.XXXXXX")
	for l in "$@"; do
		h=$(sha256sum "$l" | cut -d' ' -f1)
		mkdir -p "$dir/$h"
		cp "$l" "$dir/$h/layer.tar"
		layers="$layers${layers:+,}\"$h/layer.tar\""
		diffs="$diffs${diffs:+,}\"sha256:$h\""
	done
	cat >"$dir/config.json" <<-JSON
	{"architecture":"$arch","os":"linux","created":"2024-01-02T03:04:05Z",
	 "config":{"Cmd":["sh"],"Env":["PATH=/bin"],"WorkingDir":"/"},
	 "rootfs":{"type":"layers","diff_ids":[$diffs]}}
	JSON
	h=$(sha256sum "$dir/config.json" | cut -d' ' -f1)
	mv "$dir/config.json" "$dir/$h.json"
	printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":[%s]}]' "$h" "$tag" "$layers" >"$dir/manifest.json"
	tar -C "$dir" -cf "$out" .
	rm -rf "$dir"
	echo "$h"
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
