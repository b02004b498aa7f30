/* SPDX-License-Identifier: MIT */
/* ctr_exec: runs another process in a running container.  The runtime joins
 * the container's cgroups and namespaces in a short-lived child, which forks
 * the process (so it lands in the pid namespace) and exits; the caller is a
 * child subreaper for that moment so the process becomes its child. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "child.h"
#include "ctr.h"
#include "spec.h"

static const char *const ns_names[] = {"user", "cgroup", "ipc", "uts", "net", "pid", "time", "mnt"};
#define N_NS (sizeof(ns_names) / sizeof(ns_names[0]))

__attribute__((noreturn)) static void fail(int fd, const char *what)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "%s: %s", what, strerror(errno));
	if (write(fd, buf, (size_t)n) < 0) {
	}
	_exit(127);
}

/* writes our pid into every cgroup the container's init is in (v1 and v2) */
static void join_cgroups(const char *cg, int errfd)
{
	char line[4096];
	const char *p = cg;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		snprintf(line, sizeof(line), "%.*s", (int)len, p);
		p += len + (nl ? 1 : 0);
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = 0;
		const char *ctrl = c1 + 1, *path = c2 + 1;
		char dir[4200], file[4300];
		if (!*ctrl)
			snprintf(dir, sizeof(dir), "%s%s",
			         access("/sys/fs/cgroup/unified", F_OK) == 0 ? "/sys/fs/cgroup/unified"
			                                                     : "/sys/fs/cgroup",
			         path);
		else if (!strncmp(ctrl, "name=", 5))
			snprintf(dir, sizeof(dir), "/sys/fs/cgroup/%s%s", ctrl + 5, path);
		else
			snprintf(dir, sizeof(dir), "/sys/fs/cgroup/%s%s", ctrl, path);
		snprintf(file, sizeof(file), "%s/cgroup.procs", dir);
		int fd = open(file, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			continue; /* a hierarchy not mounted here */
		if (write(fd, "0", 1) < 0 && errno != EBUSY) {
			close(fd);
			fail(errfd, "join the container's cgroup");
		}
		close(fd);
	}
}

static void set_caps(const struct spec_caps *c, int errfd)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {
	        {(uint32_t)c->effective, (uint32_t)c->permitted, (uint32_t)c->inheritable},
	        {(uint32_t)(c->effective >> 32), (uint32_t)(c->permitted >> 32), (uint32_t)(c->inheritable >> 32)},
	};
	if (syscall(SYS_capset, &h, d) < 0)
		fail(errfd, "set capabilities");
}

__attribute__((noreturn)) static void run_process(const struct ctr_exec_opts *o, const struct spec *s, char **env,
                                                  int errfd, int pty_sock)
{
	if (o->terminal) {
		char what[128];
		int r = child_setup_pty(pty_sock, what, sizeof(what));
		if (r < 0) {
			errno = -r;
			fail(errfd, what);
		}
	} else {
		for (int i = 0; i < 3; i++)
			if (o->stdio[i] >= 0 && o->stdio[i] != i && dup2(o->stdio[i], i) < 0)
				fail(errfd, "set up stdio");
	}
	const char *cwd = o->cwd ? o->cwd : s->cwd;
	if (chdir(cwd) < 0)
		fail(errfd, "chdir to the cwd");
	uid_t uid = o->has_user ? o->uid : s->uid;
	gid_t gid = o->has_user ? o->gid : s->gid;
	gid_t groups[256];
	size_t n = 0;
	if (!o->has_user)
		for (; n < s->n_additional_gids && n < 256; n++)
			groups[n] = s->additional_gids[n];
	/* the container's seccomp filter holds for exec'd processes too */
	const char *what;
	int sr;
	if (s->has_seccomp && !s->no_new_privileges && (sr = spec_seccomp_load(&s->seccomp, &what)) < 0) {
		errno = -sr;
		fail(errfd, "seccomp");
	}
	if (setgroups(n, groups) < 0 && errno != EPERM)
		fail(errfd, "setgroups");
	prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
	if (setresgid(gid, gid, gid) < 0)
		fail(errfd, "setgid");
	if (setresuid(uid, uid, uid) < 0)
		fail(errfd, "setuid");
	if (s->caps.present)
		set_caps(&s->caps, errfd);
	if (s->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fail(errfd, "set no_new_privs");
	if (s->has_seccomp && s->no_new_privileges && (sr = spec_seccomp_load(&s->seccomp, &what)) < 0) {
		errno = -sr;
		fail(errfd, "seccomp");
	}
	environ = env;
	child_reset_signals();
	execvp(o->args[0], o->args);
	fail(errfd, "exec");
}

/* the environment: the container's, then o->env (KEY=VALUE replaces KEY) */
static char **make_env(char **base, char **add)
{
	size_t nb = 0, na = 0;
	for (; base && base[nb]; nb++)
		;
	for (; add && add[na]; na++)
		;
	char **env = calloc(nb + na + 1, sizeof(char *));
	if (!env)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; i < nb; i++) {
		size_t k = strcspn(base[i], "=");
		bool replaced = false;
		for (size_t j = 0; j < na; j++)
			if (!strncmp(add[j], base[i], k + 1))
				replaced = true;
		if (!replaced)
			env[n++] = base[i];
	}
	for (size_t j = 0; j < na; j++)
		env[n++] = add[j];
	return env;
}

/* Receives the process's pty master (sent before it exec'd) and hands it on. */
static int pass_pty(const struct ctr_exec_opts *o, int sock, struct ros_err *e)
{
	struct sync_msg m;
	int master = -1;
	int r = sync_recv(sock, &m, &master);
	if (r < 0 || m.type != SYNC_PTY || master < 0) {
		if (master >= 0)
			close(master);
		return err_setx(e, EIO, "exec in %s: the process sent no pty master", o->id);
	}
	if (!o->console_socket) {
		*o->pty_out = master;
		return 0;
	}
	r = console_send(o->console_socket, master, e);
	close(master);
	return r;
}

int ctr_exec(const struct ctr_exec_opts *o, int *exit_status, struct ros_err *e)
{
	if (!o->args || !o->args[0])
		return err_setx(e, EINVAL, "exec: no command given");
	if (o->terminal && !o->console_socket && !o->pty_out)
		return err_setx(e, EINVAL, "exec: a terminal needs a console socket to send its pty master to");
	struct ctr_state st = {0};
	int r = ctr_state_get(o->state_root, o->id, &st, e);
	if (r < 0)
		return r;
	pid_t cpid = st.pid;
	enum ctr_status status = st.status;
	ctr_state_release(&st);
	if (status != CTR_RUNNING && status != CTR_CREATED)
		return err_setx(e, EINVAL, "container %s is %s: exec needs a running container", o->id,
		                ctr_status_name(status));
	/* the spec as created (it may have been given in memory, without a
	 * config.json in the bundle) */
	struct spec *s = ctr_saved_spec(o->state_root, o->id, st.bundle);
	if (!s && (r = spec_load(st.bundle, &s, e)) < 0)
		return r;
	cleanup_free char **env = make_env(s->env, o->env);
	if (!env) {
		spec_free(s);
		return err_set(e, ENOMEM, "exec: environment");
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/cgroup", cpid);
	cleanup_free char *cg = NULL;
	if (fs_read_all(path, 1 << 20, &cg, NULL, e) < 0) {
		spec_free(s);
		return -ESRCH;
	}
	int nsfd[N_NS];
	for (size_t i = 0; i < N_NS; i++) {
		struct stat a, b;
		char self[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", cpid, ns_names[i]);
		snprintf(self, sizeof(self), "/proc/self/ns/%s", ns_names[i]);
		nsfd[i] = -1;
		if (stat(path, &a) == 0 && stat(self, &b) == 0 && a.st_ino != b.st_ino)
			nsfd[i] = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (ctr_pid_start_time(cpid) == 0) {
		r = err_setx(e, ESRCH, "container %s: its process is gone", o->id);
		goto out;
	}
	int pp[2] = {-1, -1}, ep[2] = {-1, -1}, tp[2] = {-1, -1};
	if (pipe2(pp, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0) {
		r = err_set(e, errno, "exec: pipe");
		goto out_pipes;
	}
	/* the process sends its pty master back over tp, as init does over the sync socket */
	if (o->terminal && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, tp) < 0) {
		r = err_set(e, errno, "exec: socketpair");
		goto out_pipes;
	}
	int was_reaper = 0;
	prctl(PR_GET_CHILD_SUBREAPER, &was_reaper, 0, 0, 0);
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	pid_t mid = fork();
	if (mid < 0) {
		r = err_set(e, errno, "exec: fork");
		goto out_reaper;
	}
	if (mid == 0) {
		close(pp[0]);
		close(ep[0]);
		if (tp[0] >= 0)
			close(tp[0]);
		join_cgroups(cg, ep[1]);
		for (size_t i = 0; i < N_NS; i++)
			if (nsfd[i] >= 0 && setns(nsfd[i], 0) < 0) {
				char what[64];
				snprintf(what, sizeof(what), "join the %s namespace", ns_names[i]);
				fail(ep[1], what);
			}
		pid_t p = fork();
		if (p < 0)
			fail(ep[1], "fork");
		if (p == 0) {
			close(pp[1]);
			run_process(o, s, env, ep[1], tp[1]);
		}
		if (write(pp[1], &p, sizeof(p)) != sizeof(p))
			_exit(1);
		_exit(0);
	}
	close(pp[1]);
	close(ep[1]);
	pp[1] = ep[1] = -1;
	if (tp[1] >= 0) {
		close(tp[1]);
		tp[1] = -1;
	}
	pid_t child = 0;
	ssize_t n;
	while ((n = read(pp[0], &child, sizeof(child))) < 0 && errno == EINTR)
		;
	int ws;
	while (waitpid(mid, &ws, 0) < 0 && errno == EINTR)
		;
	char msg[512];
	ssize_t m;
	while ((m = read(ep[0], msg, sizeof(msg) - 1)) < 0 && errno == EINTR)
		;
	if (m > 0 || n != sizeof(child)) {
		msg[m > 0 ? m : 0] = 0;
		if (n == sizeof(child))
			while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
				;
		r = err_setx(e, EIO, "exec in %s: %s", o->id, m > 0 ? msg : "the runtime's helper failed");
		goto out_reaper;
	}
	if (o->terminal && (r = pass_pty(o, tp[0], e)) < 0) {
		kill(child, SIGKILL);
		while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
			;
		goto out_reaper;
	}
	if (o->pid_file) {
		char buf[32];
		snprintf(buf, sizeof(buf), "%d\n", child);
		if ((r = fs_write_atomic(o->pid_file, buf, strlen(buf), 0644, e)) < 0)
			goto out_reaper;
	}
	if (o->pid_out)
		*o->pid_out = child;
	r = 0;
	if (!o->detach && !o->pid_out) {
		while (waitpid(child, &ws, 0) < 0 && errno == EINTR)
			;
		if (exit_status)
			*exit_status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	}
out_reaper:
	if (!was_reaper)
		prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
out_pipes:
	for (int i = 0; i < 2; i++) {
		if (pp[i] >= 0)
			close(pp[i]);
		if (ep[i] >= 0)
			close(ep[i]);
		if (tp[i] >= 0)
			close(tp[i]);
	}
out:
	for (size_t i = 0; i < N_NS; i++)
		if (nsfd[i] >= 0)
			close(nsfd[i]);
	spec_free(s);
	return r;
}
