/* SPDX-License-Identifier: MIT */
#pragma once
/* The OCI runtime spec (config.json, Linux) as a typed model. */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"

enum spec_ns { NS_PID, NS_NET, NS_MNT, NS_IPC, NS_UTS, NS_USER, NS_CGROUP, NS_TIME, NS_COUNT };

struct spec_mount {
	char *destination, *type, *source;
	unsigned long flags;       /* MS_* set */
	unsigned long clear_flags; /* MS_* cleared (rw, suid, ...) */
	unsigned long propagation; /* MS_PRIVATE|MS_SLAVE|MS_SHARED|MS_UNBINDABLE (|MS_REC) */
	bool bind, recursive;
	char *data; /* filesystem options */
};

struct spec_idmap {
	uint32_t container_id, host_id, size;
};

struct spec_device {
	char *path;
	char type; /* c, b, u, p */
	int64_t major, minor;
	uint32_t file_mode, uid, gid;
	bool has_mode, has_uid, has_gid;
};

struct spec_rlimit {
	int resource;
	uint64_t soft, hard;
};

struct spec_hook {
	char *path;
	char **args, **env;
	int timeout; /* seconds; 0 = none */
};

enum spec_hook_kind {
	HOOK_PRESTART,
	HOOK_CREATE_RUNTIME,
	HOOK_CREATE_CONTAINER,
	HOOK_START_CONTAINER,
	HOOK_POSTSTART,
	HOOK_POSTSTOP,
	HOOK_KINDS
};

struct spec_caps {
	uint64_t bounding, effective, inheritable, permitted, ambient;
	bool present;
};

struct spec_seccomp_arg {
	unsigned index;
	uint64_t value, value_two;
	int op; /* scmp_compare */
};

struct spec_seccomp_rule {
	char **names;
	uint32_t action; /* SCMP_ACT_* with errno folded in */
	struct spec_seccomp_arg *args;
	size_t n_args;
};

struct sock_filter;

struct spec_seccomp {
	uint32_t default_action;
	uint32_t *arches;
	size_t n_arches;
	unsigned flags_log : 1, flags_spec_allow : 1;
	struct spec_seccomp_rule *rules;
	size_t n_rules;
	/* the compiled filter (spec_seccomp_prepare), owned; NULL: not yet */
	struct sock_filter *bpf;
	size_t bpf_len;
	unsigned bpf_flags; /* SECCOMP_FILTER_FLAG_* */
};

/* A memory value given as -1 in the JSON: no limit ("-1" on v1, "max" on v2). */
#define SPEC_MEM_UNLIMITED INT64_MAX

struct spec_resources {
	int64_t memory_limit, memory_reservation, memory_swap; /* -1 = unset; SPEC_MEM_UNLIMITED */
	int64_t pids_limit;                                    /* 0 = unset */
	uint64_t cpu_shares;                                   /* 0 = unset */
	int64_t cpu_quota;                                     /* 0 = unset */
	uint64_t cpu_period;
	int64_t cpu_rt_runtime; /* 0 = unset */
	uint64_t cpu_rt_period; /* 0 = unset */
	char *cpuset_cpus, *cpuset_mems;
	uint16_t blkio_weight;
	json_t *devices;   /* borrowed from the document: [{allow,type,major,minor,access}] */
	json_t *hugepages; /* borrowed */
	json_t *unified;   /* borrowed */
	/* linux.devices: allowed in the device cgroup after the rules above */
	const struct spec_device *extra_devices;
	size_t n_extra_devices;
};

struct spec {
	json_t *doc;     /* owned; strings below point into it or are heap as noted */
	char *root_path; /* absolute (resolved against the bundle) */
	bool root_readonly;
	char *hostname, *domainname;
	/* process */
	bool has_process;
	bool terminal;
	uint32_t uid, gid, umask;
	bool has_umask;
	uint32_t *additional_gids;
	size_t n_additional_gids;
	char **args, **env;
	char *cwd;
	struct spec_caps caps;
	struct spec_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	bool has_oom_score_adj;
	int oom_score_adj;
	/* process.scheduler: applied just before the capabilities are dropped */
	bool has_scheduler;
	int sched_policy, sched_nice, sched_priority;
	bool sched_reset_on_fork;
	char *apparmor_profile, *selinux_label;
	/* mounts */
	struct spec_mount *mounts;
	size_t n_mounts;
	/* linux */
	bool ns_new[NS_COUNT];
	char *ns_path[NS_COUNT];
	struct spec_idmap *uid_maps, *gid_maps;
	size_t n_uid_maps, n_gid_maps;
	struct spec_device *devices;
	size_t n_devices;
	unsigned long rootfs_propagation; /* 0 = default (rslave) */
	char **masked_paths, **readonly_paths;
	json_t *sysctl; /* borrowed object */
	char *cgroups_path;
	bool has_resources;
	struct spec_resources res;
	bool has_seccomp;
	struct spec_seccomp seccomp;
	bool has_personality;
	unsigned long personality;
	struct spec_hook *hooks[HOOK_KINDS];
	size_t n_hooks[HOOK_KINDS];
	json_t *annotations;  /* borrowed */
	json_t *time_offsets; /* borrowed */
};

/* Parses a config.json document (takes a reference on doc).  bundle is the
 * bundle directory root.path is resolved against.  Errors name the JSON
 * path: "linux.resources.memory.limit: expected integer, got string". */
int spec_parse(json_t *doc, const char *bundle, struct spec **out, struct ros_err *e);
int spec_load(const char *bundle, struct spec **out, struct ros_err *e);
/* Parses a linux.resources object alone (roci update) into *r, which it
 * initialises; strings and JSON members are borrowed from res.  Errors name
 * the JSON path from "linux.resources". */
int spec_parse_resources(json_t *res, struct spec_resources *r, struct ros_err *e);
void spec_free(struct spec *s);
const char *spec_ns_name(enum spec_ns ns);
int spec_cap_from_name(const char *name);
const char *spec_hook_kind_name(enum spec_hook_kind k);
/* A default config.json like `runc spec` (rootless: user namespace + maps). */
json_t *spec_default(bool rootless);
/* linux.seccomp of ros's default profile (lib/ctr/seccomp-default.c) for a
 * container with these bounding capabilities (a JSON array of CAP_ names). */
json_t *spec_default_seccomp(const json_t *bounding_caps);

/* The spec a container was created with (the copy in its state dir), or
 * NULL; relative paths resolve against bundle. */
struct spec *ctr_saved_spec(const char *state_root, const char *id, const char *bundle);

/* Builds the filter and loads it into the calling thread; -errno, with
 * *what naming the step that failed.  A prepared filter is loaded as it
 * is, with no libseccomp work. */
int spec_seccomp_load(const struct spec_seccomp *c, const char **what);
/* Compiles the filter into c->bpf (before clone: the child then only
 * loads it).  Compilations are kept for the process, so containers with
 * the same profile compile it once. */
int spec_seccomp_prepare(struct spec_seccomp *c, const char **what);
/* Loads c's prepared filter into the calling thread; -errno. */
int spec_seccomp_install(const struct spec_seccomp *c);
/* Frees the compilations spec_seccomp_prepare kept. */
void spec_seccomp_cache_clear(void);
