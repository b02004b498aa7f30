#!/usr/bin/env bats
# podman with roci as its OCI runtime (cgroupfs manager; rlimits within root's
# hard limits, see the peers notes).

load ../lib/ctr

IMAGE=localhost/roci-bats:latest

setup_file() {
	command -v podman >/dev/null || skip "podman is not installed"
	export BUNDLE
	BUNDLE=$(mktemp -d)
	make_bundle "$BUNDLE"
	tar -C "$BUNDLE/rootfs" -cf "$BUNDLE/rootfs.tar" .
	podman import "$BUNDLE/rootfs.tar" "$IMAGE" >/dev/null
}

teardown_file() {
	podman rm -f -a --filter "ancestor=$IMAGE" >/dev/null 2>&1 || true
	podman rmi -f "$IMAGE" >/dev/null 2>&1 || true
	rm -rf "$BUNDLE"
}

pod() {
	podman --cgroup-manager=cgroupfs --runtime "$ROCI" "$@"
}

RUNOPTS=(--ulimit nofile=1024:1024 --ulimit nproc=1000:1000)

@test "podman run --rm with roci runs the command and gives its output" {
	run pod run --rm "${RUNOPTS[@]}" "$IMAGE" sh -c 'echo hello; id -u'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = hello ]
	[ "${lines[1]}" = 0 ]
}

@test "podman run passes the exit status through" {
	run pod run --rm "${RUNOPTS[@]}" "$IMAGE" sh -c 'exit 7'
	[ "$status" -eq 7 ]
}

@test "podman run -d, ps, exec, stop and rm" {
	id=$(pod run -d "${RUNOPTS[@]}" "$IMAGE" sleep 100)
	run pod ps -q --no-trunc
	[[ "$output" == *"$id"* ]]
	run pod exec "$id" sh -c 'echo in-exec; exit 3'
	[ "$status" -eq 3 ]
	[ "$output" = in-exec ]
	pod stop -t 1 "$id"
	run pod inspect -f '{{.State.Status}}' "$id"
	[ "$output" = exited ]
	pod rm "$id"
	run pod ps -a -q --no-trunc
	[[ "$output" != *"$id"* ]]
}

@test "podman run -it gets a terminal from roci (console socket)" {
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	run script -qec "podman --cgroup-manager=cgroupfs --runtime $ROCI run --rm -it ${RUNOPTS[*]} $IMAGE sh -c 'tty; echo tty-ok'" /dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == */dev/pts/* ]]
	[[ "$output" == *tty-ok* ]]
}
