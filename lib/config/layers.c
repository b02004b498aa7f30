/* SPDX-License-Identifier: MIT */
/*
 * The machine config: layers merged lowest first, each validated; a bad
 * writable layer falls back to its last good copy, so a broken YAML file
 * never keeps the machine from booting to a console.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "core/cleanup.h"
#include "core/fs.h"

/* ---- kernel command line ---- */

struct cfg_node *cfg_parse_value(const char *v, const char *origin, struct ros_err *e)
{
	if (!*v)
		return cfg_new_string("");
	if (!strchr("[{\"'", v[0]))
		return cfg_resolve_plain(v);
	/* Flow collections and quoted scalars: parse as the value of a map. */
	size_t len = strlen(v) + 4;
	cleanup_free char *doc = malloc(len);
	if (!doc)
		return NULL;
	snprintf(doc, len, "v: %s", v);
	struct cfg_node *m = NULL;
	if (cfg_parse_yaml(doc, strlen(doc), origin, &m, e) < 0)
		return NULL;
	struct cfg_node *val = cfg_map_get(m, "v");
	struct cfg_node *c = val ? cfg_copy(val) : cfg_new(CFG_NULL);
	cfg_free(m);
	if (c)
		c->file = NULL;
	return c;
}

int cfg_parse_cmdline(const char *cmdline, struct cfg_node **out, struct cfg_diag *d, struct ros_err *e)
{
	struct cfg_node *root = cfg_new(CFG_MAP);
	if (!root)
		return err_set(e, ENOMEM, "cmdline");
	const char *p = cmdline;
	char tok[4096];
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		size_t n = 0;
		bool quoted = false;
		for (; *p && (quoted || (*p != ' ' && *p != '\t' && *p != '\n')); p++) {
			if (*p == '"')
				quoted = !quoted;
			if (n + 1 < sizeof(tok))
				tok[n++] = *p;
		}
		tok[n] = '\0';
		if (!strcmp(tok, "--")) {
			while (*p == ' ' || *p == '\t')
				p++;
			size_t l = strlen(p);
			while (l && (p[l - 1] == '\n' || p[l - 1] == ' '))
				l--;
			cleanup_free char *extra = strndup(p, l);
			struct cfg_node *v = extra ? cfg_new_string(extra) : NULL;
			struct ros_err se = {0};
			if (!v || cfg_set(root, "ros.environment.EXTRA_CMDLINE", v, &se) < 0)
				cfg_free(v);
			break;
		}
		const char *key = tok;
		char *eq = strchr(tok, '=');
		char keybuf[4096];
		if (!strncmp(tok, "cloud-config-url=", 17)) {
			key = "ros.cloud_config_url";
			eq = tok + 16;
		} else if (strncmp(tok, "ros.", 4) != 0) {
			continue;
		}
		struct ros_err ve = {0};
		struct cfg_node *v;
		if (eq) {
			snprintf(keybuf, sizeof(keybuf), "%.*s", (int)(eq - tok), tok);
			if (key == tok)
				key = keybuf;
			v = cfg_parse_value(eq + 1, "cmdline", &ve);
		} else {
			v = cfg_new_bool(true);
		}
		if (!v) {
			cfg_diag_add(d, true, "kernel command line: %s: %s", key, ve.code ? ve.msg : "out of memory");
			continue;
		}
		v->file = NULL;
		if (cfg_set(root, key, v, &ve) < 0) {
			cfg_free(v);
			cfg_diag_add(d, true, "kernel command line: %s", ve.msg);
		}
	}
	*out = root;
	return 0;
}

/* ---- layers ---- */

static const char *rooted(char *buf, size_t size, const char *root, const char *abs)
{
	snprintf(buf, size, "%s%s", root ? root : "", abs);
	return buf;
}

/* The good copy of a writable layer: conf/.good/<path relative to conf, '/' -> '_'>. */
static void good_path(char *buf, size_t size, const char *root, const char *layer_abs)
{
	const char *rel = layer_abs + strlen(CFG_DIR_CONF) + 1;
	char name[NAME_MAX + 1];
	snprintf(name, sizeof(name), "%.*s", NAME_MAX, rel);
	for (char *c = name; *c; c++)
		if (*c == '/')
			*c = '_';
	snprintf(buf, size, "%s%s/.good/%s", root ? root : "", CFG_DIR_CONF, name);
}

static int save_good(const char *root, const char *layer_abs, const char *data, size_t len, struct ros_err *e)
{
	char gp[PATH_MAX], dir[PATH_MAX];
	good_path(gp, sizeof(gp), root, layer_abs);
	snprintf(dir, sizeof(dir), "%s%s/.good", root ? root : "", CFG_DIR_CONF);
	int r = fs_mkdir_p(dir, 0700, e);
	if (r < 0)
		return r;
	cleanup_free char *old = NULL;
	size_t olen = 0;
	if (fs_read_all(gp, CFG_MAX_FILE_SIZE, &old, &olen, NULL) == 0 && olen == len && !memcmp(old, data, len))
		return 0;
	return fs_write_atomic(gp, data, len, 0600, e);
}

/* Parses and validates one file's text. */
static int parse_layer(const char *path, const char *buf, size_t len, struct cfg_node **out, struct cfg_diag *d,
                       struct ros_err *e)
{
	if (memchr(buf, '\0', len))
		return err_setx(e, EINVAL, "%s: contains a NUL byte; not a YAML text file", path);
	struct cfg_node *n = NULL;
	int r = cfg_parse_yaml(buf, len, path, &n, e);
	if (r < 0)
		return r;
	struct cfg_diag local = {0};
	size_t errors = cfg_validate(n, false, &local);
	for (size_t i = 0; i < local.n; i++) {
		if (errors && local.items[i].error && !e->code)
			err_setx(e, EINVAL, "%s", local.items[i].msg);
		cfg_diag_add(d, local.items[i].error, "%s", local.items[i].msg);
	}
	cfg_diag_free(&local);
	if (errors) {
		cfg_free(n);
		return -EINVAL;
	}
	*out = n;
	return 0;
}

static void set_aside(const char *path, const char *reason, struct cfg_diag *d)
{
	char bad[PATH_MAX + 16], why[PATH_MAX + 32];
	snprintf(bad, sizeof(bad), "%s.rejected", path);
	snprintf(why, sizeof(why), "%s.rejected.reason", path);
	if (rename(path, bad) < 0) {
		cfg_diag_add(d, true, "%s: cannot set aside: %m", path);
		return;
	}
	char msg[2048];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	char when[32];
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	int n = snprintf(msg, sizeof(msg), "%s rejected at boot: %s\n", when, reason);
	fs_write_atomic(why, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1, 0600, NULL);
}

static int load_layer(struct cfg_node *tree, const char *root, const char *abs, bool writable, unsigned flags,
                      struct cfg_diag *d)
{
	char path[PATH_MAX];
	rooted(path, sizeof(path), root, abs);
	cleanup_free char *buf = NULL;
	size_t len = 0;
	struct ros_err e = {0};
	int r = fs_read_all(path, CFG_MAX_FILE_SIZE, &buf, &len, &e);
	if (r == -ENOENT)
		return 0;
	struct cfg_node *n = NULL;
	if (r >= 0)
		r = parse_layer(path, buf, len, &n, d, &e);
	if (r >= 0) {
		if (writable && (flags & CFG_LOAD_BOOT))
			save_good(root, abs, buf, len, NULL);
		cfg_merge(tree, n);
		cfg_free(n);
		return 0;
	}
	/* Bad layer: report, set aside at boot, fall back to the good copy. */
	if (!writable) {
		cfg_diag_add(d, true, "%s: layer ignored: %s", path, err_msg(&e));
		return 0;
	}
	char gp[PATH_MAX];
	good_path(gp, sizeof(gp), root, abs);
	cleanup_free char *good = NULL;
	size_t glen = 0;
	bool have_good = fs_read_all(gp, CFG_MAX_FILE_SIZE, &good, &glen, NULL) == 0;
	cfg_diag_add(d, true, "%s: rejected (%s); %s", path, err_msg(&e),
	             have_good ? "using the last good copy" : "no good copy, layer skipped");
	if (flags & CFG_LOAD_BOOT) {
		set_aside(path, err_msg(&e), d);
		if (have_good)
			fs_write_atomic(path, good, glen, 0600, NULL);
	}
	if (have_good) {
		struct cfg_diag ignore = {0};
		struct ros_err ge = {0};
		if (parse_layer(path, good, glen, &n, &ignore, &ge) == 0) {
			cfg_merge(tree, n);
			cfg_free(n);
		}
		cfg_diag_free(&ignore);
	}
	return 0;
}

static int yml_filter(const struct dirent *de)
{
	size_t l = strlen(de->d_name);
	return de->d_name[0] != '.' && l > 4 && !strcmp(de->d_name + l - 4, ".yml");
}

int cfg_load_merged(const char *root, const char *cmdline, unsigned flags, struct cfg_node **out, struct cfg_diag *d,
                    struct ros_err *e)
{
	/* layer 0: the schema's defaults, so a missing or broken image layer
	 * still leaves every key ros needs */
	struct cfg_node *tree = cfg_schema_defaults();
	if (!tree)
		return err_set(e, ENOMEM, "config");
	load_layer(tree, root, CFG_PATH_IMAGE, false, flags, d);
	load_layer(tree, root, CFG_PATH_OEM, false, flags, d);

	char dir[PATH_MAX];
	struct dirent **names = NULL;
	int n = scandir(rooted(dir, sizeof(dir), root, CFG_DIR_CLOUD_D), &names, yml_filter, alphasort);
	for (int i = 0; i < n; i++) {
		char abs[PATH_MAX];
		snprintf(abs, sizeof(abs), "%s/%s", CFG_DIR_CLOUD_D, names[i]->d_name);
		load_layer(tree, root, abs, true, flags, d);
		free(names[i]);
	}
	free(names);
	load_layer(tree, root, CFG_PATH_USER, true, flags, d);

	if (!(flags & CFG_LOAD_NO_CMDLINE)) {
		cleanup_free char *buf = NULL;
		if (!cmdline) {
			char p[PATH_MAX];
			if (fs_read_all(rooted(p, sizeof(p), root, "/proc/cmdline"), 1 << 16, &buf, NULL, NULL) == 0)
				cmdline = buf;
		}
		if (cmdline) {
			struct cfg_node *c = NULL;
			if (cfg_parse_cmdline(cmdline, &c, d, e) == 0) {
				cfg_merge(tree, c);
				cfg_free(c);
			}
		}
	}
	*out = tree;
	return 0;
}

int cfg_write_layer(const char *root, const char *abs_path, const struct cfg_node *n, struct ros_err *e)
{
	char path[PATH_MAX], dir[PATH_MAX];
	rooted(path, sizeof(path), root, abs_path);
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	int r = fs_mkdir_p(dir, 0700, e);
	if (r < 0)
		return r;
	cleanup_free char *yaml = cfg_to_yaml_string(n);
	if (!yaml)
		return err_set(e, ENOMEM, "emit %s", path);
	r = fs_write_atomic(path, yaml, strlen(yaml), 0600, e);
	if (r < 0)
		return r;
	if (!strncmp(abs_path, CFG_DIR_CONF "/", strlen(CFG_DIR_CONF) + 1))
		save_good(root, abs_path, yaml, strlen(yaml), NULL);
	return 0;
}
