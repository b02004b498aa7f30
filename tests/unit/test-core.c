/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tap.h"
#include "core/cleanup.h"
#include "core/err.h"
#include "core/fs.h"

static char *tmpdir(void)
{
	char *t = strdup("/tmp/ros-test-core.XXXXXX");
	return mkdtemp(t);
}

TEST(err_set_appends_strerror_and_returns_negative_errno)
{
	struct ros_err e = {0};
	int r = err_set(&e, ENOENT, "open %s", "/nope");
	is_int(r, -ENOENT);
	is_str(e.msg, "open /nope: No such file or directory");
	err_prefix(&e, "load config");
	is_str(e.msg, "load config: open /nope: No such file or directory");
}

TEST(write_atomic_replaces_file_with_mode)
{
	cleanup_free char *d = tmpdir();
	char p[512];
	snprintf(p, sizeof(p), "%s/f", d);
	struct ros_err e = {0};
	is_int(fs_write_atomic(p, "old", 3, 0644, &e), 0);
	is_int(fs_write_atomic(p, "new!", 4, 0600, &e), 0);
	cleanup_free char *s = NULL;
	size_t len = 0;
	is_int(fs_read_all(p, 1024, &s, &len, &e), 0);
	is_str(s, "new!");
	is_int(len, 4);
	struct stat st;
	stat(p, &st);
	is_int(st.st_mode & 07777, 0600);
	is_int(fs_remove_tree(d, &e), 0);
	ok(access(d, F_OK) < 0, "tree removed");
}

TEST(read_all_refuses_oversized_file)
{
	cleanup_free char *d = tmpdir();
	char p[512];
	snprintf(p, sizeof(p), "%s/big", d);
	struct ros_err e = {0};
	is_int(fs_write_atomic(p, "0123456789", 10, 0644, &e), 0);
	cleanup_free char *s = NULL;
	is_int(fs_read_all(p, 5, &s, NULL, &e), -EFBIG);
	fs_remove_tree(d, &e);
}

TEST(mkdir_p_creates_nested)
{
	cleanup_free char *d = tmpdir();
	char p[512];
	snprintf(p, sizeof(p), "%s/a/b/c", d);
	struct ros_err e = {0};
	is_int(fs_mkdir_p(p, 0755, &e), 0);
	struct stat st;
	ok(stat(p, &st) == 0 && S_ISDIR(st.st_mode), "nested dir exists");
	fs_remove_tree(d, &e);
}
