#!/usr/bin/env bats
# roci: linux.resources on cgroup v1 (this host); update.bats has the rest.

load ../lib/ctr

setup() { ctr_setup; }
teardown() { ctr_teardown; }


@test "memory limit is enforced in the cgroup (v1)" {
	[ -d /sys/fs/cgroup/memory ] || skip "no cgroup v1 memory hierarchy"
	set_config '.linux.resources.memory = {"limit": 16777216} | .linux.resources.pids = {"limit": 20}'
	set_args sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; dd if=/dev/zero of=/dev/shm/f bs=1M count=64 2>/dev/null && echo survived'
	set_config '.mounts |= map(if .destination == "/dev/shm" then .options = ["nosuid","nodev","mode=1777","size=128m"] else . end)'
	run roci run --bundle "$BUNDLE" "$ID"
	[ "${lines[0]}" = 16777216 ]
	[ "${lines[1]}" = 20 ]
	[[ "$output" != *survived* ]]
	[ "$status" -eq 137 ]
}

@test "cpu shares, quota and period, and the cpuset land in the container's v1 cgroup" {
	[ -d /sys/fs/cgroup/cpu ] || skip "no cgroup v1 cpu hierarchy"
	set_config ".linux.cgroupsPath = \"/roci-test/$ID\" | .linux.resources.cpu = {\"shares\": 512, \"quota\": 50000, \"period\": 100000, \"cpus\": \"0\", \"mems\": \"0\"}"
	set_args sleep 100
	roci run -d --bundle "$BUNDLE" "$ID"
	[ "$(cat /sys/fs/cgroup/cpu/roci-test/"$ID"/cpu.shares)" = 512 ]
	[ "$(cat /sys/fs/cgroup/cpu/roci-test/"$ID"/cpu.cfs_quota_us)" = 50000 ]
	[ "$(cat /sys/fs/cgroup/cpu/roci-test/"$ID"/cpu.cfs_period_us)" = 100000 ]
	[ "$(cat /sys/fs/cgroup/cpuset/roci-test/"$ID"/cpuset.cpus)" = 0 ]
	pid=$(roci state "$ID" | jq .pid)
	grep -q "/roci-test/$ID" /proc/"$pid"/cgroup
	roci delete --force "$ID"
	[ ! -d /sys/fs/cgroup/cpu/roci-test/"$ID" ]
	rmdir /sys/fs/cgroup/*/roci-test 2>/dev/null || true
}

@test "pids.limit stops forks past the limit (v1)" {
	[ -d /sys/fs/cgroup/pids ] || skip "no cgroup v1 pids hierarchy"
	set_config '.linux.resources.pids = {"limit": 3}'
	set_args sh -c 'for i in 1 2 3 4 5 6; do sleep 5 & done 2>&1; echo done'
	run roci run --bundle "$BUNDLE" "$ID"
	echo "$output"
	[[ "$output" == *"can't fork"* ]] || [[ "$output" == *"Resource temporarily unavailable"* ]]
}
