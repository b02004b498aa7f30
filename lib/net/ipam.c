/* SPDX-License-Identifier: MIT */
/*
 * CIDR parsing and the address allocator (net.h).  The state file is
 *   {"version":1,"subnet":"172.17.0.0/16","last":"172.17.0.3",
 *    "allocations":{"<owner>":"172.17.0.2", ...}}
 * replaced atomically on every change, under an flock on a sibling
 * "<file>.lock" so two engines cannot hand out the same address.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "net-int.h"
#include "net.h"

#define IPAM_MAX_FILE (16u << 20)

#define cleanup_json __attribute__((cleanup(json_decrefp))) /* jansson's own */

bool net_name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n >= max)
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
			return false;
	return true;
}

int net_check_owner(const char *owner, struct ros_err *e)
{
	if (!owner || !net_name_ok(owner, NET_OWNER_MAX))
		return err_setx(e, EINVAL, "owner \"%s\": want 1-%d letters, digits, '_', '-' or '.'",
		                owner ? owner : "(null)", NET_OWNER_MAX - 1);
	return 0;
}

int net_cidr_parse(const char *cidr, unsigned *network_be, int *prefix, struct ros_err *e)
{
	if (!cidr)
		return err_setx(e, EINVAL, "cidr: missing");
	const char *slash = strchr(cidr, '/');
	char addr[INET_ADDRSTRLEN];
	if (!slash || (size_t)(slash - cidr) >= sizeof(addr))
		return err_setx(e, EINVAL, "cidr \"%s\": want ADDRESS/PREFIX (e.g. 172.17.0.0/16)", cidr);
	memcpy(addr, cidr, (size_t)(slash - cidr));
	addr[slash - cidr] = '\0';
	struct in_addr a;
	if (inet_pton(AF_INET, addr, &a) != 1)
		return err_setx(e, EINVAL, "cidr \"%s\": \"%s\" is not an IPv4 address", cidr, addr);
	const char *p = slash + 1;
	int len = 0;
	if (!*p || strlen(p) > 2)
		return err_setx(e, EINVAL, "cidr \"%s\": bad prefix length \"%s\"", cidr, p);
	for (; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return err_setx(e, EINVAL, "cidr \"%s\": bad prefix length \"%s\"", cidr, slash + 1);
		len = len * 10 + (*p - '0');
	}
	if (len < 1 || len > 32)
		return err_setx(e, EINVAL, "cidr \"%s\": prefix length %d not in 1..32", cidr, len);
	uint32_t mask = ~0u << (32 - len), host = ntohl(a.s_addr);
	if (host & ~mask) {
		struct in_addr n = {.s_addr = htonl(host & mask)};
		char nb[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &n, nb, sizeof(nb));
		return err_setx(e, EINVAL, "cidr \"%s\": host bits set (the network is %s/%d)", cidr, nb, len);
	}
	*network_be = a.s_addr;
	*prefix = len;
	return 0;
}

int net_bridge_init(struct net_bridge *b, const char *name, const char *cidr, struct ros_err *e)
{
	*b = (struct net_bridge){0};
	if (!name || !net_name_ok(name, NET_IFNAME_MAX))
		return err_setx(e, EINVAL, "bridge name \"%s\": want 1-15 letters, digits, '_', '-' or '.'",
		                name ? name : "(null)");
	unsigned net;
	int prefix, r = net_cidr_parse(cidr, &net, &prefix, e);
	if (r < 0)
		return r;
	if (prefix > 30)
		return err_setx(e, EINVAL, "cidr \"%s\": a /%d has no room for a gateway and a container", cidr,
		                prefix);
	struct in_addr n = {.s_addr = net}, gw = {.s_addr = htonl(ntohl(net) + 1)};
	char nb[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &n, nb, sizeof(nb));
	inet_ntop(AF_INET, &gw, b->gateway, sizeof(b->gateway));
	snprintf(b->name, sizeof(b->name), "%s", name);
	snprintf(b->cidr, sizeof(b->cidr), "%s/%d", nb, prefix);
	snprintf(b->table, sizeof(b->table), "userctr-%s", name);
	b->prefix = prefix;
	return 0;
}

/* ---- the state file ------------------------------------------------------ */

static int ipam_lock(const char *state_file, struct ros_err *e)
{
	cleanup_free char *lock = NULL;
	if (asprintf(&lock, "%s.lock", state_file) < 0)
		return err_set(e, ENOMEM, "ipam lock");
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(e, errno, "ipam: open %s", lock);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int r = err_set(e, errno, "ipam: lock %s", lock);
			close(fd);
			return r;
		}
	}
	return fd;
}

/* Loads the state file; a missing one gives a fresh, empty state. */
static int ipam_load(const char *state_file, json_t **out, struct ros_err *e)
{
	cleanup_free char *text = NULL;
	int r = fs_read_all(state_file, IPAM_MAX_FILE, &text, NULL, e);
	if (r == -ENOENT) {
		*out = json_pack("{s:i, s:{}}", "version", 1, "allocations");
		return *out ? 0 : err_set(e, ENOMEM, "ipam %s", state_file);
	}
	if (r < 0)
		return net_prefix(r, e, "ipam");
	json_error_t je;
	cleanup_json json_t *j = json_loads(text, 0, &je);
	if (!j)
		return err_setx(e, EINVAL, "ipam %s:%d:%d: %s", state_file, je.line, je.column, je.text);
	json_t *allocs = json_object_get(j, "allocations");
	if (!json_is_object(j) || !json_is_object(allocs))
		return err_setx(e, EINVAL, "ipam %s: want an object with an \"allocations\" object", state_file);
	const char *owner;
	json_t *v;
	json_object_foreach(allocs, owner, v)
	{
		struct in_addr a;
		if (!json_is_string(v) || inet_pton(AF_INET, json_string_value(v), &a) != 1)
			return err_setx(e, EINVAL, "ipam %s: allocations[\"%s\"]: not an IPv4 address string",
			                state_file, owner);
	}
	*out = TAKE_PTR(j);
	return 0;
}

static int ipam_save(const char *state_file, json_t *j, struct ros_err *e)
{
	cleanup_free char *text = json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS);
	cleanup_free char *withnl = NULL;
	if (!text || asprintf(&withnl, "%s\n", text) < 0)
		return err_set(e, ENOMEM, "ipam %s", state_file);
	int r = fs_write_atomic(state_file, withnl, strlen(withnl), 0644, e);
	return r < 0 ? net_prefix(r, e, "ipam") : 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int net_ipam_alloc(const struct net_bridge *b, const char *state_file, const char *owner, char ip[46],
                   struct ros_err *e)
{
	int r = net_check_owner(owner, e);
	if (r < 0)
		return r;
	unsigned net_be;
	int prefix;
	if ((r = net_cidr_parse(b->cidr, &net_be, &prefix, e)) < 0)
		return r;
	cleanup_close int lock = ipam_lock(state_file, e);
	if (lock < 0)
		return lock;
	cleanup_json json_t *j = NULL;
	if ((r = ipam_load(state_file, &j, e)) < 0)
		return r;
	json_t *allocs = json_object_get(j, "allocations");

	uint32_t net = ntohl(net_be), mask = ~0u << (32 - prefix), bcast = net | ~mask, gw = net + 1;
	struct in_addr a;
	/* the same owner gets its address again, if it is still in the subnet */
	const char *have = json_string_value(json_object_get(allocs, owner));
	if (have && inet_pton(AF_INET, have, &a) == 1) {
		uint32_t h = ntohl(a.s_addr);
		if ((h & mask) == net && h != net && h != bcast && h != gw) {
			snprintf(ip, 46, "%s", have);
			return 0;
		}
	}

	/* addresses in use, sorted, for a binary search per candidate */
	size_t nused = 0;
	cleanup_free uint32_t *used = calloc(json_object_size(allocs) + 1, sizeof(*used));
	if (!used)
		return err_set(e, ENOMEM, "ipam %s", state_file);
	const char *k;
	json_t *v;
	json_object_foreach(allocs, k, v)
	{
		if (inet_pton(AF_INET, json_string_value(v), &a) == 1)
			used[nused++] = ntohl(a.s_addr);
	}
	qsort(used, nused, sizeof(*used), cmp_u32);

	/* round-robin: start after the last address handed out */
	uint32_t first = gw + 1, last = bcast - 1, start = first;
	const char *lastgiven = json_string_value(json_object_get(j, "last"));
	if (lastgiven && inet_pton(AF_INET, lastgiven, &a) == 1) {
		uint32_t h = ntohl(a.s_addr);
		if (h >= first && h < last)
			start = h + 1;
	}
	if (prefix == 31 || first > last)
		return err_setx(e, ENOSPC, "ipam %s: subnet %s has no room for containers", state_file, b->cidr);
	uint64_t span = (uint64_t)last - first + 1;
	for (uint64_t i = 0; i < span; i++) {
		uint32_t cand = start + (uint32_t)i;
		if (cand > last)
			cand = first + (cand - last - 1);
		if (bsearch(&cand, used, nused, sizeof(*used), cmp_u32))
			continue;
		struct in_addr out = {.s_addr = htonl(cand)};
		char buf[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &out, buf, sizeof(buf));
		if (json_object_set_new(allocs, owner, json_string(buf)) < 0 ||
		    json_object_set_new(j, "last", json_string(buf)) < 0 ||
		    json_object_set_new(j, "subnet", json_string(b->cidr)) < 0)
			return err_set(e, ENOMEM, "ipam %s", state_file);
		if ((r = ipam_save(state_file, j, e)) < 0)
			return r;
		snprintf(ip, 46, "%s", buf);
		return 0;
	}
	return err_setx(e, ENOSPC, "ipam %s: no free address in %s for %s (%zu in use)", state_file, b->cidr, owner,
	                nused);
}

int net_ipam_release(const char *state_file, const char *owner, struct ros_err *e)
{
	int r = net_check_owner(owner, e);
	if (r < 0)
		return r;
	if (access(state_file, F_OK) < 0 && errno == ENOENT)
		return 0;
	cleanup_close int lock = ipam_lock(state_file, e);
	if (lock < 0)
		return lock;
	cleanup_json json_t *j = NULL;
	if ((r = ipam_load(state_file, &j, e)) < 0)
		return r;
	json_t *allocs = json_object_get(j, "allocations");
	if (!json_object_get(allocs, owner))
		return 0;
	json_object_del(allocs, owner);
	return ipam_save(state_file, j, e);
}
