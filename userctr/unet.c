/* SPDX-License-Identifier: MIT */
/* Container networking on lib/net: bridge (default), host, none. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "net/net.h"
#include "unet.h"
#include "userctr.h"

static const char *mode_of(struct uctr *c)
{
	return json_string_value(json_object_get(json_object_get(c->doc, "HostConfig"), "NetworkMode")) ?: "bridge";
}

static void ipam_file(struct uctr *c, char *out, size_t size)
{
	snprintf(out, size, "%s/network/ipam-%s.json", c->u->root, c->u->bridge_name);
}

static void host_if(struct uctr *c, char out[16])
{
	snprintf(out, 16, "veth%.8s", c->id);
}

static int bridge(struct userctr *u, struct net_bridge *b, bool setup, struct ros_err *e)
{
	if (!setup || u->net_ready)
		return net_bridge_init(b, u->bridge_name, u->bridge_cidr, e);
	if (net_bridge_setup(b, u->bridge_name, u->bridge_cidr, e) < 0)
		return err_prefix(e, "bridge %s", u->bridge_name);
	u->net_ready = true;
	return 0;
}

int unet_prepare(struct uctr *c, struct ros_err *e)
{
	char dir[4096], ip[46] = "";
	snprintf(dir, sizeof(dir), "%s/containers/%s", c->u->root, c->id);
	const char *mode = mode_of(c);
	json_t *ns = json_object_get(c->doc, "NetworkSettings");
	json_t *nets = json_object();
	if (!strcmp(mode, "bridge")) {
		struct net_bridge b;
		char f[4096], netdir[4096];
		snprintf(netdir, sizeof(netdir), "%s/network", c->u->root);
		if (access(netdir, F_OK) < 0 && mkdir(netdir, 0700) < 0 && errno != EEXIST) {
			json_decref(nets);
			return err_set(e, errno, "mkdir %s", netdir);
		}
		ipam_file(c, f, sizeof(f));
		if (bridge(c->u, &b, true, e) < 0 || net_ipam_alloc(&b, f, c->id, ip, e) < 0) {
			json_decref(nets);
			return -1;
		}
		char mac[18];
		unsigned a, bb, cc, d;
		sscanf(ip, "%u.%u.%u.%u", &a, &bb, &cc, &d);
		snprintf(mac, sizeof(mac), "02:42:%02x:%02x:%02x:%02x", a, bb, cc, d);
		json_object_set_new(ns, "IPAddress", json_string(ip));
		json_object_set_new(ns, "Gateway", json_string(b.gateway));
		json_object_set_new(ns, "IPPrefixLen", json_integer(b.prefix));
		json_object_set_new(ns, "MacAddress", json_string(mac));
		json_object_set_new(nets, "bridge",
		                    json_pack("{s:s,s:s,s:i,s:s,s:s}", "IPAddress", ip, "Gateway", b.gateway,
		                              "IPPrefixLen", b.prefix, "MacAddress", mac, "NetworkID", b.name));
	} else {
		json_object_set_new(nets, mode,
		                    json_pack("{s:s,s:s,s:i}", "IPAddress", "", "Gateway", "", "IPPrefixLen", 0));
	}
	json_object_set_new(ns, "Networks", nets);
	const char *hn = json_string_value(json_object_get(json_object_get(c->doc, "Config"), "Hostname")) ?: c->id;
	char hostname[256];
	if (!strcmp(mode, "host"))
		gethostname(hostname, sizeof(hostname) - 1);
	else
		snprintf(hostname, sizeof(hostname), "%s", hn);
	if (net_write_etc(dir, hostname, ip, e) < 0)
		return err_prefix(e, "/etc files");
	/* --add-host lines */
	json_t *extra = json_object_get(json_object_get(c->doc, "HostConfig"), "ExtraHosts");
	if (json_array_size(extra)) {
		char hp[4200];
		snprintf(hp, sizeof(hp), "%s/hosts", dir);
		FILE *f = fopen(hp, "ae");
		size_t i;
		json_t *v;
		json_array_foreach(extra, i, v)
		{
			char line[512];
			snprintf(line, sizeof(line), "%s", json_string_value(v));
			char *colon = strchr(line, ':');
			if (f && colon) {
				*colon = '\0';
				fprintf(f, "%s\t%s\n", colon + 1, line);
			}
		}
		if (f)
			fclose(f);
	}
	json_t *dns = json_object_get(json_object_get(c->doc, "HostConfig"), "Dns");
	if (json_array_size(dns)) {
		char rp[4200];
		snprintf(rp, sizeof(rp), "%s/resolv.conf", dir);
		FILE *f = fopen(rp, "we");
		size_t i;
		json_t *v;
		json_array_foreach(dns, i, v) if (f) fprintf(f, "nameserver %s\n", json_string_value(v));
		if (f)
			fclose(f);
	}
	char p[4200];
	snprintf(p, sizeof(p), "%s/hosts", dir);
	json_object_set_new(c->doc, "HostsPath", json_string(p));
	snprintf(p, sizeof(p), "%s/resolv.conf", dir);
	json_object_set_new(c->doc, "ResolvConfPath", json_string(p));
	snprintf(p, sizeof(p), "%s/hostname", dir);
	json_object_set_new(c->doc, "HostnamePath", json_string(p));
	return 0;
}

int unet_attach(struct uctr *c, pid_t pid, struct ros_err *e)
{
	const char *mode = mode_of(c);
	if (!strcmp(mode, "host"))
		return 0;
	char nsp[64];
	snprintf(nsp, sizeof(nsp), "/proc/%d/ns/net", (int)pid);
	cleanup_close int nsfd = open(nsp, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return err_set(e, errno, "open %s", nsp);
	if (strcmp(mode, "bridge"))
		return net_lo_up(nsfd, e);
	struct net_bridge b;
	if (bridge(c->u, &b, true, e) < 0)
		return -1;
	char hif[16];
	host_if(c, hif);
	net_veth_detach(hif, NULL); /* a leftover of a crashed run */
	const char *ip = json_string_value(json_object_get(json_object_get(c->doc, "NetworkSettings"), "IPAddress"));
	if (net_veth_attach(&b, nsfd, hif, ip, e) < 0)
		return err_prefix(e, "network");
	struct net_port *ports = NULL;
	size_t n = 0;
	json_t *hc = json_object_get(c->doc, "HostConfig");
	if (net_ports_from_json(json_object_get(hc, "PortBindings"), &ports, &n, e) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (ports[i].host_port == 0 && net_port_pick_free(&ports[i], e) < 0)
			goto fail;
	if (n && net_ports_publish(&b, c->id, ip, ports, n, e) < 0)
		goto fail;
	/* the ports chosen, as inspect and ps show them */
	json_t *pb = json_object();
	for (size_t i = 0; i < n; i++) {
		char k[32], hp[16];
		snprintf(k, sizeof(k), "%u/%s", ports[i].ctr_port, ports[i].proto);
		snprintf(hp, sizeof(hp), "%u", ports[i].host_port);
		json_t *l = json_object_get(pb, k);
		if (!l) {
			l = json_array();
			json_object_set_new(pb, k, l);
		}
		json_array_append_new(l, json_pack("{s:s,s:s}", "HostIp",
		                                   *ports[i].host_ip ? ports[i].host_ip : "0.0.0.0", "HostPort", hp));
	}
	json_object_set_new(c->doc, "ros.ports", pb);
	free(ports);
	return 0;
fail:
	free(ports);
	net_veth_detach(hif, NULL);
	return -1;
}

void unet_release(struct uctr *c, bool removing)
{
	if (strcmp(mode_of(c), "bridge"))
		return;
	struct net_bridge b;
	if (bridge(c->u, &b, false, NULL) < 0)
		return;
	/* Only -p makes rules (unet_attach): without it, skip the two nft runs
	 * (list, then delete) that cost ~10-20 ms on every exit and remove. */
	json_t *pb = json_object_get(json_object_get(c->doc, "HostConfig"), "PortBindings");
	if (pb && !(json_is_object(pb) && json_object_size(pb) == 0))
		net_ports_unpublish(&b, c->id, NULL);
	char hif[16];
	host_if(c, hif);
	net_veth_detach(hif, NULL);
	if (removing) {
		char f[4096];
		ipam_file(c, f, sizeof(f));
		net_ipam_release(f, c->id, NULL);
	}
}
