/* SPDX-License-Identifier: MIT */
#pragma once
/*
 * ros-network's view of the merged config: ros.network.interfaces.*,
 * ros.network.dns.*, the hostname and the DHCP timeout, checked and turned
 * into plain structs.  A bad value is a diagnostic naming the key; the
 * entry it belongs to is kept but marked invalid, so the links it matches
 * are skipped rather than configured by a weaker pattern.
 */
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

#define NETCFG_HOST_MAX 64 /* HOST_NAME_MAX */

struct netcfg_cidr {
	struct in_addr addr;
	unsigned prefix;
};

enum netcfg_match { NETCFG_MATCH_NAME, NETCFG_MATCH_MAC, NETCFG_MATCH_GLOB };

struct netcfg_iface {
	char *key; /* the key as written: "eth0", "eth*", "mac=aa:bb:..." */
	enum netcfg_match match;
	uint8_t mac[6];
	bool valid; /* false: a value was bad (reported); matching links are skipped */
	bool dhcp;
	struct netcfg_cidr *addrs;
	size_t n_addrs;
	bool has_gateway;
	struct in_addr gateway;
	unsigned mtu; /* 0: leave the link's MTU alone */
};

struct netcfg {
	struct netcfg_iface *ifaces;
	size_t n_ifaces;
	char **nameservers; /* checked IPv4/IPv6 literals */
	size_t n_nameservers;
	char **search;
	size_t n_search;
	char hostname[NETCFG_HOST_MAX + 1];         /* set by the user's config; "" when none */
	char default_hostname[NETCFG_HOST_MAX + 1]; /* the image default, when nothing better */
	int dhcp_timeout;                           /* seconds */
};

/* Reads the tree into c; every bad value is an error in d naming its key. */
int netcfg_from_tree(const struct cfg_node *tree, struct netcfg *c, struct cfg_diag *d);
void netcfg_free(struct netcfg *c);

/* The entry for a link: an exact name beats mac=, which beats a glob; of
 * several globs the longest pattern wins, then the later one.  NULL: none. */
const struct netcfg_iface *netcfg_match_link(const struct netcfg *c, const char *name, const uint8_t mac[6]);

/* "a.b.c.d/N", strictly. */
bool netcfg_parse_cidr(const char *s, struct netcfg_cidr *out);
/* "aa:bb:cc:dd:ee:ff", hex case-insensitive. */
bool netcfg_parse_mac(const char *s, uint8_t mac[6]);
/* RFC 1123 host name (labels of letters, digits and '-', dots between). */
bool netcfg_valid_hostname(const char *s);
