/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "spec.h"

#include <limits.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "jsonutil.h"

static const char *const ns_names[NS_COUNT] = {"pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"};

const char *spec_ns_name(enum spec_ns ns)
{
	return ns < NS_COUNT ? ns_names[ns] : "?";
}

static const char *const hook_names[HOOK_KINDS] = {"prestart",       "createRuntime", "createContainer",
                                                   "startContainer", "poststart",     "poststop"};

const char *spec_hook_kind_name(enum spec_hook_kind k)
{
	return k < HOOK_KINDS ? hook_names[k] : "?";
}

int spec_cap_from_name(const char *name)
{
	cap_value_t v;
	if (strncmp(name, "CAP_", 4) != 0 || cap_from_name(name, &v) < 0)
		return -1;
	return (int)v;
}

static void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

void spec_free(struct spec *s)
{
	if (!s)
		return;
	free(s->root_path);
	free(s->additional_gids);
	strv_free(s->args);
	strv_free(s->env);
	free(s->rlimits);
	for (size_t i = 0; i < s->n_mounts; i++)
		free(s->mounts[i].data);
	free(s->mounts);
	free(s->uid_maps);
	free(s->gid_maps);
	free(s->devices);
	strv_free(s->masked_paths);
	strv_free(s->readonly_paths);
	for (size_t i = 0; i < s->seccomp.n_rules; i++) {
		free(s->seccomp.rules[i].names);
		free(s->seccomp.rules[i].args);
	}
	free(s->seccomp.rules);
	free(s->seccomp.arches);
	free(s->seccomp.bpf);
	for (int k = 0; k < HOOK_KINDS; k++) {
		for (size_t i = 0; i < s->n_hooks[k]; i++) {
			strv_free(s->hooks[k][i].args);
			strv_free(s->hooks[k][i].env);
		}
		free(s->hooks[k]);
	}
	json_decref(s->doc);
	free(s);
}

#define P(buf, path, key) json_path_join(buf, sizeof(buf), path, key)
#define PI(buf, path, i) json_path_index(buf, sizeof(buf), path, i)

/* ---- process ---- */

/* A spec's symbolic names (RLIMIT_*, SCHED_*, SCMP_CMP_*) and their values. */
struct name_value {
	const char *name;
	int value;
};

/* name's value in table t of n entries: true if found. */
static bool name_lookup(const struct name_value *t, size_t n, const char *name, int *out)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(t[i].name, name)) {
			*out = t[i].value;
			return true;
		}
	return false;
}

static const struct name_value rlimit_names[] = {
        {"RLIMIT_AS", RLIMIT_AS},
        {"RLIMIT_CORE", RLIMIT_CORE},
        {"RLIMIT_CPU", RLIMIT_CPU},
        {"RLIMIT_DATA", RLIMIT_DATA},
        {"RLIMIT_FSIZE", RLIMIT_FSIZE},
        {"RLIMIT_LOCKS", RLIMIT_LOCKS},
        {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
        {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
        {"RLIMIT_NICE", RLIMIT_NICE},
        {"RLIMIT_NOFILE", RLIMIT_NOFILE},
        {"RLIMIT_NPROC", RLIMIT_NPROC},
        {"RLIMIT_RSS", RLIMIT_RSS},
        {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
        {"RLIMIT_RTTIME", RLIMIT_RTTIME},
        {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
        {"RLIMIT_STACK", RLIMIT_STACK},
};

static int parse_capset(json_t *caps, const char *path, const char *key, uint64_t *out, struct ros_err *e)
{
	json_t *arr;
	int r = json_get_array(caps, path, key, false, &arr, e);
	if (r < 0 || !arr)
		return r;
	char p[512], pi[600];
	P(p, path, key);
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		PI(pi, p, i);
		if (!json_is_string(v))
			return json_type_error(e, pi, "string", v);
		int c = spec_cap_from_name(json_string_value(v));
		if (c < 0 || c > 63)
			return err_setx(e, EINVAL, "%s: unknown capability \"%s\"", pi, json_string_value(v));
		*out |= 1ULL << c;
	}
	return 0;
}

/* process.scheduler (runtime-spec 1.2): the policies of sched(7) but
 * SCHED_DEADLINE, nice, priority, and the flag SCHED_FLAG_RESET_ON_FORK. */
static int parse_scheduler(struct spec *s, json_t *sch, struct ros_err *e)
{
	static const struct name_value policies[] = {{"SCHED_OTHER", SCHED_OTHER},
	                                             {"SCHED_BATCH", SCHED_BATCH},
	                                             {"SCHED_IDLE", SCHED_IDLE},
	                                             {"SCHED_FIFO", SCHED_FIFO},
	                                             {"SCHED_RR", SCHED_RR}};
	if (!sch)
		return 0;
	if (!json_is_object(sch))
		return err_setx(e, EINVAL, "process.scheduler: expected an object");
	const char *policy = NULL;
	int32_t nice = 0, prio = 0;
	int r;
	if ((r = json_get_string(sch, "process.scheduler", "policy", true, &policy, e)) < 0 ||
	    (r = json_get_int32(sch, "process.scheduler", "nice", false, &nice, e)) < 0 ||
	    (r = json_get_int32(sch, "process.scheduler", "priority", false, &prio, e)) < 0)
		return r;
	int pol;
	if (!name_lookup(policies, ARRAY_SIZE(policies), policy, &pol))
		return err_setx(e, !strcmp(policy, "SCHED_DEADLINE") ? ENOTSUP : EINVAL,
		                "process.scheduler.policy: %s \"%s\"",
		                !strcmp(policy, "SCHED_DEADLINE") ? "not supported:" : "unknown policy", policy);
	if (nice < -20 || nice > 19)
		return err_setx(e, ERANGE, "process.scheduler.nice: %d is outside -20..19", nice);
	bool rt = pol == SCHED_FIFO || pol == SCHED_RR;
	if (rt ? prio < 1 || prio > 99 : prio != 0)
		return err_setx(e, ERANGE, "process.scheduler.priority: %d; %s", prio,
		                rt ? "SCHED_FIFO and SCHED_RR take 1..99" : "only SCHED_FIFO and SCHED_RR take one");
	json_t *flags = json_object_get(sch, "flags");
	if (flags && !json_is_array(flags))
		return err_setx(e, EINVAL, "process.scheduler.flags: expected an array of strings");
	size_t i;
	json_t *f;
	json_array_foreach(flags, i, f)
	{
		if (!json_is_string(f) || strcmp(json_string_value(f), "SCHED_FLAG_RESET_ON_FORK"))
			return err_setx(e, ENOTSUP,
			                "process.scheduler.flags[%zu]: only SCHED_FLAG_RESET_ON_FORK is supported", i);
		s->sched_reset_on_fork = true;
	}
	for (const char *const *key = (const char *const[]){"runtime", "deadline", "period", NULL}; *key; key++)
		if (json_object_get(sch, *key))
			return err_setx(e, ENOTSUP,
			                "process.scheduler.%s: only for SCHED_DEADLINE, which is not supported", *key);
	s->has_scheduler = true;
	s->sched_policy = pol;
	s->sched_nice = nice;
	s->sched_priority = prio;
	return 0;
}

static int parse_process(struct spec *s, json_t *proc, struct ros_err *e)
{
	const char *path = "process";
	char p[512], pi[600];
	int r;
	s->has_process = true;
	if ((r = json_get_bool(proc, path, "terminal", false, &s->terminal, e)) < 0)
		return r;
	json_t *user;
	if ((r = json_get_object(proc, path, "user", false, &user, e)) < 0)
		return r;
	if (user) {
		if ((r = json_get_uint32(user, "process.user", "uid", false, &s->uid, e)) < 0 ||
		    (r = json_get_uint32(user, "process.user", "gid", false, &s->gid, e)) < 0)
			return r;
		s->has_umask = json_object_get(user, "umask") != NULL;
		if ((r = json_get_uint32(user, "process.user", "umask", false, &s->umask, e)) < 0)
			return r;
		json_t *ag;
		if ((r = json_get_array(user, "process.user", "additionalGids", false, &ag, e)) < 0)
			return r;
		if (ag) {
			s->additional_gids = calloc(json_array_size(ag) + 1, sizeof(uint32_t));
			size_t i;
			json_t *v;
			json_array_foreach(ag, i, v)
			{
				PI(pi, "process.user.additionalGids", i);
				if (!json_is_integer(v) || json_integer_value(v) < 0 ||
				    json_integer_value(v) > UINT32_MAX)
					return json_type_error(e, pi, "a gid", v);
				s->additional_gids[s->n_additional_gids++] = (uint32_t)json_integer_value(v);
			}
		}
	}
	if ((r = json_get_strv(proc, path, "args", false, &s->args, e)) < 0 ||
	    (r = json_get_strv(proc, path, "env", false, &s->env, e)) < 0)
		return r;
	if (!s->args || !s->args[0])
		return err_setx(e, EINVAL, "process.args: must hold at least one element");
	const char *cwd = NULL;
	if ((r = json_get_string(proc, path, "cwd", true, &cwd, e)) < 0)
		return r;
	if (cwd[0] != '/')
		return err_setx(e, EINVAL, "process.cwd: must be an absolute path, got \"%s\"", cwd);
	s->cwd = (char *)(uintptr_t)cwd;
	json_t *caps;
	if ((r = json_get_object(proc, path, "capabilities", false, &caps, e)) < 0)
		return r;
	if (caps) {
		s->caps.present = true;
		if ((r = parse_capset(caps, "process.capabilities", "bounding", &s->caps.bounding, e)) < 0 ||
		    (r = parse_capset(caps, "process.capabilities", "effective", &s->caps.effective, e)) < 0 ||
		    (r = parse_capset(caps, "process.capabilities", "inheritable", &s->caps.inheritable, e)) < 0 ||
		    (r = parse_capset(caps, "process.capabilities", "permitted", &s->caps.permitted, e)) < 0 ||
		    (r = parse_capset(caps, "process.capabilities", "ambient", &s->caps.ambient, e)) < 0)
			return r;
	}
	json_t *rl;
	if ((r = json_get_array(proc, path, "rlimits", false, &rl, e)) < 0)
		return r;
	if (rl) {
		s->rlimits = calloc(json_array_size(rl) + 1, sizeof(*s->rlimits));
		size_t i;
		json_t *v;
		json_array_foreach(rl, i, v)
		{
			PI(pi, "process.rlimits", i);
			if (!json_is_object(v))
				return json_type_error(e, pi, "object", v);
			const char *type = NULL;
			struct spec_rlimit *l = &s->rlimits[s->n_rlimits];
			if ((r = json_get_string(v, pi, "type", true, &type, e)) < 0 ||
			    (r = json_get_uint64(v, pi, "soft", true, &l->soft, e)) < 0 ||
			    (r = json_get_uint64(v, pi, "hard", true, &l->hard, e)) < 0)
				return r;
			int res;
			if (!name_lookup(rlimit_names, ARRAY_SIZE(rlimit_names), type, &res))
				return err_setx(e, EINVAL, "%s.type: unknown rlimit \"%s\"", pi, type);
			for (size_t j = 0; j < s->n_rlimits; j++)
				if (s->rlimits[j].resource == res)
					return err_setx(e, EINVAL, "%s.type: duplicate rlimit \"%s\"", pi, type);
			if (l->soft > l->hard)
				return err_setx(e, EINVAL, "%s: soft limit %llu is above the hard limit %llu", pi,
				                (unsigned long long)l->soft, (unsigned long long)l->hard);
			l->resource = res;
			s->n_rlimits++;
		}
	}
	if ((r = json_get_bool(proc, path, "noNewPrivileges", false, &s->no_new_privileges, e)) < 0)
		return r;
	s->has_oom_score_adj = json_object_get(proc, "oomScoreAdj") != NULL;
	int32_t oom = 0;
	if ((r = json_get_int32(proc, path, "oomScoreAdj", false, &oom, e)) < 0)
		return r;
	if (oom < -1000 || oom > 1000)
		return err_setx(e, ERANGE, "process.oomScoreAdj: %d is outside -1000..1000", oom);
	s->oom_score_adj = oom;
	if ((r = parse_scheduler(s, json_object_get(proc, "scheduler"), e)) < 0)
		return r;
	const char *aa = NULL, *se = NULL;
	if ((r = json_get_string(proc, path, "apparmorProfile", false, &aa, e)) < 0 ||
	    (r = json_get_string(proc, path, "selinuxLabel", false, &se, e)) < 0)
		return r;
	s->apparmor_profile = aa && *aa ? (char *)(uintptr_t)aa : NULL;
	s->selinux_label = se && *se ? (char *)(uintptr_t)se : NULL;
	(void)p;
	return 0;
}

/* ---- mounts ---- */

static const struct {
	const char *name;
	unsigned long set, clear, prop;
	bool rec;
} mount_opts[] = {
        {"ro", MS_RDONLY, 0, 0, false},
        {"rw", 0, MS_RDONLY, 0, false},
        {"nosuid", MS_NOSUID, 0, 0, false},
        {"suid", 0, MS_NOSUID, 0, false},
        {"nodev", MS_NODEV, 0, 0, false},
        {"dev", 0, MS_NODEV, 0, false},
        {"noexec", MS_NOEXEC, 0, 0, false},
        {"exec", 0, MS_NOEXEC, 0, false},
        {"sync", MS_SYNCHRONOUS, 0, 0, false},
        {"async", 0, MS_SYNCHRONOUS, 0, false},
        {"dirsync", MS_DIRSYNC, 0, 0, false},
        {"remount", MS_REMOUNT, 0, 0, false},
        {"mand", MS_MANDLOCK, 0, 0, false},
        {"nomand", 0, MS_MANDLOCK, 0, false},
        {"atime", 0, MS_NOATIME, 0, false},
        {"noatime", MS_NOATIME, 0, 0, false},
        {"diratime", 0, MS_NODIRATIME, 0, false},
        {"nodiratime", MS_NODIRATIME, 0, 0, false},
        {"relatime", MS_RELATIME, 0, 0, false},
        {"norelatime", 0, MS_RELATIME, 0, false},
        {"strictatime", MS_STRICTATIME, 0, 0, false},
        {"nostrictatime", 0, MS_STRICTATIME, 0, false},
        {"bind", MS_BIND, 0, 0, false},
        {"rbind", MS_BIND | MS_REC, 0, 0, true},
        {"private", 0, 0, MS_PRIVATE, false},
        {"rprivate", 0, 0, MS_PRIVATE | MS_REC, false},
        {"shared", 0, 0, MS_SHARED, false},
        {"rshared", 0, 0, MS_SHARED | MS_REC, false},
        {"slave", 0, 0, MS_SLAVE, false},
        {"rslave", 0, 0, MS_SLAVE | MS_REC, false},
        {"unbindable", 0, 0, MS_UNBINDABLE, false},
        {"runbindable", 0, 0, MS_UNBINDABLE | MS_REC, false},
        {"defaults", 0, 0, 0, false},
};

static int parse_mounts(struct spec *s, json_t *mounts, struct ros_err *e)
{
	char pi[600];
	s->mounts = calloc(json_array_size(mounts) + 1, sizeof(*s->mounts));
	if (!s->mounts)
		return err_set(e, ENOMEM, "mounts");
	size_t i;
	json_t *v;
	json_array_foreach(mounts, i, v)
	{
		PI(pi, "mounts", i);
		if (!json_is_object(v))
			return json_type_error(e, pi, "object", v);
		struct spec_mount *m = &s->mounts[s->n_mounts++];
		const char *dst = NULL, *type = NULL, *src = NULL;
		int r;
		if ((r = json_get_string(v, pi, "destination", true, &dst, e)) < 0 ||
		    (r = json_get_string(v, pi, "type", false, &type, e)) < 0 ||
		    (r = json_get_string(v, pi, "source", false, &src, e)) < 0)
			return r;
		if (dst[0] != '/')
			return err_setx(e, EINVAL, "%s.destination: must be an absolute path, got \"%s\"", pi, dst);
		m->destination = (char *)(uintptr_t)dst;
		m->type = (char *)(uintptr_t)(type ? type : "");
		m->source = (char *)(uintptr_t)(src ? src : "");
		json_t *opts;
		if ((r = json_get_array(v, pi, "options", false, &opts, e)) < 0)
			return r;
		char data[4096] = "";
		size_t k;
		json_t *o;
		json_array_foreach(opts, k, o)
		{
			char po[700];
			json_path_index(po, sizeof(po), pi, k);
			if (!json_is_string(o))
				return json_type_error(e, po, "string", o);
			const char *name = json_string_value(o);
			size_t t;
			for (t = 0; t < sizeof(mount_opts) / sizeof(mount_opts[0]); t++)
				if (!strcmp(name, mount_opts[t].name))
					break;
			if (t < sizeof(mount_opts) / sizeof(mount_opts[0])) {
				m->flags = (m->flags | mount_opts[t].set) & ~mount_opts[t].clear;
				m->clear_flags |= mount_opts[t].clear;
				m->propagation |= mount_opts[t].prop;
				if (mount_opts[t].set & MS_BIND)
					m->bind = true;
				m->recursive |= mount_opts[t].rec;
			} else {
				size_t l = strlen(data);
				if (l + strlen(name) + 2 >= sizeof(data))
					return err_setx(e, E2BIG, "%s.options: too long", pi);
				snprintf(data + l, sizeof(data) - l, "%s%s", l ? "," : "", name);
			}
		}
		if (!strcmp(m->type, "bind")) {
			m->bind = true;
			m->flags |= MS_BIND;
		}
		if (m->bind && !*m->source)
			return err_setx(e, EINVAL, "%s.source: a bind mount needs a source", pi);
		m->data = *data ? strdup(data) : NULL;
	}
	return 0;
}

/* ---- linux ---- */

static int ns_from_type(const char *t)
{
	for (int i = 0; i < NS_COUNT; i++)
		if (!strcmp(t, ns_names[i]))
			return i;
	return -1;
}

static int parse_idmaps(json_t *arr, const char *path, struct spec_idmap **out, size_t *n, struct ros_err *e)
{
	char pi[600];
	*out = calloc(json_array_size(arr) + 1, sizeof(**out));
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		PI(pi, path, i);
		if (!json_is_object(v))
			return json_type_error(e, pi, "object", v);
		struct spec_idmap *m = &(*out)[(*n)++];
		int r;
		if ((r = json_get_uint32(v, pi, "containerID", true, &m->container_id, e)) < 0 ||
		    (r = json_get_uint32(v, pi, "hostID", true, &m->host_id, e)) < 0 ||
		    (r = json_get_uint32(v, pi, "size", true, &m->size, e)) < 0)
			return r;
	}
	return 0;
}

static int parse_devices(struct spec *s, json_t *arr, struct ros_err *e)
{
	char pi[600];
	s->devices = calloc(json_array_size(arr) + 1, sizeof(*s->devices));
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		PI(pi, "linux.devices", i);
		if (!json_is_object(v))
			return json_type_error(e, pi, "object", v);
		struct spec_device *d = &s->devices[s->n_devices++];
		const char *path = NULL, *type = NULL;
		int r;
		if ((r = json_get_string(v, pi, "path", true, &path, e)) < 0 ||
		    (r = json_get_string(v, pi, "type", true, &type, e)) < 0)
			return r;
		if (path[0] != '/')
			return err_setx(e, EINVAL, "%s.path: must be absolute, got \"%s\"", pi, path);
		if (strlen(type) != 1 || !strchr("cbup", type[0]))
			return err_setx(e, EINVAL, "%s.type: expected one of c, b, u, p, got \"%s\"", pi, type);
		d->path = (char *)(uintptr_t)path;
		d->type = type[0];
		if (d->type != 'p' && ((r = json_get_int64(v, pi, "major", true, &d->major, e)) < 0 ||
		                       (r = json_get_int64(v, pi, "minor", true, &d->minor, e)) < 0))
			return r;
		d->has_mode = json_object_get(v, "fileMode") != NULL;
		d->has_uid = json_object_get(v, "uid") != NULL;
		d->has_gid = json_object_get(v, "gid") != NULL;
		if ((r = json_get_uint32(v, pi, "fileMode", false, &d->file_mode, e)) < 0 ||
		    (r = json_get_uint32(v, pi, "uid", false, &d->uid, e)) < 0 ||
		    (r = json_get_uint32(v, pi, "gid", false, &d->gid, e)) < 0)
			return r;
	}
	return 0;
}

/* A memory size: bytes, or -1 for no limit (SPEC_MEM_UNLIMITED). */
static int get_memory_value(json_t *o, const char *key, int64_t *out, struct ros_err *e)
{
	int64_t v = INT64_MIN;
	int x = json_get_int64(o, "linux.resources.memory", key, false, &v, e);
	if (x < 0 || v == INT64_MIN)
		return x;
	if (v < -1)
		return err_setx(e, ERANGE, "linux.resources.memory.%s: %lld is negative (-1 means no limit)", key,
		                (long long)v);
	*out = v == -1 ? SPEC_MEM_UNLIMITED : v;
	return 0;
}

int spec_parse_resources(json_t *res, struct spec_resources *r, struct ros_err *e)
{
	const char *path = "linux.resources";
	memset(r, 0, sizeof(*r));
	r->memory_limit = r->memory_reservation = r->memory_swap = -1;
	if (!json_is_object(res))
		return json_type_error(e, path, "object", res);
	json_t *o;
	int x;
	if ((x = json_get_object(res, path, "memory", false, &o, e)) < 0)
		return x;
	if (o) {
		if ((x = get_memory_value(o, "limit", &r->memory_limit, e)) < 0 ||
		    (x = get_memory_value(o, "reservation", &r->memory_reservation, e)) < 0 ||
		    (x = get_memory_value(o, "swap", &r->memory_swap, e)) < 0)
			return x;
		int64_t ignored;
		bool b;
		if ((x = json_get_int64(o, "linux.resources.memory", "kernel", false, &ignored, e)) < 0 ||
		    (x = json_get_int64(o, "linux.resources.memory", "kernelTCP", false, &ignored, e)) < 0 ||
		    (x = json_get_int64(o, "linux.resources.memory", "swappiness", false, &ignored, e)) < 0 ||
		    (x = json_get_bool(o, "linux.resources.memory", "disableOOMKiller", false, &b, e)) < 0)
			return x;
	}
	if ((x = json_get_object(res, path, "pids", false, &o, e)) < 0)
		return x;
	if (o && (x = json_get_int64(o, "linux.resources.pids", "limit", true, &r->pids_limit, e)) < 0)
		return x;
	if ((x = json_get_object(res, path, "cpu", false, &o, e)) < 0)
		return x;
	if (o) {
		const char *cpus = NULL, *mems = NULL;
		if ((x = json_get_uint64(o, "linux.resources.cpu", "shares", false, &r->cpu_shares, e)) < 0 ||
		    (x = json_get_int64(o, "linux.resources.cpu", "quota", false, &r->cpu_quota, e)) < 0 ||
		    (x = json_get_uint64(o, "linux.resources.cpu", "period", false, &r->cpu_period, e)) < 0 ||
		    (x = json_get_int64(o, "linux.resources.cpu", "realtimeRuntime", false, &r->cpu_rt_runtime, e)) <
		            0 ||
		    (x = json_get_uint64(o, "linux.resources.cpu", "realtimePeriod", false, &r->cpu_rt_period, e)) <
		            0 ||
		    (x = json_get_string(o, "linux.resources.cpu", "cpus", false, &cpus, e)) < 0 ||
		    (x = json_get_string(o, "linux.resources.cpu", "mems", false, &mems, e)) < 0)
			return x;
		r->cpuset_cpus = (char *)(uintptr_t)cpus;
		r->cpuset_mems = (char *)(uintptr_t)mems;
	}
	if ((x = json_get_object(res, path, "blockIO", false, &o, e)) < 0)
		return x;
	if (o) {
		uint32_t w = 0;
		if ((x = json_get_uint32(o, "linux.resources.blockIO", "weight", false, &w, e)) < 0)
			return x;
		if (w && (w < 10 || w > 1000))
			return err_setx(e, ERANGE, "linux.resources.blockIO.weight: %u is outside 10..1000", w);
		r->blkio_weight = (uint16_t)w;
	}
	if ((x = json_get_array(res, path, "devices", false, &r->devices, e)) < 0 ||
	    (x = json_get_array(res, path, "hugepageLimits", false, &r->hugepages, e)) < 0 ||
	    (x = json_get_object(res, path, "unified", false, &r->unified, e)) < 0)
		return x;
	char pi[600];
	size_t i;
	json_t *d;
	json_array_foreach(r->devices, i, d)
	{
		PI(pi, "linux.resources.devices", i);
		bool allow;
		const char *type = NULL, *access = NULL;
		int64_t mm;
		if (!json_is_object(d))
			return json_type_error(e, pi, "object", d);
		if ((x = json_get_bool(d, pi, "allow", true, &allow, e)) < 0 ||
		    (x = json_get_string(d, pi, "type", false, &type, e)) < 0 ||
		    (x = json_get_string(d, pi, "access", false, &access, e)) < 0 ||
		    (x = json_get_int64(d, pi, "major", false, &mm, e)) < 0 ||
		    (x = json_get_int64(d, pi, "minor", false, &mm, e)) < 0)
			return x;
		if (type && (strlen(type) != 1 || !strchr("abc", type[0])))
			return err_setx(e, EINVAL, "%s.type: expected a, b or c, got \"%s\"", pi, type);
		if (access && strspn(access, "rwm") != strlen(access))
			return err_setx(e, EINVAL, "%s.access: expected letters of rwm, got \"%s\"", pi, access);
	}
	return 0;
}

static int parse_resources(struct spec *s, json_t *res, struct ros_err *e)
{
	s->has_resources = true;
	return spec_parse_resources(res, &s->res, e);
}

static uint32_t seccomp_action(const char *name, uint32_t errno_ret, bool *ok)
{
	*ok = true;
	if (!strcmp(name, "SCMP_ACT_KILL") || !strcmp(name, "SCMP_ACT_KILL_THREAD"))
		return SCMP_ACT_KILL_THREAD;
	if (!strcmp(name, "SCMP_ACT_KILL_PROCESS"))
		return SCMP_ACT_KILL_PROCESS;
	if (!strcmp(name, "SCMP_ACT_TRAP"))
		return SCMP_ACT_TRAP;
	if (!strcmp(name, "SCMP_ACT_ERRNO"))
		return SCMP_ACT_ERRNO(errno_ret);
	if (!strcmp(name, "SCMP_ACT_TRACE"))
		return SCMP_ACT_TRACE(errno_ret);
	if (!strcmp(name, "SCMP_ACT_ALLOW"))
		return SCMP_ACT_ALLOW;
	if (!strcmp(name, "SCMP_ACT_LOG"))
		return SCMP_ACT_LOG;
	*ok = false;
	return 0;
}

static int parse_seccomp(struct spec *s, json_t *sc, struct ros_err *e)
{
	const char *path = "linux.seccomp";
	struct spec_seccomp *c = &s->seccomp;
	s->has_seccomp = true;
	const char *def = NULL;
	uint32_t def_errno = EPERM;
	int r;
	if ((r = json_get_string(sc, path, "defaultAction", true, &def, e)) < 0 ||
	    (r = json_get_uint32(sc, path, "defaultErrnoRet", false, &def_errno, e)) < 0)
		return r;
	bool ok;
	c->default_action = seccomp_action(def, def_errno, &ok);
	if (!ok)
		return err_setx(e, EINVAL, "linux.seccomp.defaultAction: unknown action \"%s\"%s", def,
		                !strcmp(def, "SCMP_ACT_NOTIFY") ? " (notify is not supported)" : "");
	const char *listener = NULL;
	if ((r = json_get_string(sc, path, "listenerPath", false, &listener, e)) < 0)
		return r;
	if (listener && *listener)
		return err_setx(e, ENOTSUP, "linux.seccomp.listenerPath: seccomp notify is not supported");
	cleanup_strv char **arches = NULL, **flags = NULL;
	if ((r = json_get_strv(sc, path, "architectures", false, &arches, e)) < 0 ||
	    (r = json_get_strv(sc, path, "flags", false, &flags, e)) < 0)
		return r;
	size_t na = 0;
	for (char **a = arches; a && *a; a++)
		na++;
	c->arches = calloc(na + 1, sizeof(uint32_t));
	for (size_t i = 0; i < na; i++) {
		const char *a = arches[i];
		const char *n = !strncmp(a, "SCMP_ARCH_", 10) ? a + 10 : a;
		char lower[64];
		size_t k = 0;
		for (; k < sizeof(lower) - 1 && n[k]; k++)
			lower[k] = (char)(n[k] >= 'A' && n[k] <= 'Z' ? n[k] + 32 : n[k]);
		lower[k] = '\0';
		if (!strcmp(lower, "x86_64"))
			snprintf(lower, sizeof(lower), "x86_64");
		uint32_t token = seccomp_arch_resolve_name(lower);
		if (!token)
			return err_setx(e, EINVAL, "linux.seccomp.architectures[%zu]: unknown architecture \"%s\"", i,
			                a);
		c->arches[c->n_arches++] = token;
	}
	for (char **f = flags; f && *f; f++) {
		if (!strcmp(*f, "SECCOMP_FILTER_FLAG_LOG"))
			c->flags_log = 1;
		else if (!strcmp(*f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
			c->flags_spec_allow = 1;
		else if (strcmp(*f, "SECCOMP_FILTER_FLAG_TSYNC") != 0)
			return err_setx(e, EINVAL, "linux.seccomp.flags: unknown flag \"%s\"", *f);
	}
	json_t *sys;
	if ((r = json_get_array(sc, path, "syscalls", false, &sys, e)) < 0)
		return r;
	c->rules = calloc(json_array_size(sys) + 1, sizeof(*c->rules));
	char pi[600];
	size_t i;
	json_t *v;
	json_array_foreach(sys, i, v)
	{
		PI(pi, "linux.seccomp.syscalls", i);
		if (!json_is_object(v))
			return json_type_error(e, pi, "object", v);
		struct spec_seccomp_rule *rule = &c->rules[c->n_rules++];
		json_t *names;
		const char *action = NULL;
		uint32_t eret = EPERM;
		if ((r = json_get_array(v, pi, "names", true, &names, e)) < 0 ||
		    (r = json_get_string(v, pi, "action", true, &action, e)) < 0 ||
		    (r = json_get_uint32(v, pi, "errnoRet", false, &eret, e)) < 0)
			return r;
		rule->action = seccomp_action(action, eret, &ok);
		if (!ok)
			return err_setx(e, EINVAL, "%s.action: unknown action \"%s\"", pi, action);
		rule->names = calloc(json_array_size(names) + 1, sizeof(char *));
		size_t k;
		json_t *n;
		json_array_foreach(names, k, n)
		{
			if (!json_is_string(n)) {
				char pn[700];
				json_path_index(pn, sizeof(pn), pi, k);
				return json_type_error(e, pn, "string", n);
			}
			rule->names[k] = (char *)(uintptr_t)json_string_value(n);
		}
		json_t *args;
		if ((r = json_get_array(v, pi, "args", false, &args, e)) < 0)
			return r;
		rule->args = calloc(json_array_size(args) + 1, sizeof(*rule->args));
		json_t *a;
		json_array_foreach(args, k, a)
		{
			char pa[700];
			snprintf(pa, sizeof(pa), "%s.args[%zu]", pi, k);
			struct spec_seccomp_arg *arg = &rule->args[rule->n_args++];
			const char *op = NULL;
			uint32_t idx = 0;
			if (!json_is_object(a))
				return json_type_error(e, pa, "object", a);
			if ((r = json_get_uint32(a, pa, "index", true, &idx, e)) < 0 ||
			    (r = json_get_uint64(a, pa, "value", true, &arg->value, e)) < 0 ||
			    (r = json_get_uint64(a, pa, "valueTwo", false, &arg->value_two, e)) < 0 ||
			    (r = json_get_string(a, pa, "op", true, &op, e)) < 0)
				return r;
			if (idx > 5)
				return err_setx(e, EINVAL, "%s.index: %u is not a syscall argument (0..5)", pa, idx);
			arg->index = idx;
			static const struct name_value ops[] = {{"SCMP_CMP_NE", SCMP_CMP_NE},
			                                        {"SCMP_CMP_LT", SCMP_CMP_LT},
			                                        {"SCMP_CMP_LE", SCMP_CMP_LE},
			                                        {"SCMP_CMP_EQ", SCMP_CMP_EQ},
			                                        {"SCMP_CMP_GE", SCMP_CMP_GE},
			                                        {"SCMP_CMP_GT", SCMP_CMP_GT},
			                                        {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
			int opv;
			if (!name_lookup(ops, ARRAY_SIZE(ops), op, &opv))
				return err_setx(e, EINVAL, "%s.op: unknown operator \"%s\"", pa, op);
			arg->op = opv;
		}
	}
	return 0;
}

static int parse_hooks(struct spec *s, json_t *hooks, struct ros_err *e)
{
	for (int k = 0; k < HOOK_KINDS; k++) {
		json_t *arr;
		char p[128], pi[600];
		snprintf(p, sizeof(p), "hooks");
		int r = json_get_array(hooks, p, hook_names[k], false, &arr, e);
		if (r < 0)
			return r;
		if (!arr)
			continue;
		snprintf(p, sizeof(p), "hooks.%s", hook_names[k]);
		s->hooks[k] = calloc(json_array_size(arr) + 1, sizeof(struct spec_hook));
		size_t i;
		json_t *v;
		json_array_foreach(arr, i, v)
		{
			PI(pi, p, i);
			if (!json_is_object(v))
				return json_type_error(e, pi, "object", v);
			struct spec_hook *h = &s->hooks[k][s->n_hooks[k]++];
			const char *path = NULL;
			int64_t timeout = 0;
			if ((r = json_get_string(v, pi, "path", true, &path, e)) < 0 ||
			    (r = json_get_strv(v, pi, "args", false, &h->args, e)) < 0 ||
			    (r = json_get_strv(v, pi, "env", false, &h->env, e)) < 0 ||
			    (r = json_get_int64(v, pi, "timeout", false, &timeout, e)) < 0)
				return r;
			if (path[0] != '/')
				return err_setx(e, EINVAL, "%s.path: must be absolute, got \"%s\"", pi, path);
			if (json_object_get(v, "timeout") && timeout <= 0)
				return err_setx(e, EINVAL, "%s.timeout: must be greater than zero", pi);
			h->path = (char *)(uintptr_t)path;
			h->timeout = (int)(timeout > 86400 ? 86400 : timeout);
		}
	}
	return 0;
}

static int parse_linux(struct spec *s, json_t *lx, struct ros_err *e)
{
	const char *path = "linux";
	char pi[600];
	int r;
	json_t *nss;
	if ((r = json_get_array(lx, path, "namespaces", false, &nss, e)) < 0)
		return r;
	size_t i;
	json_t *v;
	json_array_foreach(nss, i, v)
	{
		PI(pi, "linux.namespaces", i);
		if (!json_is_object(v))
			return json_type_error(e, pi, "object", v);
		const char *type = NULL, *nspath = NULL;
		if ((r = json_get_string(v, pi, "type", true, &type, e)) < 0 ||
		    (r = json_get_string(v, pi, "path", false, &nspath, e)) < 0)
			return r;
		int ns = ns_from_type(type);
		if (ns < 0)
			return err_setx(e, EINVAL, "%s.type: unknown namespace \"%s\"", pi, type);
		if (s->ns_new[ns] || s->ns_path[ns])
			return err_setx(e, EINVAL, "%s.type: namespace \"%s\" listed twice", pi, type);
		if (nspath && *nspath)
			s->ns_path[ns] = (char *)(uintptr_t)nspath;
		else
			s->ns_new[ns] = true;
	}
	json_t *arr;
	if ((r = json_get_array(lx, path, "uidMappings", false, &arr, e)) < 0 ||
	    (arr && (r = parse_idmaps(arr, "linux.uidMappings", &s->uid_maps, &s->n_uid_maps, e)) < 0))
		return r;
	if ((r = json_get_array(lx, path, "gidMappings", false, &arr, e)) < 0 ||
	    (arr && (r = parse_idmaps(arr, "linux.gidMappings", &s->gid_maps, &s->n_gid_maps, e)) < 0))
		return r;
	if ((s->n_uid_maps || s->n_gid_maps) && !s->ns_new[NS_USER] && !s->ns_path[NS_USER])
		return err_setx(e, EINVAL, "linux.uidMappings: mappings need a user namespace");
	if ((r = json_get_array(lx, path, "devices", false, &arr, e)) < 0 ||
	    (arr && (r = parse_devices(s, arr, e)) < 0))
		return r;
	const char *cg = NULL, *prop = NULL;
	if ((r = json_get_string(lx, path, "cgroupsPath", false, &cg, e)) < 0 ||
	    (r = json_get_string(lx, path, "rootfsPropagation", false, &prop, e)) < 0)
		return r;
	s->cgroups_path = (char *)(uintptr_t)cg;
	if (prop && *prop) {
		size_t t;
		for (t = 0; t < sizeof(mount_opts) / sizeof(mount_opts[0]); t++)
			if (!strcmp(prop, mount_opts[t].name) && mount_opts[t].prop)
				break;
		if (t == sizeof(mount_opts) / sizeof(mount_opts[0]))
			return err_setx(e, EINVAL, "linux.rootfsPropagation: unknown propagation \"%s\"", prop);
		s->rootfs_propagation = mount_opts[t].prop;
	}
	if ((r = json_get_strv(lx, path, "maskedPaths", false, &s->masked_paths, e)) < 0 ||
	    (r = json_get_strv(lx, path, "readonlyPaths", false, &s->readonly_paths, e)) < 0 ||
	    (r = json_get_object(lx, path, "sysctl", false, &s->sysctl, e)) < 0)
		return r;
	const char *key;
	json_object_foreach(s->sysctl, key, v)
	{
		if (!json_is_string(v)) {
			char ps[600];
			snprintf(ps, sizeof(ps), "linux.sysctl.%s", key);
			return json_type_error(e, ps, "string", v);
		}
		if (strstr(key, "..") || strchr(key, '/'))
			return err_setx(e, EINVAL, "linux.sysctl: invalid key \"%s\"", key);
	}
	json_t *o;
	if ((r = json_get_object(lx, path, "resources", false, &o, e)) < 0 || (o && (r = parse_resources(s, o, e)) < 0))
		return r;
	if ((r = json_get_object(lx, path, "seccomp", false, &o, e)) < 0 || (o && (r = parse_seccomp(s, o, e)) < 0))
		return r;
	if ((r = json_get_object(lx, path, "personality", false, &o, e)) < 0)
		return r;
	if (o) {
		const char *dom = NULL;
		if ((r = json_get_string(o, "linux.personality", "domain", true, &dom, e)) < 0)
			return r;
		if (!strcmp(dom, "LINUX"))
			s->personality = PER_LINUX;
		else if (!strcmp(dom, "LINUX32"))
			s->personality = PER_LINUX32;
		else
			return err_setx(e, EINVAL, "linux.personality.domain: expected LINUX or LINUX32, got \"%s\"",
			                dom);
		s->has_personality = true;
	}
	if ((r = json_get_object(lx, path, "timeOffsets", false, &s->time_offsets, e)) < 0)
		return r;
	if (s->time_offsets && !s->ns_new[NS_TIME])
		return err_setx(e, EINVAL, "linux.timeOffsets: needs a new time namespace");
	return 0;
}

int spec_parse(json_t *doc, const char *bundle, struct spec **out, struct ros_err *e)
{
	if (!json_is_object(doc))
		return json_type_error(e, "(config.json)", "object", doc);
	struct spec *s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(e, ENOMEM, "spec");
	s->doc = json_incref(doc);
	int r;
	const char *ver = NULL;
	if ((r = json_get_string(doc, "", "ociVersion", true, &ver, e)) < 0)
		goto fail;
	if (strncmp(ver, "1.", 2) != 0) {
		r = err_setx(e, EINVAL, "ociVersion: unsupported version \"%s\" (want 1.x)", ver);
		goto fail;
	}
	json_t *root;
	if ((r = json_get_object(doc, "", "root", true, &root, e)) < 0)
		goto fail;
	const char *rp = NULL;
	if ((r = json_get_string(root, "root", "path", true, &rp, e)) < 0 ||
	    (r = json_get_bool(root, "root", "readonly", false, &s->root_readonly, e)) < 0)
		goto fail;
	if (rp[0] == '/' || !bundle) {
		s->root_path = strdup(rp);
	} else if (asprintf(&s->root_path, "%s/%s", bundle, rp) < 0) {
		s->root_path = NULL;
	}
	if (!s->root_path) {
		r = err_set(e, ENOMEM, "root.path");
		goto fail;
	}
	const char *hn = NULL, *dn = NULL;
	if ((r = json_get_string(doc, "", "hostname", false, &hn, e)) < 0 ||
	    (r = json_get_string(doc, "", "domainname", false, &dn, e)) < 0)
		goto fail;
	s->hostname = (char *)(uintptr_t)hn;
	s->domainname = (char *)(uintptr_t)dn;
	json_t *o;
	if ((r = json_get_object(doc, "", "process", false, &o, e)) < 0 || (o && (r = parse_process(s, o, e)) < 0))
		goto fail;
	if ((r = json_get_array(doc, "", "mounts", false, &o, e)) < 0 || (o && (r = parse_mounts(s, o, e)) < 0))
		goto fail;
	if ((r = json_get_object(doc, "", "linux", false, &o, e)) < 0 || (o && (r = parse_linux(s, o, e)) < 0))
		goto fail;
	if ((r = json_get_object(doc, "", "hooks", false, &o, e)) < 0 || (o && (r = parse_hooks(s, o, e)) < 0))
		goto fail;
	if ((r = json_get_object(doc, "", "annotations", false, &s->annotations, e)) < 0)
		goto fail;
	const char *k;
	json_t *v;
	json_object_foreach(s->annotations, k, v)
	{
		if (!json_is_string(v)) {
			char pa[600];
			snprintf(pa, sizeof(pa), "annotations.%s", k);
			r = json_type_error(e, pa, "string", v);
			goto fail;
		}
	}
	if ((s->hostname || s->domainname) && !s->ns_new[NS_UTS] && !s->ns_path[NS_UTS]) {
		r = err_setx(e, EINVAL, "hostname: setting a hostname needs a new uts namespace");
		goto fail;
	}
	*out = s;
	return 0;
fail:
	spec_free(s);
	return r;
}

int spec_load(const char *bundle, struct spec **out, struct ros_err *e)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/config.json", bundle);
	json_error_t je;
	json_t *doc = json_load_file(p, JSON_REJECT_DUPLICATES, &je);
	if (!doc) {
		if (access(p, F_OK) < 0)
			return err_set(e, errno, "%s", p);
		return err_setx(e, EINVAL, "%s:%d:%d: %s", p, je.line, je.column, je.text);
	}
	int r = spec_parse(doc, bundle, out, e);
	json_decref(doc);
	if (r < 0)
		return err_prefix(e, "%s", p);
	return r;
}
