/* SPDX-License-Identifier: MIT */
/*
 * ros-network: the network service (docs/network.md).  Reads
 * ros.network.* from the merged config, brings lo and the configured
 * links up, applies static addresses, runs a DHCPv4 client per DHCP link,
 * writes etc/resolv.conf and etc/hostname.  One epoll loop over a
 * signalfd, the link notifications and each client's packet socket;
 * the clients' deadlines are the loop's timeout.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <net/if_arp.h>
#include <linux/rtnetlink.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "core/cleanup.h"
#include "core/log.h"
#include "dhcp.h"
#include "links.h"
#include "netcfg.h"
#include "netfiles.h"

#define DHCP_METRIC_BASE 1024 /* + ifindex: each link's default route stays its own */
#define MAX_NAMESERVERS 64

struct iface {
	struct links_link link;
	const struct netcfg_iface *cfg; /* NULL: the default, DHCP on a physical Ethernet link */
	bool dhcp;
	bool skipped; /* its config entry has errors */
	bool failed;  /* the kernel refused part of its static config */
	bool carrier, carrier_lost;
	bool gone; /* removed; freed at the end of the loop iteration */
	struct dhcp_client dc;
	char last_error[256];
};

static struct {
	const char *root;
	const char *resolv_conf; /* under root */
	bool once;
	int timeout_s;
	struct netcfg cfg;
	struct links nl;
	int epfd, sigfd;
	struct iface **ifaces;
	size_t n_ifaces;
	bool initial_done;
	int64_t started_ms;
	char hostname_set[NETCFG_HOST_MAX + 1];
} g = {.root = "", .resolv_conf = NETFILES_RESOLV, .epfd = -1, .sigfd = -1};

static int tag_sig, tag_links; /* epoll tags besides the ifaces */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *ip_str(struct in_addr a, char buf[INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static bool same_subnet(struct in_addr a, struct in_addr b, unsigned prefix)
{
	uint32_t mask = prefix ? htonl(~0u << (32 - prefix)) : 0;
	return (a.s_addr & mask) == (b.s_addr & mask);
}

static struct iface *find_iface(int ifindex)
{
	for (size_t i = 0; i < g.n_ifaces; i++)
		if (g.ifaces[i]->link.ifindex == ifindex && !g.ifaces[i]->gone)
			return g.ifaces[i];
	return NULL;
}

/* ---- resolv.conf and hostname ---------------------------------------- */

static void update_files(void)
{
	char dhcp_dns[MAX_NAMESERVERS][INET_ADDRSTRLEN];
	const char *ns[MAX_NAMESERVERS], *search[MAX_NAMESERVERS];
	size_t n_ns = 0, n_search = 0, n_dhcp = 0;
	for (size_t i = 0; i < g.cfg.n_nameservers && n_ns < MAX_NAMESERVERS; i++)
		ns[n_ns++] = g.cfg.nameservers[i];
	for (size_t i = 0; i < g.cfg.n_search && n_search < MAX_NAMESERVERS; i++)
		search[n_search++] = g.cfg.search[i];
	const char *lease_host = NULL, *lease_host_if = NULL;
	char short_host[NETCFG_HOST_MAX + 1];
	for (size_t i = 0; i < g.n_ifaces; i++) {
		struct iface *f = g.ifaces[i];
		if (f->gone || !f->dc.has_lease)
			continue;
		const struct dhcp_lease *l = &f->dc.lease;
		for (size_t k = 0; k < l->n_dns && n_ns < MAX_NAMESERVERS; k++)
			ns[n_ns++] = ip_str(l->dns[k], dhcp_dns[n_dhcp++]);
		if (l->domain[0] && n_search < MAX_NAMESERVERS && !strpbrk(l->domain, " \t"))
			search[n_search++] = l->domain;
		if (!lease_host && l->hostname[0]) {
			/* a name too long for the kernel is used by its first label */
			snprintf(short_host, sizeof(short_host), "%.*s", (int)strcspn(l->hostname, "."), l->hostname);
			lease_host = netcfg_valid_hostname(l->hostname)  ? l->hostname
			             : netcfg_valid_hostname(short_host) ? short_host
			                                                 : NULL;
			lease_host_if = f->link.name;
		}
	}
	struct ros_err e = {0};
	int r = netfiles_write_resolv(g.root, g.resolv_conf, ns, n_ns, search, n_search, &e);
	if (r < 0) {
		log_error("%s", e.msg);
	} else if (r > 0) {
		char list[1024] = "";
		size_t off = 0;
		for (size_t i = 0; i < n_ns && off < sizeof(list); i++)
			off += (size_t)snprintf(list + off, sizeof(list) - off, " %s", ns[i]);
		log_info("%s%s: nameservers%s", g.root, g.resolv_conf, n_ns ? list : " none");
	}

	const char *host = g.cfg.hostname, *from = "the config";
	if (!*host && lease_host) {
		host = lease_host;
		from = lease_host_if;
	} else if (!*host) {
		host = g.cfg.default_hostname;
		from = "the image default";
	}
	r = netfiles_write_hostname(g.root, host, &e);
	if (r < 0)
		log_error("%s", e.msg);
	else if (r > 0)
		log_info("hostname %s (from %s%s)", host, from, from == lease_host_if ? "'s DHCP lease" : "");
	if (*g.root || !strcmp(g.hostname_set, host))
		return; /* a --root run never touches this machine's name */
	char cur[NETCFG_HOST_MAX + 2] = "";
	gethostname(cur, sizeof(cur) - 1);
	if (strcmp(cur, host) && sethostname(host, strlen(host)) < 0)
		log_warn("sethostname %s: %m; only %s written", host, NETFILES_HOSTNAME);
	snprintf(g.hostname_set, sizeof(g.hostname_set), "%s", host);
}

/* ---- DHCP leases -> addresses and routes ---------------------------- */

static void take_down(struct iface *f, const struct dhcp_lease *l)
{
	struct ros_err e = {0};
	if (l->has_router &&
	    links_default_route(&g.nl, &f->link, l->router, false, DHCP_METRIC_BASE + (unsigned)f->link.ifindex,
	                        RTPROT_DHCP, false, &e) < 0 &&
	    e.code != ESRCH)
		log_debug("%s", e.msg);
	if (links_addr_del(&g.nl, &f->link, l->addr, l->prefix, &e) < 0 && e.code != EADDRNOTAVAIL)
		log_warn("%s", e.msg);
}

static void apply_lease(struct iface *f, bool renewed)
{
	const struct dhcp_lease *l = &f->dc.lease;
	struct ros_err e = {0};
	char a[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN];
	if (f->dc.has_prev)
		take_down(f, &f->dc.prev);
	f->dc.has_prev = false;
	if (l->mtu && !(f->cfg && f->cfg->mtu) && l->mtu != f->link.mtu) {
		if (links_set_mtu(&g.nl, &f->link, l->mtu, &e) < 0)
			log_warn("%s", e.msg);
		else
			f->link.mtu = l->mtu;
	}
	if (links_addr_add(&g.nl, &f->link, l->addr, l->prefix, &e) < 0) {
		log_error("%s", e.msg);
		return;
	}
	if (l->has_router &&
	    links_default_route(&g.nl, &f->link, l->router, !same_subnet(l->addr, l->router, l->prefix),
	                        DHCP_METRIC_BASE + (unsigned)f->link.ifindex, RTPROT_DHCP, true, &e) < 0)
		log_error("%s", e.msg);
	if (renewed) {
		log_info("%s: DHCP lease %s/%u renewed for %u s", f->link.name, ip_str(l->addr, a), l->prefix,
		         l->lease_s);
	} else {
		char via[64] = "";
		if (l->has_router)
			snprintf(via, sizeof(via), " via %s", ip_str(l->router, gw));
		char mtu[32] = "";
		if (l->mtu)
			snprintf(mtu, sizeof(mtu), ", mtu %u", l->mtu);
		if (l->lease_s == UINT32_MAX)
			log_info("%s: DHCP lease %s/%u%s forever%s", f->link.name, ip_str(l->addr, a), l->prefix, via,
			         mtu);
		else
			log_info("%s: DHCP lease %s/%u%s for %u s%s", f->link.name, ip_str(l->addr, a), l->prefix, via,
			         l->lease_s, mtu);
	}
}

static void on_dhcp_event(struct iface *f, enum dhcp_event ev)
{
	char a[INET_ADDRSTRLEN];
	switch (ev) {
	case DHCP_EV_NONE:
		return;
	case DHCP_EV_BOUND:
	case DHCP_EV_RENEWED:
		f->last_error[0] = '\0';
		apply_lease(f, ev == DHCP_EV_RENEWED);
		break;
	case DHCP_EV_LOST:
		if (f->dc.has_prev) {
			take_down(f, &f->dc.prev);
			log_warn("%s: %s; %s removed, asking for a new lease", f->link.name, f->dc.why,
			         ip_str(f->dc.prev.addr, a));
		} else {
			log_warn("%s: %s; starting over", f->link.name, f->dc.why);
		}
		f->dc.has_prev = false;
		break;
	case DHCP_EV_ERROR:
		if (strcmp(f->last_error, f->dc.why))
			log_warn("%s: %s (retrying)", f->link.name, f->dc.why);
		snprintf(f->last_error, sizeof(f->last_error), "%s", f->dc.why);
		return;
	}
	if (g.initial_done)
		update_files();
}

/* ---- links -------------------------------------------------------------- */

/* A real NIC, not veth, bridge, tun or the like. */
static bool is_physical_ether(const struct links_link *k)
{
	if (k->arptype != ARPHRD_ETHER || !k->has_mac || (k->flags & IFF_LOOPBACK))
		return false;
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "/sys/class/net/%s/device", k->name);
	return !k->kind[0] || access(p, F_OK) == 0;
}

static void describe_static(const struct iface *f, char *buf, size_t size)
{
	size_t off = 0;
	char a[INET_ADDRSTRLEN];
	buf[0] = '\0';
	for (size_t i = 0; f->cfg && i < f->cfg->n_addrs && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s%s/%u", i ? ", " : " ",
		                        ip_str(f->cfg->addrs[i].addr, a), f->cfg->addrs[i].prefix);
	if (f->cfg && f->cfg->has_gateway && off < size)
		off += (size_t)snprintf(buf + off, size - off, " via %s", ip_str(f->cfg->gateway, a));
	if (f->cfg && f->cfg->mtu && off < size)
		snprintf(buf + off, size - off, " mtu %u", f->cfg->mtu);
}

static void iface_apply(struct iface *f)
{
	const struct netcfg_iface *c = f->cfg;
	struct ros_err e = {0};
	if (links_set_up(&g.nl, &f->link, c ? c->mtu : 0, &e) < 0) {
		log_error("%s", e.msg);
		f->failed = true;
		return;
	}
	if (c && c->mtu)
		f->link.mtu = c->mtu;
	for (size_t i = 0; c && i < c->n_addrs; i++) {
		if (links_addr_add(&g.nl, &f->link, c->addrs[i].addr, c->addrs[i].prefix, &e) < 0) {
			log_error("%s", e.msg);
			f->failed = true;
		}
	}
	if (c && c->has_gateway) {
		bool onlink = true;
		for (size_t i = 0; i < c->n_addrs; i++)
			onlink &= !same_subnet(c->addrs[i].addr, c->gateway, c->addrs[i].prefix);
		if (links_default_route(&g.nl, &f->link, c->gateway, onlink, (unsigned)f->link.ifindex, RTPROT_STATIC,
		                        true, &e) < 0) {
			log_error("%s", e.msg);
			f->failed = true;
		}
	}
	char desc[512];
	describe_static(f, desc, sizeof(desc));
	if (f->dhcp && (f->link.arptype != ARPHRD_ETHER || !f->link.has_mac)) {
		log_error("%s: DHCP needs an Ethernet link; %s has none", f->link.name,
		          f->cfg ? f->cfg->key : "the default");
		f->failed = true;
		f->dhcp = false;
	}
	if (f->dhcp) {
		struct dhcp_client *d = &f->dc;
		d->ifindex = f->link.ifindex;
		snprintf(d->ifname, sizeof(d->ifname), "%s", f->link.name);
		memcpy(d->mac, f->link.mac, 6);
		snprintf(d->hostname, sizeof(d->hostname), "%s", g.cfg.hostname);
		if (dhcp_start(d, now_ms(), &e) < 0) {
			log_error("%s", e.msg);
			f->failed = true;
			f->dhcp = false;
		} else {
			struct epoll_event ev = {.events = EPOLLIN, .data.ptr = f};
			epoll_ctl(g.epfd, EPOLL_CTL_ADD, d->fd, &ev);
		}
	}
	if (f->dhcp)
		log_info("%s: up%s%s, asking for a DHCP lease", f->link.name, desc[0] ? "," : "", desc);
	else if (!f->failed)
		log_info("%s: up,%s", f->link.name, desc[0] ? desc : " no address configured");
}

static void iface_consider(const struct links_link *k)
{
	struct ros_err e = {0};
	if (k->flags & IFF_LOOPBACK) {
		if (!(k->flags & IFF_UP)) {
			if (links_set_up(&g.nl, k, 0, &e) < 0)
				log_error("%s", e.msg);
			else
				log_info("%s: up", k->name);
		}
		return;
	}
	const struct netcfg_iface *c = netcfg_match_link(&g.cfg, k->name, k->has_mac ? k->mac : NULL);
	if (!c && !is_physical_ether(k))
		return;
	struct iface *f = calloc(1, sizeof(*f));
	struct iface **nv = f ? realloc(g.ifaces, (g.n_ifaces + 1) * sizeof(*nv)) : NULL;
	if (!nv) {
		free(f);
		log_error("%s: out of memory", k->name);
		return;
	}
	g.ifaces = nv;
	g.ifaces[g.n_ifaces++] = f;
	f->link = *k;
	f->cfg = c;
	f->dc.fd = -1;
	f->carrier = k->flags & IFF_LOWER_UP;
	f->dhcp = c ? c->dhcp : true;
	if (c && !c->valid) {
		log_error("%s: skipped: ros.network.interfaces.%s has errors (above)", k->name, c->key);
		f->skipped = true;
		f->dhcp = false;
		return;
	}
	iface_apply(f);
}

static void iface_drop(struct iface *f)
{
	dhcp_stop(&f->dc);
	f->gone = true;
}

static void on_link(const struct links_link *k, bool removed, void *arg)
{
	(void)arg;
	struct iface *f = find_iface(k->ifindex);
	if (removed) {
		if (f) {
			bool had_lease = f->dc.has_lease;
			log_info("%s: link removed", f->link.name);
			iface_drop(f);
			if (had_lease && g.initial_done)
				update_files(); /* its DNS servers go with it */
		}
		return;
	}
	if (f && strcmp(f->link.name, k->name)) {
		log_info("%s: renamed %s", f->link.name, k->name);
		iface_drop(f);
		f = NULL;
	}
	if (!f) {
		iface_consider(k);
		return;
	}
	bool carrier = k->flags & IFF_LOWER_UP;
	f->link.flags = k->flags;
	if (!f->cfg || !f->cfg->mtu)
		f->link.mtu = k->mtu;
	if (carrier == f->carrier)
		return;
	f->carrier = carrier;
	if (!carrier) {
		log_info("%s: link down", f->link.name);
		f->carrier_lost = true;
		return;
	}
	if (f->carrier_lost)
		log_info("%s: link up", f->link.name);
	/* search again at once; renew a lease only if the cable was out */
	if (f->dc.state == DHCP_SELECTING || (f->carrier_lost && f->dc.has_lease))
		dhcp_kick(&f->dc, now_ms());
	f->carrier_lost = false;
}

/* Notifications were lost: compare with the kernel's list. */
static void resync_links(void)
{
	cleanup_free struct links_link *ls = NULL;
	size_t n = 0;
	struct ros_err e = {0};
	if (links_list(&g.nl, &ls, &n, &e) < 0) {
		log_error("%s", e.msg);
		return;
	}
	for (size_t i = 0; i < g.n_ifaces; i++) {
		bool present = false;
		for (size_t k = 0; k < n; k++)
			present |= ls[k].ifindex == g.ifaces[i]->link.ifindex;
		if (!present && !g.ifaces[i]->gone)
			on_link(&g.ifaces[i]->link, true, NULL);
	}
	for (size_t k = 0; k < n; k++)
		on_link(&ls[k], false, NULL);
}

static void free_gone(void)
{
	size_t o = 0;
	for (size_t i = 0; i < g.n_ifaces; i++) {
		if (g.ifaces[i]->gone)
			free(g.ifaces[i]);
		else
			g.ifaces[o++] = g.ifaces[i];
	}
	g.n_ifaces = o;
}

/* ---- the initial configuration ---------------------------------------- */

static bool settled(void)
{
	for (size_t i = 0; i < g.n_ifaces; i++)
		if (!g.ifaces[i]->gone && g.ifaces[i]->dhcp && !g.ifaces[i]->dc.has_lease)
			return false;
	return true;
}

/* The wait is over (all leases in, or the timeout): write the files and
 * say what is missing.  Returns the number of links left unconfigured. */
static size_t initial_finish(int64_t now)
{
	g.initial_done = true;
	char missing[1024] = "";
	size_t off = 0, n_missing = 0;
	for (size_t i = 0; i < g.n_ifaces; i++) {
		struct iface *f = g.ifaces[i];
		const char *why = NULL;
		if (f->gone)
			continue;
		if (f->skipped)
			why = "bad config";
		else if (f->failed)
			why = "the kernel refused its config";
		else if (f->dhcp && !f->dc.has_lease)
			why = "no DHCP lease";
		if (f->dhcp && !f->dc.has_lease && !f->skipped)
			log_warn("%s: no DHCP lease after %d s%s", f->link.name, g.timeout_s,
			         g.once ? "" : "; still trying in the background");
		if (why && off < sizeof(missing)) {
			off += (size_t)snprintf(missing + off, sizeof(missing) - off, "%s%s (%s)",
			                        n_missing ? ", " : "", f->link.name, why);
			n_missing++;
		}
	}
	for (size_t i = 0; i < g.cfg.n_ifaces; i++) {
		const struct netcfg_iface *c = &g.cfg.ifaces[i];
		bool found = false;
		for (size_t k = 0; k < g.n_ifaces; k++)
			found |= !strcmp(g.ifaces[k]->link.name, c->key);
		if (c->match == NETCFG_MATCH_NAME && !found)
			log_warn("%s: configured in ros.network.interfaces, but there is no such link", c->key);
	}
	update_files();
	if (n_missing)
		log_error("not configured: %s", missing);
	log_info("%s in %lld ms", n_missing ? "partly configured" : "configured", (long long)(now - g.started_ms));
	return n_missing;
}

static void shutdown_all(void)
{
	char a[INET_ADDRSTRLEN];
	for (size_t i = 0; i < g.n_ifaces; i++) {
		struct iface *f = g.ifaces[i];
		if (f->gone || !f->dc.has_lease)
			continue;
		struct dhcp_lease l = f->dc.lease;
		struct ros_err e = {0};
		if (dhcp_release(&f->dc, &e) < 0)
			log_warn("%s", e.msg);
		else
			log_info("%s: DHCP lease %s released", f->link.name, ip_str(l.addr, a));
		take_down(f, &l);
		dhcp_stop(&f->dc);
	}
}

/* ---- main ------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out, "usage: ros-network [--root DIR] [--once] [--timeout SECONDS] [--resolv-conf PATH]\n"
	             "\n"
	             "Configures the network from ros.network.* in the merged ros config: brings lo\n"
	             "and the configured links up, static addresses, DHCP, etc/resolv.conf, etc/hostname.\n"
	             "\n"
	             "  --root DIR         read the config from and write files under DIR (default /)\n"
	             "  --once             configure, wait for leases, write the files and exit:\n"
	             "                     0, or 1 naming the links that got nothing\n"
	             "  --timeout SECONDS  how long to wait for DHCP leases (default ros.network.dhcp_timeout, 10)\n"
	             "  --resolv-conf PATH where to write resolv.conf, under the root (default /etc/resolv.conf)\n"
	             "  --help             this text\n"
	             "\n"
	             "Without --once it stays in the foreground, renews leases and follows links\n"
	             "coming and going; SIGTERM releases the leases and exits.  See docs/network.md.\n");
}

static void load_config(void)
{
	struct cfg_node *tree = NULL;
	struct cfg_diag d = {0};
	struct ros_err e = {0};
	if (cfg_load_merged(g.root, getenv("ROS_CMDLINE"), 0, &tree, &d, &e) < 0) {
		log_error("config: %s", e.msg);
		tree = cfg_new(CFG_MAP);
	}
	for (size_t i = 0; i < d.n; i++)
		log_msg(d.items[i].error ? LOG_LVL_ERROR : LOG_LVL_WARN, "config: %s", d.items[i].msg);
	cfg_diag_free(&d);
	d = (struct cfg_diag){0};
	if (!tree || netcfg_from_tree(tree, &g.cfg, &d) < 0)
		log_error("config: out of memory");
	for (size_t i = 0; i < d.n; i++)
		log_msg(d.items[i].error ? LOG_LVL_ERROR : LOG_LVL_WARN, "%s", d.items[i].msg);
	cfg_diag_free(&d);
	cfg_free(tree);
}

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"root", required_argument, NULL, 'r'},    {"once", no_argument, NULL, 'o'},
	        {"timeout", required_argument, NULL, 't'}, {"resolv-conf", required_argument, NULL, 'R'},
	        {"help", no_argument, NULL, 'h'},          {0}};
	g.timeout_s = -1;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': {
			/* "/" and "" both mean this machine */
			size_t l = strlen(optarg);
			while (l > 0 && optarg[l - 1] == '/')
				optarg[--l] = '\0';
			g.root = optarg;
			break;
		}
		case 'o':
			g.once = true;
			break;
		case 'R':
			if (optarg[0] != '/' || optarg[strlen(optarg) - 1] == '/') {
				fprintf(stderr, "ros-network: --resolv-conf: \"%s\" is not an absolute file path\n",
				        optarg);
				return 2;
			}
			g.resolv_conf = optarg;
			break;
		case 't': {
			char *end = NULL;
			errno = 0;
			long v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 0 || v > 3600) {
				fprintf(stderr, "ros-network: --timeout: \"%s\" is not a number of seconds (0..3600)\n",
				        optarg);
				return 2;
			}
			g.timeout_s = (int)v;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ros-network: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	return -1;
}

static int setup_loop(void)
{
	sigset_t ss;
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct ros_err e = {0};
	if ((g.epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 || (g.sigfd = signalfd(-1, &ss, SFD_CLOEXEC)) < 0) {
		log_error("epoll/signalfd: %m");
		return -1;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &tag_sig};
	epoll_ctl(g.epfd, EPOLL_CTL_ADD, g.sigfd, &ev);
	/* listen before listing, so no link slips between the two */
	if (links_open(&g.nl, &e) < 0) {
		log_error("%s", e.msg);
		return -1;
	}
	ev.data.ptr = &tag_links;
	epoll_ctl(g.epfd, EPOLL_CTL_ADD, links_events_fd(&g.nl), &ev);
	return 0;
}

/* Runs the loop; returns the exit status. */
static int run(void)
{
	int64_t deadline = g.started_ms + (int64_t)g.timeout_s * 1000;
	for (;;) {
		int64_t now = now_ms();
		if (!g.initial_done && (settled() || now >= deadline)) {
			size_t missing = initial_finish(now);
			if (g.once)
				return missing ? 1 : 0;
		}
		int64_t next = g.initial_done ? INT64_MAX : deadline;
		for (size_t i = 0; i < g.n_ifaces; i++)
			if (g.ifaces[i]->dc.next_ms && g.ifaces[i]->dc.next_ms < next)
				next = g.ifaces[i]->dc.next_ms;
		int timeout = next == INT64_MAX      ? -1
		              : next <= now          ? 0
		              : next - now > INT_MAX ? INT_MAX
		                                     : (int)(next - now);
		struct epoll_event evs[16];
		int n = epoll_wait(g.epfd, evs, 16, timeout);
		if (n < 0 && errno != EINTR) {
			log_error("epoll_wait: %m");
			return 1;
		}
		now = now_ms();
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			if (p == &tag_sig) {
				struct signalfd_siginfo si;
				if (read(g.sigfd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGHUP) {
					log_info("SIGHUP: restart the service to read the config again");
					continue;
				}
				log_info("%s: stopping", strsignal((int)si.ssi_signo));
				if (g.once)
					return 1;
				shutdown_all();
				return 0;
			} else if (p == &tag_links) {
				if (links_events_read(&g.nl, on_link, NULL) == -ENOBUFS) {
					log_warn("link notifications overflowed; listing the links again");
					resync_links();
				}
			} else {
				struct iface *f = p;
				if (f->gone)
					continue;
				int ev;
				while ((ev = dhcp_on_readable(&f->dc, now)) >= 0)
					on_dhcp_event(f, (enum dhcp_event)ev);
			}
		}
		for (size_t i = 0; i < g.n_ifaces; i++) {
			struct iface *f = g.ifaces[i];
			if (!f->gone && f->dc.next_ms && now >= f->dc.next_ms)
				on_dhcp_event(f, dhcp_on_timer(&f->dc, now));
		}
		free_gone();
	}
}

int main(int argc, char **argv)
{
	log_setup("network", STDERR_FILENO, false);
	int r = parse_args(argc, argv);
	if (r >= 0)
		return r;
	g.started_ms = now_ms();
	load_config();
	if (g.timeout_s < 0)
		g.timeout_s = g.cfg.dhcp_timeout;
	if (setup_loop() < 0)
		return 1;
	cleanup_free struct links_link *ls = NULL;
	size_t n = 0;
	struct ros_err e = {0};
	if (links_list(&g.nl, &ls, &n, &e) < 0) {
		log_error("%s", e.msg);
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		iface_consider(&ls[i]);
	int status = run();
	for (size_t i = 0; i < g.n_ifaces; i++) {
		dhcp_stop(&g.ifaces[i]->dc);
		free(g.ifaces[i]);
	}
	free(g.ifaces);
	links_close(&g.nl);
	netcfg_free(&g.cfg);
	return status;
}
