#!/usr/bin/env bats
# ros-network: DHCP (busybox udhcpd as the server), static config, key
# matching, timeouts, bad config, renewal and release, each in a pair of
# fresh network namespaces joined by veth links.

setup() {
	NET="$ROS_BUILD/bin/ros-network"
	[ -x "$NET" ] || skip "ros-network not built ($NET)"
	[ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
	command -v busybox >/dev/null || skip "busybox (udhcpd) not installed"
	busybox udhcpd --help >/dev/null 2>&1 || [ $? -eq 1 ] || skip "busybox has no udhcpd"
	NS_C="rosnet-c$$"
	NS_S="rosnet-s$$"
	ip netns add "$NS_C" 2>/dev/null || skip "ip netns add failed: no network namespaces here"
	ip netns add "$NS_S"
	ip -n "$NS_S" link set lo up
	TMP=$(mktemp -d)
	ROOT="$TMP/root"
	mkdir -p "$ROOT/var/lib/ros/conf"
	UDHCPD_PIDS=()
}

teardown() {
	local p
	for p in "${UDHCPD_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	[ -z "${DAEMON:-}" ] || { kill -KILL "$DAEMON" 2>/dev/null || true; wait "$DAEMON" 2>/dev/null || true; }
	ip netns del "$NS_C" 2>/dev/null || true
	ip netns del "$NS_S" 2>/dev/null || true
	[ -z "${TMP:-}" ] || rm -rf "$TMP"
}

config() {
	cat >"$ROOT/var/lib/ros/conf/cloud-config.yml"
}

# link NAME [MAC]: a veth NAME in the client namespace, its peer s-NAME in
# the server namespace (up).
link() {
	ip -n "$NS_C" link add "$1" type veth peer name "s-$1" netns "$NS_S"
	[ -z "${2:-}" ] || ip -n "$NS_C" link set "$1" address "$2"
	ip -n "$NS_S" link set "s-$1" up
}

# udhcpd NAME NET [config lines...]: serves NET.50 on s-NAME with router
# NET.1 and DNS NET.53.
udhcpd() {
	local ifc="s-$1" net="$2" conf="$TMP/udhcpd-$1.conf"
	shift 2
	ip -n "$NS_S" addr add "$net.1/24" dev "$ifc"
	{
		printf '%s\n' "start $net.50" "end $net.50" "interface $ifc" "lease_file $TMP/leases-$ifc" \
			"pidfile $TMP/udhcpd-$ifc.pid" "option subnet 255.255.255.0" "option router $net.1" \
			"option dns $net.53"
		printf '%s\n' "$@"
	} >"$conf"
	touch "$TMP/leases-$ifc"
	ip netns exec "$NS_S" busybox udhcpd -f -a 100 "$conf" >"$TMP/udhcpd-$ifc.log" 2>&1 &
	UDHCPD_PIDS+=($!)
	# listening on port 67 (0x0043)?
	local i
	for i in $(seq 50); do
		ip netns exec "$NS_S" grep -q ':0043 ' /proc/net/udp && return 0
		sleep 0.1
	done
	echo "udhcpd did not start:"; cat "$TMP/udhcpd-$ifc.log"
	return 1
}

# leases NAME: udhcpd's lease table for s-NAME, written out on SIGUSR1.
leases() {
	local pid
	pid=$(cat "$TMP/udhcpd-s-$1.pid")
	: >"$TMP/leases-s-$1"
	kill -USR1 "$pid"
	for _ in $(seq 20); do
		[ -s "$TMP/leases-s-$1" ] && break
		sleep 0.1
	done
	busybox dumpleases -f "$TMP/leases-s-$1"
}

net_once() {
	run timeout 60 ip netns exec "$NS_C" "$NET" --root "$ROOT" --once "$@"
	echo "$output"
}

@test "--help prints the options and exits 0" {
	run "$NET" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--root DIR"* && "$output" == *"--once"* && "$output" == *"--timeout SECONDS"* ]]
	run "$NET" --timeout soon
	[ "$status" -eq 2 ]
	[[ "$output" == *'--timeout: "soon" is not a number of seconds'* ]]
}

@test "DHCP: the lease's address, default route, MTU, DNS after the config's nameserver, hostname from the lease" {
	link eth0
	udhcpd eth0 10.71.0 "option domain lease.test" "option hostname leasehost" "option mtu 1400" \
		"option lease 3600"
	config <<-'YML'
	ros:
	  network:
	    dns:
	      nameservers: [192.0.2.53]
	      search: [corp.test]
	YML
	net_once --timeout 10
	[ "$status" -eq 0 ]
	[[ "$output" == *"network: eth0: DHCP lease 10.71.0.50/24 via 10.71.0.1 for 3600 s"* ]]
	run ip -n "$NS_C" -4 addr show dev eth0
	[[ "$output" == *"inet 10.71.0.50/24 "* ]]
	run ip -n "$NS_C" -4 route show default
	[[ "$output" == *"default via 10.71.0.1 dev eth0 proto dhcp"* ]]
	run ip -n "$NS_C" link show dev eth0
	[[ "$output" == *" mtu 1400 "* ]]
	run ip -n "$NS_C" link show dev lo
	[[ "$output" == *"<LOOPBACK,UP"* ]]
	run grep -E '^(nameserver|search)' "$ROOT/etc/resolv.conf"
	[ "${lines[0]}" = "nameserver 192.0.2.53" ]
	[ "${lines[1]}" = "nameserver 10.71.0.53" ]
	[ "${lines[2]}" = "search corp.test lease.test" ]
	[ "$(stat -c %a "$ROOT/etc/resolv.conf")" = 644 ]
	[ "$(cat "$ROOT/etc/hostname")" = leasehost ]
}

@test "DHCP: a hostname in the config wins over the lease's and is sent to the server (option 12)" {
	link eth0
	udhcpd eth0 10.72.0 "option hostname leasehost"
	config <<-'YML'
	hostname: confighost
	YML
	net_once --timeout 10
	[ "$status" -eq 0 ]
	[ "$(cat "$ROOT/etc/hostname")" = confighost ]
	run leases eth0
	echo "$output"
	[[ "$output" == *"10.72.0.50"*"confighost"* ]]
}

@test "static address, addresses, gateway and mtu are applied with no DHCP server" {
	link eth0
	config <<-'YML'
	ros:
	  network:
	    interfaces:
	      eth0:
	        address: 10.81.0.2/24
	        addresses: [10.81.1.2/24]
	        gateway: 10.81.0.1
	        mtu: 1280
	YML
	SECONDS=0
	net_once --timeout 10
	[ "$status" -eq 0 ]
	[ "$SECONDS" -le 2 ]
	run ip -n "$NS_C" -4 addr show dev eth0
	[[ "$output" == *"inet 10.81.0.2/24 "* && "$output" == *"inet 10.81.1.2/24 "* ]]
	run ip -n "$NS_C" -4 route show default
	[[ "$output" == *"default via 10.81.0.1 dev eth0 proto static"* ]]
	run ip -n "$NS_C" link show dev eth0
	[[ "$output" == *",UP"* && "$output" == *" mtu 1280 "* ]]
}

@test "resolv.conf goes where --resolv-conf says, and through a symlinked etc/resolv.conf" {
	link eth0
	config <<-'YML'
	ros:
	  network:
	    interfaces:
	      eth0: {address: 10.88.0.2/24}
	    dns:
	      nameservers: [192.0.2.1, "2001:db8::1", 192.0.2.1]
	YML
	net_once --resolv-conf /run/resolvconf/resolv.conf
	[ "$status" -eq 0 ]
	run grep '^nameserver' "$ROOT/run/resolvconf/resolv.conf"
	[ "$output" = $'nameserver 192.0.2.1\nnameserver 2001:db8::1' ]
	[ ! -e "$ROOT/etc/resolv.conf" ]
	# the images link etc/resolv.conf into /run: the link stays a link
	mkdir -p "$ROOT/etc"
	ln -s ../run/ros-net/resolv.conf "$ROOT/etc/resolv.conf"
	net_once
	[ "$status" -eq 0 ]
	[ -L "$ROOT/etc/resolv.conf" ]
	grep -q '^nameserver 192.0.2.1$' "$ROOT/run/ros-net/resolv.conf"
	run "$NET" --resolv-conf etc/resolv.conf
	[ "$status" -eq 2 ]
	[[ "$output" == *'--resolv-conf: "etc/resolv.conf" is not an absolute file path'* ]]
}

@test "a glob key configures the links it matches; an unmatched veth is left alone" {
	link lan0
	link lan1
	link other0
	config <<-'YML'
	ros:
	  network:
	    interfaces:
	      lan*:
	        address: 10.82.0.2/24
	      lan1:
	        address: 10.82.1.2/24
	YML
	net_once --timeout 10
	[ "$status" -eq 0 ]
	run ip -n "$NS_C" -4 addr show dev lan0
	[[ "$output" == *"inet 10.82.0.2/24 "* ]]
	# the exact name beats the glob
	run ip -n "$NS_C" -4 addr show dev lan1
	[[ "$output" == *"inet 10.82.1.2/24 "* && "$output" != *"10.82.0.2"* ]]
	run ip -n "$NS_C" link show dev other0
	[[ "$output" != *",UP"* ]]
}

@test "a mac= key matches the link by hardware address, case-insensitively" {
	link x0 02:aa:bb:cc:dd:01
	link x1 02:aa:bb:cc:dd:02
	config <<-'YML'
	ros:
	  network:
	    interfaces:
	      "mac=02:AA:BB:CC:DD:02":
	        address: 10.83.0.2/24
	YML
	net_once --timeout 10
	[ "$status" -eq 0 ]
	run ip -n "$NS_C" -4 addr show dev x1
	[[ "$output" == *"inet 10.83.0.2/24 "* ]]
	run ip -n "$NS_C" -4 addr show dev x0
	[[ "$output" != *"inet "* ]]
}

@test "no DHCP server: --once --timeout 2 gives up within 3 s and exits 1 naming the link" {
	link eth0
	SECONDS=0
	net_once --timeout 2
	[ "$status" -eq 1 ]
	[ "$SECONDS" -le 3 ]
	[[ "$output" == *"eth0: no DHCP lease after 2 s"* ]]
	[[ "$output" == *"not configured: eth0 (no DHCP lease)"* ]]
	# the files are still written
	[ -f "$ROOT/etc/resolv.conf" ]
}

@test "a bad CIDR or mac= key is an error naming the key; the other link still comes up" {
	link eth0
	link eth1
	config <<-'YML'
	ros:
	  network:
	    interfaces:
	      eth0:
	        address: 10.0.0.300/24
	      eth1:
	        address: 10.84.0.2/24
	      mac=12:34:zz:
	        dhcp: true
	YML
	net_once --timeout 2
	[ "$status" -eq 1 ]
	[[ "$output" == *'ros.network.interfaces.eth0.address: "10.0.0.300/24" is not an IPv4 CIDR'* ]]
	[[ "$output" == *'ros.network.interfaces.mac=12:34:zz: "mac=12:34:zz" is not a MAC address'* ]]
	[[ "$output" == *"not configured: eth0 (bad config)"* ]]
	run ip -n "$NS_C" -4 addr show dev eth1
	[[ "$output" == *"inet 10.84.0.2/24 "* ]]
	run ip -n "$NS_C" -4 addr show dev eth0
	[[ "$output" != *"inet "* ]]
}

@test "daemon: after the timeout it keeps asking in the background and takes a late lease" {
	link eth0
	ip netns exec "$NS_C" "$NET" --root "$ROOT" --timeout 1 >"$TMP/net.log" 2>&1 &
	DAEMON=$!
	for _ in $(seq 50); do
		grep -q "still trying in the background" "$TMP/net.log" && break
		sleep 0.1
	done
	cat "$TMP/net.log"
	grep -q "eth0: no DHCP lease after 1 s; still trying in the background" "$TMP/net.log"
	udhcpd eth0 10.85.0
	for _ in $(seq 200); do
		grep -q "eth0: DHCP lease 10.85.0.50/24" "$TMP/net.log" && break
		sleep 0.1
	done
	cat "$TMP/net.log"
	grep -q "eth0: DHCP lease 10.85.0.50/24 via 10.85.0.1" "$TMP/net.log"
	grep -q "nameserver 10.85.0.53" "$ROOT/etc/resolv.conf"
	kill -TERM "$DAEMON"
	wait "$DAEMON"
	DAEMON=
}

@test "daemon: renews at T1 (lease/2), SIGTERM sends DHCPRELEASE and exits 0" {
	link eth0
	udhcpd eth0 10.86.0 "min_lease 20" "option lease 20"
	ip netns exec "$NS_C" "$NET" --root "$ROOT" --timeout 10 >"$TMP/net.log" 2>&1 &
	DAEMON=$!
	# T1 is 10 s into a 20 s lease
	for _ in $(seq 200); do
		grep -q "renewed" "$TMP/net.log" && break
		sleep 0.1
	done
	cat "$TMP/net.log"
	grep -q "eth0: DHCP lease 10.86.0.50/24 via 10.86.0.1 for 20 s" "$TMP/net.log"
	grep -q "eth0: DHCP lease 10.86.0.50/24 renewed for 20 s" "$TMP/net.log"
	run leases eth0
	echo "$output"
	[[ "$output" == *"10.86.0.50"* && "$output" != *expired* ]]
	kill -TERM "$DAEMON"
	local rc=0
	wait "$DAEMON" || rc=$?
	DAEMON=
	[ "$rc" -eq 0 ]
	cat "$TMP/net.log"
	grep -q "eth0: DHCP lease 10.86.0.50 released" "$TMP/net.log"
	# the server marked it free at once (the lease itself still had ~20 s)
	run leases eth0
	echo "$output"
	[[ "$output" == *"10.86.0.50"*expired* ]]
	run ip -n "$NS_C" -4 addr show dev eth0
	[[ "$output" != *"10.86.0.50"* ]]
}

# wait_log TEXT: up to 10 s for TEXT in the daemon's log
wait_log() {
	for _ in $(seq 100); do
		grep -qF "$1" "$TMP/net.log" && return 0
		sleep 0.1
	done
	cat "$TMP/net.log"
	return 1
}

@test "daemon: a link that appears later is configured; carrier down and up renews the lease at once" {
	ip netns exec "$NS_C" "$NET" --root "$ROOT" --timeout 1 >"$TMP/net.log" 2>&1 &
	DAEMON=$!
	wait_log "configured in"
	link eth0
	udhcpd eth0 10.87.0 "option lease 3600"
	wait_log "eth0: DHCP lease 10.87.0.50/24 via 10.87.0.1 for 3600 s"
	ip -n "$NS_S" link set s-eth0 down
	wait_log "eth0: link down"
	ip -n "$NS_S" link set s-eth0 up
	wait_log "eth0: link up"
	# T1 is 30 minutes away: this renewal is the carrier's doing
	wait_log "eth0: DHCP lease 10.87.0.50/24 renewed for 3600 s"
	ip -n "$NS_C" link del eth0
	wait_log "eth0: link removed"
	kill -TERM "$DAEMON"
	local rc=0
	wait "$DAEMON" || rc=$?
	DAEMON=
	[ "$rc" -eq 0 ]
}
