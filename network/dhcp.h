/* SPDX-License-Identifier: MIT */
#pragma once
/*
 * The DHCPv4 client of one link (RFC 2131): INIT -> SELECTING ->
 * REQUESTING -> BOUND -> RENEWING (T1) -> REBINDING (T2) -> expiry.
 * Everything goes through one AF_PACKET socket bound to the link, so no
 * UDP port needs binding (the service holds NET_RAW, not
 * NET_BIND_SERVICE) and the same code works before and after the link
 * has an address.  The caller owns the clock and the epoll set: it calls
 * dhcp_on_timer when now >= next_ms and dhcp_on_readable when fd is
 * readable, and applies what the returned events say.
 */
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "dhcp-proto.h"

enum dhcp_state {
	DHCP_STOPPED,
	DHCP_SELECTING,  /* DISCOVER sent, waiting for an OFFER */
	DHCP_REQUESTING, /* REQUEST for an offer sent, waiting for the ACK */
	DHCP_BOUND,
	DHCP_RENEWING,  /* past T1: REQUEST unicast to the server */
	DHCP_REBINDING, /* past T2: REQUEST broadcast to any server */
};

struct dhcp_lease {
	struct in_addr addr, router, server;
	unsigned prefix;
	bool has_router;
	uint32_t lease_s;      /* UINT32_MAX: infinite */
	uint8_t server_mac[6]; /* where the ACK came from: the next hop to the server */
	struct in_addr dns[DHCP_MAX_DNS];
	size_t n_dns;
	uint16_t mtu;
	char hostname[256];
	char domain[256];
};

enum dhcp_event {
	DHCP_EV_NONE,
	DHCP_EV_BOUND,   /* a new lease (prev holds the one it replaces, if any) */
	DHCP_EV_RENEWED, /* the same address, extended */
	DHCP_EV_LOST,    /* NAK or expiry: prev is the lease to take down; why says which */
	DHCP_EV_ERROR,   /* a send failed; why says what (the client retries) */
};

struct dhcp_client {
	/* set by the caller before dhcp_start */
	int ifindex;
	char ifname[IFNAMSIZ];
	uint8_t mac[6];
	char hostname[DHCP_HOST_MAX + 1]; /* sent as option 12; "" none */

	int fd; /* AF_PACKET, -1 when stopped */
	enum dhcp_state state;
	uint32_t xid;
	unsigned tries;
	int64_t next_ms;    /* when the client wants dhcp_on_timer; 0: never */
	int64_t started_ms; /* of this exchange, for the secs field */
	struct dhcp_lease offer;
	struct dhcp_lease lease;
	bool has_lease;
	int64_t t1_ms, t2_ms, expire_ms;
	struct dhcp_lease prev; /* see enum dhcp_event */
	bool has_prev;
	char why[256];
};

/* Opens the socket and sends the first DISCOVER. */
int dhcp_start(struct dhcp_client *c, int64_t now_ms, struct ros_err *e);
/* Closes the socket; the lease (if any) is forgotten, not released. */
void dhcp_stop(struct dhcp_client *c);
enum dhcp_event dhcp_on_timer(struct dhcp_client *c, int64_t now_ms);
/* Handles one queued packet; -EAGAIN when the queue is empty. */
int dhcp_on_readable(struct dhcp_client *c, int64_t now_ms);
/* The link came back: renew a lease now, or restart the search. */
void dhcp_kick(struct dhcp_client *c, int64_t now_ms);
/* Sends DHCPRELEASE for the lease and forgets it. */
int dhcp_release(struct dhcp_client *c, struct ros_err *e);
const char *dhcp_state_name(enum dhcp_state s);
