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

# make_tls DIR IP: a test CA (DIR/ca.crt, ca.key), a server certificate for
# IP signed by it (server.crt, server.key) and a client certificate
# (client.cert, client.key): P-256 keys, valid two days.
make_tls() {
	local d=$1 ip=$2
	mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=ros-test-ca \
		-keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
	printf 'subjectAltName=IP:%s\n' "$ip" >"$d/san.ext"
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$ip" \
		-keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
		-extfile "$d/san.ext" -out "$d/server.crt" 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=ros-test-client \
		-keyout "$d/client.key" -out "$d/client.csr" 2>/dev/null
	openssl x509 -req -in "$d/client.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
		-out "$d/client.cert" 2>/dev/null
}

# registry_config FILE ADDR STORAGE [CERT KEY [CLIENTCA]]: a docker-registry
# configuration serving STORAGE at ADDR, over TLS with CERT and KEY, asking
# for client certificates signed by CLIENTCA.
registry_config() {
	local f=$1
	printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' \
		"$3" "$2" >"$f"
	[ -n "${4:-}" ] && printf '  tls:\n    certificate: %s\n    key: %s\n' "$4" "$5" >>"$f"
	[ -n "${6:-}" ] && printf '    clientcas: [%s]\n' "$6" >>"$f"
	return 0
}
