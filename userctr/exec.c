/* SPDX-License-Identifier: MIT */
/* docker exec: processes started in a running container through lib/ctr. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "ctr/ctr.h"
#include "userctr.h"

int uexec_create(struct uctr *c, json_t *body, struct uexec **out, struct ros_err *e)
{
	if (!c->running || c->exit_pending)
		return err_setx(e, EBUSY, "Container %s is not running", c->id);
	if (c->paused)
		return err_setx(e, EBUSY, "Container %s is paused, unpause the container before exec", c->id);
	if (!json_is_object(body))
		return err_setx(e, EINVAL, "the request body must be a JSON object");
	json_t *cmd = json_object_get(body, "Cmd");
	if (json_is_string(cmd))
		json_object_set_new(body, "Cmd", json_pack("[O]", cmd));
	cmd = json_object_get(body, "Cmd");
	if (!json_is_array(cmd) || json_array_size(cmd) == 0)
		return err_setx(e, EINVAL, "Cmd: no exec command specified");
	size_t i;
	json_t *v;
	json_array_foreach(cmd, i, v) if (!json_is_string(v)) return err_setx(e, EINVAL, "Cmd[%zu]: expected a string",
	                                                                      i);
	json_array_foreach(json_object_get(body, "Env"), i,
	                   v) if (!json_is_string(v)) return err_setx(e, EINVAL, "Env[%zu]: expected a string", i);
	struct uexec *x = calloc(1, sizeof(*x));
	if (!x)
		return err_setx(e, ENOMEM, "out of memory");
	unsigned char b[32];
	if (getrandom(b, sizeof(b), 0) != sizeof(b))
		memset(b, (int)now_ms(), sizeof(b));
	for (int k = 0; k < 32; k++)
		sprintf(x->id + 2 * k, "%02x", b[k]);
	x->u = c->u;
	x->c = c;
	x->cfg = json_incref(body);
	x->tty = json_is_true(json_object_get(body, "Tty"));
	x->exit_code = -1;
	x->in_fd = -1;
	x->out = (struct iosrc){.fd = -1, .stream = 1, .x = x};
	x->err = (struct iosrc){.fd = -1, .stream = 2, .x = x};
	x->out.w = (struct watch){W_SRC, &x->out};
	x->err.w = (struct watch){W_SRC, &x->err};
	x->next = c->u->execs;
	c->u->execs = x;
	*out = x;
	return 0;
}

struct uexec *uexec_find(struct userctr *u, const char *id)
{
	for (struct uexec *x = u->execs; x; x = x->next)
		if (!strcmp(x->id, id))
			return x;
	return NULL;
}

static void src_on(struct userctr *u, struct iosrc *s, int fd)
{
	s->fd = fd;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &s->w};
	epoll_ctl(u->ep, EPOLL_CTL_ADD, fd, &ev);
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static char **strv_of(json_t *a)
{
	char **v = calloc(json_array_size(a) + 1, sizeof(char *));
	size_t i;
	json_t *s;
	json_array_foreach(a, i, s) v[i] = strdup(json_string_value(s));
	return v;
}

int uexec_start(struct uexec *x, struct hijack *h, bool detach, struct ros_err *e)
{
	struct uctr *c = x->c;
	if (x->started)
		return err_setx(e, EBUSY, "exec %s has already been started", x->id);
	if (!c || !c->running)
		return err_setx(e, EBUSY, "Container %s is not running", c ? c->id : "?");
	bool want_in = json_is_true(json_object_get(x->cfg, "AttachStdin")) && !detach;
	int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1}, pty = -1;
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (!x->tty &&
	    (pipe2(pout, O_CLOEXEC) < 0 || pipe2(perr, O_CLOEXEC) < 0 || (want_in && pipe2(pin, O_CLOEXEC) < 0))) {
		err_set(e, errno, "pipe");
		goto fail;
	}
	long uid = 0, gid = 0;
	const char *user = json_string_value(json_object_get(x->cfg, "User"));
	if (!user || !*user)
		user = json_string_value(json_object_get(json_object_get(c->doc, "Config"), "User"));
	char root[64];
	snprintf(root, sizeof(root), "/proc/%d/root", (int)c->pid);
	if (dspec_user(root, user, &uid, &gid, e) < 0)
		goto fail;
	char **args = strv_of(json_object_get(x->cfg, "Cmd"));
	char **env = strv_of(json_object_get(x->cfg, "Env"));
	const char *wd = json_string_value(json_object_get(x->cfg, "WorkingDir"));
	pid_t pid = 0;
	struct ctr_exec_opts o = {
	        .state_root = c->u->state_root,
	        .id = c->id,
	        .args = args,
	        .env = env,
	        .cwd = wd && *wd ? wd : NULL,
	        .has_user = true,
	        .uid = (uid_t)uid,
	        .gid = (gid_t)gid,
	        .stdio = {x->tty ? -1 : (want_in ? pin[0] : devnull), x->tty ? -1 : pout[1], x->tty ? -1 : perr[1]},
	        .terminal = x->tty,
	        .pty_out = x->tty ? &pty : NULL,
	        .pid_out = &pid,
	};
	int r = ctr_exec(&o, NULL, e);
	strv_free(args);
	strv_free(env);
	if (r < 0)
		goto fail;
	for (int *p = (int[]){pin[0], pout[1], perr[1], devnull}, i = 0; i < 4; i++)
		if (p[i] >= 0)
			close(p[i]);
	x->pid = pid;
	x->running = true;
	x->started = true;
	if (x->tty) {
		src_on(x->u, &x->out, pty);
		x->in_fd = want_in ? fcntl(pty, F_DUPFD_CLOEXEC, 3) : -1;
	} else {
		src_on(x->u, &x->out, pout[0]);
		src_on(x->u, &x->err, perr[0]);
		x->in_fd = pin[1];
	}
	if (h) {
		x->hj = h;
		h->x = x;
	}
	events_emit(x->u, "container", "exec_start", c->id, uctr_name(c));
	return 0;
fail:
	for (int *p = (int[]){pin[0], pin[1], pout[0], pout[1], perr[0], perr[1], devnull}, i = 0; i < 7; i++)
		if (p[i] >= 0)
			close(p[i]);
	return -1;
}

static void finish(struct uexec *x)
{
	if (x->running || x->out.fd >= 0 || x->err.fd >= 0)
		return;
	if (x->in_fd >= 0) {
		close(x->in_fd);
		x->in_fd = -1;
	}
	if (x->hj) {
		struct hijack *h = x->hj;
		x->hj = NULL;
		h->x = NULL;
		hijack_close(h);
	}
}

static void src_off(struct uexec *x, struct iosrc *s)
{
	if (s->fd < 0)
		return;
	epoll_ctl(x->u->ep, EPOLL_CTL_DEL, s->fd, NULL);
	close(s->fd);
	s->fd = -1;
}

void uexec_src_closed(struct uexec *x)
{
	if (x->tty)
		src_off(x, &x->out);
	finish(x);
}

bool execs_reaped(struct userctr *u, pid_t pid, int status)
{
	for (struct uexec *x = u->execs; x; x = x->next)
		if (x->running && x->pid == pid) {
			x->running = false;
			x->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
			if (x->tty) {
				/* drain what the pty still holds, then close */
				char buf[65536];
				ssize_t n;
				while (x->out.fd >= 0 && (n = read(x->out.fd, buf, sizeof(buf))) > 0)
					if (x->hj)
						hijack_send(x->hj, 1, buf, (size_t)n);
				src_off(x, &x->out);
			}
			events_emit(u, "container", "exec_die", x->c ? x->c->id : "", x->c ? uctr_name(x->c) : "");
			finish(x);
			return true;
		}
	return false;
}

void uexec_stdin(struct uexec *x, const void *buf, size_t len, bool eof)
{
	if (x->in_fd < 0)
		return;
	if (len && fs_write_all(x->in_fd, buf, len) < 0) {
		/* the process closed its stdin */
	}
	if (eof && !x->tty) {
		close(x->in_fd);
		x->in_fd = -1;
	}
}

int uexec_resize(struct uexec *x, unsigned h, unsigned w, struct ros_err *e)
{
	if (!x->tty || x->out.fd < 0)
		return err_setx(e, EBUSY, "exec %s has no tty", x->id);
	struct winsize ws = {.ws_row = (unsigned short)h, .ws_col = (unsigned short)w};
	if (ioctl(x->out.fd, TIOCSWINSZ, &ws) < 0)
		return err_set(e, errno, "resize");
	return 0;
}

json_t *uexec_inspect(struct uexec *x)
{
	json_t *cmd = json_object_get(x->cfg, "Cmd");
	json_t *args = json_array();
	for (size_t i = 1; i < json_array_size(cmd); i++)
		json_array_append(args, json_array_get(cmd, i));
	return json_pack("{s:s,s:b,s:o,s:{s:b,s:s,s:o,s:b,s:s},s:b,s:b,s:b,s:b,s:s,s:s,s:i}", "ID", x->id, "Running",
	                 x->running, "ExitCode", x->started && !x->running ? json_integer(x->exit_code) : json_null(),
	                 "ProcessConfig", "tty", x->tty, "entrypoint", json_string_value(json_array_get(cmd, 0)) ?: "",
	                 "arguments", args, "privileged", json_is_true(json_object_get(x->cfg, "Privileged")), "user",
	                 json_string_value(json_object_get(x->cfg, "User")) ?: "", "OpenStdin",
	                 json_is_true(json_object_get(x->cfg, "AttachStdin")), "OpenStderr",
	                 json_is_true(json_object_get(x->cfg, "AttachStderr")), "OpenStdout",
	                 json_is_true(json_object_get(x->cfg, "AttachStdout")), "CanRemove", false, "ContainerID",
	                 x->c ? x->c->id : "", "DetachKeys", "", "Pid", (int)x->pid);
}

void uexec_drop_container(struct userctr *u, struct uctr *c)
{
	for (struct uexec **p = &u->execs; *p;) {
		struct uexec *x = *p;
		if (x->c != c) {
			p = &x->next;
			continue;
		}
		*p = x->next;
		src_off(x, &x->out);
		src_off(x, &x->err);
		if (x->in_fd >= 0)
			close(x->in_fd);
		if (x->hj) {
			x->hj->x = NULL;
			hijack_close(x->hj);
		}
		json_decref(x->cfg);
		free(x);
	}
}
