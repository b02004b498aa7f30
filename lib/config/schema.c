/* SPDX-License-Identifier: MIT */
/*
 * The schema: every key ros understands, its type and allowed values.
 * Patterns are dotted paths where "*" matches any map key and "[]" any
 * list item.  A key that matches no pattern is unknown: a warning (an
 * error when strict) naming the key, never a reason to refuse the file.
 */
#define _GNU_SOURCE
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

enum sch_type {
	T_ANY,    /* anything; children are not checked */
	T_MAP,    /* a map whose keys are listed in the schema */
	T_LIST,   /* a list whose items are described by "PATH[]" */
	T_STRING, /* a string, or a number/bool that reads naturally as text */
	T_INT,
	T_BOOL,
	T_SCALAR,     /* any scalar */
	T_STR_OR_LIST /* a string, or a list of strings */
};

struct sch_key {
	const char *pattern;
	enum sch_type type;
	const char *allowed; /* "|"-separated allowed values, or NULL */
	bool secret;
	const char *dflt; /* the default as YAML, for concrete paths; NULL: none */
};

static const struct sch_key schema[] = {
        /* cloud-init standard keys */
        {"hostname", T_STRING, NULL, false, "ros"},
        {"fqdn", T_STRING, NULL, false, NULL},
        {"timezone", T_STRING, NULL, false, NULL},
        {"ssh_authorized_keys", T_LIST, NULL, false, NULL},
        {"ssh_authorized_keys[]", T_STRING, NULL, false, NULL},
        {"write_files", T_LIST, NULL, false, NULL},
        {"write_files[]", T_MAP, NULL, false, NULL},
        {"write_files[].path", T_STRING, NULL, false, NULL},
        {"write_files[].content", T_STRING, NULL, false, NULL},
        {"write_files[].encoding", T_STRING, "b64|base64|gzip|gz|gz+b64|gz+base64|gzip+b64|gzip+base64|text/plain",
         false, NULL},
        {"write_files[].owner", T_STRING, NULL, false, NULL},
        {"write_files[].permissions", T_STRING, NULL, false, NULL},
        {"write_files[].append", T_BOOL, NULL, false, NULL},
        {"runcmd", T_LIST, NULL, false, NULL},
        {"runcmd[]", T_STR_OR_LIST, NULL, false, NULL},
        {"bootcmd", T_LIST, NULL, false, NULL},
        {"bootcmd[]", T_STR_OR_LIST, NULL, false, NULL},
        {"mounts", T_LIST, NULL, false, NULL},
        {"mounts[]", T_LIST, NULL, false, NULL},
        {"mounts[][]", T_STRING, NULL, false, NULL},
        {"users", T_LIST, NULL, false, NULL},
        {"users[]", T_MAP, NULL, false, NULL},
        {"users[].name", T_STRING, NULL, false, NULL},
        {"users[].gecos", T_STRING, NULL, false, NULL},
        {"users[].groups", T_STR_OR_LIST, NULL, false, NULL},
        {"users[].primary_group", T_STRING, NULL, false, NULL},
        {"users[].shell", T_STRING, NULL, false, NULL},
        {"users[].sudo", T_SCALAR, NULL, false, NULL},
        {"users[].lock_passwd", T_BOOL, NULL, false, NULL},
        {"users[].passwd", T_STRING, NULL, true, NULL},
        {"users[].uid", T_INT, NULL, false, NULL},
        {"users[].homedir", T_STRING, NULL, false, NULL},
        {"users[].ssh_authorized_keys", T_LIST, NULL, false, NULL},
        {"users[].ssh_authorized_keys[]", T_STRING, NULL, false, NULL},
        /* ros */
        {"ros", T_MAP, NULL, false, NULL},
        {"ros.hostname", T_STRING, NULL, false, NULL},
        {"ros.debug", T_BOOL, NULL, false, "false"},
        {"ros.password", T_STRING, NULL, true, NULL},
        {"ros.autologin", T_STRING, NULL, false, NULL},
        {"ros.rescue", T_BOOL, NULL, false, NULL},
        {"ros.cgroup", T_STRING, "v1|v2", false, "v2"},
        {"ros.root", T_STRING, NULL, false, NULL},
        {"ros.sysctr", T_STRING, NULL, false, NULL},
        {"ros.shutdown", T_MAP, NULL, false, NULL},
        {"ros.shutdown.timeout", T_INT, NULL, false, "30"},
        {"ros.state", T_SCALAR, NULL, false, NULL},
        /* init's boot medium, and the slot GRUB booted (docs/install.md) */
        {"ros.media", T_STRING, NULL, false, NULL},
        {"ros.slot", T_STRING, "A|B", false, NULL},
        {"ros.cloud_config_url", T_STRING, NULL, false, NULL},
        {"ros.cloud_init", T_MAP, NULL, false, NULL},
        {"ros.cloud_init.datasources", T_LIST, NULL, false, "[nocloud, configdrive, url]"},
        {"ros.cloud_init.datasources[]", T_STRING, NULL, false, NULL},
        {"ros.cloud_init.timeout", T_INT, NULL, false, "5"},
        {"ros.cloud_init.ec2_url", T_STRING, NULL, false, NULL},
        {"ros.environment", T_MAP, NULL, false, "{}"},
        {"ros.environment.*", T_SCALAR, NULL, false, NULL},
        {"ros.sysctl", T_MAP, NULL, false, "{}"},
        {"ros.sysctl.*", T_SCALAR, NULL, false, NULL},
        {"ros.modules", T_LIST, NULL, false, "[]"},
        {"ros.modules[]", T_STRING, NULL, false, NULL},
        {"ros.services", T_MAP, NULL, false, NULL},
        {"ros.services.*", T_ANY, NULL, false, NULL}, /* validated by sysctr */
        {"ros.services_include", T_MAP, NULL, false, "{}"},
        {"ros.services_include.*", T_BOOL, NULL, false, NULL},
        {"ros.console", T_STRING, NULL, false, "default"},
        {"ros.engine", T_STRING, "userctr", false, "userctr"},
        {"ros.ntp", T_MAP, NULL, false, NULL},
        {"ros.ntp.servers", T_LIST, NULL, false, "[0.debian.pool.ntp.org, 1.debian.pool.ntp.org]"},
        {"ros.ntp.servers[]", T_STRING, NULL, false, NULL},
        {"ros.network", T_MAP, NULL, false, NULL},
        {"ros.network.dhcp_timeout", T_INT, NULL, false, "10"},
        {"ros.network.interfaces", T_MAP, NULL, false, "{eth*: {dhcp: true}}"},
        {"ros.network.interfaces.*", T_MAP, NULL, false, NULL},
        {"ros.network.interfaces.*.dhcp", T_BOOL, NULL, false, NULL},
        {"ros.network.interfaces.*.address", T_STRING, NULL, false, NULL},
        {"ros.network.interfaces.*.addresses", T_LIST, NULL, false, NULL},
        {"ros.network.interfaces.*.addresses[]", T_STRING, NULL, false, NULL},
        {"ros.network.interfaces.*.gateway", T_STRING, NULL, false, NULL},
        {"ros.network.interfaces.*.mtu", T_INT, NULL, false, NULL},
        {"ros.network.dns", T_MAP, NULL, false, NULL},
        {"ros.network.dns.nameservers", T_LIST, NULL, false, "[]"},
        {"ros.network.dns.nameservers[]", T_STRING, NULL, false, NULL},
        {"ros.network.dns.search", T_LIST, NULL, false, "[]"},
        {"ros.network.dns.search[]", T_STRING, NULL, false, NULL},
        {"ros.ssh", T_MAP, NULL, false, NULL},
        {"ros.ssh.keys", T_MAP, NULL, true, NULL},
        {"ros.ssh.keys.*", T_STRING, NULL, true, NULL},
        {"ros.ssh.port", T_INT, NULL, false, "22"},
        {"ros.log", T_MAP, NULL, false, NULL},
        {"ros.log.max_size", T_INT, NULL, false, "1048576"},
        {"ros.log.max_files", T_INT, NULL, false, "3"},
        {"ros.restart", T_MAP, NULL, false, NULL},
        {"ros.restart.backoff_min_ms", T_INT, NULL, false, "100"},
        {"ros.restart.backoff_max_ms", T_INT, NULL, false, "30000"},
        {"ros.restart.crash_loop_limit", T_INT, NULL, false, "12"},
        {"ros.userctr", T_MAP, NULL, false, NULL},
        {"ros.userctr.bridge", T_STRING, NULL, false, "docker0"},
        {"ros.userctr.cidr", T_STRING, NULL, false, "172.17.0.1/16"},
        {"ros.userctr.registry_mirrors", T_LIST, NULL, false, NULL},
        {"ros.userctr.registry_mirrors[]", T_STRING, NULL, false, NULL},
        {"ros.upgrade", T_MAP, NULL, false, NULL},
        {"ros.upgrade.url", T_STRING, NULL, false, NULL},
        {"ros.upgrade.tries", T_INT, NULL, false, NULL},
};

/* Does a concrete path ("a.b[3].c") match a pattern ("a.*[].c")? */
static bool path_matches(const char *pat, const char *path)
{
	while (*pat && *path) {
		if (pat[0] == '[' && pat[1] == ']') {
			if (*path != '[')
				return false;
			const char *end = strchr(path, ']');
			if (!end)
				return false;
			pat += 2;
			path = end + 1;
			continue;
		}
		if (*pat == '*') {
			/* one map key: up to the next '.' or '[' (quoted keys come pre-escaped) */
			if (*path == '"') {
				const char *end = strchr(path + 1, '"');
				if (!end)
					return false;
				path = end + 1;
			} else {
				path += strcspn(path, ".[");
			}
			pat++;
			continue;
		}
		if (*pat != *path)
			return false;
		pat++, path++;
	}
	return !*pat && !*path;
}

static const struct sch_key *lookup(const char *path)
{
	for (size_t i = 0; i < sizeof(schema) / sizeof(schema[0]); i++)
		if (path_matches(schema[i].pattern, path))
			return &schema[i];
	return NULL;
}

struct cfg_node *cfg_schema_defaults(void)
{
	struct cfg_node *tree = cfg_new(CFG_MAP);
	for (size_t i = 0; tree && i < sizeof(schema) / sizeof(schema[0]); i++) {
		if (!schema[i].dflt)
			continue;
		struct cfg_node *v = NULL;
		/* the table is ours: a default that does not parse is a bug the unit test catches */
		if (cfg_parse_yaml(schema[i].dflt, strlen(schema[i].dflt), "<schema>", &v, NULL) < 0 ||
		    cfg_set(tree, schema[i].pattern, v, NULL) < 0) {
			cfg_free(v);
			cfg_free(tree);
			return NULL;
		}
	}
	return tree;
}

bool cfg_is_secret_path(const char *path)
{
	const struct sch_key *k = lookup(path);
	if (k && k->secret)
		return true;
	/* heuristics for free-form maps (environment, services) */
	const char *last = strrchr(path, '.');
	last = last ? last + 1 : path;
	return strstr(last, "password") || strstr(last, "PASSWORD") || strstr(last, "private_key") ||
	       strstr(last, "token") || strstr(last, "TOKEN") || strstr(last, "secret") || strstr(last, "SECRET");
}

void cfg_diag_add(struct cfg_diag *d, bool error, const char *fmt, ...)
{
	if (!d)
		return;
	struct cfg_diag_item *items = realloc(d->items, (d->n + 1) * sizeof(*items));
	if (!items)
		return;
	d->items = items;
	va_list ap;
	va_start(ap, fmt);
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		return;
	d->items[d->n].error = error;
	d->items[d->n].msg = msg;
	d->n++;
}

size_t cfg_diag_errors(const struct cfg_diag *d)
{
	size_t k = 0;
	for (size_t i = 0; d && i < d->n; i++)
		k += d->items[i].error;
	return k;
}

void cfg_diag_free(struct cfg_diag *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->items[i].msg);
	free(d->items);
	d->items = NULL;
	d->n = 0;
}

static void where(const struct cfg_node *n, char *buf, size_t size)
{
	if (n->file && n->key_line)
		snprintf(buf, size, "%s:%d:%d: ", n->file, n->key_line, n->key_col);
	else if (n->file && n->line)
		snprintf(buf, size, "%s:%d:%d: ", n->file, n->line, n->col);
	else if (n->file)
		snprintf(buf, size, "%s: ", n->file);
	else
		buf[0] = '\0';
}

static void describe(const struct cfg_node *n, char *buf, size_t size)
{
	char tmp[64];
	if (n->type == CFG_STRING)
		snprintf(buf, size, "\"%.60s\"", n->s);
	else if (n->type == CFG_MAP || n->type == CFG_LIST)
		snprintf(buf, size, "a %s", cfg_type_name(n->type));
	else
		snprintf(buf, size, "%s %s", cfg_type_name(n->type), cfg_scalar_text(n, tmp, sizeof(tmp)));
}

static bool is_scalar(const struct cfg_node *n)
{
	return n->type != CFG_MAP && n->type != CFG_LIST;
}

static size_t check(const struct cfg_node *n, const char *path, bool strict, struct cfg_diag *d);

static size_t type_error(const struct cfg_node *n, const char *path, const char *want, struct cfg_diag *d)
{
	char w[512], got[128];
	where(n, w, sizeof(w));
	describe(n, got, sizeof(got));
	cfg_diag_add(d, true, "%s%s: expected %s, got %s", w, path, want, got);
	return 1;
}

static size_t check_children(const struct cfg_node *n, const char *path, bool strict, struct cfg_diag *d)
{
	size_t errors = 0;
	char child[1024];
	if (n->type == CFG_MAP) {
		for (size_t i = 0; i < n->map.n; i++) {
			const char *k = n->map.keys[i];
			bool plain = k[strcspn(k, ".[]\"")] == '\0' && *k;
			if (plain)
				snprintf(child, sizeof(child), "%s%s%s", path, *path ? "." : "", k);
			else
				snprintf(child, sizeof(child), "%s%s\"%s\"", path, *path ? "." : "", k);
			errors += check(n->map.vals[i], child, strict, d);
		}
	} else if (n->type == CFG_LIST) {
		for (size_t i = 0; i < n->list.n; i++) {
			snprintf(child, sizeof(child), "%s[%zu]", path, i);
			errors += check(n->list.items[i], child, strict, d);
		}
	}
	return errors;
}

static size_t check(const struct cfg_node *n, const char *path, bool strict, struct cfg_diag *d)
{
	const struct sch_key *k = lookup(path);
	char w[512];
	if (!k) {
		where(n, w, sizeof(w));
		cfg_diag_add(d, strict, "%s%s: unknown key", w, path);
		return strict;
	}
	if (n->type == CFG_NULL)
		return 0; /* null means "unset": always allowed */
	switch (k->type) {
	case T_ANY:
		return 0;
	case T_MAP:
		if (n->type != CFG_MAP)
			return type_error(n, path, "a map", d);
		return check_children(n, path, strict, d);
	case T_LIST:
		if (n->type != CFG_LIST)
			return type_error(n, path, "a list", d);
		return check_children(n, path, strict, d);
	case T_STR_OR_LIST:
		if (n->type == CFG_LIST) {
			for (size_t i = 0; i < n->list.n; i++)
				if (!is_scalar(n->list.items[i]))
					return type_error(n->list.items[i], path, "a list of strings", d);
			return 0;
		}
		if (!is_scalar(n))
			return type_error(n, path, "a string or a list of strings", d);
		return 0;
	case T_SCALAR:
		return is_scalar(n) ? 0 : type_error(n, path, "a scalar", d);
	case T_INT:
		return n->type == CFG_INT ? 0 : type_error(n, path, "integer", d);
	case T_BOOL:
		return n->type == CFG_BOOL ? 0 : type_error(n, path, "boolean", d);
	case T_STRING:
		if (!is_scalar(n))
			return type_error(n, path, "string", d);
		if (k->allowed) {
			char buf[64];
			const char *v = cfg_scalar_text(n, buf, sizeof(buf));
			size_t vl = strlen(v);
			for (const char *a = k->allowed; *a;) {
				size_t al = strcspn(a, "|");
				if (al == vl && !strncmp(a, v, al))
					return 0;
				a += al + (a[al] == '|');
			}
			where(n, w, sizeof(w));
			cfg_diag_add(d, true, "%s%s: \"%s\" is not one of %s", w, path, v, k->allowed);
			return 1;
		}
		return 0;
	}
	return 0;
}

size_t cfg_validate(const struct cfg_node *root, bool strict, struct cfg_diag *d)
{
	if (root->type != CFG_MAP)
		return type_error(root, "(top level)", "a map", d);
	return check_children(root, "", strict, d);
}

static struct cfg_node *strip(const struct cfg_node *n, const char *path)
{
	if (*path && cfg_is_secret_path(path))
		return NULL;
	struct cfg_node *c;
	char child[1024];
	if (n->type == CFG_MAP) {
		c = cfg_new(CFG_MAP);
		for (size_t i = 0; c && i < n->map.n; i++) {
			snprintf(child, sizeof(child), "%s%s%s", path, *path ? "." : "", n->map.keys[i]);
			struct cfg_node *v = strip(n->map.vals[i], child);
			if (v && cfg_map_set(c, n->map.keys[i], v) < 0)
				cfg_free(v);
		}
		return c;
	}
	if (n->type == CFG_LIST) {
		c = cfg_new(CFG_LIST);
		for (size_t i = 0; c && i < n->list.n; i++) {
			snprintf(child, sizeof(child), "%s[%zu]", path, i);
			struct cfg_node *v = strip(n->list.items[i], child);
			if (v && cfg_list_append(c, v) < 0)
				cfg_free(v);
		}
		return c;
	}
	return cfg_copy(n);
}

struct cfg_node *cfg_strip_secrets(const struct cfg_node *n)
{
	return strip(n, "");
}
