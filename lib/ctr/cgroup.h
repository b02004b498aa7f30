/* SPDX-License-Identifier: MIT */
#pragma once
/* Cgroups for containers: v1 (one hierarchy per controller, as on hybrid
 * hosts) and v2 (unified), detected at run time. */
#include <stdbool.h>
#include <sys/types.h>

#include "core/err.h"
#include "spec.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

enum cgroup_mode { CGROUP_V1, CGROUP_V2 };

/* Detects the mode of root ("/sys/fs/cgroup" normally). */
enum cgroup_mode cgroup_detect(const char *root);
/* The cgroup path for a container: cgroupsPath as given (runc's
 * "slice:prefix:name" becomes /slice/prefix-name), else /roci/<id>. */
int cgroup_path_for(const char *cgroups_path, const char *id, char *out, size_t size, struct ros_err *e);
/* Creates the cgroup (every v1 hierarchy, or the v2 directory with its
 * parents' controllers enabled), applies resources and moves pid in.
 * On failure removes what it created. */
int cgroup_setup(const char *root, const char *path, const struct spec_resources *res, pid_t pid, struct ros_err *e);
/* Applies resources to an existing cgroup (roci update). */
int cgroup_apply(const char *root, const char *path, const struct spec_resources *res, struct ros_err *e);
/* Freezes (true) or thaws the cgroup. */
int cgroup_freeze(const char *root, const char *path, bool frozen, struct ros_err *e);
/* 1 when frozen, 0 when not, <0 on error. */
int cgroup_is_frozen(const char *root, const char *path);
/* The pids in the cgroup (heap array). */
int cgroup_pids(const char *root, const char *path, pid_t **pids, size_t *n, struct ros_err *e);
/* Sends sig to every process in the cgroup. */
int cgroup_kill_all(const char *root, const char *path, int sig, struct ros_err *e);
/* Removes the cgroup directories (waiting briefly for exiting tasks). */
int cgroup_destroy(const char *root, const char *path, struct ros_err *e);
