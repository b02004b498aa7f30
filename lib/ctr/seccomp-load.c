/* SPDX-License-Identifier: MIT */
/* Builds and loads a seccomp filter from the spec (create and exec). */
#define _GNU_SOURCE
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>

#include "spec.h"

static __thread char what_buf[300];

int spec_seccomp_load(const struct spec_seccomp *c, const char **what)
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
	int r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0) {
		*what = "load the filter";
		return r;
	}
	return 0;
}
