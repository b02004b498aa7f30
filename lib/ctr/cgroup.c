/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "bpfdev.h"
#include "core/cleanup.h"
#include "core/fs.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* What every container may use besides its rules, as runc allows it: mknod
 * of any device, null, zero, full, random, urandom, tty, console, ptmx,
 * the pty slaves and /dev/net/tun. */
static const struct bpfdev_rule default_devices[] = {
        {true, 'c', BPFDEV_ANY, BPFDEV_ANY, BPF_DEVCG_ACC_MKNOD},
        {true, 'b', BPFDEV_ANY, BPFDEV_ANY, BPF_DEVCG_ACC_MKNOD},
        {true, 'c', 1, 3, BPFDEV_ACC_ALL},
        {true, 'c', 1, 5, BPFDEV_ACC_ALL},
        {true, 'c', 1, 7, BPFDEV_ACC_ALL},
        {true, 'c', 1, 8, BPFDEV_ACC_ALL},
        {true, 'c', 1, 9, BPFDEV_ACC_ALL},
        {true, 'c', 5, 0, BPFDEV_ACC_ALL},
        {true, 'c', 5, 1, BPFDEV_ACC_ALL},
        {true, 'c', 5, 2, BPFDEV_ACC_ALL},
        {true, 'c', 136, BPFDEV_ANY, BPFDEV_ACC_ALL},
        {true, 'c', 10, 200, BPFDEV_ACC_ALL},
};

/* The v1 hierarchies a container joins (those that exist are used). */
static const char *const v1_controllers[] = {"memory",   "pids",       "cpu",     "cpuacct", "cpuset",
                                             "blkio",    "devices",    "freezer", "hugetlb", "net_cls",
                                             "net_prio", "perf_event", "systemd"};

enum cgroup_mode cgroup_detect(const char *root)
{
	struct statfs fs;
	if (statfs(root, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
		return CGROUP_V2;
	return CGROUP_V1;
}

int cgroup_path_for(const char *cgroups_path, const char *id, char *out, size_t size, struct ros_err *e)
{
	int n;
	if (!cgroups_path || !*cgroups_path) {
		n = snprintf(out, size, "/roci/%s", id);
	} else if (cgroups_path[0] == '/') {
		n = snprintf(out, size, "%s", cgroups_path);
	} else {
		/* systemd style "slice:prefix:name" as a plain path */
		char copy[PATH_MAX];
		snprintf(copy, sizeof(copy), "%s", cgroups_path);
		char *c = copy, *slice = strsep(&c, ":"), *prefix = strsep(&c, ":"), *name = c;
		if (!prefix || !name)
			n = snprintf(out, size, "/%s", cgroups_path);
		else
			n = snprintf(out, size, "/%s/%s-%s", *slice ? slice : "system.slice", prefix, name);
	}
	if (n < 0 || (size_t)n >= size)
		return err_setx(e, ENAMETOOLONG, "linux.cgroupsPath: too long");
	if (strstr(out, "/../") || (strlen(out) >= 3 && !strcmp(out + strlen(out) - 3, "/..")))
		return err_setx(e, EINVAL, "linux.cgroupsPath: \"%s\" contains '..'", out);
	return 0;
}

static int write_at(const char *dir, const char *file, const char *value, struct ros_err *e)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	return fs_write_file(p, value, e);
}

static int writef_at(const char *dir, const char *file, struct ros_err *e, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int writef_at(const char *dir, const char *file, struct ros_err *e, const char *fmt, ...)
{
	char v[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	return write_at(dir, file, v, e);
}

static bool is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* cpuset in v1 needs cpus/mems copied down from the parent before tasks join. */
static void v1_cpuset_inherit(const char *base, const char *path)
{
	char cur[PATH_MAX], parent[PATH_MAX];
	snprintf(cur, sizeof(cur), "%s", base);
	const char *p = path;
	while (*p) {
		const char *slash = strchr(p + 1, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		snprintf(parent, sizeof(parent), "%s", cur);
		size_t cl = strlen(cur);
		snprintf(cur + cl, sizeof(cur) - cl, "%.*s", (int)len, p);
		p += len;
		for (const char *f = "cpuset.cpus"; f; f = strcmp(f, "cpuset.cpus") ? NULL : "cpuset.mems") {
			char fp[PATH_MAX + 16], pp[PATH_MAX + 16];
			snprintf(fp, sizeof(fp), "%s/%s", cur, f);
			snprintf(pp, sizeof(pp), "%s/%s", parent, f);
			cleanup_free char *mine = NULL, *theirs = NULL;
			if (fs_read_all(fp, 4096, &mine, NULL, NULL) == 0 && (mine[0] == '\n' || !mine[0]) &&
			    fs_read_all(pp, 4096, &theirs, NULL, NULL) == 0)
				fs_write_file(fp, theirs, NULL);
		}
	}
}

/* v1 writes -1 for no limit */
static long long v1_memory_value(int64_t v)
{
	return v == SPEC_MEM_UNLIMITED ? -1LL : (long long)v;
}

static int v1_write_swap(const char *d, int64_t swap, struct ros_err *e)
{
	int x = writef_at(d, "memory.memsw.limit_in_bytes", e, "%lld", v1_memory_value(swap));
	return x == -ENOENT ? 0 : x; /* no swap accounting on this kernel */
}

static int apply_v1_memory(const char *d, const struct spec_resources *r, struct ros_err *e)
{
	int x;
	/* The kernel keeps limit <= memsw at every write: when memsw grows past
	 * the current limit it goes first, otherwise the limit does (as runc). */
	bool swap_first = false;
	if (r->memory_limit >= 0 && r->memory_swap >= 0) {
		char f[PATH_MAX + 32];
		snprintf(f, sizeof(f), "%s/memory.limit_in_bytes", d);
		cleanup_free char *cur = NULL;
		swap_first = r->memory_swap == SPEC_MEM_UNLIMITED ||
		             (fs_read_all(f, 64, &cur, NULL, NULL) == 0 &&
		              strtoull(cur, NULL, 10) < (unsigned long long)r->memory_swap);
	}
	if (swap_first && (x = v1_write_swap(d, r->memory_swap, e)) < 0)
		return x;
	if (r->memory_limit >= 0 &&
	    (x = writef_at(d, "memory.limit_in_bytes", e, "%lld", v1_memory_value(r->memory_limit))) < 0)
		return x;
	if (!swap_first && r->memory_swap >= 0 && (x = v1_write_swap(d, r->memory_swap, e)) < 0)
		return x;
	if (r->memory_reservation >= 0 &&
	    (x = writef_at(d, "memory.soft_limit_in_bytes", e, "%lld", v1_memory_value(r->memory_reservation))) < 0)
		return x;
	return 0;
}

/* A rule as devices.allow takes it: "c 136:* rwm" */
static void v1_device_rule(const struct bpfdev_rule *r, char *out, size_t size)
{
	char maj[24] = "*", min[24] = "*";
	if (r->major != BPFDEV_ANY)
		snprintf(maj, sizeof(maj), "%lld", (long long)r->major);
	if (r->minor != BPFDEV_ANY)
		snprintf(min, sizeof(min), "%lld", (long long)r->minor);
	snprintf(out, size, "%c %s:%s %s%s%s", r->type, maj, min, r->access & BPF_DEVCG_ACC_READ ? "r" : "",
	         r->access & BPF_DEVCG_ACC_WRITE ? "w" : "", r->access & BPF_DEVCG_ACC_MKNOD ? "m" : "");
}

static int apply_v1(const char *root, const char *path, const struct spec_resources *r, struct ros_err *e)
{
	char d[PATH_MAX];
	int x = 0;
	if (r->memory_limit >= 0 || r->memory_reservation >= 0 || r->memory_swap >= 0) {
		snprintf(d, sizeof(d), "%s/memory%s", root, path);
		if ((x = apply_v1_memory(d, r, e)) < 0)
			return x;
	}
	if (r->pids_limit) {
		snprintf(d, sizeof(d), "%s/pids%s", root, path);
		if ((x = r->pids_limit > 0 ? writef_at(d, "pids.max", e, "%lld", (long long)r->pids_limit)
		                           : write_at(d, "pids.max", "max", e)) < 0)
			return x;
	}
	snprintf(d, sizeof(d), "%s/cpu%s", root, path);
	if (r->cpu_shares && (x = writef_at(d, "cpu.shares", e, "%llu", (unsigned long long)r->cpu_shares)) < 0)
		return x;
	if (r->cpu_period && (x = writef_at(d, "cpu.cfs_period_us", e, "%llu", (unsigned long long)r->cpu_period)) < 0)
		return x;
	if (r->cpu_quota && (x = writef_at(d, "cpu.cfs_quota_us", e, "%lld", (long long)r->cpu_quota)) < 0)
		return x;
	if (r->cpu_rt_period &&
	    (x = writef_at(d, "cpu.rt_period_us", e, "%llu", (unsigned long long)r->cpu_rt_period)) < 0)
		return x;
	if (r->cpu_rt_runtime && (x = writef_at(d, "cpu.rt_runtime_us", e, "%lld", (long long)r->cpu_rt_runtime)) < 0)
		return x;
	snprintf(d, sizeof(d), "%s/cpuset%s", root, path);
	if (r->cpuset_cpus && *r->cpuset_cpus && (x = write_at(d, "cpuset.cpus", r->cpuset_cpus, e)) < 0)
		return x;
	if (r->cpuset_mems && *r->cpuset_mems && (x = write_at(d, "cpuset.mems", r->cpuset_mems, e)) < 0)
		return x;
	if (r->blkio_weight) {
		snprintf(d, sizeof(d), "%s/blkio%s", root, path);
		x = writef_at(d, "blkio.weight", e, "%u", r->blkio_weight);
		if (x < 0 && x != -ENOENT)
			return x;
		if (x == -ENOENT && (x = writef_at(d, "blkio.bfq.weight", e, "%u", r->blkio_weight)) < 0)
			return x;
	}
	snprintf(d, sizeof(d), "%s/devices%s", root, path);
	size_t i;
	json_t *dev;
	json_array_foreach(r->devices, i, dev)
	{
		const char *type = json_string_value(json_object_get(dev, "type"));
		const char *access = json_string_value(json_object_get(dev, "access"));
		json_t *ma = json_object_get(dev, "major"), *mi = json_object_get(dev, "minor");
		char rule[128], maj[24] = "*", min[24] = "*";
		if (json_is_integer(ma) && json_integer_value(ma) >= 0)
			snprintf(maj, sizeof(maj), "%lld", (long long)json_integer_value(ma));
		if (json_is_integer(mi) && json_integer_value(mi) >= 0)
			snprintf(min, sizeof(min), "%lld", (long long)json_integer_value(mi));
		const char *t = type && *type ? type : "a";
		if (!strcmp(t, "a"))
			snprintf(rule, sizeof(rule), "a");
		else
			snprintf(rule, sizeof(rule), "%s %s:%s %s", t, maj, min, access && *access ? access : "rwm");
		bool allow = json_is_true(json_object_get(dev, "allow"));
		if ((x = write_at(d, allow ? "devices.allow" : "devices.deny", rule, e)) < 0)
			return x;
	}
	if (r->devices && json_array_size(r->devices)) {
		for (size_t k = 0; k < ARRAY_SIZE(default_devices); k++) {
			char rule[96];
			v1_device_rule(&default_devices[k], rule, sizeof(rule));
			if ((x = write_at(d, "devices.allow", rule, e)) < 0)
				return x;
		}
		for (size_t k = 0; k < r->n_extra_devices; k++) {
			const struct spec_device *sd = &r->extra_devices[k];
			char rule[96];
			snprintf(rule, sizeof(rule), "%c %lld:%lld rwm", sd->type == 'b' ? 'b' : 'c',
			         (long long)sd->major, (long long)sd->minor);
			if (sd->type != 'p' && (x = write_at(d, "devices.allow", rule, e)) < 0)
				return x;
		}
	}
	json_array_foreach(r->hugepages, i, dev)
	{
		const char *ps = json_string_value(json_object_get(dev, "pageSize"));
		json_t *lim = json_object_get(dev, "limit");
		if (!ps || !json_is_integer(lim))
			return err_setx(e, EINVAL, "linux.resources.hugepageLimits[%zu]: pageSize and limit required",
			                i);
		char f[128];
		snprintf(f, sizeof(f), "hugetlb.%s.limit_in_bytes", ps);
		snprintf(d, sizeof(d), "%s/hugetlb%s", root, path);
		if ((x = writef_at(d, f, e, "%lld", (long long)json_integer_value(lim))) < 0)
			return x;
	}
	return 0;
}

/* linux.resources.devices, then default_devices and linux.devices, as v1
 * writes them: on v2 one BPF program that lets the last matching rule
 * decide.  Type "a" is every device and every access, as in v1. */
static int v2_device_rules(const struct spec_resources *r, struct bpfdev_rule **out, size_t *n, struct ros_err *e)
{
	size_t n_rules = json_array_size(r->devices);
	*out = NULL;
	*n = 0;
	if (!n_rules)
		return 0;
	cleanup_free struct bpfdev_rule *rules =
	        calloc(n_rules + ARRAY_SIZE(default_devices) + r->n_extra_devices, sizeof(*rules));
	if (!rules)
		return err_set(e, ENOMEM, "linux.resources.devices");
	size_t k = 0, i;
	json_t *dev;
	json_array_foreach(r->devices, i, dev)
	{
		const char *type = json_string_value(json_object_get(dev, "type"));
		json_t *ma = json_object_get(dev, "major"), *mi = json_object_get(dev, "minor");
		struct bpfdev_rule *b = &rules[k++];
		b->allow = json_is_true(json_object_get(dev, "allow"));
		b->type = type && *type ? type[0] : 'a';
		b->major = b->minor = BPFDEV_ANY;
		b->access = BPFDEV_ACC_ALL;
		if (b->type == 'a')
			continue;
		if (json_is_integer(ma) && json_integer_value(ma) >= 0)
			b->major = json_integer_value(ma);
		if (json_is_integer(mi) && json_integer_value(mi) >= 0)
			b->minor = json_integer_value(mi);
		if (b->major > INT32_MAX || b->minor > INT32_MAX)
			return err_setx(e, ERANGE, "linux.resources.devices[%zu]: major or minor out of range", i);
		if (bpfdev_access(json_string_value(json_object_get(dev, "access")), &b->access) < 0)
			return err_setx(e, EINVAL, "linux.resources.devices[%zu].access: expected letters of rwm", i);
	}
	for (size_t j = 0; j < ARRAY_SIZE(default_devices); j++)
		rules[k++] = default_devices[j];
	for (size_t j = 0; j < r->n_extra_devices; j++) {
		const struct spec_device *sd = &r->extra_devices[j];
		if (sd->type == 'p')
			continue;
		if (sd->major < 0 || sd->major > INT32_MAX || sd->minor < 0 || sd->minor > INT32_MAX)
			return err_setx(e, ERANGE, "linux.devices[%zu]: major or minor out of range", j);
		rules[k++] =
		        (struct bpfdev_rule){true, sd->type == 'b' ? 'b' : 'c', sd->major, sd->minor, BPFDEV_ACC_ALL};
	}
	*out = TAKE_PTR(rules);
	*n = k;
	return 0;
}

static int apply_v2(const char *root, const char *path, const struct spec_resources *r, struct ros_err *e)
{
	char d[PATH_MAX];
	snprintf(d, sizeof(d), "%s%s", root, path);
	int x;
	cleanup_free struct bpfdev_rule *devices = NULL;
	size_t n_devices = 0;
	if ((x = v2_device_rules(r, &devices, &n_devices, e)) < 0)
		return x;
	/* refused before anything is written, so a refusal changes nothing */
	if (r->cpu_rt_period || r->cpu_rt_runtime)
		return err_setx(e, ENOTSUP,
		                "linux.resources.cpu.realtimePeriod, realtimeRuntime: cgroup v2 has no "
		                "real-time CPU limits");
	bool no_limit = r->memory_limit == 0 || r->memory_limit == SPEC_MEM_UNLIMITED;
	if (r->memory_limit >= 0 &&
	    (x = no_limit ? write_at(d, "memory.max", "max", e)
	                  : writef_at(d, "memory.max", e, "%lld", (long long)r->memory_limit)) < 0)
		return x;
	if (r->memory_reservation >= 0 &&
	    (x = r->memory_reservation == SPEC_MEM_UNLIMITED
	                 ? write_at(d, "memory.low", "max", e)
	                 : writef_at(d, "memory.low", e, "%lld", (long long)r->memory_reservation)) < 0)
		return x;
	if (r->memory_swap == SPEC_MEM_UNLIMITED) {
		if ((x = write_at(d, "memory.swap.max", "max", e)) < 0 && x != -ENOENT)
			return x;
	} else if (r->memory_swap >= 0) {
		/* v1 swap is memory+swap; v2 memory.swap.max is swap alone */
		if (r->memory_limit >= 0 && no_limit)
			return err_setx(e, EINVAL, "linux.resources.memory.swap: a swap limit needs a memory limit");
		long long swap = r->memory_limit >= 0 ? r->memory_swap - r->memory_limit : r->memory_swap;
		if (swap < 0)
			return err_setx(e, EINVAL, "linux.resources.memory.swap: %lld is below the memory limit",
			                (long long)r->memory_swap);
		if ((x = writef_at(d, "memory.swap.max", e, "%lld", swap)) < 0 && x != -ENOENT)
			return x;
	}
	if (r->pids_limit && (x = r->pids_limit > 0 ? writef_at(d, "pids.max", e, "%lld", (long long)r->pids_limit)
	                                            : write_at(d, "pids.max", "max", e)) < 0)
		return x;
	if (r->cpu_shares) {
		unsigned long long w = 1 + ((r->cpu_shares - 2) * 9999) / 262142;
		if (r->cpu_shares < 2)
			w = 1;
		if (w > 10000)
			w = 10000;
		if ((x = writef_at(d, "cpu.weight", e, "%llu", w)) < 0)
			return x;
	}
	if (r->cpu_quota || r->cpu_period) {
		char q[32];
		if (r->cpu_quota > 0)
			snprintf(q, sizeof(q), "%lld", (long long)r->cpu_quota);
		else
			snprintf(q, sizeof(q), "max");
		if ((x = writef_at(d, "cpu.max", e, "%s %llu", q,
		                   (unsigned long long)(r->cpu_period ? r->cpu_period : 100000))) < 0)
			return x;
	}
	if (r->cpuset_cpus && *r->cpuset_cpus && (x = write_at(d, "cpuset.cpus", r->cpuset_cpus, e)) < 0)
		return x;
	if (r->cpuset_mems && *r->cpuset_mems && (x = write_at(d, "cpuset.mems", r->cpuset_mems, e)) < 0)
		return x;
	if (r->blkio_weight && (x = writef_at(d, "io.weight", e, "default %u", r->blkio_weight)) < 0 && x != -ENOENT)
		return x;
	const char *k;
	json_t *v;
	json_object_foreach(r->unified, k, v)
	{
		if (!json_is_string(v) || strchr(k, '/') || strstr(k, ".."))
			return err_setx(e, EINVAL, "linux.resources.unified.%s: invalid key or non-string value", k);
		if ((x = write_at(d, k, json_string_value(v), e)) < 0)
			return x;
	}
	if (n_devices && (x = bpfdev_apply(d, devices, n_devices, e)) < 0) {
		/* an unprivileged runtime cannot load it (as runc and crun, go on) */
		if (x == -EPERM && geteuid() != 0)
			return 0;
		err_prefix(e, "linux.resources.devices");
		return x;
	}
	return 0;
}

int cgroup_apply(const char *root, const char *path, const struct spec_resources *res, struct ros_err *e)
{
	if (!res)
		return 0;
	return cgroup_detect(root) == CGROUP_V2 ? apply_v2(root, path, res, e) : apply_v1(root, path, res, e);
}

/* The controllers of avail ("cpu io memory\n") that enabled (a
 * cgroup.subtree_control) lacks, as one write: "+cpu +memory". */
static size_t v2_missing_controllers(char *avail, const char *enabled, char *out, size_t size)
{
	size_t o = 0, n = 0;
	out[0] = '\0';
	for (char *s = avail, *c; (c = strsep(&s, " \n"));) {
		if (!*c)
			continue;
		bool on = false;
		size_t len = strlen(c);
		for (const char *p = enabled; p && (p = strstr(p, c)); p += len)
			if ((p == enabled || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\n' || !p[len])) {
				on = true;
				break;
			}
		if (on)
			continue;
		int w = snprintf(out + o, size - o, "%s+%s", o ? " " : "", c);
		if (w < 0 || (size_t)w >= size - o)
			break;
		o += (size_t)w;
		n++;
	}
	return n;
}

/* Enables every available controller for the children of each directory
 * on the way down to path (and makes the directories).  Only what is not
 * enabled yet is written, all in one write: each write to subtree_control
 * makes the kernel walk the subtree, which is most of a container's
 * cgroup set-up under emulation.  A write the kernel refuses as a whole
 * (a controller it cannot enable there) is retried one by one. */
static void v2_enable_controllers(const char *root, const char *path)
{
	char cur[PATH_MAX];
	snprintf(cur, sizeof(cur), "%s", root);
	const char *p = path;
	while (*p) {
		const char *slash = strchr(p + 1, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		cleanup_free char *avail = NULL, *enabled = NULL;
		char f[PATH_MAX + 32], sc[PATH_MAX + 32], want[1024];
		snprintf(f, sizeof(f), "%s/cgroup.controllers", cur);
		snprintf(sc, sizeof(sc), "%s/cgroup.subtree_control", cur);
		if (fs_read_all(f, 4096, &avail, NULL, NULL) == 0 &&
		    (fs_read_all(sc, 4096, &enabled, NULL, NULL) == 0 || !enabled) &&
		    v2_missing_controllers(avail, enabled, want, sizeof(want)) && fs_write_file(sc, want, NULL) < 0) {
			for (char *s = want, *c; (c = strsep(&s, " "));)
				if (*c)
					fs_write_file(sc, c, NULL);
		}
		size_t cl = strlen(cur);
		snprintf(cur + cl, sizeof(cur) - cl, "%.*s", (int)len, p);
		p += len;
		mkdir(cur, 0755);
	}
}

int cgroup_setup(const char *root, const char *path, const struct spec_resources *res, pid_t pid, struct ros_err *e)
{
	char d[PATH_MAX], v[32];
	snprintf(v, sizeof(v), "%d", (int)pid);
	int r;
	bool v2 = cgroup_detect(root) == CGROUP_V2;
	if (v2) {
		snprintf(d, sizeof(d), "%s%s", root, path);
		v2_enable_controllers(root, path);
		if ((r = fs_mkdir_p(d, 0755, e)) < 0)
			return r;
	} else {
		for (size_t i = 0; i < sizeof(v1_controllers) / sizeof(v1_controllers[0]); i++) {
			char base[PATH_MAX];
			snprintf(base, sizeof(base), "%s/%s", root, v1_controllers[i]);
			if (!is_dir(base))
				continue;
			snprintf(d, sizeof(d), "%s%s", base, path);
			if ((r = fs_mkdir_p(d, 0755, e)) < 0)
				goto fail;
			if (!strcmp(v1_controllers[i], "cpuset"))
				v1_cpuset_inherit(base, path);
		}
	}
	if (res && (r = v2 ? apply_v2(root, path, res, e) : apply_v1(root, path, res, e)) < 0)
		goto fail;
	if (v2) {
		snprintf(d, sizeof(d), "%s%s", root, path);
		if ((r = write_at(d, "cgroup.procs", v, e)) < 0)
			goto fail;
	} else {
		for (size_t i = 0; i < sizeof(v1_controllers) / sizeof(v1_controllers[0]); i++) {
			snprintf(d, sizeof(d), "%s/%s%s", root, v1_controllers[i], path);
			if (is_dir(d) && (r = write_at(d, "cgroup.procs", v, e)) < 0)
				goto fail;
		}
	}
	return 0;
fail:
	cgroup_destroy(root, path, NULL);
	return r;
}

static const char *freezer_dir(const char *root, const char *path, char *d, size_t size)
{
	if (cgroup_detect(root) == CGROUP_V2)
		snprintf(d, size, "%s%s", root, path);
	else
		snprintf(d, size, "%s/freezer%s", root, path);
	return d;
}

int cgroup_freeze(const char *root, const char *path, bool frozen, struct ros_err *e)
{
	char d[PATH_MAX];
	freezer_dir(root, path, d, sizeof(d));
	if (cgroup_detect(root) == CGROUP_V2)
		return write_at(d, "cgroup.freeze", frozen ? "1" : "0", e);
	int r = write_at(d, "freezer.state", frozen ? "FROZEN" : "THAWED", e);
	if (r < 0)
		return r;
	/* v1 freezing is asynchronous: wait until it settles */
	for (int i = 0; i < 200; i++) {
		int f = cgroup_is_frozen(root, path);
		if (f == (int)frozen)
			return 0;
		struct timespec ts = {0, 5000000};
		nanosleep(&ts, NULL);
		write_at(d, "freezer.state", frozen ? "FROZEN" : "THAWED", NULL);
	}
	return err_setx(e, ETIMEDOUT, "%s: freezer did not settle", d);
}

int cgroup_is_frozen(const char *root, const char *path)
{
	char d[PATH_MAX], f[PATH_MAX + 32];
	freezer_dir(root, path, d, sizeof(d));
	cleanup_free char *s = NULL;
	if (cgroup_detect(root) == CGROUP_V2) {
		snprintf(f, sizeof(f), "%s/cgroup.events", d);
		if (fs_read_all(f, 4096, &s, NULL, NULL) < 0)
			return -ENOENT;
		return strstr(s, "frozen 1") != NULL;
	}
	snprintf(f, sizeof(f), "%s/freezer.state", d);
	if (fs_read_all(f, 4096, &s, NULL, NULL) < 0)
		return -ENOENT;
	return !strncmp(s, "FROZEN", 6);
}

static const char *procs_dir(const char *root, const char *path, char *d, size_t size)
{
	if (cgroup_detect(root) == CGROUP_V2)
		snprintf(d, size, "%s%s", root, path);
	else if (is_dir(CGROUP_ROOT "/pids") || strcmp(root, CGROUP_ROOT) != 0)
		snprintf(d, size, "%s/pids%s", root, path);
	else
		snprintf(d, size, "%s/memory%s", root, path);
	return d;
}

int cgroup_pids(const char *root, const char *path, pid_t **pids, size_t *n, struct ros_err *e)
{
	char d[PATH_MAX], f[PATH_MAX + 32];
	procs_dir(root, path, d, sizeof(d));
	snprintf(f, sizeof(f), "%s/cgroup.procs", d);
	cleanup_free char *s = NULL;
	int r = fs_read_all(f, 1 << 20, &s, NULL, e);
	if (r < 0)
		return r;
	size_t cap = 16, k = 0;
	pid_t *out = malloc(cap * sizeof(pid_t));
	if (!out)
		return err_set(e, ENOMEM, "pids");
	for (char *p = s, *line; (line = strsep(&p, "\n"));) {
		if (!*line)
			continue;
		if (k == cap) {
			pid_t *np = realloc(out, (cap *= 2) * sizeof(pid_t));
			if (!np) {
				free(out);
				return err_set(e, ENOMEM, "pids");
			}
			out = np;
		}
		out[k++] = (pid_t)atoi(line);
	}
	*pids = out;
	*n = k;
	return 0;
}

int cgroup_kill_all(const char *root, const char *path, int sig, struct ros_err *e)
{
	pid_t *pids = NULL;
	size_t n = 0;
	int r = cgroup_pids(root, path, &pids, &n, e);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		kill(pids[i], sig);
	free(pids);
	return 0;
}

static int rmdir_retry(const char *d)
{
	for (int i = 0; i < 100; i++) {
		if (rmdir(d) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -errno;
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
	return -EBUSY;
}

int cgroup_destroy(const char *root, const char *path, struct ros_err *e)
{
	char d[PATH_MAX];
	int r = 0;
	if (cgroup_detect(root) == CGROUP_V2) {
		snprintf(d, sizeof(d), "%s%s", root, path);
		r = rmdir_retry(d);
	} else {
		for (size_t i = 0; i < sizeof(v1_controllers) / sizeof(v1_controllers[0]); i++) {
			snprintf(d, sizeof(d), "%s/%s%s", root, v1_controllers[i], path);
			int x = rmdir_retry(d);
			if (x < 0 && !r)
				r = x;
		}
	}
	return r < 0 ? err_set(e, r, "remove cgroup %s", path) : 0;
}
