#!/usr/bin/env bats
# userctr driven by the real docker CLI over its unix socket, state in a temp --root.

setup() {
	command -v docker >/dev/null || skip "docker CLI not installed (scripts/install-deps.sh)"
	command -v busybox >/dev/null || skip "busybox not installed"
	TMP=$(mktemp -d)
	SOCK="$TMP/docker.sock"
	"$ROS_BUILD/bin/userctr" --host "unix://$SOCK" --root "$TMP/root" 2>"$TMP/userctr.log" &
	PID=$!
	for _ in $(seq 100); do
		[ -S "$SOCK" ] && break
		sleep 0.05
	done
	[ -S "$SOCK" ]
	export DOCKER_HOST="unix://$SOCK" DOCKER_CONFIG="$TMP/docker-config"
}

teardown() {
	local rc=0
	if [ -n "${PID:-}" ]; then
		kill "$PID" 2>/dev/null || true
		wait "$PID" 2>/dev/null || rc=$?
	fi
	# SIGTERM is a clean stop: a non-zero exit is a crash or (under ASan) a leak.
	if [ "$rc" -ne 0 ]; then
		echo "userctr exited $rc:" >&2
		cat "$TMP/userctr.log" >&2
	fi
	[ -n "${TMP:-}" ] && rm -rf "$TMP"
	[ "$rc" -eq 0 ]
}

# make_archive OUT TAG LAYER_TAR...: a `docker save` archive.
make_archive() {
	local out=$1 tag=$2
	shift 2
	local dir="$TMP/arc.$$.$RANDOM" layers="" diffs="" l h
	mkdir -p "$dir"
	for l in "$@"; do
		h=$(sha256sum "$l" | cut -d' ' -f1)
		mkdir -p "$dir/$h"
		cp "$l" "$dir/$h/layer.tar"
		layers="$layers${layers:+,}\"$h/layer.tar\""
		diffs="$diffs${diffs:+,}\"sha256:$h\""
	done
	cat >"$dir/config.json" <<-JSON
	{"architecture":"amd64","os":"linux","created":"2024-01-02T03:04:05Z",
	 "config":{"Cmd":["sh"],"Env":["PATH=/bin"],"WorkingDir":"/","Labels":{"org.ros.test":"yes"}},
	 "rootfs":{"type":"layers","diff_ids":[$diffs]}}
	JSON
	h=$(sha256sum "$dir/config.json" | cut -d' ' -f1)
	mv "$dir/config.json" "$dir/$h.json"
	printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":[%s]}]' "$h" "$tag" "$layers" >"$dir/manifest.json"
	tar -C "$dir" -cf "$out" .
	rm -rf "$dir"
	echo "$h"
}

busybox_layer() {
	local r="$TMP/rootfs"
	mkdir -p "$r/bin" "$r/etc" "$r/tmp"
	cp "$(command -v busybox)" "$r/bin/busybox"
	for a in sh echo ls cat sleep; do ln -sf busybox "$r/bin/$a"; done
	echo "root:x:0:0:root:/root:/bin/sh" >"$r/etc/passwd"
	tar -C "$r" -cf "$TMP/busybox-layer.tar" .
	echo "$TMP/busybox-layer.tar"
}

@test "docker version reports API 1.44 from userctr" {
	run docker version --format '{{.Server.APIVersion}} {{.Server.Os}}'
	[ "$status" -eq 0 ]
	[ "$output" = "1.44 linux" ]
	run docker version
	[[ "$output" == *"API version:       1.44 (downgraded from"* ]] || [[ "$output" == *"1.44"* ]]
}

@test "the API socket is mode 0660" {
	[ "$(stat -c %a "$SOCK")" = "660" ]
}

@test "docker info shows the root dir and image count" {
	run docker info --format '{{.DockerRootDir}} {{.Images}} {{.OSType}}'
	[ "$status" -eq 0 ]
	[ "$output" = "$(realpath "$TMP/root") 0 linux" ]
}

@test "every response carries Api-Version; versioned and bare paths both work" {
	run curl -s -i --unix-socket "$SOCK" http://d/_ping
	[[ "$output" == *"Api-Version: 1.44"* ]]
	[[ "$output" == *"OK"* ]]
	run curl -s --unix-socket "$SOCK" http://d/v1.41/version
	[[ "$output" == *'"ApiVersion":"1.44"'* ]]
}

@test "unknown endpoints and too-new versions get Docker-style JSON errors" {
	run curl -s -o "$TMP/body" -w '%{http_code}' --unix-socket "$SOCK" http://d/v1.44/nosuch
	[ "$output" = "404" ]
	grep -q '"message":"page not found: GET /nosuch"' "$TMP/body"
	run curl -s -o "$TMP/body" -w '%{http_code}' --unix-socket "$SOCK" http://d/v1.99/version
	[ "$output" = "400" ]
	grep -q 'client version is too new' "$TMP/body"
}

@test "docker load of a busybox docker-archive, then images, inspect, tag, rmi" {
	layer=$(busybox_layer)
	id=$(make_archive "$TMP/bb.tar" busybox:latest "$layer")
	run docker load -i "$TMP/bb.tar"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Loaded image: busybox:latest"* ]]

	run docker images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
	[ "$status" -eq 0 ]
	[ "$output" = "busybox:latest ${id:0:12}" ]

	run docker image inspect --format '{{.Id}} {{json .Config.Cmd}} {{index .Config.Labels "org.ros.test"}} {{.Os}}' busybox
	[ "$status" -eq 0 ]
	[ "$output" = "sha256:$id [\"sh\"] yes linux" ]
	run docker inspect --format '{{.Id}}' busybox:latest
	[ "$output" = "sha256:$id" ]

	# The layer is unpacked with the busybox binary in it.
	run docker image inspect --format '{{.GraphDriver.Data.LowerDir}}' busybox
	[ -x "$output/bin/busybox" ]
	[ -L "$output/bin/sh" ]

	run docker tag busybox mine/bb:v1
	[ "$status" -eq 0 ]
	run docker images --format '{{.Repository}}:{{.Tag}}'
	[[ "$output" == *"mine/bb:v1"* ]]

	run docker rmi "${id:0:12}"
	[ "$status" -ne 0 ]
	[[ "$output" == *"must be forced"* ]]

	run docker rmi mine/bb:v1
	[ "$status" -eq 0 ]
	[[ "$output" == *"Untagged: mine/bb:v1"* ]]
	run docker rmi busybox
	[ "$status" -eq 0 ]
	[[ "$output" == *"Deleted: sha256:$id"* ]]
	run docker images -q
	[ -z "$output" ]
	[ -z "$(ls "$TMP/root/layers")" ]
}

@test "the state survives a daemon restart" {
	layer=$(busybox_layer)
	make_archive "$TMP/bb.tar" busybox:1 "$layer" >/dev/null
	docker load -i "$TMP/bb.tar"
	kill "$PID"
	wait "$PID" || true
	"$ROS_BUILD/bin/userctr" --host "unix://$SOCK" --root "$TMP/root" 2>>"$TMP/userctr.log" &
	PID=$!
	for _ in $(seq 100); do
		[ -S "$SOCK" ] && break
		sleep 0.05
	done
	run docker images --format '{{.Repository}}:{{.Tag}}'
	[ "$output" = "busybox:1" ]
}

@test "missing images are 404 with No such image" {
	run docker rmi nosuch
	[ "$status" -ne 0 ]
	[[ "$output" == *"Error response from daemon: No such image: nosuch"* ]]
	run docker image inspect nosuch
	[ "$status" -ne 0 ]
	[[ "$output" == *"No such image: nosuch"* ]]
	run curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -X DELETE http://d/v1.44/images/nosuch
	[ "$output" = "404" ]
}

@test "a hostile layer with ../ is rejected and nothing lands outside the store" {
	mkdir -p "$TMP/evil"
	python3 - "$TMP/evil/layer.tar" <<-'PY'
	import io, sys, tarfile
	with tarfile.open(sys.argv[1], "w") as t:
	    ti = tarfile.TarInfo("../../../../escaped-by-userctr-test"); ti.size = 1
	    t.addfile(ti, io.BytesIO(b"x"))
	PY
	make_archive "$TMP/evil.tar" evil:latest "$TMP/evil/layer.tar" >/dev/null
	run docker load -i "$TMP/evil.tar"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Error response from daemon:"*"escaped-by-userctr-test"*"leaves the root"* ]]
	[ ! -e /escaped-by-userctr-test ]
	[ ! -e "$TMP/escaped-by-userctr-test" ]
	run docker images -q
	[ -z "$output" ]
}

@test "a hostile layer writing through its own symlink is rejected" {
	mkdir -p "$TMP/evil" "$TMP/outside"
	python3 - "$TMP/evil/layer.tar" "$TMP/outside" <<-'PY'
	import io, sys, tarfile
	with tarfile.open(sys.argv[1], "w") as t:
	    ti = tarfile.TarInfo("link"); ti.type = tarfile.SYMTYPE; ti.linkname = sys.argv[2]
	    t.addfile(ti)
	    ti = tarfile.TarInfo("link/pwned"); ti.size = 1
	    t.addfile(ti, io.BytesIO(b"x"))
	PY
	make_archive "$TMP/evil.tar" evil:latest "$TMP/evil/layer.tar" >/dev/null
	run docker load -i "$TMP/evil.tar"
	[ "$status" -ne 0 ]
	[[ "$output" == *"link/pwned"* ]]
	[ ! -e "$TMP/outside/pwned" ]
	[ -z "$(ls "$TMP/root/tmp")" ]
}

@test "a load that is not an image archive is a 400 naming the problem" {
	echo "not a tarball" >"$TMP/junk"
	run docker load -i "$TMP/junk"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Error response from daemon:"* ]]
	run curl -s -o "$TMP/body" -w '%{http_code}' --unix-socket "$SOCK" -X POST \
		-H 'Content-Type: application/x-tar' --data-binary @"$TMP/junk" http://d/v1.44/images/load
	[ "$output" = "400" ]
	grep -q '"message":"image archive' "$TMP/body"
}

@test "docker events streams image tag and untag events" {
	layer=$(busybox_layer)
	make_archive "$TMP/bb.tar" busybox:latest "$layer" >/dev/null
	docker load -i "$TMP/bb.tar"
	docker events --format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}' >"$TMP/events" 2>&1 &
	EV=$!
	# The stream is open once the daemon has a subscriber; tag until the event shows.
	for i in $(seq 50); do
		docker tag busybox "ev/t:$i"
		grep -q "image tag ev/t:" "$TMP/events" && break
		sleep 0.1
	done
	docker rmi ev/t:1
	for _ in $(seq 50); do
		grep -q "image untag ev/t:1" "$TMP/events" && break
		sleep 0.1
	done
	kill "$EV"
	wait "$EV" || true
	grep -q "image tag ev/t:" "$TMP/events"
	grep -q "image untag ev/t:1" "$TMP/events"
	# The daemon still answers, and stops cleanly with a stream open.
	docker events >/dev/null 2>&1 &
	EV=$!
	docker version >/dev/null
	kill "$PID"
	wait "$PID"
	PID=
	kill "$EV" 2>/dev/null || true
	wait "$EV" || true
}
