/* SPDX-License-Identifier: MIT */
/*
 * Streaming responses (wait, logs --follow): a chunked body fed from the
 * engine; with nothing queued the connection is suspended, never polled.
 * Hijacked connections (attach, exec start): the 101 upgrade hands the
 * socket to the engine's epoll; output goes out in Docker's multiplexed
 * frames (raw with a tty), input goes to the process's stdin.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "userctr.h"

#define STREAM_QUEUE_MAX (8 << 20)

static ssize_t hs_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct hstream *s = cls;
	if (s->len == 0) {
		if (s->eof)
			return MHD_CONTENT_READER_END_OF_STREAM;
		MHD_suspend_connection(s->conn);
		s->suspended = true;
		return 0;
	}
	size_t n = s->len < max ? s->len : max;
	memcpy(out, s->buf, n);
	memmove(s->buf, s->buf + n, s->len - n);
	s->len -= n;
	return (ssize_t)n;
}

static void hs_free(void *cls)
{
	struct hstream *s = cls;
	if (s->owner_ref)
		*s->owner_ref = NULL;
	for (struct hstream **p = &s->u->streams; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	free(s->buf);
	free(s);
}

struct hstream *hstream_start(struct userctr *u, struct MHD_Connection *c, const char *ctype, enum MHD_Result *r)
{
	struct hstream *s = calloc(1, sizeof(*s));
	if (!s) {
		*r = MHD_NO;
		return NULL;
	}
	s->u = u;
	s->conn = c;
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, hs_read, s, hs_free);
	if (!resp) {
		free(s);
		*r = MHD_NO;
		return NULL;
	}
	MHD_add_response_header(resp, "Api-Version", USERCTR_API_VERSION);
	MHD_add_response_header(resp, "Content-Type", ctype);
	s->next = u->streams;
	u->streams = s;
	*r = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return s;
}

static void hs_wake(struct hstream *s)
{
	if (s->suspended) {
		s->suspended = false;
		MHD_resume_connection(s->conn);
	}
}

void hstream_write(struct hstream *s, const void *buf, size_t len)
{
	if (s->eof || len == 0 || s->len + len > (s->max ? s->max : STREAM_QUEUE_MAX))
		return;
	char *nb = realloc(s->buf, s->len + len);
	if (!nb)
		return;
	s->buf = nb;
	memcpy(s->buf + s->len, buf, len);
	s->len += len;
	hs_wake(s);
}

void hstream_end(struct hstream *s)
{
	s->eof = true;
	hs_wake(s);
}

/* ---- hijacked connections --------------------------------------------------------- */

size_t frame_header(unsigned char hdr[8], int stream, size_t len)
{
	hdr[0] = (unsigned char)stream;
	hdr[1] = hdr[2] = hdr[3] = 0;
	hdr[4] = (unsigned char)(len >> 24);
	hdr[5] = (unsigned char)(len >> 16);
	hdr[6] = (unsigned char)(len >> 8);
	hdr[7] = (unsigned char)len;
	return 8;
}

/* Input is read only once it has somewhere to go: stdin of a container
 * attached before its start waits in the socket, EOF included. */
static bool hj_input_ready(const struct hijack *h)
{
	if (h->in_eof)
		return false;
	if (h->want_in && h->c && !(h->c->running && h->c->in_fd >= 0))
		return false;
	if (h->want_in && h->x && !h->x->started)
		return false;
	return true;
}

static void hj_update(struct hijack *h)
{
	struct epoll_event ev = {.events = (hj_input_ready(h) ? EPOLLIN : 0) | (h->out_len ? EPOLLOUT : 0),
	                         .data.ptr = &h->w};
	epoll_ctl(h->u->ep, EPOLL_CTL_MOD, h->fd, &ev);
}

static void hj_free(struct hijack *h)
{
	if (h->c)
		uctr_detach(h->c, h);
	if (h->x && h->x->hj == h)
		h->x->hj = NULL;
	if (h->fd >= 0) {
		epoll_ctl(h->u->ep, EPOLL_CTL_DEL, h->fd, NULL);
		MHD_upgrade_action(h->urh, MHD_UPGRADE_ACTION_CLOSE);
		h->fd = -1;
	}
	free(h->out);
	free(h);
	/* MHD finishes the closed upgrade in its next run */
}

static void hj_flush(struct hijack *h)
{
	while (h->out_len) {
		ssize_t w = send(h->fd, h->out, h->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			/* the client went away */
			h->out_len = 0;
			h->closing = true;
			break;
		}
		memmove(h->out, h->out + w, h->out_len - (size_t)w);
		h->out_len -= (size_t)w;
	}
	if (h->closing && h->out_len == 0) {
		hj_free(h);
		return;
	}
	hj_update(h);
}

void hijack_send(struct hijack *h, int stream, const void *buf, size_t len)
{
	if (h->fd < 0 || h->closing || len == 0)
		return;
	if ((stream == 1 && !h->want_out) || (stream == 2 && !h->want_err))
		return;
	if (h->out_len + len + 8 > STREAM_QUEUE_MAX) {
		/* a client that does not read is dropped, not buffered forever */
		h->out_len = 0;
		h->closing = true;
		hj_flush(h);
		return;
	}
	char *nb = realloc(h->out, h->out_len + len + 8);
	if (!nb)
		return;
	h->out = nb;
	if (!h->tty)
		h->out_len += frame_header((unsigned char *)h->out + h->out_len, stream, len);
	memcpy(h->out + h->out_len, buf, len);
	h->out_len += len;
	hj_flush(h);
}

void hijack_rearm(struct hijack *h)
{
	if (h->fd >= 0 && !h->closing)
		hj_update(h);
}

void hijack_close(struct hijack *h)
{
	if (h->fd < 0) {
		/* not upgraded yet: the upgrade callback sees closing */
		h->closing = true;
		return;
	}
	h->closing = true;
	hj_flush(h);
}

static void hj_input(struct hijack *h, const char *buf, size_t len, bool eof)
{
	if (!h->want_in)
		return;
	if (h->c)
		uctr_stdin(h->c, buf, len, eof && h->stdin_once);
	else if (h->x)
		uexec_stdin(h->x, buf, len, eof);
}

void hijack_event(struct hijack *h, uint32_t events)
{
	if (events & EPOLLIN) {
		char buf[65536];
		ssize_t n = recv(h->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0) {
			hj_input(h, buf, (size_t)n, false);
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			h->in_eof = true;
			hj_input(h, NULL, 0, true);
			if (n < 0) {
				h->closing = true;
				h->out_len = 0;
			}
		}
	}
	if ((events & (EPOLLERR)) || ((events & EPOLLHUP) && h->in_eof)) {
		h->closing = true;
		h->out_len = 0;
	}
	hj_flush(h);
}

static void upgraded(void *cls, struct MHD_Connection *connection, void *req_cls, const char *extra_in,
                     size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	struct hijack *h = cls;
	h->fd = sock;
	h->urh = urh;
	fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
	struct epoll_event ev = {.events = hj_input_ready(h) ? EPOLLIN : 0, .data.ptr = &h->w};
	if (epoll_ctl(h->u->ep, EPOLL_CTL_ADD, sock, &ev) < 0) {
		h->fd = -1;
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		hj_free(h);
		return;
	}
	if (h->closing) {
		hj_free(h);
		return;
	}
	if (extra_in_size)
		hj_input(h, extra_in, extra_in_size, false);
	if (h->ready)
		h->ready(h);
	hijack_rearm(h);
}

enum MHD_Result hijack_start(struct userctr *u, struct MHD_Connection *c, bool tty, struct hijack *proto)
{
	struct hijack *h = malloc(sizeof(*h));
	if (!h)
		return MHD_NO;
	*h = *proto;
	h->w = (struct watch){W_HIJACK, h};
	h->u = u;
	h->fd = -1;
	h->tty = tty;
	h->out = NULL;
	h->out_len = 0;
	h->next = NULL;
	struct MHD_Response *resp = MHD_create_response_for_upgrade(upgraded, h);
	if (!resp) {
		free(h);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Upgrade", "tcp");
	MHD_add_response_header(resp, "Connection", "Upgrade");
	MHD_add_response_header(resp, "Api-Version", USERCTR_API_VERSION);
	MHD_add_response_header(resp, "Content-Type",
	                        tty ? "application/vnd.docker.raw-stream"
	                            : "application/vnd.docker.multiplexed-stream");
	enum MHD_Result r = MHD_queue_response(c, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
	MHD_destroy_response(resp);
	return r;
}
