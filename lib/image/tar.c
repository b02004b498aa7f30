/* SPDX-License-Identifier: MIT */
/*
 * Hardened tar extraction for image layers.  Every entry is placed by
 * walking its path one component at a time from the root fd with
 * O_NOFOLLOW, so neither a symlink in the archive nor one already on disk
 * can redirect a write outside the root; "..", absolute names, oversized
 * names and entries are refused with the entry named in the error.
 */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "image/image.h"

static void archive_freep(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}

/* Splits a cleaned relative path. Returns -EINVAL on absolute or "..". */
static int check_path(const char *p)
{
	if (!p || !*p)
		return -EINVAL;
	if (strlen(p) >= IMAGE_TAR_MAX_PATH)
		return -ENAMETOOLONG;
	const char *s = p;
	while (*s == '.' && s[1] == '/')
		s += 2;
	if (*s == '/')
		return -EXDEV;
	for (const char *c = s; *c;) {
		const char *end = strchrnul(c, '/');
		if (end - c == 2 && c[0] == '.' && c[1] == '.')
			return -EXDEV;
		c = *end ? end + 1 : end;
	}
	return 0;
}

/* Opens the directory holding the last component of path, creating missing
 * parents when create; *leaf points into path. Never follows symlinks. */
static int open_parent(int rootfd, const char *path, bool create, const char **leaf)
{
	char buf[IMAGE_TAR_MAX_PATH];
	snprintf(buf, sizeof(buf), "%s", path);
	size_t n = strlen(buf);
	while (n > 0 && buf[n - 1] == '/')
		buf[--n] = '\0';
	const char *last = strrchr(path, '/');
	/* leaf: last non-empty component of the original string */
	char *slash = strrchr(buf, '/');
	*leaf = path + (slash ? (size_t)(slash - buf) + 1 : 0);
	(void)last;
	int fd = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (!slash)
		return fd;
	*slash = '\0';
	char *save = NULL;
	for (char *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (create && mkdirat(fd, c, 0755) < 0 && errno != EEXIST) {
			int r = -errno;
			close(fd);
			return r;
		}
		int nfd = openat(fd, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int r = -errno;
		close(fd);
		if (nfd < 0)
			return r == -ELOOP ? -ENOTDIR : r;
		fd = nfd;
	}
	return fd;
}

/* Strips trailing slashes from leaf into a buffer. */
static void leaf_name(const char *leaf, char *out, size_t size)
{
	snprintf(out, size, "%s", leaf);
	size_t n = strlen(out);
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
}

/* Removes whatever is at name unless it is a directory and keep_dir. */
static int clear_slot(int pfd, const char *name, bool keep_dir)
{
	struct stat st;
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISDIR(st.st_mode)) {
		if (keep_dir)
			return 1;
		return -EEXIST;
	}
	if (unlinkat(pfd, name, 0) < 0)
		return -errno;
	return 0;
}

static int write_data(struct archive *a, int fd)
{
	const void *buf;
	size_t size;
	la_int64_t off, pos = 0;
	for (;;) {
		int r = archive_read_data_block(a, &buf, &size, &off);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r != ARCHIVE_OK)
			return -EIO;
		if (off > pos && lseek(fd, off, SEEK_SET) < 0)
			return -errno;
		int w = fs_write_all(fd, buf, size);
		if (w < 0)
			return w;
		pos = off + (la_int64_t)size;
	}
}

static int extract_entry(struct archive *a, struct archive_entry *en, int rootfd, const struct image_extract_opts *o,
                         const char *path, struct ros_err *e, size_t idx)
{
	const char *leafp;
	cleanup_close int pfd = open_parent(rootfd, path, true, &leafp);
	if (pfd < 0)
		return err_set(e, pfd, "entry %zu (%s): parent directory", idx, path);
	char leaf[NAME_MAX + 1];
	if (strlen(leafp) > NAME_MAX)
		return err_setx(e, ENAMETOOLONG, "entry %zu (%s): name too long", idx, path);
	leaf_name(leafp, leaf, sizeof(leaf));
	if (strcmp(leaf, ".") == 0 || leaf[0] == '\0')
		return 0; /* the root itself */
	mode_t mode = archive_entry_perm(en) & 07777;
	mode_t type = archive_entry_filetype(en);
	const char *hl = archive_entry_hardlink(en);
	int r;

	if (o->whiteouts && strncmp(leaf, ".wh.", 4) == 0) {
		if (strcmp(leaf, ".wh..wh..opq") == 0) {
			cleanup_close int dfd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (dfd < 0 || fsetxattr(dfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
				return err_set(e, errno, "entry %zu (%s): opaque directory marker", idx, path);
			return 0;
		}
		const char *victim = leaf + 4;
		if (!*victim || strcmp(victim, ".") == 0 || strcmp(victim, "..") == 0)
			return err_setx(e, EINVAL, "entry %zu (%s): bad whiteout name", idx, path);
		r = clear_slot(pfd, victim, false);
		if (r == -EEXIST)
			r = 0; /* a directory of the same layer: leave it */
		if (r < 0)
			return err_set(e, r, "entry %zu (%s): whiteout", idx, path);
		if (mknodat(pfd, victim, S_IFCHR | 0000, makedev(0, 0)) < 0)
			return err_set(e, errno, "entry %zu (%s): whiteout device", idx, path);
		return 0;
	}

	if (hl) {
		if (check_path(hl) < 0)
			return err_setx(e, EXDEV, "entry %zu (%s): hard link target %s leaves the root", idx, path, hl);
		const char *tleafp;
		cleanup_close int tfd = open_parent(rootfd, hl, false, &tleafp);
		if (tfd < 0)
			return err_set(e, tfd, "entry %zu (%s): hard link target %s", idx, path, hl);
		char tleaf[NAME_MAX + 1];
		leaf_name(tleafp, tleaf, sizeof(tleaf));
		struct stat st;
		if (fstatat(tfd, tleaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return err_set(e, errno, "entry %zu (%s): hard link target %s", idx, path, hl);
		if (S_ISDIR(st.st_mode))
			return err_setx(e, EPERM, "entry %zu (%s): hard link to a directory", idx, path);
		if ((r = clear_slot(pfd, leaf, false)) < 0)
			return err_set(e, r, "entry %zu (%s)", idx, path);
		if (linkat(tfd, tleaf, pfd, leaf, 0) < 0)
			return err_set(e, errno, "entry %zu (%s): link to %s", idx, path, hl);
		return 0;
	}

	switch (type) {
	case AE_IFDIR: {
		r = clear_slot(pfd, leaf, true);
		if (r < 0)
			return err_set(e, r, "entry %zu (%s)", idx, path);
		if (r == 0 && mkdirat(pfd, leaf, 0700) < 0)
			return err_set(e, errno, "entry %zu (%s): mkdir", idx, path);
		cleanup_close int dfd = openat(pfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0)
			return err_set(e, errno, "entry %zu (%s): open directory", idx, path);
		if (o->keep_owner && fchown(dfd, (uid_t)archive_entry_uid(en), (gid_t)archive_entry_gid(en)) < 0)
			return err_set(e, errno, "entry %zu (%s): chown", idx, path);
		if (fchmod(dfd, mode | 0200) < 0)
			return err_set(e, errno, "entry %zu (%s): chmod", idx, path);
		return 0;
	}
	case AE_IFREG: {
		if ((r = clear_slot(pfd, leaf, false)) < 0)
			return err_set(e, r, "entry %zu (%s)", idx, path);
		cleanup_close int fd = openat(pfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return err_set(e, errno, "entry %zu (%s): create", idx, path);
		if ((r = write_data(a, fd)) == -EIO)
			return err_setx(e, EINVAL, "entry %zu (%s): data: %s", idx, path,
			                archive_error_string(a) ? archive_error_string(a) : "unreadable");
		if (r < 0)
			return err_set(e, r, "entry %zu (%s): data", idx, path);
		if (archive_entry_size_is_set(en) && ftruncate(fd, archive_entry_size(en)) < 0)
			return err_set(e, errno, "entry %zu (%s): truncate", idx, path);
		if (o->keep_owner && fchown(fd, (uid_t)archive_entry_uid(en), (gid_t)archive_entry_gid(en)) < 0)
			return err_set(e, errno, "entry %zu (%s): chown", idx, path);
		if (fchmod(fd, mode) < 0)
			return err_set(e, errno, "entry %zu (%s): chmod", idx, path);
		struct timespec ts[2] = {{archive_entry_mtime(en), 0}, {archive_entry_mtime(en), 0}};
		(void)futimens(fd, ts);
		return 0;
	}
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(en);
		if (!target || !*target)
			return err_setx(e, EINVAL, "entry %zu (%s): symlink without a target", idx, path);
		if ((r = clear_slot(pfd, leaf, false)) < 0)
			return err_set(e, r, "entry %zu (%s)", idx, path);
		/* The target is stored, never followed here; the container's
		 * root resolves it later. */
		if (symlinkat(target, pfd, leaf) < 0)
			return err_set(e, errno, "entry %zu (%s): symlink", idx, path);
		if (o->keep_owner && fchownat(pfd, leaf, (uid_t)archive_entry_uid(en), (gid_t)archive_entry_gid(en),
		                              AT_SYMLINK_NOFOLLOW) < 0)
			return err_set(e, errno, "entry %zu (%s): chown", idx, path);
		return 0;
	}
	case AE_IFIFO:
		if ((r = clear_slot(pfd, leaf, false)) < 0)
			return err_set(e, r, "entry %zu (%s)", idx, path);
		if (mkfifoat(pfd, leaf, mode) < 0)
			return err_set(e, errno, "entry %zu (%s): mkfifo", idx, path);
		return 0;
	case AE_IFCHR:
	case AE_IFBLK:
		if (!o->allow_devices)
			return err_setx(e, EPERM, "entry %zu (%s): device nodes are not allowed here", idx, path);
		if ((r = clear_slot(pfd, leaf, false)) < 0)
			return err_set(e, r, "entry %zu (%s)", idx, path);
		if (mknodat(pfd, leaf, type | mode, archive_entry_rdev(en)) < 0)
			return err_set(e, errno, "entry %zu (%s): mknod", idx, path);
		return 0;
	default:
		return err_setx(e, EINVAL, "entry %zu (%s): unsupported file type 0%o", idx, path, (unsigned)type);
	}
}

static int extract(struct archive *a, int dirfd, const struct image_extract_opts *o, struct ros_err *e)
{
	struct archive_entry *en;
	size_t idx = 0;
	for (;;) {
		int r = archive_read_next_header(a, &en);
		if (r == ARCHIVE_EOF)
			return idx == 0 ? err_setx(e, EINVAL, "empty archive") : 0;
		if (r < ARCHIVE_WARN)
			return err_setx(e, EINVAL, "entry %zu: bad tar header: %s", idx, archive_error_string(a));
		const char *path = archive_entry_pathname(en);
		int c = check_path(path);
		if (c == -ENAMETOOLONG)
			return err_setx(e, ENAMETOOLONG, "entry %zu: name longer than %d bytes", idx,
			                IMAGE_TAR_MAX_PATH);
		if (c == -EXDEV)
			return err_setx(e, EXDEV, "entry %zu (%s): path leaves the root", idx, path);
		if (c < 0)
			return err_setx(e, EINVAL, "entry %zu: empty name", idx);
		if (archive_entry_size_is_set(en) &&
		    (archive_entry_size(en) < 0 || (uint64_t)archive_entry_size(en) > IMAGE_TAR_MAX_ENTRY_SIZE))
			return err_setx(e, EFBIG, "entry %zu (%s): size %lld is out of range", idx, path,
			                (long long)archive_entry_size(en));
		if ((r = extract_entry(a, en, dirfd, o, path, e, idx)) < 0)
			return r;
		idx++;
	}
}

static struct archive *reader_new(void)
{
	struct archive *a = archive_read_new();
	if (!a)
		return NULL;
	archive_read_support_filter_gzip(a);
	/* zstd layers (OCI tar+zstd) only when libarchive has zstd built in:
	 * ARCHIVE_WARN means it would run an external program instead. */
	if (archive_read_support_filter_zstd(a) == ARCHIVE_WARN) {
		archive_read_free(a);
		if (!(a = archive_read_new()))
			return NULL;
		archive_read_support_filter_gzip(a);
	}
	archive_read_support_filter_none(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	return a;
}

int image_tar_extract_fd(int fd, int dirfd, const struct image_extract_opts *o, struct ros_err *e)
{
	__attribute__((cleanup(archive_freep))) struct archive *a = reader_new();
	if (!a)
		return err_set(e, ENOMEM, "archive reader");
	if (archive_read_open_fd(a, fd, 64 * 1024) != ARCHIVE_OK)
		return err_setx(e, EINVAL, "not a tar archive: %s", archive_error_string(a));
	return extract(a, dirfd, o, e);
}

int image_tar_extract_mem(const void *buf, size_t len, int dirfd, const struct image_extract_opts *o, struct ros_err *e)
{
	__attribute__((cleanup(archive_freep))) struct archive *a = reader_new();
	if (!a)
		return err_set(e, ENOMEM, "archive reader");
	if (archive_read_open_memory(a, buf, len) != ARCHIVE_OK)
		return err_setx(e, EINVAL, "not a tar archive: %s", archive_error_string(a));
	return extract(a, dirfd, o, e);
}
