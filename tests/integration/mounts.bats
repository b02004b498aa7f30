#!/usr/bin/env bats
# roci: mounts, root.readonly, masked and read-only paths, --no-pivot.

load ../lib/ctr

setup() { ctr_setup; }
teardown() { ctr_teardown; }


@test "bind mounts: read-only, and a tmpfs with options" {
	src=$(mktemp -d)
	echo data >"$src/f"
	set_config ".mounts += [{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"$src\", \"options\": [\"rbind\", \"ro\"]}, {\"destination\": \"/scratch\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"size=1m\", \"noexec\"]}]"
	set_args sh -c 'cat /data/f; touch /data/g 2>&1; grep " /scratch " /proc/mounts'
	run roci run --bundle "$BUNDLE" "$ID"
	[[ "${lines[0]}" == data ]]
	[[ "$output" == *"Read-only file system"* ]]
	[[ "$output" == *"tmpfs /scratch tmpfs rw,noexec"*"size=1024k"* ]]
	[ ! -e "$src/g" ]
	rm -rf "$src"
}


@test "root.readonly makes / read-only" {
	set_config '.root.readonly = true'
	set_args sh -c 'touch /x 2>&1; true'
	run roci run --bundle "$BUNDLE" "$ID"
	[[ "$output" == *"Read-only file system"* ]]
}


@test "masked and read-only paths" {
	mkdir -p "$BUNDLE/rootfs/secret" && echo s >"$BUNDLE/rootfs/secret/x"
	set_config '.linux.maskedPaths += ["/etc/passwd", "/secret", "/does/not/exist"]'
	set_args sh -c 'cat /etc/passwd | wc -c; ls /secret | wc -l; echo 1 > /proc/sys/kernel/domainname 2>&1'
	run roci run --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[ "${lines[0]}" = 0 ]
	[ "${lines[1]}" = 0 ]
	[[ "$output" == *"Read-only file system"* ]]
}


@test "no-pivot: the root is moved and chrooted" {
	set_args sh -c 'ls / | grep -c busybox; ls /bin/busybox'
	run roci run --no-pivot --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0 ]
	[ "${lines[1]}" = /bin/busybox ]
}
