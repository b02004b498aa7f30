#!/usr/bin/env bats
# Bad input: a clear error, a non-zero exit, and nothing left behind.

load ../lib/ctr

setup() { ctr_setup; }
teardown() { ctr_teardown; }

leftovers() {
	# no state dir, no cgroup, no process of this container
	[ -z "$(ls "$STATE")" ] || return 1
	! ls -d /sys/fs/cgroup/*/roci/"$ID" >/dev/null 2>&1 || return 1
	! pgrep -f "$BUNDLE" >/dev/null || return 1
}

@test "malformed config.json: error names the file and position" {
	echo '{"ociVersion": "1.0.2", ' >"$BUNDLE/config.json"
	run roci create --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"config.json:2:"*"expected"* ]]
	leftovers
}

@test "a value of the wrong type: error names the JSON path" {
	set_config '.linux.resources.memory.limit = "lots"'
	run roci create --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"linux.resources.memory.limit: expected integer, got string"* ]]
	leftovers
}

@test "unknown properties are ignored" {
	set_config '.frobnicate = {"x": 1} | .process.whatever = true'
	set_args true
	run roci run --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
}

@test "unknown capability names are an error" {
	set_config '.process.capabilities.bounding += ["CAP_NOT_A_CAP"]'
	run roci create --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *'process.capabilities.bounding[3]: unknown capability "CAP_NOT_A_CAP"'* ]]
	leftovers
}

@test "missing bundle" {
	run roci create --bundle /nonexistent/bundle "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"/nonexistent/bundle"*"No such file or directory"* ]]
	leftovers
}

@test "a duplicate id is refused and the first container is untouched" {
	set_args sleep 100
	roci create --bundle "$BUNDLE" "$ID"
	run roci create --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"already exists"* ]]
	[ "$(roci state "$ID" | jq -r .status)" = created ]
}

@test "an invalid id is refused" {
	run roci create --bundle "$BUNDLE" "../escape"
	[ "$status" -ne 0 ]
	[[ "$output" == *"invalid container id"* ]]
}

@test "operations on an unknown id fail without side effects" {
	for op in start state kill delete pause resume ps; do
		run roci "$op" nosuch
		[ "$status" -ne 0 ]
		[[ "$output" == *'"nosuch" does not exist'* ]]
	done
	[ -z "$(ls "$STATE")" ]
}

@test "a mount target that symlinks outside the rootfs stays inside it" {
	outside=$(mktemp -d)
	ln -s "$outside" "$BUNDLE/rootfs/escape"
	set_config ".mounts += [{\"destination\": \"/escape/x\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"}]"
	set_args sh -c 'touch /escape/x/inside'
	run roci run --bundle "$BUNDLE" "$ID"
	[ -z "$(ls -A "$outside")" ]
	! findmnt -rn "$outside/x" >/dev/null
	rm -rf "$outside"
}

@test "a program that does not exist fails at create" {
	set_args /bin/nope
	run roci create --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"exec /bin/nope: not found"* ]]
	leftovers
}

@test "a hook that hangs is killed at its timeout and nothing is left behind" {
	printf '#!/bin/sh\nsleep 60\n' >"$BUNDLE/hang.sh"
	chmod +x "$BUNDLE/hang.sh"
	set_config ".hooks.prestart = [{\"path\": \"$BUNDLE/hang.sh\", \"timeout\": 1}]"
	set_args true
	start=$SECONDS
	run roci create --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"prestart hook 0: hook $BUNDLE/hang.sh: killed after its timeout of 1 s"* ]]
	[ $((SECONDS - start)) -lt 10 ]
	leftovers
}

@test "a failing mount fails create and leaves nothing behind" {
	set_config '.mounts += [{"destination": "/data", "type": "bind", "source": "/nonexistent-src"}]'
	run roci create --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"bind mount /nonexistent-src on /data"* ]]
	leftovers
}

@test "terminal without a console socket is refused" {
	set_config '.process.terminal = true'
	run roci create --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	leftovers
}

@test "--log FILE gets the error, as a JSON line with --log-format json (what containerd and podman read)" {
	run roci --log "$STATE/json.log" --log-format json state nosuch
	[ "$status" -ne 0 ]
	jq -e '.level == "error" and (.msg | contains("nosuch")) and (.time | test("^[0-9]{4}-"))' "$STATE/json.log"
	run roci --log "$STATE/text.log" state nosuch
	[ "$status" -ne 0 ]
	grep -E '^roci: error: container "nosuch" does not exist$' "$STATE/text.log"
}
