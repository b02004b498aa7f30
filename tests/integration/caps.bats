#!/usr/bin/env bats
# roci: process.capabilities (all five sets) and noNewPrivileges.

load ../lib/ctr

setup() { ctr_setup; }
teardown() { ctr_teardown; }


@test "capabilities: the effective set is what the spec lists" {
	set_args sh -c 'grep CapEff /proc/self/status; grep CapBnd /proc/self/status'
	run roci run --bundle "$BUNDLE" "$ID"
	[[ "$output" == *"CapEff:	0000000020000420"* ]]
	[[ "$output" == *"CapBnd:	0000000020000420"* ]]
}


@test "capabilities: a dropped capability cannot be used" {
	set_args sh -c 'hostname other 2>&1; true'
	run roci run --bundle "$BUNDLE" "$ID"
	[[ "$output" == *"not permitted"* ]]
	set_config '.process.capabilities.bounding += ["CAP_SYS_ADMIN"] | .process.capabilities.effective += ["CAP_SYS_ADMIN"] | .process.capabilities.permitted += ["CAP_SYS_ADMIN"]'
	set_args sh -c 'hostname other && hostname'
	run roci run --bundle "$BUNDLE" "$ID"
	[ "$output" = other ]
}


@test "ambient capabilities reach a non-root process" {
	set_config '.process.user = {"uid": 1000, "gid": 1000} | .process.capabilities.inheritable = ["CAP_KILL"] | .process.capabilities.ambient = ["CAP_KILL"]'
	set_args grep CapAmb /proc/self/status
	run roci run --bundle "$BUNDLE" "$ID"
	[[ "$output" == *"CapAmb:	0000000000000020"* ]]
}


@test "noNewPrivileges is set" {
	set_args grep NoNewPrivs /proc/self/status
	run roci run --bundle "$BUNDLE" "$ID"
	[[ "$output" == *"NoNewPrivs:	1"* ]]
}
