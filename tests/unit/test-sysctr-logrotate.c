/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <stdlib.h>

#include "../tap.h"
#include "../../sysctr/logrotate.h"

static void slurp(const char *p, char *buf, size_t size)
{
	buf[0] = '\0';
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, size - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

static void rm_tree(const char *d)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	if (system(cmd) != 0)
		fprintf(stderr, "# cleanup of %s failed\n", d);
}

TEST(small_or_missing_log_is_not_rotated)
{
	char d[] = "/tmp/ros-test-logrotate.XXXXXX";
	ok(mkdtemp(d) != NULL, "mkdtemp");
	char p[256], err[512] = "";
	snprintf(p, sizeof(p), "%s/svc.log", d);
	is_int(log_rotate(p, 10, 3, err, sizeof(err)), 0);
	int fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	is_int(write(fd, "abc", 3), 3);
	close(fd);
	is_int(log_rotate(p, 10, 3, err, sizeof(err)), 0);
	rm_tree(d);
}

TEST(append_writer_continues_after_copytruncate_and_old_copies_shift)
{
	char d[] = "/tmp/ros-test-logrotate.XXXXXX";
	ok(mkdtemp(d) != NULL, "mkdtemp");
	char p[256], p1[300], p2[300], p3[300], err[512] = "", buf[256];
	snprintf(p, sizeof(p), "%s/svc.log", d);
	snprintf(p1, sizeof(p1), "%s.1", p);
	snprintf(p2, sizeof(p2), "%s.2", p);
	snprintf(p3, sizeof(p3), "%s.3", p);
	int fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	ok(fd >= 0, "open");
	is_int(write(fd, "first-0123\n", 11), 11);
	is_int(log_rotate(p, 10, 2, err, sizeof(err)), 1);
	is_int(write(fd, "second-012\n", 11), 11);
	slurp(p, buf, sizeof(buf));
	is_str(buf, "second-012\n"); /* at offset 0, no hole */
	slurp(p1, buf, sizeof(buf));
	is_str(buf, "first-0123\n");
	is_int(log_rotate(p, 10, 2, err, sizeof(err)), 1);
	is_int(write(fd, "third\n", 6), 6);
	slurp(p, buf, sizeof(buf));
	is_str(buf, "third\n");
	slurp(p1, buf, sizeof(buf));
	is_str(buf, "second-012\n");
	slurp(p2, buf, sizeof(buf));
	is_str(buf, "first-0123\n");
	is_int(write(fd, "more-text\n", 10), 10);
	is_int(log_rotate(p, 10, 2, err, sizeof(err)), 1);
	slurp(p2, buf, sizeof(buf));
	is_str(buf, "second-012\n"); /* keep=2: the oldest is dropped */
	ok(access(p3, F_OK) < 0, "no .3 with keep=2");
	close(fd);
	rm_tree(d);
}

TEST(unreadable_log_error_names_the_file)
{
	char err[512] = "";
	is_int(log_rotate("/proc/self/stat/x", 1, 2, err, sizeof(err)), -ENOTDIR);
	ok(strstr(err, "/proc/self/stat/x") != NULL, "%s", err);
}
