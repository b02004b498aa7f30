/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: userctr's HTTP request handling.  A real libmicrohttpd
 * daemon in external epoll mode, set up as engine_main does (api_handle,
 * api_request_done, suspend/resume, upgrade), over a temp --root made once;
 * each input is the raw bytes a client sends on one connection (a
 * socketpair handed to MHD_add_connection).  The reply is read and dropped.
 *
 * Nothing may start: the store holds no image, so a create fails and there
 * is no container to start, and in case an input loads one, the container's
 * root is never mounted (image_rootfs_mount is wrapped to fail, before any
 * network set-up or clone).  fork() is wrapped to fail too, so a pull
 * (POST /images/create) is parsed up to its worker and then answers an
 * error.  The temp root goes at exit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "userctr.h" /* -Iuserctr */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What userctr/main.c and reaper.c provide to each other. */
int engine_main(int lfd, int rfd, int argc, char **argv);
int userctr_listen(const char *path);
pid_t __wrap_fork(void);
int __wrap_image_rootfs_mount(struct image_store *s, const char *id, const char *dir, char **rootfs_out,
                              struct ros_err *e);

int engine_main(int lfd, int rfd, int argc, char **argv)
{
	abort();
}

int userctr_listen(const char *path)
{
	abort();
}

uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* No pull worker, no container: every fork() in the engine fails. */
pid_t __wrap_fork(void)
{
	errno = EAGAIN;
	return -1;
}

/* and no container root: a start ends before it touches the host */
int __wrap_image_rootfs_mount(struct image_store *s, const char *id, const char *dir, char **rootfs_out,
                              struct ros_err *e)
{
	return err_setx(e, EPERM, "containers do not start in the fuzz target");
}

static struct userctr u = {.reaper_fd = -1, .ep = -1};
static char base[] = "/tmp/fuzz-userctr-http-XXXXXX";

static void teardown(void)
{
	if (u.mhd) {
		events_close_all(&u);
		MHD_stop_daemon(u.mhd);
		u.mhd = NULL;
	}
	image_store_close(&u.images);
	json_decref(u.exits);
	struct ros_err e = {0};
	fs_remove_tree(base, &e);
}

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(base))
		abort();
	struct ros_err e = {0};
	u.root = base;
	u.exits = json_object();
	u.bridge_name = (char *)"fuzz-none0";
	u.bridge_cidr = (char *)"10.254.254.0/24";
	if (image_store_open(&u.images, u.root, &e) < 0)
		abort();
	static const char *const sub[] = {"containers", "volumes", "run", "tmp"};
	for (size_t i = 0; i < ARRAY_SIZE(sub); i++) {
		char p[4096];
		snprintf(p, sizeof(p), "%s/%s", u.root, sub[i]);
		if (fs_mkdir_p(p, 0700, &e) < 0)
			abort();
	}
	if (asprintf(&u.state_root, "%s/run", u.root) < 0)
		abort();
	u.ep = epoll_create1(EPOLL_CLOEXEC);
	u.mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_ALLOW_UPGRADE |
	                                 MHD_USE_NO_LISTEN_SOCKET,
	                         0, NULL, NULL, api_handle, &u, MHD_OPTION_NOTIFY_COMPLETED, api_request_done, &u,
	                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)0, MHD_OPTION_END);
	if (u.ep < 0 || !u.mhd)
		abort();
	atexit(teardown);
}

/* Waits (briefly) for MHD's epoll fd or the client end to have something. */
static void wait_a_little(int mhd_fd, int client)
{
	struct pollfd p[2] = {{.fd = mhd_fd, .events = POLLIN}, {.fd = client, .events = POLLIN}};
	poll(p, 2, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!u.mhd)
		setup();
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(u.mhd, MHD_DAEMON_INFO_EPOLL_FD);
	int sv[2];
	if (!info || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
		abort();
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (MHD_add_connection(u.mhd, sv[1], (struct sockaddr *)&sa, sizeof(sa_family_t)) != MHD_YES) {
		close(sv[0]);
		return 0;
	}
	int client = sv[0];
	size_t sent = 0;
	bool eof_sent = false, closed = false;
	char sink[65536];
	bool echo = getenv("FUZZ_USERCTR_HTTP_ECHO"); /* shows the replies, for a look at the corpus */
	/* A reply that never ends (events, a stream) stops after this many rounds. */
	for (int round = 0; round < 200 && !closed; round++) {
		if (sent < size) {
			ssize_t n = write(client, data + sent, size - sent);
			if (n > 0)
				sent += (size_t)n;
			else if (n < 0 && errno != EAGAIN)
				sent = size;
		}
		if (sent == size && !eof_sent) {
			shutdown(client, SHUT_WR);
			eof_sent = true;
		}
		MHD_run(u.mhd);
		for (;;) {
			ssize_t n = read(client, sink, sizeof(sink));
			if (n > 0 && echo)
				fwrite(sink, 1, (size_t)n, stderr);
			if (n > 0)
				continue;
			if (n == 0 || (n < 0 && errno != EAGAIN))
				closed = true;
			break;
		}
		if (!closed)
			wait_a_little(info->epoll_fd, client);
	}
	close(client);
	/* ends streams still open, so MHD sees the closed socket and finishes the request */
	events_close_all(&u);
	for (int round = 0; round < 4; round++)
		MHD_run(u.mhd);
	return 0;
}
