/* SPDX-License-Identifier: MIT */
#pragma once
/* Device access on cgroup v2: a BPF_PROG_TYPE_CGROUP_DEVICE program built
 * from a rule list (as runc's devicefilter and crun's ebpf.c do), loaded
 * and attached with the raw bpf(2) syscall; no libbpf. */
#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* A major or minor that matches every number. */
#define BPFDEV_ANY (-1)
#define BPFDEV_ACC_ALL (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)
/* The name the program is loaded with: how a later attach finds the one it replaces. */
#define BPFDEV_PROG_NAME "ctr_devices"

struct bpfdev_rule {
	bool allow;
	char type;            /* 'a' (block and char), 'b' or 'c' */
	int64_t major, minor; /* 0..INT32_MAX, or BPFDEV_ANY */
	unsigned access;      /* BPF_DEVCG_ACC_READ | _WRITE | _MKNOD */
};

/* The access bits of "rwm" letters (NULL or "" is all of them); -EINVAL on
 * another letter. */
int bpfdev_access(const char *letters, unsigned *access);
/* Room bpfdev_program needs for n rules. */
size_t bpfdev_max_insns(size_t n);
/* Writes the program for rules into insns (cap instructions) and returns
 * how many it wrote; a pure function.  Every access bit a request asks for
 * is decided by the last rule that matches the device and names the bit;
 * a request is allowed when all its bits are, and what no rule names is
 * denied.  -EINVAL for a bad type or no access bits, -ERANGE for a number
 * out of range, -ENOSPC when cap is short. */
int bpfdev_program(const struct bpfdev_rule *rules, size_t n, struct bpf_insn *insns, size_t cap);
/* Loads a program as BPF_PROG_TYPE_CGROUP_DEVICE: its fd (O_CLOEXEC), or
 * -errno with the verifier's last word in e. */
int bpfdev_load(const struct bpf_insn *insns, size_t n, struct ros_err *e);
/* Attaches prog_fd to the cgroup v2 directory dir (BPF_F_ALLOW_MULTI, else
 * exclusively) and detaches the BPFDEV_PROG_NAME programs attached there
 * before, so the new rules replace the old ones. */
int bpfdev_attach(const char *dir, int prog_fd, struct ros_err *e);
/* Builds, loads and attaches the program for rules to dir.  The loaded
 * program is kept (an O_CLOEXEC fd) and attached again for the same rules
 * later in the process, so the verifier runs once per rule set. */
int bpfdev_apply(const char *dir, const struct bpfdev_rule *rules, size_t n, struct ros_err *e);
/* Closes the programs bpfdev_apply kept. */
void bpfdev_cache_clear(void);
/* How many device programs are attached to dir itself (not inherited). */
int bpfdev_count_attached(const char *dir, struct ros_err *e);
