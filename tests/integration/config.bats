#!/usr/bin/env bats
# ros config: get, set, unset, merge, export, validate against a --root tree.

setup() {
	ROS="$ROS_BUILD/bin/ros"
	ROOT=$(mktemp -d)
	mkdir -p "$ROOT/usr/share/ros" "$ROOT/proc"
	echo 'console=ttyS0' >"$ROOT/proc/cmdline"
	cat >"$ROOT/usr/share/ros/os-config.yml" <<-'YML'
	hostname: ros
	ros:
	  ntp:
	    servers: [0.debian.pool.ntp.org]
	  network:
	    interfaces:
	      eth*:
	        dhcp: true
	YML
}

teardown() {
	rm -rf "$ROOT"
}

@test "get prints scalars bare and maps as YAML" {
	run "$ROS" --root "$ROOT" config get hostname
	[ "$status" -eq 0 ]
	[ "$output" = "ros" ]
	run "$ROS" --root "$ROOT" config get ros.ntp
	[ "$status" -eq 0 ]
	[ "$output" = $'servers:\n- 0.debian.pool.ntp.org' ]
}

@test "get of a missing key exits 1" {
	run "$ROS" --root "$ROOT" config get ros.nothing
	[ "$status" -eq 1 ]
	[[ "$output" == *"ros.nothing: not set"* ]]
}

@test "ROS_ROOT works like --root" {
	ROS_ROOT="$ROOT" run "$ROS" config get hostname
	[ "$output" = "ros" ]
}

@test "set parses the value as YAML and persists it with mode 0600" {
	run "$ROS" --root "$ROOT" config set ros.network.interfaces.eth0.addresses '[10.0.0.2/24, 10.0.0.3/24]'
	[ "$status" -eq 0 ]
	run "$ROS" --root "$ROOT" config get 'ros.network.interfaces.eth0.addresses[1]'
	[ "$output" = "10.0.0.3/24" ]
	run "$ROS" --root "$ROOT" config set ros.network.interfaces.eth0.mtu 9000
	run "$ROS" --root "$ROOT" config get ros.network.interfaces.eth0.mtu
	[ "$output" = "9000" ]
	[ "$(stat -c %a "$ROOT/var/lib/ros/conf/cloud-config.yml")" = 600 ]
}

@test "set refuses a value of the wrong type and writes nothing" {
	run "$ROS" --root "$ROOT" config set ros.network.interfaces.eth0.mtu big
	[ "$status" -eq 1 ]
	[[ "$output" == *'ros.network.interfaces.eth0.mtu: expected integer, got "big"'* ]]
	[ ! -e "$ROOT/var/lib/ros/conf/cloud-config.yml" ]
}

@test "set of a key with dots in it, quoted" {
	run "$ROS" --root "$ROOT" config set 'ros.environment."http.proxy"' 'http://p:3128'
	[ "$status" -eq 0 ]
	run "$ROS" --root "$ROOT" config get 'ros.environment["http.proxy"]'
	[ "$output" = "http://p:3128" ]
}

@test "unset removes a key and fails on a missing one" {
	"$ROS" --root "$ROOT" config set ros.autologin tty1
	run "$ROS" --root "$ROOT" config unset ros.autologin
	[ "$status" -eq 0 ]
	run "$ROS" --root "$ROOT" config get ros.autologin
	[ "$status" -eq 1 ]
	run "$ROS" --root "$ROOT" config unset ros.autologin
	[ "$status" -eq 1 ]
}

@test "unset of a key with a default brings the default back" {
	"$ROS" --root "$ROOT" config set ros.debug true
	run "$ROS" --root "$ROOT" config get ros.debug
	[ "$output" = true ]
	run "$ROS" --root "$ROOT" config unset ros.debug
	[ "$status" -eq 0 ]
	run "$ROS" --root "$ROOT" config get ros.debug
	[ "$status" -eq 0 ]
	[ "$output" = false ]
}

@test "schema defaults apply even when the image layer is missing" {
	rm -f "$ROOT/usr/share/ros/os-config.yml"
	run "$ROS" --root "$ROOT" config get ros.cloud_init.timeout
	[ "$status" -eq 0 ]
	[ "$output" = 5 ]
	run "$ROS" --root "$ROOT" config get ros.ssh.port
	[ "$output" = 22 ]
}

@test "merge deep-merges stdin: maps merge, lists are replaced" {
	"$ROS" --root "$ROOT" config set ros.ntp.servers '[a, b]'
	printf 'ros:\n  ntp:\n    servers: [c]\n  debug: true\n' | "$ROS" --root "$ROOT" config merge
	run "$ROS" --root "$ROOT" config get ros.ntp.servers
	[ "$output" = "- c" ]
	run "$ROS" --root "$ROOT" config get ros.debug
	[ "$output" = "true" ]
}

@test "merge validates first and names the file, line and column" {
	printf 'ros:\n  network:\n    interfaces:\n      eth0:\n        mtu: big\n' >"$BATS_TEST_TMPDIR/bad.yml"
	run "$ROS" --root "$ROOT" config merge -i "$BATS_TEST_TMPDIR/bad.yml"
	[ "$status" -eq 1 ]
	[[ "$output" == *'bad.yml:5:9: ros.network.interfaces.eth0.mtu: expected integer, got "big"'* ]]
}

@test "merge of malformed YAML is refused with its position" {
	run sh -c "printf 'a: [1, 2\n' | '$ROS' --root '$ROOT' config merge"
	[ "$status" -eq 1 ]
	[[ "$output" == *"<stdin>:2:1:"* ]]
}

@test "export leaves secrets out unless --private, and matches the golden file" {
	"$ROS" --root "$ROOT" config set ros.password hunter2
	"$ROS" --root "$ROOT" config set ros.ntp.servers '[a]'
	"$ROS" --root "$ROOT" config set ros.environment.API_TOKEN t0k
	run "$ROS" --root "$ROOT" config export
	[ "$status" -eq 0 ]
	[[ "$output" != *hunter2* ]]
	[[ "$output" != *t0k* ]]
	diff <(echo "$output") "$ROS_SRC/tests/config-golden/export.yml"
	run "$ROS" --root "$ROOT" config export --private
	[[ "$output" == *hunter2* ]]
	run "$ROS" --root "$ROOT" config export --full -o "$BATS_TEST_TMPDIR/full.yml"
	diff "$BATS_TEST_TMPDIR/full.yml" "$ROS_SRC/tests/config-golden/export-full.yml"
}

@test "the kernel command line is the top layer and -- args go to EXTRA_CMDLINE" {
	echo 'quiet ros.hostname=fromcmd ros.ntp.servers=[x,y] ros.s="a b" -- rest of it' >"$ROOT/proc/cmdline"
	run "$ROS" --root "$ROOT" config get ros.hostname
	[ "$output" = fromcmd ]
	run "$ROS" --root "$ROOT" config get 'ros.ntp.servers[1]'
	[ "$output" = y ]
	run "$ROS" --root "$ROOT" config get ros.s
	[ "$output" = "a b" ]
	run "$ROS" --root "$ROOT" config get ros.environment.EXTRA_CMDLINE
	[ "$output" = "rest of it" ]
}

@test "validate warns on unknown keys and fails only with --strict" {
	printf 'ros:\n  frobnicate: 1\n' >"$BATS_TEST_TMPDIR/u.yml"
	run "$ROS" config validate -i "$BATS_TEST_TMPDIR/u.yml"
	[ "$status" -eq 0 ]
	[[ "$output" == *"warning: "*"u.yml:2:3: ros.frobnicate: unknown key"* ]]
	run "$ROS" config validate --strict -i "$BATS_TEST_TMPDIR/u.yml"
	[ "$status" -eq 1 ]
}

@test "a bad layer is reported by validate and the others still apply" {
	mkdir -p "$ROOT/var/lib/ros/conf/cloud-config.d"
	printf 'hostname: [unclosed\n' >"$ROOT/var/lib/ros/conf/cloud-config.d/10-bad.yml"
	printf 'ros:\n  debug: true\n' >"$ROOT/var/lib/ros/conf/cloud-config.d/20-good.yml"
	run "$ROS" --root "$ROOT" config get ros.debug
	[ "$output" = true ]
	run "$ROS" --root "$ROOT" config validate
	[ "$status" -eq 1 ]
	[[ "$output" == *"10-bad.yml:2:1:"* ]]
}

@test "every subcommand has --help" {
	for c in get set unset merge export validate; do
		run "$ROS" config "$c" --help
		[ "$status" -eq 0 ]
		[[ "$output" == usage:* ]]
	done
}

@test "the shipped os-config.yml passes strict validation" {
	run "$ROS" config validate --strict -i "$ROS_SRC/configs/os-config.yml"
	[ "$status" -eq 0 ]
	[ "$output" = ok ]
}
