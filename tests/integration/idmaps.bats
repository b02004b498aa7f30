#!/usr/bin/env bats
# roci: user namespaces with uidMappings and gidMappings.

load ../lib/ctr

setup() { ctr_setup; }
teardown() { ctr_teardown; }


@test "user namespace with uid and gid mappings" {
	set_config '.linux.namespaces += [{"type": "user"}] | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] | .mounts |= map(select(.destination != "/sys/fs/cgroup"))'
	chown -R 100000:100000 "$BUNDLE/rootfs"
	chmod 755 "$BUNDLE" # the mapped root must reach its rootfs
	set_args sh -c 'cat /proc/self/uid_map; id -u'
	run roci run --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[[ "$output" == *"0     100000      65536"* ]]
	[ "${lines[-1]}" = 0 ]
}

@test "a file the mapped root creates belongs to the mapped host uid and gid; unmapped ids show as nobody" {
	set_config '.linux.namespaces += [{"type": "user"}] | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] | .mounts |= map(select(.destination != "/sys/fs/cgroup")) | .root.readonly = false'
	chown -R 100000:100000 "$BUNDLE/rootfs"
	chmod 755 "$BUNDLE"
	touch "$BUNDLE/rootfs/tmp/hostfile" # owned by host root: unmapped inside
	set_args sh -c 'touch /tmp/made; stat -c "%u %g" /tmp/hostfile'
	run roci run --bundle "$BUNDLE" "$ID"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "65534 65534" ]
	[ "$(stat -c '%u %g' "$BUNDLE/rootfs/tmp/made")" = "100000 100000" ]
}
