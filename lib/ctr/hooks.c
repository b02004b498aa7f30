/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "hooks.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

int hook_run(const struct spec_hook *h, const char *state_json, struct ros_err *e)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return err_set(e, errno, "hook %s: socketpair", h->path);
	char *const empty_env[] = {NULL};
	char *const default_args[] = {h->path, NULL};
	pid_t pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return err_set(e, errno, "hook %s: fork", h->path);
	}
	if (pid == 0) {
		setpgid(0, 0); /* its own group, so a timeout kills what it started too */
		dup2(sv[1], 0);
		execve(h->path, h->args && h->args[0] ? h->args : default_args, h->env ? h->env : empty_env);
		_exit(127);
	}
	close(sv[1]);
	cleanup_close int sock = sv[0];
	size_t len = strlen(state_json);
	for (size_t off = 0; off < len;) {
		ssize_t n = send(sock, state_json + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* the hook need not read its stdin */
		off += (size_t)n;
	}
	shutdown(sock, SHUT_WR);

	cleanup_close int pfd = pidfd_open_(pid);
	int timeout_ms = h->timeout > 0 ? h->timeout * 1000 : -1;
	if (pfd >= 0) {
		struct pollfd p = {.fd = pfd, .events = POLLIN};
		int r;
		while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
			;
		if (r == 0) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return err_setx(e, ETIMEDOUT, "hook %s: killed after its timeout of %d s", h->path, h->timeout);
		}
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return err_set(e, errno, "hook %s: wait", h->path);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return err_setx(e, ENOEXEC, "hook %s: cannot be executed", h->path);
	if (WIFEXITED(st))
		return err_setx(e, EIO, "hook %s: exited with status %d", h->path, WEXITSTATUS(st));
	return err_setx(e, EIO, "hook %s: killed by signal %d", h->path, WTERMSIG(st));
}

int hooks_run(const struct spec *s, enum spec_hook_kind kind, const char *state_json, struct ros_err *e)
{
	for (size_t i = 0; i < s->n_hooks[kind]; i++) {
		int r = hook_run(&s->hooks[kind][i], state_json, e);
		if (r < 0)
			return err_prefix(e, "%s hook %zu", spec_hook_kind_name(kind), i);
	}
	return 0;
}
