/* SPDX-License-Identifier: MIT */
/* Container lifecycle: create, start, state, kill, delete, list. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "child.h"
#include "core/cleanup.h"
#include "core/fs.h"
#include "core/timefmt.h"
#include "ctr.h"
#include "hooks.h"
#include "spec.h"

static const char *root_of(const char *state_root)
{
	return state_root && *state_root ? state_root : CTR_DEFAULT_STATE_ROOT;
}

int ctr_id_check(const char *id, struct ros_err *e)
{
	size_t n = id ? strlen(id) : 0;
	if (n == 0 || n > 1024 || !strcmp(id, ".") || !strcmp(id, "..") ||
	    strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-") != n)
		return err_setx(e, EINVAL, "invalid container id \"%s\": use 1 to 1024 of A-Z a-z 0-9 _ . + -",
		                id ? id : "");
	return 0;
}

const char *ctr_status_name(enum ctr_status st)
{
	static const char *const names[] = {"creating", "created", "running", "paused", "stopped"};
	return st <= CTR_STOPPED ? names[st] : "unknown";
}

unsigned long long ctr_pid_start_time(pid_t pid)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	cleanup_free char *s = NULL;
	if (pid <= 0 || fs_read_all(p, 4096, &s, NULL, NULL) < 0)
		return 0;
	char *c = strrchr(s, ')');
	if (!c)
		return 0;
	/* fields after comm: state(3) ... starttime(22) */
	char state = c[2];
	if (state == 'Z' || state == 'X')
		return 0;
	int field = 2;
	for (char *t = c + 1; *t; t++) {
		if (*t == ' ' && ++field == 22)
			return strtoull(t + 1, NULL, 10);
	}
	return 0;
}

static void state_dir(const char *state_root, const char *id, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", root_of(state_root), id);
}

/* Which kinds of hooks the spec has: start and delete then read the spec
 * back only when it has hooks for them. */
static int hook_kinds_of(const struct spec *s)
{
	int k = 0;
	for (int i = 0; i < HOOK_KINDS; i++)
		if (s->n_hooks[i])
			k |= 1 << i;
	return k;
}

static json_t *state_doc(const char *id, pid_t pid, unsigned long long start, const char *bundle, const char *created,
                         const char *cgroup_path, json_t *annotations, const char *status, int hook_kinds)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:I, s:s, s:i}", "ociVersion", "1.0.2", "id", id,
	                      "status", status, "pid", (json_int_t)pid, "bundle", bundle, "created", created,
	                      "start_time", (json_int_t)start, "cgroup_path", cgroup_path, "hook_kinds", hook_kinds);
	if (j && annotations && json_object_size(annotations))
		json_object_set(j, "annotations", annotations);
	return j;
}

/* Atomic (temp file + rename) but not fsynced: the state describes live
 * processes and means nothing after a reboot, so durability buys nothing
 * and an fsync costs milliseconds on a disk-backed state root. */
static int write_json_atomic(const char *path, json_t *j, struct ros_err *e)
{
	cleanup_free char *s = json_dumps(j, JSON_COMPACT);
	if (!s)
		return err_set(e, ENOMEM, "%s", path);
	return fs_write_replace(path, s, strlen(s), 0600, e);
}

int console_send(const char *sock_path, int master, struct ros_err *e)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(sock_path) >= sizeof(sa.sun_path))
		return err_setx(e, ENAMETOOLONG, "--console-socket %s: path too long", sock_path);
	strcpy(sa.sun_path, sock_path);
	cleanup_close int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return err_set(e, errno, "connect to the console socket %s", sock_path);
	char name[] = "/dev/ptmx";
	struct iovec iov = {.iov_base = name, .iov_len = sizeof(name)};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &master, sizeof(int));
	if (sendmsg(s, &mh, MSG_NOSIGNAL) < 0)
		return err_set(e, errno, "send the pty to the console socket %s", sock_path);
	return 0;
}

static int write_idmap(pid_t pid, const char *file, const struct spec_idmap *m, size_t n, struct ros_err *e)
{
	char p[64], buf[4096];
	size_t o = 0;
	for (size_t i = 0; i < n && o < sizeof(buf); i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%u %u %u\n", m[i].container_id, m[i].host_id,
		                      m[i].size);
	snprintf(p, sizeof(p), "/proc/%d/%s", (int)pid, file);
	return fs_write_file(p, buf, e);
}

static const int ns_clone_flag[NS_COUNT] = {CLONE_NEWPID, CLONE_NEWNET,  CLONE_NEWNS,     CLONE_NEWIPC,
                                            CLONE_NEWUTS, CLONE_NEWUSER, CLONE_NEWCGROUP, 0x00000080};

int ctr_create(const struct ctr_create_opts *o, struct ros_err *e)
{
	int r = ctr_id_check(o->id, e);
	if (r < 0)
		return r;
	struct spec *s = NULL;
	cleanup_free char *state_str = NULL;
	char bundle[PATH_MAX];
	if (!realpath(o->bundle ? o->bundle : ".", bundle))
		return err_set(e, errno, "bundle %s", o->bundle ? o->bundle : ".");
	r = o->spec ? spec_parse(o->spec, bundle, &s, e) : spec_load(bundle, &s, e);
	if (r < 0)
		return r;
	if (!s->has_process) {
		spec_free(s);
		return err_setx(e, EINVAL, "process: required to create a container");
	}
	if (s->apparmor_profile || s->selinux_label) {
		bool aa = access("/sys/kernel/security/apparmor", F_OK) == 0;
		bool se = access("/sys/fs/selinux/enforce", F_OK) == 0;
		if ((s->apparmor_profile && !aa) || (s->selinux_label && !se)) {
			spec_free(s);
			return err_setx(e, ENOTSUP, "%s: this host does not support %s",
			                s->apparmor_profile ? "process.apparmorProfile" : "process.selinuxLabel",
			                s->apparmor_profile ? "AppArmor" : "SELinux");
		}
	}
	struct stat st;
	if (stat(s->root_path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		r = err_set(e, errno ? errno : ENOTDIR, "root.path %s", s->root_path);
		spec_free(s);
		return r;
	}

	const char *sroot = root_of(o->state_root);
	char dir[PATH_MAX], fifo[PATH_MAX + 16], statef[PATH_MAX + 16], cgpath[PATH_MAX];
	if ((r = fs_mkdir_p(sroot, 0711, e)) < 0) {
		spec_free(s);
		return r;
	}
	state_dir(sroot, o->id, dir, sizeof(dir));
	if (mkdir(dir, 0700) < 0) {
		r = errno == EEXIST ? err_setx(e, EEXIST, "container \"%s\" already exists", o->id)
		                    : err_set(e, errno, "mkdir %s", dir);
		spec_free(s);
		return r;
	}
	if ((r = cgroup_path_for(s->cgroups_path, o->id, cgpath, sizeof(cgpath), e)) < 0)
		goto fail_dir;
	snprintf(fifo, sizeof(fifo), "%s/exec.fifo", dir);
	snprintf(statef, sizeof(statef), "%s/state.json", dir);
	if (mkfifo(fifo, 0600) < 0) {
		r = err_set(e, errno, "mkfifo %s", fifo);
		goto fail_dir;
	}
	struct child_args a = {.s = s, .no_pivot = o->no_pivot, .cgroup_path = cgpath, .preserve_fds = o->preserve_fds};
	for (int i = 0; i < NS_COUNT; i++)
		a.ns_fds[i] = -1;
	for (int i = 0; i < 3; i++)
		a.stdio[i] = o->stdio[i];
	a.fifo_fd = open(fifo, O_RDWR | O_CLOEXEC);
	int sv[2] = {-1, -1};
	int pidns_saved = -1;
	pid_t pid = -1;
	if (a.fifo_fd < 0) {
		r = err_set(e, errno, "open %s", fifo);
		goto fail;
	}
	unsigned long flags = 0;
	for (int i = 0; i < NS_COUNT; i++) {
		/* a new cgroup namespace is made by the child once it is in its
		 * cgroup (after SYNC_GO), so that cgroup is the namespace's root */
		if (s->ns_new[i] && i != NS_CGROUP)
			flags |= (unsigned long)ns_clone_flag[i];
		if (s->ns_path[i]) {
			a.ns_fds[i] = open(s->ns_path[i], O_RDONLY | O_CLOEXEC);
			if (a.ns_fds[i] < 0) {
				r = err_set(e, errno, "linux.namespaces: %s namespace path %s", spec_ns_name(i),
				            s->ns_path[i]);
				goto fail;
			}
		}
	}
	/* compiled here, once per profile for the process (sysctr starts
	 * many containers with a few profiles): the child only loads it */
	if (s->has_seccomp) {
		const char *what = "";
		if ((r = spec_seccomp_prepare(&s->seccomp, &what)) < 0) {
			r = err_set(e, -r, "seccomp: %s", what);
			goto fail;
		}
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = err_set(e, errno, "socketpair");
		goto fail;
	}
	/* Joining a pid namespace applies to children: switch, clone, switch back. */
	if (a.ns_fds[NS_PID] >= 0) {
		pidns_saved = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
		if (setns(a.ns_fds[NS_PID], CLONE_NEWPID) < 0) {
			r = err_set(e, errno, "join the pid namespace %s", s->ns_path[NS_PID]);
			goto fail;
		}
	}
	a.sync_fd = sv[1];
	pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid == 0) {
		close(sv[0]);
		child_main(&a);
	}
	if (pidns_saved >= 0) {
		setns(pidns_saved, CLONE_NEWPID);
		close(pidns_saved);
	}
	if (pid < 0) {
		r = err_set(e, errno, "clone the container process");
		goto fail;
	}
	close(sv[1]);
	sv[1] = -1;

	struct sync_msg m;
	if (s->ns_new[NS_USER]) {
		if (sync_recv(sv[0], &m, NULL) < 0 || m.type != SYNC_USERNS) {
			r = err_setx(e, EIO, "the container process died before its user namespace was set up");
			goto fail;
		}
		if (s->n_gid_maps && (r = write_idmap(pid, "gid_map", s->gid_maps, s->n_gid_maps, e)) < 0)
			goto fail;
		if (s->n_uid_maps && (r = write_idmap(pid, "uid_map", s->uid_maps, s->n_uid_maps, e)) < 0)
			goto fail;
	}
	s->res.extra_devices = s->devices;
	s->res.n_extra_devices = s->n_devices;
	if ((r = cgroup_setup(CGROUP_ROOT, cgpath, s->has_resources ? &s->res : NULL, pid, e)) < 0) {
		err_prefix(e, "cgroup %s", cgpath);
		goto fail;
	}
	char created[64];
	time_rfc3339_now(created, sizeof(created));
	unsigned long long start = ctr_pid_start_time(pid);
	json_t *sj =
	        state_doc(o->id, pid, start, bundle, created, cgpath, s->annotations, "creating", hook_kinds_of(s));
	state_str = json_dumps(sj, JSON_COMPACT);
	if (!sj || !state_str || (r = fs_write_replace(statef, state_str, strlen(state_str), 0600, e)) < 0) {
		json_decref(sj);
		if (!r)
			r = err_set(e, ENOMEM, "state");
		goto fail_cg;
	}
	json_decref(sj);
	if ((r = hooks_run(s, HOOK_PRESTART, state_str, e)) < 0 ||
	    (r = hooks_run(s, HOOK_CREATE_RUNTIME, state_str, e)) < 0)
		goto fail_cg;
	if (sync_send(sv[0], SYNC_GO, state_str, -1) < 0) {
		r = err_setx(e, EIO, "the container process died during set-up");
		goto fail_cg;
	}
	for (;;) {
		int passed = -1;
		if (sync_recv(sv[0], &m, &passed) < 0) {
			r = err_setx(e, EIO, "the container process died during set-up");
			goto fail_cg;
		}
		if (m.type == SYNC_ERROR) {
			r = err_setx(e, EIO, "%s", m.text);
			goto fail_cg;
		}
		if (m.type == SYNC_PTY) {
			if (o->console_socket)
				r = console_send(o->console_socket, passed, e);
			if (o->pty_out && !o->console_socket)
				*o->pty_out = passed;
			else
				close(passed);
			if (r < 0)
				goto fail_cg;
			continue;
		}
		if (m.type == SYNC_READY)
			break;
	}
	if (s->terminal && !o->console_socket && !o->pty_out) {
		r = err_setx(e, EINVAL, "process.terminal is set: --console-socket is required");
		goto fail_cg;
	}
	/* keep a copy of the spec for hooks at start and delete */
	char cfgcopy[PATH_MAX + 16];
	snprintf(cfgcopy, sizeof(cfgcopy), "%s/config.json", dir);
	if ((r = write_json_atomic(cfgcopy, s->doc, e)) < 0)
		goto fail_cg;
	sj = state_doc(o->id, pid, start, bundle, created, cgpath, s->annotations, "created", hook_kinds_of(s));
	r = write_json_atomic(statef, sj, e);
	json_decref(sj);
	if (r < 0)
		goto fail_cg;
	if (o->pid_file) {
		char pb[32];
		int n = snprintf(pb, sizeof(pb), "%d", (int)pid);
		if ((r = fs_write_atomic(o->pid_file, pb, (size_t)n, 0644, e)) < 0)
			goto fail_cg;
	}
	if (o->pid_out)
		*o->pid_out = pid;
	close(sv[0]);
	close(a.fifo_fd);
	for (int i = 0; i < NS_COUNT; i++)
		if (a.ns_fds[i] >= 0)
			close(a.ns_fds[i]);
	spec_free(s);
	return 0;

fail_cg:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	pid = -1;
	cgroup_destroy(CGROUP_ROOT, cgpath, NULL);
fail:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (pidns_saved >= 0)
		close(pidns_saved);
	for (int i = 0; i < 2; i++)
		if (sv[i] >= 0)
			close(sv[i]);
	if (a.fifo_fd >= 0)
		close(a.fifo_fd);
	for (int i = 0; i < NS_COUNT; i++)
		if (a.ns_fds[i] >= 0)
			close(a.ns_fds[i]);
fail_dir:
	fs_remove_tree(dir, NULL);
	spec_free(s);
	return r;
}

/* ---- state ---- */

int ctr_state_get(const char *state_root, const char *id, struct ctr_state *st, struct ros_err *e)
{
	memset(st, 0, sizeof(*st));
	int r = ctr_id_check(id, e);
	if (r < 0)
		return r;
	char dir[PATH_MAX], p[PATH_MAX + 16];
	state_dir(state_root, id, dir, sizeof(dir));
	snprintf(p, sizeof(p), "%s/state.json", dir);
	json_error_t je;
	json_t *j = json_load_file(p, 0, &je);
	if (!j) {
		if (access(dir, F_OK) < 0)
			return err_setx(e, ENOENT, "container \"%s\" does not exist", id);
		return err_setx(e, EIO, "%s: %s", p, je.text);
	}
	snprintf(st->id, sizeof(st->id), "%s", id);
	st->pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
	st->start_time = (unsigned long long)json_integer_value(json_object_get(j, "start_time"));
	snprintf(st->bundle, sizeof(st->bundle), "%s", json_string_value(json_object_get(j, "bundle")) ?: "");
	snprintf(st->created, sizeof(st->created), "%s", json_string_value(json_object_get(j, "created")) ?: "");
	snprintf(st->cgroup_path, sizeof(st->cgroup_path), "%s",
	         json_string_value(json_object_get(j, "cgroup_path")) ?: "");
	st->annotations = json_incref(json_object_get(j, "annotations"));
	json_t *hk = json_object_get(j, "hook_kinds");
	st->hook_kinds = json_is_integer(hk) ? (int)json_integer_value(hk) : -1;
	const char *saved = json_string_value(json_object_get(j, "status"));
	bool was_creating = saved && !strcmp(saved, "creating");
	json_decref(j); /* saved points into j: not used past here */

	bool alive = st->pid > 0 && ctr_pid_start_time(st->pid) == st->start_time && st->start_time;
	snprintf(p, sizeof(p), "%s/exec.fifo", dir);
	if (!alive) {
		st->status = was_creating ? CTR_CREATING : CTR_STOPPED;
		if (st->status == CTR_STOPPED)
			st->pid = 0;
	} else if (access(p, F_OK) == 0) {
		st->status = CTR_CREATED;
	} else if (*st->cgroup_path && cgroup_is_frozen(CGROUP_ROOT, st->cgroup_path) == 1) {
		st->status = CTR_PAUSED;
	} else {
		st->status = CTR_RUNNING;
	}
	return 0;
}

void ctr_state_release(struct ctr_state *st)
{
	json_decref(st->annotations);
	st->annotations = NULL;
}

json_t *ctr_state_json(const struct ctr_state *st)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s}", "ociVersion", "1.0.2", "id", st->id, "status",
	                      ctr_status_name(st->status), "pid", (json_int_t)st->pid, "bundle", st->bundle, "created",
	                      st->created);
	if (j && st->annotations)
		json_object_set(j, "annotations", st->annotations);
	return j;
}

struct spec *ctr_saved_spec(const char *state_root, const char *id, const char *bundle)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s/config.json", root_of(state_root), id);
	json_t *j = json_load_file(p, 0, NULL);
	struct spec *s = NULL;
	if (j)
		spec_parse(j, bundle, &s, NULL);
	json_decref(j);
	return s;
}

int ctr_start(const char *state_root, const char *id, struct ros_err *e)
{
	struct ctr_state st;
	int r = ctr_state_get(state_root, id, &st, e);
	if (r < 0)
		return r;
	if (st.status != CTR_CREATED) {
		ctr_state_release(&st);
		return err_setx(e, EINVAL, "container \"%s\" is %s, not created: cannot start it", id,
		                ctr_status_name(st.status));
	}
	char fifo[PATH_MAX];
	snprintf(fifo, sizeof(fifo), "%s/%s/exec.fifo", root_of(state_root), id);
	cleanup_close int fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ctr_state_release(&st);
		return err_set(e, errno, "open %s", fifo);
	}
	if (write(fd, "0", 1) != 1) {
		ctr_state_release(&st);
		return err_set(e, errno, "write %s", fifo);
	}
	unlink(fifo);
	struct spec *s = st.hook_kinds & (1 << HOOK_POSTSTART) ? ctr_saved_spec(state_root, id, st.bundle) : NULL;
	if (s && s->n_hooks[HOOK_POSTSTART]) {
		st.status = CTR_RUNNING;
		json_t *sj = ctr_state_json(&st);
		cleanup_free char *str = json_dumps(sj, JSON_COMPACT);
		json_decref(sj);
		/* the spec: a failing poststart hook is a warning; the container keeps running */
		struct ros_err he = {0};
		if (str)
			hooks_run(s, HOOK_POSTSTART, str, &he);
	}
	spec_free(s);
	ctr_state_release(&st);
	return 0;
}

int ctr_kill(const char *state_root, const char *id, int sig, bool all, struct ros_err *e)
{
	struct ctr_state st;
	int r = ctr_state_get(state_root, id, &st, e);
	if (r < 0)
		return r;
	ctr_state_release(&st);
	if (st.status == CTR_STOPPED || st.status == CTR_CREATING)
		return err_setx(e, ESRCH, "container \"%s\" is not running", id);
	if (all && *st.cgroup_path) {
		r = cgroup_kill_all(CGROUP_ROOT, st.cgroup_path, sig, e);
		if (st.status == CTR_PAUSED && (sig == SIGKILL || sig == SIGTERM))
			cgroup_freeze(CGROUP_ROOT, st.cgroup_path, false, NULL);
		return r;
	}
	if (kill(st.pid, sig) < 0)
		return err_set(e, errno, "kill %d", (int)st.pid);
	return 0;
}

int ctr_pause(const char *state_root, const char *id, bool pause, struct ros_err *e)
{
	struct ctr_state st;
	int r = ctr_state_get(state_root, id, &st, e);
	if (r < 0)
		return r;
	ctr_state_release(&st);
	if (pause && st.status != CTR_RUNNING)
		return err_setx(e, EINVAL, "container \"%s\" is %s, not running: cannot pause it", id,
		                ctr_status_name(st.status));
	if (!pause && st.status != CTR_PAUSED)
		return err_setx(e, EINVAL, "container \"%s\" is %s, not paused: cannot resume it", id,
		                ctr_status_name(st.status));
	return cgroup_freeze(CGROUP_ROOT, st.cgroup_path, pause, e);
}

int ctr_ps(const char *state_root, const char *id, pid_t **pids, size_t *n, struct ros_err *e)
{
	struct ctr_state st;
	int r = ctr_state_get(state_root, id, &st, e);
	if (r < 0)
		return r;
	ctr_state_release(&st);
	if (st.status == CTR_STOPPED) {
		*pids = NULL;
		*n = 0;
		return 0;
	}
	return cgroup_pids(CGROUP_ROOT, st.cgroup_path, pids, n, e);
}

int ctr_delete(const char *state_root, const char *id, bool force, struct ros_err *e)
{
	struct ctr_state st;
	int r = ctr_state_get(state_root, id, &st, e);
	if (r < 0)
		return r;
	if (st.status != CTR_STOPPED && st.status != CTR_CREATING && !force) {
		ctr_state_release(&st);
		return err_setx(e, EBUSY, "container \"%s\" is %s: stop it first or use --force", id,
		                ctr_status_name(st.status));
	}
	if (st.status != CTR_STOPPED && st.pid > 0) {
		if (*st.cgroup_path) {
			cgroup_kill_all(CGROUP_ROOT, st.cgroup_path, SIGKILL, NULL);
			cgroup_freeze(CGROUP_ROOT, st.cgroup_path, false, NULL);
		}
		kill(st.pid, SIGKILL);
		for (int i = 0; i < 500 && ctr_pid_start_time(st.pid) == st.start_time; i++) {
			waitpid(st.pid, NULL, WNOHANG);
			struct timespec ts = {0, 2000000};
			nanosleep(&ts, NULL);
		}
	}
	if (*st.cgroup_path) {
		/* other processes of the container may linger after init died */
		cgroup_kill_all(CGROUP_ROOT, st.cgroup_path, SIGKILL, NULL);
		if ((r = cgroup_destroy(CGROUP_ROOT, st.cgroup_path, e)) < 0) {
			ctr_state_release(&st);
			return r;
		}
	}
	struct spec *s = st.hook_kinds & (1 << HOOK_POSTSTOP) ? ctr_saved_spec(state_root, id, st.bundle) : NULL;
	if (s && s->n_hooks[HOOK_POSTSTOP]) {
		st.status = CTR_STOPPED;
		json_t *sj = ctr_state_json(&st);
		cleanup_free char *str = json_dumps(sj, JSON_COMPACT);
		json_decref(sj);
		struct ros_err he = {0};
		if (str)
			hooks_run(s, HOOK_POSTSTOP, str, &he); /* a failure is a warning, as the spec says */
	}
	spec_free(s);
	ctr_state_release(&st);
	char dir[PATH_MAX];
	state_dir(state_root, id, dir, sizeof(dir));
	return fs_remove_tree(dir, e);
}

int ctr_list(const char *state_root, char ***ids, struct ros_err *e)
{
	DIR *d = opendir(root_of(state_root));
	size_t n = 0;
	char **v = calloc(1, sizeof(char *));
	if (!v)
		return err_set(e, ENOMEM, "list");
	if (!d) {
		*ids = v;
		return errno == ENOENT ? 0 : err_set(e, errno, "open %s", root_of(state_root));
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || ctr_id_check(de->d_name, NULL) < 0)
			continue;
		char **nv = realloc(v, (n + 2) * sizeof(char *));
		if (!nv)
			break;
		v = nv;
		v[n++] = strdup(de->d_name);
		v[n] = NULL;
	}
	closedir(d);
	*ids = v;
	return 0;
}

/* ---- update ---- */

/* Merges upd into res (both linux.resources objects): memory, cpu, pids,
 * blockIO and unified member by member, hugepageLimits by pageSize; devices
 * are not updated. */
static int resources_merge(json_t *res, json_t *upd)
{
	const char *k;
	json_t *v;
	json_object_foreach(upd, k, v)
	{
		json_t *cur = json_object_get(res, k);
		if (!strcmp(k, "devices"))
			continue;
		if (json_is_object(v) && json_is_object(cur)) {
			if (json_object_update(cur, v) < 0)
				return -ENOMEM;
		} else if (!strcmp(k, "hugepageLimits") && json_is_array(v) && json_is_array(cur)) {
			size_t i, j;
			json_t *h, *c;
			json_array_foreach(v, i, h)
			{
				const char *ps = json_string_value(json_object_get(h, "pageSize"));
				bool found = false;
				json_array_foreach(cur, j, c)
				{
					const char *cps = json_string_value(json_object_get(c, "pageSize"));
					if (ps && cps && !strcmp(ps, cps)) {
						json_array_set(cur, j, h);
						found = true;
					}
				}
				if (!found && json_array_append(cur, h) < 0)
					return -ENOMEM;
			}
		} else if (json_object_set(res, k, v) < 0) {
			return -ENOMEM;
		}
	}
	return 0;
}

int ctr_update(const char *state_root, const char *id, json_t *resources, struct ros_err *e)
{
	struct ctr_state st;
	int r = ctr_state_get(state_root, id, &st, e);
	if (r < 0)
		return r;
	ctr_state_release(&st);
	if (st.status != CTR_CREATED && st.status != CTR_RUNNING && st.status != CTR_PAUSED)
		return err_setx(e, EINVAL, "container \"%s\" is %s: cannot update it", id, ctr_status_name(st.status));
	if (!*st.cgroup_path)
		return err_setx(e, EINVAL, "container \"%s\" has no cgroup", id);
	struct spec_resources delta, merged;
	/* check the whole request before anything is written */
	if ((r = spec_parse_resources(resources, &delta, e)) < 0)
		return r;
	json_t *upd = resources;
	if (delta.memory_limit == SPEC_MEM_UNLIMITED && delta.memory_swap < 0) {
		/* no memory limit and swap not given: no swap limit either (as
		 * runc); v1 would refuse a limit above the old memsw otherwise */
		upd = json_deep_copy(resources);
		if (!upd || json_object_set_new(json_object_get(upd, "memory"), "swap", json_integer(-1)) < 0) {
			json_decref(upd);
			return err_set(e, ENOMEM, "update %s", id);
		}
		delta.memory_swap = SPEC_MEM_UNLIMITED;
	} else {
		json_incref(upd);
	}

	char cfg[PATH_MAX];
	snprintf(cfg, sizeof(cfg), "%s/%s/config.json", root_of(state_root), id);
	json_error_t je;
	json_t *doc = json_load_file(cfg, 0, &je);
	if (!doc) {
		json_decref(upd);
		return err_setx(e, EIO, "%s: %s", cfg, je.text);
	}
	json_t *lx = json_object_get(doc, "linux"), *res = json_object_get(lx, "resources");
	if (!json_is_object(lx) && json_object_set_new(doc, "linux", lx = json_object()) < 0)
		goto nomem;
	if (!json_is_object(res) && json_object_set_new(lx, "resources", res = json_object()) < 0)
		goto nomem;
	if (resources_merge(res, upd) < 0)
		goto nomem;
	if ((r = spec_parse_resources(res, &merged, e)) < 0)
		goto out;

	/* What the request names, plus the values written together with it:
	 * cpu.max holds quota and period, memory.swap.max is derived from the
	 * limit on v2 and memsw must stay above the limit on v1. */
	struct spec_resources apply = delta;
	apply.devices = NULL;
	apply.extra_devices = NULL;
	apply.n_extra_devices = 0;
	if (delta.cpu_quota || delta.cpu_period) {
		apply.cpu_quota = merged.cpu_quota;
		apply.cpu_period = merged.cpu_period;
	}
	if (delta.memory_limit >= 0 || delta.memory_swap >= 0) {
		apply.memory_limit = merged.memory_limit;
		apply.memory_swap = merged.memory_swap;
	}
	if ((r = cgroup_apply(CGROUP_ROOT, st.cgroup_path, &apply, e)) < 0) {
		err_prefix(e, "update %s", id);
		goto out;
	}
	r = write_json_atomic(cfg, doc, e);
out:
	json_decref(doc);
	json_decref(upd);
	return r;
nomem:
	r = err_set(e, ENOMEM, "update %s", id);
	goto out;
}
