#!/usr/bin/env bats
# roci: linux.seccomp through libseccomp.

load ../lib/ctr

setup() { ctr_setup; }
teardown() { ctr_teardown; }


@test "seccomp: errno action with an argument condition, default allow" {
	set_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}, {"names": ["no_such_syscall"], "action": "SCMP_ACT_ERRNO"}]}'
	set_args sh -c 'mkdir /tmp/d 2>&1; echo done'
	run roci run --bundle "$BUNDLE" "$ID"
	[[ "$output" == *"Permission denied"* ]]
	[[ "$output" == *done* ]]
}


@test "seccomp: an unknown action is an error naming its path" {
	set_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_EXPLODE"}]}'
	run roci create --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *'linux.seccomp.syscalls[0].action: unknown action "SCMP_ACT_EXPLODE"'* ]]
}
