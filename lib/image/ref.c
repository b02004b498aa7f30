/* SPDX-License-Identifier: MIT */
/*
 * Image references by Docker's grammar (distribution/reference):
 *
 *   [host[:port]/]component(/component)*[:tag][@sha256:hex]
 *   component = [a-z0-9]+ ((. | _ | __ | -+) [a-z0-9]+)*
 *   tag       = [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *
 * Kept apart from pull.c so that parsing a name does not link libcurl.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "image/internal.h"

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One path component; *upper is set when only the case is wrong. */
static bool component_ok(const char *c, size_t n, bool *upper)
{
	if (n == 0)
		return false;
	size_t i = 0;
	for (;;) {
		size_t start = i;
		while (i < n && (is_lower_alnum(c[i]) || (c[i] >= 'A' && c[i] <= 'Z'))) {
			if (c[i] >= 'A' && c[i] <= 'Z')
				*upper = true;
			i++;
		}
		if (i == start)
			return false;
		if (i == n)
			return true;
		/* a separator: ".", "_", "__" or a run of "-" */
		if (c[i] == '.')
			i++;
		else if (c[i] == '_')
			i += (i + 1 < n && c[i + 1] == '_') ? 2 : 1;
		else if (c[i] == '-')
			while (i < n && c[i] == '-')
				i++;
		else
			return false;
		if (i == n)
			return false;
	}
}

static bool tag_ok(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > 128 || !(isalnum((unsigned char)t[0]) || t[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)t[i]) || strchr("_.-", t[i])))
			return false;
	return true;
}

/* "host", "host:port", "[v6]:port"; lower-cased into out. */
static bool host_ok(const char *h, size_t n, char *out, size_t size)
{
	if (n == 0 || n >= size)
		return false;
	size_t i = 0;
	if (h[0] == '[') {
		while (i < n && h[i] != ']')
			i++;
		if (i == n || i < 3)
			return false;
		for (size_t j = 1; j < i; j++)
			if (!(isxdigit((unsigned char)h[j]) || h[j] == ':' || h[j] == '.'))
				return false;
		i++;
	} else {
		while (i < n && (isalnum((unsigned char)h[i]) || h[i] == '.' || h[i] == '-'))
			i++;
		if (i == 0 || h[0] == '.' || h[0] == '-' || h[i - 1] == '.' || h[i - 1] == '-')
			return false;
	}
	if (i < n) {
		if (h[i] != ':' || i + 1 == n || n - i - 1 > 5)
			return false;
		long port = 0;
		for (size_t j = i + 1; j < n; j++) {
			if (!isdigit((unsigned char)h[j]))
				return false;
			port = port * 10 + (h[j] - '0');
		}
		if (port < 1 || port > 65535)
			return false;
	}
	for (size_t j = 0; j < n; j++)
		out[j] = (char)tolower((unsigned char)h[j]);
	out[n] = '\0';
	return true;
}

static bool digest_ok(const char *d)
{
	if (strncmp(d, "sha256:", 7) != 0 || strlen(d) != 71)
		return false;
	for (const char *c = d + 7; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
			return false;
	return true;
}

int image_ref_parse(const char *ref, const char *default_registry, struct image_ref *out, struct ros_err *e)
{
	*out = (struct image_ref){0};
	if (!ref || !*ref)
		return err_setx(e, EINVAL, "invalid reference format: empty reference");
	if (strlen(ref) > 511)
		return err_setx(e, EINVAL, "invalid reference format: longer than 511 bytes");
	char name[512];
	snprintf(name, sizeof(name), "%s", ref);

	char *at = strchr(name, '@');
	if (at) {
		*at++ = '\0';
		if (strncmp(at, "sha256:", 7) != 0 && strchr(at, ':'))
			return err_setx(e, EINVAL, "invalid reference format: unsupported digest algorithm in \"%s\"",
			                ref);
		if (!digest_ok(at))
			return err_setx(
			        e, EINVAL,
			        "invalid reference format: digest \"%s\" is not sha256: and 64 lower-case hex digits",
			        at);
		snprintf(out->digest, sizeof(out->digest), "%s", at);
	}
	char *slash = strrchr(name, '/');
	char *colon = strrchr(name, ':');
	if (colon && (!slash || colon > slash)) {
		*colon++ = '\0';
		if (!tag_ok(colon))
			return err_setx(
			        e, EINVAL,
			        "invalid reference format: tag \"%s\" (want [A-Za-z0-9_][A-Za-z0-9_.-], at most "
			        "128 characters)",
			        colon);
		snprintf(out->tag, sizeof(out->tag), "%s", colon);
	} else if (!at) {
		snprintf(out->tag, sizeof(out->tag), "latest");
	}

	const char *repo = name;
	char *first = strchr(name, '/');
	if (first && (memchr(name, '.', (size_t)(first - name)) || memchr(name, ':', (size_t)(first - name)) ||
	              (first - name == 9 && strncmp(name, "localhost", 9) == 0) || name[0] == '[')) {
		if (!host_ok(name, (size_t)(first - name), out->host, sizeof(out->host)))
			return err_setx(e, EINVAL, "invalid reference format: registry \"%.*s\" is not host[:port]",
			                (int)(first - name), name);
		repo = first + 1;
	} else {
		if (!default_registry || !*default_registry)
			return err_setx(e, ENOENT, "%s: no registry in the name and no default registry configured",
			                ref);
		if (!host_ok(default_registry, strlen(default_registry), out->host, sizeof(out->host)))
			return err_setx(e, EINVAL, "default registry \"%s\" is not host[:port]", default_registry);
	}
	if (!*repo)
		return err_setx(e, EINVAL, "invalid reference format: no repository name in \"%s\"", ref);
	bool upper = false;
	for (const char *c = repo;;) {
		const char *end = strchrnul(c, '/');
		if (!component_ok(c, (size_t)(end - c), &upper) || upper)
			return err_setx(e, EINVAL,
			                upper ? "invalid reference format: repository name (%s) must be lowercase"
			                      : "invalid reference format: repository name \"%s\" (want lower-case "
			                        "[a-z0-9] parts joined by '.', '_', '__' or '-', separated by '/')",
			                repo);
		if (!*end)
			break;
		c = end + 1;
	}
	bool official = default_registry && !strchr(repo, '/') && strcasecmp(out->host, default_registry) == 0;
	int n = snprintf(out->repo, sizeof(out->repo), "%s%s", official ? "library/" : "", repo);
	if (n < 0 || (size_t)n >= sizeof(out->repo) || strlen(out->host) + 1 + (size_t)n > 255)
		return err_setx(e, EINVAL,
		                "invalid reference format: repository name must not be more than 255 characters");
	return 0;
}

int image_ref_local_name(const struct image_ref *r, const char *default_registry, char *out, size_t size)
{
	const char *repo = r->repo;
	int n;
	if (default_registry && strcasecmp(r->host, default_registry) == 0) {
		if (strncmp(repo, "library/", 8) == 0 && !strchr(repo + 8, '/'))
			repo += 8;
		n = snprintf(out, size, "%s", repo);
	} else {
		n = snprintf(out, size, "%s/%s", r->host, repo);
	}
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}
