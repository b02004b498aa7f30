/* SPDX-License-Identifier: MIT */
#pragma once
/* The container's first process: sets itself up inside its namespaces,
 * reports to the runtime over the sync socket, waits for `start` on the
 * exec fifo, then execs the user program.  Never returns. */
#include <signal.h>
#include <stdbool.h>

#include "spec.h"

enum sync_type {
	SYNC_USERNS = 1, /* child -> parent: write my id maps */
	SYNC_GO,         /* parent -> child: maps, cgroup and hooks done; text = state JSON */
	SYNC_PTY,        /* child -> parent: the pty master (SCM_RIGHTS) */
	SYNC_READY,      /* child -> parent: set up, waiting for start */
	SYNC_ERROR,      /* child -> parent: text = what failed */
};

struct sync_msg {
	int type;
	char text[8192];
};

struct child_args {
	const struct spec *s;
	int sync_fd;
	int fifo_fd;          /* exec.fifo opened O_RDWR */
	int ns_fds[NS_COUNT]; /* namespaces to join, -1 */
	int stdio[3];
	int preserve_fds;
	bool no_pivot;
	const char *cgroup_path; /* for cgroup mounts */
};

int sync_send(int fd, int type, const char *text, int pass_fd);
/* Receives one message; *passed_fd (optional) gets an SCM_RIGHTS fd or -1. */
int sync_recv(int fd, struct sync_msg *m, int *passed_fd);

__attribute__((noreturn)) void child_main(struct child_args *a);

/* Opens a pty from this mount namespace's /dev/ptmx, sends the master over
 * sync_fd (SYNC_PTY), and makes the slave this process's controlling
 * terminal (setsid, TIOCSCTTY) and its stdin/out/err.  Used by the
 * container's init and by exec.  On failure returns -errno and names the
 * step in what. */
int child_setup_pty(int sync_fd, char *what, size_t size);

/* Runtime side: sends a pty master to a console socket, runc's protocol
 * (one SCM_RIGHTS message). */
int console_send(const char *sock_path, int master, struct ros_err *e);

/* Default dispositions and an empty mask, as a new container process
 * expects, whatever its creator blocked or ignored. */
static inline void child_reset_signals(void)
{
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}
