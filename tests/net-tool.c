/* SPDX-License-Identifier: MIT */
/*
 * net-tool: a thin command line over lib/net for tests/integration/net.bats
 * (built by mk/net-test.mk, not installed).  Prints errors as the engine
 * would log them and exits 1.
 *
 *   net-tool setup BRIDGE CIDR
 *   net-tool teardown BRIDGE CIDR
 *   net-tool alloc BRIDGE CIDR STATEFILE OWNER        prints the address
 *   net-tool release STATEFILE OWNER
 *   net-tool attach BRIDGE CIDR NETNS_PATH HOST_IF IP
 *   net-tool detach HOST_IF
 *   net-tool lo-up NETNS_PATH
 *   net-tool publish BRIDGE CIDR OWNER IP PORTBINDINGS_JSON
 *   net-tool unpublish BRIDGE CIDR OWNER
 *   net-tool etc DIR HOSTNAME IP [HOST_RESOLV]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "net/net.h"

static int usage(void)
{
	fputs("usage: net-tool setup|teardown|alloc|release|attach|detach|lo-up|publish|unpublish|etc ...\n", stderr);
	return 2;
}

static int open_ns(const char *path, struct ros_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? err_set(e, errno, "open %s", path) : fd;
}

static int run(int argc, char **argv, struct ros_err *e)
{
	const char *cmd = argv[1];
	struct net_bridge b;
	int r;
	if (!strcmp(cmd, "setup") && argc == 4)
		return net_bridge_setup(&b, argv[2], argv[3], e);
	if (!strcmp(cmd, "teardown") && argc == 4)
		return (r = net_bridge_init(&b, argv[2], argv[3], e)) < 0 ? r : net_bridge_teardown(&b, e);
	if (!strcmp(cmd, "alloc") && argc == 6) {
		char ip[46];
		if ((r = net_bridge_init(&b, argv[2], argv[3], e)) < 0 ||
		    (r = net_ipam_alloc(&b, argv[4], argv[5], ip, e)) < 0)
			return r;
		printf("%s\n", ip);
		return 0;
	}
	if (!strcmp(cmd, "release") && argc == 4)
		return net_ipam_release(argv[2], argv[3], e);
	if (!strcmp(cmd, "attach") && argc == 7) {
		if ((r = net_bridge_init(&b, argv[2], argv[3], e)) < 0)
			return r;
		cleanup_close int ns = open_ns(argv[4], e);
		return ns < 0 ? ns : net_veth_attach(&b, ns, argv[5], argv[6], e);
	}
	if (!strcmp(cmd, "detach") && argc == 3)
		return net_veth_detach(argv[2], e);
	if (!strcmp(cmd, "lo-up") && argc == 3) {
		cleanup_close int ns = open_ns(argv[2], e);
		return ns < 0 ? ns : net_lo_up(ns, e);
	}
	if (!strcmp(cmd, "publish") && argc == 7) {
		if ((r = net_bridge_init(&b, argv[2], argv[3], e)) < 0)
			return r;
		json_error_t je;
		json_auto_t *j = json_loads(argv[6], 0, &je);
		if (!j)
			return err_setx(e, EINVAL, "PortBindings JSON: %s", je.text);
		cleanup_free struct net_port *ports = NULL;
		size_t n = 0;
		if ((r = net_ports_from_json(j, &ports, &n, e)) < 0)
			return r;
		for (size_t i = 0; i < n; i++) {
			if (!ports[i].host_port && (r = net_port_pick_free(&ports[i], e)) < 0)
				return r;
			printf("%s %s:%u -> %u\n", ports[i].proto, ports[i].host_ip[0] ? ports[i].host_ip : "*",
			       ports[i].host_port, ports[i].ctr_port);
		}
		return net_ports_publish(&b, argv[4], argv[5], ports, n, e);
	}
	if (!strcmp(cmd, "unpublish") && argc == 5)
		return (r = net_bridge_init(&b, argv[2], argv[3], e)) < 0 ? r : net_ports_unpublish(&b, argv[4], e);
	if (!strcmp(cmd, "etc") && (argc == 5 || argc == 6))
		return argc == 6 ? net_write_etc_from(argv[2], argv[3], argv[4], argv[5], e)
		                 : net_write_etc(argv[2], argv[3], argv[4], e);
	return 1000;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	struct ros_err e = {0};
	int r = run(argc, argv, &e);
	if (r == 1000)
		return usage();
	if (r < 0) {
		fprintf(stderr, "net-tool %s: %s\n", argv[1], err_msg(&e));
		return 1;
	}
	return 0;
}
