/* SPDX-License-Identifier: MIT */
#pragma once
/* Scope-bound ownership, in the dialect of systemd and crun. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static inline void cleanup_freep(void *p)
{
	free(*(void **)p);
}
static inline void cleanup_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
static inline void cleanup_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
/* Kills and reaps a half-started child. */
static inline void cleanup_pidp(pid_t *pid)
{
	if (*pid > 0) {
		int saved = errno;
		kill(*pid, SIGKILL);
		while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
			;
		errno = saved;
	}
}
static inline void cleanup_strvp(char ***v)
{
	if (*v) {
		for (char **p = *v; *p; p++)
			free(*p);
		free(*v);
	}
}

#define cleanup_free __attribute__((cleanup(cleanup_freep)))
#define cleanup_close __attribute__((cleanup(cleanup_closep)))
#define cleanup_fclose __attribute__((cleanup(cleanup_fclosep)))
#define cleanup_pid __attribute__((cleanup(cleanup_pidp)))
#define cleanup_strv __attribute__((cleanup(cleanup_strvp)))

#define TAKE_PTR(p)                                                                                                    \
	({                                                                                                             \
		typeof(p) take_ptr_tmp_ = (p);                                                                         \
		(p) = NULL;                                                                                            \
		take_ptr_tmp_;                                                                                         \
	})
#define TAKE_FD(fd)                                                                                                    \
	({                                                                                                             \
		int take_fd_tmp_ = (fd);                                                                               \
		(fd) = -1;                                                                                             \
		take_fd_tmp_;                                                                                          \
	})

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
