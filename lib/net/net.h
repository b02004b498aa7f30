/* SPDX-License-Identifier: MIT */
#pragma once
/*
 * Bridge network for user containers (docs/net.md): a Linux bridge with
 * the subnet's first host as gateway, a veth per container, IP allocation
 * persisted in a JSON file, per-container /etc/hosts and resolv.conf, and
 * an nftables table per bridge for outbound NAT and published ports.
 *
 * lib/ rules: never exit, never log above debug, return -errno with struct
 * ros_err set.  Functions that enter a network namespace do so with setns()
 * on the calling thread and return to the caller's namespace before they
 * return: call them from a single-threaded process (or the owning thread).
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define NET_IFNAME_MAX 16 /* IFNAMSIZ */
#define NET_OWNER_MAX 128 /* longest owner (container id) accepted */

struct net_bridge {
	char name[NET_IFNAME_MAX]; /* "docker0" */
	char cidr[64];             /* "172.17.0.0/16" (normalised) */
	char gateway[46];          /* "172.17.0.1" */
	int prefix;                /* 16 */
	char table[32];            /* nft table (family ip): "userctr-docker0" */
};

/* Fills b from name and cidr without touching the system: validates the
 * interface name and the cidr (IPv4, prefix 1..30, no host bits set) with
 * errors that name the value. */
int net_bridge_init(struct net_bridge *b, const char *name, const char *cidr, struct ros_err *e);

/* net_bridge_init, then creates the bridge if missing, gives it the gateway
 * address (first host), sets it up, enables net.ipv4.ip_forward and
 * route_localnet on the bridge, and installs the nft table with masquerade
 * for the subnet leaving by another interface.  Idempotent: a second call
 * (engine restart) changes nothing, duplicates no rule and keeps the ports
 * already published. */
int net_bridge_setup(struct net_bridge *b, const char *name, const char *cidr, struct ros_err *e);
/* Removes the nft table and the bridge; what is already gone is no error. */
int net_bridge_teardown(const struct net_bridge *b, struct ros_err *e);

/* Parses "a.b.c.d/N" into the network address (host bits must be zero) and
 * the prefix (1..32). */
int net_cidr_parse(const char *cidr, unsigned *network_be, int *prefix, struct ros_err *e);

/* IP allocation persisted in a JSON state file (docs/net.md), written with
 * fs_write_atomic under an flock on "<state_file>.lock": owner (container
 * id) -> address.  The same owner gets the same address again; network,
 * gateway and broadcast are never handed out; a full subnet fails with
 * -ENOSPC.  Addresses are handed out round-robin after the last one given,
 * so a released address is not reused at once. */
int net_ipam_alloc(const struct net_bridge *b, const char *state_file, const char *owner, char ip[46],
                   struct ros_err *e);
/* Forgets owner's address; an unknown owner or a missing file is no error. */
int net_ipam_release(const char *state_file, const char *owner, struct ros_err *e);

/* Creates a veth pair: host end host_if (e.g. "veth" + 8 hex of the id)
 * attached to the bridge and up; the peer created directly in the network
 * namespace netns_fd as eth0, with a MAC derived from the IP like Docker's
 * (02:42:ac:11:00:02), given ip/prefix, up, loopback up, default route via
 * the gateway.  On failure nothing is left behind. */
int net_veth_attach(const struct net_bridge *b, int netns_fd, const char *host_if, const char *ip, struct ros_err *e);
/* Deletes the host end (the peer goes with it); a missing link is no error. */
int net_veth_detach(const char *host_if, struct ros_err *e);
/* Loopback up inside a netns (for --network none). */
int net_lo_up(int netns_fd, struct ros_err *e);

struct net_port {
	char proto[4];    /* "tcp" / "udp" */
	char host_ip[46]; /* "" = all of the host's addresses */
	unsigned short host_port, ctr_port;
};

/* DNATs each HOST_PORT to ip:ctr_port for traffic arriving from outside,
 * for connections made on the host itself (127.0.0.1:HOST_PORT, or any of
 * the host's addresses) and from other containers (hairpin).  Rules live in
 * a per-owner chain "o-OWNER" of the bridge's table, so a second call
 * replaces the first and unpublish removes them as a group.  A host port
 * another owner publishes on an overlapping address fails with -EADDRINUSE
 * naming that owner.  host_port 0 is refused: pick one first with
 * net_port_pick_free.  Fails with -ENOENT when the bridge's table is
 * missing (net_bridge_setup not called). */
int net_ports_publish(const struct net_bridge *b, const char *owner, const char *ip, const struct net_port *ports,
                      size_t n, struct ros_err *e);
/* Removes owner's published ports; none published is no error. */
int net_ports_unpublish(const struct net_bridge *b, const char *owner, struct ros_err *e);

/* HostConfig.PortBindings ({"80/tcp":[{"HostIp":"","HostPort":"8080"}]})
 * -> a heap array of ports (free() it).  A missing protocol is tcp; an
 * empty HostPort gives host_port 0 ("any free port"); an empty binding list
 * publishes on all addresses with host_port 0.  Errors name the bad key.
 * NULL or JSON null gives n = 0. */
int net_ports_from_json(json_t *bindings, struct net_port **out, size_t *n, struct ros_err *e);
/* For a port with host_port 0: asks the kernel for a free ephemeral port on
 * host_ip for the protocol and stores it in p->host_port. */
int net_port_pick_free(struct net_port *p, struct ros_err *e);

/* Writes dir/hosts (localhost lines, ip + hostname), dir/hostname and
 * dir/resolv.conf (the host's /etc/resolv.conf with loopback nameservers
 * dropped, as Docker does; 8.8.8.8 and 8.8.4.4 when none is left), each
 * atomically.  ip may be NULL or "" (--network none/host). */
int net_write_etc(const char *dir, const char *hostname, const char *ip, struct ros_err *e);
/* Same, reading host_resolv instead of /etc/resolv.conf (a missing file
 * counts as empty). */
int net_write_etc_from(const char *dir, const char *hostname, const char *ip, const char *host_resolv,
                       struct ros_err *e);
