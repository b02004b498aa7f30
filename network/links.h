/* SPDX-License-Identifier: MIT */
#pragma once
/*
 * Links, addresses and routes over rtnetlink (libnl-route-3): the few
 * operations ros-network needs, each returning -errno with a message that
 * names the link.  A second socket listens to link events.
 */
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct nl_sock;

#ifndef IFF_LOWER_UP /* <net/if.h> has no carrier flag; <linux/if.h> clashes with it */
#define IFF_LOWER_UP 0x10000
#endif

struct links_link {
	int ifindex;
	char name[IFNAMSIZ];
	uint8_t mac[6];
	bool has_mac; /* a 6-byte hardware address (Ethernet) */
	unsigned arptype;
	unsigned flags; /* IFF_UP, IFF_LOWER_UP, IFF_LOOPBACK... */
	unsigned mtu;
	char kind[32]; /* "veth", "bridge"...; "" for a plain device */
};

struct links {
	struct nl_sock *sk;     /* requests */
	struct nl_sock *events; /* RTNLGRP_LINK notifications, non-blocking */
};

int links_open(struct links *l, struct ros_err *e);
void links_close(struct links *l);

/* Every link now; *out is a malloc'd array. */
int links_list(struct links *l, struct links_link **out, size_t *n, struct ros_err *e);
/* Sets IFF_UP and, when mtu is not 0, the MTU. */
int links_set_up(struct links *l, const struct links_link *k, unsigned mtu, struct ros_err *e);
int links_set_mtu(struct links *l, const struct links_link *k, unsigned mtu, struct ros_err *e);
/* Adds (or refreshes) an IPv4 address with its broadcast. */
int links_addr_add(struct links *l, const struct links_link *k, struct in_addr a, unsigned prefix, struct ros_err *e);
int links_addr_del(struct links *l, const struct links_link *k, struct in_addr a, unsigned prefix, struct ros_err *e);
/* The default route via gw on this link; onlink when gw is outside every
 * subnet of the link.  metric keeps several links' defaults apart. */
int links_default_route(struct links *l, const struct links_link *k, struct in_addr gw, bool onlink, unsigned metric,
                        uint8_t protocol, bool add, struct ros_err *e);

/* Link notifications: the fd for epoll, and a read that calls cb once per
 * message (removed: RTM_DELLINK).  Returns < 0 when notifications were
 * lost (-ENOBUFS: the caller lists the links again). */
int links_events_fd(const struct links *l);
typedef void (*links_event_cb)(const struct links_link *k, bool removed, void *arg);
int links_events_read(struct links *l, links_event_cb cb, void *arg);
