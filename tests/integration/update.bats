#!/usr/bin/env bats
# roci update: new cgroup limits for a live container, as runc update.

load ../lib/ctr

setup() {
	ctr_setup
	set_args sleep 1000
	roci run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
}
teardown() { ctr_teardown; }

cgroup_v2() { [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; }

need_v1() {
	! cgroup_v2 || skip "the host has cgroup v2 only; these checks read v1 files"
}

# cg CONTROLLER FILE: a v1 file of the container's cgroup
cg() { cat "/sys/fs/cgroup/$1/roci/$ID/$2"; }

# saved RESOURCE-JQ: the value the container's saved config.json records
saved() { jq -c ".linux.resources$1" "$STATE/$ID/config.json"; }

@test "update sets the memory limit, reservation and swap of a running container" {
	need_v1
	roci update --memory 64m --memory-reservation 32M --memory-swap 128MiB "$ID"
	[ "$(cg memory memory.limit_in_bytes)" = $((64 << 20)) ]
	[ "$(cg memory memory.soft_limit_in_bytes)" = $((32 << 20)) ]
	[ ! -e "/sys/fs/cgroup/memory/roci/$ID/memory.memsw.limit_in_bytes" ] ||
		[ "$(cg memory memory.memsw.limit_in_bytes)" = $((128 << 20)) ]
	[ "$(roci state "$ID" | jq -r .status)" = running ]
}

@test "update raises memory and swap together in the order the kernel accepts" {
	need_v1
	[ -e "/sys/fs/cgroup/memory/roci/$ID/memory.memsw.limit_in_bytes" ] || skip "no swap accounting on this kernel"
	roci update --memory 64m --memory-swap 64m "$ID"
	# memsw must grow first, or the new limit would exceed the old memsw
	roci update --memory 256m --memory-swap 512m "$ID"
	[ "$(cg memory memory.limit_in_bytes)" = $((256 << 20)) ]
	[ "$(cg memory memory.memsw.limit_in_bytes)" = $((512 << 20)) ]
	# and shrinking goes the other way round
	roci update --memory 32m --memory-swap 48m "$ID"
	[ "$(cg memory memory.limit_in_bytes)" = $((32 << 20)) ]
	[ "$(cg memory memory.memsw.limit_in_bytes)" = $((48 << 20)) ]
}

@test "update --memory -1 removes the memory and swap limits" {
	need_v1
	roci update --memory 64m "$ID"
	roci update --memory -1 "$ID"
	[ "$(cg memory memory.limit_in_bytes)" -gt $((1 << 50)) ]
	[ "$(saved .memory)" = '{"limit":-1,"swap":-1}' ]
}

@test "update sets cpu shares, quota and period" {
	need_v1
	roci update --cpu-shares 512 --cpu-quota 50000 --cpu-period 200000 "$ID"
	[ "$(cg cpu cpu.shares)" = 512 ]
	[ "$(cg cpu cpu.cfs_quota_us)" = 50000 ]
	[ "$(cg cpu cpu.cfs_period_us)" = 200000 ]
	roci update --cpu-quota -1 "$ID"
	[ "$(cg cpu cpu.cfs_quota_us)" = -1 ]
}

@test "update sets the real-time cpu period" {
	need_v1
	[ -e "/sys/fs/cgroup/cpu/roci/$ID/cpu.rt_period_us" ] || skip "the kernel has no RT group scheduling"
	roci update --cpu-rt-period 500000 "$ID"
	[ "$(cg cpu cpu.rt_period_us)" = 500000 ]
}

@test "update sets the cpuset cpus and mems" {
	need_v1
	roci update --cpuset-cpus 0 --cpuset-mems 0 "$ID"
	[ "$(cg cpuset cpuset.cpus)" = 0 ]
	[ "$(cg cpuset cpuset.mems)" = 0 ]
	pid=$(roci state "$ID" | jq .pid)
	grep -q '^Cpus_allowed_list:[[:space:]]*0$' "/proc/$pid/status"
}

@test "update sets the pids limit and it blocks forks in the container" {
	need_v1
	forks='p=""; for i in 1 2 3 4; do sleep 30 & p="$p $!"; done; echo forked; kill $p; wait'
	run roci exec "$ID" sh -c "$forks"
	[ "$status" -eq 0 ]
	[ "$output" = forked ]
	# room for init, the shell and two children
	roci update --pids-limit 4 "$ID"
	[ "$(cg pids pids.max)" = 4 ]
	run roci exec "$ID" sh -c "$forks"
	[ "$status" -ne 0 ]
	[[ "$output" == *"can't fork"* ]]
	[[ "$output" != *forked* ]]
	roci update --pids-limit -1 "$ID"
	[ "$(cg pids pids.max)" = max ]
}

@test "update sets the blkio weight" {
	need_v1
	[ -e "/sys/fs/cgroup/blkio/roci/$ID/blkio.weight" ] || [ -e "/sys/fs/cgroup/blkio/roci/$ID/blkio.bfq.weight" ] ||
		skip "no blkio weight on this host (no CFQ or BFQ scheduler)"
	roci update --blkio-weight 300 "$ID"
	cat "/sys/fs/cgroup/blkio/roci/$ID/blkio.weight" "/sys/fs/cgroup/blkio/roci/$ID/blkio.bfq.weight" 2>/dev/null |
		grep -qw 300
}

@test "update --resources FILE applies a linux.resources document" {
	need_v1
	cat >"$BUNDLE/res.json" <<-'EOF'
		{"memory": {"limit": 100000000}, "cpu": {"shares": 300, "quota": 20000, "period": 100000},
		 "pids": {"limit": 50}}
	EOF
	roci update --resources "$BUNDLE/res.json" "$ID"
	[ "$(cg memory memory.limit_in_bytes)" = $((100000000 / 4096 * 4096)) ]
	[ "$(cg cpu cpu.shares)" = 300 ]
	[ "$(cg cpu cpu.cfs_quota_us)" = 20000 ]
	[ "$(cg pids pids.max)" = 50 ]
}

@test "update -r - reads the document from stdin, and options override it" {
	need_v1
	echo '{"pids": {"limit": 60}, "cpu": {"shares": 400}}' | roci update -r - --cpu-shares 700 "$ID"
	[ "$(cg pids pids.max)" = 60 ]
	[ "$(cg cpu cpu.shares)" = 700 ]
}

@test "update records the values in the saved config and later updates build on them" {
	roci update --cpu-quota 30000 --cpu-period 100000 --pids-limit 40 "$ID"
	roci update --cpu-period 150000 "$ID"
	[ "$(saved .cpu.quota)" = 30000 ]
	[ "$(saved .cpu.period)" = 150000 ]
	[ "$(saved .pids.limit)" = 40 ]
	# the devices the container was created with are untouched
	[ "$(saved .devices)" = '[{"allow":false,"access":"rwm"}]' ]
	if ! cgroup_v2; then
		[ "$(cg cpu cpu.cfs_quota_us)" = 30000 ]
		[ "$(cg cpu cpu.cfs_period_us)" = 150000 ]
	fi
	[ "$(roci state "$ID" | jq -r .status)" = running ]
}

@test "update on cgroup v2 writes memory.max, cpu.max, cpu.weight and pids.max" {
	cgroup_v2 || skip "the host's cgroups are v1 (v2 needs /sys/fs/cgroup to be cgroup2 with its controllers)"
	d=/sys/fs/cgroup/roci/$ID
	roci update --memory 64m --cpu-shares 1024 --cpu-quota 50000 --cpu-period 100000 --pids-limit 20 "$ID"
	[ "$(cat "$d/memory.max")" = $((64 << 20)) ]
	[ "$(cat "$d/cpu.max")" = "50000 100000" ]
	[ "$(cat "$d/cpu.weight")" = 39 ]
	[ "$(cat "$d/pids.max")" = 20 ]
	roci update --cpu-period 200000 "$ID"
	[ "$(cat "$d/cpu.max")" = "50000 200000" ]
}

@test "update works on a paused and on a created container" {
	need_v1
	roci pause "$ID"
	roci update --pids-limit 33 "$ID"
	[ "$(cg pids pids.max)" = 33 ]
	[ "$(roci state "$ID" | jq -r .status)" = paused ]
	roci resume "$ID"
	roci create --bundle "$BUNDLE" "$ID-c" </dev/null >/dev/null 2>&1
	roci update --pids-limit 44 "$ID-c"
	[ "$(cat "/sys/fs/cgroup/pids/roci/$ID-c/pids.max")" = 44 ]
	[ "$(roci state "$ID-c" | jq -r .status)" = created ]
}

@test "update of an unknown id fails with a clear message and creates nothing" {
	run roci update --pids-limit 10 nosuch
	[ "$status" -ne 0 ]
	[[ "$output" == *'container "nosuch" does not exist'* ]]
	[ ! -e "$STATE/nosuch" ]
	! ls -d /sys/fs/cgroup/*/roci/nosuch /sys/fs/cgroup/roci/nosuch 2>/dev/null
}

@test "update of a stopped container fails" {
	roci kill "$ID" KILL
	for _ in $(seq 50); do [ "$(roci state "$ID" | jq -r .status)" = stopped ] && break; sleep 0.1; done
	run roci update --pids-limit 10 "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"is stopped: cannot update it"* ]]
}

@test "a bad option value fails naming the option and the value, and changes nothing" {
	before=$(cat "$STATE/$ID/config.json")
	run roci update --cpu-shares 100 --memory abc "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"--memory"*'"abc"'* ]]
	run roci update --pids-limit 12x "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"--pids-limit"*'"12x"'* ]]
	run roci update --cpu-shares -5 "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"--cpu-shares"*'"-5"'* ]]
	[ "$(cat "$STATE/$ID/config.json")" = "$before" ]
	if ! cgroup_v2; then
		[ "$(cg cpu cpu.shares)" = 1024 ]
	fi
}

@test "a bad --resources document fails with the JSON path, and changes nothing" {
	before=$(cat "$STATE/$ID/config.json")
	echo '{"pids": {"limit": 5}, "memory": {"limit": "lots"}}' >"$BUNDLE/res.json"
	run roci update --resources "$BUNDLE/res.json" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"linux.resources.memory.limit: expected integer, got string"* ]]
	run roci update -r - "$ID" <<<'{"cpu": {"shares": -3}}'
	[ "$status" -ne 0 ]
	[[ "$output" == *"linux.resources.cpu.shares"* ]]
	run roci update -r - "$ID" <<<'{"pids": '
	[ "$status" -ne 0 ]
	[[ "$output" == *"<stdin>:"* ]]
	run roci update -r "$BUNDLE/missing.json" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"missing.json"*"No such file"* ]]
	[ "$(cat "$STATE/$ID/config.json")" = "$before" ]
	if ! cgroup_v2; then
		[ "$(cg pids pids.max)" = max ]
	fi
}

@test "update --kernel-memory is accepted with a warning and ignored" {
	run roci update --kernel-memory 10m --pids-limit 70 "$ID"
	[ "$status" -eq 0 ]
	[[ "$output" == *"--kernel-memory is ignored"* ]]
	[ "$(saved .memory)" = null ]
}

@test "update without any change is a usage error" {
	run roci update "$ID"
	[ "$status" -eq 2 ]
	[[ "$output" == *"nothing to change"* ]]
}
