/* SPDX-License-Identifier: MIT */
/*
 * sysctr: the system container supervisor (docs/sysctr.md).  One epoll
 * loop over a signalfd, the control socket and a pidfd per running
 * service; deadlines (restarts, stop timeouts, log rotation) are the
 * loop's timeout.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "core/cleanup.h"
#include "core/fs.h"
#include "core/loop.h"
#include "ctr/ctr.h"
#include "graph.h"
#include "logrotate.h"
#include "restart.h"
#include "service.h"

#define RUN_DIR "/run/sysctr"
#define CTR_ROOT RUN_DIR "/ctr"
#define STATE_DIR RUN_DIR "/state"
#define SOCK_PATH "/run/sysctr.sock"
#define LOG_DIR "/var/log/ros"
#define SERVICES_DIR "/usr/share/ros/services"
#define IMAGES_DIR "/usr/share/ros/images"
#define TIMELINE "/run/ros/boot-timeline"

enum svc_st { ST_PENDING, ST_RUNNING, ST_CREATED, ST_EXITED, ST_STOPPED, ST_FAILED, ST_DISABLED, ST_USER };
static const char *const st_names[] = {"pending", "running", "created",  "exited",
                                       "stopped", "failed",  "disabled", "user-scope"};

struct svc {
	char name[SVC_NAME_MAX];
	struct svc_def d;
	bool parsed, enabled;
	char err[512];
	enum svc_st st;
	pid_t pid;
	int pidfd;
	unsigned long long pid_start;
	int64_t started_ms; /* monotonic */
	time_t started_wall;
	int last_exit; /* -1: none/unknown */
	bool done_ok;  /* a one-shot that exited 0 */
	struct restart_state rs;
	int64_t restart_at, kill_at;
	bool restart_after_stop;
	int order; /* start sequence, for reverse-order shutdown */
};

static struct svc *svcs;
static size_t n_svcs;
static int epfd, sigfd, lsock;
static int start_seq;
static long long log_max = 1 << 20, log_keep = 3;
static struct restart_limits limits = RESTART_LIMITS_DEFAULT;
/* epoll data: a service's index in svcs (stable: svcs only grows, and
 * realloc moves it), or one of these */
#define TAG_SIG UINT64_MAX
#define TAG_SOCK (UINT64_MAX - 1)

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("sysctr: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct svc *find(const char *name)
{
	for (size_t i = 0; i < n_svcs; i++)
		if (!strcmp(svcs[i].name, name))
			return &svcs[i];
	return NULL;
}

static void save_state(struct svc *s)
{
	char path[256];
	snprintf(path, sizeof(path), STATE_DIR "/%s.json", s->name);
	json_t *j = json_pack("{s:s, s:i, s:I, s:I, s:I, s:i, s:i, s:b, s:i, s:b, s:b}", "state", st_names[s->st],
	                      "pid", (int)s->pid, "pid_start", (json_int_t)s->pid_start, "started_ms",
	                      (json_int_t)s->started_ms, "started_wall", (json_int_t)s->started_wall, "restarts",
	                      (int)s->rs.restarts, "last_exit", s->last_exit, "done_ok", s->done_ok, "order", s->order,
	                      "stopped_by_user", s->rs.stopped_by_user, "crash_loop", s->rs.crash_loop);
	cleanup_free char *txt = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	struct ros_err e = {0};
	/* atomic, not durable: STATE_DIR is on /run and lives as long as the boot */
	if (txt && fs_write_replace(path, txt, strlen(txt), 0600, &e) < 0)
		say("%s", e.msg);
}

static void timeline(const char *name)
{
	int fd = open(TIMELINE, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	dprintf(fd, "%lld service %s up\n", (long long)now_ms(), name);
	close(fd);
}

/* Once every enabled service is up (running 2 s, created, or a one-shot
 * done with 0) for the first time, an installed disk's boot is good:
 * `ros os mark-good` records it in the GRUB environment (docs/install.md).
 * Double fork: init reaps it, sysctr's loop never waits for it.  A trial
 * boot (GRUB passed ros.trial=SECONDS) that is not good in time reboots,
 * which uses up one of its tries. */
static bool boot_ok_done;
static int64_t trial_deadline;

/* init expedites RCU grace periods while the system boots (docs/boot.md)
 * and leaves a marker: once the services are up, or a minute after sysctr
 * started, they go back to normal (expedited ones interrupt every CPU). */
#define RCU_EXPEDITED_MARKER "/run/ros/rcu-expedited"
#define RCU_EXPEDITED_MAX_MS 60000
static void boot_expedite_end(void)
{
	if (access(RCU_EXPEDITED_MARKER, F_OK) < 0)
		return;
	struct ros_err e = {0};
	if (fs_write_file("/sys/kernel/rcu_expedited", "0", &e) < 0)
		say("%s", e.msg);
	unlink(RCU_EXPEDITED_MARKER);
}

static void boot_ok_check(void)
{
	if (boot_ok_done)
		return;
	int64_t now = now_ms();
	for (size_t i = 0; i < n_svcs; i++) {
		const struct svc *s = &svcs[i];
		if (s->st == ST_DISABLED || s->st == ST_USER)
			continue;
		bool up = (s->st == ST_RUNNING && s->d.detach && now - s->started_ms >= 2000) || s->st == ST_CREATED ||
		          (s->st == ST_EXITED && s->done_ok);
		if (!up) {
			if (trial_deadline && now >= trial_deadline) {
				say("trial boot: service %s is not up after ros.trial seconds: rebooting", s->name);
				trial_deadline = 0;
				kill(getppid(), SIGTERM);
			}
			return;
		}
	}
	boot_ok_done = true;
	trial_deadline = 0;
	boot_expedite_end();
	cleanup_free char *cmdline = NULL;
	if (fs_read_all("/proc/cmdline", 1 << 16, &cmdline, NULL, NULL) < 0 || !strstr(cmdline, "ros.slot="))
		return; /* not booted from an installed disk's slot */
	say("all services up: ros os mark-good");
	pid_t pid = fork();
	if (pid == 0) {
		if (fork() == 0) {
			sigset_t none;
			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
			setpriority(PRIO_PROCESS, 0, 0); /* not sysctr's -10 */
			execl("/usr/bin/ros", "ros", "os", "mark-good", (char *)NULL);
			_exit(127);
		}
		_exit(0);
	}
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
}

/* ---- definitions ---- */

static void add_def(struct cfg_node *all, const char *name, const struct cfg_node *def)
{
	struct cfg_node *old = cfg_map_get(all, name);
	if (old && old->type == CFG_MAP && def->type == CFG_MAP)
		cfg_merge(old, def);
	else
		cfg_map_set(all, name, cfg_copy(def));
}

/* Reads every definition; keeps the runtime state of known services. */
static void load_services(void)
{
	struct cfg_node *tree = NULL;
	struct cfg_diag d = {0};
	struct ros_err e = {0};
	if (cfg_load_merged("", getenv("ROS_CMDLINE"), CFG_LOAD_BOOT, &tree, &d, &e) < 0) {
		say("config: %s", e.msg);
		tree = cfg_new(CFG_MAP);
	}
	for (size_t i = 0; i < d.n; i++)
		say("config: %s", d.items[i].msg);
	cfg_diag_free(&d);
	log_max = cfg_get_int(tree, "ros.log.max_size", log_max);
	log_keep = cfg_get_int(tree, "ros.log.max_files", log_keep);
	limits.backoff_min_ms = cfg_get_int(tree, "ros.restart.backoff_min_ms", RESTART_BACKOFF_MIN_MS);
	limits.backoff_max_ms = cfg_get_int(tree, "ros.restart.backoff_max_ms", RESTART_BACKOFF_MAX_MS);
	limits.crash_loop = (unsigned)cfg_get_int(tree, "ros.restart.crash_loop_limit", RESTART_CRASH_LOOP);
	if (limits.backoff_min_ms < 1 || limits.backoff_max_ms < limits.backoff_min_ms || limits.crash_loop < 1) {
		say("config: ros.restart: want 1 <= backoff_min_ms <= backoff_max_ms and crash_loop_limit >= 1; using "
		    "the defaults");
		limits = RESTART_LIMITS_DEFAULT;
	}
	struct cfg_node *all = cfg_new(CFG_MAP), *from_file = cfg_new(CFG_MAP);
	glob_t g;
	if (glob(SERVICES_DIR "/*.yml", 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			struct cfg_node *f = NULL;
			if (cfg_parse_file(g.gl_pathv[i], &f, &e) < 0) {
				say("%s", e.msg);
				continue;
			}
			if (f->type != CFG_MAP)
				say("%s: expected a map of services", g.gl_pathv[i]);
			for (size_t k = 0; f->type == CFG_MAP && k < cfg_map_size(f); k++) {
				add_def(all, cfg_map_key_at(f, k), cfg_map_value_at(f, k));
				cfg_map_set(from_file, cfg_map_key_at(f, k), cfg_new_bool(true));
			}
			cfg_free(f);
		}
		globfree(&g);
	}
	const struct cfg_node *cs = cfg_get(tree, "ros.services");
	for (size_t k = 0; cs && cs->type == CFG_MAP && k < cfg_map_size(cs); k++)
		add_def(all, cfg_map_key_at(cs, k), cfg_map_value_at(cs, k));
	const struct cfg_node *incl = cfg_get(tree, "ros.services_include");

	for (size_t k = 0; k < cfg_map_size(all); k++) {
		const char *name = cfg_map_key_at(all, k);
		struct svc *s = find(name);
		if (!s) {
			struct svc *ns = realloc(svcs, (n_svcs + 1) * sizeof(*svcs));
			if (!ns)
				break;
			svcs = ns;
			s = &svcs[n_svcs++];
			memset(s, 0, sizeof(*s));
			snprintf(s->name, sizeof(s->name), "%s", name);
			s->pidfd = -1;
			s->last_exit = -1;
		}
		svc_free(&s->d);
		s->err[0] = '\0';
		struct ros_err pe = {0};
		s->parsed = svc_parse(name, cfg_map_value_at(all, k), tree, &s->d, &pe) == 0;
		if (!s->parsed) {
			snprintf(s->err, sizeof(s->err), "%s", pe.msg);
			say("%s", pe.msg);
		}
		const struct cfg_node *in = cfg_map_get(incl, name);
		bool included = in && in->type == CFG_BOOL && in->b;
		bool excluded = in && in->type == CFG_BOOL && !in->b;
		s->enabled = !excluded && (!s->d.optional || included || !cfg_map_get(from_file, name));
		if (!s->enabled && s->st == ST_PENDING)
			s->st = ST_DISABLED;
		else if (s->enabled && s->st == ST_DISABLED)
			s->st = ST_PENDING;
		if (s->parsed && s->d.user_scope && s->st == ST_PENDING)
			s->st = ST_USER;
		if (!s->parsed && s->st == ST_PENDING)
			s->st = ST_FAILED;
	}
	cfg_free(all);
	cfg_free(from_file);
	cfg_free(tree);

	/* volumes_from: the volumes of the named services, transitively
	 * (repeated until nothing changes; duplicates are not added twice) */
	for (size_t round = 0; round <= n_svcs; round++) {
		bool changed = false;
		for (size_t i = 0; i < n_svcs; i++) {
			struct svc *s = &svcs[i];
			for (size_t k = 0; s->parsed && s->d.volumes_from[k]; k++) {
				const struct svc *o = find(s->d.volumes_from[k]);
				if (!o || !o->parsed) {
					snprintf(s->err, sizeof(s->err), "service %s: volumes_from: %s %s", s->name,
					         o ? o->name : "no service named", o ? "failed" : s->d.volumes_from[k]);
					say("%s", s->err);
					s->parsed = false;
					if (s->st == ST_PENDING || s->st == ST_USER)
						s->st = ST_FAILED;
					break;
				}
				size_t before = 0, after = 0;
				while (s->d.volumes[before])
					before++;
				if (o != s && svc_add_volumes(&s->d, &o->d) < 0)
					say("service %s: volumes_from: out of memory", s->name);
				while (s->d.volumes[after])
					after++;
				changed |= after != before;
			}
		}
		if (!changed)
			break;
	}

	/* ordering: errors (missing dependency, cycle) mark the service failed */
	struct graph_node *gn = calloc(n_svcs ? n_svcs : 1, sizeof(*gn));
	size_t *idx = calloc(n_svcs ? n_svcs : 1, sizeof(*idx));
	size_t ng = 0;
	for (size_t i = 0; gn && idx && i < n_svcs; i++) {
		struct svc *s = &svcs[i];
		/* a definition that failed to parse stays in the graph (without
		 * edges), so its dependents say "depends on X, which failed" */
		if (!s->enabled || (s->parsed && s->d.user_scope))
			continue;
		gn[ng] = (struct graph_node){.name = s->name};
		if (s->parsed)
			gn[ng] = (struct graph_node){.name = s->name,
			                             .after = (const char *const *)s->d.after,
			                             .n_after = s->d.n_after,
			                             .before = (const char *const *)s->d.before,
			                             .n_before = s->d.n_before};
		idx[ng++] = i;
	}
	if (gn && idx && graph_order(gn, ng) >= 0)
		for (size_t i = 0; i < ng; i++)
			if (gn[i].level < 0) {
				struct svc *s = &svcs[idx[i]];
				snprintf(s->err, sizeof(s->err), "%s", gn[i].err);
				say("%s", gn[i].err);
				if (s->st == ST_PENDING)
					s->st = ST_FAILED;
			}
	free(gn);
	free(idx);
}

/* ---- images and root filesystems ---- */

static bool is_mountpoint(const char *path)
{
	struct stat a, b;
	char parent[512];
	snprintf(parent, sizeof(parent), "%s/..", path);
	return stat(path, &a) == 0 && stat(parent, &b) == 0 && a.st_dev != b.st_dev;
}

/* An image by name: IMAGES_DIR/NAME.squashfs mounted once, read-only, at
 * RUN_DIR/images/NAME. */
static int image_mount(const struct svc *s, const char *name, char *out, size_t size, struct ros_err *e)
{
	if (!name[0] || strchr(name, '/') || name[0] == '.')
		return err_setx(e, EINVAL, "service %s: image: \"%s\" is neither a name nor an absolute path", s->name,
		                name);
	char file[512];
	snprintf(file, sizeof(file), IMAGES_DIR "/%s.squashfs", name);
	snprintf(out, size, RUN_DIR "/images/%s", name);
	if (is_mountpoint(out))
		return 0;
	if (access(file, R_OK) < 0)
		return err_set(e, errno, "service %s: image %s", s->name, file);
	int r = fs_mkdir_p(out, 0755, e);
	if (r < 0)
		return r;
	char dev[64];
	cleanup_close int lfd = loop_attach(file, dev, sizeof(dev), e);
	if (lfd < 0)
		return lfd;
	if (mount(dev, out, "squashfs", MS_RDONLY | MS_NODEV, NULL) < 0)
		return err_set(e, errno, "service %s: mount image %s (%s) on %s", s->name, file, dev, out);
	return 0;
}

/* The lower directories of the service's image, top first, ':'-joined for
 * overlayfs: a directory as is, or the named image and the layers under it
 * (each image names the one below in /.ros-lower, e.g. the shared `base`
 * of rootfs/mkimages.sh). Returns the number of layers. */
static int image_layers(const struct svc *s, char *out, size_t size, struct ros_err *e)
{
	if (s->d.image[0] == '/') {
		snprintf(out, size, "%s", s->d.image);
		return 1;
	}
	char name[SVC_NAME_MAX];
	snprintf(name, sizeof(name), "%s", s->d.image);
	size_t o = 0;
	out[0] = '\0';
	for (int n = 1;; n++) {
		char dir[512];
		int r = image_mount(s, name, dir, sizeof(dir), e);
		if (r < 0)
			return r;
		int w = snprintf(out + o, size - o, "%s%s", o ? ":" : "", dir);
		if (w < 0 || (size_t)w >= size - o)
			return err_setx(e, ENAMETOOLONG, "service %s: image layers: path too long", s->name);
		o += (size_t)w;
		char marker[600], below[SVC_NAME_MAX] = "";
		snprintf(marker, sizeof(marker), "%s/.ros-lower", dir);
		FILE *f = fopen(marker, "re");
		if (!f)
			return n;
		if (!fgets(below, sizeof(below), f))
			below[0] = '\0';
		fclose(f);
		below[strcspn(below, "\r\n")] = '\0';
		if (!below[0])
			return n;
		if (n >= 8)
			return err_setx(e, ELOOP, "service %s: image %s: more than 8 layers", s->name, s->d.image);
		snprintf(name, sizeof(name), "%s", below);
	}
}

/* The container's root: an overlay of the image's layers with a fresh
 * upper under RUN_DIR/ovl/NAME (tmpfs on /run); with read_only, no upper
 * (a single-layer image is then used as it is). */
static int make_rootfs(const struct svc *s, char *root, size_t size, struct ros_err *e)
{
	char lower[2048], base[512], upper[600], work[600];
	int layers = image_layers(s, lower, sizeof(lower), e);
	if (layers < 0)
		return layers;
	if (s->d.read_only && layers == 1) {
		snprintf(root, size, "%s", lower);
		return 0;
	}
	snprintf(base, sizeof(base), RUN_DIR "/ovl/%s", s->name);
	snprintf(root, size, "%s/root", base);
	if (is_mountpoint(root))
		umount2(root, MNT_DETACH);
	fs_remove_tree(base, NULL);
	snprintf(upper, sizeof(upper), "%s/upper", base);
	snprintf(work, sizeof(work), "%s/work", base);
	int r;
	if ((r = fs_mkdir_p(upper, 0755, e)) < 0 || (r = fs_mkdir_p(work, 0755, e)) < 0 ||
	    (r = fs_mkdir_p(root, 0755, e)) < 0)
		return r;
	char opts[4096];
	if (s->d.read_only)
		snprintf(opts, sizeof(opts), "lowerdir=%s", lower);
	else
		snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
	if (mount("overlay", root, "overlay", s->d.read_only ? MS_RDONLY : 0, opts) < 0)
		return err_set(e, errno, "service %s: overlay on %s", s->name, root);
	return 0;
}

/* ---- lifecycle ---- */

static void watch(struct svc *s)
{
	s->pidfd = (int)syscall(SYS_pidfd_open, s->pid, 0);
	if (s->pidfd < 0) {
		say("service %s: pidfd_open %d: %s", s->name, (int)s->pid, strerror(errno));
		return;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)(s - svcs)};
	epoll_ctl(epfd, EPOLL_CTL_ADD, s->pidfd, &ev);
}

static int start(struct svc *s)
{
	struct ros_err e = {0};
	char root[600];
	ctr_delete(CTR_ROOT, s->name, true, NULL);
	if (make_rootfs(s, root, sizeof(root), &e) < 0)
		goto fail;
	/* a volume's missing host directory is created, as Docker does */
	for (size_t i = 0; s->d.volumes[i]; i++) {
		char host[512];
		snprintf(host, sizeof(host), "%s", s->d.volumes[i]);
		char *colon = strchr(host, ':');
		if (colon)
			*colon = '\0';
		if (host[0] == '/' && access(host, F_OK) < 0 && errno == ENOENT && fs_mkdir_p(host, 0755, &e) < 0)
			goto fail;
	}
	json_t *spec = svc_spec(&s->d, root, &e);
	if (!spec)
		goto fail;
	char logp[256];
	snprintf(logp, sizeof(logp), LOG_DIR "/%s.log", s->name);
	int logfd = open(logp, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	char bundle[512];
	snprintf(bundle, sizeof(bundle), RUN_DIR "/ovl/%s", s->name);
	fs_mkdir_p(bundle, 0700, NULL);
	pid_t pid = 0;
	struct ctr_create_opts o = {.state_root = CTR_ROOT,
	                            .id = s->name,
	                            .bundle = bundle,
	                            .spec = spec,
	                            .stdio = {nullfd, logfd, logfd},
	                            .pid_out = &pid};
	int r = ctr_create(&o, &e);
	json_decref(spec);
	if (logfd >= 0)
		close(logfd);
	if (nullfd >= 0)
		close(nullfd);
	if (r < 0)
		goto fail;
	s->pid = pid;
	s->pid_start = ctr_pid_start_time(pid);
	s->order = ++start_seq;
	s->started_ms = now_ms();
	s->started_wall = time(NULL);
	s->err[0] = '\0';
	if (s->d.createonly) {
		s->st = ST_CREATED;
		save_state(s);
		return 0;
	}
	if (ctr_start(CTR_ROOT, s->name, &e) < 0) {
		ctr_delete(CTR_ROOT, s->name, true, NULL);
		goto fail;
	}
	s->st = ST_RUNNING;
	watch(s);
	save_state(s);
	timeline(s->name);
	return 0;
fail:
	snprintf(s->err, sizeof(s->err), "%s", e.msg);
	say("service %s: cannot start: %s", s->name, e.msg);
	s->st = ST_FAILED;
	s->last_exit = -1;
	save_state(s);
	return -1;
}

/* A service's dependencies: its ros.after, and those naming it in ros.before. */
static bool deps_state(const struct svc *s, bool *blocked, char *why, size_t wsize)
{
	bool ready = true;
	*blocked = false;
	for (size_t i = 0; i < n_svcs; i++) {
		const struct svc *o = &svcs[i];
		if (o == s)
			continue;
		bool dep = false;
		for (size_t k = 0; k < s->d.n_after; k++)
			dep |= !strcmp(s->d.after[k], o->name);
		for (size_t k = 0; o->parsed && k < o->d.n_before; k++)
			dep |= !strcmp(o->d.before[k], s->name);
		if (!dep)
			continue;
		if (o->d.detach ? o->st == ST_RUNNING || o->st == ST_CREATED : o->done_ok)
			continue;
		ready = false;
		if (o->st == ST_FAILED || o->st == ST_DISABLED || o->st == ST_USER ||
		    (!o->d.detach && o->st == ST_EXITED && o->restart_at == 0) ||
		    (o->st == ST_EXITED && o->rs.crash_loop)) {
			*blocked = true;
			snprintf(why, wsize, "service %s: depends on %s, which %s", s->name, o->name,
			         o->st == ST_DISABLED ? "is disabled" : "failed");
		}
	}
	return ready;
}

/* Starts every pending service whose dependencies are met. */
static void schedule(void)
{
	bool again = true;
	while (again) {
		again = false;
		for (size_t i = 0; i < n_svcs; i++) {
			struct svc *s = &svcs[i];
			if (s->st != ST_PENDING)
				continue;
			bool blocked;
			char why[512] = "";
			if (!deps_state(s, &blocked, why, sizeof(why))) {
				if (blocked) {
					snprintf(s->err, sizeof(s->err), "%s", why);
					say("%s", why);
					s->st = ST_FAILED;
					save_state(s);
					again = true;
				}
				continue;
			}
			start(s);
			again = true;
		}
	}
}

static void on_exit_(struct svc *s)
{
	siginfo_t si = {0};
	int status = -1;
	if (waitid((idtype_t)P_PIDFD, (id_t)s->pidfd, &si, WEXITED | WNOHANG) == 0 && si.si_pid)
		status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
	epoll_ctl(epfd, EPOLL_CTL_DEL, s->pidfd, NULL);
	close(s->pidfd);
	s->pidfd = -1;
	ctr_delete(CTR_ROOT, s->name, true, NULL);
	int64_t ran = now_ms() - s->started_ms;
	s->last_exit = status;
	s->pid = 0;
	s->kill_at = 0;
	bool reload = !s->d.detach && status == 0;
	if (reload)
		s->done_ok = true;
	say("service %s: exited with %d after %lld ms", s->name, status, (long long)ran);
	if (s->restart_after_stop) {
		s->restart_after_stop = false;
		s->rs = (struct restart_state){0};
		start(s);
		return;
	}
	s->st = s->rs.stopped_by_user ? ST_STOPPED : ST_EXITED;
	int64_t delay = restart_decide_lim(&s->d.restart, &s->rs, status != 0, ran, &limits);
	if (delay >= 0)
		s->restart_at = now_ms() + (delay ? delay : 1);
	else if (s->rs.crash_loop)
		say("service %s: crash loop: %u quick exits, left stopped", s->name, s->rs.quick_fails);
	save_state(s);
	if (reload) {
		/* a one-shot such as cloud-init may have changed the config:
		 * what starts after it sees the new definitions (s may move) */
		say("service %s: done; re-reading the service definitions", s->name);
		load_services();
	}
	schedule();
}

static void stop(struct svc *s, bool by_user)
{
	s->rs.stopped_by_user = by_user;
	s->restart_at = 0;
	if (s->st == ST_RUNNING || s->st == ST_CREATED) {
		if (s->st == ST_CREATED) {
			ctr_delete(CTR_ROOT, s->name, true, NULL);
			s->st = ST_STOPPED;
			save_state(s);
			return;
		}
		ctr_kill(CTR_ROOT, s->name, SIGTERM, false, NULL);
		s->kill_at = now_ms() + (int64_t)s->d.stop_timeout_s * 1000;
	} else if (s->st == ST_EXITED || s->st == ST_PENDING) {
		s->st = ST_STOPPED;
		save_state(s);
	}
}

/* Re-adopts services a previous sysctr left running (docs/sysctr.md). */
static void adopt(void)
{
	for (size_t i = 0; i < n_svcs; i++) {
		struct svc *s = &svcs[i];
		char path[256];
		snprintf(path, sizeof(path), STATE_DIR "/%s.json", s->name);
		json_error_t je;
		json_t *j = json_load_file(path, 0, &je);
		if (!j)
			continue;
		const char *st = json_string_value(json_object_get(j, "state"));
		pid_t pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
		unsigned long long ps = (unsigned long long)json_integer_value(json_object_get(j, "pid_start"));
		s->rs.restarts = (unsigned)json_integer_value(json_object_get(j, "restarts"));
		s->rs.stopped_by_user = json_is_true(json_object_get(j, "stopped_by_user"));
		s->rs.crash_loop = json_is_true(json_object_get(j, "crash_loop"));
		s->last_exit = (int)json_integer_value(json_object_get(j, "last_exit"));
		s->done_ok = json_is_true(json_object_get(j, "done_ok"));
		s->order = (int)json_integer_value(json_object_get(j, "order"));
		s->started_wall = (time_t)json_integer_value(json_object_get(j, "started_wall"));
		if (s->order > start_seq)
			start_seq = s->order;
		if (st && !strcmp(st, "running") && pid > 0 && ps && ctr_pid_start_time(pid) == ps) {
			s->pid = pid;
			s->pid_start = ps;
			s->st = ST_RUNNING;
			s->started_ms = now_ms() - (int64_t)(time(NULL) - s->started_wall) * 1000;
			watch(s);
			say("service %s: re-adopted pid %d", s->name, (int)pid);
		} else if (st && (!strcmp(st, "exited") || !strcmp(st, "stopped") || !strcmp(st, "running"))) {
			/* ran before; not started again by a new sysctr */
			ctr_delete(CTR_ROOT, s->name, true, NULL);
			s->st = !strcmp(st, "stopped") ? ST_STOPPED : ST_EXITED;
		}
		json_decref(j);
	}
}

/* Stops everything in reverse start order, each within its timeout. */
static void stop_all(void)
{
	for (;;) {
		struct svc *s = NULL;
		for (size_t i = 0; i < n_svcs; i++)
			if ((svcs[i].st == ST_RUNNING || svcs[i].st == ST_CREATED) && (!s || svcs[i].order > s->order))
				s = &svcs[i];
		if (!s)
			return;
		stop(s, true);
		if (s->st != ST_RUNNING)
			continue;
		int64_t deadline = s->kill_at;
		bool killed = false;
		while (s->pidfd >= 0) {
			int64_t left = deadline - now_ms();
			if (left <= 0) {
				if (killed)
					break;
				say("service %s: did not stop in %d s, killing it", s->name, s->d.stop_timeout_s);
				ctr_kill(CTR_ROOT, s->name, SIGKILL, true, NULL);
				killed = true;
				deadline = now_ms() + 5000;
				continue;
			}
			struct epoll_event ev;
			int tmp = epoll_create1(EPOLL_CLOEXEC);
			struct epoll_event want = {.events = EPOLLIN};
			epoll_ctl(tmp, EPOLL_CTL_ADD, s->pidfd, &want);
			int n = epoll_wait(tmp, &ev, 1, (int)left);
			close(tmp);
			if (n > 0)
				break;
		}
		if (s->pidfd >= 0) {
			s->rs.stopped_by_user = true;
			s->restart_after_stop = false;
			on_exit_(s);
		} else {
			s->st = ST_STOPPED;
		}
	}
}

/* ---- control socket ---- */

static json_t *ps_json(void)
{
	json_t *a = json_array();
	time_t now = time(NULL);
	for (size_t i = 0; i < n_svcs; i++) {
		struct svc *s = &svcs[i];
		json_t *o = json_pack("{s:s, s:s, s:b, s:i, s:I, s:i, s:i, s:s, s:b}", "name", s->name, "state",
		                      s->rs.crash_loop && s->st == ST_EXITED ? "crash-loop" : st_names[s->st],
		                      "enabled", s->enabled, "pid", (int)s->pid, "uptime",
		                      (json_int_t)(s->st == ST_RUNNING ? now - s->started_wall : 0), "restarts",
		                      (int)s->rs.restarts, "last_exit", s->last_exit, "image",
		                      s->d.image ? s->d.image : "", "oneshot", s->parsed && !s->d.detach);
		if (s->err[0])
			json_object_set_new(o, "error", json_string(s->err));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *handle(json_t *req)
{
	const char *op = json_string_value(json_object_get(req, "op"));
	const char *name = json_string_value(json_object_get(req, "name"));
	if (!op)
		return json_pack("{s:b, s:s}", "ok", false, "error", "request: \"op\" missing");
	if (!strcmp(op, "ps"))
		return json_pack("{s:b, s:o}", "ok", true, "services", ps_json());
	if (!strcmp(op, "up")) {
		load_services();
		json_t *names = json_object_get(req, "names");
		for (size_t i = 0; i < n_svcs; i++) {
			struct svc *s = &svcs[i];
			bool named = false;
			size_t k;
			json_t *v;
			json_array_foreach(names, k, v) named |= !strcmp(json_string_value(v) ?: "", s->name);
			if (json_array_size(names) && !named)
				continue;
			if (named && !s->enabled)
				s->enabled = true;
			if (s->enabled && s->parsed && !s->d.user_scope &&
			    (s->st == ST_STOPPED || s->st == ST_EXITED || s->st == ST_DISABLED ||
			     (s->st == ST_FAILED && !s->err[0]))) {
				if (!s->d.detach && s->done_ok && !named)
					continue;
				s->rs = (struct restart_state){0};
				s->st = ST_PENDING;
			}
		}
		for (size_t k = 0; k < json_array_size(names); k++) {
			const char *nm = json_string_value(json_array_get(names, k));
			if (!nm || !find(nm))
				return json_pack("{s:b, s:s+}", "ok", false, "error", "no service named ",
				                 nm ? nm : "?");
		}
		schedule();
		return json_pack("{s:b, s:o}", "ok", true, "services", ps_json());
	}
	if (!strcmp(op, "down")) {
		stop_all();
		return json_pack("{s:b}", "ok", true);
	}
	struct svc *s = name ? find(name) : NULL;
	if (!s)
		return json_pack("{s:b, s:s+}", "ok", false, "error", "no service named ", name ? name : "(none)");
	if (!strcmp(op, "start")) {
		if (s->st == ST_RUNNING)
			return json_pack("{s:b}", "ok", true);
		if (!s->parsed)
			return json_pack("{s:b, s:s}", "ok", false, "error", s->err);
		s->rs = (struct restart_state){0};
		s->restart_at = 0;
		if (start(s) < 0)
			return json_pack("{s:b, s:s}", "ok", false, "error", s->err);
		return json_pack("{s:b}", "ok", true);
	}
	if (!strcmp(op, "stop")) {
		stop(s, true);
		return json_pack("{s:b}", "ok", true);
	}
	if (!strcmp(op, "restart")) {
		if (s->st == ST_RUNNING) {
			stop(s, true);
			s->restart_after_stop = true;
		} else {
			s->rs = (struct restart_state){0};
			if (start(s) < 0)
				return json_pack("{s:b, s:s}", "ok", false, "error", s->err);
		}
		return json_pack("{s:b}", "ok", true);
	}
	if (!strcmp(op, "rm")) {
		if (s->st == ST_RUNNING)
			return json_pack("{s:b, s:s+}", "ok", false, "error", s->name, " is running: stop it first");
		ctr_delete(CTR_ROOT, s->name, true, NULL);
		char p[256];
		snprintf(p, sizeof(p), RUN_DIR "/ovl/%s/root", s->name);
		umount2(p, MNT_DETACH);
		snprintf(p, sizeof(p), RUN_DIR "/ovl/%s", s->name);
		fs_remove_tree(p, NULL);
		s->st = ST_STOPPED;
		s->rs.stopped_by_user = true;
		save_state(s);
		return json_pack("{s:b}", "ok", true);
	}
	return json_pack("{s:b, s:s+}", "ok", false, "error", "unknown op ", op);
}

static void on_client(void)
{
	int c = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return;
	struct timeval tv = {.tv_sec = 2};
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char buf[65536];
	ssize_t n = recv(c, buf, sizeof(buf) - 1, 0);
	json_t *reply;
	if (n <= 0) {
		close(c);
		return;
	}
	buf[n] = '\0';
	json_error_t je;
	json_t *req = json_loads(buf, 0, &je);
	if (!req || !json_is_object(req))
		reply = json_pack("{s:b, s:s+}", "ok", false, "error", "request: not a JSON object: ", je.text);
	else
		reply = handle(req);
	json_decref(req);
	cleanup_free char *txt = json_dumps(reply, JSON_COMPACT);
	json_decref(reply);
	if (txt)
		send(c, txt, strlen(txt), MSG_NOSIGNAL);
	close(c);
}

static int listen_sock(void)
{
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", SOCK_PATH);
	unlink(SOCK_PATH);
	mode_t old = umask(0077);
	int r = bind(s, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (r < 0 || chmod(SOCK_PATH, 0600) < 0 || listen(s, 16) < 0) {
		say("control socket %s: %s", SOCK_PATH, strerror(errno));
		close(s);
		return -1;
	}
	return s;
}

int main(int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: sysctr\n\nThe system container supervisor, started by init; see "
		                "docs/sysctr.md.\nManage it with `ros service`.\n");
		return 2;
	}
	struct ros_err e = {0};
	const char *dirs[] = {CTR_ROOT, STATE_DIR, RUN_DIR "/images", RUN_DIR "/ovl", LOG_DIR, "/run/ros"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(*dirs); i++)
		if (fs_mkdir_p(dirs[i], 0700, &e) < 0)
			say("%s", e.msg);
	chmod(LOG_DIR, 0755);
	chmod("/run/ros", 0755);
	sigset_t ss;
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	sigfd = signalfd(-1, &ss, SFD_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_SIG};
	epoll_ctl(epfd, EPOLL_CTL_ADD, sigfd, &ev);
	lsock = listen_sock();
	if (lsock >= 0) {
		ev.data.u64 = TAG_SOCK;
		epoll_ctl(epfd, EPOLL_CTL_ADD, lsock, &ev);
	}
	int64_t t0 = now_ms();
	/* jansson seeds its hash tables from /dev/urandom on first use; early in
	 * a boot that read makes the kernel run its jitter-entropy dance before
	 * the CRNG is ready (a second under TCG). sysctr's JSON (its own state
	 * files, root-only socket requests) needs no unpredictable seed. */
	json_object_seed((size_t)t0 ^ ((size_t)getpid() << 20));
	load_services();
	adopt();
	schedule();
	size_t running = 0;
	for (size_t i = 0; i < n_svcs; i++)
		running += svcs[i].st == ST_RUNNING;
	say("%zu services, %zu running, %lld ms", n_svcs, running, (long long)(now_ms() - t0));
	cleanup_free char *cmdline = NULL;
	const char *trial = NULL;
	if (fs_read_all("/proc/cmdline", 1 << 16, &cmdline, NULL, NULL) == 0)
		trial = strstr(cmdline, " ros.trial=");
	if (trial) {
		long secs = strtol(trial + 11, NULL, 10);
		trial_deadline = t0 + (secs > 0 ? secs : 300) * 1000;
	}
	boot_ok_check();
	int64_t next_rotate = now_ms() + 1000;
	for (;;) {
		int64_t now = now_ms(), deadline = next_rotate;
		for (size_t i = 0; i < n_svcs; i++) {
			if (svcs[i].restart_at && svcs[i].restart_at < deadline)
				deadline = svcs[i].restart_at;
			if (svcs[i].kill_at && svcs[i].kill_at < deadline)
				deadline = svcs[i].kill_at;
		}
		struct epoll_event evs[16];
		int n = epoll_wait(epfd, evs, 16, deadline > now ? (int)(deadline - now) : 0);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u64 == TAG_SIG) {
				struct signalfd_siginfo si;
				if (read(sigfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGHUP) {
					say("signal %d: stopping every service", (int)si.ssi_signo);
					stop_all();
					unlink(SOCK_PATH);
					say("stopped");
					return 0;
				}
				if (si.ssi_signo == SIGHUP) {
					load_services();
					schedule();
				}
			} else if (evs[i].data.u64 == TAG_SOCK) {
				on_client();
			} else if (evs[i].data.u64 < n_svcs && svcs[evs[i].data.u64].pidfd >= 0) {
				on_exit_(&svcs[evs[i].data.u64]);
			}
		}
		boot_ok_check();
		now = now_ms();
		if (!boot_ok_done && now - t0 >= RCU_EXPEDITED_MAX_MS)
			boot_expedite_end();
		for (size_t i = 0; i < n_svcs; i++) {
			struct svc *s = &svcs[i];
			if (s->restart_at && s->restart_at <= now && s->st == ST_EXITED) {
				s->restart_at = 0;
				say("service %s: restart %u", s->name, s->rs.restarts);
				start(s);
			} else if (s->restart_at && s->st != ST_EXITED) {
				s->restart_at = 0;
			}
			if (s->kill_at && s->kill_at <= now && s->st == ST_RUNNING) {
				say("service %s: did not stop in %d s, killing it", s->name, s->d.stop_timeout_s);
				ctr_kill(CTR_ROOT, s->name, SIGKILL, true, NULL);
				s->kill_at = 0;
			}
		}
		if (now >= next_rotate) {
			next_rotate = now + 1000;
			for (size_t i = 0; i < n_svcs; i++) {
				char p[256], err[256];
				snprintf(p, sizeof(p), LOG_DIR "/%s.log", svcs[i].name);
				if (log_rotate(p, (off_t)log_max, (unsigned)log_keep, err, sizeof(err)) < 0)
					say("%s", err);
			}
		}
	}
}
