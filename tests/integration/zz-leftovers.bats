#!/usr/bin/env bats
# Runs last: the runtime suites left nothing behind on the host.

load ../lib/ctr

@test "no roci state directory is left in the default state root" {
	[ ! -d /run/roci ] || [ -z "$(ls -A /run/roci)" ]
}

@test "no container process of the suites is left running" {
	run pgrep -f "$ROS_BUILD/bin/roci"
	[ "$status" -ne 0 ] || { ps -o pid,args -p "$(echo "$output" | tr '\n' ',' | sed 's/,$//')"; false; }
}

@test "no empty roci cgroup is left in any hierarchy (a container's cgroup goes with it)" {
	# cgroups that still hold a process belong to a live container (the test
	# above checks this build's); an empty one is a clean-up the runtime missed
	local d bad=""
	for d in $(find /sys/fs/cgroup/*/roci /sys/fs/cgroup/roci -mindepth 1 -maxdepth 1 -type d 2>/dev/null); do
		[ -n "$(cat "$d/cgroup.procs" 2>/dev/null)" ] || bad+="$d "
	done
	[ -z "$bad" ] || { echo "left: $bad"; false; }
}

@test "no mount of a test bundle is left on the host" {
	run grep -E ' /tmp/tmp\.[^ ]*/rootfs' /proc/self/mountinfo
	[ "$status" -ne 0 ]
}
