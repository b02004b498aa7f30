/* SPDX-License-Identifier: MIT */
/* The seccomp filter compiled before clone (spec_seccomp_prepare): one
 * compilation per profile, shared by the specs that have it; another
 * profile gets its own; the program loaded from it blocks what the
 * profile names and nothing else. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <jansson.h>
#include <linux/filter.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tap.h"
#include "core/err.h"
#include "ctr/ctr.h"
#include "ctr/spec.h"

/* A spec with ros's default profile for these bounding capabilities. */
static struct spec *spec_with_profile(const char *caps_json)
{
	json_t *doc = spec_default(false);
	json_t *caps = json_loads(caps_json, 0, NULL);
	json_object_set_new(json_object_get(doc, "linux"), "seccomp", spec_default_seccomp(caps));
	json_decref(caps);
	struct spec *s = NULL;
	struct ros_err e = {0};
	int r = spec_parse(doc, "/b", &s, &e);
	json_decref(doc);
	ok(r == 0 && s && s->has_seccomp, "parse: %s", e.msg);
	return s;
}

static bool same_program(const struct spec_seccomp *a, const struct spec_seccomp *b)
{
	return a->bpf_len == b->bpf_len && a->bpf_flags == b->bpf_flags &&
	       !memcmp(a->bpf, b->bpf, a->bpf_len * sizeof(*a->bpf));
}

/* With an empty cache: a and b with the default profile, t with the one
 * for CAP_SYS_TIME, prepared in the order given ("abt": a, b, t). */
static bool prepared_specs(const char *order, struct spec **a, struct spec **b, struct spec **t)
{
	spec_seccomp_cache_clear();
	*a = spec_with_profile("[]");
	*b = spec_with_profile("[]");
	*t = spec_with_profile("[\"CAP_SYS_TIME\"]");
	if (!*a || !*b || !*t)
		return false;
	const char *what = "";
	for (const char *c = order; *c; c++) {
		struct spec *s = *c == 'a' ? *a : *c == 'b' ? *b : *t;
		is_int(spec_seccomp_prepare(&s->seccomp, &what), 0);
	}
	return true;
}

TEST(the_same_profile_compiles_to_one_program_and_another_to_its_own)
{
	struct spec *a, *b, *t;
	if (!prepared_specs("abt", &a, &b, &t))
		return;
	ok(a->seccomp.bpf && a->seccomp.bpf_len > 0, "a program");
	ok(same_program(&a->seccomp, &b->seccomp), "the same program for the same profile");
	ok(a->seccomp.bpf != b->seccomp.bpf, "each spec owns its copy");
	ok(!same_program(&a->seccomp, &t->seccomp), "another program for another profile");
	/* the cache emptied: the spec's copy stays valid */
	spec_seccomp_cache_clear();
	ok(a->seccomp.bpf_len > 0 && a->seccomp.bpf[0].code == b->seccomp.bpf[0].code, "copy outlives the cache");
	spec_free(a);
	spec_free(b);
	spec_free(t);
}

/* In a child: load s's prepared filter, then report whether keyctl and
 * settimeofday(NULL, NULL) fail with EPERM (bits 1, 2) and getppid works
 * (bit 4). */
static int probe(const struct spec *s)
{
	pid_t c = fork();
	if (c == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || spec_seccomp_install(&s->seccomp) < 0)
			_exit(100);
		int st = 0;
		errno = 0;
		if (syscall(SYS_keyctl, 0, 0, 0, 0, 0) < 0 && errno == EPERM)
			st |= 1;
		errno = 0;
		/* with both NULL, settimeofday changes nothing: only the filter can fail it */
		if (syscall(SYS_settimeofday, NULL, NULL) < 0 && errno == EPERM)
			st |= 2;
		if (getppid() > 0)
			st |= 4;
		_exit(st);
	}
	int st = 0;
	waitpid(c, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 200;
}

TEST(a_shared_compiled_filter_still_blocks_what_its_profile_names)
{
	struct spec *a, *b, *t;
	if (!prepared_specs("atb", &a, &b, &t)) /* b from the cache */
		return;
	is_int(probe(a), 1 | 2 | 4);
	is_int(probe(b), 1 | 2 | 4);
	/* CAP_SYS_TIME opens the clock syscalls, not keyctl */
	is_int(probe(t), 1 | 4);
	spec_free(a);
	spec_free(b);
	spec_free(t);
	spec_seccomp_cache_clear();
}

TEST(a_bad_rule_fails_to_compile_naming_it)
{
	json_t *doc = spec_default(false);
	json_object_set_new(json_object_get(doc, "linux"), "seccomp",
	                    json_pack("{s:s, s:[{s:[s], s:s, s:[{s:i, s:i, s:s}]}]}", "defaultAction", "SCMP_ACT_ALLOW",
	                              "syscalls", "names", "getpid", "action", "SCMP_ACT_ERRNO", "args", "index", 9,
	                              "value", 1, "op", "SCMP_CMP_EQ"));
	struct spec *s = NULL;
	struct ros_err e = {0};
	int r = spec_parse(doc, "/b", &s, &e);
	json_decref(doc);
	if (r < 0) {
		ok(1, "refused at parse: %s", e.msg);
		return;
	}
	const char *what = "";
	ok(spec_seccomp_prepare(&s->seccomp, &what) < 0, "refused at compile");
	ok(strstr(what, "getpid") != NULL, "names the rule: %s", what);
	spec_free(s);
}

/* ---- containers created one after another in one process (as sysctr) ---- */

/* A busybox root in a temporary bundle; NULL when this host cannot run
 * containers here (not root, no static busybox). */
static const char *bundle_dir(void)
{
	static char dir[64];
	if (*dir)
		return dir;
	if (geteuid() != 0 || access("/usr/bin/busybox", X_OK) != 0)
		return NULL;
	snprintf(dir, sizeof(dir), "/tmp/ros-test-seccomp-XXXXXX");
	if (!mkdtemp(dir))
		return NULL;
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
	         "mkdir -p %s/rootfs/bin %s/rootfs/proc %s/rootfs/dev %s/rootfs/sys %s/rootfs/tmp && "
	         "cp /usr/bin/busybox %s/rootfs/bin/ && ln -s busybox %s/rootfs/bin/sh",
	         dir, dir, dir, dir, dir, dir, dir);
	if (system(cmd) != 0)
		return NULL;
	return dir;
}

/* Runs `mkdir /tmp/x` in a container whose profile denies the syscalls
 * in deny (JSON array of names) with EPERM; returns its exit code (3 when
 * mkdir failed) or -1. */
static int mkdir_in_container(const char *bundle, const char *id, const char *deny)
{
	json_t *doc = spec_default(false);
	json_t *proc = json_object_get(doc, "process"), *lx = json_object_get(doc, "linux");
	json_object_set_new(proc, "terminal", json_false());
	json_object_set_new(proc, "args", json_pack("[s, s, s]", "sh", "-c", "mkdir /tmp/x && exit 0 || exit 3"));
	json_object_set_new(proc, "env", json_pack("[s]", "PATH=/bin"));
	json_array_append_new(json_object_get(doc, "mounts"),
	                      json_pack("{s:s, s:s, s:s}", "destination", "/tmp", "type", "tmpfs", "source", "tmpfs"));
	json_object_set_new(lx, "seccomp",
	                    json_pack("{s:s, s:[{s:o, s:s, s:i}]}", "defaultAction", "SCMP_ACT_ALLOW", "syscalls",
	                              "names", json_loads(deny, 0, NULL), "action", "SCMP_ACT_ERRNO", "errnoRet", 1));
	char state[128];
	snprintf(state, sizeof(state), "%s/state", bundle);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	pid_t pid = 0;
	struct ctr_create_opts o = {.state_root = state,
	                            .id = id,
	                            .bundle = bundle,
	                            .spec = doc,
	                            .stdio = {null, null, null},
	                            .pid_out = &pid};
	struct ros_err e = {0};
	int r = ctr_create(&o, &e);
	json_decref(doc);
	close(null);
	ok(r >= 0, "create %s: %s", id, e.msg);
	if (r < 0)
		return -1;
	r = ctr_start(state, id, &e);
	ok(r >= 0, "start %s: %s", id, e.msg);
	int st = 0;
	waitpid(pid, &st, 0);
	ok(ctr_delete(state, id, true, &e) >= 0, "delete %s: %s", id, e.msg);
	return r < 0 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 200;
}

TEST(containers_in_one_process_each_get_their_profile_and_a_reused_one_still_blocks)
{
	const char *bundle = bundle_dir();
	if (!bundle) {
		tap_skip("needs root and a static /usr/bin/busybox");
		return;
	}
	spec_seccomp_cache_clear();
	const char *deny_mkdir = "[\"mkdir\", \"mkdirat\"]", *deny_rmdir = "[\"rmdir\"]";
	char id[64];
	snprintf(id, sizeof(id), "seccomp-a-%d", (int)getpid());
	is_int(mkdir_in_container(bundle, id, deny_mkdir), 3);
	snprintf(id, sizeof(id), "seccomp-b-%d", (int)getpid());
	is_int(mkdir_in_container(bundle, id, deny_rmdir), 0);
	/* the first profile again: its compilation is reused, and still blocks */
	snprintf(id, sizeof(id), "seccomp-c-%d", (int)getpid());
	is_int(mkdir_in_container(bundle, id, deny_mkdir), 3);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", bundle);
	ok(system(cmd) == 0, "remove %s", bundle);
	spec_seccomp_cache_clear();
}
