/* SPDX-License-Identifier: MIT */
#pragma once
/*
 * DHCPv4 messages (RFC 2131/2132) and their IPv4/UDP framing: building the
 * client's messages and parsing the server's, with no I/O.  The parsers
 * take any bytes off the wire and never read past them.
 */
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68
#define DHCP_MAX_DNS 8
#define DHCP_HOST_MAX 64
/* the fixed BOOTP part (236), the magic cookie and 308 bytes of options */
#define DHCP_MSG_MAX 548
#define DHCP_MSG_MIN 300 /* some servers drop anything shorter (BOOTP) */
#define DHCP_FRAME_MAX (20 + 8 + DHCP_MSG_MAX)

enum dhcp_type {
	DHCP_DISCOVER = 1,
	DHCP_OFFER = 2,
	DHCP_REQUEST = 3,
	DHCP_DECLINE = 4,
	DHCP_ACK = 5,
	DHCP_NAK = 6,
	DHCP_RELEASE = 7,
	DHCP_INFORM = 8,
};

/* What the client sends. */
struct dhcp_request {
	enum dhcp_type type;
	uint32_t xid;
	uint16_t secs;
	bool broadcast; /* ask the server to broadcast its reply: no address yet */
	uint8_t mac[6];
	struct in_addr ciaddr;    /* our address when renewing, rebinding, releasing */
	struct in_addr requested; /* option 50; 0: none */
	struct in_addr server_id; /* option 54; 0: none */
	const char *hostname;     /* option 12; NULL or "": none */
};

/* A server's message, parsed. */
struct dhcp_reply {
	enum dhcp_type type;
	uint32_t xid;
	uint8_t chaddr[6];
	struct in_addr yiaddr;
	bool has_server_id, has_mask, has_router, has_lease, has_t1, has_t2;
	struct in_addr server_id, mask, router;
	uint32_t lease_s, t1_s, t2_s;
	struct in_addr dns[DHCP_MAX_DNS];
	size_t n_dns;
	uint16_t mtu;       /* 0: none */
	char hostname[256]; /* as sent; checked before use */
	char domain[256];
	char message[128]; /* option 56, a NAK's reason */
};

/* Builds the BOOTP payload; returns its length (>= DHCP_MSG_MIN). */
size_t dhcp_build(const struct dhcp_request *q, uint8_t buf[DHCP_MSG_MAX]);
/* Parses a BOOTREPLY; -EINVAL when it is not a well-formed DHCP reply. */
int dhcp_parse(const uint8_t *buf, size_t len, struct dhcp_reply *out);

/* Wraps payload in IPv4 + UDP headers with both checksums; returns the
 * frame's length, 0 when it does not fit. */
size_t dhcp_frame(uint8_t *pkt, size_t size, struct in_addr src, struct in_addr dst, uint16_t sport, uint16_t dport,
                  const uint8_t *payload, size_t len);
/* Checks an IPv4/UDP frame addressed to port dport (header checksum, lengths,
 * no fragments, the UDP checksum unless the kernel says it is not filled in
 * yet) and finds its payload.  -EINVAL for anything else. */
int dhcp_unframe(const uint8_t *pkt, size_t len, uint16_t dport, bool check_udp_sum, const uint8_t **payload,
                 size_t *plen);

/* A netmask as a prefix length; -1 when its bits are not contiguous. */
int dhcp_mask_prefix(struct in_addr mask);
