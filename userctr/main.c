/* SPDX-License-Identifier: MIT */
/*
 * userctr main: the options, then the reaper (reaper.c) forks the engine,
 * whose loop is here: one thread, one epoll over a signalfd, the epoll fd
 * of libmicrohttpd (external mode on the socket the reaper made), the
 * reaper socket, container output and hijacked connections.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <linux/magic.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "userctr.h"

static const char *opt_host = "unix:///var/run/docker.sock", *opt_root = "/var/lib/userctr";
static const char *opt_bridge = "docker0", *opt_bip = "172.17.0.0/16", *opt_group = "docker";
static const char *opt_default_registry;
static bool opt_cgroup_remount;
static char *opt_insecure[17];
static const char *opt_certs_dir = "/etc/docker/certs.d";
static int n_insecure;

static void usage(FILE *f)
{
	fprintf(f, "usage: userctr [--host unix:///PATH] [--root DIR] [--bridge NAME] [--bip CIDR] [--group G]\n"
	           "  --host    API socket (default unix:///var/run/docker.sock)\n"
	           "  --root    state directory (default /var/lib/userctr)\n"
	           "  --bridge  bridge for --network bridge (default docker0)\n"
	           "  --bip     its subnet (default 172.17.0.0/16)\n"
	           "  --group   group owning the socket, mode 0660 (default docker)\n"
	           "  --default-registry HOST   registry for names without one (none by default)\n"
	           "  --insecure-registry HOST[:PORT]   plain HTTP allowed (loopback always is); repeatable\n"
	           "  --certs-dir DIR   per-registry TLS, as Docker's certs.d: DIR/HOST[:PORT]/*.crt CAs,\n"
	           "                    NAME.cert + NAME.key a client certificate (default /etc/docker/certs.d)\n"
	           "  --cgroup-remount   (in a system container, cgroup v2) mount the own cgroup subtree on\n"
	           "                     /sys/fs/cgroup and move the engine into a leaf of it\n");
}

uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int userctr_listen(const char *path);
int userctr_listen(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "userctr: socket path %s is too long\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (unlink(path) < 0 && errno != ENOENT) {
		fprintf(stderr, "userctr: remove stale %s: %m\n", path);
		return -1;
	}
	mode_t old = umask(0117);
	int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0) {
		fprintf(stderr, "userctr: bind %s: %m\n", path);
		return -1;
	}
	struct group *g = getgrnam(opt_group);
	if (g && chown(path, 0, g->gr_gid) < 0) {
		fprintf(stderr, "userctr: chown %s to group %s: %m\n", path, opt_group);
		return -1;
	}
	if (listen(fd, 128) < 0)
		return -1;
	return TAKE_FD(fd);
}

static int mkdirs(struct userctr *u, struct ros_err *e)
{
	static const char *const sub[] = {"containers", "volumes", "run", "tmp"};
	for (size_t i = 0; i < ARRAY_SIZE(sub); i++) {
		char p[4096];
		snprintf(p, sizeof(p), "%s/%s", u->root, sub[i]);
		if (fs_mkdir_p(p, 0700, e) < 0)
			return -1;
	}
	return 0;
}

/* In a system container on cgroup v2 (its own cgroup namespace): a fresh
 * cgroup2 mount shows the namespace's root, the engine's own subtree; its
 * processes move to the leaf "engine" so controllers can be enabled for
 * the containers' cgroups beside it (no internal processes in v2). */
static int cgroup_remount(struct ros_err *e)
{
	struct statfs sf;
	if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type != CGROUP2_SUPER_MAGIC)
		return 0; /* v1: the hierarchies are per controller, nothing to do */
	umount2("/sys/fs/cgroup", MNT_DETACH);
	if (mount("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return err_set(e, errno, "mount cgroup2 on /sys/fs/cgroup");
	if (mkdir("/sys/fs/cgroup/engine", 0755) < 0 && errno != EEXIST)
		return err_set(e, errno, "mkdir /sys/fs/cgroup/engine");
	cleanup_free char *procs = NULL;
	size_t len = 0;
	if (fs_read_all("/sys/fs/cgroup/cgroup.procs", 1 << 20, &procs, &len, e) < 0)
		return -1;
	for (char *save = NULL, *t = strtok_r(procs, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
		cleanup_close int fd = open("/sys/fs/cgroup/engine/cgroup.procs", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || (write(fd, t, strlen(t)) < 0 && errno != ESRCH))
			return err_set(e, errno, "move %s to /sys/fs/cgroup/engine", t);
	}
	return 0;
}

int engine_main(int lfd, int rfd, int argc, char **argv);
int engine_main(int lfd, int rfd, int argc, char **argv)
{
	prctl(PR_SET_NAME, "userctr");
	struct ros_err e = {0};
	struct userctr u = {.reaper_fd = rfd, .ep = -1};
	u.root = realpath(opt_root, NULL);
	u.exits = json_object();
	u.bridge_name = strdup(opt_bridge);
	u.bridge_cidr = strdup(opt_bip);
	u.insecure = opt_insecure;
	u.default_registry = (char *)(uintptr_t)opt_default_registry;
	u.certs_dir = opt_certs_dir;
	if (!u.root || image_store_open(&u.images, u.root, &e) < 0 || mkdirs(&u, &e) < 0) {
		fprintf(stderr, "userctr: %s: %s\n", opt_root, u.root ? err_msg(&e) : strerror(errno));
		return 1;
	}
	if (asprintf(&u.state_root, "%s/run", u.root) < 0)
		return 1;
	/* temporary files an earlier engine left (named ones, where the
	 * filesystem has no O_TMPFILE) */
	char tmpd[4096];
	snprintf(tmpd, sizeof(tmpd), "%s/tmp", u.root);
	DIR *td = opendir(tmpd);
	for (struct dirent *de; td && (de = readdir(td));)
		if (!strncmp(de->d_name, "blob.", 5) || !strncmp(de->d_name, "upload.", 7))
			unlinkat(dirfd(td), de->d_name, 0);
	if (td)
		closedir(td);
	if (opt_cgroup_remount && cgroup_remount(&e) < 0) {
		fprintf(stderr, "userctr: --cgroup-remount: %s\n", err_msg(&e));
		return 1;
	}
	char pidp[4096], pidtxt[32];
	snprintf(pidp, sizeof(pidp), "%s/engine.pid", u.root);
	snprintf(pidtxt, sizeof(pidtxt), "%d\n", (int)getpid());
	fs_write_atomic(pidp, pidtxt, strlen(pidtxt), 0644, NULL);

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	cleanup_close int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	u.ep = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || u.ep < 0) {
		fprintf(stderr, "userctr: event loop set-up failed: %m\n");
		return 1;
	}
	/* before the API opens: running containers, their fds, exit records */
	json_t *stored = reaper_fetch(&u);
	if (ctrs_load(&u, &e) < 0)
		fprintf(stderr, "userctr: loading containers: %s\n", err_msg(&e));
	ctrs_adopt(&u, stored);
	json_decref(stored);

	u.mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_ALLOW_UPGRADE, 0, NULL, NULL,
	                         api_handle, &u, MHD_OPTION_LISTEN_SOCKET, lfd, MHD_OPTION_NOTIFY_COMPLETED,
	                         api_request_done, &u, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)0, MHD_OPTION_END);
	if (!u.mhd) {
		fprintf(stderr, "userctr: cannot start the HTTP server on %s\n", opt_host);
		return 1;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(u.mhd, MHD_DAEMON_INFO_EPOLL_FD);
	struct watch wsig = {W_SIGNAL, NULL}, wmhd = {W_MHD, NULL};
	u.reaper_w = (struct watch){W_REAPER, NULL};
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &wsig};
	if (!info || epoll_ctl(u.ep, EPOLL_CTL_ADD, sfd, &ev) < 0) {
		fprintf(stderr, "userctr: event loop set-up failed: %m\n");
		return 1;
	}
	ev = (struct epoll_event){.events = EPOLLIN, .data.ptr = &wmhd};
	epoll_ctl(u.ep, EPOLL_CTL_ADD, info->epoll_fd, &ev);
	if (u.reaper_fd >= 0) {
		ev = (struct epoll_event){.events = EPOLLIN, .data.ptr = &u.reaper_w};
		epoll_ctl(u.ep, EPOLL_CTL_ADD, u.reaper_fd, &ev);
	}
	fprintf(stderr, "userctr: API %s listening on %s, root %s\n", USERCTR_API_VERSION, opt_host, u.root);
	(void)argc;
	(void)argv;
	bool running = true;
	while (running) {
		MHD_UNSIGNED_LONG_LONG to = 0;
		int timeout = MHD_get_timeout(u.mhd, &to) == MHD_YES ? (to > 60000 ? 60000 : (int)to) : -1;
		int ct = ctrs_timeout(&u);
		if (ct >= 0 && (timeout < 0 || ct < timeout))
			timeout = ct;
		struct epoll_event evs[32];
		int n = epoll_wait(u.ep, evs, 32, timeout);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "userctr: epoll_wait: %m\n");
			break;
		}
		for (int i = 0; i < n; i++) {
			struct watch *w = evs[i].data.ptr;
			switch (w->kind) {
			case W_SIGNAL: {
				struct signalfd_siginfo si;
				bool chld = false;
				while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM)
						running = false;
					if (si.ssi_signo == SIGCHLD)
						chld = true;
				}
				if (chld) {
					int st;
					pid_t p;
					while ((p = waitpid(-1, &st, WNOHANG)) > 0)
						if (!ctrs_reaped(&u, p, st))
							execs_reaped(&u, p, st);
				}
				break;
			}
			case W_MHD:
				break;
			case W_REAPER:
				if (u.reaper_fd >= 0)
					reaper_event(&u);
				break;
			case W_SRC:
				src_event(w->p, evs[i].events);
				break;
			case W_HIJACK:
				hijack_event(w->p, evs[i].events);
				break;
			case W_PULL:
				pull_event(w->p);
				break;
			case W_PIDFD:
				uctr_pidfd_event(w->p);
				break;
			}
		}
		ctrs_tick(&u);
		MHD_run(u.mhd);
	}
	/* live restore: containers keep running; their fds stay with the reaper */
	ctrs_shutdown(&u);
	events_close_all(&u);
	MHD_stop_daemon(u.mhd);
	unlink(pidp);
	image_store_close(&u.images);
	json_decref(u.exits);
	free(u.state_root);
	free(u.bridge_name);
	free(u.bridge_cidr);
	free(u.root);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"host", required_argument, NULL, 'H'},
	        {"root", required_argument, NULL, 'r'},
	        {"bridge", required_argument, NULL, 'b'},
	        {"bip", required_argument, NULL, 'B'},
	        {"group", required_argument, NULL, 'G'},
	        {"help", no_argument, NULL, 'h'},
	        {"default-registry", required_argument, NULL, 'D'},
	        {"insecure-registry", required_argument, NULL, 'I'},
	        {"certs-dir", required_argument, NULL, 'T'},
	        {"cgroup-remount", no_argument, NULL, 'C'},
	        {0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "H:r:b:h", opts, NULL)) != -1) {
		switch (c) {
		case 'H':
			opt_host = optarg;
			break;
		case 'r':
			opt_root = optarg;
			break;
		case 'b':
			opt_bridge = optarg;
			break;
		case 'B':
			opt_bip = optarg;
			break;
		case 'G':
			opt_group = optarg;
			break;
		case 'D':
			opt_default_registry = optarg;
			break;
		case 'C':
			opt_cgroup_remount = true;
			break;
		case 'T':
			opt_certs_dir = optarg;
			break;
		case 'I':
			if (n_insecure == 16) {
				fprintf(stderr, "userctr: at most 16 --insecure-registry\n");
				return 2;
			}
			opt_insecure[n_insecure++] = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "userctr: unexpected argument %s\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (strncmp(opt_host, "unix://", 7) != 0) {
		fprintf(stderr, "userctr: --host %s: only unix:// sockets are supported\n", opt_host);
		return 2;
	}
	if (strlen(opt_bridge) == 0 || strlen(opt_bridge) > 15) {
		fprintf(stderr, "userctr: --bridge %s: an interface name is 1 to 15 characters\n", opt_bridge);
		return 2;
	}
	/* fds a parent leaked to us would leak on into every container */
	close_range(3, ~0U, 0);
	struct ros_err e = {0};
	if (fs_mkdir_p(opt_root, 0700, &e) < 0) {
		fprintf(stderr, "userctr: %s\n", err_msg(&e));
		return 1;
	}
	int r = reaper_main(opt_host + 7, argc, argv);
	unlink(opt_host + 7);
	return r;
}
