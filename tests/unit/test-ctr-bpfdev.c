/* SPDX-License-Identifier: MIT */
/* The cgroup v2 device program: what bpfdev_program emits for rule lists
 * (run through a small interpreter of the instructions it uses), that the
 * kernel's verifier accepts it, and that cgroup_setup on a cgroup2
 * hierarchy makes the kernel enforce it.  The kernel parts skip without
 * BPF_PROG_LOAD or a writable cgroup2 mount. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "ctr/bpfdev.h"
#include "ctr/cgroup.h"
#include "tap.h"

#define R BPF_DEVCG_ACC_READ
#define W BPF_DEVCG_ACC_WRITE
#define M BPF_DEVCG_ACC_MKNOD
#define ANY BPFDEV_ANY
#define CHAR BPF_DEVCG_DEV_CHAR
#define BLOCK BPF_DEVCG_DEV_BLOCK

struct prog {
	struct bpf_insn insns[1024];
	int n;
};

static int build(struct prog *p, const struct bpfdev_rule *rules, size_t n)
{
	memset(p, 0, sizeof(*p));
	p->n = bpfdev_program(rules, n, p->insns, ARRAY_SIZE(p->insns));
	return p->n;
}

/* Runs the program the way the kernel would for one request: its return
 * value, or -1 for an instruction the generator is not meant to emit (or
 * a jump out of the program). */
static int run(const struct prog *p, unsigned type, unsigned access, unsigned major, unsigned minor)
{
	struct bpf_cgroup_dev_ctx ctx = {.access_type = access << 16 | type, .major = major, .minor = minor};
	uint64_t reg[MAX_BPF_REG] = {0};
	bool ctx_in_r1 = true;
	for (int pc = 0, steps = 0; pc >= 0 && pc < p->n && steps < 10000; pc++, steps++) {
		const struct bpf_insn *i = &p->insns[pc];
		uint64_t k = (uint64_t)(int64_t)i->imm;
		uint32_t src32 = BPF_SRC(i->code) == BPF_X ? (uint32_t)reg[i->src_reg] : (uint32_t)i->imm;
		switch (i->code) {
		case BPF_LDX | BPF_MEM | BPF_W:
			if (i->src_reg != BPF_REG_1 || !ctx_in_r1 || i->off < 0 || i->off % 4 ||
			    (size_t)i->off + 4 > sizeof(ctx))
				return -1;
			reg[i->dst_reg] = ((const uint32_t *)&ctx)[i->off / 4];
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			reg[i->dst_reg] = (uint32_t)reg[i->dst_reg] & src32;
			break;
		case BPF_ALU | BPF_RSH | BPF_K:
			reg[i->dst_reg] = (uint32_t)reg[i->dst_reg] >> (src32 & 31);
			break;
		case BPF_ALU | BPF_MOV | BPF_X:
			reg[i->dst_reg] = src32;
			break;
		case BPF_ALU64 | BPF_MOV | BPF_K:
			reg[i->dst_reg] = k;
			break;
		case BPF_JMP | BPF_JNE | BPF_K:
			if (reg[i->dst_reg] != k)
				pc += i->off;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			if (reg[i->dst_reg] == k)
				pc += i->off;
			break;
		case BPF_JMP | BPF_EXIT:
			return (int)reg[BPF_REG_0];
		default:
			return -1;
		}
		if (i->dst_reg == BPF_REG_1 && BPF_CLASS(i->code) != BPF_JMP)
			ctx_in_r1 = false;
	}
	return -1;
}

static bool last_is_return(const struct prog *p, int value)
{
	return p->n >= 2 && p->insns[p->n - 2].code == (BPF_ALU64 | BPF_MOV | BPF_K) &&
	       p->insns[p->n - 2].dst_reg == BPF_REG_0 && p->insns[p->n - 2].imm == value &&
	       p->insns[p->n - 1].code == (BPF_JMP | BPF_EXIT);
}

/* Whether the kernel loads programs of this type here ("" when it does). */
static const char *no_load_reason(void)
{
	static char why[128];
	struct bpfdev_rule allow_all = {true, 'a', ANY, ANY, BPFDEV_ACC_ALL};
	struct prog p;
	build(&p, &allow_all, 1);
	struct ros_err e = {0};
	int fd = bpfdev_load(p.insns, (size_t)p.n, &e);
	if (fd >= 0) {
		close(fd);
		return "";
	}
	snprintf(why, sizeof(why), "BPF_PROG_LOAD of a device program: %s", strerror(-fd));
	return why;
}

/* Loads p into the kernel: true when the verifier accepts it. */
static bool verifier_accepts(const struct prog *p, const char *what)
{
	struct ros_err e = {0};
	int fd = bpfdev_load(p->insns, (size_t)p->n, &e);
	ok(fd >= 0, "verifier accepts %s: %s", what, e.msg);
	if (fd < 0)
		return false;
	struct stat st;
	ok(fstat(fd, &st) == 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC), "%s: a close-on-exec fd", what);
	close(fd);
	return true;
}

TEST(access_letters_map_to_bpf_bits)
{
	unsigned a = 0;
	ok(bpfdev_access("rwm", &a) == 0 && a == (R | W | M), "rwm");
	ok(bpfdev_access("r", &a) == 0 && a == R, "r");
	ok(bpfdev_access("mw", &a) == 0 && a == (W | M), "mw");
	ok(bpfdev_access("", &a) == 0 && a == BPFDEV_ACC_ALL, "empty is all");
	ok(bpfdev_access(NULL, &a) == 0 && a == BPFDEV_ACC_ALL, "absent is all");
	is_int(bpfdev_access("rx", &a), -EINVAL);
}

TEST(no_rules_denies_everything)
{
	struct prog p;
	is_int(build(&p, NULL, 0), 8); /* six loads and shifts, return 0 */
	ok(last_is_return(&p, 0), "ends in return 0");
	is_int(run(&p, CHAR, R, 1, 3), 0);
	is_int(run(&p, BLOCK, M, 8, 0), 0);
}

TEST(allow_all_rule_returns_1)
{
	struct bpfdev_rule rules[] = {{true, 'a', ANY, ANY, BPFDEV_ACC_ALL}};
	struct prog p;
	is_int(build(&p, rules, 1), 8); /* the preamble and return 1: no default deny after it */
	ok(last_is_return(&p, 1), "ends in return 1");
	is_int(run(&p, CHAR, R | W, 1, 11), 1);
	is_int(run(&p, BLOCK, M, 8, 0), 1);
}

TEST(deny_all_then_allow_null_allows_only_null_read_write)
{
	struct bpfdev_rule rules[] = {{false, 'a', ANY, ANY, BPFDEV_ACC_ALL}, {true, 'c', 1, 3, R | W}};
	struct prog p;
	/* null: type, major, minor, clear r/w, still undecided?, mov r0 + exit; deny-all ends it */
	is_int(build(&p, rules, 2), 6 + 7 + 2);
	ok(last_is_return(&p, 0), "ends in return 0");
	is_int(run(&p, CHAR, R, 1, 3), 1);
	is_int(run(&p, CHAR, R | W, 1, 3), 1);
	is_int(run(&p, CHAR, M, 1, 3), 0);
	is_int(run(&p, CHAR, R | M, 1, 3), 0);
	is_int(run(&p, CHAR, R, 1, 11), 0);
	is_int(run(&p, BLOCK, R, 1, 3), 0);
}

TEST(last_matching_rule_wins)
{
	struct bpfdev_rule allow_then_deny[] = {{true, 'c', 1, 11, BPFDEV_ACC_ALL},
	                                        {false, 'c', 1, 11, BPFDEV_ACC_ALL}};
	struct bpfdev_rule deny_then_allow[] = {{false, 'c', 1, 11, BPFDEV_ACC_ALL},
	                                        {true, 'c', 1, 11, BPFDEV_ACC_ALL}};
	struct prog p;
	ok(build(&p, allow_then_deny, 2) > 0, "built");
	is_int(run(&p, CHAR, R, 1, 11), 0);
	ok(build(&p, deny_then_allow, 2) > 0, "built");
	is_int(run(&p, CHAR, R, 1, 11), 1);
	is_int(run(&p, CHAR, R, 1, 12), 0);
}

TEST(a_later_deny_of_one_access_bit_denies_requests_with_it)
{
	struct bpfdev_rule rules[] = {{true, 'a', ANY, ANY, BPFDEV_ACC_ALL}, {false, 'c', 1, 3, W}};
	struct prog p;
	/* the deny: type, major, minor, copy, and, jeq, mov r0 + exit; allow-all ends it */
	is_int(build(&p, rules, 2), 6 + 8 + 2);
	ok(last_is_return(&p, 1), "ends in return 1");
	is_int(run(&p, CHAR, R, 1, 3), 1);
	is_int(run(&p, CHAR, W, 1, 3), 0);
	is_int(run(&p, CHAR, R | W, 1, 3), 0);
	is_int(run(&p, CHAR, W, 1, 5), 1);
}

TEST(access_bits_allowed_by_separate_rules_add_up)
{
	struct bpfdev_rule rules[] = {
	        {false, 'a', ANY, ANY, BPFDEV_ACC_ALL}, {true, 'c', 1, 3, R}, {true, 'c', 1, 3, W}};
	struct prog p;
	ok(build(&p, rules, 3) > 0, "built");
	is_int(run(&p, CHAR, R | W, 1, 3), 1);
	is_int(run(&p, CHAR, W, 1, 3), 1);
	is_int(run(&p, CHAR, R | W | M, 1, 3), 0);
}

TEST(wildcards_match_any_major_or_minor)
{
	struct bpfdev_rule rules[] = {{true, 'c', 136, ANY, BPFDEV_ACC_ALL}, {true, 'b', ANY, ANY, M}};
	struct prog p;
	/* block mknod: type, clear m, undecided?, mov r0 + exit; pts: type, major, mov + exit;
	 * the default deny */
	is_int(build(&p, rules, 2), 6 + 5 + 4 + 2);
	is_int(run(&p, CHAR, R | W, 136, 0), 1);
	is_int(run(&p, CHAR, R | W, 136, 77), 1);
	is_int(run(&p, CHAR, R, 137, 0), 0);
	is_int(run(&p, BLOCK, R, 136, 0), 0);
	is_int(run(&p, BLOCK, M, 8, 1), 1);
	is_int(run(&p, BLOCK, R, 8, 1), 0);
}

TEST(rules_before_a_rule_for_everything_are_left_out)
{
	struct bpfdev_rule rules[] = {{true, 'c', 1, 3, BPFDEV_ACC_ALL}, {false, 'a', ANY, ANY, BPFDEV_ACC_ALL}};
	struct prog p;
	is_int(build(&p, rules, 2), 8);
	ok(last_is_return(&p, 0), "ends in return 0");
	is_int(run(&p, CHAR, R, 1, 3), 0);
}

TEST(bad_rules_and_short_room_are_refused)
{
	struct bpf_insn insns[64];
	struct bpfdev_rule bad_type = {true, 'u', 1, 3, BPFDEV_ACC_ALL};
	struct bpfdev_rule no_access = {true, 'c', 1, 3, 0};
	struct bpfdev_rule huge_major = {true, 'c', 1LL << 40, 3, BPFDEV_ACC_ALL};
	struct bpfdev_rule negative_minor = {true, 'c', 1, -2, BPFDEV_ACC_ALL};
	struct bpfdev_rule fine = {true, 'c', 1, 3, BPFDEV_ACC_ALL};
	is_int(bpfdev_program(&bad_type, 1, insns, ARRAY_SIZE(insns)), -EINVAL);
	is_int(bpfdev_program(&no_access, 1, insns, ARRAY_SIZE(insns)), -EINVAL);
	is_int(bpfdev_program(&huge_major, 1, insns, ARRAY_SIZE(insns)), -ERANGE);
	is_int(bpfdev_program(&negative_minor, 1, insns, ARRAY_SIZE(insns)), -ERANGE);
	is_int(bpfdev_program(&fine, 1, insns, 9), -ENOSPC);
	ok(bpfdev_program(&fine, 1, insns, bpfdev_max_insns(1)) > 0, "fits in bpfdev_max_insns");
}

TEST(the_verifier_accepts_the_generated_programs)
{
	const char *why = no_load_reason();
	if (*why) {
		tap_skip(why);
		return;
	}
	struct bpfdev_rule allow_all[] = {{true, 'a', ANY, ANY, BPFDEV_ACC_ALL}};
	struct bpfdev_rule null_only[] = {{false, 'a', ANY, ANY, BPFDEV_ACC_ALL}, {true, 'c', 1, 3, R | W}};
	struct bpfdev_rule mixed[] = {{true, 'a', ANY, ANY, BPFDEV_ACC_ALL},
	                              {false, 'c', 1, 3, W},
	                              {false, 'b', ANY, 0, R | M},
	                              {true, 'c', 136, ANY, BPFDEV_ACC_ALL},
	                              {true, 'c', 1, 3, R}};
	struct prog p;
	build(&p, NULL, 0);
	verifier_accepts(&p, "no rules");
	build(&p, allow_all, ARRAY_SIZE(allow_all));
	verifier_accepts(&p, "allow all");
	build(&p, null_only, ARRAY_SIZE(null_only));
	verifier_accepts(&p, "deny all, allow null");
	build(&p, mixed, ARRAY_SIZE(mixed));
	verifier_accepts(&p, "mixed rules");
	/* many rules: every wildcard and access combination */
	struct bpfdev_rule many[120];
	for (size_t k = 0; k < ARRAY_SIZE(many); k++)
		many[k] = (struct bpfdev_rule){k % 3 != 0, "abc"[k % 3], k % 5 ? (int64_t)k : ANY,
		                               k % 7 ? (int64_t)(k * 1000) : ANY, (unsigned)(k % 7) + 1};
	ok(build(&p, many, ARRAY_SIZE(many)) > 0, "built many");
	verifier_accepts(&p, "120 rules");
}

/* A cgroup2 hierarchy to test in: /sys/fs/cgroup, or the hybrid layout's
 * /sys/fs/cgroup/unified (device programs need no controller). */
static const char *cgroup2_root(void)
{
	static const char *const roots[] = {CGROUP_ROOT, CGROUP_ROOT "/unified"};
	for (size_t i = 0; i < ARRAY_SIZE(roots); i++)
		if (cgroup_detect(roots[i]) == CGROUP_V2 && access(roots[i], W_OK) == 0)
			return roots[i];
	return NULL;
}

static int open_errno(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* What the child reports: bit 0 /dev/null read-write failed, bit 1 /dev/kmsg
 * opened for reading, bit 2 for writing, bit 3 /dev/kmsg failed with
 * something other than EPERM. */
static int probe_devices(void)
{
	int st = 0, rd = open_errno("/dev/kmsg", O_RDONLY), wr = open_errno("/dev/kmsg", O_WRONLY);
	if (open_errno("/dev/null", O_RDWR))
		st |= 1;
	if (!rd)
		st |= 2;
	if (!wr)
		st |= 4;
	if ((rd && rd != EPERM) || (wr && wr != EPERM))
		st |= 8;
	return st;
}

/* Runs probe_devices in a child placed by cgroup_setup in a fresh cgroup
 * of the cgroup2 root with devices (JSON); returns its exit code. */
static int probe_in_cgroup(const char *root, const char *tag, const char *devices)
{
	struct spec_resources r;
	memset(&r, 0, sizeof(r));
	r.memory_limit = r.memory_reservation = r.memory_swap = -1;
	r.devices = json_loads(devices, 0, NULL);
	int go[2];
	if (!r.devices || pipe2(go, O_CLOEXEC) != 0)
		return -1;
	pid_t c = fork();
	if (c == 0) {
		char b;
		close(go[1]);
		if (read(go[0], &b, 1) != 1)
			_exit(100);
		_exit(probe_devices());
	}
	close(go[0]);
	char path[64];
	snprintf(path, sizeof(path), "/roci-test-bpfdev-%s-%d", tag, (int)getpid());
	struct ros_err e = {0};
	int x = cgroup_setup(root, path, &r, c, &e);
	ok(x >= 0, "cgroup_setup %s%s: %s", root, path, e.msg);
	if (x >= 0) {
		char dir[256];
		snprintf(dir, sizeof(dir), "%s%s", root, path);
		is_int(bpfdev_count_attached(dir, &e), 1);
	}
	if (x < 0 || write(go[1], "g", 1) != 1)
		kill(c, SIGKILL);
	close(go[1]);
	int st = 0;
	waitpid(c, &st, 0);
	ok(x < 0 || cgroup_destroy(root, path, &e) >= 0, "destroy %s: %s", path, e.msg);
	json_decref(r.devices);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 200;
}

TEST(cgroup_setup_on_cgroup2_enforces_the_device_rules)
{
	const char *root = cgroup2_root(), *why = no_load_reason();
	if (!root || *why || access("/dev/kmsg", R_OK) != 0) {
		tap_skip(!root ? "no writable cgroup2 hierarchy" : *why ? why : "no readable /dev/kmsg");
		return;
	}
	/* kmsg (c 1:11) is in no default rule */
	is_int(probe_in_cgroup(root, "deny", "[{\"allow\": false, \"access\": \"rwm\"}]"), 0);
	is_int(probe_in_cgroup(root, "allow",
	                       "[{\"allow\": false, \"access\": \"rwm\"},"
	                       " {\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 11, \"access\": \"r\"}]"),
	       2);
	is_int(probe_in_cgroup(root, "allall", "[{\"allow\": true, \"access\": \"rwm\"}]"), 2 | 4);
	/* without rules no program is attached: like v1, the parent's rules hold */
}

TEST(attaching_again_replaces_the_previous_program)
{
	const char *root = cgroup2_root(), *why = no_load_reason();
	if (!root || *why) {
		tap_skip(!root ? "no writable cgroup2 hierarchy" : why);
		return;
	}
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/roci-test-bpfdev-replace-%d", root, (int)getpid());
	ok(mkdir(dir, 0755) == 0, "mkdir %s: %s", dir, strerror(errno));
	struct bpfdev_rule deny_all = {false, 'a', ANY, ANY, BPFDEV_ACC_ALL};
	struct bpfdev_rule allow_all = {true, 'a', ANY, ANY, BPFDEV_ACC_ALL};
	struct ros_err e = {0};
	ok(bpfdev_apply(dir, &deny_all, 1, &e) >= 0, "first: %s", e.msg);
	is_int(bpfdev_count_attached(dir, &e), 1);
	ok(bpfdev_apply(dir, &allow_all, 1, &e) >= 0, "second: %s", e.msg);
	is_int(bpfdev_count_attached(dir, &e), 1);
	/* the one left is the second: a process in the cgroup opens /dev/null */
	pid_t c = fork();
	if (c == 0) {
		char procs[300];
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
		int fd = open(procs, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1)
			_exit(100);
		close(fd);
		_exit(open_errno("/dev/null", O_RDWR) ? 1 : 0);
	}
	int st = 0;
	waitpid(c, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "/dev/null opens under the replacing program (status %#x)", st);
	int r = -1;
	for (int i = 0; i < 100 && (r = rmdir(dir)) < 0 && errno == EBUSY; i++)
		usleep(10000); /* the exited child leaves the cgroup shortly after */
	ok(r == 0, "rmdir %s: %s", dir, strerror(errno));
}

/* The ids of the device programs attached to dir itself (up to 8). */
static int attached_ids(const char *dir, uint32_t *ids, uint32_t *n)
{
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.query.target_fd = (uint32_t)dfd;
	attr.query.attach_type = BPF_CGROUP_DEVICE;
	attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
	attr.query.prog_cnt = 8;
	if (syscall(SYS_bpf, BPF_PROG_QUERY, &attr, sizeof(attr)) < 0)
		return -errno;
	*n = attr.query.prog_cnt;
	return 0;
}

static void rmdir_settled(const char *dir)
{
	int r = -1;
	for (int i = 0; i < 100 && (r = rmdir(dir)) < 0 && errno == EBUSY; i++)
		usleep(10000);
	ok(r == 0, "rmdir %s: %s", dir, strerror(errno));
}

TEST(the_same_rules_share_one_program_and_other_rules_get_their_own)
{
	const char *root = cgroup2_root(), *why = no_load_reason();
	if (!root || *why) {
		tap_skip(!root ? "no writable cgroup2 hierarchy" : why);
		return;
	}
	bpfdev_cache_clear();
	struct bpfdev_rule null_only[] = {{false, 'a', ANY, ANY, BPFDEV_ACC_ALL}, {true, 'c', 1, 3, R | W}};
	struct bpfdev_rule zero_only[] = {{false, 'a', ANY, ANY, BPFDEV_ACC_ALL}, {true, 'c', 1, 5, R | W}};
	char dirs[3][256];
	uint32_t ids[3][8], n[3] = {0, 0, 0};
	struct ros_err e = {0};
	for (int i = 0; i < 3; i++) {
		snprintf(dirs[i], sizeof(dirs[i]), "%s/roci-test-bpfdev-share%d-%d", root, i, (int)getpid());
		ok(mkdir(dirs[i], 0755) == 0, "mkdir %s: %s", dirs[i], strerror(errno));
		ok(bpfdev_apply(dirs[i], i < 2 ? null_only : zero_only, 2, &e) >= 0, "apply %d: %s", i, e.msg);
		is_int(attached_ids(dirs[i], ids[i], &n[i]), 0);
		is_int(n[i], 1);
	}
	ok(ids[0][0] == ids[1][0], "one program for the same rules (%u, %u)", ids[0][0], ids[1][0]);
	ok(ids[2][0] != ids[0][0], "another program for other rules (%u, %u)", ids[2][0], ids[0][0]);
	/* the shared program applied again where it is attached: kept, once */
	ok(bpfdev_apply(dirs[0], null_only, 2, &e) >= 0, "apply again: %s", e.msg);
	is_int(attached_ids(dirs[0], ids[0], &n[0]), 0);
	is_int(n[0], 1);
	ok(ids[0][0] == ids[1][0], "the same program stays attached");
	for (int i = 0; i < 3; i++)
		rmdir_settled(dirs[i]);
	bpfdev_cache_clear();
}

TEST(a_shared_program_still_enforces_its_rules_in_each_cgroup)
{
	const char *root = cgroup2_root(), *why = no_load_reason();
	if (!root || *why || access("/dev/kmsg", R_OK) != 0) {
		tap_skip(!root ? "no writable cgroup2 hierarchy" : *why ? why : "no readable /dev/kmsg");
		return;
	}
	bpfdev_cache_clear();
	const char *deny = "[{\"allow\": false, \"access\": \"rwm\"}]";
	const char *kmsg_read = "[{\"allow\": false, \"access\": \"rwm\"},"
	                        " {\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 11, \"access\": \"r\"}]";
	/* deny, allow, deny again (the kept program), allow again */
	is_int(probe_in_cgroup(root, "share-deny1", deny), 0);
	is_int(probe_in_cgroup(root, "share-allow1", kmsg_read), 2);
	is_int(probe_in_cgroup(root, "share-deny2", deny), 0);
	is_int(probe_in_cgroup(root, "share-allow2", kmsg_read), 2);
	bpfdev_cache_clear();
}
