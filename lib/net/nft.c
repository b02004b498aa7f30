/* SPDX-License-Identifier: MIT */
/*
 * nftables through Debian's nft tool: each change is one `nft -f -` script,
 * applied by the kernel as one transaction (all or nothing).  Chosen over
 * libnftnl, which would have us assemble every rule from raw expressions
 * (payload offsets, registers) — the hand-built packets the design rules
 * out — and over libnftables, whose ABI Debian does not promise.  The
 * script goes in through a memfd and nft's output comes back through
 * memfds, so no pipe can fill up and block us.  The table layout is in
 * docs/net.md.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "net-int.h"
#include "net.h"

extern char **environ;

#define NFT_MAX_OUTPUT (8u << 20)

static int memfd_read(int fd, char **out, struct ros_err *e)
{
	if (lseek(fd, 0, SEEK_SET) < 0)
		return err_set(e, errno, "nft output");
	return fs_read_fd(fd, NFT_MAX_OUTPUT, out, NULL, e);
}

/* The first line of nft's complaint that says "Error", else the first. */
static const char *nft_error_line(char *text)
{
	char *line = text, *found = NULL;
	for (char *p = text; p && *p; p = line) {
		line = strchr(p, '\n');
		if (line)
			*line++ = '\0';
		if (!found && strstr(p, "Error"))
			found = p;
		if (!line)
			break;
	}
	if (!found)
		found = text;
	return *found ? found : "(no message)";
}

int net_nft_run(const char *what, const char *script, char **out, struct ros_err *e)
{
	cleanup_close int in = memfd_create("nft-script", MFD_CLOEXEC);
	cleanup_close int so = memfd_create("nft-stdout", MFD_CLOEXEC);
	cleanup_close int se = memfd_create("nft-stderr", MFD_CLOEXEC);
	if (in < 0 || so < 0 || se < 0)
		return err_set(e, errno, "%s: memfd", what);
	if (fs_write_all(in, script, strlen(script)) < 0 || lseek(in, 0, SEEK_SET) < 0)
		return err_set(e, errno, "%s: write nft script", what);

	posix_spawn_file_actions_t fa;
	if (posix_spawn_file_actions_init(&fa) != 0)
		return err_set(e, ENOMEM, "%s: spawn nft", what);
	posix_spawn_file_actions_adddup2(&fa, in, 0);
	posix_spawn_file_actions_adddup2(&fa, so, 1);
	posix_spawn_file_actions_adddup2(&fa, se, 2);
	/* -a: handles in listings, so rules can be deleted one by one */
	char *argv[] = {(char *)"nft", (char *)"-a", (char *)"-f", (char *)"-", NULL};
	pid_t pid;
	int r = posix_spawnp(&pid, "nft", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r == ENOENT) /* not ENOENT: that is nft's "no such table" */
		return err_setx(e, ENOPKG, "%s: the nft tool is not installed (Debian package nftables)", what);
	if (r != 0)
		return err_set(e, r, "%s: spawn nft", what);
	/* reaped here, before the caller's event loop can see the SIGCHLD */
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return err_set(e, errno, "%s: wait for nft", what);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		cleanup_free char *msg = NULL;
		if (memfd_read(se, &msg, NULL) < 0)
			msg = NULL;
		if (WIFSIGNALED(status))
			return err_setx(e, EIO, "%s: nft killed by signal %d", what, WTERMSIG(status));
		const char *line = msg ? nft_error_line(msg) : "(no message)";
		int code = strstr(line, "No such file or directory") ? ENOENT
		           : strstr(line, "Operation not permitted") ? EPERM
		                                                     : EIO;
		return err_setx(e, code, "%s: nft: %s", what, line);
	}
	if (out && (r = memfd_read(so, out, e)) < 0)
		return net_prefix(r, e, "%s", what);
	return 0;
}

/* ---- published ports ------------------------------------------------------ */

/* Appends "delete rule ip TABLE ports handle N" for each rule in listing
 * (nft -a list chain ... ports) that jumps to chain. */
static int delete_jumps(FILE *s, const char *table, const char *listing, const char *chain)
{
	char needle[NET_OWNER_MAX + 16];
	snprintf(needle, sizeof(needle), "jump %s ", chain);
	size_t nlen = strlen(needle);
	int n = 0;
	if (!listing)
		return 0;
	for (const char *p = strstr(listing, needle); p; p = strstr(p + nlen, needle)) {
		const char *eol = strchr(p, '\n');
		const char *h = strstr(p, "# handle ");
		if (!h || (eol && h > eol))
			continue;
		fprintf(s, "delete rule ip %s ports handle %ld\n", table, strtol(h + 9, NULL, 10));
		n++;
	}
	return n;
}

/* nft -a list of the owner-tagged part of the table: the ports chain
 * alone, or (all) the whole table with every owner's rules. */
static int list_ports(const struct net_bridge *b, bool all, char **listing, struct ros_err *e)
{
	cleanup_free char *cmd = NULL;
	if (asprintf(&cmd, all ? "list table ip %s\n" : "list chain ip %s ports\n", b->table) < 0)
		return err_set(e, ENOMEM, "list ports");
	int r = net_nft_run("list published ports", cmd, listing, e);
	if (r == -ENOENT)
		return err_setx(e, ENOENT, "bridge %s: nft table %s is missing: the bridge network is not set up",
		                b->name, b->table);
	return r;
}

/* Finds a DNAT rule of another owner in listing for p's protocol and host
 * port on an overlapping address (either side "all", or the same); copies
 * that owner to who. */
static bool port_taken(const char *listing, const char *owner, const struct net_port *p, char *who, size_t whosz)
{
	char dport[16];
	snprintf(dport, sizeof(dport), "%s dport ", p->proto);
	for (const char *line = listing; line && *line;) {
		const char *eol = strchrnul(line, '\n');
		size_t len = (size_t)(eol - line);
		const char *d = memmem(line, len, dport, strlen(dport)), *c = memmem(line, len, "comment \"", 9);
		if (d && c && memmem(line, len, " dnat to ", 9) &&
		    strtoul(d + strlen(dport), NULL, 10) == p->host_port) {
			c += 9;
			size_t olen = strcspn(c, "\"\n");
			const char *da = memmem(line, len, "ip daddr ", 9);
			char addr[46] = "";
			if (da)
				snprintf(addr, sizeof(addr), "%.*s", (int)strcspn(da + 9, " \n"), da + 9);
			bool overlap = !p->host_ip[0] || !strcmp(p->host_ip, "0.0.0.0") || !strcmp(p->host_ip, "::") ||
			               !addr[0] || !strcmp(addr, p->host_ip);
			if (overlap && !(olen == strlen(owner) && !strncmp(c, owner, olen))) {
				snprintf(who, whosz, "%.*s", (int)olen, c);
				return true;
			}
		}
		line = *eol ? eol + 1 : NULL;
	}
	return false;
}

static int check_port(const struct net_port *p, size_t i, struct ros_err *e)
{
	struct in_addr a;
	if (strcmp(p->proto, "tcp") && strcmp(p->proto, "udp"))
		return err_setx(e, EPROTONOSUPPORT, "port %zu: protocol \"%s\" (want tcp or udp)", i, p->proto);
	if (!p->host_port || !p->ctr_port)
		return err_setx(e, EINVAL, "port %zu (%s %u -> %u): port 0 cannot be published", i, p->proto,
		                p->host_port, p->ctr_port);
	if (p->host_ip[0] && strcmp(p->host_ip, "::") && inet_pton(AF_INET, p->host_ip, &a) != 1)
		return err_setx(e, EAFNOSUPPORT, "port %zu: host address \"%s\" is not IPv4", i, p->host_ip);
	return 0;
}

int net_ports_publish(const struct net_bridge *b, const char *owner, const char *ip, const struct net_port *ports,
                      size_t n, struct ros_err *e)
{
	int r = net_check_owner(owner, e);
	if (r < 0)
		return r;
	struct in_addr a;
	if (!ip || inet_pton(AF_INET, ip, &a) != 1)
		return err_setx(e, EINVAL, "publish ports of %s: \"%s\" is not an IPv4 address", owner,
		                ip ? ip : "(null)");
	for (size_t i = 0; i < n; i++)
		if ((r = check_port(&ports[i], i, e)) < 0)
			return net_prefix(r, e, "publish ports of %s", owner);

	cleanup_free char *listing = NULL;
	if ((r = list_ports(b, true, &listing, e)) < 0)
		return net_prefix(r, e, "publish ports of %s", owner);
	for (size_t i = 0; i < n; i++) {
		char who[NET_OWNER_MAX];
		if (port_taken(listing, owner, &ports[i], who, sizeof(who)))
			return err_setx(e, EADDRINUSE, "publish ports of %s: %s %s:%u is already published by %s",
			                owner, ports[i].proto, ports[i].host_ip[0] ? ports[i].host_ip : "0.0.0.0",
			                ports[i].host_port, who);
	}

	char chain[NET_OWNER_MAX + 4];
	snprintf(chain, sizeof(chain), "o-%s", owner);
	cleanup_free char *script = NULL;
	size_t len = 0;
	cleanup_fclose FILE *s = open_memstream(&script, &len);
	if (!s)
		return err_set(e, ENOMEM, "publish ports of %s", owner);
	/* one transaction: the owner's old rules go, the new ones come */
	fprintf(s, "add chain ip %1$s %2$s\nflush chain ip %1$s %2$s\n", b->table, chain);
	delete_jumps(s, b->table, listing, chain);
	for (size_t i = 0; i < n; i++) {
		const struct net_port *p = &ports[i];
		fprintf(s, "add rule ip %s %s ", b->table, chain);
		if (p->host_ip[0] && strcmp(p->host_ip, "0.0.0.0") && strcmp(p->host_ip, "::"))
			fprintf(s, "ip daddr %s ", p->host_ip);
		fprintf(s, "%s dport %u dnat to %s:%u comment \"%s\"\n", p->proto, p->host_port, ip, p->ctr_port,
		        owner);
	}
	if (n)
		fprintf(s, "add rule ip %s ports jump %s comment \"%s\"\n", b->table, chain, owner);
	else
		fprintf(s, "delete chain ip %s %s\n", b->table, chain);
	if (fflush(s) != 0)
		return err_set(e, ENOMEM, "publish ports of %s", owner);
	fclose(TAKE_PTR(s));
	if ((r = net_nft_run("publish ports", script, NULL, e)) < 0)
		return net_prefix(r, e, "%s", owner);
	return 0;
}

int net_ports_unpublish(const struct net_bridge *b, const char *owner, struct ros_err *e)
{
	int r = net_check_owner(owner, e);
	if (r < 0)
		return r;
	cleanup_free char *listing = NULL;
	r = list_ports(b, false, &listing, e);
	if (r == -ENOENT)
		return 0; /* no table, nothing published */
	if (r < 0)
		return net_prefix(r, e, "unpublish ports of %s", owner);
	char chain[NET_OWNER_MAX + 4];
	snprintf(chain, sizeof(chain), "o-%s", owner);
	cleanup_free char *script = NULL;
	size_t len = 0;
	cleanup_fclose FILE *s = open_memstream(&script, &len);
	if (!s)
		return err_set(e, ENOMEM, "unpublish ports of %s", owner);
	delete_jumps(s, b->table, listing, chain);
	/* add first, so deleting a chain that never existed is no error */
	fprintf(s, "add chain ip %1$s %2$s\nflush chain ip %1$s %2$s\ndelete chain ip %1$s %2$s\n", b->table, chain);
	if (fflush(s) != 0)
		return err_set(e, ENOMEM, "unpublish ports of %s", owner);
	fclose(TAKE_PTR(s));
	if ((r = net_nft_run("unpublish ports", script, NULL, e)) < 0)
		return net_prefix(r, e, "%s", owner);
	return 0;
}
