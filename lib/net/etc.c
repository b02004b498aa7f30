/* SPDX-License-Identifier: MIT */
/* A container's /etc/hosts, /etc/hostname and /etc/resolv.conf (net.h). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "net-int.h"
#include "net.h"

#define RESOLV_MAX (64u << 10)

static int write_text(const char *dir, const char *name, const char *text, struct ros_err *e)
{
	cleanup_free char *path = NULL;
	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return err_set(e, ENOMEM, "%s/%s", dir, name);
	return fs_write_atomic(path, text, strlen(text), 0644, e);
}

/* A nameserver on a loopback address is the host's own resolver (e.g.
 * systemd-resolved on 127.0.0.53), which a container cannot reach. */
static bool loopback_nameserver(const char *line)
{
	const char *p = line;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncmp(p, "nameserver", 10) || !isspace((unsigned char)p[10]))
		return false;
	p += 10;
	while (*p == ' ' || *p == '\t')
		p++;
	char addr[64];
	size_t n = strcspn(p, " \t\r\n%#;");
	if (n >= sizeof(addr))
		return false;
	memcpy(addr, p, n);
	addr[n] = '\0';
	struct in_addr a;
	struct in6_addr a6;
	if (inet_pton(AF_INET, addr, &a) == 1)
		return (ntohl(a.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, addr, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

static bool is_nameserver(const char *line)
{
	const char *p = line + strspn(line, " \t");
	return !strncmp(p, "nameserver", 10) && isspace((unsigned char)p[10]);
}

int net_write_etc_from(const char *dir, const char *hostname, const char *ip, const char *host_resolv,
                       struct ros_err *e)
{
	if (!hostname || !*hostname || strpbrk(hostname, " \t\r\n#/"))
		return err_setx(e, EINVAL, "hostname \"%s\": empty or has a space, '#' or '/'",
		                hostname ? hostname : "");
	struct in_addr a;
	if (ip && *ip && inet_pton(AF_INET, ip, &a) != 1)
		return err_setx(e, EINVAL, "hosts for %s: \"%s\" is not an IPv4 address", hostname, ip);

	cleanup_free char *hosts = NULL;
	if (asprintf(&hosts,
	             "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
	             "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n%s%s%s",
	             ip && *ip ? ip : "", ip && *ip ? "\t" : "", ip && *ip ? hostname : "") < 0)
		return err_set(e, ENOMEM, "hosts");
	cleanup_free char *hosts_nl = NULL;
	if (asprintf(&hosts_nl, "%s%s", hosts, ip && *ip ? "\n" : "") < 0)
		return err_set(e, ENOMEM, "hosts");
	cleanup_free char *hostname_nl = NULL;
	if (asprintf(&hostname_nl, "%s\n", hostname) < 0)
		return err_set(e, ENOMEM, "hostname");

	cleanup_free char *host = NULL;
	int r = fs_read_all(host_resolv, RESOLV_MAX, &host, NULL, e);
	if (r == -ENOENT)
		host = NULL;
	else if (r < 0)
		return net_prefix(r, e, "resolv.conf");

	cleanup_free char *resolv = NULL;
	size_t len = 0;
	cleanup_fclose FILE *s = open_memstream(&resolv, &len);
	if (!s)
		return err_set(e, ENOMEM, "resolv.conf");
	int servers = 0;
	for (char *line = host, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (loopback_nameserver(line))
			continue;
		servers += is_nameserver(line);
		fprintf(s, "%s\n", line);
	}
	/* Docker's fallback when the host has only a local resolver */
	if (!servers)
		fputs("nameserver 8.8.8.8\nnameserver 8.8.4.4\n", s);
	if (fflush(s) != 0)
		return err_set(e, ENOMEM, "resolv.conf");
	fclose(TAKE_PTR(s));

	if ((r = write_text(dir, "hosts", hosts_nl, e)) < 0 || (r = write_text(dir, "hostname", hostname_nl, e)) < 0 ||
	    (r = write_text(dir, "resolv.conf", resolv, e)) < 0)
		return r;
	return 0;
}

int net_write_etc(const char *dir, const char *hostname, const char *ip, struct ros_err *e)
{
	return net_write_etc_from(dir, hostname, ip, "/etc/resolv.conf", e);
}
