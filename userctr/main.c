/* SPDX-License-Identifier: MIT */
/*
 * userctr main: one thread, one epoll loop over a signalfd and the epoll fd
 * of libmicrohttpd (run in external mode on a unix socket we create).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "userctr.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: userctr [--host unix:///PATH] [--root DIR]\n"
	           "  --host  API socket (default unix:///var/run/docker.sock)\n"
	           "  --root  state directory (default /var/lib/userctr)\n");
}

static int listen_unix(const char *path, struct ros_err *e)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return err_setx(e, ENAMETOOLONG, "socket path %s is too long", path);
	strcpy(sa.sun_path, path);
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_set(e, errno, "socket");
	if (unlink(path) < 0 && errno != ENOENT)
		return err_set(e, errno, "remove stale %s", path);
	mode_t old = umask(0117);
	int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0)
		return err_set(e, errno, "bind %s", path);
	struct group *g = getgrnam("docker");
	if (g && chown(path, 0, g->gr_gid) < 0)
		return err_set(e, errno, "chown %s to group docker", path);
	if (listen(fd, 128) < 0)
		return err_set(e, errno, "listen %s", path);
	return TAKE_FD(fd);
}

int main(int argc, char **argv)
{
	const char *host = "unix:///var/run/docker.sock", *root = "/var/lib/userctr";
	static const struct option opts[] = {
	        {"host", required_argument, NULL, 'H'},
	        {"root", required_argument, NULL, 'r'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "H:r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'H':
			host = optarg;
			break;
		case 'r':
			root = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (strncmp(host, "unix://", 7) != 0) {
		fprintf(stderr, "userctr: --host %s: only unix:// sockets are supported\n", host);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	struct ros_err e = {0};
	struct userctr u = {0};
	if (fs_mkdir_p(root, 0700, &e) < 0 || image_store_open(&u.images, root, &e) < 0) {
		fprintf(stderr, "userctr: %s\n", err_msg(&e));
		return 1;
	}
	u.root = realpath(root, NULL);
	int lfd = listen_unix(host + 7, &e);
	if (lfd < 0) {
		fprintf(stderr, "userctr: %s\n", err_msg(&e));
		return 1;
	}
	u.mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_ALLOW_UPGRADE, 0, NULL, NULL,
	                         api_handle, &u, MHD_OPTION_LISTEN_SOCKET, lfd, MHD_OPTION_NOTIFY_COMPLETED,
	                         api_request_done, &u, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)0, MHD_OPTION_END);
	if (!u.mhd) {
		fprintf(stderr, "userctr: cannot start the HTTP server on %s\n", host);
		return 1;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(u.mhd, MHD_DAEMON_INFO_EPOLL_FD);
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	cleanup_close int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	cleanup_close int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = sfd};
	if (!info || sfd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev) < 0) {
		fprintf(stderr, "userctr: event loop set-up failed: %m\n");
		return 1;
	}
	ev = (struct epoll_event){.events = EPOLLIN, .data.fd = info->epoll_fd};
	epoll_ctl(ep, EPOLL_CTL_ADD, info->epoll_fd, &ev);
	fprintf(stderr, "userctr: API %s listening on %s, root %s\n", USERCTR_API_VERSION, host, u.root);
	bool running = true;
	while (running) {
		MHD_UNSIGNED_LONG_LONG to = 0;
		int timeout = MHD_get_timeout(u.mhd, &to) == MHD_YES ? (to > 60000 ? 60000 : (int)to) : -1;
		struct epoll_event evs[8];
		int n = epoll_wait(ep, evs, 8, timeout);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "userctr: epoll_wait: %m\n");
			break;
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.fd == sfd) {
				struct signalfd_siginfo si;
				while (read(sfd, &si, sizeof(si)) == sizeof(si))
					if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM)
						running = false;
			}
		}
		MHD_run(u.mhd);
	}
	/* MHD cannot stop with suspended connections: wake the /events streams. */
	events_close_all(&u);
	MHD_stop_daemon(u.mhd);
	unlink(host + 7);
	image_store_close(&u.images);
	free(u.root);
	return 0;
}
