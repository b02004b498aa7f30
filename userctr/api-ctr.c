/* SPDX-License-Identifier: MIT */
/* Docker Engine API: containers, exec, volumes, networks. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cleanup.h"
#include "userctr.h"

/* ---- deferred answers ----------------------------------------------------------------- */

void api_defer(struct userctr *u, struct MHD_Connection *c, struct request *rq, const char *ctr_id)
{
	struct deferred *d = calloc(1, sizeof(*d));
	if (!d)
		return;
	d->conn = c;
	d->rq = rq;
	snprintf(d->ctr_id, sizeof(d->ctr_id), "%s", ctr_id);
	d->next = u->deferred;
	u->deferred = d;
	rq->deferred = true;
	MHD_suspend_connection(c);
}

void api_resume_deferred(struct userctr *u, const char *ctr_id)
{
	for (struct deferred **p = &u->deferred; *p;) {
		struct deferred *d = *p;
		if (strcmp(d->ctr_id, ctr_id)) {
			p = &d->next;
			continue;
		}
		*p = d->next;
		d->rq->resumed = true;
		MHD_resume_connection(d->conn);
		free(d);
	}
}

bool api_request_resumed(struct request *rq)
{
	return rq->resumed;
}

/* ---- helpers --------------------------------------------------------------------------- */

static int signal_of(const char *s)
{
	if (!s || !*s)
		return SIGKILL;
	char *end;
	long n = strtol(s, &end, 10);
	if (!*end)
		return n > 0 && n < 65 ? (int)n : -1;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (int i = 1; i < 65; i++) {
		const char *nm = sigabbrev_np(i);
		if (nm && !strcasecmp(nm, s))
			return i;
	}
	return -1;
}

static bool filter_match(struct uctr *c, json_t *filters)
{
	const char *key;
	json_t *vals;
	json_object_foreach(filters, key, vals)
	{
		/* {"status": {"running": true}} or {"status": ["running"]} */
		bool any = false, ok = false;
		const char *k2;
		json_t *v2;
		size_t i;
		json_t *list = json_array();
		if (json_is_object(vals)) {
			json_object_foreach(vals, k2, v2)
			{
				json_array_append_new(list, json_string(k2));
			}
		} else if (json_is_array(vals)) {
			json_array_extend(list, vals);
		}
		json_array_foreach(list, i, v2)
		{
			any = true;
			const char *want = json_string_value(v2);
			json_t *st = json_object_get(c->doc, "State");
			if (!strcmp(key, "status"))
				ok |= !strcmp(json_string_value(json_object_get(st, "Status")) ?: "", want);
			else if (!strcmp(key, "name"))
				ok |= strstr(uctr_name(c), want) != NULL;
			else if (!strcmp(key, "id"))
				ok |= !strncmp(c->id, want, strlen(want));
			else if (!strcmp(key, "label")) {
				char k[256];
				snprintf(k, sizeof(k), "%s", want);
				char *eq = strchr(k, '=');
				if (eq)
					*eq++ = '\0';
				json_t *lv = json_object_get(
				        json_object_get(json_object_get(c->doc, "Config"), "Labels"), k);
				ok |= lv && (!eq || !strcmp(json_string_value(lv) ?: "", eq));
			} else if (!strcmp(key, "exited"))
				ok |= !c->running && json_integer_value(json_object_get(st, "ExitCode")) == atoi(want);
			else if (!strcmp(key, "ancestor"))
				ok |= !strcmp(
				        json_string_value(json_object_get(json_object_get(c->doc, "Config"), "Image"))
				                ?: "",
				        want);
			else
				ok = true;
		}
		json_decref(list);
		if (any && !ok)
			return false;
	}
	return true;
}

static enum MHD_Result h_list(struct userctr *u, struct MHD_Connection *c)
{
	bool all = api_arg_true(c, "all");
	const char *lim = api_arg(c, "limit");
	long limit = lim ? strtol(lim, NULL, 10) : -1;
	json_t *filters = NULL;
	if (api_arg(c, "filters")) {
		json_error_t je;
		filters = json_loads(api_arg(c, "filters"), 0, &je);
		if (!json_is_object(filters)) {
			json_decref(filters);
			return api_send_error(c, MHD_HTTP_BAD_REQUEST, "filters: invalid JSON: %s", je.text);
		}
	}
	/* newest first, like dockerd */
	json_t *out = json_array();
	for (struct uctr *x = u->ctrs; x; x = x->next) {
		if (!all && !x->running && !json_object_get(filters, "status"))
			continue;
		if (filters && !filter_match(x, filters))
			continue;
		json_t *s = uctr_summary(x);
		size_t i;
		for (i = 0; i < json_array_size(out); i++)
			if (json_integer_value(json_object_get(json_array_get(out, i), "Created")) <
			    json_integer_value(json_object_get(s, "Created")))
				break;
		json_array_insert_new(out, i, s);
	}
	json_decref(filters);
	while (limit > 0 && json_array_size(out) > (size_t)limit)
		json_array_remove(out, json_array_size(out) - 1);
	return api_send_json(c, MHD_HTTP_OK, out);
}

static enum MHD_Result h_create(struct userctr *u, struct MHD_Connection *c, struct request *rq)
{
	struct ros_err e = {0};
	json_t *body = api_body_json(rq, &e);
	if (!body)
		return api_send_error(c, MHD_HTTP_BAD_REQUEST, "%s", err_msg(&e));
	/* NetworkingConfig and HostConfig arrive inside the body */
	struct uctr *x = NULL;
	json_t *warnings = NULL;
	int r = uctr_create(u, api_arg(c, "name"), body, &x, &warnings, &e);
	json_decref(body);
	if (r < 0)
		return api_send_ros_err(c, r, &e);
	return api_send_json(c, MHD_HTTP_CREATED, json_pack("{s:s,s:o}", "Id", x->id, "Warnings", warnings));
}

static void attach_ready(struct hijack *h)
{
	if (h->c)
		uctr_attach(h->c, h, h->logs);
}

static enum MHD_Result h_attach(struct userctr *u, struct MHD_Connection *c, struct uctr *x)
{
	struct hijack proto = {0};
	bool stream = api_arg_true(c, "stream");
	proto.want_in = api_arg_true(c, "stdin");
	proto.want_out = api_arg_true(c, "stdout");
	proto.want_err = api_arg_true(c, "stderr");
	proto.logs = api_arg_true(c, "logs");
	proto.stdin_once = json_is_true(json_object_get(json_object_get(x->doc, "Config"), "StdinOnce"));
	proto.c = x;
	proto.ready = attach_ready;
	(void)stream;
	bool tty = json_is_true(json_object_get(json_object_get(x->doc, "Config"), "Tty"));
	return hijack_start(u, c, tty, &proto);
}

static enum MHD_Result h_logs(struct userctr *u, struct MHD_Connection *c, struct uctr *x)
{
	bool out = api_arg_true(c, "stdout"), err = api_arg_true(c, "stderr");
	if (!out && !err)
		return api_send_error(c, MHD_HTTP_BAD_REQUEST, "Bad parameters: you must choose at least one stream");
	const char *tail = api_arg(c, "tail");
	long t = tail && strcmp(tail, "all") ? strtol(tail, NULL, 10) : -1;
	const char *since = api_arg(c, "since"), *until = api_arg(c, "until");
	bool tty = json_is_true(json_object_get(json_object_get(x->doc, "Config"), "Tty"));
	enum MHD_Result r;
	struct hstream *s = hstream_start(
	        u, c, tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream", &r);
	if (!s)
		return r;
	s->kind = HS_LOGS;
	snprintf(s->ctr_id, sizeof(s->ctr_id), "%s", x->id);
	s->out = out;
	s->err = err;
	s->tty = tty;
	s->timestamps = api_arg_true(c, "timestamps");
	struct ros_err e = {0};
	uctr_logs(x, s, t, since ? atoll(since) : 0, until ? atoll(until) : 0, &e);
	if (!api_arg_true(c, "follow") || !x->running)
		hstream_end(s);
	return r;
}

static enum MHD_Result h_wait(struct userctr *u, struct MHD_Connection *c, struct uctr *x)
{
	const char *cond = api_arg(c, "condition");
	int k = !cond || !*cond || !strcmp(cond, "not-running") ? 0
	        : !strcmp(cond, "next-exit")                    ? 1
	        : !strcmp(cond, "removed")                      ? 2
	                                                        : -1;
	if (k < 0)
		return api_send_error(c, MHD_HTTP_BAD_REQUEST, "invalid condition: \"%s\"", cond);
	enum MHD_Result r;
	struct hstream *s = hstream_start(u, c, "application/json", &r);
	if (!s)
		return r;
	s->kind = HS_WAIT;
	s->condition = k;
	snprintf(s->ctr_id, sizeof(s->ctr_id), "%s", x->id);
	const char *status = json_string_value(json_object_get(json_object_get(x->doc, "State"), "Status")) ?: "";
	if (k == 0 && !x->running && strcmp(status, "restarting")) {
		char body[128];
		int n = snprintf(
		        body, sizeof(body), "{\"Error\":null,\"StatusCode\":%d}\n",
		        (int)json_integer_value(json_object_get(json_object_get(x->doc, "State"), "ExitCode")));
		hstream_write(s, body, (size_t)n);
		hstream_end(s);
	}
	return r;
}

static enum MHD_Result h_stats(struct userctr *u, struct MHD_Connection *c, struct uctr *x)
{
	(void)u;
	return api_send_json(c, MHD_HTTP_OK, uctr_stats(x));
}

static void exec_ready(struct hijack *h)
{
	if (!h->x)
		return;
	struct ros_err e = {0};
	if (uexec_start(h->x, h, false, &e) < 0) {
		char msg[1200];
		int n = snprintf(msg, sizeof(msg), "%s\r\n", err_msg(&e));
		hijack_send(h, 2, msg, (size_t)n);
		h->x = NULL;
		hijack_close(h);
	}
}

static enum MHD_Result h_exec_start(struct userctr *u, struct MHD_Connection *c, struct request *rq, struct uexec *x)
{
	struct ros_err e = {0};
	json_t *body = api_body_json(rq, &e);
	if (!body)
		return api_send_error(c, MHD_HTTP_BAD_REQUEST, "%s", err_msg(&e));
	bool detach = json_is_true(json_object_get(body, "Detach"));
	json_decref(body);
	if (x->started)
		return api_send_error(c, MHD_HTTP_CONFLICT, "exec %s has already been started", x->id);
	if (!x->c || !x->c->running)
		return api_send_error(c, MHD_HTTP_CONFLICT, "Container %s is not running", x->c ? x->c->id : "");
	if (detach) {
		int r = uexec_start(x, NULL, true, &e);
		if (r < 0)
			return api_send_ros_err(c, r, &e);
		return api_send_empty(c, MHD_HTTP_OK);
	}
	struct hijack proto = {0};
	proto.want_in = json_is_true(json_object_get(x->cfg, "AttachStdin"));
	proto.want_out = json_is_true(json_object_get(x->cfg, "AttachStdout"));
	proto.want_err = json_is_true(json_object_get(x->cfg, "AttachStderr"));
	proto.x = x;
	proto.ready = exec_ready;
	return hijack_start(u, c, x->tty, &proto);
}

static enum MHD_Result h_resize(struct MHD_Connection *c, struct uctr *x, struct uexec *ex)
{
	const char *h = api_arg(c, "h"), *w = api_arg(c, "w");
	if (!h || !w || atoi(h) < 0 || atoi(w) < 0)
		return api_send_error(c, MHD_HTTP_BAD_REQUEST, "resize: h and w must be numbers");
	struct ros_err e = {0};
	int r;
	if (x)
		r = uctr_resize(x, (unsigned)atoi(h), (unsigned)atoi(w), &e);
	else if (ex)
		r = uexec_resize(ex, (unsigned)atoi(h), (unsigned)atoi(w), &e);
	else
		r = err_setx(&e, ENOENT, "resize: nothing to resize");
	if (r < 0)
		return api_send_ros_err(c, r, &e);
	return api_send_empty(c, MHD_HTTP_OK);
}

static enum MHD_Result h_prune(struct userctr *u, struct MHD_Connection *c)
{
	json_t *deleted = json_array();
	for (struct uctr *x = u->ctrs, *next; x; x = next) {
		next = x->next;
		if (x->running || x->exit_pending)
			continue;
		char id[65];
		snprintf(id, sizeof(id), "%s", x->id);
		if (uctr_remove(x, false, false, NULL) == 0)
			json_array_append_new(deleted, json_string(id));
	}
	return api_send_json(c, MHD_HTTP_OK, json_pack("{s:o,s:i}", "ContainersDeleted", deleted, "SpaceReclaimed", 0));
}

/* ---- volumes and networks ------------------------------------------------------------------ */

static enum MHD_Result volumes_route(struct userctr *u, struct MHD_Connection *c, const char *method, const char *path,
                                     struct request *rq, bool *handled)
{
	struct ros_err e = {0};
	*handled = true;
	if (!strcmp(path, "/volumes") && !strcmp(method, "GET"))
		return api_send_json(c, MHD_HTTP_OK, volume_list(u));
	if (!strcmp(path, "/volumes/create") && !strcmp(method, "POST")) {
		json_t *body = api_body_json(rq, &e);
		if (!body)
			return api_send_error(c, MHD_HTTP_BAD_REQUEST, "%s", err_msg(&e));
		json_t *out = NULL;
		const char *drv = json_string_value(json_object_get(body, "Driver"));
		if (drv && *drv && strcmp(drv, "local")) {
			json_decref(body);
			return api_send_error(c, MHD_HTTP_BAD_REQUEST, "Driver: only the local volume driver exists");
		}
		int r = volume_create(u, json_string_value(json_object_get(body, "Name")),
		                      json_object_get(body, "Labels"), &out, &e);
		json_decref(body);
		if (r < 0)
			return api_send_ros_err(c, r, &e);
		return api_send_json(c, MHD_HTTP_CREATED, out);
	}
	if (!strcmp(path, "/volumes/prune") && !strcmp(method, "POST")) {
		json_t *all = volume_list(u);
		json_t *deleted = json_array();
		size_t i;
		json_t *v;
		json_array_foreach(json_object_get(all, "Volumes"), i, v)
		{
			const char *n = json_string_value(json_object_get(v, "Name"));
			if (!volume_in_use(u, n) && volume_remove(u, n, false, NULL) == 0)
				json_array_append_new(deleted, json_string(n));
		}
		json_decref(all);
		return api_send_json(c, MHD_HTTP_OK,
		                     json_pack("{s:o,s:i}", "VolumesDeleted", deleted, "SpaceReclaimed", 0));
	}
	if (!strncmp(path, "/volumes/", 9) && path[9]) {
		const char *name = path + 9;
		if (!strcmp(method, "GET")) {
			json_t *j = volume_inspect(u, name, &e);
			return j ? api_send_json(c, MHD_HTTP_OK, j) : api_send_ros_err(c, -ENOENT, &e);
		}
		if (!strcmp(method, "DELETE")) {
			int r = volume_remove(u, name, api_arg_true(c, "force"), &e);
			return r < 0 ? api_send_ros_err(c, r, &e) : api_send_empty(c, MHD_HTTP_NO_CONTENT);
		}
	}
	*handled = false;
	return MHD_NO;
}

static json_t *network_json(struct userctr *u, const char *name)
{
	const char *driver = !strcmp(name, "bridge") ? "bridge" : !strcmp(name, "host") ? "host" : "null";
	json_t *cfg = json_array();
	if (!strcmp(name, "bridge"))
		json_array_append_new(cfg, json_pack("{s:s}", "Subnet", u->bridge_cidr));
	return json_pack("{s:s,s:s,s:s,s:s,s:b,s:{s:s,s:o},s:b,s:{},s:{}}", "Name", name, "Id", name, "Scope", "local",
	                 "Driver", driver, "EnableIPv6", false, "IPAM", "Driver", "default", "Config", cfg, "Internal",
	                 false, "Containers", "Options");
}

/* ---- routing ---------------------------------------------------------------------------------- */

enum MHD_Result api_ctr_route(struct userctr *u, struct MHD_Connection *c, const char *method, const char *path,
                              struct request *rq, bool *handled)
{
	*handled = true;
	bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
	bool post = !strcmp(method, "POST"), del = !strcmp(method, "DELETE");
	struct ros_err e = {0};
	if (!strcmp(path, "/containers/json") && get)
		return h_list(u, c);
	if (!strcmp(path, "/containers/create") && post)
		return h_create(u, c, rq);
	if (!strcmp(path, "/containers/prune") && post)
		return h_prune(u, c);
	if (!strncmp(path, "/volumes", 8)) {
		enum MHD_Result r = volumes_route(u, c, method, path, rq, handled);
		if (*handled)
			return r;
		*handled = true;
		return api_send_error(c, MHD_HTTP_NOT_FOUND, "page not found: %s %s", method, path);
	}
	if (!strcmp(path, "/networks") && get) {
		json_t *a = json_array();
		static const char *const nets[] = {"bridge", "host", "none"};
		for (size_t i = 0; i < 3; i++)
			json_array_append_new(a, network_json(u, nets[i]));
		return api_send_json(c, MHD_HTTP_OK, a);
	}
	if (!strncmp(path, "/networks/", 10) && get) {
		const char *n = path + 10;
		if (strcmp(n, "bridge") && strcmp(n, "host") && strcmp(n, "none"))
			return api_send_error(c, MHD_HTTP_NOT_FOUND, "network %s not found", n);
		return api_send_json(c, MHD_HTTP_OK, network_json(u, n));
	}
	if (!strncmp(path, "/exec/", 6)) {
		char id[128];
		const char *rest = path + 6, *slash = strchr(rest, '/');
		if (!slash || (size_t)(slash - rest) >= sizeof(id))
			return api_send_error(c, MHD_HTTP_NOT_FOUND, "page not found: %s %s", method, path);
		snprintf(id, sizeof(id), "%.*s", (int)(slash - rest), rest);
		struct uexec *x = uexec_find(u, id);
		if (!x)
			return api_send_error(c, MHD_HTTP_NOT_FOUND, "No such exec instance: %s", id);
		if (!strcmp(slash, "/json") && get)
			return api_send_json(c, MHD_HTTP_OK, uexec_inspect(x));
		if (!strcmp(slash, "/start") && post)
			return h_exec_start(u, c, rq, x);
		if (!strcmp(slash, "/resize") && post)
			return h_resize(c, NULL, x);
		return api_send_error(c, MHD_HTTP_NOT_FOUND, "page not found: %s %s", method, path);
	}
	if (strncmp(path, "/containers/", 12)) {
		*handled = false;
		return MHD_NO;
	}
	char name[300];
	const char *rest = path + 12, *slash = strchr(rest, '/');
	size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
	if (n == 0 || n >= sizeof(name))
		return api_send_error(c, MHD_HTTP_NOT_FOUND, "page not found: %s %s", method, path);
	snprintf(name, sizeof(name), "%.*s", (int)n, rest);
	const char *op = slash ? slash : "";
	struct uctr *x = ctr_find(u, name);
	if (!x) {
		/* a deferred remove that completed */
		if (rq->resumed)
			return api_send_empty(c, MHD_HTTP_NO_CONTENT);
		return api_send_error(c, MHD_HTTP_NOT_FOUND, "No such container: %s", name);
	}
	int r;
	if (!strcmp(op, "/json") && get) {
		return api_send_json(c, MHD_HTTP_OK, uctr_inspect(x));
	} else if (!strcmp(op, "/start") && post) {
		if (x->running)
			return api_send_empty(c, MHD_HTTP_NOT_MODIFIED);
		x->user_stopped = false;
		json_object_del(x->doc, "ros.user_stopped");
		r = uctr_start(x, &e);
		if (r < 0) {
			/* attached clients learn it from the answer; --rm removes as dockerd does */
			for (struct hijack *h = x->attached, *next; h; h = next) {
				next = h->next;
				hijack_close(h);
			}
			if (json_is_true(json_object_get(json_object_get(x->doc, "HostConfig"), "AutoRemove")))
				uctr_remove(x, true, true, NULL);
			return api_send_error(c, r == -ENOENT ? MHD_HTTP_NOT_FOUND : MHD_HTTP_BAD_REQUEST,
			                      "failed to start container %s: %s", name, err_msg(&e));
		}
		return api_send_empty(c, MHD_HTTP_NO_CONTENT);
	} else if ((!strcmp(op, "/stop") || !strcmp(op, "/restart")) && post) {
		bool restart = !strcmp(op, "/restart");
		if (rq->resumed) {
			if (restart) {
				x->user_stopped = false;
				json_object_del(x->doc, "ros.user_stopped");
				if (uctr_start(x, &e) < 0)
					return api_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
					                      "Cannot restart container %s: %s", name, err_msg(&e));
			}
			return api_send_empty(c, MHD_HTTP_NO_CONTENT);
		}
		const char *t = api_arg(c, "t");
		json_t *st = json_object_get(json_object_get(x->doc, "Config"), "StopTimeout");
		int timeout = t ? atoi(t) : st ? (int)json_integer_value(st) : 10;
		const char *sname = api_arg(c, "signal");
		if (!sname)
			sname = json_string_value(json_object_get(json_object_get(x->doc, "Config"), "StopSignal"));
		int sig = sname && *sname ? signal_of(sname) : SIGTERM;
		if (sig < 0)
			return api_send_error(c, MHD_HTTP_BAD_REQUEST, "Invalid signal: %s", sname);
		r = uctr_stop(x, sig, timeout, &e);
		if (r < 0) {
			if (!restart)
				return api_send_empty(c, MHD_HTTP_NOT_MODIFIED);
			x->user_stopped = false;
			json_object_del(x->doc, "ros.user_stopped");
			if (uctr_start(x, &e) < 0)
				return api_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				                      "Cannot restart container %s: %s", name, err_msg(&e));
			return api_send_empty(c, MHD_HTTP_NO_CONTENT);
		}
		api_defer(u, c, rq, x->id);
		return MHD_YES;
	} else if (!strcmp(op, "/kill") && post) {
		int sig = signal_of(api_arg(c, "signal"));
		if (sig < 0)
			return api_send_error(c, MHD_HTTP_BAD_REQUEST, "Invalid signal: %s", api_arg(c, "signal"));
		r = uctr_kill(x, sig, &e);
		if (r < 0)
			return api_send_error(c, MHD_HTTP_CONFLICT, "%s", err_msg(&e));
		return api_send_empty(c, MHD_HTTP_NO_CONTENT);
	} else if (!strcmp(op, "/wait") && post) {
		return h_wait(u, c, x);
	} else if (!*op && del) {
		if (rq->resumed)
			return api_send_empty(c, MHD_HTTP_NO_CONTENT);
		r = uctr_remove(x, api_arg_true(c, "force"), api_arg_true(c, "v"), &e);
		if (r < 0)
			return api_send_error(c, MHD_HTTP_CONFLICT, "%s", err_msg(&e));
		if (r > 0) {
			api_defer(u, c, rq, x->id);
			return MHD_YES;
		}
		return api_send_empty(c, MHD_HTTP_NO_CONTENT);
	} else if (!strcmp(op, "/attach") && post) {
		return h_attach(u, c, x);
	} else if (!strcmp(op, "/logs") && get) {
		return h_logs(u, c, x);
	} else if (!strcmp(op, "/resize") && post) {
		return h_resize(c, x, NULL);
	} else if (!strcmp(op, "/stats") && get) {
		return h_stats(u, c, x);
	} else if (!strcmp(op, "/top") && get) {
		json_t *j = uctr_top(x, &e);
		return j ? api_send_json(c, MHD_HTTP_OK, j) : api_send_error(c, MHD_HTTP_CONFLICT, "%s", err_msg(&e));
	} else if (!strcmp(op, "/rename") && post) {
		const char *nn = api_arg(c, "name");
		if (!nn || !*nn)
			return api_send_error(c, MHD_HTTP_BAD_REQUEST, "rename: a new name is required");
		r = uctr_rename(x, nn, &e);
		return r < 0 ? api_send_ros_err(c, r, &e) : api_send_empty(c, MHD_HTTP_NO_CONTENT);
	} else if ((!strcmp(op, "/pause") || !strcmp(op, "/unpause")) && post) {
		r = uctr_pause(x, !strcmp(op, "/pause"), &e);
		return r < 0 ? api_send_error(c, MHD_HTTP_CONFLICT, "%s", err_msg(&e))
		             : api_send_empty(c, MHD_HTTP_NO_CONTENT);
	} else if (!strcmp(op, "/exec") && post) {
		json_t *body = api_body_json(rq, &e);
		if (!body)
			return api_send_error(c, MHD_HTTP_BAD_REQUEST, "%s", err_msg(&e));
		struct uexec *ex = NULL;
		r = uexec_create(x, body, &ex, &e);
		json_decref(body);
		if (r < 0)
			return api_send_error(c, r == -EBUSY ? MHD_HTTP_CONFLICT : MHD_HTTP_BAD_REQUEST, "%s",
			                      err_msg(&e));
		return api_send_json(c, MHD_HTTP_CREATED, json_pack("{s:s}", "Id", ex->id));
	}
	return api_send_error(c, MHD_HTTP_NOT_FOUND, "page not found: %s %s", method, path);
}
