/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <stdbool.h>

#include "../tap.h"
#include "../../sysctr/envexpand.h"

static const char *lookup(const char *name, size_t len, void *data)
{
	(void)data;
	if (len == 5 && strncmp(name, "PROXY", 5) == 0)
		return "http://p:3128";
	if (len == 4 && strncmp(name, "EMPT", 4) == 0)
		return "";
	return NULL;
}

TEST(expands_known_unset_and_literal_dollars)
{
	char out[128], err[256] = "";
	is_int(env_expand("http_proxy=${PROXY}", lookup, NULL, out, sizeof(out), err, sizeof(err)), 24);
	is_str(out, "http_proxy=http://p:3128");
	ok(env_expand("a${NOPE}b${EMPT}c", lookup, NULL, out, sizeof(out), err, sizeof(err)) >= 0, "%s", err);
	is_str(out, "abc");
	ok(env_expand("cost $$5 and $HOME $", lookup, NULL, out, sizeof(out), err, sizeof(err)) >= 0, "%s", err);
	is_str(out, "cost $5 and $HOME $");
	ok(env_expand("", lookup, NULL, out, sizeof(out), err, sizeof(err)) == 0, "empty");
	is_str(out, "");
}

TEST(errors_name_the_value)
{
	char out[16], err[256] = "";
	is_int(env_expand("x=${PROXY", lookup, NULL, out, sizeof(out), err, sizeof(err)), -EINVAL);
	is_str(err, "environment value \"x=${PROXY\": unterminated ${");
	is_int(env_expand("x=${1A}", lookup, NULL, out, sizeof(out), err, sizeof(err)), -EINVAL);
	is_str(err, "environment value \"x=${1A}\": bad variable name \"1A\"");
	is_int(env_expand("x=${}", lookup, NULL, out, sizeof(out), err, sizeof(err)), -EINVAL);
	is_int(env_expand("x=${PROXY}${PROXY}", lookup, NULL, out, sizeof(out), err, sizeof(err)), -E2BIG);
	ok(strstr(err, "too long") != NULL, "%s", err);
}
