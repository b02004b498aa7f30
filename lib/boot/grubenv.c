/* SPDX-License-Identifier: MIT */
/*
 * The GRUB environment block (grub-core/lib/envblk.c's format): a file of
 * exactly 1024 bytes, "# GRUB Environment Block\n", then "key=value\n"
 * lines with backslash escaping of backslash and newline, padded with '#'.
 * GRUB's save_env rewrites the file's blocks in place and needs the size
 * to stay 1024, so this never writes anything else.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "core/cleanup.h"
#include "core/fs.h"

void grubenv_free(struct grubenv *env)
{
	for (size_t i = 0; i < env->n; i++) {
		free(env->key[i]);
		free(env->val[i]);
	}
	env->n = 0;
}

static bool key_ok(const char *k, size_t len)
{
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)k[i]) && k[i] != '_')
			return false;
	return true;
}

const char *grubenv_get(const struct grubenv *env, const char *key)
{
	for (size_t i = 0; i < env->n; i++)
		if (!strcmp(env->key[i], key))
			return env->val[i];
	return NULL;
}

int grubenv_set(struct grubenv *env, const char *key, const char *value, struct ros_err *e)
{
	if (!key_ok(key, strlen(key)))
		return err_setx(e, EINVAL, "grubenv: bad variable name '%s'", key);
	if (value && strchr(value, '\n'))
		return err_setx(e, EINVAL, "grubenv: the value of %s has a newline", key);
	for (size_t i = 0; i < env->n; i++) {
		if (strcmp(env->key[i], key))
			continue;
		if (!value) {
			free(env->key[i]);
			free(env->val[i]);
			env->n--;
			memmove(&env->key[i], &env->key[i + 1], (env->n - i) * sizeof(char *));
			memmove(&env->val[i], &env->val[i + 1], (env->n - i) * sizeof(char *));
			return 0;
		}
		char *v = strdup(value);
		if (!v)
			return err_set(e, ENOMEM, "grubenv");
		free(env->val[i]);
		env->val[i] = v;
		return 0;
	}
	if (!value)
		return 0;
	if (env->n >= GRUBENV_MAX_VARS)
		return err_setx(e, ENOSPC, "grubenv: more than %d variables", GRUBENV_MAX_VARS);
	char *k = strdup(key), *v = strdup(value);
	if (!k || !v) {
		free(k);
		free(v);
		return err_set(e, ENOMEM, "grubenv");
	}
	env->key[env->n] = k;
	env->val[env->n++] = v;
	return 0;
}

int grubenv_parse(const char *buf, size_t len, const char *where, struct grubenv *env, struct ros_err *e)
{
	env->n = 0;
	size_t hl = strlen(GRUBENV_HEADER);
	if (len != GRUBENV_SIZE)
		return err_setx(e, EINVAL, "%s: a GRUB environment block is %d bytes, this is %zu", where, GRUBENV_SIZE,
		                len);
	if (memcmp(buf, GRUBENV_HEADER, hl))
		return err_setx(e, EINVAL, "%s: no '# GRUB Environment Block' header", where);
	size_t p = hl;
	unsigned line = 1;
	while (p < len) {
		line++;
		if (buf[p] == '#') /* padding (or a comment line GRUB skips) */
			break;
		size_t start = p;
		char val[GRUBENV_SIZE];
		size_t vn = 0;
		const char *eq = NULL;
		bool done = false;
		for (; p < len; p++) {
			char c = buf[p];
			if (!eq && c == '=') {
				eq = buf + p;
				continue;
			}
			if (c == '\\' && eq && p + 1 < len) {
				val[vn++] = buf[++p];
				continue;
			}
			if (c == '\n') {
				p++;
				done = true;
				break;
			}
			if (c == '\0') {
				grubenv_free(env);
				return err_setx(e, EINVAL, "%s: line %u: a NUL byte", where, line);
			}
			if (eq)
				val[vn++] = c;
		}
		if (!done || !eq || !key_ok(buf + start, (size_t)(eq - buf - start))) {
			grubenv_free(env);
			return err_setx(e, EINVAL, "%s: line %u: expected key=value", where, line);
		}
		val[vn] = '\0';
		char key[GRUBENV_SIZE];
		snprintf(key, sizeof(key), "%.*s", (int)(eq - buf - start), buf + start);
		int r = grubenv_set(env, key, val, e);
		if (r < 0) {
			grubenv_free(env);
			return err_prefix(e, "%s", where);
		}
	}
	for (; p < len; p++)
		if (buf[p] != '#' && buf[p] != '\n') {
			grubenv_free(env);
			return err_setx(e, EINVAL, "%s: garbage after the variables at byte %zu", where, p);
		}
	return 0;
}

int grubenv_format(const struct grubenv *env, char out[GRUBENV_SIZE], struct ros_err *e)
{
	size_t p = strlen(GRUBENV_HEADER);
	memcpy(out, GRUBENV_HEADER, p);
	for (size_t i = 0; i < env->n; i++) {
		size_t need = strlen(env->key[i]) + 2;
		for (const char *v = env->val[i]; *v; v++)
			need += (*v == '\\' || *v == '\n') ? 2 : 1;
		if (p + need > GRUBENV_SIZE)
			return err_setx(e, ENOSPC, "grubenv: the variables do not fit in %d bytes", GRUBENV_SIZE);
		p += (size_t)sprintf(out + p, "%s=", env->key[i]);
		for (const char *v = env->val[i]; *v; v++) {
			if (*v == '\\' || *v == '\n')
				out[p++] = '\\';
			out[p++] = *v;
		}
		out[p++] = '\n';
	}
	memset(out + p, '#', GRUBENV_SIZE - p);
	return 0;
}

int grubenv_load(const char *path, struct grubenv *env, struct ros_err *e)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;
	int r = fs_read_all(path, GRUBENV_SIZE * 2, &buf, &len, e);
	if (r < 0)
		return r;
	return grubenv_parse(buf, len, path, env, e);
}

int grubenv_save(const char *path, const struct grubenv *env, struct ros_err *e)
{
	char buf[GRUBENV_SIZE];
	int r = grubenv_format(env, buf, e);
	if (r < 0)
		return err_prefix(e, "%s", path);
	return fs_write_atomic(path, buf, sizeof(buf), 0644, e);
}
