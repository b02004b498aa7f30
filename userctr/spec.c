/* SPDX-License-Identifier: MIT */
/*
 * A Docker create request -> the OCI runtime spec lib/ctr runs.  Security
 * as Docker sets it by default: its capability set, the default seccomp
 * profile (lib/ctr/seccomp-default.c, opened by the capabilities held),
 * masked and read-only /proc paths; --privileged lifts them.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "ctr/spec.h"
#include "userctr.h"

const char *const dspec_default_caps[] = {
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_FSETID",
        "CAP_FOWNER",
        "CAP_MKNOD",
        "CAP_NET_RAW",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETFCAP",
        "CAP_SETPCAP",
        "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT",
        "CAP_KILL",
        "CAP_AUDIT_WRITE",
        NULL,
};

/* Every capability name the kernel and libcap know, CAP_ prefixed. */
static const char *const all_caps[] = {
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_DAC_READ_SEARCH",
        "CAP_FOWNER",
        "CAP_FSETID",
        "CAP_KILL",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETPCAP",
        "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN",
        "CAP_NET_RAW",
        "CAP_IPC_LOCK",
        "CAP_IPC_OWNER",
        "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO",
        "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN",
        "CAP_SYS_BOOT",
        "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG",
        "CAP_MKNOD",
        "CAP_LEASE",
        "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN",
        "CAP_SYSLOG",
        "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ",
        "CAP_PERFMON",
        "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
        NULL,
};

static bool cap_known(const char *name)
{
	for (size_t i = 0; all_caps[i]; i++)
		if (!strcasecmp(all_caps[i], name) || !strcasecmp(all_caps[i] + 4, name))
			return true;
	return !strcasecmp(name, "ALL");
}

/* ---- checking the request ------------------------------------------------------------------ */

static int want_strings(json_t *obj, const char *where, const char *key, bool strslice, struct ros_err *e)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (strslice && json_is_string(v)) {
		/* the API's "strslice": one string is a one-element list */
		json_object_set_new(obj, key, json_pack("[O]", v));
		return 0;
	}
	if (!json_is_array(v))
		return err_setx(e, EINVAL, "%s%s: expected a list of strings", where, key);
	size_t i;
	json_t *s;
	json_array_foreach(v, i, s) if (!json_is_string(s)) return err_setx(e, EINVAL, "%s%s[%zu]: expected a string",
	                                                                    where, key, i);
	return 0;
}

static int want_type(json_t *obj, const char *where, const char *key, json_type t, struct ros_err *e)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	bool ok = json_typeof(v) == t || (t == JSON_TRUE && json_is_boolean(v)) ||
	          (t == JSON_INTEGER && json_is_integer(v));
	if (!ok) {
		static const char *const names[] = {"an object", "a list",    "a string",  "an integer",
		                                    "a number",  "a boolean", "a boolean", "null"};
		return err_setx(e, EINVAL, "%s%s: expected %s", where, key, names[t]);
	}
	return 0;
}

int dspec_check(json_t *body, struct ros_err *e)
{
	if (!json_is_object(body))
		return err_setx(e, EINVAL, "the request body must be a JSON object");
	static const char *const strs[] = {"Hostname", "Domainname", "User", "Image", "WorkingDir", "StopSignal"};
	for (size_t i = 0; i < ARRAY_SIZE(strs); i++)
		if (want_type(body, "", strs[i], JSON_STRING, e) < 0)
			return -1;
	static const char *const bools[] = {"AttachStdin", "AttachStdout", "AttachStderr",
	                                    "Tty",         "OpenStdin",    "StdinOnce"};
	for (size_t i = 0; i < ARRAY_SIZE(bools); i++)
		if (want_type(body, "", bools[i], JSON_TRUE, e) < 0)
			return -1;
	if (want_strings(body, "", "Env", false, e) < 0 || want_strings(body, "", "Cmd", true, e) < 0 ||
	    want_strings(body, "", "Entrypoint", true, e) < 0 || want_type(body, "", "Labels", JSON_OBJECT, e) < 0 ||
	    want_type(body, "", "Volumes", JSON_OBJECT, e) < 0 || want_type(body, "", "HostConfig", JSON_OBJECT, e) < 0)
		return -1;
	json_t *hc = json_object_get(body, "HostConfig");
	if (!hc)
		return 0;
	const char *w = "HostConfig.";
	static const char *const lists[] = {"Binds", "CapAdd", "CapDrop", "SecurityOpt", "Dns", "ExtraHosts"};
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
		if (want_strings(hc, w, lists[i], false, e) < 0)
			return -1;
	static const char *const ints[] = {"Memory",    "MemorySwap", "NanoCpus", "CpuShares",  "CpuQuota",
	                                   "CpuPeriod", "PidsLimit",  "ShmSize",  "OomScoreAdj"};
	for (size_t i = 0; i < ARRAY_SIZE(ints); i++)
		if (want_type(hc, w, ints[i], JSON_INTEGER, e) < 0)
			return -1;
	if (want_type(hc, w, "PortBindings", JSON_OBJECT, e) < 0 || want_type(hc, w, "Tmpfs", JSON_OBJECT, e) < 0 ||
	    want_type(hc, w, "RestartPolicy", JSON_OBJECT, e) < 0 || want_type(hc, w, "Mounts", JSON_ARRAY, e) < 0 ||
	    want_type(hc, w, "NetworkMode", JSON_STRING, e) < 0 || want_type(hc, w, "Privileged", JSON_TRUE, e) < 0 ||
	    want_type(hc, w, "ReadonlyRootfs", JSON_TRUE, e) < 0 || want_type(hc, w, "AutoRemove", JSON_TRUE, e) < 0)
		return -1;
	json_t *v;
	if ((v = json_object_get(hc, "Memory")) && json_integer_value(v) != 0 &&
	    json_integer_value(v) < 6 * 1024 * 1024)
		return err_setx(e, EINVAL, "HostConfig.Memory: Minimum memory limit allowed is 6MB");
	if ((v = json_object_get(hc, "NanoCpus")) && json_integer_value(v) < 0)
		return err_setx(e, EINVAL,
		                "HostConfig.NanoCpus: Range of CPUs is from 0.01 to %ld.00, as there are only "
		                "%ld CPUs available",
		                sysconf(_SC_NPROCESSORS_ONLN), sysconf(_SC_NPROCESSORS_ONLN));
	json_t *rp = json_object_get(hc, "RestartPolicy");
	const char *rpn = json_string_value(json_object_get(rp, "Name"));
	if (rpn && *rpn && strcmp(rpn, "no") && strcmp(rpn, "always") && strcmp(rpn, "unless-stopped") &&
	    strcmp(rpn, "on-failure"))
		return err_setx(e, EINVAL, "HostConfig.RestartPolicy.Name: invalid restart policy '%s'", rpn);
	if (rpn && *rpn && strcmp(rpn, "no") && json_is_true(json_object_get(hc, "AutoRemove")))
		return err_setx(e, EINVAL, "conflicting options: cannot specify both --restart and --rm");
	if (json_integer_value(json_object_get(rp, "MaximumRetryCount")) && (!rpn || strcmp(rpn, "on-failure")))
		return err_setx(e, EINVAL,
		                "HostConfig.RestartPolicy: maximum retry count cannot be used with restart "
		                "policy '%s'",
		                rpn ? rpn : "");
	const char *nm = json_string_value(json_object_get(hc, "NetworkMode"));
	if (nm && *nm && strcmp(nm, "bridge") && strcmp(nm, "host") && strcmp(nm, "none") && strcmp(nm, "default"))
		return err_setx(e, EINVAL, "HostConfig.NetworkMode: network %s not found (bridge, host and none exist)",
		                nm);
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(hc, "CapAdd"), i, s) if (!cap_known(json_string_value(s))) return err_setx(
	        e, EINVAL, "HostConfig.CapAdd[%zu]: unknown capability: \"%s\"", i, json_string_value(s));
	json_array_foreach(json_object_get(hc, "CapDrop"), i, s) if (!cap_known(json_string_value(s))) return err_setx(
	        e, EINVAL, "HostConfig.CapDrop[%zu]: unknown capability: \"%s\"", i, json_string_value(s));
	json_array_foreach(json_object_get(hc, "Binds"), i, s)
	{
		const char *b = json_string_value(s);
		const char *c1 = strchr(b, ':');
		if (!c1 || c1 == b || c1[1] != '/')
			return err_setx(e, EINVAL, "HostConfig.Binds[%zu]: invalid volume specification: '%s'", i, b);
	}
	json_array_foreach(json_object_get(hc, "SecurityOpt"), i, s)
	{
		const char *o = json_string_value(s);
		if (strncmp(o, "seccomp=", 8) && strncmp(o, "seccomp:", 8) && strncmp(o, "no-new-privileges", 17) &&
		    strncmp(o, "apparmor", 8) && strncmp(o, "label", 5))
			return err_setx(e, EINVAL, "HostConfig.SecurityOpt[%zu]: invalid --security-opt: \"%s\"", i, o);
		if (!strncmp(o, "seccomp", 7) && strcmp(o + 8, "unconfined")) {
			json_error_t je;
			json_t *p = json_loads(o + 8, 0, &je);
			if (!json_is_object(p)) {
				json_decref(p);
				return err_setx(e, EINVAL,
				                "HostConfig.SecurityOpt[%zu]: seccomp profile: line %d column %d: %s",
				                i, je.line, je.column, je.text);
			}
			json_decref(p);
		}
	}
	const char *key;
	json_t *binds;
	json_object_foreach(json_object_get(hc, "PortBindings"), key, binds)
	{
		unsigned port;
		char proto[8] = "tcp";
		int n = sscanf(key, "%u/%7s", &port, proto);
		if (n < 1 || port == 0 || port > 65535 || (strcmp(proto, "tcp") && strcmp(proto, "udp")))
			return err_setx(e, EINVAL, "HostConfig.PortBindings: invalid port \"%s\"", key);
		if (!json_is_array(binds) && !json_is_null(binds))
			return err_setx(e, EINVAL, "HostConfig.PortBindings[\"%s\"]: expected a list", key);
		json_array_foreach(binds, i, s)
		{
			const char *hp = json_string_value(json_object_get(s, "HostPort"));
			char *end;
			long p = hp && *hp ? strtol(hp, &end, 10) : 0;
			if (hp && *hp && (*end || p < 1 || p > 65535))
				return err_setx(e, EINVAL,
				                "HostConfig.PortBindings[\"%s\"][%zu].HostPort: invalid port \"%s\"",
				                key, i, hp);
		}
	}
	return 0;
}

/* ---- users ----------------------------------------------------------------------------------------- */

/* Looks NAME up in ROOTFS/etc/FILE (passwd or group); the id or -1. */
static long lookup_id(const char *rootfs, const char *file, const char *name, long *gid_out)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/etc/%s", rootfs, file);
	cleanup_fclose FILE *f = fopen(p, "re");
	if (!f)
		return -1;
	char line[1024];
	size_t n = strlen(name);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, name, n) || line[n] != ':')
			continue;
		char *fields[4] = {0};
		char *save = NULL, *t = strtok_r(line, ":", &save);
		for (int i = 0; t && i < 4; i++, t = strtok_r(NULL, ":", &save))
			fields[i] = t;
		if (!fields[2])
			return -1;
		if (gid_out && fields[3])
			*gid_out = strtol(fields[3], NULL, 10);
		return strtol(fields[2], NULL, 10);
	}
	return -1;
}

int dspec_user(const char *rootfs, const char *user, long *uid, long *gid, struct ros_err *e)
{
	*uid = 0;
	*gid = 0;
	if (!user || !*user)
		return 0;
	char u[256];
	snprintf(u, sizeof(u), "%s", user);
	char *g = strchr(u, ':');
	if (g)
		*g++ = '\0';
	char *end;
	long v = strtol(u, &end, 10);
	if (*u && !*end) {
		*uid = v;
		*gid = v == 0 ? 0 : v;
		long pg = -1;
		/* a numeric uid keeps the primary group of its passwd entry, if any */
		(void)pg;
	} else {
		long pg = 0;
		*uid = lookup_id(rootfs, "passwd", u, &pg);
		if (*uid < 0)
			return err_setx(e, ENOENT, "unable to find user %s: no matching entries in passwd file", u);
		*gid = pg;
	}
	if (g && *g) {
		v = strtol(g, &end, 10);
		if (!*end)
			*gid = v;
		else if ((*gid = lookup_id(rootfs, "group", g, NULL)) < 0)
			return err_setx(e, ENOENT, "unable to find group %s: no matching entries in group file", g);
	}
	return 0;
}

/* ---- seccomp profiles --------------------------------------------------------------------------- */

static bool has_cap(json_t *caps, const char *name)
{
	size_t i;
	json_t *c;
	json_array_foreach(caps, i, c) if (!strcmp(json_string_value(c), name)) return true;
	return false;
}

/* A Docker seccomp profile (defaultAction, architectures or archMap,
 * syscalls with includes/excludes by capability) -> linux.seccomp. */
static json_t *docker_seccomp(json_t *prof, json_t *caps)
{
	json_t *out = json_object();
	json_object_set(out, "defaultAction", json_object_get(prof, "defaultAction"));
	if (json_object_get(prof, "defaultErrnoRet"))
		json_object_set(out, "defaultErrnoRet", json_object_get(prof, "defaultErrnoRet"));
	json_t *arches = json_array();
	json_array_extend(arches, json_object_get(prof, "architectures"));
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(prof, "archMap"), i, m)
	{
		if (strcmp(json_string_value(json_object_get(m, "architecture")) ?: "", "SCMP_ARCH_X86_64"))
			continue;
		json_array_append(arches, json_object_get(m, "architecture"));
		json_array_extend(arches, json_object_get(m, "subArchitectures"));
	}
	if (json_array_size(arches))
		json_object_set_new(out, "architectures", arches);
	else
		json_decref(arches);
	json_t *rules = json_array();
	json_t *s;
	json_array_foreach(json_object_get(prof, "syscalls"), i, s)
	{
		json_t *inc = json_object_get(s, "includes"), *exc = json_object_get(s, "excludes");
		bool ok = true;
		size_t k;
		json_t *c;
		json_array_foreach(json_object_get(inc, "caps"), k, c) if (!has_cap(caps, json_string_value(c))) ok =
		        false;
		json_array_foreach(json_object_get(exc, "caps"), k, c) if (has_cap(caps, json_string_value(c))) ok =
		        false;
		json_t *ia = json_object_get(inc, "arches");
		if (json_array_size(ia)) {
			bool arch_ok = false;
			json_array_foreach(ia, k, c) if (!strcmp(json_string_value(c), "amd64") ||
			                                 !strcmp(json_string_value(c), "x86_64")) arch_ok = true;
			ok = ok && arch_ok;
		}
		if (!ok)
			continue;
		json_t *r = json_object();
		json_t *names = json_object_get(s, "names");
		if (!names && json_object_get(s, "name"))
			names = json_pack("[O]", json_object_get(s, "name"));
		else
			json_incref(names);
		json_object_set_new(r, "names", names ? names : json_array());
		json_object_set(r, "action", json_object_get(s, "action"));
		if (json_object_get(s, "args") && !json_is_null(json_object_get(s, "args")))
			json_object_set(r, "args", json_object_get(s, "args"));
		if (json_object_get(s, "errnoRet"))
			json_object_set(r, "errnoRet", json_object_get(s, "errnoRet"));
		json_array_append_new(rules, r);
	}
	json_object_set_new(out, "syscalls", rules);
	return out;
}

/* ---- mounts ------------------------------------------------------------------------------------ */

static void add_mount(json_t *mounts, const char *dst, const char *type, const char *src, json_t *opts)
{
	/* a later mount on the same destination replaces the spec's default */
	for (size_t i = json_array_size(mounts); i-- > 0;)
		if (!strcmp(json_string_value(json_object_get(json_array_get(mounts, i), "destination")) ?: "", dst))
			json_array_remove(mounts, i);
	json_array_append_new(mounts, json_pack("{s:s,s:s,s:s,s:o}", "destination", dst, "type", type, "source", src,
	                                        "options", opts));
}

static bool is_mounted_at(json_t *mounts, const char *dst)
{
	size_t i;
	json_t *m;
	json_array_foreach(mounts, i,
	                   m) if (!strcmp(json_string_value(json_object_get(m, "destination")) ?: "", dst)) return true;
	return false;
}

static int add_volume_mount(struct userctr *u, struct uctr *c, json_t *mounts, json_t *record, const char *src,
                            const char *dst, bool ro, bool anonymous, struct ros_err *e)
{
	if (*dst != '/')
		return err_setx(e, EINVAL, "invalid mount config: the mount destination %s is not an absolute path",
		                dst);
	char host[4096];
	bool named = *src != '/';
	if (named) {
		if (volume_path(u, src, true, host, sizeof(host), e) < 0)
			return -1;
	} else {
		snprintf(host, sizeof(host), "%s", src);
		struct stat st;
		/* Docker creates a missing bind source as a directory */
		if (stat(host, &st) < 0 && fs_mkdir_p(host, 0755, e) < 0)
			return err_prefix(e, "bind source");
	}
	add_mount(mounts, dst, "bind", host, json_pack("[s,s,s]", "rbind", ro ? "ro" : "rw", "rprivate"));
	json_t *rec =
	        json_pack("{s:s,s:s,s:s,s:s,s:b,s:s}", "Type", named ? "volume" : "bind", "Source", host, "Destination",
	                  dst, "Mode", ro ? "ro" : "", "RW", !ro, "Propagation", named ? "" : "rprivate");
	if (named) {
		json_object_set_new(rec, "Name", json_string(src));
		json_object_set_new(rec, "Driver", json_string("local"));
	}
	if (anonymous)
		json_object_set_new(rec, "ros.anonymous", json_true());
	json_array_append_new(record, rec);
	(void)c;
	return 0;
}

static const char *find_init(void)
{
	static const char *const cands[] = {"/usr/libexec/ros/docker-init", "/usr/bin/tini-static",
	                                    "/usr/bin/docker-init", "/sbin/tini-static", NULL};
	for (size_t i = 0; cands[i]; i++)
		if (access(cands[i], X_OK) == 0)
			return cands[i];
	return NULL;
}

/* ---- the spec ------------------------------------------------------------------------------------- */

json_t *dspec_build(struct userctr *u, struct uctr *c, const char *rootfs, json_t *image_cfg, struct ros_err *e)
{
	json_t *cfg = json_object_get(c->doc, "Config"), *hc = json_object_get(c->doc, "HostConfig");
	bool privileged = json_is_true(json_object_get(hc, "Privileged"));
	json_t *spec = spec_default(false);
	if (!spec) {
		err_setx(e, ENOMEM, "out of memory");
		return NULL;
	}
	json_t *proc = json_object_get(spec, "process"), *lx = json_object_get(spec, "linux");
	json_t *mounts = json_object_get(spec, "mounts");
	json_object_set_new(proc, "terminal", json_boolean(json_is_true(json_object_get(cfg, "Tty"))));
	json_t *args = json_array();
	if (json_is_true(json_object_get(hc, "Init"))) {
		const char *init = find_init();
		if (!init) {
			err_setx(e, ENOENT, "HostConfig.Init: no init binary on this host (install tini)");
			goto fail;
		}
		json_array_append_new(args, json_string("/sbin/docker-init"));
		json_array_append_new(args, json_string("--"));
		add_mount(mounts, "/sbin/docker-init", "bind", init, json_pack("[s,s]", "bind", "ro"));
	}
	json_array_append(args, json_object_get(c->doc, "Path"));
	json_array_extend(args, json_object_get(c->doc, "Args"));
	json_object_set_new(proc, "args", args);
	json_t *env = json_deep_copy(json_object_get(cfg, "Env"));
	if (!json_is_array(env)) {
		json_decref(env);
		env = json_array();
	}
	bool has_path = false, has_home = false, has_hostname = false;
	size_t i;
	json_t *v;
	json_array_foreach(env, i, v)
	{
		has_path |= !strncmp(json_string_value(v), "PATH=", 5);
		has_home |= !strncmp(json_string_value(v), "HOME=", 5);
		has_hostname |= !strncmp(json_string_value(v), "HOSTNAME=", 9);
	}
	if (!has_path)
		json_array_append_new(env,
		                      json_string("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
	if (!has_hostname) {
		char h[300];
		snprintf(h, sizeof(h), "HOSTNAME=%s", json_string_value(json_object_get(cfg, "Hostname")) ?: "");
		json_array_append_new(env, json_string(h));
	}
	if (json_is_true(json_object_get(cfg, "Tty")))
		json_array_append_new(env, json_string("TERM=xterm"));
	const char *wd = json_string_value(json_object_get(cfg, "WorkingDir"));
	json_object_set_new(proc, "cwd", json_string(wd && *wd ? wd : "/"));
	long uid, gid;
	if (dspec_user(rootfs, json_string_value(json_object_get(cfg, "User")), &uid, &gid, e) < 0) {
		json_decref(env);
		goto fail;
	}
	if (!has_home) {
		json_array_append_new(env, json_string(uid == 0 ? "HOME=/root" : "HOME=/"));
	}
	json_object_set_new(proc, "env", env);
	json_object_set_new(proc, "user", json_pack("{s:I,s:I}", "uid", (json_int_t)uid, "gid", (json_int_t)gid));
	/* capabilities */
	json_t *caps = json_array();
	bool drop_all = false;
	json_array_foreach(json_object_get(hc, "CapDrop"), i, v) if (!strcasecmp(json_string_value(v), "ALL"))
	        drop_all = true;
	bool add_all = privileged;
	json_array_foreach(json_object_get(hc, "CapAdd"), i, v) if (!strcasecmp(json_string_value(v), "ALL")) add_all =
	        true;
	for (size_t k = 0; all_caps[k]; k++) {
		const char *cap = all_caps[k];
		/* all_caps is in kernel order: k is the number; what the engine
		 * itself lacks cannot be given (a host without CAP_SYS_RESOURCE) */
		if (prctl(PR_CAPBSET_READ, (unsigned long)k, 0, 0, 0) != 1)
			continue;
		bool want = add_all;
		if (!want && !drop_all)
			for (size_t d = 0; dspec_default_caps[d]; d++)
				want |= !strcmp(dspec_default_caps[d], cap);
		json_array_foreach(json_object_get(hc, "CapAdd"), i, v)
		{
			const char *s = json_string_value(v);
			want |= !strcasecmp(s, cap) || !strcasecmp(s, cap + 4);
		}
		if (!privileged)
			json_array_foreach(json_object_get(hc, "CapDrop"), i, v)
			{
				const char *s = json_string_value(v);
				if (!strcasecmp(s, cap) || !strcasecmp(s, cap + 4))
					want = false;
			}
		if (want)
			json_array_append_new(caps, json_string(cap));
	}
	json_object_set_new(
	        proc, "capabilities",
	        json_pack("{s:O,s:O,s:O,s:[]}", "bounding", caps, "effective", caps, "permitted", caps, "inheritable"));
	bool nnp = false;
	const char *seccomp = NULL;
	json_array_foreach(json_object_get(hc, "SecurityOpt"), i, v)
	{
		const char *o = json_string_value(v);
		if (!strncmp(o, "no-new-privileges", 17))
			nnp = !strcmp(o, "no-new-privileges") || !strcmp(o + 17, ":true") || !strcmp(o + 17, "=true");
		if (!strncmp(o, "seccomp", 7))
			seccomp = o + 8;
	}
	json_object_set_new(proc, "noNewPrivileges", json_boolean(nnp));
	if (!privileged && !(seccomp && !strcmp(seccomp, "unconfined"))) {
		if (seccomp) {
			json_t *prof = json_loads(seccomp, 0, NULL);
			json_object_set_new(lx, "seccomp", docker_seccomp(prof, caps));
			json_decref(prof);
		} else {
			json_object_set_new(lx, "seccomp", spec_default_seccomp(caps));
		}
	}
	json_decref(caps);
	/* rlimits: the engine's, like dockerd's, unless Ulimits says */
	json_object_del(proc, "rlimits");
	json_t *ul = json_object_get(hc, "Ulimits");
	if (json_array_size(ul)) {
		json_t *rl = json_array();
		json_array_foreach(ul, i, v)
		{
			char t[64];
			snprintf(t, sizeof(t), "RLIMIT_%s", json_string_value(json_object_get(v, "Name")) ?: "");
			for (char *p = t; *p; p++)
				*p = (char)toupper((unsigned char)*p);
			json_array_append_new(rl, json_pack("{s:s,s:O,s:O}", "type", t, "soft",
			                                    json_object_get(v, "Soft") ?: json_integer(0), "hard",
			                                    json_object_get(v, "Hard") ?: json_integer(0)));
		}
		json_object_set_new(proc, "rlimits", rl);
	}
	if (json_object_get(hc, "OomScoreAdj") && json_integer_value(json_object_get(hc, "OomScoreAdj")))
		json_object_set(proc, "oomScoreAdj", json_object_get(hc, "OomScoreAdj"));
	json_object_set_new(spec, "root",
	                    json_pack("{s:s,s:b}", "path", rootfs, "readonly",
	                              json_is_true(json_object_get(hc, "ReadonlyRootfs"))));
	json_object_set(spec, "hostname", json_object_get(cfg, "Hostname"));
	/* namespaces */
	const char *netmode = json_string_value(json_object_get(hc, "NetworkMode")) ?: "bridge";
	bool host_net = !strcmp(netmode, "host");
	bool host_pid = !strcmp(json_string_value(json_object_get(hc, "PidMode")) ?: "", "host");
	bool host_ipc = !strcmp(json_string_value(json_object_get(hc, "IpcMode")) ?: "", "host");
	bool host_uts = !strcmp(json_string_value(json_object_get(hc, "UTSMode")) ?: "", "host") || host_net;
	json_t *ns = json_array();
	json_array_append_new(ns, json_pack("{s:s}", "type", "mount"));
	json_array_append_new(ns, json_pack("{s:s}", "type", "cgroup"));
	if (!host_pid)
		json_array_append_new(ns, json_pack("{s:s}", "type", "pid"));
	if (!host_net)
		json_array_append_new(ns, json_pack("{s:s}", "type", "network"));
	if (!host_ipc)
		json_array_append_new(ns, json_pack("{s:s}", "type", "ipc"));
	if (!host_uts)
		json_array_append_new(ns, json_pack("{s:s}", "type", "uts"));
	else
		json_object_del(spec, "hostname");
	json_object_set_new(lx, "namespaces", ns);
	char cg[128];
	snprintf(cg, sizeof(cg), "/userctr/%s", c->id);
	json_object_set_new(lx, "cgroupsPath", json_string(cg));
	if (json_object_size(json_object_get(hc, "Sysctls")))
		json_object_set(lx, "sysctl", json_object_get(hc, "Sysctls"));
	/* resources */
	json_t *res = json_object_get(lx, "resources");
	if (!res) {
		res = json_object();
		json_object_set_new(lx, "resources", res);
	}
	json_int_t mem = json_integer_value(json_object_get(hc, "Memory"));
	json_int_t swap = json_integer_value(json_object_get(hc, "MemorySwap"));
	if (mem > 0) {
		json_t *m = json_pack("{s:I}", "limit", mem);
		if (swap > 0 || swap == -1)
			json_object_set_new(m, "swap", json_integer(swap));
		json_object_set_new(res, "memory", m);
	}
	json_t *cpu = json_object();
	json_int_t nano = json_integer_value(json_object_get(hc, "NanoCpus"));
	if (nano > 0) {
		json_object_set_new(cpu, "period", json_integer(100000));
		json_object_set_new(cpu, "quota", json_integer(nano / 10000));
	}
	if (json_integer_value(json_object_get(hc, "CpuQuota")) > 0)
		json_object_set(cpu, "quota", json_object_get(hc, "CpuQuota"));
	if (json_integer_value(json_object_get(hc, "CpuPeriod")) > 0)
		json_object_set(cpu, "period", json_object_get(hc, "CpuPeriod"));
	if (json_integer_value(json_object_get(hc, "CpuShares")) > 0)
		json_object_set(cpu, "shares", json_object_get(hc, "CpuShares"));
	if (json_string_value(json_object_get(hc, "CpusetCpus")) &&
	    *json_string_value(json_object_get(hc, "CpusetCpus")))
		json_object_set(cpu, "cpus", json_object_get(hc, "CpusetCpus"));
	if (json_object_size(cpu))
		json_object_set_new(res, "cpu", cpu);
	else
		json_decref(cpu);
	if (json_integer_value(json_object_get(hc, "PidsLimit")) > 0)
		json_object_set_new(res, "pids", json_pack("{s:O}", "limit", json_object_get(hc, "PidsLimit")));
	if (privileged) {
		json_object_del(lx, "maskedPaths");
		json_object_del(lx, "readonlyPaths");
		json_object_set_new(res, "devices", json_pack("[{s:b,s:s}]", "allow", true, "access", "rwm"));
		add_mount(mounts, "/dev", "bind", "/dev", json_pack("[s,s]", "rbind", "nosuid"));
		if (!host_net)
			add_mount(mounts, "/sys", "sysfs", "sysfs", json_pack("[s,s,s]", "nosuid", "noexec", "nodev"));
		json_object_del(lx, "devices");
	} else if (host_net) {
		add_mount(mounts, "/sys", "bind", "/sys",
		          json_pack("[s,s,s,s,s]", "bind", "nosuid", "noexec", "nodev", "ro"));
	}
	json_int_t shm = json_integer_value(json_object_get(hc, "ShmSize"));
	if (shm > 0 && !privileged) {
		char sz[64];
		snprintf(sz, sizeof(sz), "size=%lldk", (long long)(shm / 1024));
		add_mount(mounts, "/dev/shm", "tmpfs", "shm",
		          json_pack("[s,s,s,s,s]", "nosuid", "noexec", "nodev", "mode=1777", sz));
	}
	/* /etc files the engine writes (network, hostname) */
	static const char *const etc[] = {"hosts", "resolv.conf", "hostname"};
	for (size_t k = 0; k < ARRAY_SIZE(etc); k++) {
		char p[4096], d[64];
		snprintf(p, sizeof(p), "%s/containers/%s/%s", u->root, c->id, etc[k]);
		snprintf(d, sizeof(d), "/etc/%s", etc[k]);
		if (access(p, F_OK) == 0)
			add_mount(mounts, d, "bind", p, json_pack("[s,s]", "rbind", "rprivate"));
	}
	/* volumes */
	json_t *record = json_array();
	json_array_foreach(json_object_get(hc, "Binds"), i, v)
	{
		char b[4096];
		snprintf(b, sizeof(b), "%s", json_string_value(v));
		char *dst = strchr(b, ':');
		*dst++ = '\0';
		char *mode = strchr(dst, ':');
		if (mode)
			*mode++ = '\0';
		bool ro = mode && strstr(mode, "ro");
		if (add_volume_mount(u, c, mounts, record, b, dst, ro, false, e) < 0) {
			json_decref(record);
			err_prefix(e, "HostConfig.Binds[%zu]", i);
			goto fail;
		}
	}
	json_array_foreach(json_object_get(hc, "Mounts"), i, v)
	{
		const char *type = json_string_value(json_object_get(v, "Type")) ?: "volume";
		const char *src = json_string_value(json_object_get(v, "Source")) ?: "";
		const char *dst = json_string_value(json_object_get(v, "Target")) ?: "";
		bool ro = json_is_true(json_object_get(v, "ReadOnly"));
		int r;
		if (!strcmp(type, "tmpfs")) {
			add_mount(mounts, dst, "tmpfs", "tmpfs", json_pack("[s,s,s]", "nosuid", "nodev", "mode=1777"));
			continue;
		}
		char anon[65] = "";
		if (!*src && !strcmp(type, "volume")) {
			unsigned char rb[32];
			if (getentropy(rb, sizeof(rb)) < 0)
				memset(rb, 7, sizeof(rb));
			for (int k = 0; k < 32; k++)
				sprintf(anon + 2 * k, "%02x", rb[k]);
			src = anon;
		}
		if (strcmp(type, "bind") && strcmp(type, "volume")) {
			json_decref(record);
			err_setx(e, EINVAL, "HostConfig.Mounts[%zu].Type: mount type \"%s\" is not supported", i, type);
			goto fail;
		}
		r = add_volume_mount(u, c, mounts, record, src, dst, ro, *anon != '\0', e);
		if (r < 0) {
			json_decref(record);
			err_prefix(e, "HostConfig.Mounts[%zu]", i);
			goto fail;
		}
	}
	const char *tk;
	json_object_foreach(json_object_get(hc, "Tmpfs"), tk, v)
	{
		json_t *opts = json_pack("[s,s]", "nosuid", "nodev");
		char o[1024];
		snprintf(o, sizeof(o), "%s", json_string_value(v) ?: "");
		for (char *save = NULL, *t = strtok_r(o, ",", &save); t; t = strtok_r(NULL, ",", &save))
			json_array_append_new(opts, json_string(t));
		add_mount(mounts, tk, "tmpfs", "tmpfs", opts);
	}
	/* the image's VOLUMEs not covered above get anonymous volumes */
	json_object_foreach(json_object_get(cfg, "Volumes"), tk, v)
	{
		if (is_mounted_at(mounts, tk))
			continue;
		char anon[65];
		unsigned char rb[32];
		if (getentropy(rb, sizeof(rb)) < 0)
			memset(rb, 9, sizeof(rb));
		for (int k = 0; k < 32; k++)
			sprintf(anon + 2 * k, "%02x", rb[k]);
		if (add_volume_mount(u, c, mounts, record, anon, tk, false, true, e) < 0) {
			json_decref(record);
			goto fail;
		}
	}
	/* keep the anonymous volumes of an earlier start instead of making new ones */
	json_t *old = json_object_get(c->doc, "Mounts");
	if (json_array_size(old)) {
		json_decref(record);
		record = json_incref(old);
		json_array_foreach(old, i, v)
		{
			if (!json_is_true(json_object_get(v, "ros.anonymous")))
				continue;
			for (size_t k = json_array_size(mounts); k-- > 0;) {
				json_t *m = json_array_get(mounts, k);
				if (!strcmp(json_string_value(json_object_get(m, "destination")),
				            json_string_value(json_object_get(v, "Destination"))))
					json_object_set(m, "source", json_object_get(v, "Source"));
			}
		}
	}
	json_object_set_new(c->doc, "Mounts", record);
	(void)image_cfg;
	return spec;
fail:
	json_decref(spec);
	return NULL;
}
