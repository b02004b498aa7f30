/* SPDX-License-Identifier: MIT */
/*
 * GET /events: each client is a subscriber with a byte queue.  With nothing
 * queued the connection is suspended (no polling); events_emit appends a
 * JSON line to every queue and resumes the connections.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cleanup.h"
#include "userctr.h"

#define EVENTS_QUEUE_MAX (1 << 20)

struct events_sub {
	struct userctr *u;
	bool closing;
	struct MHD_Connection *conn;
	char *buf;
	size_t len;
	bool suspended;
	struct events_sub *next;
};

static ssize_t events_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct events_sub *s = cls;
	if (s->closing)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (s->len == 0) {
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

static void events_free(void *cls)
{
	struct events_sub *s = cls;
	for (struct events_sub **p = &s->u->subs; *p; p = &(*p)->next) {
		if (*p == s) {
			*p = s->next;
			break;
		}
	}
	free(s->buf);
	free(s);
}

enum MHD_Result events_stream(struct userctr *u, struct MHD_Connection *c)
{
	struct events_sub *s = calloc(1, sizeof(*s));
	if (!s)
		return MHD_NO;
	s->u = u;
	s->conn = c;
	struct MHD_Response *resp =
	        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, events_read, s, events_free);
	if (!resp) {
		free(s);
		return MHD_NO;
	}
	s->next = u->subs;
	u->subs = s;
	MHD_add_response_header(resp, "Api-Version", USERCTR_API_VERSION);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	enum MHD_Result r = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return r;
}

void events_emit(struct userctr *u, const char *type, const char *action, const char *id, const char *name)
{
	if (!u->subs)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	json_t *attrs = json_object();
	if (name)
		json_object_set_new(attrs, "name", json_string(name));
	json_t *ev = json_pack("{s:s,s:s,s:{s:s,s:o},s:s,s:I,s:I,s:s,s:s}", "Type", type, "Action", action, "Actor",
	                       "ID", id, "Attributes", attrs, "scope", "local", "time", (json_int_t)ts.tv_sec,
	                       "timeNano", (json_int_t)ts.tv_sec * 1000000000 + ts.tv_nsec, "status", action, "id", id);
	cleanup_free char *line = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
	json_decref(ev);
	if (!line)
		return;
	size_t n = strlen(line);
	for (struct events_sub *s = u->subs; s; s = s->next) {
		/* A reader that stopped reading loses events rather than memory. */
		if (s->len + n + 1 > EVENTS_QUEUE_MAX)
			continue;
		char *nb = realloc(s->buf, s->len + n + 1);
		if (!nb)
			continue;
		s->buf = nb;
		memcpy(s->buf + s->len, line, n);
		s->buf[s->len + n] = '\n';
		s->len += n + 1;
		if (s->suspended) {
			s->suspended = false;
			MHD_resume_connection(s->conn);
		}
	}
}

void events_close_all(struct userctr *u)
{
	for (struct events_sub *s = u->subs; s; s = s->next) {
		s->closing = true;
		if (s->suspended) {
			s->suspended = false;
			MHD_resume_connection(s->conn);
		}
	}
	MHD_run(u->mhd);
}
