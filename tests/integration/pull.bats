#!/usr/bin/env bats
# image_pull (lib/image/pull.c) through tests/drivers/pull-driver against
# Debian's docker-registry on loopback (images pushed with skopeo) and a
# python fake registry for token/Basic auth, tampering and redirects.

load ../lib/image

DRIVER="$ROS_BUILD/tests/drivers/pull-driver"
FAKE="$ROS_SRC/tests/drivers/fake-registry.py"

setup_file() {
	command -v docker-registry >/dev/null || skip "docker-registry not installed (scripts/install-deps.sh)"
	command -v skopeo >/dev/null || skip "skopeo not installed (scripts/install-deps.sh)"
	command -v busybox >/dev/null || skip "busybox not installed"
	[ -x "$DRIVER" ] || skip "no $DRIVER (make tests)"
	export TMP FILE_TMP
	FILE_TMP=$(mktemp -d)
	TMP=$FILE_TMP
	local port
	port=$(free_port)
	registry_config "$TMP/registry.yml" "127.0.0.1:$port" "$TMP/registry"
	docker-registry serve "$TMP/registry.yml" >"$TMP/registry.log" 2>&1 3>&- &
	echo $! >"$TMP/registry.pid"
	for _ in $(seq 100); do
		curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break
		sleep 0.05
	done
	curl -sf "http://127.0.0.1:$port/v2/" >/dev/null
	export REG="127.0.0.1:$port"

	busybox_layer "$TMP/amd64.tar"
	busybox_layer "$TMP/arm64.tar" arch=arm64
	make_archive "$TMP/amd64-archive.tar" busybox:1 amd64 "$TMP/amd64.tar" >"$TMP/amd64.id"
	make_archive "$TMP/arm64-archive.tar" busybox:1 arm64 "$TMP/arm64.tar" >"$TMP/arm64.id"
	local sk=(skopeo --insecure-policy copy -q --dest-tls-verify=false)
	"${sk[@]}" "docker-archive:$TMP/amd64-archive.tar" "docker://$REG/busybox:1"
	"${sk[@]}" "docker-archive:$TMP/amd64-archive.tar" "docker://$REG/library/busybox:1"
	"${sk[@]}" "docker-archive:$TMP/arm64-archive.tar" "docker://$REG/busybox:arm64"
	"${sk[@]}" "docker-archive:$TMP/amd64-archive.tar" "oci:$TMP/oci:1"

	# A manifest list (arm64 first) made of the two pushed manifests.
	local mt=application/vnd.docker.distribution.manifest.v2+json
	curl -sf -H "Accept: $mt" "http://$REG/v2/busybox/manifests/1" >"$TMP/m-amd64"
	curl -sf -H "Accept: $mt" "http://$REG/v2/busybox/manifests/arm64" >"$TMP/m-arm64"
	cat >"$TMP/list.json" <<-JSON
	{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[
	 {"mediaType":"$mt","digest":"sha256:$(sha256sum <"$TMP/m-arm64" | cut -d' ' -f1)","size":$(stat -c %s "$TMP/m-arm64"),
	  "platform":{"architecture":"arm64","os":"linux","variant":"v8"}},
	 {"mediaType":"$mt","digest":"sha256:$(sha256sum <"$TMP/m-amd64" | cut -d' ' -f1)","size":$(stat -c %s "$TMP/m-amd64"),
	  "platform":{"architecture":"amd64","os":"linux"}}]}
	JSON
	curl -sf -X PUT -H "Content-Type: application/vnd.docker.distribution.manifest.list.v2+json" \
		--data-binary "@$TMP/list.json" "http://$REG/v2/busybox/manifests/multi" >/dev/null
}

teardown_file() {
	[ -n "${FILE_TMP:-}" ] || return 0
	[ -f "$FILE_TMP/registry.pid" ] && kill "$(cat "$FILE_TMP/registry.pid")" 2>/dev/null
	rm -rf "$FILE_TMP"
}

setup() {
	TMP=$(mktemp -d)
	STORE="$TMP/store"
}

teardown() {
	[ -n "${FAKE_PID:-}" ] && kill "$FAKE_PID" 2>/dev/null
	tls_stop
	rm -rf "$TMP"
}

# fake_registry [ARGS...]: starts the python registry on the OCI layout; sets FAKE_REG.
fake_registry() {
	python3 "$FAKE" "$FILE_TMP/oci" "$TMP/fake.port" "$@" 2>"$TMP/fake.log" 3>&- &
	FAKE_PID=$!
	for _ in $(seq 100); do
		[ -s "$TMP/fake.port" ] && break
		sleep 0.05
	done
	FAKE_REG="127.0.0.1:$(cat "$TMP/fake.port")"
}

tag_of() { jq -r --arg t "$1" '.tags[$t] // "none"' "$STORE/images.json"; }

@test "pull from a loopback docker-registry tags the image, stores its config and unpacks busybox" {
	run "$DRIVER" "$STORE" "$REG/busybox:1"
	echo "$output"
	[ "$status" -eq 0 ]
	id=$(cat "$FILE_TMP/amd64.id")
	[ "${lines[-1]}" = "id sha256:$id" ]
	[ "${lines[0]}" = "1: Pulling from busybox" ]
	[[ "$output" == *": Pulling fs layer"* ]]
	[[ "$output" == *": Downloading "*/* ]]
	[[ "$output" == *": Download complete"* ]]
	[[ "$output" == *": Extracting"* ]]
	[[ "$output" == *": Pull complete"* ]]
	[[ "$output" == *"Status: Downloaded newer image for $REG/busybox:1"* ]]
	[ "$(tag_of "$REG/busybox:1")" = "sha256:$id" ]
	[ -f "$STORE/blobs/sha256/$id" ]
	[ "$(jq -r .architecture "$STORE/blobs/sha256/$id")" = amd64 ]
	layer=$(jq -r --arg i "sha256:$id" '.images[$i].layers[0]' "$STORE/images.json")
	[ -x "$STORE/layers/$layer/bin/busybox" ]
	run chroot "$STORE/layers/$layer" /bin/sh -c 'echo hi from the pulled layer'
	[ "$output" = "hi from the pulled layer" ]
	[ -z "$(ls "$STORE/tmp")" ]
}

@test "a second pull says Already exists and Image is up to date" {
	"$DRIVER" "$STORE" "$REG/busybox:1" >/dev/null
	run "$DRIVER" "$STORE" "$REG/busybox:1"
	[ "$status" -eq 0 ]
	[[ "$output" == *": Already exists"* ]]
	[[ "$output" != *"Downloading"* ]]
	[[ "$output" == *"Status: Image is up to date for $REG/busybox:1"* ]]
}

@test "pull by digest verifies the manifest and tags nothing" {
	digest=sha256:$(sha256sum <"$FILE_TMP/m-amd64" | cut -d' ' -f1)
	run "$DRIVER" "$STORE" "$REG/busybox@$digest"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "id sha256:$(cat "$FILE_TMP/amd64.id")" ]
	[ "$(jq '.tags | length' "$STORE/images.json")" = 0 ]
	run "$DRIVER" "$STORE" "$REG/busybox@sha256:$(printf '0%.0s' $(seq 64))"
	[ "$status" -eq 1 ]
	[[ "$output" == *"GET /v2/busybox/manifests/sha256:000"*"HTTP 404"* ]]
}

@test "a name without a registry goes to the default registry as library/NAME and is tagged NAME:TAG" {
	run "$DRIVER" "$STORE" busybox:1 --default-registry "$REG"
	[ "$status" -eq 0 ]
	[ "$(tag_of busybox:1)" = "sha256:$(cat "$FILE_TMP/amd64.id")" ]
	run "$DRIVER" "$STORE" busybox:1
	[ "$status" -eq 1 ]
	[[ "$output" == *"no default registry configured"* ]]
}

@test "an unknown tag fails with the HTTP status and the path" {
	run "$DRIVER" "$STORE" "$REG/busybox:nosuch"
	[ "$status" -eq 1 ]
	[[ "$output" == *"GET /v2/busybox/manifests/nosuch: HTTP 404 (MANIFEST_UNKNOWN"* ]]
	[ ! -e "$STORE/images.json" ]
}

@test "a manifest list with arm64 and amd64 picks linux/amd64" {
	run "$DRIVER" "$STORE" "$REG/busybox:multi"
	echo "$output"
	[ "$status" -eq 0 ]
	id=$(cat "$FILE_TMP/amd64.id")
	[ "${lines[-1]}" = "id sha256:$id" ]
	layer=$(jq -r --arg i "sha256:$id" '.images[$i].layers[0]' "$STORE/images.json")
	[ ! -e "$STORE/layers/$layer/arch" ]
	[ ! -e "$STORE/blobs/sha256/$(cat "$FILE_TMP/arm64.id")" ]
	list=sha256:$(sha256sum <"$FILE_TMP/list.json" | cut -d' ' -f1)
	[ "$(jq -r --arg i "sha256:$id" '.images[$i].repo_digests[0]' "$STORE/images.json")" = "$REG/busybox@$list" ]
}

@test "token auth: an anonymous Bearer token from the realm is used for manifests and blobs" {
	fake_registry --auth token
	run "$DRIVER" "$STORE" "$FAKE_REG/busybox:1"
	echo "$output"
	cat "$TMP/fake.log"
	[ "$status" -eq 0 ]
	grep -qx "GET /token -" "$TMP/fake.log"
	grep -q "^GET /v2/busybox/blobs/sha256:.* Bearer$" "$TMP/fake.log"
	[ "$(tag_of "$FAKE_REG/busybox:1")" = "${lines[-1]#id }" ]
}

@test "token auth with credentials: none or wrong ones are refused, the right ones get a token" {
	fake_registry --auth token-creds --user alice:s3cret
	run "$DRIVER" "$STORE" "$FAKE_REG/busybox:1"
	[ "$status" -eq 1 ]
	[[ "$output" == *"token for /v2/busybox/manifests/1: GET /token: HTTP 401"*"credentials needed"* ]]
	run "$DRIVER" "$STORE" "$FAKE_REG/busybox:1" --auth alice:wrong
	[ "$status" -eq 1 ]
	[[ "$output" == *"HTTP 401 (DENIED: bad credentials): wrong user name or password"* ]]
	run "$DRIVER" "$STORE" "$FAKE_REG/busybox:1" --auth alice:s3cret
	[ "$status" -eq 0 ]
	grep -qx "GET /token Basic" "$TMP/fake.log"
}

@test "Basic auth: the registry's Basic challenge is answered with the credentials" {
	fake_registry --auth basic --user bob:pw
	run "$DRIVER" "$STORE" "$FAKE_REG/busybox:1"
	[ "$status" -eq 1 ]
	[[ "$output" == *"HTTP 401: the registry wants a user name and password"* ]]
	run "$DRIVER" "$STORE" "$FAKE_REG/busybox:1" --auth bob:pw
	[ "$status" -eq 0 ]
}

@test "a tampered layer blob is refused naming both digests, and nothing is tagged" {
	fake_registry --auth token --tamper
	run "$DRIVER" "$STORE" "$FAKE_REG/busybox:1"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" =~ blob\ digest\ mismatch:\ want\ sha256:[0-9a-f]{64},\ got\ sha256:[0-9a-f]{64} ]]
	[[ "$output" == *"GET /v2/busybox/blobs/sha256:"* ]]
	[ ! -e "$STORE/images.json" ] || [ "$(jq '.tags | length' "$STORE/images.json")" = 0 ]
	[ -z "$(ls "$STORE/layers")" ]
	[ -z "$(ls "$STORE/tmp")" ]
}

@test "a redirect to plain HTTP off loopback is refused before connecting" {
	fake_registry --auth token --redirect-http
	run "$DRIVER" "$STORE" "$FAKE_REG/busybox:1"
	[ "$status" -eq 1 ]
	[[ "$output" == *"refusing http://192.0.2.1/blob/sha256:"*"plain HTTP goes only to loopback or an insecure registry"* ]]
}

@test "bad references fail before any request" {
	run "$DRIVER" "$STORE" "$REG/BusyBox:1"
	[ "$status" -eq 1 ]
	[[ "$output" == *"invalid reference format: repository name (BusyBox) must be lowercase"* ]]
	run "$DRIVER" "$STORE" "$REG/busybox:bad tag"
	[ "$status" -eq 1 ]
	[[ "$output" == *"invalid reference format: tag"* ]]
}

@test "an oversized manifest, a malformed one and a missing blob fail naming the limit, the JSON path and the HTTP status" {
	fake_registry --auth token
	run "$DRIVER" "$STORE" "$FAKE_REG/busybox:huge"
	[ "$status" -eq 1 ]
	[[ "$output" == *"GET /v2/busybox/manifests/huge: manifest larger than 4 MiB"* ]]
	run "$DRIVER" "$STORE" "$FAKE_REG/busybox:badlayer"
	[ "$status" -eq 1 ]
	[[ "$output" =~ manifest\ sha256:[0-9a-f]{64}:\ layers\[0\]\.digest:\ expected\ sha256: ]]
	run "$DRIVER" "$STORE" "$FAKE_REG/busybox:missingblob"
	[ "$status" -eq 1 ]
	[[ "$output" == *"image config: GET /v2/busybox/blobs/sha256:0000"*": HTTP 404 (BLOB_UNKNOWN: blob unknown)"* ]]
}

# tls_registry [client]: docker-registry over TLS at 192.0.2.1:5443 (off
# loopback: HTTPS is then required) on the pushed images, in a network
# namespace of its own ($NS, where the driver runs too); with "client",
# it also asks for a client certificate signed by the test CA.
tls_registry() {
	command -v openssl >/dev/null || skip "openssl not installed"
	[ -f "$FILE_TMP/tls/ca.crt" ] || make_tls "$FILE_TMP/tls" 192.0.2.1
	NS=ros-pull-tls-$$
	ip netns add "$NS"
	ip -n "$NS" link set lo up
	ip -n "$NS" addr add 192.0.2.1/32 dev lo
	local d=$FILE_TMP/tls
	registry_config "$TMP/tls.yml" 192.0.2.1:5443 "$FILE_TMP/registry" "$d/server.crt" "$d/server.key" \
		"$([ "${1:-}" = client ] && echo "$d/ca.crt")"
	ip netns exec "$NS" docker-registry serve "$TMP/tls.yml" >"$TMP/tls.log" 2>&1 3>&- &
	TLS_PID=$!
	for _ in $(seq 100); do
		ip netns exec "$NS" bash -c 'exec 3<>/dev/tcp/192.0.2.1/5443' 2>/dev/null && break
		sleep 0.05
	done
	TLS_REG=192.0.2.1:5443
}

tls_stop() {
	if [ -n "${TLS_PID:-}" ]; then
		kill "$TLS_PID" 2>/dev/null || true
		wait "$TLS_PID" 2>/dev/null || true
		TLS_PID=
	fi
	if [ -n "${NS:-}" ]; then
		ip netns del "$NS" 2>/dev/null || true
		NS=
	fi
}

@test "HTTPS: a registry signed by a private CA is refused, naming certs.d; its ca.crt there makes the pull work" {
	tls_registry
	# no certs.d: curl's own verdict against the system's CAs
	run ip netns exec "$NS" "$DRIVER" "$STORE" "$TLS_REG/busybox:1"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"GET /v2/busybox/manifests/1: SSL certificate problem: unable to get local issuer certificate"* ]]
	[[ "$output" != *"private CA"* ]]
	# a certs.d without this host: the error says where its CA goes
	mkdir -p "$TMP/certs.d/other:5000"
	run ip netns exec "$NS" "$DRIVER" "$STORE" "$TLS_REG/busybox:1" --certs-dir "$TMP/certs.d"
	[ "$status" -eq 1 ]
	[[ "$output" == *"SSL certificate problem"*"(a private CA: put its certificate in $TMP/certs.d/$TLS_REG/ca.crt)"* ]]
	mkdir -p "$TMP/certs.d/$TLS_REG"
	cp "$FILE_TMP/tls/ca.crt" "$TMP/certs.d/$TLS_REG/ca.crt"
	run ip netns exec "$NS" "$DRIVER" "$STORE" "$TLS_REG/busybox:1" --certs-dir "$TMP/certs.d"
	echo "$output"
	tls_stop
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "id sha256:$(cat "$FILE_TMP/amd64.id")" ]
	[ "$(tag_of "$TLS_REG/busybox:1")" = "sha256:$(cat "$FILE_TMP/amd64.id")" ]
}

@test "HTTPS with client certificates: NAME.cert and NAME.key in certs.d are presented; a .cert without its key is an error" {
	tls_registry client
	mkdir -p "$TMP/certs.d/$TLS_REG"
	cp "$FILE_TMP/tls/ca.crt" "$TMP/certs.d/$TLS_REG/ca.crt"
	run ip netns exec "$NS" "$DRIVER" "$STORE" "$TLS_REG/busybox:1" --certs-dir "$TMP/certs.d"
	echo "$output"
	[ "$status" -eq 1 ]
	cp "$FILE_TMP/tls/client.cert" "$TMP/certs.d/$TLS_REG/client.cert"
	run ip netns exec "$NS" "$DRIVER" "$STORE" "$TLS_REG/busybox:1" --certs-dir "$TMP/certs.d"
	[ "$status" -eq 1 ]
	[[ "$output" == *"client certificate $TMP/certs.d/$TLS_REG/client.cert: its key $TMP/certs.d/$TLS_REG/client.key: No such file or directory"* ]]
	cp "$FILE_TMP/tls/client.key" "$TMP/certs.d/$TLS_REG/client.key"
	run ip netns exec "$NS" "$DRIVER" "$STORE" "$TLS_REG/busybox:1" --certs-dir "$TMP/certs.d"
	echo "$output"
	tls_stop
	[ "$status" -eq 0 ]
	[ "$(tag_of "$TLS_REG/busybox:1")" = "sha256:$(cat "$FILE_TMP/amd64.id")" ]
}

@test "HTTPS: the system's CA bundle stays trusted beside a certs.d CA" {
	sys=$(curl-config --ca 2>/dev/null || true)
	[ -n "$sys" ] && [ -f "$sys" ] || skip "no system CA bundle (curl-config --ca)"
	tls_registry
	# the system bundle, as this pull sees it, holds the test CA (bound over
	# it in a mount namespace of the driver's own); certs.d has another CA
	cat "$sys" "$FILE_TMP/tls/ca.crt" >"$TMP/bundle.pem"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=another-ca \
		-keyout "$TMP/other.key" -out "$TMP/other.crt" 2>/dev/null
	mkdir -p "$TMP/certs.d/$TLS_REG"
	cp "$TMP/other.crt" "$TMP/certs.d/$TLS_REG/ca.crt"
	run ip netns exec "$NS" unshare -m --propagation private sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' \
		- "$TMP/bundle.pem" "$sys" "$DRIVER" "$STORE" "$TLS_REG/busybox:1" --certs-dir "$TMP/certs.d"
	echo "$output"
	tls_stop
	[ "$status" -eq 0 ]
	[ "$(tag_of "$TLS_REG/busybox:1")" = "sha256:$(cat "$FILE_TMP/amd64.id")" ]
}
