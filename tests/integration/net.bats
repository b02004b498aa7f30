#!/usr/bin/env bats
# lib/net (userctr's bridge network) through tests/net-tool: the bridge and
# its nft table, veth pairs into network namespaces acting as containers,
# the address allocator, outbound NAT towards an "outside" namespace, and
# published ports reached with real TCP connections.  Every test has its
# own bridge name and random subnets, and removes what it made.

setup() {
	TOOL="$ROS_BUILD/tests/net-tool"
	[ -x "$TOOL" ] || skip "net-tool not built ($TOOL: make tests)"
	[ "$(id -u)" = 0 ] || skip "needs root for bridges and network namespaces"
	command -v nft >/dev/null || skip "nft not installed (Debian package nftables)"
	command -v socat >/dev/null || skip "socat not installed"
	command -v busybox >/dev/null || skip "busybox not installed (ping)"
	BR="rt$RANDOM"
	# 100.64.0.0/10 (shared address space) rarely meets a host's own routes
	local i
	for i in $(seq 20); do
		SUBNET="100.$((64 + RANDOM % 64)).$((RANDOM % 256)).0"
		ip -4 route | grep -q "^${SUBNET%.0}\." || break
	done
	CIDR="$SUBNET/24"
	GW="${SUBNET%.0}.1"
	TMP=$(mktemp -d)
	STATE="$TMP/ipam.json"
	NETNS=()
	PIDS=()
	OUT_NS=""
}

teardown() {
	local p n
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	for n in "${NETNS[@]}"; do
		ip netns del "$n" 2>/dev/null || true
	done
	[ -z "$OUT_NS" ] || ip netns del "$OUT_NS" 2>/dev/null || true
	[ -z "${BR:-}" ] || "$TOOL" teardown "$BR" "$CIDR" 2>/dev/null || true
	[ -z "${TMP:-}" ] || rm -rf "$TMP"
}

net() {
	"$TOOL" "$@"
}

# ctr NAME: a network namespace attached to the bridge with an address from
# the allocator (owner NAME); sets IP_NAME.
ctr() {
	local ns="$BR-$1" ip
	ip netns add "$ns"
	NETNS+=("$ns")
	ip=$(net alloc "$BR" "$CIDR" "$STATE" "$1")
	net attach "$BR" "$CIDR" "/run/netns/$ns" "v$BR$1" "$ip"
	printf -v "IP_$1" '%s' "$ip"
}

# outside: a namespace reached through the host by a veth, with an address
# the containers cannot route to by themselves (so only NAT gets them out).
outside() {
	OUT_NS="$BR-out"
	OUT_NET="198.18.$((RANDOM % 256))"
	ip netns add "$OUT_NS"
	ip link add "o$BR" type veth peer name eth0 netns "$OUT_NS"
	ip addr add "$OUT_NET.1/24" dev "o$BR"
	ip link set "o$BR" up
	ip -n "$OUT_NS" addr add "$OUT_NET.2/24" dev eth0
	ip -n "$OUT_NS" link set eth0 up
	ip -n "$OUT_NS" link set lo up
}

# listen NS PORT TEXT: a TCP server in NS answering every connection with
# TEXT and the address of its peer.
listen() {
	ip netns exec "$1" socat "TCP-LISTEN:$2,reuseaddr,fork" SYSTEM:"echo $3 \$SOCAT_PEERADDR" &
	PIDS+=($!)
	local i
	for i in $(seq 50); do
		ip netns exec "$1" ss -Htln "sport = :$2" | grep -q . && return 0
		sleep 0.1
	done
	echo "no listener on port $2 in $1"
	return 1
}

# fetch [NS] ADDR PORT: one TCP connection, prints what the server says.
fetch() {
	if [ $# = 3 ]; then
		timeout 5 ip netns exec "$1" socat -T3 - "TCP:$2:$3,connect-timeout=2" </dev/null
	else
		timeout 5 socat -T3 - "TCP:$1:$2,connect-timeout=2" </dev/null
	fi
}

@test "bridge setup twice is idempotent: one table, one address, the same rules" {
	net setup "$BR" "$CIDR"
	[ "$(ip -br link show "$BR" | awk '{print $1}')" = "$BR" ]
	first=$(nft list table ip "userctr-$BR")
	net setup "$BR" "$CIDR"
	[ "$(nft list tables | grep -c "^table ip userctr-$BR\$")" = 1 ]
	[ "$(ip -4 -o addr show dev "$BR" | wc -l)" = 1 ]
	ip -4 -o addr show dev "$BR" | grep -q "inet $GW/24 "
	[ "$(nft list table ip "userctr-$BR")" = "$first" ]
	[ "$(grep -c masquerade <<<"$first")" = 3 ]
	grep -q "ip saddr $CIDR oifname != \"$BR\" masquerade" <<<"$first"
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ]
	[ "$(cat "/proc/sys/net/ipv4/conf/$BR/route_localnet")" = 1 ]
}

@test "setup refuses a bad subnet and an interface that is not a bridge, naming them" {
	run net setup "$BR" "10.1.2.3/24"
	[ "$status" = 1 ]
	[[ "$output" == *'cidr "10.1.2.3/24": host bits set'* ]]
	ip link add "$BR" type veth peer name "p$BR"
	run net setup "$BR" "$CIDR"
	ip link del "$BR"
	[ "$status" = 1 ]
	[[ "$output" == *"bridge $BR: the interface exists and is a veth, not a bridge"* ]]
	! nft list table ip "userctr-$BR" 2>/dev/null || false
}

@test "two containers get distinct addresses and reach each other and the gateway" {
	net setup "$BR" "$CIDR"
	ctr a
	ctr b
	[ "$IP_a" != "$IP_b" ]
	ip -n "$BR-a" -4 -o addr show dev eth0 | grep -q "inet $IP_a/24 "
	ip -n "$BR-a" route show default | grep -q "via $GW dev eth0"
	ip -n "$BR-a" -br link show lo | grep -q UP
	# Docker's MAC: 02:42 and the address
	mac=$(printf '02:42:%02x:%02x:%02x:%02x' ${IP_a//./ })
	ip -n "$BR-a" link show eth0 | grep -q "link/ether $mac "
	[ "$(cat "/sys/class/net/v${BR}a/master/ifindex")" = "$(cat "/sys/class/net/$BR/ifindex")" ]
	ip netns exec "$BR-a" busybox ping -c1 -W2 "$IP_b"
	ip netns exec "$BR-b" busybox ping -c1 -W2 "$IP_a"
	ip netns exec "$BR-a" busybox ping -c1 -W2 "$GW"
}

@test "addresses survive an engine restart: same owner, same address, kept in the state file" {
	net setup "$BR" "$CIDR"
	a=$(net alloc "$BR" "$CIDR" "$STATE" ctr-a)
	b=$(net alloc "$BR" "$CIDR" "$STATE" ctr-b)
	[ "$a" = "${SUBNET%.0}.2" ]
	[ "$b" = "${SUBNET%.0}.3" ]
	# "restart": a new process, the same file
	net setup "$BR" "$CIDR"
	[ "$(net alloc "$BR" "$CIDR" "$STATE" ctr-b)" = "$b" ]
	[ "$(net alloc "$BR" "$CIDR" "$STATE" ctr-a)" = "$a" ]
	[ "$(jq -r '.allocations["ctr-a"]' "$STATE")" = "$a" ]
	net release "$STATE" ctr-a
	[ "$(jq -r '.allocations["ctr-a"]' "$STATE")" = null ]
	[ "$(net alloc "$BR" "$CIDR" "$STATE" ctr-c)" = "${SUBNET%.0}.4" ]
}

@test "detach removes the veth and its peer; detaching again is no error" {
	net setup "$BR" "$CIDR"
	ctr a
	ip link show "v${BR}a" >/dev/null
	net detach "v${BR}a"
	! ip link show "v${BR}a" 2>/dev/null || false
	! ip -n "$BR-a" link show eth0 2>/dev/null || false
	net detach "v${BR}a"
	# attaching again after a detach works
	net attach "$BR" "$CIDR" "/run/netns/$BR-a" "v${BR}a" "$IP_a"
	ip netns exec "$BR-a" busybox ping -c1 -W2 "$GW"
}

@test "attach with a bad address fails naming it and leaves no veth behind" {
	net setup "$BR" "$CIDR"
	ip netns add "$BR-x"
	NETNS+=("$BR-x")
	run net attach "$BR" "$CIDR" "/run/netns/$BR-x" "v${BR}x" 192.0.2.77
	[ "$status" = 1 ]
	[[ "$output" == *"address 192.0.2.77 is not a host address of $CIDR"* ]]
	run net attach "$BR" "$CIDR" "/run/netns/$BR-x" "v${BR}x" "$GW"
	[ "$status" = 1 ]
	run net attach "nobr$BR" "$CIDR" "/run/netns/$BR-x" "v${BR}x" "${SUBNET%.0}.9"
	[ "$status" = 1 ]
	[[ "$output" == *"bridge nobr$BR"* ]]
	! ip link show "v${BR}x" 2>/dev/null || false
	[ "$(ip -n "$BR-x" -o link | wc -l)" = 1 ]
}

@test "loopback comes up in a namespace with no network (--network none)" {
	ip netns add "$BR-n"
	NETNS+=("$BR-n")
	! ip -n "$BR-n" -br link show lo | grep -q UP || false
	net lo-up "/run/netns/$BR-n"
	ip -n "$BR-n" -br link show lo | grep -q UP
	ip netns exec "$BR-n" busybox ping -c1 -W2 127.0.0.1
}

@test "outbound traffic leaves masqueraded as the host" {
	net setup "$BR" "$CIDR"
	ctr a
	outside
	listen "$OUT_NS" 9000 outside-says
	run fetch "$BR-a" "$OUT_NET.2" 9000
	echo "$output"
	[ "$status" = 0 ]
	# the outside saw the host's address on its link, not the container's
	[[ "$output" == "outside-says $OUT_NET.1" ]]
}

@test "a published port is reached on 127.0.0.1, on a host address and from outside; unpublish removes it" {
	net setup "$BR" "$CIDR"
	ctr a
	ctr b
	outside
	listen "$BR-a" 80 hello-from-a
	port=$((20000 + RANDOM % 20000))
	net publish "$BR" "$CIDR" a "$IP_a" "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"$port\"}]}"
	# from the host itself, to localhost and to one of its own addresses
	[[ "$(fetch 127.0.0.1 "$port")" == "hello-from-a "* ]]
	[[ "$(fetch "$OUT_NET.1" "$port")" == "hello-from-a "* ]]
	# from outside, through the host's prerouting
	[ "$(fetch "$OUT_NS" "$OUT_NET.1" "$port")" = "hello-from-a $OUT_NET.2" ]
	# from another container through the gateway (hairpin)
	[[ "$(fetch "$BR-b" "$GW" "$port")" == "hello-from-a "* ]]

	# publishing again replaces, it does not add
	net publish "$BR" "$CIDR" a "$IP_a" "{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"$port\"}]}"
	[ "$(nft list chain ip "userctr-$BR" ports | grep -c 'jump o-a ')" = 1 ]
	[ "$(nft list chain ip "userctr-$BR" o-a | grep -c dnat)" = 1 ]
	[[ "$(fetch 127.0.0.1 "$port")" == "hello-from-a "* ]]
	run fetch "$OUT_NS" "$OUT_NET.1" "$port"
	[ "$status" != 0 ] # bound to 127.0.0.1 only

	net unpublish "$BR" "$CIDR" a
	! nft list chain ip "userctr-$BR" o-a 2>/dev/null || false
	! nft list chain ip "userctr-$BR" ports | grep -q 'o-a' || false
	run fetch 127.0.0.1 "$port"
	[ "$status" != 0 ]
	net unpublish "$BR" "$CIDR" a
}

@test "ports stay published across a bridge setup (engine restart) and a udp port works" {
	net setup "$BR" "$CIDR"
	ctr a
	ip netns exec "$BR-a" socat UDP-RECVFROM:5353,fork SYSTEM:"read -r x; echo udp-pong" &
	PIDS+=($!)
	listen "$BR-a" 80 hello-from-a
	port=$((20000 + RANDOM % 20000))
	net publish "$BR" "$CIDR" a "$IP_a" \
		"{\"80/tcp\":[{\"HostPort\":\"$port\"}],\"5353/udp\":[{\"HostPort\":\"$port\"}]}"
	net setup "$BR" "$CIDR"
	[[ "$(fetch 127.0.0.1 "$port")" == "hello-from-a "* ]]
	run timeout 5 sh -c "echo ping | socat -T2 - UDP:127.0.0.1:$port"
	[ "$output" = udp-pong ]
}

@test "bad port bindings fail naming the key and publish nothing" {
	net setup "$BR" "$CIDR"
	run net publish "$BR" "$CIDR" a "${SUBNET%.0}.2" '{"80/sctp":[{"HostPort":"8080"}]}'
	[ "$status" = 1 ]
	[[ "$output" == *'PortBindings["80/sctp"]: protocol "sctp"'* ]]
	run net publish "$BR" "$CIDR" a "${SUBNET%.0}.2" '{"80/tcp":[{"HostPort":"8080-8090"}]}'
	[ "$status" = 1 ]
	[[ "$output" == *'PortBindings["80/tcp"][0].HostPort "8080-8090"'* ]]
	! nft list chain ip "userctr-$BR" o-a 2>/dev/null || false
}

@test "a host port published by one container is refused to another, naming the owner" {
	net setup "$BR" "$CIDR"
	net publish "$BR" "$CIDR" a "${SUBNET%.0}.2" '{"80/tcp":[{"HostPort":"18081"}]}'
	run net publish "$BR" "$CIDR" b "${SUBNET%.0}.3" '{"8080/tcp":[{"HostIp":"127.0.0.1","HostPort":"18081"}]}'
	[ "$status" = 1 ]
	[[ "$output" == *"publish ports of b: tcp 127.0.0.1:18081 is already published by a"* ]]
	! nft list chain ip "userctr-$BR" o-b 2>/dev/null || false
	# another protocol, or the same owner again, is fine
	net publish "$BR" "$CIDR" b "${SUBNET%.0}.3" '{"80/udp":[{"HostPort":"18081"}]}'
	net publish "$BR" "$CIDR" a "${SUBNET%.0}.2" '{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"18081"}]}'
	# two specific addresses do not overlap
	net publish "$BR" "$CIDR" c "${SUBNET%.0}.4" '{"80/tcp":[{"HostIp":"127.0.0.2","HostPort":"18081"}]}'
}

@test "publishing without a bridge setup says the network is not set up" {
	run net publish "$BR" "$CIDR" a "${SUBNET%.0}.2" '{"80/tcp":[{"HostPort":"8080"}]}'
	[ "$status" = 1 ]
	[[ "$output" == *"nft table userctr-$BR is missing"* ]]
	net unpublish "$BR" "$CIDR" a
}

@test "teardown leaves neither table nor bridge, and twice is no error" {
	net setup "$BR" "$CIDR"
	ctr a
	net publish "$BR" "$CIDR" a "$IP_a" '{"80/tcp":[{"HostPort":"18080"}]}'
	net detach "v${BR}a"
	net teardown "$BR" "$CIDR"
	! nft list tables | grep -q "userctr-$BR" || false
	! ip link show "$BR" 2>/dev/null || false
	! ip -o link | grep -q "$BR" || false
	net teardown "$BR" "$CIDR"
}

@test "etc files: hosts with the container's name, resolv.conf without loopback servers" {
	printf 'nameserver 127.0.0.53\nnameserver 192.0.2.53\nsearch lan\n' >"$TMP/host-resolv"
	net etc "$TMP" web "${SUBNET%.0}.2" "$TMP/host-resolv"
	grep -qx "${SUBNET%.0}.2	web" "$TMP/hosts"
	grep -qx "127.0.0.1	localhost" "$TMP/hosts"
	[ "$(cat "$TMP/resolv.conf")" = "$(printf 'nameserver 192.0.2.53\nsearch lan')" ]
	[ "$(cat "$TMP/hostname")" = web ]
}
