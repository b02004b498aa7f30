/* SPDX-License-Identifier: MIT */
/*
 * ros.network.* and the hostname, from the merged config tree into
 * struct netcfg (netcfg.h).  Never prints: problems go to a cfg_diag.
 */
#define _GNU_SOURCE
#include "netcfg.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/cleanup.h"

#define IFACES_KEY "ros.network.interfaces"

bool netcfg_parse_cidr(const char *s, struct netcfg_cidr *out)
{
	const char *slash = strchr(s, '/');
	if (!slash || slash == s || (size_t)(slash - s) >= INET_ADDRSTRLEN)
		return false;
	char ip[INET_ADDRSTRLEN];
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	struct in_addr a;
	if (inet_pton(AF_INET, ip, &a) != 1)
		return false;
	const char *p = slash + 1;
	if (!*p || strlen(p) > 2)
		return false;
	unsigned prefix = 0;
	for (; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return false;
		prefix = prefix * 10 + (unsigned)(*p - '0');
	}
	if (prefix > 32)
		return false;
	out->addr = a;
	out->prefix = prefix;
	return true;
}

bool netcfg_parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]))
			return false;
		char hex[3] = {s[0], s[1], '\0'};
		mac[i] = (uint8_t)strtoul(hex, NULL, 16);
		s += 2;
		if (i < 5 && *s++ != ':')
			return false;
	}
	return *s == '\0';
}

bool netcfg_valid_hostname(const char *s)
{
	size_t len = strlen(s), label = 0;
	if (len == 0 || len > NETCFG_HOST_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)c) && !(c == '-' && label > 0))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 && s[len - 1] != '-';
}

/* " (FILE:LINE:COL)" for a node read from a file, "" otherwise. */
static const char *where(const struct cfg_node *n, char *buf, size_t size)
{
	buf[0] = '\0';
	if (n && n->file && n->line)
		snprintf(buf, size, " (%s:%d:%d)", n->file, n->line, n->col);
	return buf;
}

static bool add_cidr(struct netcfg_iface *f, const struct cfg_node *n, const char *key, struct cfg_diag *d)
{
	char buf[64], pos[512];
	const char *s = NULL;
	struct ros_err e = {0};
	if (cfg_as_string(n, key, &s, buf, sizeof(buf), &e) < 0) {
		cfg_diag_add(d, true, "%s", e.msg);
		return false;
	}
	struct netcfg_cidr c;
	if (!netcfg_parse_cidr(s, &c)) {
		cfg_diag_add(d, true, "%s: \"%s\" is not an IPv4 CIDR (want a.b.c.d/N)%s", key, s,
		             where(n, pos, sizeof(pos)));
		return false;
	}
	struct netcfg_cidr *na = realloc(f->addrs, (f->n_addrs + 1) * sizeof(*na));
	if (!na) {
		cfg_diag_add(d, true, "%s: out of memory", key);
		return false;
	}
	f->addrs = na;
	f->addrs[f->n_addrs++] = c;
	return true;
}

/* One ros.network.interfaces entry; false when any value was bad. */
static bool parse_iface(struct netcfg_iface *f, const char *name, const struct cfg_node *v, struct cfg_diag *d)
{
	char key[512], pos[512];
	bool ok = true;
	if (!strncasecmp(name, "mac=", 4)) {
		f->match = NETCFG_MATCH_MAC;
		if (!netcfg_parse_mac(name + 4, f->mac)) {
			cfg_diag_add(d, true, "%s.%s: \"%s\" is not a MAC address pattern (want mac=aa:bb:cc:dd:ee:ff)",
			             IFACES_KEY, name, name);
			ok = false;
		}
	} else if (strpbrk(name, "*?[")) {
		f->match = NETCFG_MATCH_GLOB;
	} else {
		f->match = NETCFG_MATCH_NAME;
		if (strlen(name) >= IFNAMSIZ || strchr(name, '/')) {
			cfg_diag_add(d, true, "%s.%s: \"%s\" is not an interface name", IFACES_KEY, name, name);
			ok = false;
		}
	}
	if (!v || v->type == CFG_NULL) {
		f->dhcp = true;
		return ok;
	}
	if (v->type != CFG_MAP) {
		cfg_diag_add(d, true, "%s.%s: expected a map of dhcp, address, addresses, gateway, mtu%s", IFACES_KEY,
		             name, where(v, pos, sizeof(pos)));
		return false;
	}
	struct ros_err e = {0};
	const struct cfg_node *n;
	if ((n = cfg_map_get(v, "address"))) {
		snprintf(key, sizeof(key), "%s.%s.address", IFACES_KEY, name);
		ok &= add_cidr(f, n, key, d);
	}
	if ((n = cfg_map_get(v, "addresses"))) {
		if (n->type != CFG_LIST) {
			cfg_diag_add(d, true, "%s.%s.addresses: expected a list of a.b.c.d/N%s", IFACES_KEY, name,
			             where(n, pos, sizeof(pos)));
			ok = false;
		}
		for (size_t i = 0; i < cfg_list_size(n); i++) {
			snprintf(key, sizeof(key), "%s.%s.addresses[%zu]", IFACES_KEY, name, i);
			ok &= add_cidr(f, cfg_list_at(n, i), key, d);
		}
	}
	/* dhcp defaults to on unless static addresses are given */
	f->dhcp = f->n_addrs == 0;
	if ((n = cfg_map_get(v, "dhcp"))) {
		snprintf(key, sizeof(key), "%s.%s.dhcp", IFACES_KEY, name);
		if (cfg_as_bool(n, key, &f->dhcp, &e) < 0) {
			cfg_diag_add(d, true, "%s", e.msg);
			ok = false;
		}
	}
	if ((n = cfg_map_get(v, "gateway"))) {
		snprintf(key, sizeof(key), "%s.%s.gateway", IFACES_KEY, name);
		char buf[64];
		const char *s = NULL;
		if (cfg_as_string(n, key, &s, buf, sizeof(buf), &e) < 0) {
			cfg_diag_add(d, true, "%s", e.msg);
			ok = false;
		} else if (inet_pton(AF_INET, s, &f->gateway) != 1) {
			cfg_diag_add(d, true, "%s: \"%s\" is not an IPv4 address%s", key, s,
			             where(n, pos, sizeof(pos)));
			ok = false;
		} else {
			f->has_gateway = true;
		}
	}
	if ((n = cfg_map_get(v, "mtu"))) {
		snprintf(key, sizeof(key), "%s.%s.mtu", IFACES_KEY, name);
		long long mtu = 0;
		if (cfg_as_int(n, key, &mtu, &e) < 0) {
			cfg_diag_add(d, true, "%s", e.msg);
			ok = false;
		} else if (mtu < 68 || mtu > 65535) {
			cfg_diag_add(d, true, "%s: %lld is not an MTU (68..65535)%s", key, mtu,
			             where(n, pos, sizeof(pos)));
			ok = false;
		} else {
			f->mtu = (unsigned)mtu;
		}
	}
	for (size_t i = 0; i < cfg_map_size(v); i++) {
		const char *k = cfg_map_key_at(v, i);
		if (strcmp(k, "dhcp") && strcmp(k, "address") && strcmp(k, "addresses") && strcmp(k, "gateway") &&
		    strcmp(k, "mtu"))
			cfg_diag_add(d, false, "%s.%s.%s: unknown key, ignored", IFACES_KEY, name, k);
	}
	return ok;
}

static int add_string(char ***v, size_t *n, const char *s)
{
	cleanup_free char *dup = strdup(s);
	char **nv = dup ? realloc(*v, (*n + 1) * sizeof(**v)) : NULL;
	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[(*n)++] = TAKE_PTR(dup);
	return 0;
}

static void read_dns(const struct cfg_node *tree, struct netcfg *c, struct cfg_diag *d)
{
	static const char *const lists[] = {"nameservers", "search"};
	for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
		char key[128], pos[512];
		snprintf(key, sizeof(key), "ros.network.dns.%s", lists[l]);
		const struct cfg_node *list = cfg_get(tree, key);
		if (!list || list->type == CFG_NULL)
			continue;
		if (list->type != CFG_LIST) {
			cfg_diag_add(d, true, "%s: expected a list%s", key, where(list, pos, sizeof(pos)));
			continue;
		}
		for (size_t i = 0; i < cfg_list_size(list); i++) {
			const struct cfg_node *n = cfg_list_at(list, i);
			char item[160], buf[64];
			snprintf(item, sizeof(item), "%s[%zu]", key, i);
			const char *s = NULL;
			struct ros_err e = {0};
			if (cfg_as_string(n, item, &s, buf, sizeof(buf), &e) < 0) {
				cfg_diag_add(d, true, "%s", e.msg);
				continue;
			}
			if (l == 0) {
				unsigned char a[sizeof(struct in6_addr)];
				if (inet_pton(AF_INET, s, a) != 1 && inet_pton(AF_INET6, s, a) != 1) {
					cfg_diag_add(d, true, "%s: \"%s\" is not an IP address%s", item, s,
					             where(n, pos, sizeof(pos)));
					continue;
				}
				if (add_string(&c->nameservers, &c->n_nameservers, s) < 0)
					cfg_diag_add(d, true, "%s: out of memory", item);
			} else {
				if (!*s || strpbrk(s, " \t\r\n") || strlen(s) > 253) {
					cfg_diag_add(d, true, "%s: \"%s\" is not a domain name%s", item, s,
					             where(n, pos, sizeof(pos)));
					continue;
				}
				if (add_string(&c->search, &c->n_search, s) < 0)
					cfg_diag_add(d, true, "%s: out of memory", item);
			}
		}
	}
}

/* Is this node the image's default rather than something the user set?
 * The schema's defaults carry no file or a "<schema>" one; the image layer
 * is the lowest file. */
static bool is_default(const struct cfg_node *n)
{
	if (!n->file || n->file[0] == '<')
		return true;
	size_t fl = strlen(n->file), il = strlen(CFG_PATH_IMAGE);
	return fl >= il && !strcmp(n->file + fl - il, CFG_PATH_IMAGE);
}

static void read_hostname(const struct cfg_node *tree, struct netcfg *c, struct cfg_diag *d)
{
	snprintf(c->default_hostname, sizeof(c->default_hostname), "ros");
	static const char *const keys[] = {"hostname", "ros.hostname"};
	bool have_default = false;
	for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
		const struct cfg_node *n = cfg_get(tree, keys[k]);
		if (!n || n->type == CFG_NULL)
			continue;
		char buf[64], pos[512];
		const char *s = NULL;
		struct ros_err e = {0};
		if (cfg_as_string(n, keys[k], &s, buf, sizeof(buf), &e) < 0) {
			cfg_diag_add(d, true, "%s", e.msg);
			continue;
		}
		if (!netcfg_valid_hostname(s)) {
			cfg_diag_add(d, true, "%s: \"%s\" is not a valid host name%s", keys[k], s,
			             where(n, pos, sizeof(pos)));
			continue;
		}
		/* `hostname` before `ros.hostname`, for both the user's and the default */
		if (!is_default(n) && !*c->hostname)
			snprintf(c->hostname, sizeof(c->hostname), "%s", s);
		else if (is_default(n) && !have_default)
			snprintf(c->default_hostname, sizeof(c->default_hostname), "%s", s);
		have_default |= is_default(n);
	}
}

int netcfg_from_tree(const struct cfg_node *tree, struct netcfg *c, struct cfg_diag *d)
{
	*c = (struct netcfg){0};
	c->dhcp_timeout = 10;
	const struct cfg_node *t = cfg_get(tree, "ros.network.dhcp_timeout");
	if (t) {
		long long v;
		struct ros_err e = {0};
		if (cfg_as_int(t, "ros.network.dhcp_timeout", &v, &e) < 0)
			cfg_diag_add(d, true, "%s", e.msg);
		else if (v < 0 || v > 3600)
			cfg_diag_add(d, true, "ros.network.dhcp_timeout: %lld is out of range (0..3600)", v);
		else
			c->dhcp_timeout = (int)v;
	}
	const struct cfg_node *ifs = cfg_get(tree, IFACES_KEY);
	if (ifs && ifs->type != CFG_MAP && ifs->type != CFG_NULL)
		cfg_diag_add(d, true, "%s: expected a map of interface name, glob or mac=... to settings", IFACES_KEY);
	size_t n = ifs && ifs->type == CFG_MAP ? cfg_map_size(ifs) : 0;
	if (n && !(c->ifaces = calloc(n, sizeof(*c->ifaces))))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct netcfg_iface *f = &c->ifaces[c->n_ifaces++];
		const char *name = cfg_map_key_at(ifs, i);
		if (!(f->key = strdup(name)))
			return -ENOMEM;
		f->valid = parse_iface(f, name, cfg_map_value_at(ifs, i), d);
	}
	read_dns(tree, c, d);
	read_hostname(tree, c, d);
	return 0;
}

void netcfg_free(struct netcfg *c)
{
	for (size_t i = 0; i < c->n_ifaces; i++) {
		free(c->ifaces[i].key);
		free(c->ifaces[i].addrs);
	}
	free(c->ifaces);
	for (size_t i = 0; i < c->n_nameservers; i++)
		free(c->nameservers[i]);
	free(c->nameservers);
	for (size_t i = 0; i < c->n_search; i++)
		free(c->search[i]);
	free(c->search);
	*c = (struct netcfg){0};
}

const struct netcfg_iface *netcfg_match_link(const struct netcfg *c, const char *name, const uint8_t mac[6])
{
	const struct netcfg_iface *by_mac = NULL, *by_glob = NULL;
	for (size_t i = 0; i < c->n_ifaces; i++) {
		const struct netcfg_iface *f = &c->ifaces[i];
		switch (f->match) {
		case NETCFG_MATCH_NAME:
			if (!strcmp(f->key, name))
				return f;
			break;
		case NETCFG_MATCH_MAC:
			/* a bad mac= pattern matches nothing: its parse failed */
			if (mac && f->valid && !memcmp(f->mac, mac, 6))
				by_mac = f;
			break;
		case NETCFG_MATCH_GLOB:
			if (fnmatch(f->key, name, 0) == 0 && (!by_glob || strlen(f->key) >= strlen(by_glob->key)))
				by_glob = f;
			break;
		}
	}
	return by_mac ? by_mac : by_glob;
}
