/* SPDX-License-Identifier: MIT */
/*
 * The kernel command line, as far as init cares: ros.* keys only.  Other
 * ros.* keys belong to sysctr, which reads the same line.  Kernel rules:
 * words split on white space, double quotes group, "--" ends the kernel's
 * part.  Self-contained (libc only) so tests and the fuzzer include it.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "init.h"

void init_cmdline_defaults(struct init_cmdline *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->sysctr, "/usr/bin/sysctr");
	strcpy(c->state, "LABEL=ROS_STATE");
	strcpy(c->media, "LABEL=ROS");
	c->shutdown_timeout_s = 30;
}

static int set_str(char *dst, const char *key, const char *val, struct ros_err *e)
{
	size_t n = strlen(val);
	if (n == 0)
		return err_setx(e, EINVAL, "kernel command line: %s: empty value", key);
	if (n >= INIT_VALUE_MAX)
		return err_setx(e, ENAMETOOLONG, "kernel command line: %s: value longer than %d bytes", key,
		                INIT_VALUE_MAX - 1);
	memcpy(dst, val, n + 1);
	return 0;
}

static int set_bool(bool *dst, const char *key, const char *val, bool has_val, struct ros_err *e)
{
	if (!has_val || !strcmp(val, "1") || !strcmp(val, "true") || !strcmp(val, "yes"))
		*dst = true;
	else if (!strcmp(val, "0") || !strcmp(val, "false") || !strcmp(val, "no"))
		*dst = false;
	else
		return err_setx(e, EINVAL, "kernel command line: %s=%s: expected true or false", key, val);
	return 0;
}

static int apply(struct init_cmdline *c, const char *key, const char *val, bool has_val, struct ros_err *e)
{
	if (!strcmp(key, "ros.root"))
		return set_str(c->root, key, val, e);
	if (!strcmp(key, "ros.sysctr"))
		return set_str(c->sysctr, key, val, e);
	if (!strcmp(key, "ros.state"))
		return set_str(c->state, key, val, e);
	if (!strcmp(key, "ros.state.autoformat"))
		return set_str(c->autoformat, key, val, e);
	if (!strcmp(key, "ros.media"))
		return set_str(c->media, key, val, e);
	if (!strcmp(key, "ros.rescue"))
		return set_bool(&c->rescue, key, val, has_val, e);
	if (!strcmp(key, "ros.debug"))
		return set_bool(&c->debug, key, val, has_val, e);
	if (!strcmp(key, "ros.cgroup")) {
		if (!strcmp(val, "v1"))
			c->cgroup_v1 = true;
		else if (!strcmp(val, "v2"))
			c->cgroup_v1 = false;
		else
			return err_setx(e, EINVAL, "kernel command line: ros.cgroup=%s: expected v1 or v2", val);
		return 0;
	}
	if (!strcmp(key, "ros.shutdown.timeout")) {
		char *end = NULL;
		errno = 0;
		unsigned long v = strtoul(val, &end, 10);
		if (!*val || *end || errno || v > 3600 || !isdigit((unsigned char)*val))
			return err_setx(e, EINVAL,
			                "kernel command line: ros.shutdown.timeout=%s: expected seconds 0-3600", val);
		c->shutdown_timeout_s = (unsigned)v;
		return 0;
	}
	return 0; /* not init's */
}

int init_cmdline_parse(const char *text, struct init_cmdline *c, struct ros_err *e)
{
	int errors = 0;
	struct ros_err local = {0};
	const char *p = text;
	for (;;) {
		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		/* One word, quotes removed: key=value or key="va lue". */
		char word[2 * INIT_VALUE_MAX];
		size_t n = 0;
		bool quoted = false, truncated = false;
		for (; *p && (quoted || !isspace((unsigned char)*p)); p++) {
			if (*p == '"') {
				quoted = !quoted;
				continue;
			}
			if (n + 1 < sizeof(word))
				word[n++] = *p;
			else
				truncated = true;
		}
		word[n] = '\0';
		if (!strcmp(word, "--"))
			break;
		if (strncmp(word, "ros.", 4))
			continue;
		char *eq = strchr(word, '=');
		if (eq)
			*eq = '\0';
		int r = truncated ? err_setx(&local, ENAMETOOLONG, "kernel command line: %s: value too long", word)
		                  : apply(c, word, eq ? eq + 1 : "", eq != NULL, &local);
		if (r < 0) {
			if (errors++ == 0 && e)
				*e = local;
		}
	}
	return -errors;
}
