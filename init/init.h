/* SPDX-License-Identifier: MIT */
#pragma once
/*
 * ros init (PID 1): the pieces main.c strings together.  docs/boot.md is
 * the contract these implement.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* ---- cmdline.c: the ros.* keys init reads from the kernel command line ---- */

#define INIT_VALUE_MAX 256

struct init_cmdline {
	char root[INIT_VALUE_MAX];       /* ros.root=PATH: squashfs file or directory */
	char sysctr[INIT_VALUE_MAX];     /* ros.sysctr=PATH */
	char state[INIT_VALUE_MAX];      /* ros.state=LABEL=X|UUID=X|/dev/X|none */
	char autoformat[INIT_VALUE_MAX]; /* ros.state.autoformat=/dev/X */
	char media[INIT_VALUE_MAX];      /* ros.media=LABEL=X|UUID=X|/dev/X (default LABEL=ROS) */
	bool cgroup_v1;                  /* ros.cgroup=v1 */
	bool rescue;                     /* ros.rescue: rescue shell instead of sysctr */
	bool debug;                      /* ros.debug: log reaped orphans and more */
	unsigned shutdown_timeout_s;     /* ros.shutdown.timeout=SECONDS */
};

void init_cmdline_defaults(struct init_cmdline *c);
/* Parses a kernel command line.  Every problem is reported (the first in e,
 * the count returned as a negative number) but the rest is still applied:
 * a bad key never stops the boot. */
int init_cmdline_parse(const char *text, struct init_cmdline *c, struct ros_err *e);

/* ---- timeline.c: /run/ros/boot-timeline ---- */

#define TIMELINE_PATH "/run/ros/boot-timeline"

uint64_t monotonic_ms(void);
/* Records a stage at time ms; writes the file when /run/ros is writable. */
void timeline_add(const char *stage, uint64_t ms);
/* Writes everything recorded so far (after /run is mounted). */
int timeline_flush(struct ros_err *e);

/* ---- mounts.c: the API filesystems, cgroups, modules, console ---- */

int mounts_early(struct ros_err *e);
int mounts_cgroups(bool v1, struct ros_err *e);
/* finit_module every line of the boot list (the last one is a barrier for
 * the device probes of the others), and start a child that loads the soon
 * list, then the late list at idle priority; returns the number of boot
 * modules that failed. */
int modules_load(const char *boot, const char *soon, const char *late);
void console_ensure(void);
/* Unmounts everything but / in reverse order (lazy fallback). */
void mounts_teardown(void);

/* ---- root.c: root filesystem and state disk ---- */

#define NEWROOT "/mnt"

/* Builds overlay(squashfs|dir, tmpfs) at NEWROOT and switches into it. */
int root_setup(const struct init_cmdline *c, struct ros_err *e);
/* Finds, (auto-formats) and mounts the state disk; 0 when there is none. */
/* Frees the block device cache root_setup and state_setup share. */
void devices_forget(void);
int state_setup(const struct init_cmdline *c, struct ros_err *e);

/* ---- main.c ---- */

/* init expedited RCU grace periods for the boot (/sys/kernel/rcu_expedited);
 * sysctr puts them back to normal once the services are up, and removes it */
#define RCU_EXPEDITED_MARKER "/run/ros/rcu-expedited"

enum {
	SPAWN_SETSID = 1,
	SPAWN_CONSOLE = 2, /* setsid + the console as controlling tty */
	SPAWN_AHEAD = 4,   /* nice -10 (sysctr) */
};
/* fork + exec with signals reset and a clean environment; path is looked
 * up in PATH when it has no slash.  Returns the pid or -errno. */
int spawn(const char *path, char *const argv[], int flags);
