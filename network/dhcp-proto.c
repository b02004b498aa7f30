/* SPDX-License-Identifier: MIT */
/*
 * DHCPv4 message building and parsing, IPv4/UDP framing (dhcp-proto.h).
 * Byte offsets rather than packed structs: everything here reads
 * untrusted input and says exactly which bytes it touches.
 */
#define _GNU_SOURCE
#include "dhcp-proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "core/cleanup.h"

/* BOOTP field offsets (RFC 2131 figure 1) */
enum {
	OFF_OP = 0,
	OFF_HTYPE = 1,
	OFF_HLEN = 2,
	OFF_XID = 4,
	OFF_SECS = 8,
	OFF_FLAGS = 10,
	OFF_CIADDR = 12,
	OFF_YIADDR = 16,
	OFF_CHADDR = 28,
	OFF_SNAME = 44,
	OFF_FILE = 108,
	OFF_MAGIC = 236,
	OFF_OPTIONS = 240,
};
#define DHCP_MAGIC 0x63825363u
#define BOOTREQUEST 1
#define BOOTREPLY 2

enum {
	OPT_PAD = 0,
	OPT_SUBNET_MASK = 1,
	OPT_ROUTER = 3,
	OPT_DNS = 6,
	OPT_HOSTNAME = 12,
	OPT_DOMAIN = 15,
	OPT_MTU = 26,
	OPT_REQUESTED_IP = 50,
	OPT_LEASE_TIME = 51,
	OPT_OVERLOAD = 52,
	OPT_MSG_TYPE = 53,
	OPT_SERVER_ID = 54,
	OPT_PARAM_LIST = 55,
	OPT_MESSAGE = 56,
	OPT_MAX_SIZE = 57,
	OPT_T1 = 58,
	OPT_T2 = 59,
	OPT_CLIENT_ID = 61,
	OPT_END = 255,
};

/* What we ask for: mask, router, DNS, host name, domain, MTU, NTP, lease,
 * server id, T1, T2. */
static const uint8_t param_list[] = {OPT_SUBNET_MASK, OPT_ROUTER,     OPT_DNS,       OPT_HOSTNAME, OPT_DOMAIN, OPT_MTU,
                                     42 /* NTP */,    OPT_LEASE_TIME, OPT_SERVER_ID, OPT_T1,       OPT_T2};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}
static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

struct optbuf {
	uint8_t *p;
	size_t off, end; /* room for OPT_END is kept back */
};

static void opt_add(struct optbuf *o, uint8_t code, const void *data, size_t len)
{
	if (len > 255 || o->off + 2 + len > o->end)
		return;
	o->p[o->off++] = code;
	o->p[o->off++] = (uint8_t)len;
	memcpy(o->p + o->off, data, len);
	o->off += len;
}

size_t dhcp_build(const struct dhcp_request *q, uint8_t buf[DHCP_MSG_MAX])
{
	memset(buf, 0, DHCP_MSG_MAX);
	buf[OFF_OP] = BOOTREQUEST;
	buf[OFF_HTYPE] = 1; /* Ethernet */
	buf[OFF_HLEN] = 6;
	put32(buf + OFF_XID, q->xid);
	put16(buf + OFF_SECS, q->secs);
	put16(buf + OFF_FLAGS, q->broadcast ? 0x8000 : 0);
	memcpy(buf + OFF_CIADDR, &q->ciaddr, 4);
	memcpy(buf + OFF_CHADDR, q->mac, 6);
	put32(buf + OFF_MAGIC, DHCP_MAGIC);

	struct optbuf o = {.p = buf, .off = OFF_OPTIONS, .end = DHCP_MSG_MAX - 1};
	uint8_t type = (uint8_t)q->type;
	opt_add(&o, OPT_MSG_TYPE, &type, 1);
	uint8_t client_id[7] = {1}; /* hardware type 1 + the MAC */
	memcpy(client_id + 1, q->mac, 6);
	opt_add(&o, OPT_CLIENT_ID, client_id, sizeof(client_id));
	if (q->requested.s_addr)
		opt_add(&o, OPT_REQUESTED_IP, &q->requested, 4);
	if (q->server_id.s_addr)
		opt_add(&o, OPT_SERVER_ID, &q->server_id, 4);
	if (q->type == DHCP_DISCOVER || q->type == DHCP_REQUEST || q->type == DHCP_INFORM) {
		uint8_t max[2];
		put16(max, 576);
		opt_add(&o, OPT_MAX_SIZE, max, 2);
		if (q->hostname && *q->hostname)
			opt_add(&o, OPT_HOSTNAME, q->hostname, strnlen(q->hostname, DHCP_HOST_MAX));
		opt_add(&o, OPT_PARAM_LIST, param_list, sizeof(param_list));
	}
	buf[o.off++] = OPT_END;
	return o.off < DHCP_MSG_MIN ? DHCP_MSG_MIN : o.off;
}

/* Copies an option's text (not NUL-terminated on the wire), dropping
 * control characters so a log line stays one line. */
static void opt_text(char *dst, size_t size, const uint8_t *v, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n + 1 < size; i++) {
		if (v[i] == '\0')
			break;
		if (v[i] >= 0x20 && v[i] < 0x7f)
			dst[n++] = (char)v[i];
	}
	dst[n] = '\0';
}

struct parse_state {
	struct dhcp_reply *r;
	bool has_type;
	uint8_t overload;
};

static int parse_options(struct parse_state *st, const uint8_t *p, size_t len, bool top)
{
	struct dhcp_reply *r = st->r;
	size_t i = 0;
	while (i < len) {
		uint8_t code = p[i++];
		if (code == OPT_PAD)
			continue;
		if (code == OPT_END)
			return 0;
		if (i >= len)
			return -EINVAL;
		size_t l = p[i++];
		if (i + l > len)
			return -EINVAL;
		const uint8_t *v = p + i;
		i += l;
		switch (code) {
		case OPT_MSG_TYPE:
			if (l == 1 && !st->has_type) {
				r->type = (enum dhcp_type)v[0];
				st->has_type = true;
			}
			break;
		case OPT_SERVER_ID:
			if (l == 4 && !r->has_server_id) {
				memcpy(&r->server_id, v, 4);
				r->has_server_id = true;
			}
			break;
		case OPT_SUBNET_MASK:
			if (l == 4 && !r->has_mask) {
				memcpy(&r->mask, v, 4);
				r->has_mask = true;
			}
			break;
		case OPT_ROUTER:
			if (l >= 4 && l % 4 == 0 && !r->has_router) {
				memcpy(&r->router, v, 4);
				r->has_router = true;
			}
			break;
		case OPT_DNS:
			for (size_t k = 0; l % 4 == 0 && k < l && r->n_dns < DHCP_MAX_DNS; k += 4)
				memcpy(&r->dns[r->n_dns++], v + k, 4);
			break;
		case OPT_LEASE_TIME:
			if (l == 4 && !r->has_lease) {
				r->lease_s = get32(v);
				r->has_lease = true;
			}
			break;
		case OPT_T1:
			if (l == 4 && !r->has_t1) {
				r->t1_s = get32(v);
				r->has_t1 = true;
			}
			break;
		case OPT_T2:
			if (l == 4 && !r->has_t2) {
				r->t2_s = get32(v);
				r->has_t2 = true;
			}
			break;
		case OPT_MTU:
			if (l == 2 && !r->mtu)
				r->mtu = get16(v);
			break;
		case OPT_HOSTNAME:
			if (!r->hostname[0])
				opt_text(r->hostname, sizeof(r->hostname), v, l);
			break;
		case OPT_DOMAIN:
			if (!r->domain[0])
				opt_text(r->domain, sizeof(r->domain), v, l);
			break;
		case OPT_MESSAGE:
			if (!r->message[0])
				opt_text(r->message, sizeof(r->message), v, l);
			break;
		case OPT_OVERLOAD:
			if (l == 1 && top)
				st->overload = v[0];
			break;
		default:
			break;
		}
	}
	/* no OPT_END: RFC 2131 wants one, but a few servers stop at the last option */
	return 0;
}

int dhcp_parse(const uint8_t *buf, size_t len, struct dhcp_reply *out)
{
	*out = (struct dhcp_reply){0};
	if (len < OFF_OPTIONS || buf[OFF_OP] != BOOTREPLY || buf[OFF_HTYPE] != 1 || buf[OFF_HLEN] != 6 ||
	    get32(buf + OFF_MAGIC) != DHCP_MAGIC)
		return -EINVAL;
	out->xid = get32(buf + OFF_XID);
	memcpy(out->chaddr, buf + OFF_CHADDR, 6);
	memcpy(&out->yiaddr, buf + OFF_YIADDR, 4);
	struct parse_state st = {.r = out};
	if (parse_options(&st, buf + OFF_OPTIONS, len - OFF_OPTIONS, true) < 0)
		return -EINVAL;
	if (st.overload & 1)
		parse_options(&st, buf + OFF_FILE, 128, false);
	if (st.overload & 2)
		parse_options(&st, buf + OFF_SNAME, 64, false);
	if (!st.has_type || out->type < DHCP_DISCOVER || out->type > DHCP_INFORM)
		return -EINVAL;
	return 0;
}

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The UDP checksum's start: the pseudo header (RFC 768). */
static uint32_t pseudo_sum(const uint8_t *src, const uint8_t *dst, size_t udp_len)
{
	uint32_t sum = sum16(src, 4, 0);
	sum = sum16(dst, 4, sum);
	return sum + IPPROTO_UDP + (uint32_t)udp_len;
}

size_t dhcp_frame(uint8_t *pkt, size_t size, struct in_addr src, struct in_addr dst, uint16_t sport, uint16_t dport,
                  const uint8_t *payload, size_t len)
{
	size_t total = 20 + 8 + len;
	if (total > size || total > 0xffff)
		return 0;
	memset(pkt, 0, 28);
	uint8_t *ip = pkt, *udp = pkt + 20;
	ip[0] = 0x45; /* version 4, 5 words */
	ip[1] = 0x10; /* TOS: low delay, as BOOTP clients do */
	put16(ip + 2, (uint16_t)total);
	ip[8] = 64; /* TTL */
	ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	put16(ip + 10, fold(sum16(ip, 20, 0)));
	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, (uint16_t)(8 + len));
	memcpy(udp + 8, payload, len);
	uint16_t c = fold(sum16(udp, 8 + len, pseudo_sum(ip + 12, ip + 16, 8 + len)));
	put16(udp + 6, c ? c : 0xffff);
	return total;
}

int dhcp_unframe(const uint8_t *pkt, size_t len, uint16_t dport, bool check_udp_sum, const uint8_t **payload,
                 size_t *plen)
{
	if (len < 28 || pkt[0] >> 4 != 4)
		return -EINVAL;
	size_t ihl = (size_t)(pkt[0] & 0xf) * 4, total = get16(pkt + 2);
	if (ihl < 20 || total > len || total < ihl + 8 || pkt[9] != IPPROTO_UDP)
		return -EINVAL;
	if (get16(pkt + 6) & 0x3fff) /* more fragments, or a fragment offset */
		return -EINVAL;
	if (fold(sum16(pkt, ihl, 0)) != 0)
		return -EINVAL;
	const uint8_t *udp = pkt + ihl;
	size_t ulen = get16(udp + 4);
	if (get16(udp + 2) != dport || ulen < 8 || ulen > total - ihl)
		return -EINVAL;
	if (check_udp_sum && get16(udp + 6) != 0 && fold(sum16(udp, ulen, pseudo_sum(pkt + 12, pkt + 16, ulen))) != 0)
		return -EINVAL;
	*payload = udp + 8;
	*plen = ulen - 8;
	return 0;
}

int dhcp_mask_prefix(struct in_addr mask)
{
	uint32_t m = ntohl(mask.s_addr);
	int prefix = 0;
	while (prefix < 32 && (m & (0x80000000u >> prefix)))
		prefix++;
	uint32_t want = prefix ? ~0u << (32 - prefix) : 0;
	return m == want ? prefix : -1;
}
