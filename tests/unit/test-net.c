/* SPDX-License-Identifier: MIT */
/* lib/net without touching the network: cidr parsing, the address
 * allocator and its state file, PortBindings parsing, /etc files. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdlib.h>
#include <unistd.h>

#include "../tap.h"
#include "core/cleanup.h"
#include "core/fs.h"
#include "net/net.h"

static char *tmpdir(void)
{
	char *t = strdup("/tmp/ros-test-net.XXXXXX");
	return mkdtemp(t);
}

static char *path_in(const char *dir, const char *name)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		abort();
	return p;
}

static char *slurp(const char *path)
{
	char *s = NULL;
	if (fs_read_all(path, 1 << 20, &s, NULL, NULL) < 0)
		return NULL;
	return s;
}

TEST(cidr_parses_network_and_prefix)
{
	struct ros_err e = {0};
	unsigned net = 0;
	int prefix = 0;
	is_int(net_cidr_parse("172.17.0.0/16", &net, &prefix, &e), 0);
	is_int(ntohl(net), 0xac110000);
	is_int(prefix, 16);
	is_int(net_cidr_parse("10.0.0.0/8", &net, &prefix, &e), 0);
	is_int(prefix, 8);
}

TEST(cidr_rejects_bad_values_and_names_them)
{
	struct ros_err e = {0};
	unsigned net;
	int prefix;
	is_int(net_cidr_parse("172.17.0.5/16", &net, &prefix, &e), -EINVAL);
	is_str(e.msg, "cidr \"172.17.0.5/16\": host bits set (the network is 172.17.0.0/16)");
	is_int(net_cidr_parse("172.17.0.0", &net, &prefix, &e), -EINVAL);
	ok(strstr(e.msg, "\"172.17.0.0\"") && strstr(e.msg, "ADDRESS/PREFIX"), "no prefix: %s", e.msg);
	is_int(net_cidr_parse("172.17.0.0/33", &net, &prefix, &e), -EINVAL);
	ok(strstr(e.msg, "prefix length 33"), "prefix 33: %s", e.msg);
	is_int(net_cidr_parse("172.17.0.0/", &net, &prefix, &e), -EINVAL);
	is_int(net_cidr_parse("172.17.0.0/1x", &net, &prefix, &e), -EINVAL);
	ok(strstr(e.msg, "bad prefix length \"1x\""), "prefix 1x: %s", e.msg);
	is_int(net_cidr_parse("172.17.0.0/0", &net, &prefix, &e), -EINVAL);
	is_int(net_cidr_parse("172.300.0.0/16", &net, &prefix, &e), -EINVAL);
	ok(strstr(e.msg, "\"172.300.0.0\" is not an IPv4 address"), "bad address: %s", e.msg);
	is_int(net_cidr_parse("fd00::/64", &net, &prefix, &e), -EINVAL);
}

TEST(bridge_init_derives_gateway_and_table)
{
	struct ros_err e = {0};
	struct net_bridge b;
	is_int(net_bridge_init(&b, "docker0", "172.17.0.0/16", &e), 0);
	is_str(b.name, "docker0");
	is_str(b.cidr, "172.17.0.0/16");
	is_str(b.gateway, "172.17.0.1");
	is_int(b.prefix, 16);
	is_str(b.table, "userctr-docker0");
	is_int(net_bridge_init(&b, "docker0", "10.9.8.0/31", &e), -EINVAL);
	ok(strstr(e.msg, "/31 has no room"), "/31: %s", e.msg);
	is_int(net_bridge_init(&b, "a-very-long-bridge-name", "10.0.0.0/24", &e), -EINVAL);
	ok(strstr(e.msg, "bridge name \"a-very-long-bridge-name\""), "long name: %s", e.msg);
	is_int(net_bridge_init(&b, "br;flush ruleset", "10.0.0.0/24", &e), -EINVAL);
	is_int(net_bridge_init(&b, "", "10.0.0.0/24", &e), -EINVAL);
}

TEST(ipam_gives_distinct_addresses_and_the_same_one_again)
{
	cleanup_free char *d = tmpdir();
	cleanup_free char *state = path_in(d, "ipam.json");
	struct ros_err e = {0};
	struct net_bridge b;
	char a[46], bb[46], again[46];
	is_int(net_bridge_init(&b, "br0", "10.44.0.0/24", &e), 0);
	is_int(net_ipam_alloc(&b, state, "ctr-a", a, &e), 0);
	is_str(a, "10.44.0.2"); /* .0 network, .1 gateway */
	is_int(net_ipam_alloc(&b, state, "ctr-b", bb, &e), 0);
	is_str(bb, "10.44.0.3");
	is_int(net_ipam_alloc(&b, state, "ctr-a", again, &e), 0);
	is_str(again, "10.44.0.2");
	/* it is all in the file: a fresh read after a "restart" agrees */
	cleanup_free char *text = slurp(state);
	ok(text && strstr(text, "\"ctr-a\": \"10.44.0.2\"") && strstr(text, "\"ctr-b\": \"10.44.0.3\""),
	   "state file: %s", text ? text : "(none)");
	fs_remove_tree(d, &e);
}

TEST(ipam_release_does_not_reuse_at_once_and_wraps_around)
{
	cleanup_free char *d = tmpdir();
	cleanup_free char *state = path_in(d, "ipam.json");
	struct ros_err e = {0};
	struct net_bridge b;
	char ip[46];
	/* /29: .0 network, .1 gateway, .2-.6 hosts, .7 broadcast */
	is_int(net_bridge_init(&b, "br0", "10.44.1.0/29", &e), 0);
	const char *owners[] = {"c1", "c2", "c3", "c4", "c5"};
	for (size_t i = 0; i < ARRAY_SIZE(owners); i++) {
		is_int(net_ipam_alloc(&b, state, owners[i], ip, &e), 0);
		char want[46];
		snprintf(want, sizeof(want), "10.44.1.%zu", i + 2);
		is_str(ip, want);
	}
	is_int(net_ipam_alloc(&b, state, "c6", ip, &e), -ENOSPC);
	ok(strstr(e.msg, "no free address in 10.44.1.0/29 for c6"), "full: %s", e.msg);
	is_int(net_ipam_release(state, "c2", &e), 0);
	is_int(net_ipam_release(state, "c2", &e), 0); /* twice is fine */
	is_int(net_ipam_release(state, "never-seen", &e), 0);
	is_int(net_ipam_alloc(&b, state, "c6", ip, &e), 0);
	is_str(ip, "10.44.1.3"); /* the only free one, after wrapping past .6 */
	is_int(net_ipam_release(state, "c1", &e), 0);
	is_int(net_ipam_release(state, "c4", &e), 0);
	is_int(net_ipam_alloc(&b, state, "c7", ip, &e), 0);
	is_str(ip, "10.44.1.5"); /* after the last handed out (.3), not the lowest (.2) */
	fs_remove_tree(d, &e);
}

TEST(ipam_smallest_subnet_has_one_address)
{
	cleanup_free char *d = tmpdir();
	cleanup_free char *state = path_in(d, "ipam.json");
	struct ros_err e = {0};
	struct net_bridge b;
	char ip[46];
	is_int(net_bridge_init(&b, "br0", "192.168.77.0/30", &e), 0);
	is_int(net_ipam_alloc(&b, state, "one", ip, &e), 0);
	is_str(ip, "192.168.77.2");
	is_int(net_ipam_alloc(&b, state, "two", ip, &e), -ENOSPC);
	fs_remove_tree(d, &e);
}

TEST(ipam_reallocates_when_the_subnet_changed)
{
	cleanup_free char *d = tmpdir();
	cleanup_free char *state = path_in(d, "ipam.json");
	struct ros_err e = {0};
	struct net_bridge b1, b2;
	char ip[46];
	is_int(net_bridge_init(&b1, "br0", "10.50.0.0/24", &e), 0);
	is_int(net_bridge_init(&b2, "br0", "10.60.0.0/24", &e), 0);
	is_int(net_ipam_alloc(&b1, state, "x", ip, &e), 0);
	is_str(ip, "10.50.0.2");
	is_int(net_ipam_alloc(&b2, state, "x", ip, &e), 0);
	is_str(ip, "10.60.0.2");
	fs_remove_tree(d, &e);
}

TEST(ipam_rejects_a_corrupt_state_file_and_bad_owners)
{
	cleanup_free char *d = tmpdir();
	cleanup_free char *state = path_in(d, "ipam.json");
	struct ros_err e = {0};
	struct net_bridge b;
	char ip[46];
	is_int(net_bridge_init(&b, "br0", "10.44.2.0/24", &e), 0);
	is_int(fs_write_atomic(state, "{\"allocations\": {\"a\": ", 22, 0644, &e), 0);
	is_int(net_ipam_alloc(&b, state, "a", ip, &e), -EINVAL);
	ok(strstr(e.msg, state) != NULL, "names the file: %s", e.msg);
	const char *bad = "{\"allocations\": {\"a\": \"10.44.2.999\"}}";
	is_int(fs_write_atomic(state, bad, strlen(bad), 0644, &e), 0);
	is_int(net_ipam_alloc(&b, state, "b", ip, &e), -EINVAL);
	ok(strstr(e.msg, "allocations[\"a\"]"), "names the entry: %s", e.msg);
	is_int(net_ipam_alloc(&b, state, "../x y", ip, &e), -EINVAL);
	ok(strstr(e.msg, "owner \"../x y\""), "bad owner: %s", e.msg);
	fs_remove_tree(d, &e);
}

static int ports_from(const char *text, struct net_port **out, size_t *n, struct ros_err *e)
{
	json_auto_t *j = json_loads(text, 0, NULL);
	if (!j)
		return -999;
	return net_ports_from_json(j, out, n, e);
}

static const struct net_port *find_port(const struct net_port *p, size_t n, const char *proto, unsigned ctr,
                                        const char *host_ip)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(p[i].proto, proto) && p[i].ctr_port == ctr && !strcmp(p[i].host_ip, host_ip))
			return &p[i];
	return NULL;
}

TEST(port_bindings_parse_like_docker)
{
	struct ros_err e = {0};
	cleanup_free struct net_port *p = NULL;
	size_t n = 0;
	is_int(ports_from("{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8080\"},"
	                  "{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"8081\"}],"
	                  "\"53/udp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"5353\"}],"
	                  "\"443\":[{\"HostPort\":\"\"}], \"9000/tcp\":null, \"22/tcp\":[{\"HostPort\":2222}]}",
	                  &p, &n, &e),
	       0);
	is_int(n, 6);
	const struct net_port *q = find_port(p, n, "tcp", 80, "");
	ok(q && q->host_port == 8080, "80/tcp on all addresses -> 8080");
	q = find_port(p, n, "tcp", 80, "127.0.0.1");
	ok(q && q->host_port == 8081, "80/tcp on 127.0.0.1 -> 8081");
	q = find_port(p, n, "udp", 53, "");
	ok(q && q->host_port == 5353, "53/udp, 0.0.0.0 means all");
	q = find_port(p, n, "tcp", 443, "");
	ok(q && q->host_port == 0, "443 without protocol is tcp, empty HostPort is any");
	q = find_port(p, n, "tcp", 9000, "");
	ok(q && q->host_port == 0, "null bindings publish on any port");
	q = find_port(p, n, "tcp", 22, "");
	ok(q && q->host_port == 2222, "integer HostPort");

	free(TAKE_PTR(p));
	is_int(net_ports_from_json(NULL, &p, &n, &e), 0);
	is_int(n, 0);
	is_int(ports_from("{}", &p, &n, &e), 0);
	is_int(n, 0);
}

TEST(port_bindings_errors_name_the_bad_key)
{
	struct ros_err e = {0};
	cleanup_free struct net_port *p = NULL;
	size_t n = 0;
	struct {
		const char *json;
		int code;
		const char *msg;
	} cases[] = {
	        {"[]", -EINVAL, "PortBindings: want an object"},
	        {"{\"abc/tcp\":[]}", -EINVAL, "PortBindings[\"abc/tcp\"]: want PORT"},
	        {"{\"0/tcp\":[]}", -EINVAL, "PortBindings[\"0/tcp\"]"},
	        {"{\"70000/tcp\":[]}", -EINVAL, "PortBindings[\"70000/tcp\"]"},
	        {"{\"80-81/tcp\":[]}", -EINVAL, "ranges are not supported"},
	        {"{\"80/sctp\":[]}", -EPROTONOSUPPORT, "PortBindings[\"80/sctp\"]: protocol \"sctp\""},
	        {"{\"80/tcp\":\"8080\"}", -EINVAL, "PortBindings[\"80/tcp\"]: want a list"},
	        {"{\"80/tcp\":[42]}", -EINVAL, "PortBindings[\"80/tcp\"][0]: want an object"},
	        {"{\"80/tcp\":[{\"HostPort\":\"8080\"},{\"HostPort\":\"99999\"}]}", -EINVAL,
	         "PortBindings[\"80/tcp\"][1].HostPort \"99999\""},
	        {"{\"80/tcp\":[{\"HostPort\":\"8080-8081\"}]}", -EINVAL, "ranges are not supported"},
	        {"{\"80/tcp\":[{\"HostPort\":true}]}", -EINVAL, "PortBindings[\"80/tcp\"][0].HostPort: want"},
	        {"{\"80/tcp\":[{\"HostIp\":\"nope\",\"HostPort\":\"1\"}]}", -EINVAL,
	         "PortBindings[\"80/tcp\"][0].HostIp \"nope\": not an IP address"},
	        {"{\"80/tcp\":[{\"HostIp\":\"::1\",\"HostPort\":\"1\"}]}", -EAFNOSUPPORT,
	         "HostIp \"::1\": IPv6 is not supported"},
	        {"{\"80/tcp\":[{\"HostIp\":5}]}", -EINVAL, "PortBindings[\"80/tcp\"][0].HostIp: want a string"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		err_clear(&e);
		int r = ports_from(cases[i].json, &p, &n, &e);
		ok(r == cases[i].code && strstr(e.msg, cases[i].msg), "%s -> %d \"%s\" (want %d \"%s\")", cases[i].json,
		   r, e.msg, cases[i].code, cases[i].msg);
		ok(!p, "nothing returned on error");
	}
}

TEST(pick_free_port_asks_the_kernel)
{
	struct ros_err e = {0};
	struct net_port p = {.proto = "tcp", .host_ip = "127.0.0.1", .ctr_port = 80};
	is_int(net_port_pick_free(&p, &e), 0);
	ok(p.host_port >= 1024, "ephemeral port %u", p.host_port);
	struct net_port u = {.proto = "udp", .ctr_port = 53};
	is_int(net_port_pick_free(&u, &e), 0);
	ok(u.host_port >= 1024, "ephemeral udp port %u", u.host_port);
	struct net_port v6 = {.proto = "tcp", .host_ip = "fe80::1", .ctr_port = 1};
	is_int(net_port_pick_free(&v6, &e), -EAFNOSUPPORT);
}

TEST(etc_files_drop_loopback_nameservers)
{
	cleanup_free char *d = tmpdir();
	cleanup_free char *host = path_in(d, "host-resolv.conf");
	const char *r1 = "# generated\nsearch example.org\nnameserver 127.0.0.53\nnameserver 10.1.2.3\n"
	                 "nameserver ::1\noptions edns0\n";
	struct ros_err e = {0};
	is_int(fs_write_atomic(host, r1, strlen(r1), 0644, &e), 0);
	is_int(net_write_etc_from(d, "web1", "172.17.0.2", host, &e), 0);
	cleanup_free char *hosts = path_in(d, "hosts");
	cleanup_free char *resolv = path_in(d, "resolv.conf");
	cleanup_free char *hostname = path_in(d, "hostname");
	cleanup_free char *h = slurp(hosts), *r = slurp(resolv), *hn = slurp(hostname);
	ok(h && strstr(h, "127.0.0.1\tlocalhost\n") && strstr(h, "::1\tlocalhost") && strstr(h, "\n172.17.0.2\tweb1\n"),
	   "hosts: %s", h ? h : "(none)");
	is_str(r, "# generated\nsearch example.org\nnameserver 10.1.2.3\noptions edns0\n");
	is_str(hn, "web1\n");

	const char *r2 = "nameserver 127.0.0.53\noptions edns0 trust-ad\n";
	is_int(fs_write_atomic(host, r2, strlen(r2), 0644, &e), 0);
	is_int(net_write_etc_from(d, "web1", NULL, host, &e), 0);
	free(r);
	r = slurp(resolv);
	is_str(r, "options edns0 trust-ad\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n");
	free(h);
	h = slurp(hosts);
	ok(h && !strstr(h, "web1"), "no address, no hostname line: %s", h ? h : "(none)");

	cleanup_free char *missing = path_in(d, "missing");
	is_int(net_write_etc_from(d, "x", "10.0.0.2", missing, &e), 0);
	is_int(net_write_etc_from(d, "bad name", "10.0.0.2", missing, &e), -EINVAL);
	is_int(net_write_etc_from(d, "x", "10.0.0.300", missing, &e), -EINVAL);
	fs_remove_tree(d, &e);
}

TEST(errors_keep_their_code_without_an_error_struct)
{
	cleanup_free char *d = tmpdir();
	cleanup_free char *state = path_in(d, "sub/ipam.json"); /* no such directory */
	struct net_bridge b;
	char ip[46];
	unsigned net;
	int prefix;
	is_int(net_cidr_parse("10.0.0.1/8", &net, &prefix, NULL), -EINVAL);
	is_int(net_bridge_init(&b, "br0", "10.44.3.0/24", NULL), 0);
	is_int(net_ipam_alloc(&b, state, "a", ip, NULL), -ENOENT);
	cleanup_free char *dir = path_in(d, "x");
	is_int(net_ipam_alloc(&b, dir, "a", ip, NULL), 0);
	is_int(net_ipam_release(dir, "bad owner", NULL), -EINVAL);
	struct ros_err e = {0};
	fs_remove_tree(d, &e);
}
