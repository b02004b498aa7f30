/* SPDX-License-Identifier: MIT */
/*
 * The per-link DHCPv4 client state machine (dhcp.h).  No logging: what
 * happened is returned as an event and a reason, the loop logs it.
 */
#define _GNU_SOURCE
#include "dhcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/cleanup.h"

#define REQUEST_TRIES 4     /* REQUESTs for one offer before starting over */
#define BACKOFF_MAX_S 64    /* RFC 2131 4.1: up to 64 s between retransmissions */
#define NAK_RESTART_MS 1000 /* a NAK starts over, but not in a tight loop */

static const uint8_t broadcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static uint32_t rnd(void)
{
	uint32_t v = 0;
	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v)) {
		static uint32_t fallback = 0x9e3779b9u;
		fallback ^= fallback << 13;
		fallback ^= fallback >> 17;
		fallback ^= fallback << 5;
		v = fallback ^ (uint32_t)getpid();
	}
	return v;
}

/* 1, 2, 4 ... 64 s, plus up to 250 ms so a rack of machines does not retry
 * in lockstep. */
static int64_t backoff_ms(unsigned tries)
{
	int64_t s = tries < 6 ? (int64_t)1 << tries : BACKOFF_MAX_S;
	return s * 1000 + rnd() % 250;
}

const char *dhcp_state_name(enum dhcp_state s)
{
	static const char *const names[] = {"stopped", "selecting", "requesting", "bound", "renewing", "rebinding"};
	return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "?";
}

static int open_socket(const struct dhcp_client *c, struct ros_err *e)
{
	/* IPv4, UDP, not a fragment, to port 68: everything else stays in the kernel */
	static struct sock_filter code[] = {
	        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),
	        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 6),
	        BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),
	        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x3fff, 4, 0),
	        BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
	        BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),
	        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, DHCP_CLIENT_PORT, 0, 1),
	        BPF_STMT(BPF_RET | BPF_K, 0xffff),
	        BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = {.len = ARRAY_SIZE(code), .filter = code};
	/* protocol 0 until bound: nothing is queued before the filter is on */
	cleanup_close int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_set(e, errno, "%s: DHCP packet socket", c->ifname);
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		return err_set(e, errno, "%s: DHCP socket filter", c->ifname);
	/* to learn which checksums the kernel (veth, offload) left unfilled */
	if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0)
		return err_set(e, errno, "%s: PACKET_AUXDATA", c->ifname);
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_ifindex = c->ifindex};
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return err_set(e, errno, "%s: bind DHCP packet socket", c->ifname);
	return TAKE_FD(fd);
}

static uint16_t secs(const struct dhcp_client *c, int64_t now)
{
	int64_t s = (now - c->started_ms) / 1000;
	return s < 0 ? 0 : s > 0xffff ? 0xffff : (uint16_t)s;
}

/* Sends one message; src/dst IP and the next hop's MAC as given. */
static enum dhcp_event send_msg(struct dhcp_client *c, const struct dhcp_request *q, struct in_addr src,
                                struct in_addr dst, const uint8_t dst_mac[6])
{
	uint8_t msg[DHCP_MSG_MAX], frame[DHCP_FRAME_MAX];
	size_t len = dhcp_build(q, msg);
	size_t flen = dhcp_frame(frame, sizeof(frame), src, dst, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, msg, len);
	struct sockaddr_ll sll = {
	        .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_ifindex = c->ifindex, .sll_halen = 6};
	memcpy(sll.sll_addr, dst_mac, 6);
	if (sendto(c->fd, frame, flen, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		static const char *const names[] = {"?", "DISCOVER", "?", "REQUEST", "DECLINE", "?", "?", "RELEASE"};
		snprintf(c->why, sizeof(c->why), "send DHCP%s: %s",
		         (unsigned)q->type < ARRAY_SIZE(names) ? names[q->type] : "?", strerror(errno));
		return DHCP_EV_ERROR;
	}
	return DHCP_EV_NONE;
}

static struct dhcp_request base_request(const struct dhcp_client *c, enum dhcp_type type, int64_t now)
{
	struct dhcp_request q = {.type = type, .xid = c->xid, .secs = secs(c, now), .hostname = c->hostname};
	memcpy(q.mac, c->mac, 6);
	return q;
}

static enum dhcp_event send_discover(struct dhcp_client *c, int64_t now)
{
	struct dhcp_request q = base_request(c, DHCP_DISCOVER, now);
	q.broadcast = true;
	c->next_ms = now + backoff_ms(c->tries);
	return send_msg(c, &q, (struct in_addr){0}, (struct in_addr){INADDR_BROADCAST}, broadcast_mac);
}

/* REQUEST in SELECTING: for the offer, naming its server. */
static enum dhcp_event send_select(struct dhcp_client *c, int64_t now)
{
	struct dhcp_request q = base_request(c, DHCP_REQUEST, now);
	q.broadcast = true;
	q.requested = c->offer.addr;
	q.server_id = c->offer.server;
	c->next_ms = now + backoff_ms(c->tries);
	return send_msg(c, &q, (struct in_addr){0}, (struct in_addr){INADDR_BROADCAST}, broadcast_mac);
}

static bool known_mac(const uint8_t mac[6])
{
	static const uint8_t zero[6];
	return memcmp(mac, zero, 6) != 0;
}

/* REQUEST in RENEWING (unicast to the server) or REBINDING (broadcast):
 * ciaddr is our address, no server id, no requested address. */
static enum dhcp_event send_extend(struct dhcp_client *c, int64_t now)
{
	struct dhcp_request q = base_request(c, DHCP_REQUEST, now);
	q.ciaddr = c->lease.addr;
	bool unicast = c->state == DHCP_RENEWING && c->lease.server.s_addr && known_mac(c->lease.server_mac);
	/* retry at half the time left to the next step (RFC 2131 4.4.5), not
	 * more often than every 60 s, or an eighth of a short lease */
	int64_t until = c->state == DHCP_RENEWING ? c->t2_ms : c->expire_ms;
	int64_t floor = (int64_t)c->lease.lease_s * 1000 / 8;
	if (floor > 60000)
		floor = 60000;
	int64_t delay = (until - now) / 2;
	if (delay < floor)
		delay = floor;
	c->next_ms = now + delay < until ? now + delay : until;
	if (unicast)
		return send_msg(c, &q, c->lease.addr, c->lease.server, c->lease.server_mac);
	return send_msg(c, &q, c->lease.addr, (struct in_addr){INADDR_BROADCAST}, broadcast_mac);
}

static void start_selecting(struct dhcp_client *c, int64_t now)
{
	c->state = DHCP_SELECTING;
	c->xid = rnd();
	c->tries = 0;
	c->started_ms = now;
}

int dhcp_start(struct dhcp_client *c, int64_t now, struct ros_err *e)
{
	c->fd = -1;
	c->has_lease = c->has_prev = false;
	int fd = open_socket(c, e);
	if (fd < 0)
		return fd;
	c->fd = fd;
	start_selecting(c, now);
	/* a failed first send is no failure: the link may not be ready yet,
	 * and the retransmission covers it */
	send_discover(c, now);
	return 0;
}

void dhcp_stop(struct dhcp_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = DHCP_STOPPED;
	c->next_ms = 0;
	c->has_lease = false;
}

/* The lease is gone: hand it to the caller as prev and search again. */
static enum dhcp_event lose(struct dhcp_client *c, int64_t now, int64_t delay_ms)
{
	c->has_prev = c->has_lease;
	if (c->has_lease)
		c->prev = c->lease;
	c->has_lease = false;
	start_selecting(c, now);
	c->next_ms = now + delay_ms;
	return DHCP_EV_LOST;
}

enum dhcp_event dhcp_on_timer(struct dhcp_client *c, int64_t now)
{
	if (c->state == DHCP_STOPPED || !c->next_ms || now < c->next_ms)
		return DHCP_EV_NONE;
	switch (c->state) {
	case DHCP_STOPPED:
		return DHCP_EV_NONE;
	case DHCP_SELECTING:
		/* after a NAK or an expiry the first DISCOVER goes from here */
		if (c->tries < 10)
			c->tries++;
		return send_discover(c, now);
	case DHCP_REQUESTING:
		if (++c->tries < REQUEST_TRIES)
			return send_select(c, now);
		start_selecting(c, now);
		return send_discover(c, now);
	case DHCP_BOUND:
		c->state = DHCP_RENEWING;
		c->xid = rnd();
		c->tries = 0;
		c->started_ms = now;
		return send_extend(c, now);
	case DHCP_RENEWING:
		if (now >= c->t2_ms)
			c->state = DHCP_REBINDING;
		c->tries++;
		return send_extend(c, now);
	case DHCP_REBINDING:
		if (now >= c->expire_ms) {
			char ip[INET_ADDRSTRLEN];
			snprintf(c->why, sizeof(c->why), "lease of %s expired",
			         inet_ntop(AF_INET, &c->lease.addr, ip, sizeof(ip)));
			return lose(c, now, 0);
		}
		c->tries++;
		return send_extend(c, now);
	}
	return DHCP_EV_NONE;
}

static unsigned classful_prefix(struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);
	return h >> 31 == 0 ? 8 : h >> 30 == 2 ? 16 : 24;
}

static void lease_from_reply(struct dhcp_lease *l, const struct dhcp_reply *r, const uint8_t from_mac[6])
{
	*l = (struct dhcp_lease){0};
	l->addr = r->yiaddr;
	int prefix = r->has_mask ? dhcp_mask_prefix(r->mask) : -1;
	l->prefix = prefix >= 0 && prefix <= 32 ? (unsigned)prefix : classful_prefix(r->yiaddr);
	l->has_router = r->has_router && r->router.s_addr;
	l->router = r->router;
	l->server = r->server_id;
	/* RFC 2131 requires the lease time in an ACK; an hour when it is missing */
	l->lease_s = r->has_lease ? r->lease_s : 3600;
	if (l->lease_s < 4)
		l->lease_s = 4;
	memcpy(l->server_mac, from_mac, 6);
	memcpy(l->dns, r->dns, sizeof(l->dns));
	l->n_dns = r->n_dns;
	l->mtu = r->mtu >= 68 ? r->mtu : 0;
	snprintf(l->hostname, sizeof(l->hostname), "%s", r->hostname);
	snprintf(l->domain, sizeof(l->domain), "%s", r->domain);
}

static enum dhcp_event bind_lease(struct dhcp_client *c, const struct dhcp_reply *r, const uint8_t from_mac[6],
                                  int64_t now)
{
	struct dhcp_lease l;
	lease_from_reply(&l, r, from_mac);
	if (!l.addr.s_addr)
		return DHCP_EV_NONE;
	if (!l.server.s_addr)
		l.server = c->state == DHCP_REQUESTING ? c->offer.server : c->lease.server;
	bool same = c->has_lease && c->lease.addr.s_addr == l.addr.s_addr && c->lease.prefix == l.prefix;
	c->has_prev = c->has_lease && !same;
	if (c->has_prev)
		c->prev = c->lease;
	c->lease = l;
	c->has_lease = true;
	c->state = DHCP_BOUND;
	c->tries = 0;
	if (l.lease_s == UINT32_MAX) {
		c->t1_ms = c->t2_ms = c->expire_ms = INT64_MAX;
		c->next_ms = 0;
	} else {
		int64_t lease_ms = (int64_t)l.lease_s * 1000;
		int64_t t1 = lease_ms / 2, t2 = lease_ms * 7 / 8;
		/* the server's T1/T2 when they make sense */
		if (r->has_t1 && r->has_t2 && r->t1_s < r->t2_s && r->t2_s < l.lease_s) {
			t1 = (int64_t)r->t1_s * 1000;
			t2 = (int64_t)r->t2_s * 1000;
		}
		c->t1_ms = now + t1;
		c->t2_ms = now + t2;
		c->expire_ms = now + lease_ms;
		c->next_ms = c->t1_ms;
	}
	return same ? DHCP_EV_RENEWED : DHCP_EV_BOUND;
}

static enum dhcp_event on_nak(struct dhcp_client *c, const struct dhcp_reply *r, int64_t now)
{
	char ip[INET_ADDRSTRLEN];
	snprintf(c->why, sizeof(c->why), "DHCPNAK from %s%s%s%s",
	         r->has_server_id ? inet_ntop(AF_INET, &r->server_id, ip, sizeof(ip)) : "a server",
	         r->message[0] ? " (" : "", r->message, r->message[0] ? ")" : "");
	return lose(c, now, NAK_RESTART_MS);
}

static enum dhcp_event on_reply(struct dhcp_client *c, const struct dhcp_reply *r, const uint8_t from_mac[6],
                                int64_t now)
{
	if (r->xid != c->xid || memcmp(r->chaddr, c->mac, 6))
		return DHCP_EV_NONE;
	switch (c->state) {
	case DHCP_SELECTING:
		if (r->type != DHCP_OFFER || !r->yiaddr.s_addr || !r->has_server_id)
			return DHCP_EV_NONE;
		lease_from_reply(&c->offer, r, from_mac);
		c->state = DHCP_REQUESTING;
		c->tries = 0;
		return send_select(c, now);
	case DHCP_REQUESTING:
		if (r->has_server_id && r->server_id.s_addr != c->offer.server.s_addr)
			return DHCP_EV_NONE; /* another server's answer; we asked ours */
		if (r->type == DHCP_ACK)
			return bind_lease(c, r, from_mac, now);
		if (r->type == DHCP_NAK)
			return on_nak(c, r, now);
		return DHCP_EV_NONE;
	case DHCP_RENEWING:
	case DHCP_REBINDING:
		if (r->type == DHCP_ACK)
			return bind_lease(c, r, from_mac, now);
		if (r->type == DHCP_NAK)
			return on_nak(c, r, now);
		return DHCP_EV_NONE;
	case DHCP_BOUND:
	case DHCP_STOPPED:
		return DHCP_EV_NONE;
	}
	return DHCP_EV_NONE;
}

int dhcp_on_readable(struct dhcp_client *c, int64_t now)
{
	if (c->fd < 0)
		return -EAGAIN;
	uint8_t buf[2048];
	struct sockaddr_ll from = {0};
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	} ctl;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr mh = {.msg_name = &from,
	                    .msg_namelen = sizeof(from),
	                    .msg_iov = &iov,
	                    .msg_iovlen = 1,
	                    .msg_control = &ctl,
	                    .msg_controllen = sizeof(ctl)};
	ssize_t n = recvmsg(c->fd, &mh, MSG_DONTWAIT);
	if (n < 0)
		return errno == EINTR ? 0 : -EAGAIN;
	if (from.sll_pkttype == PACKET_OUTGOING || (mh.msg_flags & MSG_TRUNC))
		return DHCP_EV_NONE;
	bool sum_filled = true;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_PACKET && cm->cmsg_type == PACKET_AUXDATA) {
			struct tpacket_auxdata aux;
			memcpy(&aux, CMSG_DATA(cm), sizeof(aux));
			sum_filled = !(aux.tp_status & TP_STATUS_CSUMNOTREADY);
		}
	}
	const uint8_t *payload;
	size_t plen;
	struct dhcp_reply r;
	if (dhcp_unframe(buf, (size_t)n, DHCP_CLIENT_PORT, sum_filled, &payload, &plen) < 0 ||
	    dhcp_parse(payload, plen, &r) < 0)
		return DHCP_EV_NONE;
	uint8_t from_mac[6] = {0};
	if (from.sll_halen == 6)
		memcpy(from_mac, from.sll_addr, 6);
	return on_reply(c, &r, from_mac, now);
}

void dhcp_kick(struct dhcp_client *c, int64_t now)
{
	switch (c->state) {
	case DHCP_STOPPED:
		return;
	case DHCP_SELECTING:
	case DHCP_REQUESTING:
		start_selecting(c, now);
		c->next_ms = now;
		return;
	case DHCP_BOUND:
	case DHCP_RENEWING:
	case DHCP_REBINDING:
		/* maybe another network now: ask at once rather than at T1 */
		c->state = DHCP_BOUND;
		c->next_ms = now;
		return;
	}
}

int dhcp_release(struct dhcp_client *c, struct ros_err *e)
{
	if (!c->has_lease || c->fd < 0)
		return 0;
	c->xid = rnd();
	struct dhcp_request q = base_request(c, DHCP_RELEASE, c->started_ms);
	q.ciaddr = c->lease.addr;
	q.server_id = c->lease.server;
	c->has_lease = false;
	bool unicast = c->lease.server.s_addr && known_mac(c->lease.server_mac);
	if (send_msg(c, &q, c->lease.addr, unicast ? c->lease.server : (struct in_addr){INADDR_BROADCAST},
	             unicast ? c->lease.server_mac : broadcast_mac) == DHCP_EV_ERROR)
		return err_setx(e, EIO, "%s: %s", c->ifname, c->why);
	return 0;
}
