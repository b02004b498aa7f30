/* SPDX-License-Identifier: MIT */
/*
 * POST /images/create (docker pull): the pull runs in a forked worker so
 * the engine's loop never blocks on the network.  The worker writes
 * Docker's JSON progress messages to a pipe the loop relays to the
 * client, then a last {"ros.result": N}; the engine reloads the image
 * index when the worker is done.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "userctr.h"

struct pull {
	struct watch w;
	struct userctr *u;
	int fd;
	pid_t pid;
	struct hstream *s;
	char ref[600];
	char line[8192];
	size_t len;
	bool ok;
};

static void progress(void *arg, const char *id, const char *status, uint64_t cur, uint64_t total)
{
	int fd = *(int *)arg;
	json_t *j = json_pack("{s:s}", "status", status);
	if (id)
		json_object_set_new(j, "id", json_string(id));
	if (total || cur) {
		json_object_set_new(j, "progressDetail",
		                    json_pack("{s:I,s:I}", "current", (json_int_t)cur, "total", (json_int_t)total));
	} else {
		json_object_set_new(j, "progressDetail", json_object());
	}
	cleanup_free char *txt = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (txt) {
		size_t n = strlen(txt);
		txt[n] = '\n';
		fs_write_all(fd, txt, n + 1);
	}
}

/* The worker: never returns. */
static void worker(struct userctr *u, const char *ref, const char *auth, int fd)
{
	struct ros_err e = {0};
	const char *const *insecure = (const char *const *)u->insecure;
	struct image_pull_opts o = {.auth = auth && *auth ? auth : NULL,
	                            .insecure = insecure,
	                            .default_registry = u->default_registry,
	                            .certs_dir = u->certs_dir,
	                            .progress = progress,
	                            .arg = &fd};
	char *id = NULL;
	int r = image_pull(&u->images, ref, &o, &id, &e);
	json_t *j =
	        r < 0 ? json_pack("{s:{s:s},s:s}", "errorDetail", "message", err_msg(&e), "error", err_msg(&e)) : NULL;
	cleanup_free char *txt = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (txt) {
		fs_write_all(fd, txt, strlen(txt));
		fs_write_all(fd, "\n", 1);
	}
	char last[64];
	int n = snprintf(last, sizeof(last), "{\"ros.result\":%d}\n", r < 0 ? 1 : 0);
	fs_write_all(fd, last, (size_t)n);
	free(id);
	_exit(r < 0 ? 1 : 0);
}

static void pull_done(struct pull *p)
{
	struct userctr *u = p->u;
	epoll_ctl(u->ep, EPOLL_CTL_DEL, p->fd, NULL);
	close(p->fd);
	/* the worker wrote images.json: read it again */
	struct ros_err e = {0};
	image_store_close(&u->images);
	if (image_store_open(&u->images, u->root, &e) < 0)
		fprintf(stderr, "userctr: reloading images: %s\n", err_msg(&e));
	if (!p->ok) {
		static const char msg[] =
		        "{\"errorDetail\":{\"message\":\"the pull worker died\"},\"error\":\"the pull "
		        "worker died\"}\n";
		if (p->s)
			hstream_write(p->s, msg, sizeof(msg) - 1);
	} else {
		const char *id = NULL;
		if (image_resolve(&u->images, p->ref, &id, NULL) >= 0)
			events_emit(u, "image", "pull", id, p->ref);
	}
	if (p->s)
		hstream_end(p->s);
	u->pulls--;
	free(p);
}

void pull_event(struct pull *p)
{
	for (;;) {
		ssize_t n = read(p->fd, p->line + p->len, sizeof(p->line) - 1 - p->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			pull_done(p);
			return;
		}
		p->len += (size_t)n;
		char *nl;
		while ((nl = memchr(p->line, '\n', p->len))) {
			size_t l = (size_t)(nl - p->line) + 1;
			if (!strncmp(p->line, "{\"ros.result\":", 14))
				p->ok = true;
			else if (p->s)
				hstream_write(p->s, p->line, l);
			memmove(p->line, p->line + l, p->len - l);
			p->len -= l;
		}
		if (p->len == sizeof(p->line) - 1)
			p->len = 0; /* an overlong line is dropped */
	}
}

/* X-Registry-Auth: base64url JSON {"username","password"} -> "user:pass". */
static char *auth_of(struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Registry-Auth");
	if (!h || !*h)
		return NULL;
	size_t n = strlen(h);
	cleanup_free unsigned char *out = malloc(n + 4);
	if (!out)
		return NULL;
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned v = 0;
	int bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = h[i] == '-' ? '+' : h[i] == '_' ? '/' : h[i];
		const char *p = ch ? strchr(tbl, ch) : NULL;
		if (!p)
			continue; /* padding */
		v = (v << 6) | (unsigned)(p - tbl);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(v >> bits);
		}
	}
	json_t *j = json_loadb((char *)out, o, 0, NULL);
	const char *user = json_string_value(json_object_get(j, "username"));
	const char *pass = json_string_value(json_object_get(j, "password"));
	char *res = NULL;
	if (user && *user && asprintf(&res, "%s:%s", user, pass ? pass : "") < 0)
		res = NULL;
	json_decref(j);
	return res;
}

enum MHD_Result pull_start(struct userctr *u, struct MHD_Connection *c)
{
	const char *image = api_arg(c, "fromImage"), *tag = api_arg(c, "tag");
	if (api_arg(c, "fromSrc"))
		return api_send_error(c, MHD_HTTP_BAD_REQUEST, "import (fromSrc) is not supported; use docker load");
	if (!image || !*image)
		return api_send_error(c, MHD_HTTP_BAD_REQUEST, "fromImage: an image name is required");
	char ref[600];
	if (tag && *tag)
		snprintf(ref, sizeof(ref), "%s%s%s", image, !strncmp(tag, "sha256:", 7) ? "@" : ":", tag);
	else
		snprintf(ref, sizeof(ref), "%s", image);
	struct image_ref pr;
	struct ros_err e = {0};
	if (image_ref_parse(ref, u->default_registry, &pr, &e) < 0)
		return api_send_error(c, MHD_HTTP_BAD_REQUEST, "%s", err_msg(&e));
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return api_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "pipe: %s", strerror(errno));
	cleanup_free char *auth = auth_of(c);
	pid_t pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return api_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(pfd[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sigset_t all;
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		worker(u, ref, auth, pfd[1]);
	}
	close(pfd[1]);
	struct pull *p = calloc(1, sizeof(*p));
	if (!p) {
		close(pfd[0]);
		return MHD_NO;
	}
	p->w = (struct watch){W_PULL, p};
	p->u = u;
	p->fd = pfd[0];
	p->pid = pid;
	/* what the tag will be, for the pull event */
	snprintf(p->ref, sizeof(p->ref), "%s", ref);
	fcntl(p->fd, F_SETFL, fcntl(p->fd, F_GETFL) | O_NONBLOCK);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &p->w};
	epoll_ctl(u->ep, EPOLL_CTL_ADD, p->fd, &ev);
	u->pulls++;
	enum MHD_Result r;
	p->s = hstream_start(u, c, "application/json", &r);
	if (p->s) {
		p->s->kind = HS_PULL;
		p->s->owner_ref = &p->s;
	}
	return r;
}
