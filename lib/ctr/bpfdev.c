/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "bpfdev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/cleanup.h"

/* The encodings of the few instructions the program uses (what the
 * kernel's filter.h calls BPF_LDX_MEM, BPF_ALU32_IMM, BPF_JMP_IMM, ...). */
#define INSN(code_, dst_, src_, off_, imm_)                                                                            \
	((struct bpf_insn){.code = (code_), .dst_reg = (dst_), .src_reg = (src_), .off = (off_), .imm = (imm_)})
#define LDX_W(dst, src, off) INSN(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define ALU32_IMM(op, dst, imm) INSN(BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define MOV32_REG(dst, src) INSN(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV64_IMM(dst, imm) INSN(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define JMP_IMM(op, dst, imm) INSN(BPF_JMP | (op) | BPF_K, dst, 0, 0, imm) /* off set when the target is known */
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* Registers after the preamble: the device type, the access bits not yet
 * decided, major, minor (struct bpf_cgroup_dev_ctx is in r1). */
enum {
	R_CTX = BPF_REG_1,
	R_TMP = BPF_REG_1,
	R_TYPE = BPF_REG_2,
	R_ACCESS = BPF_REG_3,
	R_MAJOR = BPF_REG_4,
	R_MINOR = BPF_REG_5
};

#define PREAMBLE_INSNS 6
#define TAIL_INSNS 2
#define RULE_MAX_INSNS 8 /* three device checks, three access, return */

int bpfdev_access(const char *letters, unsigned *access)
{
	unsigned a = 0;
	for (const char *p = letters ? letters : ""; *p; p++) {
		if (*p == 'r')
			a |= BPF_DEVCG_ACC_READ;
		else if (*p == 'w')
			a |= BPF_DEVCG_ACC_WRITE;
		else if (*p == 'm')
			a |= BPF_DEVCG_ACC_MKNOD;
		else
			return -EINVAL;
	}
	*access = a ? a : BPFDEV_ACC_ALL;
	return 0;
}

size_t bpfdev_max_insns(size_t n)
{
	return PREAMBLE_INSNS + n * RULE_MAX_INSNS + TAIL_INSNS;
}

static bool number_ok(int64_t v)
{
	return v == BPFDEV_ANY || (v >= 0 && v <= INT32_MAX);
}

int bpfdev_program(const struct bpfdev_rule *rules, size_t n, struct bpf_insn *insns, size_t cap)
{
	size_t pos = 0;
	if (cap < PREAMBLE_INSNS + TAIL_INSNS)
		return -ENOSPC;
	/* access_type is (access << 16) | type */
	insns[pos++] = LDX_W(R_TYPE, R_CTX, offsetof(struct bpf_cgroup_dev_ctx, access_type));
	insns[pos++] = ALU32_IMM(BPF_AND, R_TYPE, 0xffff);
	insns[pos++] = LDX_W(R_ACCESS, R_CTX, offsetof(struct bpf_cgroup_dev_ctx, access_type));
	insns[pos++] = ALU32_IMM(BPF_RSH, R_ACCESS, 16);
	insns[pos++] = LDX_W(R_MAJOR, R_CTX, offsetof(struct bpf_cgroup_dev_ctx, major));
	insns[pos++] = LDX_W(R_MINOR, R_CTX, offsetof(struct bpf_cgroup_dev_ctx, minor));

	/* Last rule first, so the first block that decides is the last rule
	 * that matches.  A block that matches the device and lets every bit
	 * still undecided through returns 1; an allow that covers some of them
	 * clears those and goes on; a deny that names one of them returns 0. */
	for (size_t k = n; k-- > 0;) {
		const struct bpfdev_rule *r = &rules[k];
		if ((r->type != 'a' && r->type != 'b' && r->type != 'c') || !r->access || (r->access & ~BPFDEV_ACC_ALL))
			return -EINVAL;
		if (!number_ok(r->major) || !number_ok(r->minor))
			return -ERANGE;
		if (cap - pos < RULE_MAX_INSNS + TAIL_INSNS)
			return -ENOSPC;
		size_t jumps[RULE_MAX_INSNS], n_jumps = 0;
		if (r->type != 'a') {
			jumps[n_jumps++] = pos;
			insns[pos++] =
			        JMP_IMM(BPF_JNE, R_TYPE, r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
		}
		if (r->major != BPFDEV_ANY) {
			jumps[n_jumps++] = pos;
			insns[pos++] = JMP_IMM(BPF_JNE, R_MAJOR, (int32_t)r->major);
		}
		if (r->minor != BPFDEV_ANY) {
			jumps[n_jumps++] = pos;
			insns[pos++] = JMP_IMM(BPF_JNE, R_MINOR, (int32_t)r->minor);
		}
		if (r->access != BPFDEV_ACC_ALL) {
			if (r->allow) {
				insns[pos++] = ALU32_IMM(BPF_AND, R_ACCESS, (int32_t)(~r->access & BPFDEV_ACC_ALL));
				jumps[n_jumps++] = pos;
				insns[pos++] = JMP_IMM(BPF_JNE, R_ACCESS, 0);
			} else {
				insns[pos++] = MOV32_REG(R_TMP, R_ACCESS);
				insns[pos++] = ALU32_IMM(BPF_AND, R_TMP, (int32_t)r->access);
				jumps[n_jumps++] = pos;
				insns[pos++] = JMP_IMM(BPF_JEQ, R_TMP, 0);
			}
		}
		insns[pos++] = MOV64_IMM(BPF_REG_0, r->allow ? 1 : 0);
		insns[pos++] = EXIT();
		for (size_t j = 0; j < n_jumps; j++)
			insns[jumps[j]].off = (int16_t)(pos - (jumps[j] + 1));
		/* a rule for every device and access decides alone: what
		 * would follow is unreachable, and the verifier refuses that */
		if (!n_jumps)
			return (int)pos;
	}
	insns[pos++] = MOV64_IMM(BPF_REG_0, 0);
	insns[pos++] = EXIT();
	return (int)pos;
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static uint64_t ptr_to_u64(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

int bpfdev_load(const struct bpf_insn *insns, size_t n, struct ros_err *e)
{
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = ptr_to_u64(insns);
	attr.insn_cnt = (uint32_t)n;
	attr.license = ptr_to_u64("GPL");
	snprintf(attr.prog_name, sizeof(attr.prog_name), "%s", BPFDEV_PROG_NAME);
	int fd = sys_bpf(BPF_PROG_LOAD, &attr);
	if (fd >= 0)
		return fd;
	int err = errno;
	if (err != EINVAL && err != EACCES)
		return err_set(e, err, "load the cgroup device program");
	/* again with the verifier's log, for its reason */
	size_t log_size = 1 << 16;
	cleanup_free char *log = calloc(1, log_size);
	if (log) {
		attr.log_level = 1;
		attr.log_buf = ptr_to_u64(log);
		attr.log_size = (uint32_t)log_size;
		if ((fd = sys_bpf(BPF_PROG_LOAD, &attr)) >= 0)
			return fd;
	}
	const char *why = "";
	if (log) {
		size_t len = strnlen(log, log_size);
		while (len && log[len - 1] == '\n')
			log[--len] = '\0';
		char *last = strrchr(log, '\n');
		why = last ? last + 1 : log;
	}
	return err_setx(e, err, "load the cgroup device program (%zu instructions): %s%s%s", n, strerror(err),
	                *why ? ": verifier: " : "", why);
}

/* The ids of the device programs attached to dfd itself (up to cap). */
static int query_attached(int dfd, uint32_t *ids, uint32_t cap, uint32_t *n)
{
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.query.target_fd = (uint32_t)dfd;
	attr.query.attach_type = BPF_CGROUP_DEVICE;
	attr.query.prog_ids = ptr_to_u64(ids);
	attr.query.prog_cnt = cap;
	if (sys_bpf(BPF_PROG_QUERY, &attr) < 0)
		return -errno;
	*n = attr.query.prog_cnt < cap || !ids ? attr.query.prog_cnt : cap;
	return 0;
}

/* The kernel's record of a loaded program; false if it has none. */
static bool prog_info(int prog_fd, struct bpf_prog_info *info)
{
	union bpf_attr attr;
	memset(info, 0, sizeof(*info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = (uint32_t)prog_fd;
	attr.info.info_len = sizeof(*info);
	attr.info.info = ptr_to_u64(info);
	return sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) == 0;
}

static bool is_ours(int prog_fd)
{
	struct bpf_prog_info info;
	return prog_info(prog_fd, &info) && strncmp(info.name, BPFDEV_PROG_NAME, sizeof(info.name)) == 0;
}

static uint32_t prog_id(int prog_fd)
{
	struct bpf_prog_info info;
	return prog_info(prog_fd, &info) ? info.id : 0;
}

int bpfdev_attach(const char *dir, int prog_fd, struct ros_err *e)
{
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_set(e, errno, "open %s", dir);
	uint32_t old[64], n_old = 0;
	int r = query_attached(dfd, old, ARRAY_SIZE(old), &n_old);
	if (r == -ENOSPC)
		return err_setx(e, ENOSPC, "%s: more than %zu device programs attached", dir, ARRAY_SIZE(old));
	if (r < 0)
		n_old = 0; /* a kernel without BPF_PROG_QUERY: nothing to replace */
	/* a shared program (bpfdev_apply's cache) may be attached here
	 * already: the kernel refuses it twice, and it must not be detached */
	uint32_t mine = n_old ? prog_id(prog_fd) : 0;
	bool attached = false;
	for (uint32_t i = 0; i < n_old; i++)
		attached |= mine && old[i] == mine;

	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)dfd;
	attr.attach_bpf_fd = (uint32_t)prog_fd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	if (!attached && sys_bpf(BPF_PROG_ATTACH, &attr) < 0) {
		/* exclusively: this replaces a program attached that way */
		attr.attach_flags = 0;
		if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0)
			return err_set(e, errno, "attach the cgroup device program to %s", dir);
		return 0;
	}
	for (uint32_t i = 0; i < n_old; i++) {
		if (old[i] == mine)
			continue;
		memset(&attr, 0, sizeof(attr));
		attr.prog_id = old[i];
		cleanup_close int old_fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
		if (old_fd < 0 || !is_ours(old_fd))
			continue;
		memset(&attr, 0, sizeof(attr));
		attr.target_fd = (uint32_t)dfd;
		attr.attach_bpf_fd = (uint32_t)old_fd;
		attr.attach_type = BPF_CGROUP_DEVICE;
		if (sys_bpf(BPF_PROG_DETACH, &attr) < 0 && errno != ENOENT)
			return err_set(e, errno, "detach the previous cgroup device program from %s", dir);
	}
	return 0;
}

/* Loaded programs by their instructions: containers with the same device
 * rules (most of them: the defaults) share one program, so the verifier
 * runs once per rule set and process rather than once per container.  A
 * program is immutable once loaded, so sharing it shares no state.  Kept
 * small; the oldest entry goes.  Daemons using it are single-threaded. */
#define PROG_CACHE_SIZE 8
static struct prog_cache_entry {
	struct bpf_insn *insns;
	size_t n;
	int fd;
} prog_cache[PROG_CACHE_SIZE];

static int prog_cache_find(const struct bpf_insn *insns, size_t n)
{
	for (size_t i = 0; i < PROG_CACHE_SIZE; i++)
		if (prog_cache[i].insns && prog_cache[i].n == n &&
		    !memcmp(prog_cache[i].insns, insns, n * sizeof(*insns)))
			return prog_cache[i].fd;
	return -1;
}

static void prog_cache_add(const struct bpf_insn *insns, size_t n, int fd)
{
	struct bpf_insn *copy = malloc(n * sizeof(*insns));
	if (!copy)
		return;
	memcpy(copy, insns, n * sizeof(*insns));
	struct prog_cache_entry *last = &prog_cache[PROG_CACHE_SIZE - 1];
	if (last->insns) {
		free(last->insns);
		close(last->fd);
	}
	memmove(&prog_cache[1], &prog_cache[0], (PROG_CACHE_SIZE - 1) * sizeof(prog_cache[0]));
	prog_cache[0] = (struct prog_cache_entry){copy, n, fd};
	// cppcheck-suppress memleak ; copy is kept in prog_cache, freed by eviction or bpfdev_cache_clear
}

void bpfdev_cache_clear(void)
{
	for (size_t i = 0; i < PROG_CACHE_SIZE; i++) {
		if (prog_cache[i].insns) {
			free(prog_cache[i].insns);
			close(prog_cache[i].fd);
		}
		prog_cache[i] = (struct prog_cache_entry){NULL, 0, -1};
	}
}

int bpfdev_apply(const char *dir, const struct bpfdev_rule *rules, size_t n, struct ros_err *e)
{
	size_t cap = bpfdev_max_insns(n);
	cleanup_free struct bpf_insn *insns = calloc(cap, sizeof(*insns));
	if (!insns)
		return err_set(e, ENOMEM, "cgroup device program");
	int count = bpfdev_program(rules, n, insns, cap);
	if (count < 0)
		return err_set(e, count, "cgroup device program");
	int fd = prog_cache_find(insns, (size_t)count);
	if (fd < 0) {
		if ((fd = bpfdev_load(insns, (size_t)count, e)) < 0)
			return fd;
		prog_cache_add(insns, (size_t)count, fd);
		if (prog_cache_find(insns, (size_t)count) != fd) { /* not cached (no memory): used once */
			int r = bpfdev_attach(dir, fd, e);
			close(fd);
			return r;
		}
	}
	return bpfdev_attach(dir, fd, e);
}

int bpfdev_count_attached(const char *dir, struct ros_err *e)
{
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_set(e, errno, "open %s", dir);
	uint32_t n = 0;
	int r = query_attached(dfd, NULL, 0, &n);
	if (r < 0)
		return err_set(e, r, "query the device programs of %s", dir);
	return (int)n;
}
