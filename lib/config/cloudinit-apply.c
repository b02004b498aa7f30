/* SPDX-License-Identifier: MIT */
/* The cloud-config modules, applied to the merged config. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cloudinit.h"
#include "core/cleanup.h"
#include "core/fs.h"

#define ROS_USER "ros"
#define ROS_UID 1100

static const char *rp(char *buf, size_t size, const struct ci_opts *o, const char *abs)
{
	snprintf(buf, size, "%s%s", o->root ? o->root : "", abs);
	return buf;
}

/* ---- /etc/passwd and /etc/group under the root ---- */

struct pw_entry {
	char name[64];
	unsigned uid, gid;
	char home[256];
};

static bool pw_lookup(const struct ci_opts *o, const char *name, struct pw_entry *pw)
{
	char p[PATH_MAX];
	cleanup_fclose FILE *f = fopen(rp(p, sizeof(p), o, "/etc/passwd"), "re");
	if (!f)
		return false;
	char line[1024];
	while (fgets(line, sizeof(line), f)) {
		char *fields[7] = {0};
		char *s = line;
		for (int i = 0; i < 7 && s; i++)
			fields[i] = strsep(&s, ":\n");
		if (!fields[5] || strcmp(fields[0], name) != 0)
			continue;
		snprintf(pw->name, sizeof(pw->name), "%s", fields[0]);
		pw->uid = (unsigned)strtoul(fields[2], NULL, 10);
		pw->gid = (unsigned)strtoul(fields[3], NULL, 10);
		snprintf(pw->home, sizeof(pw->home), "%s", fields[5]);
		return true;
	}
	return false;
}

static bool gr_lookup(const struct ci_opts *o, const char *name, unsigned *gid)
{
	char p[PATH_MAX];
	cleanup_fclose FILE *f = fopen(rp(p, sizeof(p), o, "/etc/group"), "re");
	if (!f)
		return false;
	char line[4096];
	while (fgets(line, sizeof(line), f)) {
		char *s = line;
		char *gname = strsep(&s, ":");
		strsep(&s, ":");
		char *g = strsep(&s, ":");
		if (g && !strcmp(gname, name)) {
			*gid = (unsigned)strtoul(g, NULL, 10);
			return true;
		}
	}
	return false;
}

/* Resolves "user[:group]" (names or numbers) against the root's files. */
static int resolve_owner(const struct ci_opts *o, const char *owner, uid_t *uid, gid_t *gid, struct ros_err *e)
{
	char u[128], g[128] = "";
	snprintf(u, sizeof(u), "%s", owner);
	char *colon = strchr(u, ':');
	if (colon) {
		*colon = '\0';
		snprintf(g, sizeof(g), "%s", colon + 1);
	}
	char *end;
	unsigned long n = strtoul(u, &end, 10);
	struct pw_entry pw;
	if (*u && !*end) {
		*uid = (uid_t)n;
		*gid = (gid_t)n;
	} else if (pw_lookup(o, u, &pw)) {
		*uid = pw.uid;
		*gid = pw.gid;
	} else {
		return err_setx(e, ENOENT, "owner %s: no user '%s'", owner, u);
	}
	if (*g) {
		unsigned gv;
		n = strtoul(g, &end, 10);
		if (!*end)
			*gid = (gid_t)n;
		else if (gr_lookup(o, g, &gv))
			*gid = gv;
		else
			return err_setx(e, ENOENT, "owner %s: no group '%s'", owner, g);
	}
	return 0;
}

/* Appends a line to a root file (atomically: read, add, write). */
static int file_append_line(const struct ci_opts *o, const char *abs, const char *line, mode_t mode, struct ros_err *e)
{
	char p[PATH_MAX];
	rp(p, sizeof(p), o, abs);
	cleanup_free char *old = NULL;
	size_t len = 0;
	int r = fs_read_all(p, 1 << 20, &old, &len, e);
	if (r < 0 && r != -ENOENT)
		return r;
	size_t nl = strlen(line);
	cleanup_free char *buf = malloc(len + nl + 2);
	if (!buf)
		return err_set(e, ENOMEM, "%s", p);
	size_t o2 = 0;
	if (old && len) {
		memcpy(buf, old, len);
		o2 = len;
		if (buf[o2 - 1] != '\n')
			buf[o2++] = '\n';
	}
	memcpy(buf + o2, line, nl);
	o2 += nl;
	buf[o2++] = '\n';
	return fs_write_atomic(p, buf, o2, mode, e);
}

/* Adds user to the member list of group (creating the group). */
static int group_add_member(const struct ci_opts *o, const char *group, const char *user, struct ros_err *e)
{
	char p[PATH_MAX];
	rp(p, sizeof(p), o, "/etc/group");
	cleanup_free char *old = NULL;
	size_t len = 0;
	if (fs_read_all(p, 1 << 20, &old, &len, NULL) < 0) {
		old = strdup("");
		len = 0;
	}
	if (!old)
		return err_set(e, ENOMEM, "%s", p);
	size_t cap = len + strlen(group) + strlen(user) + 64;
	cleanup_free char *out = malloc(cap);
	if (!out)
		return err_set(e, ENOMEM, "%s", p);
	size_t o2 = 0;
	bool found = false;
	unsigned max_gid = 1000;
	for (char *s = old, *line; (line = strsep(&s, "\n"));) {
		if (!*line)
			continue;
		char copy[4096];
		snprintf(copy, sizeof(copy), "%s", line);
		char *c = copy;
		char *gname = strsep(&c, ":");
		strsep(&c, ":");
		char *gid = strsep(&c, ":");
		char *members = c ? c : (char *)"";
		if (gid && strtoul(gid, NULL, 10) >= max_gid && strtoul(gid, NULL, 10) < 60000)
			max_gid = (unsigned)strtoul(gid, NULL, 10) + 1;
		if (gname && !strcmp(gname, group)) {
			found = true;
			bool member = false;
			char mcopy[4096];
			snprintf(mcopy, sizeof(mcopy), "%s", members);
			for (char *m = mcopy, *tok; (tok = strsep(&m, ","));)
				member |= !strcmp(tok, user);
			if (!member) {
				o2 += (size_t)snprintf(out + o2, cap - o2, "%s%s%s\n", line, *members ? "," : "", user);
				continue;
			}
		}
		o2 += (size_t)snprintf(out + o2, cap - o2, "%s\n", line);
	}
	if (!found)
		o2 += (size_t)snprintf(out + o2, cap - o2, "%s:x:%u:%s\n", group, max_gid, user);
	return fs_write_atomic(p, out, o2, 0644, e);
}

static unsigned next_uid(const struct ci_opts *o)
{
	char p[PATH_MAX];
	cleanup_fclose FILE *f = fopen(rp(p, sizeof(p), o, "/etc/passwd"), "re");
	unsigned next = 1000;
	char line[1024];
	while (f && fgets(line, sizeof(line), f)) {
		char *s = line;
		strsep(&s, ":");
		strsep(&s, ":");
		char *u = strsep(&s, ":");
		unsigned long v = u ? strtoul(u, NULL, 10) : 0;
		if (v >= next && v < 60000)
			next = (unsigned)v + 1;
	}
	return next;
}

static int write_authorized_keys(const struct ci_opts *o, const struct pw_entry *pw, const struct cfg_node *keys,
                                 struct ros_err *e)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	snprintf(dir, sizeof(dir), "%s%s/.ssh", o->root ? o->root : "", pw->home);
	int r = fs_mkdir_p(dir, 0700, e);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/authorized_keys", dir);
	cleanup_free char *old = NULL;
	size_t len = 0;
	if (fs_read_all(path, 1 << 20, &old, &len, NULL) < 0)
		old = NULL, len = 0;
	size_t cap = len + 2;
	for (size_t i = 0; i < keys->list.n; i++)
		if (keys->list.items[i]->type == CFG_STRING)
			cap += strlen(keys->list.items[i]->s) + 1;
	cleanup_free char *buf = malloc(cap);
	if (!buf)
		return err_set(e, ENOMEM, "%s", path);
	size_t n = 0;
	if (old) {
		memcpy(buf, old, len);
		n = len;
		if (n && buf[n - 1] != '\n')
			buf[n++] = '\n';
	}
	for (size_t i = 0; i < keys->list.n; i++) {
		const struct cfg_node *k = keys->list.items[i];
		if (k->type != CFG_STRING)
			continue;
		buf[n] = '\0';
		if (strstr(buf, k->s))
			continue;
		n += (size_t)sprintf(buf + n, "%s\n", k->s);
	}
	r = fs_write_atomic(path, buf, n, 0600, e);
	if (r < 0)
		return r;
	if (chown(dir, pw->uid, pw->gid) < 0 || chown(path, pw->uid, pw->gid) < 0)
		return err_set(e, errno, "chown %s", path);
	return 0;
}

/* ---- commands ---- */

static int run_command(const struct ci_opts *o, const struct cfg_node *cmd, const char *key, struct ros_err *e)
{
	const char *argv_sh[] = {"/bin/sh", "-c", NULL, NULL};
	const char **argv = argv_sh;
	cleanup_free const char **list = NULL;
	if (cmd->type == CFG_STRING) {
		argv_sh[2] = cmd->s;
	} else if (cmd->type == CFG_LIST && cmd->list.n > 0) {
		list = calloc(cmd->list.n + 1, sizeof(char *));
		if (!list)
			return err_set(e, ENOMEM, "%s", key);
		char buf[64];
		for (size_t i = 0; i < cmd->list.n; i++) {
			list[i] = cfg_scalar_text(cmd->list.items[i], buf, sizeof(buf));
			if (!list[i] || cmd->list.items[i]->type != CFG_STRING) {
				if (cmd->list.items[i]->type == CFG_MAP || cmd->list.items[i]->type == CFG_LIST)
					return err_setx(e, EINVAL, "%s[%zu]: expected a string", key, i);
				list[i] = strdup(list[i]); /* numbers as text; leaks only in this short-lived child */
			}
		}
		argv = list;
	} else {
		return err_setx(e, EINVAL, "%s: expected a string or a non-empty list", key);
	}
	pid_t pid = fork();
	if (pid < 0)
		return err_set(e, errno, "%s: fork", key);
	if (pid == 0) {
		if (o->root && *o->root)
			setenv("ROS_ROOT", o->root, 1);
		execvp(argv[0], (char *const *)(uintptr_t)argv);
		fprintf(stderr, "%s: %s: %m\n", key, argv[0]);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return err_set(e, errno, "%s: wait", key);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st))
		return err_setx(e, EIO, "%s: %s exited with status %d", key, argv[0], WEXITSTATUS(st));
	return err_setx(e, EIO, "%s: %s killed by signal %d", key, argv[0], WTERMSIG(st));
}

/* ---- modules ---- */

typedef int (*module_fn)(const struct ci_opts *o, const struct cfg_node *cfg, struct cfg_diag *d);

static int mod_commands(const struct ci_opts *o, const struct cfg_node *cfg, struct cfg_diag *d, const char *name)
{
	const struct cfg_node *l = cfg_get(cfg, name);
	if (!l)
		return 0;
	if (l->type != CFG_LIST) {
		cfg_diag_add(d, true, "%s: expected a list, got %s", name, cfg_type_name(l->type));
		return 1;
	}
	int failed = 0;
	for (size_t i = 0; i < l->list.n; i++) {
		char key[64];
		snprintf(key, sizeof(key), "%s[%zu]", name, i);
		struct ros_err e = {0};
		if (run_command(o, l->list.items[i], key, &e) < 0) {
			cfg_diag_add(d, true, "%s", err_msg(&e));
			failed = 1;
		}
	}
	return failed;
}

static int mod_bootcmd(const struct ci_opts *o, const struct cfg_node *cfg, struct cfg_diag *d)
{
	return mod_commands(o, cfg, d, "bootcmd");
}

static int mod_runcmd(const struct ci_opts *o, const struct cfg_node *cfg, struct cfg_diag *d)
{
	return mod_commands(o, cfg, d, "runcmd");
}

static int mod_script(const struct ci_opts *o, const struct cfg_node *cfg, struct cfg_diag *d)
{
	char p[PATH_MAX];
	if (access(rp(p, sizeof(p), o, CI_PATH_SCRIPT), F_OK) < 0)
		return 0;
	struct cfg_node *cmd = cfg_new(CFG_LIST);
	cfg_list_append(cmd, cfg_new_string(p));
	struct ros_err e = {0};
	int r = run_command(o, cmd, "user-data script", &e);
	cfg_free(cmd);
	if (r < 0)
		cfg_diag_add(d, true, "%s", err_msg(&e));
	return r < 0;
}

static int mod_hostname(const struct ci_opts *o, const struct cfg_node *cfg, struct cfg_diag *d)
{
	const char *h = cfg_get_string(cfg, "hostname", cfg_get_string(cfg, "ros.hostname", NULL));
	if (!h)
		return 0;
	size_t l = strlen(h);
	if (l == 0 || l > 63 || strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") != l) {
		cfg_diag_add(d, true, "hostname: \"%s\" is not a valid host name", h);
		return 1;
	}
	char p[PATH_MAX], line[128];
	struct ros_err e = {0};
	int n = snprintf(line, sizeof(line), "%s\n", h);
	fs_mkdir_p(rp(p, sizeof(p), o, "/etc"), 0755, NULL);
	if (fs_write_atomic(rp(p, sizeof(p), o, "/etc/hostname"), line, (size_t)n, 0644, &e) < 0) {
		cfg_diag_add(d, true, "hostname: %s", err_msg(&e));
		return 1;
	}
	if ((!o->root || !*o->root) && sethostname(h, l) < 0) {
		cfg_diag_add(d, true, "hostname: sethostname %s: %m", h);
		return 1;
	}
	return 0;
}

static int mod_write_files(const struct ci_opts *o, const struct cfg_node *cfg, struct cfg_diag *d)
{
	const struct cfg_node *l = cfg_get(cfg, "write_files");
	if (!l || l->type != CFG_LIST)
		return 0;
	int failed = 0;
	for (size_t i = 0; i < l->list.n; i++) {
		const struct cfg_node *f = l->list.items[i];
		struct ros_err e = {0};
		const char *path = cfg_get_string(f, "path", NULL);
		if (!path || path[0] != '/') {
			cfg_diag_add(d, true, "write_files[%zu].path: required, and must be absolute", i);
			failed = 1;
			continue;
		}
		if (strstr(path, "/../") || (strlen(path) >= 3 && !strcmp(path + strlen(path) - 3, "/.."))) {
			cfg_diag_add(d, true, "write_files[%zu].path: %s contains '..'", i, path);
			failed = 1;
			continue;
		}
		const char *content = cfg_get_string(f, "content", "");
		const char *enc = cfg_get_string(f, "encoding", NULL);
		cleanup_free char *data = NULL;
		size_t len = 0;
		if (ci_decode_content(content, enc, &data, &len, &e) < 0) {
			cfg_diag_add(d, true, "write_files[%zu].content (%s): %s", i, path, err_msg(&e));
			failed = 1;
			continue;
		}
		mode_t mode = 0644;
		const struct cfg_node *perm = cfg_get(f, "permissions");
		if (perm) {
			char buf[32];
			const char *t = cfg_scalar_text(perm, buf, sizeof(buf));
			char *end;
			unsigned long m = t ? strtoul(t, &end, 8) : 0;
			if (!t || *end || m > 07777 || (perm->type != CFG_STRING && perm->type != CFG_INT)) {
				cfg_diag_add(d, true, "write_files[%zu].permissions: \"%s\" is not an octal mode", i,
				             t ? t : "?");
				failed = 1;
				continue;
			}
			mode = (mode_t)m;
		}
		char full[PATH_MAX], dir[PATH_MAX];
		rp(full, sizeof(full), o, path);
		snprintf(dir, sizeof(dir), "%s", full);
		*strrchr(dir, '/') = '\0';
		if (*dir && fs_mkdir_p(dir, 0755, &e) < 0) {
			cfg_diag_add(d, true, "write_files[%zu]: %s", i, err_msg(&e));
			failed = 1;
			continue;
		}
		int r;
		if (cfg_get_bool(f, "append", false)) {
			cleanup_close int fd = open(full, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode);
			r = fd < 0 ? err_set(&e, errno, "open %s", full) : fs_write_all(fd, data, len);
			if (r < 0 && !e.code)
				err_set(&e, r, "write %s", full);
		} else {
			r = fs_write_atomic(full, data, len, mode, &e);
		}
		if (r >= 0) {
			const char *owner = cfg_get_string(f, "owner", NULL);
			uid_t uid = 0;
			gid_t gid = 0;
			if (owner && (r = resolve_owner(o, owner, &uid, &gid, &e)) == 0 && lchown(full, uid, gid) < 0)
				r = err_set(&e, errno, "chown %s", full);
		}
		if (r < 0) {
			cfg_diag_add(d, true, "write_files[%zu] (%s): %s", i, path, err_msg(&e));
			failed = 1;
		}
	}
	return failed;
}

static int ensure_user(const struct ci_opts *o, const char *name, const struct cfg_node *u, struct pw_entry *pw,
                       struct ros_err *e)
{
	if (pw_lookup(o, name, pw))
		return 0;
	unsigned uid = u && cfg_get(u, "uid") ? (unsigned)cfg_get_int(u, "uid", 0)
	                                      : (!strcmp(name, ROS_USER) ? ROS_UID : next_uid(o));
	const char *shell = u ? cfg_get_string(u, "shell", "/bin/sh") : "/bin/sh";
	const char *gecos = u ? cfg_get_string(u, "gecos", "") : "";
	char home[300];
	snprintf(home, sizeof(home), "%s", u ? cfg_get_string(u, "homedir", "") : "");
	if (!*home)
		snprintf(home, sizeof(home), "/home/%s", name);
	char line[1024];
	snprintf(line, sizeof(line), "%s:x:%u:%u:%s:%s:%s", name, uid, uid, gecos, home, shell);
	int r = file_append_line(o, "/etc/passwd", line, 0644, e);
	if (r < 0)
		return r;
	snprintf(line, sizeof(line), "%s:x:%u:", name, uid);
	unsigned g;
	if (!gr_lookup(o, name, &g) && (r = file_append_line(o, "/etc/group", line, 0644, e)) < 0)
		return r;
	const char *hash = u ? cfg_get_string(u, "passwd", NULL) : NULL;
	bool lock = u ? cfg_get_bool(u, "lock_passwd", true) : true;
	snprintf(line, sizeof(line), "%s:%s:19000:0:99999:7:::", name, (lock || !hash) ? "!" : hash);
	if ((r = file_append_line(o, "/etc/shadow", line, 0600, e)) < 0)
		return r;
	char hp[PATH_MAX];
	rp(hp, sizeof(hp), o, home);
	if ((r = fs_mkdir_p(hp, 0755, e)) < 0)
		return r;
	chmod(hp, 0700);
	if (chown(hp, uid, uid) < 0)
		return err_set(e, errno, "chown %s", hp);
	return pw_lookup(o, name, pw) ? 0 : err_setx(e, EIO, "user %s was not added", name);
}

static int mod_users(const struct ci_opts *o, const struct cfg_node *cfg, struct cfg_diag *d)
{
	const struct cfg_node *l = cfg_get(cfg, "users");
	if (!l || l->type != CFG_LIST)
		return 0;
	int failed = 0;
	for (size_t i = 0; i < l->list.n; i++) {
		const struct cfg_node *u = l->list.items[i];
		const char *name = u->type == CFG_STRING ? u->s : cfg_get_string(u, "name", NULL);
		if (u->type == CFG_STRING && !strcmp(u->s, "default"))
			continue;
		if (!name || !*name || strpbrk(name, ":/\n ")) {
			cfg_diag_add(d, true, "users[%zu].name: required, without ':' '/' or spaces", i);
			failed = 1;
			continue;
		}
		const struct cfg_node *spec = u->type == CFG_MAP ? u : NULL;
		struct pw_entry pw;
		struct ros_err e = {0};
		int r = ensure_user(o, name, spec, &pw, &e);
		const struct cfg_node *groups = spec ? cfg_get(spec, "groups") : NULL;
		if (r >= 0 && groups) {
			char tmp[1024];
			if (groups->type == CFG_STRING) {
				snprintf(tmp, sizeof(tmp), "%s", groups->s);
				for (char *s = tmp, *g; r >= 0 && (g = strsep(&s, ", "));)
					if (*g)
						r = group_add_member(o, g, name, &e);
			} else if (groups->type == CFG_LIST) {
				for (size_t k = 0; r >= 0 && k < groups->list.n; k++)
					if (groups->list.items[k]->type == CFG_STRING)
						r = group_add_member(o, groups->list.items[k]->s, name, &e);
			}
		}
		const struct cfg_node *keys = spec ? cfg_get(spec, "ssh_authorized_keys") : NULL;
		if (r >= 0 && keys && keys->type == CFG_LIST)
			r = write_authorized_keys(o, &pw, keys, &e);
		const struct cfg_node *sudo = spec ? cfg_get(spec, "sudo") : NULL;
		if (r >= 0 && sudo && !(sudo->type == CFG_BOOL && !sudo->b)) {
			char line[512];
			snprintf(line, sizeof(line), "%s %s", name,
			         sudo->type == CFG_STRING ? sudo->s : "ALL=(ALL) NOPASSWD:ALL");
			char p[PATH_MAX];
			fs_mkdir_p(rp(p, sizeof(p), o, "/etc/sudoers.d"), 0750, NULL);
			r = file_append_line(o, "/etc/sudoers.d/90-cloud-init-users", line, 0440, &e);
		}
		if (r < 0) {
			cfg_diag_add(d, true, "users[%zu] (%s): %s", i, name, err_msg(&e));
			failed = 1;
		}
	}
	return failed;
}

static int mod_ssh_keys(const struct ci_opts *o, const struct cfg_node *cfg, struct cfg_diag *d)
{
	const struct cfg_node *keys = cfg_get(cfg, "ssh_authorized_keys");
	if (!keys || keys->type != CFG_LIST || keys->list.n == 0)
		return 0;
	struct pw_entry pw;
	struct ros_err e = {0};
	if (ensure_user(o, ROS_USER, NULL, &pw, &e) < 0 || write_authorized_keys(o, &pw, keys, &e) < 0) {
		cfg_diag_add(d, true, "ssh_authorized_keys: %s", err_msg(&e));
		return 1;
	}
	return 0;
}

static unsigned long mount_flags(const char *opts, char *data, size_t size)
{
	static const struct {
		const char *name;
		unsigned long set, clear;
	} known[] = {{"ro", MS_RDONLY, 0},
	             {"rw", 0, MS_RDONLY},
	             {"nosuid", MS_NOSUID, 0},
	             {"nodev", MS_NODEV, 0},
	             {"noexec", MS_NOEXEC, 0},
	             {"noatime", MS_NOATIME, 0},
	             {"relatime", MS_RELATIME, 0},
	             {"bind", MS_BIND, 0},
	             {"defaults", 0, 0},
	             {"auto", 0, 0},
	             {"nofail", 0, 0},
	             {"sync", MS_SYNCHRONOUS, 0}};
	unsigned long flags = 0;
	char copy[1024];
	snprintf(copy, sizeof(copy), "%s", opts ? opts : "");
	data[0] = '\0';
	for (char *s = copy, *t; (t = strsep(&s, ","));) {
		if (!*t)
			continue;
		size_t k;
		for (k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (!strcmp(t, known[k].name)) {
				flags = (flags | known[k].set) & ~known[k].clear;
				break;
			}
		if (k == sizeof(known) / sizeof(known[0])) {
			size_t l = strlen(data);
			snprintf(data + l, size - l, "%s%s", l ? "," : "", t);
		}
	}
	return flags;
}

static int mod_mounts(const struct ci_opts *o, const struct cfg_node *cfg, struct cfg_diag *d)
{
	const struct cfg_node *l = cfg_get(cfg, "mounts");
	if (!l || l->type != CFG_LIST)
		return 0;
	int failed = 0;
	for (size_t i = 0; i < l->list.n; i++) {
		const struct cfg_node *m = l->list.items[i];
		const char *f[4] = {NULL, NULL, "auto", "defaults"};
		for (size_t k = 0; m->type == CFG_LIST && k < m->list.n && k < 4; k++)
			if (m->list.items[k]->type == CFG_STRING)
				f[k] = m->list.items[k]->s;
		if (!f[0] || !f[1]) {
			cfg_diag_add(d, true, "mounts[%zu]: expected [device, mountpoint, fstype, options]", i);
			failed = 1;
			continue;
		}
		if (!strcmp(f[2], "swap") || !strcmp(f[1], "none") || !strcmp(f[1], "swap")) {
			/* a swap file lives in the tree; a device is the machine's */
			char swap[PATH_MAX];
			if (strncmp(f[0], "/dev/", 5))
				rp(swap, sizeof(swap), o, f[0]);
			else
				snprintf(swap, sizeof(swap), "%s", f[0]);
			if (swapon(swap, 0) < 0 && errno != EBUSY) {
				cfg_diag_add(d, true, "mounts[%zu]: swapon %s: %m", i, f[0]);
				failed = 1;
			}
			continue;
		}
		char target[PATH_MAX], data[1024];
		rp(target, sizeof(target), o, f[1]);
		unsigned long flags = mount_flags(f[3], data, sizeof(data));
		struct ros_err e = {0};
		if (fs_mkdir_p(target, 0755, &e) < 0) {
			cfg_diag_add(d, true, "mounts[%zu]: %s", i, err_msg(&e));
			failed = 1;
			continue;
		}
		const char *type = strcmp(f[2], "auto") ? f[2] : NULL;
		int r = -1;
		if (type)
			r = mount(f[0], target, type, flags, *data ? data : NULL);
		else {
			static const char *const guess[] = {"ext4", "xfs", "vfat", "iso9660", "btrfs"};
			for (size_t k = 0; k < sizeof(guess) / sizeof(guess[0]) && r < 0; k++)
				r = mount(f[0], target, guess[k], flags, *data ? data : NULL);
		}
		if (r < 0) {
			cfg_diag_add(d, true, "mounts[%zu]: mount %s on %s (%s): %m", i, f[0], f[1], f[2]);
			failed = 1;
		}
	}
	return failed;
}

static int mod_sysctl(const struct ci_opts *o, const struct cfg_node *cfg, struct cfg_diag *d)
{
	const struct cfg_node *m = cfg_get(cfg, "ros.sysctl");
	if (!m || m->type != CFG_MAP)
		return 0;
	int failed = 0;
	for (size_t i = 0; i < m->map.n; i++) {
		const char *k = m->map.keys[i];
		char rel[512], p[PATH_MAX], buf[64];
		snprintf(rel, sizeof(rel), "/proc/sys/%s", k);
		for (char *c = rel + 10; *c; c++)
			if (*c == '.')
				*c = '/';
		const char *v = cfg_scalar_text(m->map.vals[i], buf, sizeof(buf));
		struct ros_err e = {0};
		if (strstr(k, "..") || strchr(k, '/') || !v || fs_write_file(rp(p, sizeof(p), o, rel), v, &e) < 0) {
			cfg_diag_add(d, true, "ros.sysctl.%s: %s", k, e.code ? err_msg(&e) : "invalid key or value");
			failed = 1;
		}
	}
	return failed;
}

static int mod_modules(const struct ci_opts *o, const struct cfg_node *cfg, struct cfg_diag *d)
{
	const struct cfg_node *l = cfg_get(cfg, "ros.modules");
	if (!l || l->type != CFG_LIST)
		return 0;
	int failed = 0;
	for (size_t i = 0; i < l->list.n; i++) {
		char key[64];
		snprintf(key, sizeof(key), "ros.modules[%zu]", i);
		if (l->list.items[i]->type != CFG_STRING) {
			cfg_diag_add(d, true, "%s: expected a module name", key);
			failed = 1;
			continue;
		}
		struct cfg_node *cmd = cfg_new(CFG_LIST);
		cfg_list_append(cmd, cfg_new_string("modprobe"));
		/* "name param=value ..." */
		char copy[512];
		snprintf(copy, sizeof(copy), "%s", l->list.items[i]->s);
		for (char *s = copy, *t; (t = strsep(&s, " "));)
			if (*t)
				cfg_list_append(cmd, cfg_new_string(t));
		struct ros_err e = {0};
		if (run_command(o, cmd, key, &e) < 0) {
			cfg_diag_add(d, true, "%s", err_msg(&e));
			failed = 1;
		}
		cfg_free(cmd);
	}
	return failed;
}

static int mod_environment(const struct ci_opts *o, const struct cfg_node *cfg, struct cfg_diag *d)
{
	const struct cfg_node *m = cfg_get(cfg, "ros.environment");
	if (!m || m->type != CFG_MAP)
		return 0;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return 1;
	for (size_t i = 0; i < m->map.n; i++) {
		char tmp[64];
		const char *v = cfg_scalar_text(m->map.vals[i], tmp, sizeof(tmp));
		fprintf(f, "%s=\"", m->map.keys[i]);
		for (const char *c = v ? v : ""; *c; c++)
			fprintf(f, "%s%c", (*c == '"' || *c == '\\' || *c == '$' || *c == '`') ? "\\" : "", *c);
		fprintf(f, "\"\n");
	}
	fclose(f);
	char p[PATH_MAX];
	struct ros_err e = {0};
	fs_mkdir_p(rp(p, sizeof(p), o, "/etc"), 0755, NULL);
	/* 0600: the environment may carry tokens; sysctr passes it on to services */
	int r = fs_write_atomic(rp(p, sizeof(p), o, "/etc/environment"), buf, len, 0600, &e);
	free(buf);
	if (r < 0) {
		cfg_diag_add(d, true, "ros.environment: %s", err_msg(&e));
		return 1;
	}
	return 0;
}

static int mod_timezone(const struct ci_opts *o, const struct cfg_node *cfg, struct cfg_diag *d)
{
	const char *tz = cfg_get_string(cfg, "timezone", NULL);
	if (!tz)
		return 0;
	char zone[PATH_MAX], p[PATH_MAX], rel[PATH_MAX];
	snprintf(rel, sizeof(rel), "/usr/share/zoneinfo/%s", tz);
	if (strstr(tz, "..") || access(rp(zone, sizeof(zone), o, rel), R_OK) < 0) {
		cfg_diag_add(d, true, "timezone: unknown time zone \"%s\" (no %s)", tz, rel);
		return 1;
	}
	rp(p, sizeof(p), o, "/etc/localtime");
	unlink(p);
	struct ros_err e = {0};
	char line[256];
	int n = snprintf(line, sizeof(line), "%s\n", tz);
	if (symlink(rel, p) < 0 ||
	    fs_write_atomic(rp(p, sizeof(p), o, "/etc/timezone"), line, (size_t)n, 0644, &e) < 0) {
		cfg_diag_add(d, true, "timezone: %s", e.code ? err_msg(&e) : "cannot link /etc/localtime");
		return 1;
	}
	return 0;
}

static const struct ci_module {
	const char *name;
	enum ci_stage stage;
	bool once; /* once per instance; else every boot */
	module_fn fn;
} modules[] = {
        {"bootcmd", CI_STAGE_EARLY, false, mod_bootcmd},
        {"hostname", CI_STAGE_EARLY, false, mod_hostname},
        {"timezone", CI_STAGE_EARLY, false, mod_timezone},
        {"sysctl", CI_STAGE_EARLY, false, mod_sysctl},
        {"modules", CI_STAGE_EARLY, false, mod_modules},
        {"environment", CI_STAGE_EARLY, false, mod_environment},
        {"mounts", CI_STAGE_EARLY, false, mod_mounts},
        {"users", CI_STAGE_EARLY, true, mod_users},
        {"ssh_authorized_keys", CI_STAGE_EARLY, true, mod_ssh_keys},
        {"write_files", CI_STAGE_EARLY, true, mod_write_files},
        {"runcmd", CI_STAGE_LATE, true, mod_runcmd},
        {"scripts_user", CI_STAGE_LATE, true, mod_script},
};

int ci_apply(const struct ci_opts *o, enum ci_stage stage, struct cfg_diag *d)
{
	struct cfg_node *cfg = NULL;
	struct ros_err e = {0};
	/* cloud-init is the boot step: a bad layer is set aside here. */
	if (cfg_load_merged(o->root, o->cmdline, CFG_LOAD_BOOT, &cfg, d, &e) < 0) {
		cfg_diag_add(d, true, "config: %s", err_msg(&e));
		return 1;
	}
	char p[PATH_MAX], iid[128] = "default";
	cleanup_free char *id = NULL;
	if (fs_read_all(rp(p, sizeof(p), o, CI_DIR_STATE "/instance-id"), 256, &id, NULL, NULL) == 0 && *id &&
	    !strpbrk(id, "/\n"))
		snprintf(iid, sizeof(iid), "%s", id);
	fs_mkdir_p(rp(p, sizeof(p), o, CI_DIR_STATE "/sem"), 0700, NULL);

	int failed = 0;
	char *status = NULL;
	size_t sl = 0;
	FILE *st = open_memstream(&status, &sl);
	if (!st) {
		cfg_free(cfg);
		return 1;
	}
	for (size_t i = 0; i < sizeof(modules) / sizeof(modules[0]); i++) {
		const struct ci_module *m = &modules[i];
		if (!(m->stage & stage))
			continue;
		char sem[PATH_MAX], rel[512];
		snprintf(rel, sizeof(rel), CI_DIR_STATE "/sem/%s.%s", m->name, iid);
		rp(sem, sizeof(sem), o, rel);
		if (m->once && !o->force && access(sem, F_OK) == 0) {
			fprintf(st, "%s skipped (done for instance %s)\n", m->name, iid);
			continue;
		}
		int r = m->fn(o, cfg, d);
		failed += r != 0;
		fprintf(st, "%s %s\n", m->name, r ? "failed" : "ok");
		/* A once-per-instance step is not retried on reboot even when it
		 * failed: it may have half-applied; --force runs it again. */
		if (m->once)
			fs_write_atomic(sem, "", 0, 0600, NULL);
	}
	char rel[512];
	snprintf(rel, sizeof(rel), CI_DIR_STATE "/status-%s", stage == CI_STAGE_LATE ? "late" : "early");
	fclose(st);
	fs_write_atomic(rp(p, sizeof(p), o, rel), status, sl, 0600, NULL);
	free(status);
	cfg_free(cfg);
	return failed;
}
