/* SPDX-License-Identifier: MIT */
/*
 * rtnetlink through libnl-route-3 (links.h).  Every request waits for the
 * kernel's ack, so a caller knows the address or route is in place.
 */
#define _GNU_SOURCE
#include "links.h"

#include <arpa/inet.h>
#include <net/if_arp.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "net/nl-cleanup.h"

/* libnl's error numbers back to errno; an address or route not found is ESRCH
 * (main.c ignores it when deleting), a device gone ENODEV */
static int nl_errno(int nlerr)
{
	return nl_to_errno(nlerr, ESRCH);
}

#define nl_fail(e, r, fmt, ...) err_setx(e, nl_errno(r), fmt ": %s", ##__VA_ARGS__, nl_geterror(r))

int links_open(struct links *l, struct ros_err *e)
{
	*l = (struct links){0};
	int r;
	if (!(l->sk = nl_socket_alloc()) || !(l->events = nl_socket_alloc())) {
		links_close(l);
		return err_set(e, ENOMEM, "netlink socket");
	}
	if ((r = nl_connect(l->sk, NETLINK_ROUTE)) < 0) {
		links_close(l);
		return nl_fail(e, r, "netlink connect");
	}
	nl_socket_disable_seq_check(l->events);
	nl_socket_disable_auto_ack(l->events);
	if ((r = nl_connect(l->events, NETLINK_ROUTE)) < 0 ||
	    (r = nl_socket_add_membership(l->events, RTNLGRP_LINK)) < 0 ||
	    (r = nl_socket_set_nonblocking(l->events)) < 0) {
		links_close(l);
		return nl_fail(e, r, "netlink link notifications");
	}
	/* a burst of hotplug events should not overflow the queue */
	nl_socket_set_buffer_size(l->events, 1 << 20, 0);
	return 0;
}

void links_close(struct links *l)
{
	if (l->sk)
		nl_socket_free(l->sk);
	if (l->events)
		nl_socket_free(l->events);
	*l = (struct links){0};
}

static void from_rtnl(struct rtnl_link *rl, struct links_link *k)
{
	*k = (struct links_link){0};
	k->ifindex = rtnl_link_get_ifindex(rl);
	snprintf(k->name, sizeof(k->name), "%s", rtnl_link_get_name(rl) ?: "");
	k->arptype = rtnl_link_get_arptype(rl);
	k->flags = rtnl_link_get_flags(rl);
	k->mtu = rtnl_link_get_mtu(rl);
	snprintf(k->kind, sizeof(k->kind), "%s", rtnl_link_get_type(rl) ?: "");
	struct nl_addr *a = rtnl_link_get_addr(rl);
	if (a && nl_addr_get_len(a) == 6) {
		memcpy(k->mac, nl_addr_get_binary_addr(a), 6);
		k->has_mac = true;
	}
}

int links_list(struct links *l, struct links_link **out, size_t *n, struct ros_err *e)
{
	cleanup_nl_cache struct nl_cache *cache = NULL;
	int r = rtnl_link_alloc_cache(l->sk, AF_UNSPEC, &cache);
	if (r < 0)
		return nl_fail(e, r, "list links");
	size_t count = (size_t)nl_cache_nitems(cache), i = 0;
	cleanup_free struct links_link *v = calloc(count ? count : 1, sizeof(*v));
	if (!v)
		return err_set(e, ENOMEM, "list links");
	for (struct nl_object *o = nl_cache_get_first(cache); o && i < count; o = nl_cache_get_next(o))
		from_rtnl((struct rtnl_link *)o, &v[i++]);
	*out = TAKE_PTR(v);
	*n = i;
	return 0;
}

static int link_change(struct links *l, const struct links_link *k, bool up, unsigned mtu, struct ros_err *e)
{
	cleanup_rtnl_link struct rtnl_link *orig = NULL;
	int r = rtnl_link_get_kernel(l->sk, k->ifindex, NULL, &orig);
	if (r < 0)
		return nl_fail(e, r, "%s: get link", k->name);
	cleanup_rtnl_link struct rtnl_link *change = rtnl_link_alloc();
	if (!change)
		return err_set(e, ENOMEM, "%s", k->name);
	if (up)
		rtnl_link_set_flags(change, IFF_UP);
	if (mtu)
		rtnl_link_set_mtu(change, mtu);
	r = rtnl_link_change(l->sk, orig, change, 0);
	if (r < 0)
		return mtu ? nl_fail(e, r, "%s: set %smtu %u", k->name, up ? "up, " : "", mtu)
		           : nl_fail(e, r, "%s: set up", k->name);
	return 0;
}

int links_set_up(struct links *l, const struct links_link *k, unsigned mtu, struct ros_err *e)
{
	return link_change(l, k, true, mtu, e);
}

int links_set_mtu(struct links *l, const struct links_link *k, unsigned mtu, struct ros_err *e)
{
	return link_change(l, k, false, mtu, e);
}

static struct nl_addr *inet_nl_addr(struct in_addr a, unsigned prefix)
{
	struct nl_addr *na = nl_addr_build(AF_INET, &a, sizeof(a));
	if (na)
		nl_addr_set_prefixlen(na, (int)prefix);
	return na;
}

static int addr_op(struct links *l, const struct links_link *k, struct in_addr a, unsigned prefix, bool add,
                   struct ros_err *e)
{
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	cleanup_rtnl_addr struct rtnl_addr *ra = rtnl_addr_alloc();
	cleanup_nl_addr struct nl_addr *local = inet_nl_addr(a, prefix);
	if (!ra || !local)
		return err_set(e, ENOMEM, "%s: address %s/%u", k->name, ip, prefix);
	rtnl_addr_set_ifindex(ra, k->ifindex);
	rtnl_addr_set_family(ra, AF_INET);
	int r = rtnl_addr_set_local(ra, local);
	rtnl_addr_set_prefixlen(ra, (int)prefix);
	if (r >= 0 && add && prefix < 31) {
		uint32_t mask = prefix ? htonl(~0u << (32 - prefix)) : 0;
		struct in_addr b = {.s_addr = a.s_addr | ~mask};
		cleanup_nl_addr struct nl_addr *brd = inet_nl_addr(b, 32);
		if (!brd)
			return err_set(e, ENOMEM, "%s: address %s/%u", k->name, ip, prefix);
		r = rtnl_addr_set_broadcast(ra, brd);
	}
	if (r >= 0)
		r = add ? rtnl_addr_add(l->sk, ra, NLM_F_REPLACE) : rtnl_addr_delete(l->sk, ra, 0);
	if (r < 0)
		return nl_fail(e, r, "%s: %s address %s/%u", k->name, add ? "add" : "delete", ip, prefix);
	return 0;
}

int links_addr_add(struct links *l, const struct links_link *k, struct in_addr a, unsigned prefix, struct ros_err *e)
{
	return addr_op(l, k, a, prefix, true, e);
}

int links_addr_del(struct links *l, const struct links_link *k, struct in_addr a, unsigned prefix, struct ros_err *e)
{
	return addr_op(l, k, a, prefix, false, e);
}

int links_default_route(struct links *l, const struct links_link *k, struct in_addr gw, bool onlink, unsigned metric,
                        uint8_t protocol, bool add, struct ros_err *e)
{
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &gw, ip, sizeof(ip));
	struct in_addr any = {0};
	cleanup_rtnl_route struct rtnl_route *rt = rtnl_route_alloc();
	cleanup_nl_addr struct nl_addr *dst = inet_nl_addr(any, 0);
	cleanup_nl_addr struct nl_addr *via = inet_nl_addr(gw, 32);
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	if (!rt || !dst || !via || !nh) {
		if (nh)
			rtnl_route_nh_free(nh);
		return err_set(e, ENOMEM, "%s: default route via %s", k->name, ip);
	}
	rtnl_route_set_family(rt, AF_INET);
	rtnl_route_set_table(rt, RT_TABLE_MAIN);
	rtnl_route_set_type(rt, RTN_UNICAST);
	rtnl_route_set_scope(rt, RT_SCOPE_UNIVERSE);
	rtnl_route_set_protocol(rt, protocol);
	rtnl_route_set_priority(rt, metric);
	int r = rtnl_route_set_dst(rt, dst);
	rtnl_route_nh_set_ifindex(nh, k->ifindex);
	rtnl_route_nh_set_gateway(nh, via);
	if (onlink)
		rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
	rtnl_route_add_nexthop(rt, nh); /* the route owns nh now */
	if (r >= 0)
		r = add ? rtnl_route_add(l->sk, rt, NLM_F_REPLACE) : rtnl_route_delete(l->sk, rt, 0);
	if (r < 0)
		return nl_fail(e, r, "%s: %s default route via %s", k->name, add ? "add" : "delete", ip);
	return 0;
}

int links_events_fd(const struct links *l)
{
	return nl_socket_get_fd(l->events);
}

struct event_ctx {
	links_event_cb cb;
	void *arg;
	bool removed;
};

static void on_object(struct nl_object *o, void *arg)
{
	struct event_ctx *ctx = arg;
	if (strcmp(nl_object_get_type(o), "route/link"))
		return;
	struct links_link k;
	from_rtnl((struct rtnl_link *)o, &k);
	ctx->cb(&k, ctx->removed, ctx->arg);
}

static int on_msg(struct nl_msg *msg, void *arg)
{
	struct event_ctx *ctx = arg;
	int type = nlmsg_hdr(msg)->nlmsg_type;
	if (type != RTM_NEWLINK && type != RTM_DELLINK)
		return NL_SKIP;
	ctx->removed = type == RTM_DELLINK;
	nl_msg_parse(msg, on_object, ctx);
	return NL_OK;
}

int links_events_read(struct links *l, links_event_cb on_event, void *arg)
{
	struct event_ctx ctx = {.cb = on_event, .arg = arg};
	nl_socket_modify_cb(l->events, NL_CB_VALID, NL_CB_CUSTOM, on_msg, &ctx);
	/* level-triggered epoll: a batch at a time, until the queue is empty */
	for (int i = 0; i < 64; i++) {
		struct nl_cb *cb = nl_socket_get_cb(l->events);
		int r = cb ? nl_recvmsgs_report(l->events, cb) : -NLE_NOMEM;
		if (cb)
			nl_cb_put(cb);
		if (r == 0 || r == -NLE_AGAIN)
			return 0;
		if (r < 0)
			return r == -NLE_NOMEM ? -ENOBUFS : -nl_errno(r);
	}
	return 0;
}
