/* SPDX-License-Identifier: MIT */
/* Cgroup module against the host's real hierarchies: pids.max and the
 * freezer enforced on a forked child. Skips where cgroups are not v1. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctr/cgroup.h"
#include "tap.h"

static void res_init(struct spec_resources *r)
{
	memset(r, 0, sizeof(*r));
	r->memory_limit = r->memory_reservation = r->memory_swap = -1;
}

TEST(cgroup_path_for_default_and_systemd_style)
{
	char p[256];
	struct ros_err e = {0};
	ok(cgroup_path_for(NULL, "abc", p, sizeof(p), &e) >= 0, "default path");
	is_str(p, "/roci/abc");
	ok(cgroup_path_for("/x/y", "abc", p, sizeof(p), &e) >= 0, "absolute path");
	is_str(p, "/x/y");
}

TEST(cgroup_v1_pids_max_blocks_fork)
{
	if (cgroup_detect(CGROUP_ROOT) != CGROUP_V1 || access(CGROUP_ROOT "/pids", W_OK) != 0) {
		tap_skip("needs writable cgroup v1 pids hierarchy");
		return;
	}
	int go[2], res[2];
	ok(pipe(go) == 0 && pipe(res) == 0, "pipes");
	pid_t c = fork();
	if (c == 0) {
		char b;
		close(go[1]);
		if (read(go[0], &b, 1) != 1)
			_exit(2);
		pid_t g = fork();
		int r = g < 0 ? errno : 0;
		if (g == 0)
			_exit(0);
		if (write(res[1], &r, sizeof(r)) != sizeof(r))
			_exit(3);
		_exit(0);
	}
	char path[64];
	snprintf(path, sizeof(path), "/roci-test-cgx-%d", (int)getpid());
	struct spec_resources r;
	res_init(&r);
	r.pids_limit = 1;
	struct ros_err e = {0};
	int x = cgroup_setup(CGROUP_ROOT, path, &r, c, &e);
	ok(x >= 0, "cgroup_setup: %s", e.msg);
	ok(write(go[1], "g", 1) == 1, "go");
	int got = -1;
	ok(read(res[0], &got, sizeof(got)) == sizeof(got), "result");
	is_int(got, EAGAIN);
	int st;
	waitpid(c, &st, 0);
	ok(cgroup_destroy(CGROUP_ROOT, path, &e) >= 0, "destroy: %s", e.msg);
	close(go[0]), close(go[1]), close(res[0]), close(res[1]);
}

TEST(cgroup_v1_freeze_and_thaw)
{
	if (cgroup_detect(CGROUP_ROOT) != CGROUP_V1 || access(CGROUP_ROOT "/freezer", W_OK) != 0) {
		tap_skip("needs writable cgroup v1 freezer hierarchy");
		return;
	}
	pid_t c = fork();
	if (c == 0) {
		pause();
		_exit(0);
	}
	char path[64];
	snprintf(path, sizeof(path), "/roci-test-cgx-f-%d", (int)getpid());
	struct spec_resources r;
	res_init(&r);
	struct ros_err e = {0};
	ok(cgroup_setup(CGROUP_ROOT, path, &r, c, &e) >= 0, "setup: %s", e.msg);
	ok(cgroup_freeze(CGROUP_ROOT, path, true, &e) >= 0, "freeze: %s", e.msg);
	is_int(cgroup_is_frozen(CGROUP_ROOT, path), 1);
	ok(cgroup_freeze(CGROUP_ROOT, path, false, &e) >= 0, "thaw: %s", e.msg);
	is_int(cgroup_is_frozen(CGROUP_ROOT, path), 0);
	pid_t *pids = NULL;
	size_t n = 0;
	ok(cgroup_pids(CGROUP_ROOT, path, &pids, &n, &e) >= 0, "pids: %s", e.msg);
	ok(n == 1 && pids && pids[0] == c, "child listed (n=%zu)", n);
	free(pids);
	ok(cgroup_kill_all(CGROUP_ROOT, path, SIGKILL, &e) >= 0, "kill: %s", e.msg);
	int st;
	waitpid(c, &st, 0);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "child killed");
	ok(cgroup_destroy(CGROUP_ROOT, path, &e) >= 0, "destroy: %s", e.msg);
}

/* Runs fn in a child placed in a fresh v1 cgroup with r; returns its wait status. */
static int run_in_cgroup(const char *tag, struct spec_resources *r, int (*fn)(void))
{
	int go[2];
	if (pipe(go) != 0)
		return -1;
	pid_t c = fork();
	if (c == 0) {
		char b;
		close(go[1]);
		if (read(go[0], &b, 1) != 1)
			_exit(100);
		_exit(fn());
	}
	close(go[0]);
	char path[64];
	snprintf(path, sizeof(path), "/roci-test-cgx-%s-%d", tag, (int)getpid());
	struct ros_err e = {0};
	int x = cgroup_setup(CGROUP_ROOT, path, r, c, &e);
	ok(x >= 0, "setup %s: %s", tag, e.msg);
	if (write(go[1], "g", 1) != 1)
		kill(c, SIGKILL);
	close(go[1]);
	int st = 0;
	waitpid(c, &st, 0);
	ok(cgroup_destroy(CGROUP_ROOT, path, &e) >= 0, "destroy %s: %s", tag, e.msg);
	return st;
}

static int allocate_64m(void)
{
	size_t n = 64u << 20;
	char *p = malloc(n);
	if (!p)
		return 3;
	volatile char *touch = p; /* keeps the compiler from eliding the allocation */
	for (size_t i = 0; i < n; i += 4096)
		touch[i] = 1;
	free(p);
	return 0;
}

TEST(cgroup_v1_memory_limit_oom_kills_child)
{
	if (cgroup_detect(CGROUP_ROOT) != CGROUP_V1 || access(CGROUP_ROOT "/memory", W_OK) != 0) {
		tap_skip("needs writable cgroup v1 memory hierarchy");
		return;
	}
	struct spec_resources r;
	res_init(&r);
	r.memory_limit = 16 << 20;
	int st = run_in_cgroup("mem", &r, allocate_64m);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "child past 16 MiB is OOM-killed (status %#x)", st);
	res_init(&r);
	r.memory_limit = 256 << 20;
	st = run_in_cgroup("mem2", &r, allocate_64m);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child within 256 MiB runs (status %#x)", st);
}

static int open_kmsg(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno == EPERM ? 1 : 2;
}

TEST(cgroup_v1_devices_deny_blocks_open)
{
	if (cgroup_detect(CGROUP_ROOT) != CGROUP_V1 || access(CGROUP_ROOT "/devices", W_OK) != 0 ||
	    access("/dev/kmsg", R_OK) != 0) {
		tap_skip("needs writable cgroup v1 devices hierarchy and /dev/kmsg");
		return;
	}
	struct spec_resources r;
	res_init(&r);
	r.devices = json_loads("[{\"allow\":false,\"access\":\"rwm\"}]", 0, NULL);
	int st = run_in_cgroup("dev", &r, open_kmsg);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 1, "open /dev/kmsg denied with EPERM (status %#x)", st);
	json_decref(r.devices);
	res_init(&r);
	st = run_in_cgroup("dev2", &r, open_kmsg);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "without rules /dev/kmsg opens (status %#x)", st);
}
