#!/usr/bin/env bats
# roci: process.rlimits, oomScoreAdj, linux.sysctl.

load ../lib/ctr

setup() { ctr_setup; }
teardown() { ctr_teardown; }


@test "rlimits are applied; soft above hard is refused" {
	set_config '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 256, "hard": 512}, {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}]'
	set_args sh -c 'ulimit -n; ulimit -Hn; ulimit -c'
	run roci run --bundle "$BUNDLE" "$ID"
	[ "$output" = $'256\n512\n0' ]
	set_config '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 600, "hard": 512}]'
	run roci create --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"process.rlimits[0]: soft limit 600 is above the hard limit 512"* ]]
}


@test "oomScoreAdj and sysctl" {
	set_config '.process.oomScoreAdj = 500 | .linux.sysctl = {"net.ipv4.ip_forward": "1"} | .linux.readonlyPaths = []'
	set_args sh -c 'cat /proc/self/oom_score_adj /proc/sys/net/ipv4/ip_forward'
	run roci run --bundle "$BUNDLE" "$ID"
	[ "$output" = $'500\n1' ]
}
