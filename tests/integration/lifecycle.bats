#!/usr/bin/env bats
# The OCI lifecycle: create, start, state, kill, delete, run.

load ../lib/ctr

setup() { ctr_setup; }
teardown() { ctr_teardown; }

@test "run executes the process and returns its exit status" {
	set_args sh -c 'echo out; exit 3'
	run roci run --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 3 ]
	[ "$output" = out ]
	run roci state "$ID"
	[ "$status" -ne 0 ]
}

@test "create leaves the process waiting; state says created with its pid" {
	set_args sh -c 'echo started >/tmp/marker; sleep 100'
	roci create --bundle "$BUNDLE" "$ID"
	run roci state "$ID"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r .status)" = created ]
	[ "$(echo "$output" | jq -r .ociVersion)" = 1.0.2 ]
	[ "$(echo "$output" | jq -r .bundle)" = "$(realpath "$BUNDLE")" ]
	pid=$(echo "$output" | jq -r .pid)
	[ "$pid" -gt 0 ]
	kill -0 "$pid"
	[ ! -e "$BUNDLE/rootfs/tmp/marker" ]
}

@test "start runs the process; state says running" {
	set_args sh -c 'echo started >/tmp/marker; sleep 100'
	roci create --bundle "$BUNDLE" "$ID"
	roci start "$ID"
	for _ in $(seq 50); do [ -e "$BUNDLE/rootfs/tmp/marker" ] && break; sleep 0.1; done
	[ "$(cat "$BUNDLE/rootfs/tmp/marker")" = started ]
	[ "$(roci state "$ID" | jq -r .status)" = running ]
}

@test "start on a running container fails" {
	set_args sleep 100
	roci create --bundle "$BUNDLE" "$ID"
	roci start "$ID"
	run roci start "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"is running, not created"* ]]
}

@test "kill sends the signal; the container becomes stopped" {
	set_args sleep 100
	roci create --bundle "$BUNDLE" "$ID"
	roci start "$ID"
	roci kill "$ID" KILL
	for _ in $(seq 50); do [ "$(roci state "$ID" | jq -r .status)" = stopped ] && break; sleep 0.1; done
	[ "$(roci state "$ID" | jq -r .status)" = stopped ]
}

@test "kill accepts signal names with and without SIG, and numbers" {
	set_args sleep 100
	roci create --bundle "$BUNDLE" "$ID"
	roci start "$ID"
	roci kill "$ID" SIGCONT
	roci kill "$ID" CONT
	roci kill "$ID" 18
	run roci kill "$ID" NOSUCHSIG
	[ "$status" -ne 0 ]
	[[ "$output" == *'unknown signal "NOSUCHSIG"'* ]]
}

@test "kill on a stopped container fails" {
	set_args true
	roci create --bundle "$BUNDLE" "$ID"
	roci start "$ID"
	for _ in $(seq 50); do [ "$(roci state "$ID" | jq -r .status)" = stopped ] && break; sleep 0.1; done
	run roci kill "$ID" TERM
	[ "$status" -ne 0 ]
	[[ "$output" == *"is not running"* ]]
}

@test "delete of a running container fails without --force and works with it" {
	set_args sleep 100
	roci create --bundle "$BUNDLE" "$ID"
	roci start "$ID"
	pid=$(roci state "$ID" | jq -r .pid)
	run roci delete "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"is running: stop it first or use --force"* ]]
	roci delete --force "$ID"
	! kill -0 "$pid" 2>/dev/null
	run roci state "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"does not exist"* ]]
}

@test "delete of a created (never started) container fails without --force, as the spec says" {
	set_args true
	roci create --bundle "$BUNDLE" "$ID"
	run roci delete "$ID"
	[ "$status" -ne 0 ]
	roci delete --force "$ID"
}

@test "delete removes the state directory and the cgroup" {
	set_args true
	roci create --bundle "$BUNDLE" "$ID"
	cg=$(jq -r .cgroup_path "$STATE/$ID/state.json")
	[ -d "/sys/fs/cgroup/memory$cg" ] || [ -d "/sys/fs/cgroup$cg" ]
	roci start "$ID"
	for _ in $(seq 50); do [ "$(roci state "$ID" | jq -r .status)" = stopped ] && break; sleep 0.1; done
	roci delete "$ID"
	[ ! -e "$STATE/$ID" ]
	[ ! -d "/sys/fs/cgroup/memory$cg" ] && [ ! -d "/sys/fs/cgroup/pids$cg" ]
}

@test "run --detach returns at once and the container keeps running" {
	set_args sleep 100
	roci run --detach --bundle "$BUNDLE" "$ID"
	[ "$(roci state "$ID" | jq -r .status)" = running ]
}

@test "pid-file holds the container's pid" {
	set_args sleep 100
	roci create --bundle "$BUNDLE" --pid-file "$BUNDLE/pid" "$ID"
	[ "$(cat "$BUNDLE/pid")" = "$(roci state "$ID" | jq -r .pid)" ]
}

@test "list shows containers with their status" {
	set_args sleep 100
	roci create --bundle "$BUNDLE" "$ID"
	run roci list
	[[ "$output" == *"$ID"*created* ]]
	run roci list -q
	[ "$output" = "$ID" ]
	[ "$(roci list --format json | jq -r '.[0].id')" = "$ID" ]
}

@test "a reused pid is never signalled: state checks the process start time" {
	set_args sleep 100
	roci run --detach --bundle "$BUNDLE" "$ID"
	pid=$(roci state "$ID" | jq -r .pid)
	# pretend the recorded process started at another time (as if its pid were reused)
	jq '.start_time = 1' "$STATE/$ID/state.json" >"$STATE/s" && mv "$STATE/s" "$STATE/$ID/state.json"
	[ "$(roci state "$ID" | jq -r .status)" = stopped ]
	run roci kill "$ID" KILL
	[ "$status" -ne 0 ]
	kill -0 "$pid"
}

@test "pause freezes and resume thaws the container" {
	set_args sleep 100
	roci run --detach --bundle "$BUNDLE" "$ID"
	roci pause "$ID"
	[ "$(roci state "$ID" | jq -r .status)" = paused ]
	run roci pause "$ID"
	[ "$status" -ne 0 ]
	roci resume "$ID"
	[ "$(roci state "$ID" | jq -r .status)" = running ]
}

@test "ps lists the processes of the container" {
	set_args sh -c 'sleep 100 & sleep 100'
	roci run --detach --bundle "$BUNDLE" "$ID"
	sleep 0.3
	[ "$(roci ps --format json "$ID" | jq length)" -ge 2 ]
	[[ "$(roci ps "$ID")" == PID* ]]
}

@test "spec writes a default config.json and refuses to overwrite one" {
	d=$(mktemp -d)
	(cd "$d" && "$ROCI" spec)
	[ "$(jq -r .ociVersion "$d/config.json")" = 1.1.0 ]
	run sh -c "cd '$d' && '$ROCI' spec"
	[ "$status" -ne 0 ]
	(cd "$d" && rm config.json && "$ROCI" spec --rootless)
	[ "$(jq -r '.linux.namespaces | map(.type) | index("user") != null' "$d/config.json")" = true ]
	rm -rf "$d"
}

@test "features prints JSON" {
	run "$ROCI" features
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r .ociVersionMax)" = 1.1.0 ]
}
