/* SPDX-License-Identifier: MIT */
/*
 * GET /events: each client is a streaming response (stream.c): with
 * nothing queued the connection is suspended (no polling); events_emit
 * appends a JSON line to every events stream, which resumes it.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cleanup.h"
#include "userctr.h"

#define EVENTS_QUEUE_MAX (1 << 20)

enum MHD_Result events_stream(struct userctr *u, struct MHD_Connection *c)
{
	enum MHD_Result r;
	struct hstream *s = hstream_start(u, c, "application/json", &r);
	if (s) {
		s->kind = HS_EVENTS;
		/* a reader that stopped reading loses events rather than memory */
		s->max = EVENTS_QUEUE_MAX;
	}
	return r;
}

void events_emit(struct userctr *u, const char *type, const char *action, const char *id, const char *name)
{
	bool any = false;
	for (struct hstream *st = u->streams; st; st = st->next)
		any |= st->kind == HS_EVENTS;
	if (!any)
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
	line[n] = '\n';
	for (struct hstream *st = u->streams; st; st = st->next)
		if (st->kind == HS_EVENTS)
			hstream_write(st, line, n + 1);
}

void events_close_all(struct userctr *u)
{
	/* every streaming response, not only /events: MHD cannot stop with
	 * suspended connections */
	for (struct hstream *st = u->streams; st; st = st->next)
		hstream_end(st);
	MHD_run(u->mhd);
}
