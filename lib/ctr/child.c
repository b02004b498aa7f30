/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "child.h"

#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <sched.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cgroup.h"
#include "core/cleanup.h"
#include "core/fs.h"
#include "hooks.h"

int sync_send(int fd, int type, const char *text, int pass_fd)
{
	struct sync_msg m = {.type = type};
	if (text)
		snprintf(m.text, sizeof(m.text), "%s", text);
	struct iovec iov = {.iov_base = &m, .iov_len = sizeof(m.type) + strlen(m.text) + 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (pass_fd >= 0) {
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	ssize_t n;
	while ((n = sendmsg(fd, &mh, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	return n < 0 ? -errno : 0;
}

int sync_recv(int fd, struct sync_msg *m, int *passed_fd)
{
	memset(m, 0, sizeof(*m));
	struct iovec iov = {.iov_base = m, .iov_len = sizeof(*m) - 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	if (passed_fd)
		*passed_fd = -1;
	ssize_t n;
	while ((n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EPIPE;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int f;
			memcpy(&f, CMSG_DATA(c), sizeof(int));
			if (passed_fd)
				*passed_fd = f;
			else
				close(f);
		}
	return 0;
}

/* Reports a failure to the runtime and exits; errno-style message. */
__attribute__((noreturn, format(printf, 2, 3))) static void die(struct child_args *a, const char *fmt, ...)
{
	int saved = errno;
	char msg[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (saved && n > 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(saved));
	sync_send(a->sync_fd, SYNC_ERROR, msg, -1);
	_exit(1);
}

__attribute__((noreturn)) static void die_err(struct child_args *a, const struct ros_err *e)
{
	sync_send(a->sync_fd, SYNC_ERROR, err_msg(e), -1);
	_exit(1);
}

/* ---- paths inside the root ---- */

static int open_in_root(int rootfd, const char *path, int flags)
{
	struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC),
	                       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	return fd < 0 ? -errno : (int)fd;
}

/* Creates path (a directory, or a file when file is set) inside the root
 * without following symlinks out of it; returns an O_PATH fd to it.  The
 * path itself is looked up first, then its parent: most targets or their
 * parents exist (/proc, /sys in the image, /dev/pts in a fresh /dev), and
 * each lookup is a path walk in the kernel. */
static int mkpath_in_root(int rootfd, const char *path, bool file)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	size_t len = strlen(buf);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';
	int fd = open_in_root(rootfd, buf, O_PATH);
	if (fd != -ENOENT)
		return fd;
	char *slash = strrchr(buf, '/');
	char parent[PATH_MAX];
	snprintf(parent, sizeof(parent), "%.*s", slash ? (int)(slash - buf) : 0, buf);
	const char *leaf = slash ? slash + 1 : buf;
	cleanup_close int pd = open_in_root(rootfd, *parent ? parent : "/", O_PATH | O_DIRECTORY);
	if (pd == -ENOENT) {
		/* make the missing directories above, one by one */
		for (char *p = parent + 1;; p++) {
			if (*p && *p != '/')
				continue;
			char c = *p;
			*p = '\0';
			cleanup_close int d = open_in_root(rootfd, parent, O_PATH | O_DIRECTORY);
			if (d == -ENOENT) {
				char *s = strrchr(parent, '/');
				char up[PATH_MAX];
				snprintf(up, sizeof(up), "%.*s", s ? (int)(s - parent) : 0, parent);
				cleanup_close int ud = open_in_root(rootfd, *up ? up : "/", O_PATH | O_DIRECTORY);
				if (ud < 0)
					return ud;
				if (mkdirat(ud, s ? s + 1 : parent, 0755) < 0 && errno != EEXIST)
					return -errno;
			} else if (d < 0) {
				return d;
			}
			*p = c;
			if (!c)
				break;
		}
		pd = open_in_root(rootfd, parent, O_PATH | O_DIRECTORY);
	}
	if (pd < 0)
		return pd;
	if (file) {
		int f = openat(pd, leaf, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (f < 0 && errno != EEXIST)
			return -errno;
		if (f >= 0)
			close(f);
	} else if (mkdirat(pd, leaf, 0755) < 0 && errno != EEXIST) {
		return -errno;
	}
	return open_in_root(rootfd, buf, O_PATH);
}

static const char *fdpath(int fd, char *buf, size_t size)
{
	snprintf(buf, size, "/proc/self/fd/%d", fd);
	return buf;
}

/* ---- mounts ---- */

static bool source_is_dir(const char *src)
{
	struct stat st;
	return stat(src, &st) < 0 || S_ISDIR(st.st_mode);
}

static void mount_cgroup_v1(struct child_args *a, int rootfd, const struct spec_mount *m, unsigned long flags)
{
	char fp[64];
	cleanup_close int t = mkpath_in_root(rootfd, m->destination, false);
	if (t < 0) {
		errno = -t;
		die(a, "mount cgroup on %s", m->destination);
	}
	if (mount("tmpfs", fdpath(t, fp, sizeof(fp)), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0)
		die(a, "mount tmpfs for cgroups on %s", m->destination);
	static const char *const ctrls[] = {"memory",  "pids",    "cpu",     "cpuacct", "cpuset",   "blkio",
	                                    "devices", "freezer", "hugetlb", "net_cls", "net_prio", "perf_event"};
	for (size_t i = 0; i < sizeof(ctrls) / sizeof(ctrls[0]); i++) {
		char src[PATH_MAX], dst[PATH_MAX];
		snprintf(src, sizeof(src), CGROUP_ROOT "/%s%s", ctrls[i], a->cgroup_path ? a->cgroup_path : "");
		if (access(src, F_OK) < 0)
			continue;
		snprintf(dst, sizeof(dst), "%s/%s", m->destination, ctrls[i]);
		cleanup_close int d = mkpath_in_root(rootfd, dst, false);
		if (d < 0)
			continue;
		if (mount(src, fdpath(d, fp, sizeof(fp)), NULL, MS_BIND, NULL) < 0)
			die(a, "bind cgroup %s on %s", src, dst);
		mount(NULL, fdpath(d, fp, sizeof(fp)), NULL,
		      MS_BIND | MS_REMOUNT | (flags & MS_RDONLY) | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	}
	if (flags & MS_RDONLY)
		mount(NULL, fdpath(t, fp, sizeof(fp)), NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		      "mode=755");
}

static void reopen_target(struct child_args *a, int rootfd, const struct spec_mount *m, int *t)
{
	close(*t);
	*t = mkpath_in_root(rootfd, m->destination, m->bind && !source_is_dir(m->source));
	if (*t < 0) {
		errno = -*t;
		die(a, "mount %s: reopen target %s inside the rootfs", m->source, m->destination);
	}
}

/* The options of the cgroup2 hierarchy as mounted (nsdelegate,
 * favordynmods, memory_recursiveprot), for a fresh cgroup2 mount: every
 * mount of it from the initial cgroup namespace applies its options to
 * the one hierarchy, so a mount without them would turn them off for the
 * whole system (in a cgroup namespace of its own they change nothing). */
static const char *cgroup2_options(char *buf, size_t size)
{
	static const char *const kept[] = {"nsdelegate", "favordynmods", "memory_recursiveprot"};
	cleanup_free char *info = NULL;
	buf[0] = '\0';
	if (fs_read_all("/proc/self/mountinfo", 1 << 20, &info, NULL, NULL) < 0)
		return NULL;
	for (char *save = NULL, *line = strtok_r(info, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sep = strstr(line, " - cgroup2 ");
		if (!sep)
			continue;
		char *opts = strchr(sep + 11, ' '); /* after the source */
		if (!opts)
			return NULL;
		size_t o = 0;
		for (char *save2 = NULL, *opt = strtok_r(opts + 1, ",", &save2); opt; opt = strtok_r(NULL, ",", &save2))
			for (size_t i = 0; i < ARRAY_SIZE(kept); i++)
				if (!strcmp(opt, kept[i]) && o < size)
					o += (size_t)snprintf(buf + o, size - o, "%s%s", o ? "," : "", opt);
		return o && o < size ? buf : NULL;
	}
	return NULL;
}

static void do_mount(struct child_args *a, int rootfd, const struct spec_mount *m)
{
	char fp[64];
	bool is_cgroup = !strcmp(m->type, "cgroup") || !strcmp(m->type, "cgroup2");
	if (is_cgroup && cgroup_detect(CGROUP_ROOT) == CGROUP_V1) {
		mount_cgroup_v1(a, rootfd, m, m->flags);
		return;
	}
	cleanup_close int t = mkpath_in_root(rootfd, m->destination, m->bind && !source_is_dir(m->source));
	if (t < 0) {
		errno = -t;
		die(a, "mount %s: create target %s inside the rootfs", m->source, m->destination);
	}
	const char *target = fdpath(t, fp, sizeof(fp));
	if (m->bind) {
		if (mount(m->source, target, NULL, MS_BIND | (m->recursive ? MS_REC : 0), NULL) < 0)
			die(a, "bind mount %s on %s", m->source, m->destination);
		/* the fd names the directory under the new mount: reopen to reach the mount */
		reopen_target(a, rootfd, m, &t);
		target = fdpath(t, fp, sizeof(fp));
		unsigned long extra = m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
		if (extra) {
			/* keep flags the kernel locked on the source mount */
			struct statvfs sv;
			unsigned long locked = 0;
			if (statvfs(target, &sv) == 0)
				locked = sv.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_RDONLY);
			unsigned long want = extra | (locked & ST_NOSUID ? MS_NOSUID : 0) |
			                     (locked & ST_NODEV ? MS_NODEV : 0) | (locked & ST_NOEXEC ? MS_NOEXEC : 0);
			if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | want, NULL) < 0)
				die(a, "remount %s with its options", m->destination);
		}
	} else {
		const char *type = is_cgroup ? "cgroup2" : m->type;
		char cgopts[128];
		const char *data =
		        is_cgroup && (!m->data || !*m->data) ? cgroup2_options(cgopts, sizeof(cgopts)) : m->data;
		if (mount(*m->source ? m->source : type, target, type, m->flags & ~MS_REMOUNT, data) < 0) {
			if (!strcmp(type, "sysfs") && (errno == EPERM || errno == EACCES)) {
				/* sysfs needs a net namespace of our own: fall back to the host's, read-only */
				if (mount("/sys", target, NULL, MS_BIND | MS_REC, NULL) < 0 ||
				    mount(NULL, target, NULL,
				          MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
				          NULL) < 0)
					die(a, "mount sysfs on %s", m->destination);
			} else if (!strcmp(type, "mqueue") && (errno == EPERM || errno == EACCES)) {
				if (mount("/dev/mqueue", target, NULL, MS_BIND | MS_REC, NULL) < 0)
					die(a, "mount mqueue on %s", m->destination);
			} else {
				die(a, "mount %s (%s) on %s", *m->source ? m->source : type, type, m->destination);
			}
		}
	}
	if (m->propagation) {
		reopen_target(a, rootfd, m, &t);
		target = fdpath(t, fp, sizeof(fp));
	}
	if (m->propagation && mount(NULL, target, NULL, m->propagation, NULL) < 0)
		die(a, "set propagation of %s", m->destination);
}

static const struct {
	const char *path;
	unsigned maj, min;
} default_devices[] = {{"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
                       {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0}};

static void make_device(struct child_args *a, int rootfd, const char *path, char type, unsigned maj, unsigned min,
                        mode_t mode, uid_t uid, gid_t gid, bool in_userns)
{
	char fp[64];
	if (in_userns) {
		/* mknod is not allowed in a user namespace: bind the host's node */
		cleanup_close int t = mkpath_in_root(rootfd, path, true);
		if (t < 0) {
			errno = -t;
			die(a, "create %s", path);
		}
		if (mount(path, fdpath(t, fp, sizeof(fp)), NULL, MS_BIND, NULL) < 0)
			die(a, "bind device %s", path);
		return;
	}
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	*slash = '\0';
	cleanup_close int d = mkpath_in_root(rootfd, *dir ? dir : "/", false);
	if (d < 0) {
		errno = -d;
		die(a, "create %s", dir);
	}
	cleanup_close int dfd = open(fdpath(d, fp, sizeof(fp)), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		die(a, "open %s", dir);
	unlinkat(dfd, slash + 1, 0);
	mode_t kind = type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;
	if (mknodat(dfd, slash + 1, kind | (mode & 07777), makedev(maj, min)) < 0)
		die(a, "mknod %s", path);
	if (fchownat(dfd, slash + 1, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		die(a, "chown %s", path);
	if (fchmodat(dfd, slash + 1, mode & 07777, 0) < 0)
		die(a, "chmod %s", path);
}

static void setup_devices(struct child_args *a, int rootfd, bool in_userns)
{
	const struct spec *s = a->s;
	/* /dev bound from the host (privileged services): its nodes are the
	 * host's, shared with everything else: never unlinked and re-made
	 * (two such containers starting together would race), only what is
	 * missing is added */
	bool dev_bound = false;
	for (size_t i = 0; i < s->n_mounts; i++)
		dev_bound |= s->mounts[i].bind && !strcmp(s->mounts[i].destination, "/dev");
	if (dev_bound) {
		cleanup_close int dev = open_in_root(rootfd, "/dev", O_RDONLY | O_DIRECTORY);
		for (size_t k = 0; dev >= 0 && k < s->n_devices; k++) {
			const struct spec_device *d = &s->devices[k];
			struct stat st;
			if (strncmp(d->path, "/dev/", 5) || fstatat(dev, d->path + 5, &st, AT_SYMLINK_NOFOLLOW) == 0)
				continue;
			make_device(a, rootfd, d->path, d->type == 'u' ? 'c' : d->type, (unsigned)d->major,
			            (unsigned)d->minor, d->has_mode ? d->file_mode : 0666, d->has_uid ? d->uid : 0,
			            d->has_gid ? d->gid : 0, in_userns);
		}
		return;
	}
	for (size_t i = 0; i < sizeof(default_devices) / sizeof(default_devices[0]); i++) {
		bool overridden = false;
		for (size_t k = 0; k < s->n_devices; k++)
			overridden |= !strcmp(s->devices[k].path, default_devices[i].path);
		if (!overridden)
			make_device(a, rootfd, default_devices[i].path, 'c', default_devices[i].maj,
			            default_devices[i].min, 0666, 0, 0, in_userns);
	}
	for (size_t k = 0; k < s->n_devices; k++) {
		const struct spec_device *d = &s->devices[k];
		make_device(a, rootfd, d->path, d->type == 'u' ? 'c' : d->type, (unsigned)d->major, (unsigned)d->minor,
		            d->has_mode ? d->file_mode : 0666, d->has_uid ? d->uid : 0, d->has_gid ? d->gid : 0,
		            in_userns);
	}
	static const char *const links[][2] = {{"/proc/self/fd", "/dev/fd"},
	                                       {"/proc/self/fd/0", "/dev/stdin"},
	                                       {"/proc/self/fd/1", "/dev/stdout"},
	                                       {"/proc/self/fd/2", "/dev/stderr"}};
	cleanup_close int dev = open_in_root(rootfd, "/dev", O_RDONLY | O_DIRECTORY);
	if (dev < 0)
		return;
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (symlinkat(links[i][0], dev, links[i][1] + 5) < 0 && errno != EEXIST)
			die(a, "symlink %s", links[i][1]);
	struct stat st;
	if (fstatat(dev, "pts/ptmx", &st, 0) == 0) {
		unlinkat(dev, "ptmx", 0);
		if (symlinkat("pts/ptmx", dev, "ptmx") < 0)
			die(a, "symlink /dev/ptmx");
	}
}

static bool has_mount_at(const struct spec *s, const char *dest)
{
	for (size_t i = 0; i < s->n_mounts; i++)
		if (!strcmp(s->mounts[i].destination, dest))
			return true;
	return false;
}

static void setup_rootfs(struct child_args *a, const char *state_json, bool in_userns)
{
	const struct spec *s = a->s;
	unsigned long prop = s->rootfs_propagation ? s->rootfs_propagation : MS_SLAVE | MS_REC;
	if (mount(NULL, "/", NULL, prop & MS_SHARED ? (MS_SLAVE | MS_REC) : prop, NULL) < 0)
		die(a, "make / %s", prop & MS_PRIVATE ? "private" : "slave");
	if (mount(s->root_path, s->root_path, NULL, MS_BIND | MS_REC, NULL) < 0)
		die(a, "bind the rootfs %s onto itself", s->root_path);
	cleanup_close int rootfd = open(s->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		die(a, "open rootfs %s", s->root_path);
	for (size_t i = 0; i < s->n_mounts; i++)
		do_mount(a, rootfd, &s->mounts[i]);
	if (has_mount_at(s, "/dev"))
		setup_devices(a, rootfd, in_userns);
	struct ros_err e = {0};
	if (hooks_run(s, HOOK_CREATE_CONTAINER, state_json, &e) < 0)
		die_err(a, &e);
	if (chdir(s->root_path) < 0)
		die(a, "chdir %s", s->root_path);
	if (a->no_pivot) {
		if (mount(s->root_path, "/", NULL, MS_MOVE, NULL) < 0)
			die(a, "move the rootfs to /");
		if (chroot(".") < 0)
			die(a, "chroot %s", s->root_path);
	} else {
		if (syscall(SYS_pivot_root, ".", ".") < 0)
			die(a, "pivot_root to %s", s->root_path);
		if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
			die(a, "make the old root slave");
		if (umount2(".", MNT_DETACH) < 0)
			die(a, "detach the old root");
	}
	if (chdir("/") < 0)
		die(a, "chdir /");
	if (s->rootfs_propagation & MS_SHARED)
		mount(NULL, "/", NULL, s->rootfs_propagation, NULL);
}

static void mask_paths(struct child_args *a)
{
	const struct spec *s = a->s;
	for (char **p = s->masked_paths; p && *p; p++) {
		struct stat st;
		if (lstat(*p, &st) < 0)
			continue;
		int r = S_ISDIR(st.st_mode) ? mount("tmpfs", *p, "tmpfs", MS_RDONLY, "size=0k,nr_inodes=1")
		                            : mount("/dev/null", *p, NULL, MS_BIND, NULL);
		if (r < 0 && errno != ENOENT)
			die(a, "mask %s", *p);
	}
	for (char **p = s->readonly_paths; p && *p; p++) {
		if (mount(*p, *p, NULL, MS_BIND | MS_REC, NULL) < 0) {
			if (errno == ENOENT)
				continue;
			die(a, "bind %s read-only", *p);
		}
		struct statvfs sv;
		unsigned long keep = 0;
		if (statvfs(*p, &sv) == 0)
			keep = (sv.f_flag & ST_NOSUID ? MS_NOSUID : 0) | (sv.f_flag & ST_NODEV ? MS_NODEV : 0) |
			       (sv.f_flag & ST_NOEXEC ? MS_NOEXEC : 0);
		if (mount(NULL, *p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | keep, NULL) < 0)
			die(a, "remount %s read-only", *p);
	}
	if (s->root_readonly) {
		struct statvfs sv;
		unsigned long keep = 0;
		if (statvfs("/", &sv) == 0)
			keep = (sv.f_flag & ST_NOSUID ? MS_NOSUID : 0) | (sv.f_flag & ST_NODEV ? MS_NODEV : 0) |
			       (sv.f_flag & ST_NOEXEC ? MS_NOEXEC : 0);
		if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL) < 0)
			die(a, "remount the root read-only");
	}
}

/* ---- process ---- */

/* names the failed step in what and returns -code */
__attribute__((format(printf, 4, 5))) static int pty_fail(int code, char *what, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, size, fmt, ap);
	va_end(ap);
	return -code;
}

int child_setup_pty(int sync_fd, char *what, size_t size)
{
	cleanup_close int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return pty_fail(errno, what, size, "open /dev/ptmx in the container");
	if (unlockpt(master) < 0)
		return pty_fail(errno, what, size, "unlockpt");
	char name[64];
	int r = ptsname_r(master, name, sizeof(name));
	if (r != 0)
		return pty_fail(r, what, size, "ptsname");
	/* not O_CLOEXEC: it may land on 0, 1 or 2, where dup2 onto itself keeps the flag */
	cleanup_close int slave = open(name, O_RDWR | O_NOCTTY);
	if (slave < 0)
		return pty_fail(errno, what, size, "open %s", name);
	if ((r = sync_send(sync_fd, SYNC_PTY, NULL, master)) < 0)
		return pty_fail(-r, what, size, "send the pty master");
	close(TAKE_FD(master)); /* before the dup2s, which may reuse its number */
	if (setsid() < 0)
		return pty_fail(errno, what, size, "setsid");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return pty_fail(errno, what, size, "TIOCSCTTY");
	for (int i = 0; i < 3; i++)
		if (dup2(slave, i) < 0)
			return pty_fail(errno, what, size, "dup2 pty");
	if (slave <= 2)
		slave = -1; /* it is stdin, stdout or stderr now: keep it */
	return 0;
}

static void setup_terminal(struct child_args *a)
{
	char what[128];
	int r = child_setup_pty(a->sync_fd, what, sizeof(what));
	if (r < 0) {
		errno = -r;
		die(a, "%s", what);
	}
}

static int last_cap(void)
{
	cleanup_free char *s = NULL;
	if (fs_read_all("/proc/sys/kernel/cap_last_cap", 64, &s, NULL, NULL) == 0)
		return atoi(s);
	return CAP_LAST_CAP;
}

static void apply_caps_bounding(struct child_args *a, int last)
{
	const struct spec_caps *c = &a->s->caps;
	for (int i = 0; i <= last; i++)
		if (!(c->bounding & (1ULL << i)) && prctl(PR_CAPBSET_DROP, i, 0, 0, 0) < 0 && errno != EINVAL)
			die(a, "drop capability %d from the bounding set", i);
}

static void apply_caps_final(struct child_args *a, int last)
{
	const struct spec_caps *c = &a->s->caps;
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {
	        {(uint32_t)c->effective, (uint32_t)c->permitted, (uint32_t)c->inheritable},
	        {(uint32_t)(c->effective >> 32), (uint32_t)(c->permitted >> 32), (uint32_t)(c->inheritable >> 32)},
	};
	if (syscall(SYS_capset, &h, d) < 0)
		die(a, "set capabilities");
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	for (int i = 0; i <= last; i++)
		/* the kernel allows ambient only for caps both permitted and inheritable */
		if ((c->ambient & c->inheritable & c->permitted & (1ULL << i)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, i, 0, 0) < 0)
			die(a, "raise ambient capability %d", i);
}

static void load_seccomp(struct child_args *a)
{
	const char *what = "";
	int r = spec_seccomp_load(&a->s->seccomp, &what);
	if (r < 0) {
		errno = -r;
		die(a, "seccomp: %s", what);
	}
}

/* Finds the program in the container's PATH, so a missing one fails at create. */
static const char *find_program(const struct spec *s, char *buf, size_t size)
{
	const char *prog = s->args[0];
	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0 ? prog : NULL;
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (char **e = s->env; e && *e; e++)
		if (!strncmp(*e, "PATH=", 5))
			path = *e + 5;
	char copy[4096];
	snprintf(copy, sizeof(copy), "%s", path);
	for (char *p = copy, *dir; (dir = strsep(&p, ":"));) {
		snprintf(buf, size, "%s/%s", *dir ? dir : ".", prog);
		struct stat st;
		if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0)
			return buf;
	}
	return NULL;
}

/* process.scheduler, with sched_setattr(2) (no glibc wrapper here) */
static void apply_scheduler(struct child_args *a, const struct spec *s)
{
	struct {
		uint32_t size, policy;
		uint64_t flags;
		int32_t nice;
		uint32_t priority;
		uint64_t runtime, deadline, period;
	} attr = {.size = 48,
	          .policy = (uint32_t)s->sched_policy,
	          .flags = s->sched_reset_on_fork ? 0x01 /* SCHED_FLAG_RESET_ON_FORK */ : 0,
	          .nice = s->sched_nice,
	          .priority = (uint32_t)s->sched_priority};
	if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0)
		die(a, "process.scheduler: sched_setattr (policy %d, nice %d, priority %d)", s->sched_policy,
		    s->sched_nice, s->sched_priority);
}

void child_main(struct child_args *a)
{
	const struct spec *s = a->s;
	struct sync_msg m;
	bool in_userns = s->ns_new[NS_USER] || a->ns_fds[NS_USER] >= 0;

	if (s->ns_new[NS_USER]) {
		if (sync_send(a->sync_fd, SYNC_USERNS, NULL, -1) < 0)
			_exit(1);
	}
	if (sync_recv(a->sync_fd, &m, NULL) < 0 || m.type != SYNC_GO)
		_exit(1);
	char *state_json = strdup(m.text);

	/* join namespaces given by path (user first, pid was set by the parent) */
	static const int ns_flag[NS_COUNT] = {CLONE_NEWPID, CLONE_NEWNET,  CLONE_NEWNS,     CLONE_NEWIPC,
	                                      CLONE_NEWUTS, CLONE_NEWUSER, CLONE_NEWCGROUP, 0x00000080 /* time */};
	if (a->ns_fds[NS_USER] >= 0 && setns(a->ns_fds[NS_USER], CLONE_NEWUSER) < 0)
		die(a, "join the user namespace %s", s->ns_path[NS_USER]);
	for (int i = 0; i < NS_COUNT; i++) {
		if (i == NS_USER || i == NS_PID || a->ns_fds[i] < 0)
			continue;
		if (setns(a->ns_fds[i], ns_flag[i]) < 0)
			die(a, "join the %s namespace %s", spec_ns_name(i), s->ns_path[i]);
		close(a->ns_fds[i]);
	}
	if (in_userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
		die(a, "become root in the user namespace");
	/* the parent moved us into the container's cgroup before SYNC_GO */
	if (s->ns_new[NS_CGROUP] && unshare(CLONE_NEWCGROUP) < 0)
		die(a, "new cgroup namespace");

	if (s->ns_new[NS_MNT] || a->ns_fds[NS_MNT] >= 0)
		setup_rootfs(a, state_json, in_userns);
	else if (chroot(s->root_path) < 0 || chdir("/") < 0)
		die(a, "chroot %s", s->root_path);
	if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
		die(a, "set hostname %s", s->hostname);
	if (s->domainname && setdomainname(s->domainname, strlen(s->domainname)) < 0)
		die(a, "set domainname %s", s->domainname);
	const char *key;
	json_t *v;
	json_object_foreach(s->sysctl, key, v)
	{
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "/proc/sys/%s", key);
		for (char *c = p + 10; *c; c++)
			if (*c == '.')
				*c = '/';
		struct ros_err e = {0};
		if (fs_write_file(p, json_string_value(v), &e) < 0)
			die_err(a, &e);
	}
	if (s->ns_new[NS_MNT] || a->ns_fds[NS_MNT] >= 0)
		mask_paths(a);

	for (int i = 0; i < 3; i++)
		if (a->stdio[i] >= 0 && a->stdio[i] != i && dup2(a->stdio[i], i) < 0)
			die(a, "set up stdio");
	if (s->terminal)
		setup_terminal(a);
	if (s->has_oom_score_adj) {
		char v2[16];
		snprintf(v2, sizeof(v2), "%d", s->oom_score_adj);
		struct ros_err e = {0};
		if (fs_write_file("/proc/self/oom_score_adj", v2, &e) < 0)
			die_err(a, &e);
	}
	if (s->has_personality && personality(s->personality) < 0)
		die(a, "personality");
	for (size_t i = 0; i < s->n_rlimits; i++) {
		struct rlimit rl = {s->rlimits[i].soft, s->rlimits[i].hard};
		if (setrlimit(s->rlimits[i].resource, &rl) < 0)
			die(a, "set rlimit %d to %llu/%llu", s->rlimits[i].resource,
			    (unsigned long long)s->rlimits[i].soft, (unsigned long long)s->rlimits[i].hard);
	}
	umask(s->has_umask ? s->umask : 022);
	if (chdir(s->cwd) < 0)
		die(a, "chdir to the process cwd %s", s->cwd);
	char progbuf[PATH_MAX];
	const char *prog = find_program(s, progbuf, sizeof(progbuf));
	if (!prog) {
		errno = ENOENT;
		die(a, "exec %s: not found in the container's PATH", s->args[0]);
	}

	/* while the capabilities (CAP_SYS_NICE) are still there */
	if (s->has_scheduler)
		apply_scheduler(a, s);
	int last = last_cap();
	if (s->caps.present)
		apply_caps_bounding(a, last);
	if (s->has_seccomp && !s->no_new_privileges)
		load_seccomp(a); /* still privileged enough to load without no_new_privs */
	if (!(in_userns && s->n_additional_gids == 0)) {
		gid_t groups[256];
		size_t n = s->n_additional_gids < 256 ? s->n_additional_gids : 256;
		for (size_t i = 0; i < n; i++)
			groups[i] = s->additional_gids[i];
		if (setgroups(n, groups) < 0 && !(in_userns && errno == EPERM))
			die(a, "setgroups");
	}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		die(a, "keep capabilities");
	if (setresgid(s->gid, s->gid, s->gid) < 0)
		die(a, "setgid %u", s->gid);
	if (setresuid(s->uid, s->uid, s->uid) < 0)
		die(a, "setuid %u", s->uid);
	if (s->caps.present)
		apply_caps_final(a, last);
	if (s->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die(a, "set no_new_privs");
	if (s->has_seccomp && s->no_new_privileges)
		load_seccomp(a);

	if (sync_send(a->sync_fd, SYNC_READY, NULL, -1) < 0)
		_exit(1);
	close(a->sync_fd);
	/* Wait for `start`: it writes one byte into the exec fifo. */
	char c;
	ssize_t n;
	while ((n = read(a->fifo_fd, &c, 1)) < 0 && errno == EINTR)
		;
	if (n != 1)
		_exit(1);
	close(a->fifo_fd);
	struct ros_err e = {0};
	if (hooks_run(s, HOOK_START_CONTAINER, state_json, &e) < 0) {
		fprintf(stderr, "roci: %s\n", err_msg(&e));
		_exit(1);
	}
	free(state_json);
	/* The process starts with a clean signal state, whatever its creator
	 * blocked or ignored (sysctr blocks SIGTERM for its signalfd; an
	 * inherited block would make `stop` wait for the SIGKILL). */
	child_reset_signals();
	char *const empty[] = {NULL};
	execve(prog, s->args, s->env ? s->env : empty);
	fprintf(stderr, "roci: exec %s: %s\n", prog, strerror(errno));
	_exit(127);
}
