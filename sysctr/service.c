/* SPDX-License-Identifier: MIT */
/* Service definitions → struct svc_def → OCI spec (docs/sysctr.md). */
#include "service.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "core/cleanup.h"
#include "ctr/spec.h"
#include "envexpand.h"

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static int strv_push(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(**v));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	if (!(nv[*n] = strdup(s)))
		return -ENOMEM;
	nv[++*n] = NULL;
	return 0;
}

/* A scalar as text or an error naming service and key. */
static int scalar(const char *svc, const char *key, const struct cfg_node *n, const char **out, char *buf, size_t size,
                  struct ros_err *e)
{
	char k[160];
	snprintf(k, sizeof(k), "service %s: %s", svc, key);
	return cfg_as_string(n, k, out, buf, size, e);
}

/* A list of scalars, or one string split on blanks (split) or kept whole. */
static int strv_of(const char *svc, const char *key, const struct cfg_node *n, bool split, char ***out, size_t *count,
                   struct ros_err *e)
{
	size_t cnt = 0;
	char buf[64];
	const char *s;
	*out = NULL;
	if (!n || n->type == CFG_NULL)
		goto done;
	if (n->type == CFG_LIST) {
		for (size_t i = 0; i < cfg_list_size(n); i++) {
			int r = scalar(svc, key, cfg_list_at(n, i), &s, buf, sizeof(buf), e);
			if (r < 0 || (r = strv_push(out, &cnt, s)) < 0)
				return r < 0 && !e->code ? err_setx(e, -r, "out of memory") : r;
		}
		goto done;
	}
	int r = scalar(svc, key, n, &s, buf, sizeof(buf), e);
	if (r < 0)
		return r;
	if (!split) {
		if (strv_push(out, &cnt, s) < 0)
			return err_setx(e, ENOMEM, "out of memory");
		goto done;
	}
	char *copy = strdup(s);
	if (!copy)
		return err_setx(e, ENOMEM, "out of memory");
	for (char *save = NULL, *t = strtok_r(copy, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save))
		if (strv_push(out, &cnt, t) < 0) {
			free(copy);
			return err_setx(e, ENOMEM, "out of memory");
		}
	free(copy);
done:
	if (count)
		*count = cnt;
	if (!*out && !(*out = calloc(1, sizeof(char *))))
		return err_setx(e, ENOMEM, "out of memory");
	return 0;
}

/* ${NAME}: ros.environment.NAME; ${a.b.c}: the config key a.b.c (a list of
 * scalars joined by spaces, as a shell word list). */
static const char *env_lookup(const char *name, size_t len, void *data)
{
	const struct cfg_node *tree = data;
	char key[256];
	static char buf[2048];
	if (!tree || len >= sizeof(key) - 16)
		return NULL;
	memcpy(key, name, len);
	key[len] = '\0';
	const struct cfg_node *v;
	if (strchr(key, '.')) {
		v = cfg_get(tree, key);
	} else {
		const struct cfg_node *env = cfg_get(tree, "ros.environment");
		v = env && env->type == CFG_MAP ? cfg_map_get(env, key) : NULL;
	}
	if (!v)
		return NULL;
	const char *str = NULL;
	struct ros_err e = {0};
	if (v->type != CFG_LIST)
		return cfg_as_string(v, key, &str, buf, sizeof(buf), &e) == 0 ? str : NULL;
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < cfg_list_size(v); i++) {
		char one[512];
		if (cfg_as_string(cfg_list_at(v, i), key, &str, one, sizeof(one), &e) < 0)
			continue;
		int w = snprintf(buf + o, sizeof(buf) - o, "%s%s", o ? " " : "", str);
		if (w < 0 || (size_t)w >= sizeof(buf) - o)
			break;
		o += (size_t)w;
	}
	return buf;
}

static int add_env(struct svc_def *s, size_t *n, const char *kv, const struct cfg_node *tree, struct ros_err *e)
{
	char out[4096], err[256];
	if (env_expand(kv, env_lookup, (void *)(uintptr_t)tree, out, sizeof(out), err, sizeof(err)) < 0)
		return err_setx(e, EINVAL, "service %s: environment: %s", s->name, err);
	return strv_push(&s->env, n, out) < 0 ? err_setx(e, ENOMEM, "out of memory") : 0;
}

/* 512, "64m", "1g" → bytes. */
static int size_of(const char *svc, const char *key, const struct cfg_node *n, long long *out, struct ros_err *e)
{
	if (n->type == CFG_INT) {
		*out = n->i;
		return *out < 0 ? err_setx(e, EINVAL, "service %s: %s: must not be negative", svc, key) : 0;
	}
	const char *s;
	char buf[64], *end;
	int r = scalar(svc, key, n, &s, buf, sizeof(buf), e);
	if (r < 0)
		return r;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	long long mul = 1;
	switch (tolower((unsigned char)*end)) {
	case 'k':
		mul = 1LL << 10, end++;
		break;
	case 'm':
		mul = 1LL << 20, end++;
		break;
	case 'g':
		mul = 1LL << 30, end++;
		break;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (errno || end == s || *end || v < 0 || v > (1LL << 50) / mul)
		return err_setx(e, EINVAL, "service %s: %s: expected a size like 64m, got \"%s\"", svc, key, s);
	*out = v * mul;
	return 0;
}

static int bool_of(const char *svc, const char *key, const struct cfg_node *n, bool *out, struct ros_err *e)
{
	if (n->type == CFG_STRING && (!strcmp(n->s, "true") || !strcmp(n->s, "false"))) {
		*out = n->s[0] == 't';
		return 0;
	}
	char k[160];
	snprintf(k, sizeof(k), "service %s: %s", svc, key);
	return cfg_as_bool(n, k, out, e);
}

static int ns_mode(const char *svc, const char *key, const struct cfg_node *n, bool *host, struct ros_err *e)
{
	const char *s;
	char buf[64];
	int r = scalar(svc, key, n, &s, buf, sizeof(buf), e);
	if (r < 0)
		return r;
	if (strcmp(s, "host") && strcmp(s, "private") && strcmp(s, "none"))
		return err_setx(e, EINVAL, "service %s: %s: expected host or private, got \"%s\"", svc, key, s);
	*host = !strcmp(s, "host");
	return 0;
}

static int normalize_caps(const char *svc, const char *key, char **caps, struct ros_err *e)
{
	for (size_t i = 0; caps && caps[i]; i++) {
		if (strncasecmp(caps[i], "CAP_", 4) != 0) {
			char *c = malloc(strlen(caps[i]) + 5);
			if (!c)
				return err_setx(e, ENOMEM, "out of memory");
			sprintf(c, "CAP_%s", caps[i]);
			free(caps[i]);
			caps[i] = c;
		}
		for (char *p = caps[i]; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		if (strcmp(caps[i], "CAP_ALL") && spec_cap_from_name(caps[i]) < 0)
			return err_setx(e, EINVAL, "service %s: %s: unknown capability \"%s\"", svc, key, caps[i]);
	}
	return 0;
}

static const char *const known_keys[] = {
        "image",      "command",      "entrypoint",    "environment", "volumes",      "volumes_from", "tmpfs",
        "net",        "network_mode", "pid",           "ipc",         "uts",          "cap_add",      "cap_drop",
        "privileged", "devices",      "read_only",     "user",        "working_dir",  "restart",      "mem_limit",
        "cpu_shares", "pids_limit",   "oom_score_adj", "labels",      "stop_timeout", NULL,
};

int svc_parse(const char *name, const struct cfg_node *def, const struct cfg_node *tree, struct svc_def *out,
              struct ros_err *e)
{
	struct svc_def *s = out;
	memset(s, 0, sizeof(*s));
	s->detach = true;
	s->stop_timeout_s = 10;
	bool ok = name[0] && isalnum((unsigned char)name[0]) && strlen(name) < SVC_NAME_MAX;
	for (const char *p = name; ok && *p; p++)
		ok = isalnum((unsigned char)*p) || strchr("_.-", *p);
	if (!ok)
		return err_setx(e, EINVAL,
		                "service \"%s\": a name is 1..63 of [A-Za-z0-9_.-], starting with a letter or digit",
		                name);
	snprintf(s->name, sizeof(s->name), "%s", name);
	if (!def || def->type != CFG_MAP)
		return err_setx(e, EINVAL, "service %s: expected a map of keys, got %s", name,
		                def ? cfg_type_name(def->type) : "nothing");
	for (size_t i = 0; i < cfg_map_size(def); i++) {
		const char *k = cfg_map_key_at(def, i);
		size_t j = 0;
		while (known_keys[j] && strcmp(known_keys[j], k))
			j++;
		if (!known_keys[j])
			return err_setx(e, EINVAL, "service %s: unknown key \"%s\"", name, k);
	}
	const struct cfg_node *n;
	const char *str;
	char buf[64];
	int r;
	if (!(n = cfg_map_get(def, "image")))
		return err_setx(e, EINVAL, "service %s: image: missing", name);
	if ((r = scalar(name, "image", n, &str, buf, sizeof(buf), e)) < 0)
		return r;
	if (!(s->image = strdup(str)))
		return err_setx(e, ENOMEM, "out of memory");
	char **ep = NULL, **cmd = NULL;
	size_t nep = 0, ncmd = 0;
	if ((r = strv_of(name, "entrypoint", cfg_map_get(def, "entrypoint"), true, &ep, &nep, e)) < 0 ||
	    (r = strv_of(name, "command", cfg_map_get(def, "command"), true, &cmd, &ncmd, e)) < 0) {
		strv_free(ep);
		strv_free(cmd);
		return r;
	}
	size_t na = 0;
	for (size_t i = 0; i < nep; i++)
		strv_push(&s->args, &na, ep[i]);
	for (size_t i = 0; i < ncmd; i++)
		strv_push(&s->args, &na, cmd[i]);
	strv_free(ep);
	strv_free(cmd);
	if (na == 0)
		return err_setx(e, EINVAL, "service %s: command: missing (nothing to run)", name);

	size_t ne = 0;
	if (strv_push(&s->env, &ne, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") < 0)
		return err_setx(e, ENOMEM, "out of memory");
	if ((n = cfg_map_get(def, "environment"))) {
		if (n->type == CFG_MAP) {
			for (size_t i = 0; i < cfg_map_size(n); i++) {
				char kv[4096];
				const char *v = "";
				const struct cfg_node *vn = cfg_map_value_at(n, i);
				if (vn->type != CFG_NULL &&
				    (r = scalar(name, "environment", vn, &v, buf, sizeof(buf), e)) < 0)
					return r;
				snprintf(kv, sizeof(kv), "%s=%s", cfg_map_key_at(n, i), v);
				if ((r = add_env(s, &ne, kv, tree, e)) < 0)
					return r;
			}
		} else {
			char **l = NULL;
			if ((r = strv_of(name, "environment", n, false, &l, NULL, e)) < 0)
				return r;
			for (size_t i = 0; l[i] && r == 0; i++)
				if (!strchr(l[i], '='))
					r = err_setx(e, EINVAL, "service %s: environment: \"%s\" is not KEY=VALUE",
					             name, l[i]);
				else
					r = add_env(s, &ne, l[i], tree, e);
			strv_free(l);
			if (r < 0)
				return r;
		}
	}
	if ((r = strv_of(name, "volumes", cfg_map_get(def, "volumes"), false, &s->volumes, NULL, e)) < 0 ||
	    (r = strv_of(name, "volumes_from", cfg_map_get(def, "volumes_from"), false, &s->volumes_from, NULL, e)) <
	            0 ||
	    (r = strv_of(name, "tmpfs", cfg_map_get(def, "tmpfs"), false, &s->tmpfs, NULL, e)) < 0 ||
	    (r = strv_of(name, "devices", cfg_map_get(def, "devices"), false, &s->devices, NULL, e)) < 0 ||
	    (r = strv_of(name, "cap_add", cfg_map_get(def, "cap_add"), false, &s->cap_add, NULL, e)) < 0 ||
	    (r = strv_of(name, "cap_drop", cfg_map_get(def, "cap_drop"), false, &s->cap_drop, NULL, e)) < 0 ||
	    (r = normalize_caps(name, "cap_add", s->cap_add, e)) < 0 ||
	    (r = normalize_caps(name, "cap_drop", s->cap_drop, e)) < 0)
		return r;
	for (size_t i = 0; s->volumes[i]; i++) {
		char *c = strchr(s->volumes[i], ':');
		if (s->volumes[i][0] != '/' || !c || c[1] != '/')
			return err_setx(e, EINVAL,
			                "service %s: volumes[%zu]: expected /host:/container[:ro], got \"%s\"", name, i,
			                s->volumes[i]);
	}
	for (size_t i = 0; s->devices[i]; i++)
		if (s->devices[i][0] != '/')
			return err_setx(e, EINVAL, "service %s: devices[%zu]: expected /dev/PATH, got \"%s\"", name, i,
			                s->devices[i]);
	if ((n = cfg_map_get(def, "net")) || (n = cfg_map_get(def, "network_mode")))
		if ((r = ns_mode(name, "net", n, &s->net_host, e)) < 0)
			return r;
	if ((n = cfg_map_get(def, "pid")) && (r = ns_mode(name, "pid", n, &s->pid_host, e)) < 0)
		return r;
	if ((n = cfg_map_get(def, "ipc")) && (r = ns_mode(name, "ipc", n, &s->ipc_host, e)) < 0)
		return r;
	if ((n = cfg_map_get(def, "uts")) && (r = ns_mode(name, "uts", n, &s->uts_host, e)) < 0)
		return r;
	if ((n = cfg_map_get(def, "privileged")) && (r = bool_of(name, "privileged", n, &s->privileged, e)) < 0)
		return r;
	if ((n = cfg_map_get(def, "read_only")) && (r = bool_of(name, "read_only", n, &s->read_only, e)) < 0)
		return r;
	if ((n = cfg_map_get(def, "user"))) {
		if ((r = scalar(name, "user", n, &str, buf, sizeof(buf), e)) < 0)
			return r;
		unsigned u, g;
		char extra;
		if (sscanf(str, "%u:%u%c", &u, &g, &extra) != 2 && sscanf(str, "%u%c", &u, &extra) != 1)
			return err_setx(e, EINVAL, "service %s: user: expected UID[:GID] (numbers), got \"%s\"", name,
			                str);
		s->user = strdup(str);
	}
	if ((n = cfg_map_get(def, "working_dir"))) {
		if ((r = scalar(name, "working_dir", n, &str, buf, sizeof(buf), e)) < 0)
			return r;
		if (str[0] != '/')
			return err_setx(e, EINVAL, "service %s: working_dir: must be absolute, got \"%s\"", name, str);
		s->working_dir = strdup(str);
	}
	if ((n = cfg_map_get(def, "restart"))) {
		char err[256];
		if ((r = scalar(name, "restart", n, &str, buf, sizeof(buf), e)) < 0)
			return r;
		if (restart_parse(str, &s->restart, err, sizeof(err)) < 0)
			return err_setx(e, EINVAL, "service %s: %s", name, err);
	}
	if ((n = cfg_map_get(def, "mem_limit")) && (r = size_of(name, "mem_limit", n, &s->mem_limit, e)) < 0)
		return r;
	static const struct {
		const char *key;
		size_t off;
	} ints[] = {{"cpu_shares", offsetof(struct svc_def, cpu_shares)},
	            {"pids_limit", offsetof(struct svc_def, pids_limit)}};
	for (size_t i = 0; i < 2; i++) {
		long long v;
		char k[160];
		snprintf(k, sizeof(k), "service %s: %s", name, ints[i].key);
		if ((n = cfg_map_get(def, ints[i].key))) {
			if ((r = cfg_as_int(n, k, &v, e)) < 0)
				return r;
			if (v < 1)
				return err_setx(e, EINVAL, "%s: must be at least 1", k);
			*(long long *)((char *)s + ints[i].off) = v;
		}
	}
	if ((n = cfg_map_get(def, "oom_score_adj"))) {
		long long v;
		if ((r = cfg_as_int(n, "oom_score_adj", &v, e)) < 0)
			return err_prefix(e, "service %s", name);
		if (v < -1000 || v > 1000)
			return err_setx(e, EINVAL, "service %s: oom_score_adj: expected -1000..1000", name);
		s->oom_score_adj = (int)v, s->has_oom_score_adj = true;
	}
	if ((n = cfg_map_get(def, "stop_timeout"))) {
		long long v;
		if ((r = cfg_as_int(n, "stop_timeout", &v, e)) < 0)
			return err_prefix(e, "service %s", name);
		if (v < 0 || v > 3600)
			return err_setx(e, EINVAL, "service %s: stop_timeout: expected 0..3600 seconds", name);
		s->stop_timeout_s = (int)v;
	}
	const struct cfg_node *labels = cfg_map_get(def, "labels");
	if (labels && labels->type != CFG_MAP)
		return err_setx(e, EINVAL, "service %s: labels: expected a map", name);
	if ((r = strv_of(name, "labels.ros.after", cfg_map_get(labels, "ros.after"), false, &s->after, &s->n_after,
	                 e)) < 0 ||
	    (r = strv_of(name, "labels.ros.before", cfg_map_get(labels, "ros.before"), false, &s->before, &s->n_before,
	                 e)) < 0)
		return r;
	/* "a, b" in one string, as RancherOS wrote them */
	char ***lists[] = {&s->after, &s->before};
	size_t *counts[] = {&s->n_after, &s->n_before};
	for (size_t li = 0; li < 2; li++) {
		char **v = *lists[li];
		if (*counts[li] == 1 && strchr(v[0], ',')) {
			char **nv = NULL;
			size_t nn = 0;
			cleanup_free char *copy = strdup(v[0]);
			for (char *save = NULL, *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
				strv_push(&nv, &nn, t);
			strv_free(v);
			*lists[li] = nv;
			*counts[li] = nn;
		}
	}
	bool b;
	if ((n = cfg_map_get(labels, "ros.detach"))) {
		if ((r = bool_of(name, "labels.ros.detach", n, &b, e)) < 0)
			return r;
		s->detach = b;
	}
	if ((n = cfg_map_get(labels, "ros.createonly")) &&
	    (r = bool_of(name, "labels.ros.createonly", n, &s->createonly, e)) < 0)
		return r;
	if ((n = cfg_map_get(labels, "ros.optional")) &&
	    (r = bool_of(name, "labels.ros.optional", n, &s->optional, e)) < 0)
		return r;
	if ((n = cfg_map_get(labels, "ros.scope"))) {
		if ((r = scalar(name, "labels.ros.scope", n, &str, buf, sizeof(buf), e)) < 0)
			return r;
		if (strcmp(str, "system") && strcmp(str, "user"))
			return err_setx(e, EINVAL, "service %s: labels.ros.scope: expected system or user, got \"%s\"",
			                name, str);
		s->user_scope = !strcmp(str, "user");
	}
	return 0;
}

void svc_free(struct svc_def *s)
{
	free(s->image);
	strv_free(s->args);
	strv_free(s->env);
	strv_free(s->volumes);
	strv_free(s->volumes_from);
	strv_free(s->tmpfs);
	strv_free(s->devices);
	strv_free(s->cap_add);
	strv_free(s->cap_drop);
	strv_free(s->after);
	strv_free(s->before);
	free(s->user);
	free(s->working_dir);
	memset(s, 0, sizeof(*s));
}

int svc_add_volumes(struct svc_def *s, const struct svc_def *from)
{
	size_t n = 0;
	while (s->volumes[n])
		n++;
	for (size_t i = 0; from->volumes[i]; i++) {
		bool have = false;
		for (size_t k = 0; k < n && !have; k++)
			have = !strcmp(s->volumes[k], from->volumes[i]);
		if (!have && strv_push(&s->volumes, &n, from->volumes[i]) < 0)
			return -1;
	}
	return 0;
}

static json_t *strv_json(char *const *v)
{
	json_t *a = json_array();
	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static bool in_strv(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static void add_mount(json_t *mounts, const char *dst, const char *type, const char *src, json_t *opts)
{
	json_array_append_new(mounts, json_pack("{s:s, s:s, s:s, s:o}", "destination", dst, "type", type, "source", src,
	                                        "options", opts));
}

json_t *svc_spec(const struct svc_def *s, const char *rootfs, struct ros_err *e)
{
	json_t *spec = spec_default(false);
	if (!spec) {
		err_setx(e, ENOMEM, "out of memory");
		return NULL;
	}
	json_t *proc = json_object_get(spec, "process");
	json_object_set_new(proc, "terminal", json_false());
	json_object_set_new(proc, "args", strv_json(s->args));
	json_object_set_new(proc, "env", strv_json(s->env));
	json_object_set_new(proc, "cwd", json_string(s->working_dir ? s->working_dir : "/"));
	unsigned uid = 0, gid = 0;
	if (s->user && sscanf(s->user, "%u:%u", &uid, &gid) == 1)
		gid = uid;
	json_object_set_new(proc, "user", json_pack("{s:i, s:i}", "uid", uid, "gid", gid));
	json_object_set_new(proc, "noNewPrivileges", json_boolean(!s->privileged));
	/* sysctr runs at nice -10 (init), and so does a container's set-up,
	 * ahead of the services already running; the service itself at 0 */
	json_object_set_new(proc, "scheduler", json_pack("{s:s, s:i}", "policy", "SCHED_OTHER", "nice", 0));
	if (s->has_oom_score_adj)
		json_object_set_new(proc, "oomScoreAdj", json_integer(s->oom_score_adj));
	/* Capabilities: none but what cap_add lists; privileged: all but cap_drop. */
	json_t *caps = json_array();
	bool all = s->privileged || in_strv(s->cap_add, "CAP_ALL");
	for (int c = 0; c <= 63; c++) {
		if (c >= (int)cap_max_bits())
			break;
		char *nm = cap_to_name((cap_value_t)c);
		if (!nm)
			continue;
		for (char *p = nm; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		bool want = (all || in_strv(s->cap_add, nm)) && !in_strv(s->cap_drop, nm);
		if (want && !strncmp(nm, "CAP_", 4))
			json_array_append_new(caps, json_string(nm));
		cap_free(nm);
	}
	json_object_set_new(proc, "capabilities",
	                    json_pack("{s:O, s:O, s:O, s:O, s:O}", "bounding", caps, "effective", caps, "permitted",
	                              caps, "inheritable", caps, "ambient", caps));
	json_object_set_new(spec, "root", json_pack("{s:s, s:b}", "path", rootfs, "readonly", s->read_only));
	json_object_set_new(spec, "hostname", json_string(s->name));
	json_t *lx = json_object_get(spec, "linux");
	/* the default seccomp profile, opened by the capabilities the service
	 * holds; a privileged service has none (it is trusted by definition) */
	if (!s->privileged)
		json_object_set_new(lx, "seccomp", spec_default_seccomp(caps));
	json_decref(caps);
	json_t *ns = json_array();
	static const char *const kinds[] = {"mount", "cgroup", "pid", "network", "ipc", "uts"};
	/* a service in the host's pid namespace (the console, the
	 * administrator's shell) sees the host's cgroup paths too */
	const bool host[] = {false, s->pid_host, s->pid_host, s->net_host, s->ipc_host, s->uts_host};
	for (size_t i = 0; i < 6; i++)
		if (!host[i])
			json_array_append_new(ns, json_pack("{s:s}", "type", kinds[i]));
	json_object_set_new(lx, "namespaces", ns);
	if (s->uts_host)
		json_object_del(spec, "hostname");
	char cg[128];
	snprintf(cg, sizeof(cg), "/sysctr/%s", s->name);
	json_object_set_new(lx, "cgroupsPath", json_string(cg));
	json_t *res = json_object();
	json_t *devrules = json_array();
	json_array_append_new(devrules, json_pack("{s:b, s:s}", "allow", s->privileged, "access", "rwm"));
	json_t *mounts = json_object_get(spec, "mounts");
	if (s->privileged) {
		json_object_del(lx, "maskedPaths");
		json_object_del(lx, "readonlyPaths");
		/* the host's /dev as it is */
		for (size_t i = 0; i < json_array_size(mounts); i++)
			if (!strcmp(json_string_value(json_object_get(json_array_get(mounts, i), "destination")),
			            "/dev")) {
				json_array_set_new(mounts, i,
				                   json_pack("{s:s, s:s, s:s, s:[s,s]}", "destination", "/dev", "type",
				                             "bind", "source", "/dev", "options", "rbind", "nosuid"));
			} else if (!strcmp(json_string_value(json_object_get(json_array_get(mounts, i), "destination")),
			                   "/sys")) {
				/* the host's /sys, writable (udev writes uevent files), with
				 * its cgroup mounts: the spec's own cgroup mount goes */
				json_array_set_new(mounts, i,
				                   json_pack("{s:s, s:s, s:s, s:[s,s,s,s]}", "destination", "/sys",
				                             "type", "bind", "source", "/sys", "options", "rbind",
				                             "nosuid", "noexec", "nodev"));
			}
		for (size_t i = json_array_size(mounts); i-- > 0;)
			if (!strcmp(json_string_value(json_object_get(json_array_get(mounts, i), "destination")),
			            "/sys/fs/cgroup"))
				json_array_remove(mounts, i);
	} else if (s->net_host) {
		/* a sysfs of another net namespace cannot be mounted: bind the host's,
		 * read-only and without its submounts (the spec mounts the container's
		 * own cgroup view on /sys/fs/cgroup; the host's there would make
		 * that EBUSY) */
		for (size_t i = 0; i < json_array_size(mounts); i++)
			if (!strcmp(json_string_value(json_object_get(json_array_get(mounts, i), "destination")),
			            "/sys"))
				json_array_set_new(mounts, i,
				                   json_pack("{s:s, s:s, s:s, s:[s,s,s,s,s]}", "destination", "/sys",
				                             "type", "bind", "source", "/sys", "options", "bind",
				                             "nosuid", "noexec", "nodev", "ro"));
	}
	json_t *devs = json_array();
	for (size_t i = 0; s->devices[i]; i++) {
		char hostp[256], ctrp[256];
		snprintf(hostp, sizeof(hostp), "%s", s->devices[i]);
		char *c = strchr(hostp, ':');
		if (c)
			*c = '\0';
		snprintf(ctrp, sizeof(ctrp), "%s", c ? c + 1 : hostp);
		if ((c = strchr(ctrp, ':')))
			*c = '\0';
		struct stat st;
		if (stat(hostp, &st) < 0 || (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))) {
			err_setx(e, ENODEV, "service %s: devices: %s is not a device on this host", s->name, hostp);
			json_decref(spec);
			json_decref(devs);
			json_decref(res);
			json_decref(devrules);
			return NULL;
		}
		const char *t = S_ISCHR(st.st_mode) ? "c" : "b";
		json_array_append_new(devs, json_pack("{s:s, s:s, s:I, s:I, s:i}", "path", ctrp, "type", t, "major",
		                                      (json_int_t)major(st.st_rdev), "minor",
		                                      (json_int_t)minor(st.st_rdev), "fileMode", st.st_mode & 0777));
		json_array_append_new(devrules, json_pack("{s:b, s:s, s:I, s:I, s:s}", "allow", true, "type", t,
		                                          "major", (json_int_t)major(st.st_rdev), "minor",
		                                          (json_int_t)minor(st.st_rdev), "access", "rwm"));
	}
	json_object_set_new(lx, "devices", devs);
	json_object_set_new(res, "devices", devrules);
	if (s->mem_limit)
		json_object_set_new(res, "memory", json_pack("{s:I}", "limit", (json_int_t)s->mem_limit));
	if (s->cpu_shares)
		json_object_set_new(res, "cpu", json_pack("{s:I}", "shares", (json_int_t)s->cpu_shares));
	if (s->pids_limit)
		json_object_set_new(res, "pids", json_pack("{s:I}", "limit", (json_int_t)s->pids_limit));
	json_object_set_new(lx, "resources", res);
	for (size_t i = 0; s->volumes[i]; i++) {
		char v[4096];
		snprintf(v, sizeof(v), "%s", s->volumes[i]);
		char *ctrp = strchr(v, ':');
		if (!ctrp) /* checked by svc_parse; only a truncated copy could lack it */
			continue;
		*ctrp++ = '\0';
		char *mode = strchr(ctrp, ':');
		if (mode)
			*mode++ = '\0';
		json_t *o = json_pack("[s, s]", "rbind", "nosuid");
		if (mode && !strcmp(mode, "ro"))
			json_array_append_new(o, json_string("ro"));
		add_mount(mounts, ctrp, "bind", v, o);
	}
	for (size_t i = 0; s->tmpfs[i]; i++) {
		char v[1024];
		snprintf(v, sizeof(v), "%s", s->tmpfs[i]);
		char *opt = strchr(v, ':');
		if (opt)
			*opt++ = '\0';
		json_t *o = json_pack("[s, s]", "nosuid", "nodev");
		for (char *save = NULL, *t = opt ? strtok_r(opt, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save))
			json_array_append_new(o, json_string(t));
		add_mount(mounts, v, "tmpfs", "tmpfs", o);
	}
	return spec;
}
