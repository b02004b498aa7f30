/* SPDX-License-Identifier: MIT */
#pragma once
/*
 * A system service: its compose-style definition (docs/sysctr.md) parsed
 * from the config tree, and its translation into an OCI runtime spec.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "core/err.h"
#include "restart.h"

#define SVC_NAME_MAX 64

struct svc_def {
	char name[SVC_NAME_MAX];
	char *image;         /* NAME (a squashfs in the image dir) or an absolute directory */
	char **args;         /* entrypoint + command, NULL-terminated */
	char **env;          /* KEY=VALUE, NULL-terminated, ${VAR} already expanded */
	char **volumes;      /* host:ctr[:ro] */
	char **volumes_from; /* services whose volumes this one mounts too */
	char **tmpfs;        /* ctr path[:options] */
	char **devices;      /* /dev/x[:/dev/y] */
	char **cap_add;      /* CAP_* names */
	char **cap_drop;     /* CAP_* names (with privileged) */
	char **after, **before;
	size_t n_after, n_before;
	char *user; /* uid[:gid] */
	char *working_dir;
	bool net_host, pid_host, ipc_host, uts_host;
	bool privileged, read_only;
	bool detach;     /* false: one-shot */
	bool createonly; /* created, never started */
	bool user_scope; /* ros.scope: user — handed to userctr, not run here */
	bool optional;   /* ros.optional: only with ros.services_include.NAME */
	struct restart_policy restart;
	long long mem_limit, cpu_shares, pids_limit;
	int oom_score_adj;
	bool has_oom_score_adj;
	int stop_timeout_s;
};

/* Parses one definition (tree: the merged config, for ${VAR} and ${a.b.c});
 * errors name the service and the key. */
int svc_parse(const char *name, const struct cfg_node *def, const struct cfg_node *tree, struct svc_def *out,
              struct ros_err *e);
void svc_free(struct svc_def *s);
/* Adds from's volumes that s does not have yet (volumes_from). */
int svc_add_volumes(struct svc_def *s, const struct svc_def *from);
/* The OCI spec for the service with its root at rootfs (absolute). */
json_t *svc_spec(const struct svc_def *s, const char *rootfs, struct ros_err *e);
