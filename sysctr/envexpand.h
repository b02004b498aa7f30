/* SPDX-License-Identifier: MIT */
#pragma once
/*
 * `${VAR}` expansion of service environment values from `ros.environment`
 * (`${a.b.c}`, a name with dots, is a config key: the caller's lookup
 * decides) (compose rules: `${NAME}` is the value or empty when unset, `$$` is a
 * literal `$`, any other `$` stays as it is; an unterminated `${` or a bad
 * name is an error naming the value).  Header-only (static inline): shared
 * by sysctr and its unit test.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Returns the value of name (len bytes, not NUL-terminated) or NULL. */
typedef const char *(*env_lookup_fn)(const char *name, size_t len, void *data);

static inline int env_expand(const char *in, env_lookup_fn lookup, void *data, char *out, size_t out_size, char *err,
                             size_t err_size)
{
	size_t o = 0;
#define ENV_PUT(c)                                                                                                     \
	do {                                                                                                           \
		if (o + 1 >= out_size) {                                                                               \
			snprintf(err, err_size, "environment value \"%s\" is too long once expanded", in);             \
			return -E2BIG;                                                                                 \
		}                                                                                                      \
		out[o++] = (c);                                                                                        \
	} while (0)
	for (const char *p = in; *p;) {
		if (p[0] == '$' && p[1] == '$') {
			ENV_PUT('$');
			p += 2;
		} else if (p[0] == '$' && p[1] == '{') {
			const char *name = p + 2, *end = strchr(name, '}');
			if (!end) {
				snprintf(err, err_size, "environment value \"%s\": unterminated ${", in);
				return -EINVAL;
			}
			size_t len = (size_t)(end - name);
			bool good = len > 0 && !isdigit((unsigned char)name[0]);
			for (size_t i = 0; i < len && good; i++)
				good = isalnum((unsigned char)name[i]) || name[i] == '_' || (i > 0 && name[i] == '.');
			if (!good) {
				snprintf(err, err_size, "environment value \"%s\": bad variable name \"%.*s\"", in,
				         (int)len, name);
				return -EINVAL;
			}
			const char *v = lookup ? lookup(name, len, data) : NULL;
			for (; v && *v; v++)
				ENV_PUT(*v);
			p = end + 1;
		} else {
			ENV_PUT(*p);
			p++;
		}
	}
#undef ENV_PUT
	if (out_size == 0)
		return -E2BIG;
	out[o] = '\0';
	return (int)o;
}
