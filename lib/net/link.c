/* SPDX-License-Identifier: MIT */
/*
 * The bridge, the veth pairs and loopback, through libnl-route-3 (net.h).
 * Work inside a container's network namespace goes through a netlink
 * socket opened there: setns() in, socket(), setns() back to the namespace
 * saved before, so nothing else runs in the container's namespace.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "net/nl-cleanup.h"
#include "core/fs.h"
#include "net-int.h"
#include "net.h"

/* libnl's error numbers back to errno; an object or device not found is ENODEV here */
static int nl_errno(int nlerr)
{
	return nl_to_errno(nlerr, ENODEV);
}

#define nl_fail(e, r, fmt, ...) err_setx(e, nl_errno(r), fmt ": %s", ##__VA_ARGS__, nl_geterror(r))

/* A rtnetlink socket in the network namespace netns_fd (-1: our own). */
static int nl_open(int netns_fd, struct nl_sock **out, struct ros_err *e)
{
	cleanup_close int self = -1;
	if (netns_fd >= 0) {
		self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (self < 0)
			return err_set(e, errno, "open /proc/thread-self/ns/net");
		if (setns(netns_fd, CLONE_NEWNET) < 0)
			return err_set(e, errno, "enter network namespace (fd %d)", netns_fd);
	}
	struct nl_sock *sk = nl_socket_alloc();
	int r = sk ? nl_connect(sk, NETLINK_ROUTE) : -NLE_NOMEM;
	if (self >= 0 && setns(self, CLONE_NEWNET) < 0) {
		int r2 = err_set(e, errno, "return to our own network namespace");
		if (sk)
			nl_socket_free(sk);
		return r2;
	}
	if (r < 0) {
		if (sk)
			nl_socket_free(sk);
		return nl_fail(e, r, "netlink connect%s", netns_fd >= 0 ? " in the container's namespace" : "");
	}
	*out = sk;
	return 0;
}

static int link_get(struct nl_sock *sk, const char *name, struct rtnl_link **out)
{
	return rtnl_link_get_kernel(sk, 0, name, out);
}

static bool nl_notfound(int r)
{
	return r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV;
}

static int link_set_up(struct nl_sock *sk, struct rtnl_link *orig, const char *where, struct ros_err *e)
{
	cleanup_rtnl_link struct rtnl_link *change = rtnl_link_alloc();
	if (!change)
		return err_set(e, ENOMEM, "%s: set up", where);
	rtnl_link_set_flags(change, IFF_UP);
	int r = rtnl_link_change(sk, orig, change, 0);
	if (r < 0)
		return nl_fail(e, r, "%s: set up", where);
	return 0;
}

static struct nl_addr *inet_nl_addr(struct in_addr a, int prefix)
{
	struct nl_addr *na = nl_addr_build(AF_INET, &a, sizeof(a));
	if (na)
		nl_addr_set_prefixlen(na, prefix);
	return na;
}

/* Adds a/prefix (with its broadcast) to ifindex; an address already there
 * is replaced, not duplicated. */
static int addr_add(struct nl_sock *sk, int ifindex, const char *where, struct in_addr a, int prefix, struct ros_err *e)
{
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	uint32_t mask = htonl(~0u << (32 - prefix));
	struct in_addr bc = {.s_addr = a.s_addr | ~mask};
	cleanup_rtnl_addr struct rtnl_addr *ra = rtnl_addr_alloc();
	cleanup_nl_addr struct nl_addr *local = inet_nl_addr(a, prefix);
	cleanup_nl_addr struct nl_addr *brd = inet_nl_addr(bc, 32);
	if (!ra || !local || !brd)
		return err_set(e, ENOMEM, "%s: address %s/%d", where, ip, prefix);
	rtnl_addr_set_ifindex(ra, ifindex);
	rtnl_addr_set_family(ra, AF_INET);
	int r = rtnl_addr_set_local(ra, local);
	rtnl_addr_set_prefixlen(ra, prefix);
	if (r >= 0)
		r = rtnl_addr_set_broadcast(ra, brd);
	if (r >= 0)
		r = rtnl_addr_add(sk, ra, NLM_F_REPLACE);
	if (r < 0)
		return nl_fail(e, r, "%s: add address %s/%d", where, ip, prefix);
	return 0;
}

static int sysctl_set(const char *path, const char *value, struct ros_err *e)
{
	cleanup_free char *now = NULL;
	if (fs_read_all(path, 64, &now, NULL, NULL) == 0 && strtol(now, NULL, 10) == strtol(value, NULL, 10))
		return 0;
	return fs_write_file(path, value, e);
}

int net_bridge_setup(struct net_bridge *b, const char *name, const char *cidr, struct ros_err *e)
{
	int r = net_bridge_init(b, name, cidr, e);
	if (r < 0)
		return r;
	cleanup_nl_sock struct nl_sock *sk = NULL;
	if ((r = nl_open(-1, &sk, e)) < 0)
		return net_prefix(r, e, "bridge %s", b->name);
	cleanup_rtnl_link struct rtnl_link *br = NULL;
	r = link_get(sk, b->name, &br);
	if (nl_notfound(r)) {
		cleanup_rtnl_link struct rtnl_link *k = rtnl_link_alloc();
		if (!k)
			return err_set(e, ENOMEM, "bridge %s", b->name);
		rtnl_link_set_name(k, b->name);
		if ((r = rtnl_link_set_type(k, "bridge")) >= 0)
			r = rtnl_link_add(sk, k, NLM_F_CREATE | NLM_F_EXCL);
		if (r < 0)
			return nl_fail(e, r, "bridge %s: create", b->name);
		r = link_get(sk, b->name, &br);
	}
	if (r < 0)
		return nl_fail(e, r, "bridge %s: get link", b->name);
	const char *kind = rtnl_link_get_type(br);
	if (!kind || strcmp(kind, "bridge"))
		return err_setx(e, EEXIST, "bridge %s: the interface exists and is a %s, not a bridge", b->name,
		                kind ? kind : "device of no kind");
	struct in_addr gw;
	inet_pton(AF_INET, b->gateway, &gw);
	if ((r = addr_add(sk, rtnl_link_get_ifindex(br), b->name, gw, b->prefix, e)) < 0)
		return net_prefix(r, e, "bridge");
	if ((r = link_set_up(sk, br, b->name, e)) < 0)
		return net_prefix(r, e, "bridge");

	/* forwarding for the containers' traffic; route_localnet lets
	 * 127.0.0.1:PORT, DNATed on the host, leave by the bridge */
	char path[128];
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/route_localnet", b->name);
	if ((r = sysctl_set("/proc/sys/net/ipv4/ip_forward", "1", e)) < 0 || (r = sysctl_set(path, "1", e)) < 0)
		return net_prefix(r, e, "bridge %s", b->name);

	cleanup_free char *script = NULL;
	if (asprintf(&script,
	             "add table ip %1$s\n"
	             "add chain ip %1$s ports\n"
	             "add chain ip %1$s prerouting { type nat hook prerouting priority dstnat; policy accept; }\n"
	             "add chain ip %1$s output { type nat hook output priority -100; policy accept; }\n"
	             "add chain ip %1$s postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
	             "flush chain ip %1$s prerouting\n"
	             "flush chain ip %1$s output\n"
	             "flush chain ip %1$s postrouting\n"
	             "add rule ip %1$s prerouting fib daddr type local jump ports\n"
	             "add rule ip %1$s output fib daddr type local jump ports\n"
	             "add rule ip %1$s postrouting ip saddr %3$s oifname != \"%2$s\" masquerade\n"
	             "add rule ip %1$s postrouting ip saddr 127.0.0.0/8 oifname \"%2$s\" masquerade\n"
	             "add rule ip %1$s postrouting ct status dnat iifname \"%2$s\" oifname \"%2$s\" masquerade\n",
	             b->table, b->name, b->cidr) < 0)
		return err_set(e, ENOMEM, "bridge %s", b->name);
	if ((r = net_nft_run("install nft table", script, NULL, e)) < 0)
		return net_prefix(r, e, "bridge %s", b->name);
	return 0;
}

static int link_delete(struct nl_sock *sk, const char *name, struct ros_err *e)
{
	cleanup_rtnl_link struct rtnl_link *k = rtnl_link_alloc();
	if (!k)
		return err_set(e, ENOMEM, "delete %s", name);
	rtnl_link_set_name(k, name);
	int r = rtnl_link_delete(sk, k);
	if (r < 0 && !nl_notfound(r))
		return nl_fail(e, r, "delete link %s", name);
	return 0;
}

int net_bridge_teardown(const struct net_bridge *b, struct ros_err *e)
{
	cleanup_free char *script = NULL;
	if (asprintf(&script, "add table ip %1$s\ndelete table ip %1$s\n", b->table) < 0)
		return err_set(e, ENOMEM, "bridge %s", b->name);
	int r = net_nft_run("delete nft table", script, NULL, e);
	if (r < 0)
		return net_prefix(r, e, "bridge %s", b->name);
	cleanup_nl_sock struct nl_sock *sk = NULL;
	if ((r = nl_open(-1, &sk, e)) < 0 || (r = link_delete(sk, b->name, e)) < 0)
		return net_prefix(r, e, "bridge %s", b->name);
	return 0;
}

/* Configures eth0 (already in the namespace) and lo through sk. */
static int ctr_side(struct nl_sock *sk, const struct net_bridge *b, struct in_addr a, struct ros_err *e)
{
	cleanup_rtnl_link struct rtnl_link *eth = NULL, *lo = NULL;
	int r = link_get(sk, "eth0", &eth);
	if (r < 0)
		return nl_fail(e, r, "eth0 in the container");
	if ((r = addr_add(sk, rtnl_link_get_ifindex(eth), "eth0", a, b->prefix, e)) < 0 ||
	    (r = link_set_up(sk, eth, "eth0", e)) < 0)
		return r;
	if ((r = link_get(sk, "lo", &lo)) < 0)
		return nl_fail(e, r, "lo in the container");
	if ((r = link_set_up(sk, lo, "lo", e)) < 0)
		return r;

	struct in_addr gw, any = {0};
	inet_pton(AF_INET, b->gateway, &gw);
	cleanup_rtnl_route struct rtnl_route *rt = rtnl_route_alloc();
	cleanup_nl_addr struct nl_addr *dst = inet_nl_addr(any, 0);
	cleanup_nl_addr struct nl_addr *via = inet_nl_addr(gw, 32);
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	if (!rt || !dst || !via || !nh) {
		if (nh)
			rtnl_route_nh_free(nh);
		return err_set(e, ENOMEM, "default route via %s", b->gateway);
	}
	rtnl_route_set_family(rt, AF_INET);
	rtnl_route_set_table(rt, RT_TABLE_MAIN);
	rtnl_route_set_type(rt, RTN_UNICAST);
	rtnl_route_set_scope(rt, RT_SCOPE_UNIVERSE);
	rtnl_route_set_protocol(rt, RTPROT_BOOT);
	r = rtnl_route_set_dst(rt, dst);
	rtnl_route_nh_set_ifindex(nh, rtnl_link_get_ifindex(eth));
	rtnl_route_nh_set_gateway(nh, via);
	rtnl_route_add_nexthop(rt, nh); /* the route owns nh now */
	if (r >= 0)
		r = rtnl_route_add(sk, rt, NLM_F_REPLACE);
	if (r < 0)
		return nl_fail(e, r, "eth0: default route via %s", b->gateway);
	return 0;
}

int net_veth_attach(const struct net_bridge *b, int netns_fd, const char *host_if, const char *ip, struct ros_err *e)
{
	if (!host_if || !net_name_ok(host_if, NET_IFNAME_MAX))
		return err_setx(e, EINVAL, "veth name \"%s\": want 1-15 letters, digits, '_', '-' or '.'",
		                host_if ? host_if : "(null)");
	struct in_addr a, gw;
	unsigned net;
	int prefix, r = net_cidr_parse(b->cidr, &net, &prefix, e);
	if (r < 0)
		return r;
	inet_pton(AF_INET, b->gateway, &gw);
	uint32_t mask = ~0u << (32 - prefix);
	if (!ip || inet_pton(AF_INET, ip, &a) != 1)
		return err_setx(e, EINVAL, "veth %s: \"%s\" is not an IPv4 address", host_if, ip ? ip : "(null)");
	if ((ntohl(a.s_addr) & mask) != ntohl(net) || a.s_addr == gw.s_addr)
		return err_setx(e, EINVAL, "veth %s: address %s is not a host address of %s (gateway %s)", host_if, ip,
		                b->cidr, b->gateway);

	cleanup_nl_sock struct nl_sock *sk = NULL;
	if ((r = nl_open(-1, &sk, e)) < 0)
		return net_prefix(r, e, "veth %s", host_if);
	cleanup_rtnl_link struct rtnl_link *br = NULL;
	if ((r = link_get(sk, b->name, &br)) < 0)
		return nl_fail(e, r, "veth %s: bridge %s", host_if, b->name);

	/* Docker's MAC: 02:42 and the four bytes of the address */
	unsigned char mac[6] = {0x02, 0x42};
	memcpy(mac + 2, &a.s_addr, 4);
	cleanup_nl_addr struct nl_addr *lladdr = nl_addr_build(AF_LLC, mac, sizeof(mac));
	cleanup_rtnl_link struct rtnl_link *veth = rtnl_link_veth_alloc();
	if (!veth || !lladdr)
		return err_set(e, ENOMEM, "veth %s", host_if);
	cleanup_rtnl_link struct rtnl_link *peer = rtnl_link_veth_get_peer(veth);
	rtnl_link_set_name(veth, host_if);
	rtnl_link_set_master(veth, rtnl_link_get_ifindex(br));
	rtnl_link_set_flags(veth, IFF_UP);
	rtnl_link_set_name(peer, "eth0");
	rtnl_link_set_addr(peer, lladdr);
	rtnl_link_set_ns_fd(peer, netns_fd);
	if ((r = rtnl_link_add(sk, veth, NLM_F_CREATE | NLM_F_EXCL)) < 0)
		return nl_fail(e, r, "veth %s: create (peer eth0 in the container, on %s)", host_if, b->name);

	cleanup_nl_sock struct nl_sock *ns = NULL;
	if ((r = nl_open(netns_fd, &ns, e)) < 0 || (r = ctr_side(ns, b, a, e)) < 0) {
		err_prefix(e, "veth %s: container side %s/%d", host_if, ip, prefix);
		link_delete(sk, host_if, NULL);
		return r;
	}
	return 0;
}

int net_veth_detach(const char *host_if, struct ros_err *e)
{
	if (!host_if || !net_name_ok(host_if, NET_IFNAME_MAX))
		return err_setx(e, EINVAL, "veth name \"%s\": want 1-15 letters, digits, '_', '-' or '.'",
		                host_if ? host_if : "(null)");
	cleanup_nl_sock struct nl_sock *sk = NULL;
	int r = nl_open(-1, &sk, e);
	if (r < 0)
		return net_prefix(r, e, "veth %s", host_if);
	return link_delete(sk, host_if, e);
}

int net_lo_up(int netns_fd, struct ros_err *e)
{
	cleanup_nl_sock struct nl_sock *sk = NULL;
	int r = nl_open(netns_fd, &sk, e);
	if (r < 0)
		return net_prefix(r, e, "loopback");
	cleanup_rtnl_link struct rtnl_link *lo = NULL;
	if ((r = link_get(sk, "lo", &lo)) < 0)
		return nl_fail(e, r, "lo in the container");
	return link_set_up(sk, lo, "lo", e);
}
