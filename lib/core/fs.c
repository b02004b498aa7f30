/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

int fs_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int dir_of(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return snprintf(dir, size, ".") < (int)size ? 0 : -ENAMETOOLONG;
	size_t n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= size)
		return -ENAMETOOLONG;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return 0;
}

static int write_replace(const char *path, const void *data, size_t len, mode_t mode, bool durable, struct ros_err *e)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	if (dir_of(path, dir, sizeof(dir)) < 0 ||
	    snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return err_set(e, ENAMETOOLONG, "write %s", path);

	cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return err_set(e, errno, "create %s", tmp);
	int r = fs_write_all(fd, data, len);
	if (r < 0) {
		unlink(tmp);
		return err_set(e, r, "write %s", tmp);
	}
	if (fchmod(fd, mode) < 0 || (durable && fsync(fd) < 0)) {
		r = errno;
		unlink(tmp);
		return err_set(e, r, "sync %s", tmp);
	}
	if (rename(tmp, path) < 0) {
		r = errno;
		unlink(tmp);
		return err_set(e, r, "rename %s to %s", tmp, path);
	}
	if (!durable)
		return 0;
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		fsync(dfd);
	return 0;
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct ros_err *e)
{
	return write_replace(path, data, len, mode, true, e);
}

int fs_write_replace(const char *path, const void *data, size_t len, mode_t mode, struct ros_err *e)
{
	return write_replace(path, data, len, mode, false, e);
}

int fs_read_fd(int fd, size_t max, char **out, size_t *len_out, struct ros_err *e)
{
	size_t cap = 4096, len = 0;
	cleanup_free char *buf = malloc(cap);
	if (!buf)
		return err_set(e, ENOMEM, "read");
	for (;;) {
		if (len + 1 >= cap) {
			if (cap > max + 1)
				return err_setx(e, EFBIG, "file larger than %zu bytes", max);
			cap *= 2;
			char *nb = realloc(buf, cap);
			if (!nb)
				return err_set(e, ENOMEM, "read");
			buf = nb;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return err_set(e, errno, "read");
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max)
			return err_setx(e, EFBIG, "file larger than %zu bytes", max);
	}
	buf[len] = '\0';
	if (len_out)
		*len_out = len;
	*out = TAKE_PTR(buf);
	return 0;
}

int fs_read_all(const char *path, size_t max, char **out, size_t *len_out, struct ros_err *e)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno, "open %s", path);
	int r = fs_read_fd(fd, max, out, len_out, e);
	if (r < 0)
		return err_prefix(e, "%s", path);
	return 0;
}

int fs_mkdir_p(const char *path, mode_t mode, struct ros_err *e)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return err_set(e, ENAMETOOLONG, "mkdir %s", path);
	/* the parent exists most of the time: one mkdir, no walk from / */
	if (mkdir(buf, mode) == 0 || errno == EEXIST)
		return 0;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return err_set(e, errno, "mkdir %s", buf);
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return err_set(e, errno, "mkdir %s", buf);
	return 0;
}

int fs_write_file(const char *path, const char *s, struct ros_err *e)
{
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno, "open %s", path);
	int r = fs_write_all(fd, s, strlen(s));
	if (r < 0)
		return err_set(e, r, "write %s to %s", s, path);
	return 0;
}

static int remove_at(int dfd, const char *name, dev_t dev, struct ros_err *e, const char *top)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : err_set(e, errno, "stat %s/%s", top, name);
	if (S_ISDIR(st.st_mode)) {
		if (st.st_dev != dev)
			return err_setx(e, EBUSY, "%s/%s is a mount point; not removing", top, name);
		int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return err_set(e, errno, "open %s/%s", top, name);
		DIR *d = fdopendir(fd);
		if (!d) {
			close(fd);
			return err_set(e, errno, "opendir %s/%s", top, name);
		}
		struct dirent *de;
		int r = 0;
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			r = remove_at(dirfd(d), de->d_name, dev, e, top);
			if (r < 0)
				break;
		}
		closedir(d);
		if (r < 0)
			return r;
		if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
			return err_set(e, errno, "rmdir %s/%s", top, name);
		return 0;
	}
	if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
		return err_set(e, errno, "unlink %s/%s", top, name);
	return 0;
}

int fs_remove_tree(const char *path, struct ros_err *e)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : err_set(e, errno, "stat %s", path);
	return remove_at(AT_FDCWD, path, st.st_dev, e, path);
}
