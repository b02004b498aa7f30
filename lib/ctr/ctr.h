/* SPDX-License-Identifier: MIT */
#pragma once
/*
 * libros container runtime: the public face used by roci, sysctr and
 * userctr.  One definition of a container: the OCI runtime spec
 * (config.json), given either as a bundle directory or as an in-memory
 * JSON object.  Every call is synchronous, never prints and never exits.
 */
#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "core/err.h"

#define CTR_DEFAULT_STATE_ROOT "/run/roci"

enum ctr_status { CTR_CREATING, CTR_CREATED, CTR_RUNNING, CTR_PAUSED, CTR_STOPPED };

struct ctr_create_opts {
	const char *state_root; /* NULL: CTR_DEFAULT_STATE_ROOT */
	const char *id;
	const char *bundle;         /* directory; root.path is relative to it */
	json_t *spec;               /* optional: use this instead of bundle/config.json */
	const char *pid_file;       /* optional */
	const char *console_socket; /* optional: unix socket to send the pty master to */
	bool no_pivot;              /* MS_MOVE + chroot instead of pivot_root */
	int preserve_fds;           /* fds 3..3+N-1 passed to the container */
	int stdio[3];               /* fds for the process's stdin/out/err; -1 = inherit */
	bool no_new_keyring;
	pid_t *pid_out; /* optional: the container's init pid (a child of the caller) */
	int *pty_out;   /* optional: the pty master when process.terminal and no console_socket */
};

struct ctr_state {
	char id[256];
	enum ctr_status status;
	pid_t pid;                     /* 0 when stopped */
	unsigned long long start_time; /* /proc/PID/stat field 22, to detect pid reuse */
	char bundle[4096];
	char created[64]; /* RFC 3339 */
	char cgroup_path[4096];
	json_t *annotations; /* owned; may be NULL */
	int hook_kinds;      /* bit k: the spec has HOOK k hooks; -1: not recorded (load config.json) */
};

/* Creates the container: namespaces, mounts, cgroup, hooks up to
 * createContainer; the user process waits until ctr_start.  On failure
 * nothing is left behind (no mount, cgroup, state dir or process). */
int ctr_create(const struct ctr_create_opts *o, struct ros_err *e);
/* Lets the created process exec the user program; runs startContainer and
 * poststart hooks. */
int ctr_start(const char *state_root, const char *id, struct ros_err *e);
/* Reads state, refreshing status from the live process. st->annotations
 * must be released with ctr_state_release. */
int ctr_state_get(const char *state_root, const char *id, struct ctr_state *st, struct ros_err *e);
void ctr_state_release(struct ctr_state *st);
/* The OCI state JSON (ociVersion, id, status, pid, bundle, annotations). */
json_t *ctr_state_json(const struct ctr_state *st);
/* Sends sig to the init process (or every process in the cgroup with all). */
int ctr_kill(const char *state_root, const char *id, int sig, bool all, struct ros_err *e);
/* Removes a stopped container (force: kills it first); runs poststop hooks. */
int ctr_delete(const char *state_root, const char *id, bool force, struct ros_err *e);
/* Lists container ids under state_root; *ids is a NULL-terminated heap strv. */
int ctr_list(const char *state_root, char ***ids, struct ros_err *e);
/* Validates a container id: 1..1024 of [A-Za-z0-9_.+-], not "." or "..". */
int ctr_id_check(const char *id, struct ros_err *e);
/* /proc/PID/stat start time, or 0 when the process is gone or a zombie. */
unsigned long long ctr_pid_start_time(pid_t pid);
const char *ctr_status_name(enum ctr_status st);
int ctr_pause(const char *state_root, const char *id, bool pause, struct ros_err *e);
/* The pids in the container's cgroup. */
int ctr_ps(const char *state_root, const char *id, pid_t **pids, size_t *n, struct ros_err *e);

struct ctr_exec_opts {
	const char *state_root; /* NULL: CTR_DEFAULT_STATE_ROOT */
	const char *id;
	char **args;     /* the command; PATH-searched with the container's env */
	char **env;      /* optional KEY=VALUE added to (or replacing) process.env */
	const char *cwd; /* optional; default process.cwd */
	bool has_user;   /* uid/gid below instead of process.user */
	uid_t uid;
	gid_t gid;
	int stdio[3];               /* -1 = inherit */
	bool terminal;              /* a new pty is the process's controlling terminal and stdio */
	const char *console_socket; /* with terminal: unix socket to send the pty master to */
	int *pty_out;               /* with terminal and no console_socket: the pty master */
	bool detach;                /* do not wait */
	const char *pid_file;       /* optional */
	pid_t *pid_out;             /* optional: the process's pid (a child of the caller); not waited for */
};
/* Runs o->args in the running container's namespaces and cgroups with its
 * process.user/capabilities/noNewPrivileges.  Waits unless detach or
 * pid_out, then *exit_status is the exit code (128+signal when killed).
 * With terminal, the pty is opened inside the container (its /dev/ptmx)
 * and its master goes to console_socket as ctr_create sends it. */
int ctr_exec(const struct ctr_exec_opts *o, int *exit_status, struct ros_err *e);

/* Changes the cgroup limits of a created, running or paused container.
 * resources is a linux.resources object of the runtime spec (memory, cpu,
 * pids, blockIO, hugepageLimits, unified; devices are kept as created);
 * what it does not name keeps its value.  The new values are merged into
 * the container's saved config.json, so later updates build on them.
 * Errors name the JSON path ("linux.resources.memory.limit: ..."); an
 * unknown or stopped container and an invalid document change nothing. */
int ctr_update(const char *state_root, const char *id, json_t *resources, struct ros_err *e);
