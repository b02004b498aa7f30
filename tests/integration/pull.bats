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
	cat >"$TMP/registry.yml" <<-YML
	version: 0.1
	log:
	  level: error
	storage:
	  filesystem:
	    rootdirectory: $TMP/registry
	http:
	  addr: 127.0.0.1:$port
	YML
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
