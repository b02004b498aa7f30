/* SPDX-License-Identifier: MIT */
/*
 * The subreaper: the `userctr` process a supervisor sees.  It owns the API
 * socket, forks the engine and forks it again when it dies.  Containers
 * outlive an engine crash: the kernel reparents them here
 * (PR_SET_CHILD_SUBREAPER), this process reaps them and keeps their exit
 * statuses, and it holds each container's stdio fds for the next engine.
 *
 * Protocol on a SOCK_SEQPACKET pair, one text command per message:
 *   engine -> reaper  "S ID" + fds (store), "D ID" (drop), "F" (fetch),
 *                     "A PID" (exit record consumed)
 *   reaper -> engine  "S ID" + fds, "X PID STATUS", "E" (end of fetch)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "userctr.h"

#define MAX_FDS 4
#define MSG_MAX 512

int engine_main(int lfd, int rfd, int argc, char **argv);

struct stored {
	char id[80];
	int fds[MAX_FDS];
	int n;
};

static struct stored *store;
static size_t n_store;
static struct {
	pid_t pid;
	int status;
} * exits;
static size_t n_exits;

static int send_msg(int fd, const char *msg, const int *fds, int n)
{
	struct iovec iov = {.iov_base = (void *)(uintptr_t)msg, .iov_len = strlen(msg)};
	union {
		char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (n > 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)n);
	}
	ssize_t r;
	do
		r = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

/* Receives one message (NUL-terminated in buf); fds into fds[*n]. 0 on EOF. */
static ssize_t recv_msg(int fd, char *buf, size_t size, int *fds, int *n)
{
	struct iovec iov = {.iov_base = buf, .iov_len = size - 1};
	union {
		char b[CMSG_SPACE(sizeof(int) * MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b)};
	ssize_t r;
	do
		r = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	*n = 0;
	if (r < 0)
		return -errno;
	buf[r] = '\0';
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			int k = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			for (int i = 0; i < k; i++) {
				int f;
				memcpy(&f, CMSG_DATA(cm) + sizeof(int) * (size_t)i, sizeof(int));
				if (*n < MAX_FDS)
					fds[(*n)++] = f;
				else
					close(f);
			}
		}
	return r;
}

/* Keys are "ID/MASK": a container is the part before the slash. */
static bool same_ctr(const char *a, const char *b)
{
	size_t la = strcspn(a, "/"), lb = strcspn(b, "/");
	return la == lb && !strncmp(a, b, la);
}

static void store_drop(const char *id)
{
	for (size_t i = 0; i < n_store; i++)
		if (same_ctr(store[i].id, id)) {
			for (int k = 0; k < store[i].n; k++)
				close(store[i].fds[k]);
			store[i] = store[--n_store];
			return;
		}
}

static void reaper_message(int efd, const char *msg, int *fds, int n)
{
	if (msg[0] == 'S' && msg[1] == ' ' && strlen(msg + 2) < 80) {
		store_drop(msg + 2);
		struct stored *ns = realloc(store, (n_store + 1) * sizeof(*store));
		if (!ns)
			goto close_fds;
		store = ns;
		snprintf(store[n_store].id, sizeof(store[n_store].id), "%s", msg + 2);
		memcpy(store[n_store].fds, fds, sizeof(int) * (size_t)n);
		store[n_store++].n = n;
		return;
	}
	if (msg[0] == 'D' && msg[1] == ' ')
		store_drop(msg + 2);
	else if (msg[0] == 'A' && msg[1] == ' ') {
		pid_t pid = (pid_t)atoi(msg + 2);
		for (size_t i = 0; i < n_exits; i++)
			if (exits[i].pid == pid) {
				exits[i] = exits[--n_exits];
				break;
			}
	} else if (msg[0] == 'F') {
		char out[MSG_MAX];
		for (size_t i = 0; i < n_store; i++) {
			snprintf(out, sizeof(out), "S %s", store[i].id);
			send_msg(efd, out, store[i].fds, store[i].n);
		}
		for (size_t i = 0; i < n_exits; i++) {
			snprintf(out, sizeof(out), "X %d %d", (int)exits[i].pid, exits[i].status);
			send_msg(efd, out, NULL, 0);
		}
		send_msg(efd, "E", NULL, 0);
	}
close_fds:
	for (int k = 0; k < n; k++)
		close(fds[k]);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int reaper_main(const char *path, int argc, char **argv)
{
	extern int userctr_listen(const char *path);
	int lfd = userctr_listen(path);
	if (lfd < 0)
		return 1;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	prctl(PR_SET_NAME, "userctr-reaper");
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		perror("userctr: signalfd");
		return 1;
	}
	pid_t engine = 0;
	int efd = -1;
	bool stopping = false;
	unsigned backoff = 100;
	uint64_t started = 0, restart_at = 0;
	for (;;) {
		if (!engine && !stopping && mono_ms() >= restart_at) {
			int sp[2];
			if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
				perror("userctr: socketpair");
				return 1;
			}
			pid_t p = fork();
			if (p < 0) {
				perror("userctr: fork");
				return 1;
			}
			if (p == 0) {
				close(sfd);
				close(sp[0]);
				sigprocmask(SIG_UNBLOCK, &mask, NULL);
				prctl(PR_SET_CHILD_SUBREAPER, 0);
				/* the engine goes when the reaper goes */
				prctl(PR_SET_PDEATHSIG, SIGTERM);
				free(store);
				free(exits);
				_exit(engine_main(lfd, sp[1], argc, argv));
			}
			close(sp[1]);
			engine = p;
			efd = sp[0];
			started = mono_ms();
		}
		struct pollfd pf[2] = {{.fd = sfd, .events = POLLIN}, {.fd = efd, .events = POLLIN}};
		int timeout = -1;
		if (!engine && !stopping) {
			uint64_t now = mono_ms();
			timeout = restart_at > now ? (int)(restart_at - now) : 0;
		}
		int r = poll(pf, efd >= 0 ? 2 : 1, timeout);
		if (r < 0 && errno != EINTR)
			return 1;
		if (efd >= 0 && (pf[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			char msg[MSG_MAX];
			int fds[MAX_FDS], n;
			ssize_t m = recv_msg(efd, msg, sizeof(msg), fds, &n);
			if (m <= 0) {
				for (int k = 0; k < n; k++)
					close(fds[k]);
				close(efd);
				efd = -1;
			} else {
				reaper_message(efd, msg, fds, n);
			}
		}
		if (pf[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT || si.ssi_signo == SIGHUP) {
					stopping = si.ssi_signo != SIGHUP;
					if (engine)
						kill(engine, si.ssi_signo == SIGHUP ? SIGTERM : (int)si.ssi_signo);
				}
			}
			int st;
			pid_t p;
			while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
				if (p == engine) {
					engine = 0;
					if (efd >= 0) {
						close(efd);
						efd = -1;
					}
					if (stopping) {
						close(lfd);
						/* the socket path is the engine's to remove */
						return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
					}
					uint64_t lived = mono_ms() - started;
					backoff = lived > 5000 ? 100 : (backoff * 2 > 5000 ? 5000 : backoff * 2);
					restart_at = mono_ms() + (lived > 5000 ? 0 : backoff);
					if (WIFSIGNALED(st) || WEXITSTATUS(st) != 0)
						fprintf(stderr, "userctr: engine %d %s %d; restarting\n", (int)p,
						        WIFSIGNALED(st) ? "killed by signal" : "exited",
						        WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
					continue;
				}
				/* an orphaned container: keep its status for the engine */
				void *ne = realloc(exits, (n_exits + 1) * sizeof(*exits));
				if (!ne)
					continue;
				exits = ne;
				exits[n_exits].pid = p;
				exits[n_exits++].status = st;
				if (efd >= 0) {
					char out[64];
					snprintf(out, sizeof(out), "X %d %d", (int)p, st);
					send_msg(efd, out, NULL, 0);
				}
			}
		}
	}
}

/* ---- engine side ----------------------------------------------------------------- */

int reaper_store(struct userctr *u, const char *id, const int *fds, int n)
{
	if (u->reaper_fd < 0)
		return 0;
	char msg[128];
	snprintf(msg, sizeof(msg), "S %s", id);
	return send_msg(u->reaper_fd, msg, fds, n);
}

void reaper_drop(struct userctr *u, const char *id)
{
	if (u->reaper_fd < 0)
		return;
	char msg[128];
	snprintf(msg, sizeof(msg), "D %s", id);
	send_msg(u->reaper_fd, msg, NULL, 0);
}

void reaper_ack(struct userctr *u, pid_t pid)
{
	if (u->reaper_fd < 0)
		return;
	char msg[64];
	snprintf(msg, sizeof(msg), "A %d", (int)pid);
	send_msg(u->reaper_fd, msg, NULL, 0);
}

static void exit_record(struct userctr *u, const char *msg)
{
	int pid, st;
	if (sscanf(msg, "X %d %d", &pid, &st) != 2)
		return;
	if (ctrs_reaped(u, pid, st) || execs_reaped(u, pid, st)) {
		reaper_ack(u, pid);
		return;
	}
	char k[32];
	snprintf(k, sizeof(k), "%d", pid);
	json_object_set_new(u->exits, k, json_integer(st));
}

json_t *reaper_fetch(struct userctr *u)
{
	json_t *stored = json_object();
	if (u->reaper_fd < 0 || send_msg(u->reaper_fd, "F", NULL, 0) < 0)
		return stored;
	for (;;) {
		char msg[MSG_MAX];
		int fds[MAX_FDS], n;
		ssize_t m = recv_msg(u->reaper_fd, msg, sizeof(msg), fds, &n);
		if (m <= 0)
			break;
		if (msg[0] == 'E')
			break;
		if (msg[0] == 'S') {
			json_t *a = json_array();
			for (int k = 0; k < n; k++)
				json_array_append_new(a, json_integer(fds[k]));
			json_object_set_new(stored, msg + 2, a);
			continue;
		}
		for (int k = 0; k < n; k++)
			close(fds[k]);
		if (msg[0] == 'X') {
			int pid, st;
			if (sscanf(msg, "X %d %d", &pid, &st) == 2) {
				char k[32];
				snprintf(k, sizeof(k), "%d", pid);
				json_object_set_new(u->exits, k, json_integer(st));
			}
		}
	}
	return stored;
}

void reaper_event(struct userctr *u)
{
	char msg[MSG_MAX];
	int fds[MAX_FDS], n;
	ssize_t m = recv_msg(u->reaper_fd, msg, sizeof(msg), fds, &n);
	for (int k = 0; k < n; k++)
		close(fds[k]);
	if (m <= 0) {
		/* the reaper is gone: the engine follows (PDEATHSIG does too) */
		close(u->reaper_fd);
		u->reaper_fd = -1;
		raise(SIGTERM);
		return;
	}
	if (msg[0] == 'X')
		exit_record(u, msg);
}
