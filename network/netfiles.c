/* SPDX-License-Identifier: MIT */
/* etc/resolv.conf and etc/hostname under the root (netfiles.h). */
#define _GNU_SOURCE
#include "netfiles.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"

#define RESOLV_MAX 8192

/* ROOT+abs, or where it points when it is a symlink (one level: images
 * link etc/resolv.conf into /run), so the rename replaces the file and
 * not the link.  An absolute target stays under the root. */
static int resolve_target(char *path, size_t size, const char *root, const char *abs, struct ros_err *e)
{
	if ((size_t)snprintf(path, size, "%s%s", root, abs) >= size)
		return err_setx(e, ENAMETOOLONG, "%s%s: path too long", root, abs);
	char target[PATH_MAX];
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return 0;
	target[n] = '\0';
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	int w = target[0] == '/' ? snprintf(path, size, "%s%s", root, target)
	                         : snprintf(path, size, "%s/%s", slash ? dir : ".", target);
	if (w < 0 || (size_t)w >= size)
		return err_setx(e, ENAMETOOLONG, "%s%s -> %s: path too long", root, abs, target);
	return 0;
}

/* Writes text to ROOT+abs (see resolve_target) unless the file already
 * holds exactly that. */
static int write_if_changed(const char *root, const char *abs, const char *text, struct ros_err *e)
{
	char path[PATH_MAX], dir[PATH_MAX];
	int r = resolve_target(path, sizeof(path), root, abs, e);
	if (r < 0)
		return r;
	cleanup_free char *old = NULL;
	if (fs_read_all(path, RESOLV_MAX * 2, &old, NULL, NULL) == 0 && !strcmp(old, text))
		return 0;
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if ((r = fs_mkdir_p(dir, 0755, e)) < 0)
			return r;
	}
	r = fs_write_atomic(path, text, strlen(text), 0644, e);
	return r < 0 ? r : 1;
}

static bool seen(const char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

/* Appends to text; false when it no longer fits. */
__attribute__((format(printf, 4, 5))) static bool append(char *text, size_t size, size_t *off, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(text + *off, size - *off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size - *off)
		return false;
	*off += (size_t)n;
	return true;
}

int netfiles_write_resolv(const char *root, const char *path, const char *const *nameservers, size_t n_nameservers,
                          const char *const *search, size_t n_search, struct ros_err *e)
{
	char text[RESOLV_MAX];
	size_t off = 0;
	bool ok = append(text, sizeof(text), &off,
	                 "# Written by ros-network from ros.network.dns and DHCP leases; "
	                 "edit the config, not this file.\n");
	for (size_t i = 0; i < n_nameservers; i++)
		if (!seen(nameservers, i, nameservers[i]))
			ok = ok && append(text, sizeof(text), &off, "nameserver %s\n", nameservers[i]);
	bool any = false;
	for (size_t i = 0; i < n_search; i++) {
		if (seen(search, i, search[i]))
			continue;
		ok = ok && append(text, sizeof(text), &off, "%s%s", any ? " " : "search ", search[i]);
		any = true;
	}
	if (any)
		ok = ok && append(text, sizeof(text), &off, "\n");
	if (!ok)
		return err_setx(e, E2BIG, "%s%s: too many nameservers or search domains", root, path);
	return write_if_changed(root, path, text, e);
}

int netfiles_write_hostname(const char *root, const char *hostname, struct ros_err *e)
{
	char text[128];
	snprintf(text, sizeof(text), "%s\n", hostname);
	return write_if_changed(root, NETFILES_HOSTNAME, text, e);
}
