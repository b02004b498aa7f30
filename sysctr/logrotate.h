/* SPDX-License-Identifier: MIT */
#pragma once
/*
 * Size-based copytruncate rotation of a service log (docs/sysctr.md, Logs).
 * The container writes the log file itself through an O_APPEND fd, so no
 * sysctr process is in the data path; rotating copies NAME.log to
 * NAME.log.1 (older copies shift up to NAME.log.KEEP) and truncates the
 * original, after which the writers' O_APPEND writes land at the new end.
 * Header-only (static inline): shared by sysctr and its unit test.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Returns 1 when rotated, 0 when the file is below max_size or missing,
 * -errno on failure with a message naming the file in err. */
static inline int log_rotate(const char *path, off_t max_size, unsigned keep, char *err, size_t err_size)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return errno == ENOENT ? 0 : (snprintf(err, err_size, "stat %s: %s", path, strerror(errno)), -errno);
	if (st.st_size < max_size || keep == 0)
		return 0;
	char from[4096], to[4096];
	for (unsigned i = keep; i > 1; i--) {
		snprintf(from, sizeof(from), "%s.%u", path, i - 1);
		snprintf(to, sizeof(to), "%s.%u", path, i);
		if (rename(from, to) < 0 && errno != ENOENT) {
			int r = -errno;
			snprintf(err, err_size, "rename %s to %s: %s", from, to, strerror(errno));
			return r;
		}
	}
	snprintf(to, sizeof(to), "%s.1", path);
	int in = open(path, O_RDWR | O_CLOEXEC);
	if (in < 0) {
		int r = -errno;
		snprintf(err, err_size, "open %s: %s", path, strerror(errno));
		return r;
	}
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (out < 0) {
		int r = -errno;
		snprintf(err, err_size, "open %s: %s", to, strerror(errno));
		close(in);
		return r;
	}
	char buf[65536];
	int r = 1;
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			snprintf(err, err_size, "read %s: %s", path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				r = -errno;
				snprintf(err, err_size, "write %s: %s", to, strerror(errno));
				break;
			}
			off += w;
		}
		if (r < 0)
			break;
	}
	if (r > 0 && ftruncate(in, 0) < 0) {
		r = -errno;
		snprintf(err, err_size, "truncate %s: %s", path, strerror(errno));
	}
	close(out);
	close(in);
	return r;
}
