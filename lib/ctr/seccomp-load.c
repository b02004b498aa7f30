/* SPDX-License-Identifier: MIT */
/* Builds and loads a seccomp filter from the spec (create and exec). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "spec.h"

static __thread char what_buf[300];

/* The libseccomp filter for c, with *what naming a failed step. */
static int build(const struct spec_seccomp *c, scmp_filter_ctx *out, const char **what)
{
	*what = "init";
	scmp_filter_ctx ctx = seccomp_init(c->default_action);
	if (!ctx)
		return -ENOMEM;
	/* no_new_privs is the spec's to set (process.noNewPrivileges), not
	 * libseccomp's: the filter is loaded while the process still holds
	 * CAP_SYS_ADMIN, or after no_new_privs was set */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	for (size_t i = 0; i < c->n_arches; i++) {
		int r = seccomp_arch_add(ctx, c->arches[i]);
		if (r < 0 && r != -EEXIST) {
			seccomp_release(ctx);
			*what = "add architecture";
			return r;
		}
	}
	if (c->flags_log)
		seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
	if (c->flags_spec_allow)
		seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1);
	for (size_t i = 0; i < c->n_rules; i++) {
		const struct spec_seccomp_rule *rule = &c->rules[i];
		if (rule->action == c->default_action)
			continue;
		struct scmp_arg_cmp cmps[6];
		for (size_t k = 0; k < rule->n_args && k < 6; k++)
			cmps[k] = (struct scmp_arg_cmp){rule->args[k].index, (enum scmp_compare)rule->args[k].op,
			                                rule->args[k].value, rule->args[k].value_two};
		for (char **n = rule->names; n && *n; n++) {
			int nr = seccomp_syscall_resolve_name(*n);
			if (nr == __NR_SCMP_ERROR)
				continue; /* unknown to this kernel or libseccomp: ignored, as runc does */
			int r = seccomp_rule_add_array(ctx, rule->action, nr, (unsigned)rule->n_args, cmps);
			if (r < 0) {
				seccomp_release(ctx);
				snprintf(what_buf, sizeof(what_buf), "rule for %s", *n);
				*what = what_buf;
				return r;
			}
		}
	}
	*out = ctx;
	return 0;
}

int spec_seccomp_load(const struct spec_seccomp *c, const char **what)
{
	if (c->bpf) {
		*what = "load the filter";
		return spec_seccomp_install(c);
	}
	scmp_filter_ctx ctx = NULL;
	int r = build(c, &ctx, what);
	if (r < 0)
		return r;
	r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0) {
		*what = "load the filter";
		return r;
	}
	return 0;
}

int spec_seccomp_install(const struct spec_seccomp *c)
{
	struct sock_fprog prog = {.len = (unsigned short)c->bpf_len, .filter = c->bpf};
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, c->bpf_flags, &prog) < 0)
		return -errno;
	return 0;
}

/* The filter c compiles to, as seccomp(2) takes it: the program libseccomp
 * would load (seccomp_export_bpf of the same context) and the flags its
 * seccomp_load would pass. */
static int compile(const struct spec_seccomp *c, struct sock_filter **bpf, size_t *len, unsigned *flags,
                   const char **what)
{
	scmp_filter_ctx ctx = NULL;
	int r = build(c, &ctx, what);
	if (r < 0)
		return r;
	*what = "export the filter";
	uint32_t log = 0, ssb = 0;
	/* what libseccomp accepted: an attribute this kernel lacks stays off */
	if (c->flags_log)
		seccomp_attr_get(ctx, SCMP_FLTATR_CTL_LOG, &log);
	if (c->flags_spec_allow)
		seccomp_attr_get(ctx, SCMP_FLTATR_CTL_SSB, &ssb);
	*flags = (log ? SECCOMP_FILTER_FLAG_LOG : 0) | (ssb ? SECCOMP_FILTER_FLAG_SPEC_ALLOW : 0);
	cleanup_close int fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		seccomp_release(ctx);
		return r;
	}
	r = seccomp_export_bpf(ctx, fd);
	seccomp_release(ctx);
	if (r < 0)
		return r;
	off_t size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % (off_t)sizeof(struct sock_filter) ||
	    size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS)
		return -EINVAL;
	struct sock_filter *p = malloc((size_t)size);
	if (!p)
		return -ENOMEM;
	if (pread(fd, p, (size_t)size, 0) != size) {
		free(p);
		return -EIO;
	}
	*bpf = p;
	*len = (size_t)size / sizeof(struct sock_filter);
	return 0;
}

/* A canonical text of everything the filter is built from. */
static char *key_of(const struct spec_seccomp *c)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	if (!f)
		return NULL;
	fprintf(f, "d%x l%d s%d a", c->default_action, (int)c->flags_log, (int)c->flags_spec_allow);
	for (size_t i = 0; i < c->n_arches; i++)
		fprintf(f, "%x,", c->arches[i]);
	for (size_t i = 0; i < c->n_rules; i++) {
		const struct spec_seccomp_rule *rule = &c->rules[i];
		fprintf(f, "\nr%x", rule->action);
		for (size_t k = 0; k < rule->n_args; k++)
			fprintf(f, " (%u %d %llx %llx)", rule->args[k].index, rule->args[k].op,
			        (unsigned long long)rule->args[k].value, (unsigned long long)rule->args[k].value_two);
		for (char **n = rule->names; n && *n; n++)
			fprintf(f, " %s", *n);
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Compiled filters by their key: services with the same profile (the
 * default one for the same capabilities) share one compilation.  A few
 * entries; the oldest goes.  The processes using it are single-threaded. */
#define FILTER_CACHE_SIZE 8
static struct filter_cache_entry {
	char *key;
	struct sock_filter *bpf;
	size_t len;
	unsigned flags;
} filter_cache[FILTER_CACHE_SIZE];

void spec_seccomp_cache_clear(void)
{
	for (size_t i = 0; i < FILTER_CACHE_SIZE; i++) {
		free(filter_cache[i].key);
		free(filter_cache[i].bpf);
		filter_cache[i] = (struct filter_cache_entry){0};
	}
}

int spec_seccomp_prepare(struct spec_seccomp *c, const char **what)
{
	cleanup_free char *key = key_of(c);
	if (!key) {
		*what = "compile the filter";
		return -ENOMEM;
	}
	struct filter_cache_entry *hit = NULL;
	for (size_t i = 0; i < FILTER_CACHE_SIZE && !hit; i++)
		if (filter_cache[i].key && !strcmp(filter_cache[i].key, key))
			hit = &filter_cache[i];
	if (!hit) {
		struct sock_filter *bpf = NULL;
		size_t len = 0;
		unsigned flags = 0;
		int r = compile(c, &bpf, &len, &flags, what);
		if (r < 0)
			return r;
		struct filter_cache_entry *last = &filter_cache[FILTER_CACHE_SIZE - 1];
		free(last->key);
		free(last->bpf);
		memmove(&filter_cache[1], &filter_cache[0], (FILTER_CACHE_SIZE - 1) * sizeof(filter_cache[0]));
		filter_cache[0] = (struct filter_cache_entry){TAKE_PTR(key), bpf, len, flags};
		hit = &filter_cache[0];
	}
	/* the spec's own copy: the cache may drop the entry while it lives */
	struct sock_filter *copy = malloc(hit->len * sizeof(*copy));
	if (!copy) {
		*what = "compile the filter";
		return -ENOMEM;
	}
	memcpy(copy, hit->bpf, hit->len * sizeof(*copy));
	free(c->bpf);
	c->bpf = copy;
	c->bpf_len = hit->len;
	c->bpf_flags = hit->flags;
	return 0;
}
