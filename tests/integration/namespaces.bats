#!/usr/bin/env bats
# roci: linux.namespaces: new ones, joined by path; hostname and domainname.

load ../lib/ctr

setup() { ctr_setup; }
teardown() { ctr_teardown; }


@test "hostname and domainname in a new uts namespace" {
	set_config '.hostname = "box1" | .domainname = "example.org"'
	set_args sh -c 'hostname; cat /proc/sys/kernel/domainname'
	run roci run --bundle "$BUNDLE" "$ID"
	[ "$output" = $'box1\nexample.org' ]
}


@test "namespaces are new: pid 1 inside, own mount, net, ipc, uts" {
	set_args sh -c 'echo $$; ls /proc/self/ns/ >/dev/null; readlink /proc/self/ns/net /proc/self/ns/ipc /proc/self/ns/uts /proc/self/ns/mnt'
	run roci run --bundle "$BUNDLE" "$ID"
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" != "$(readlink /proc/self/ns/net)" ]
	[ "${lines[2]}" != "$(readlink /proc/self/ns/ipc)" ]
	[ "${lines[3]}" != "$(readlink /proc/self/ns/uts)" ]
	[ "${lines[4]}" != "$(readlink /proc/self/ns/mnt)" ]
}


@test "a namespace joined by path is shared" {
	# not holding bats' fds, so the test does not wait for the sleep
	unshare --net --fork sleep 100 >/dev/null 2>&1 3>&- &
	u=$!
	sleep 0.3
	holder=$(pgrep -P "$u" sleep || echo "$u")
	set_config ".linux.namespaces |= map(if .type == \"network\" then .path = \"/proc/$holder/ns/net\" else . end)"
	set_args readlink /proc/self/ns/net
	run roci run --bundle "$BUNDLE" "$ID"
	ns=$(readlink /proc/"$holder"/ns/net)
	kill "$holder" "$u" 2>/dev/null || true
	[ "$output" = "$ns" ]
}
