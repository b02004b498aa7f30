/* SPDX-License-Identifier: MIT */
/*
 * The API filesystems every process expects, cgroups, the boot modules,
 * the console, and unmounting it all again at shutdown.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "core/log.h"
#include "init.h"

struct api_mount {
	const char *what, *where, *type, *options;
	unsigned long flags;
};

/* /tmp is mounted in the final root (root.c); these move there with it. */
static const struct api_mount api_mounts[] = {
        {"proc", "/proc", "proc", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC},
        {"sysfs", "/sys", "sysfs", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC},
        {"devtmpfs", "/dev", "devtmpfs", "mode=0755", MS_NOSUID},
        {"devpts", "/dev/pts", "devpts", "newinstance,ptmxmode=0666,mode=0620,gid=5", MS_NOSUID | MS_NOEXEC},
        {"shm", "/dev/shm", "tmpfs", "mode=1777", MS_NOSUID | MS_NODEV},
        {"run", "/run", "tmpfs", "mode=0755", MS_NOSUID | MS_NODEV},
};

static int mount_one(const struct api_mount *m, struct ros_err *e)
{
	/* devtmpfs is one kernel-wide instance: only create what is missing. */
	if (mkdir(m->where, 0755) < 0 && errno != EEXIST)
		return err_set(e, errno, "mkdir %s", m->where);
	/* EBUSY: this very filesystem is mounted there already (sysfs and
	 * devtmpfs when init runs under a test harness). */
	if (mount(m->what, m->where, m->type, m->flags, m->options) < 0 && errno != EBUSY)
		return err_set(e, errno, "mount %s on %s", m->type, m->where);
	return 0;
}

int mounts_early(struct ros_err *e)
{
	for (size_t i = 0; i < ARRAY_SIZE(api_mounts); i++) {
		int r = mount_one(&api_mounts[i], e);
		if (r < 0)
			return r;
	}
	static const char *const links[][2] = {
	        {"/proc/self/fd", "/dev/fd"},
	        {"/proc/self/fd/0", "/dev/stdin"},
	        {"/proc/self/fd/1", "/dev/stdout"},
	        {"/proc/self/fd/2", "/dev/stderr"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(links); i++)
		if (symlink(links[i][0], links[i][1]) < 0 && errno != EEXIST)
			log_warn("symlink %s: %s", links[i][1], strerror(errno));
	return 0;
}

/* cgroup v1: a tmpfs with one hierarchy per enabled controller, plus the
 * (controller-less) cgroup2 tree at unified/, the usual hybrid layout. */
static int mount_cgroups_v1(struct ros_err *e)
{
	if (mount("cgroup", "/sys/fs/cgroup", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755") < 0)
		return err_set(e, errno, "mount tmpfs on /sys/fs/cgroup");
	cleanup_free char *cgroups = NULL;
	int r = fs_read_all("/proc/cgroups", 64 * 1024, &cgroups, NULL, e);
	if (r < 0)
		return r;
	/* "#subsys_name hierarchy num_cgroups enabled" */
	for (char *save = NULL, *line = strtok_r(cgroups, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *fields = NULL, *name = strtok_r(line, " \t", &fields), *field = NULL, dir[128];
		for (int i = 0; i < 3; i++)
			field = strtok_r(NULL, " \t", &fields);
		if (!name || name[0] == '#' || !field || strcmp(field, "1") || strlen(name) > 64)
			continue;
		snprintf(dir, sizeof(dir), "/sys/fs/cgroup/%s", name);
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return err_set(e, errno, "mkdir %s", dir);
		if (mount("cgroup", dir, "cgroup", MS_NOSUID | MS_NODEV | MS_NOEXEC, name) < 0)
			log_warn("mount cgroup v1 %s on %s: %s", name, dir, strerror(errno));
	}
	if (mkdir("/sys/fs/cgroup/unified", 0755) == 0 &&
	    mount("cgroup2", "/sys/fs/cgroup/unified", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		log_warn("mount cgroup2 on /sys/fs/cgroup/unified: %s", strerror(errno));
	return 0;
}

int mounts_cgroups(bool v1, struct ros_err *e)
{
	if (v1)
		return mount_cgroups_v1(e);
	const unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	/* favordynmods (6.0+): moving a process into a cgroup no longer waits
	 * for an RCU grace period (the percpu rwsem that forks take), at the
	 * price of a plain rwsem in fork and exit; every container start
	 * moves one (13-29 ms each under emulation) */
	if (mount("cgroup2", "/sys/fs/cgroup", "cgroup2", flags, "nsdelegate,favordynmods") == 0 ||
	    mount("cgroup2", "/sys/fs/cgroup", "cgroup2", flags, "nsdelegate") == 0 ||
	    mount("cgroup2", "/sys/fs/cgroup", "cgroup2", flags, NULL) == 0 || errno == EBUSY)
		return 0;
	if (errno != ENODEV)
		return err_set(e, errno, "mount cgroup2 on /sys/fs/cgroup");
	log_warn("the kernel has no cgroup2; mounting cgroup v1 hierarchies");
	return mount_cgroups_v1(e);
}

/* Calls fn for each module of the list ("PATH [PARAMETER...]", paths
 * relative to /lib/modules/RELEASE), opened read-only; returns the
 * failures to open. */
static int modules_each(const char *list,
                        void (*fn)(const char *list, unsigned lineno, const char *path, const char *params, int fd,
                                   void *data),
                        void *data)
{
	cleanup_free char *text = NULL;
	struct ros_err e = {0};
	if (fs_read_all(list, 1 << 20, &text, NULL, &e) < 0) {
		if (e.code != ENOENT)
			log_warn("%s", err_msg(&e));
		return 0;
	}
	struct utsname u;
	uname(&u);
	int failures = 0;
	unsigned lineno = 0;
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		line[strcspn(line, "\r")] = '\0';
		char *name = line + strspn(line, " \t");
		if (!*name || *name == '#')
			continue;
		char *params = name + strcspn(name, " \t");
		if (*params)
			*params++ = '\0';
		params += strspn(params, " \t");
		char path[1024];
		if (*name == '/')
			snprintf(path, sizeof(path), "%s", name);
		else
			snprintf(path, sizeof(path), "/lib/modules/%s/%s", u.release, name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			log_warn("%s:%u: open module %s: %s", list, lineno, path, strerror(errno));
			failures++;
			continue;
		}
		fn(list, lineno, path, params, fd, data);
	}
	return failures;
}

/* params: as on the list's line, e.g. "async_probe" (the kernel then
 * neither waits for the module's device probes nor for anyone else's
 * before finit_module returns) */
static int module_insert(const char *list, unsigned lineno, const char *path, int fd, const char *params)
{
	int r = (int)syscall(SYS_finit_module, fd, params, 0);
	int saved = errno;
	close(fd);
	if (r == 0 || saved == EEXIST || saved == ENODEV) /* loaded / no such hardware */
		return 0;
	log_warn("%s:%u: load module %s: %s", list, lineno, path, strerror(saved));
	return -1;
}

struct module_file {
	unsigned lineno;
	char path[256], params[256];
	int fd;
};
struct module_list {
	struct module_file m[256];
	size_t n;
};

static void collect(const char *list, unsigned lineno, const char *path, const char *params, int fd, void *data)
{
	struct module_list *l = data;
	if (l->n == sizeof(l->m) / sizeof(l->m[0])) {
		log_warn("%s:%u: more than %zu modules; %s skipped", list, lineno, l->n, path);
		close(fd);
		return;
	}
	l->m[l->n].lineno = lineno;
	snprintf(l->m[l->n].path, sizeof(l->m[l->n].path), "%s", path);
	snprintf(l->m[l->n].params, sizeof(l->m[l->n].params), "%s", params);
	l->m[l->n++].fd = fd;
}

/* Every file of the soon and late lists is opened now, while the
 * initramfs is still there; a child loads the soon ones at once, then the
 * late ones at idle priority (SCHED_IDLE: only when nothing of the boot
 * wants the CPU), while init goes on (root, switch_root, sysctr), and
 * exits; init reaps it like any orphan. */
static void background_start(const char *soon, const char *late)
{
	static struct module_list s, l;
	s.n = l.n = 0;
	modules_each(soon, collect, &s);
	modules_each(late, collect, &l);
	if (!s.n && !l.n)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		int failures = 0;
		for (size_t i = 0; i < s.n; i++)
			failures += module_insert(soon, s.m[i].lineno, s.m[i].path, s.m[i].fd, s.m[i].params) < 0;
		struct sched_param sp = {0};
		sched_setscheduler(0, SCHED_IDLE, &sp);
		for (size_t i = 0; i < l.n; i++)
			failures += module_insert(late, l.m[i].lineno, l.m[i].path, l.m[i].fd, l.m[i].params) < 0;
		_exit(failures ? 1 : 0);
	}
	if (pid < 0)
		log_warn("fork for the soon and late modules: %s; loading them now", strerror(errno));
	for (size_t i = 0; i < s.n; i++) {
		if (pid < 0)
			module_insert(soon, s.m[i].lineno, s.m[i].path, s.m[i].fd, s.m[i].params);
		else
			close(s.m[i].fd);
	}
	for (size_t i = 0; i < l.n; i++) {
		if (pid < 0)
			module_insert(late, l.m[i].lineno, l.m[i].path, l.m[i].fd, l.m[i].params);
		else
			close(l.m[i].fd);
	}
}

int modules_load(const char *boot, const char *soon, const char *late)
{
	static struct module_list l;
	l.n = 0;
	int failures = modules_each(boot, collect, &l);
	/* All but the last with async_probe: a load then returns as soon as
	 * the module is live, without waiting for device probes (libata's
	 * probe of a CD takes a third of a second, half of it a sleep after
	 * the port reset), so the probes of all the drivers overlap with each
	 * other and with the loading. */
	for (size_t i = 0; i + 1 < l.n; i++) {
		char params[sizeof(l.m[i].params) + 16];
		snprintf(params, sizeof(params), "async_probe %s", l.m[i].params);
		failures += module_insert(boot, l.m[i].lineno, l.m[i].path, l.m[i].fd, params) < 0;
	}
	/* the rest loads meanwhile, first in the time the probes sleep */
	background_start(soon, late);
	/* The last one, loaded plainly, is the barrier: the kernel finishes
	 * every probe started so far before its finit_module returns, so the
	 * boot medium and the state disk exist afterwards. */
	if (l.n)
		failures += module_insert(boot, l.m[l.n - 1].lineno, l.m[l.n - 1].path, l.m[l.n - 1].fd,
		                          l.m[l.n - 1].params) < 0;
	return failures;
}

void console_ensure(void)
{
	/* The kernel opens /dev/console for init only if it exists in the
	 * initramfs; otherwise 0-2 are closed until devtmpfs is up. */
	if (fcntl(0, F_GETFD) >= 0 && fcntl(1, F_GETFD) >= 0 && fcntl(2, F_GETFD) >= 0)
		return;
	int fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		fd = open("/dev/null", O_RDWR);
	if (fd < 0)
		return;
	for (int i = 0; i < 3; i++)
		if (fcntl(i, F_GETFD) < 0)
			dup2(fd, i);
	if (fd > 2)
		close(fd);
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] && s[3]) {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* Filesystems that keep data: remounted read-only when busy at shutdown.
 * Never the others: devtmpfs and cgroupfs superblocks are shared with
 * every mount namespace. */
static bool is_disk_fs(const char *type)
{
	static const char *const disk[] = {"ext2", "ext3", "ext4", "xfs", "btrfs", "vfat", "f2fs"};
	for (size_t i = 0; i < ARRAY_SIZE(disk); i++)
		if (!strcmp(type, disk[i]))
			return true;
	return false;
}

void mounts_teardown(void)
{
	cleanup_free char *info = NULL;
	if (fs_read_all("/proc/self/mountinfo", 1 << 20, &info, NULL, NULL) < 0) {
		log_warn("read /proc/self/mountinfo: %s", strerror(errno));
		return;
	}
	/* Collect the mount points first: unmounting /proc ends the reading. */
	struct {
		char *point;
		bool disk;
	} m[512];
	size_t n = 0;
	for (char *save = NULL, *line = strtok_r(info, "\n", &save); line && n < ARRAY_SIZE(m);
	     line = strtok_r(NULL, "\n", &save)) {
		/* id parent major:minor root mountpoint options... - type source */
		char *f = line, *sep = strstr(line, " - ");
		for (int i = 0; i < 4 && f; i++)
			f = strchr(f, ' ') ? strchr(f, ' ') + 1 : NULL;
		if (!f || !sep)
			continue;
		char *type = sep + 3;
		type[strcspn(type, " ")] = '\0';
		f[strcspn(f, " ")] = '\0';
		unescape(f);
		if (strcmp(f, "/"))
			m[n++] = (typeof(m[0])){f, is_disk_fs(type)};
	}
	while (n-- > 0) {
		if (umount2(m[n].point, 0) == 0 || errno == EINVAL || errno == ENOENT)
			continue;
		if (m[n].disk) /* busy: leave the filesystem clean before detaching */
			mount(NULL, m[n].point, NULL, MS_REMOUNT | MS_RDONLY, NULL);
		if (umount2(m[n].point, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
			log_warn("unmount %s: %s", m[n].point, strerror(errno));
	}
}
