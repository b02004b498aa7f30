/* SPDX-License-Identifier: MIT */
/* Docker's HostConfig.PortBindings -> struct net_port (net.h). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "net.h"

/* "80" -> 80; 1..65535, digits only. */
static bool parse_port(const char *s, size_t len, unsigned short *out)
{
	unsigned long v = 0;
	if (len == 0 || len > 5)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return false;
	*out = (unsigned short)v;
	return true;
}

static int parse_binding(const char *key, size_t idx, json_t *bind, struct net_port *p, struct ros_err *e)
{
	if (!json_is_object(bind))
		return err_setx(e, EINVAL, "PortBindings[\"%s\"][%zu]: want an object {\"HostIp\", \"HostPort\"}", key,
		                idx);
	json_t *hip = json_object_get(bind, "HostIp"), *hport = json_object_get(bind, "HostPort");
	if (hip && !json_is_null(hip)) {
		const char *s = json_string_value(hip);
		struct in_addr a;
		struct in6_addr a6;
		if (!s)
			return err_setx(e, EINVAL, "PortBindings[\"%s\"][%zu].HostIp: want a string", key, idx);
		if (*s && inet_pton(AF_INET, s, &a) != 1) {
			if (inet_pton(AF_INET6, s, &a6) == 1 && strcmp(s, "::"))
				return err_setx(e, EAFNOSUPPORT,
				                "PortBindings[\"%s\"][%zu].HostIp \"%s\": IPv6 is not supported", key,
				                idx, s);
			if (strcmp(s, "::"))
				return err_setx(e, EINVAL, "PortBindings[\"%s\"][%zu].HostIp \"%s\": not an IP address",
				                key, idx, s);
		}
		/* "0.0.0.0" and "::" mean all addresses, like "" */
		if (strcmp(s, "0.0.0.0") && strcmp(s, "::"))
			snprintf(p->host_ip, sizeof(p->host_ip), "%s", s);
	}
	if (hport && !json_is_null(hport)) {
		char buf[32];
		if (json_is_integer(hport))
			snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(hport));
		else if (json_is_string(hport) && strlen(json_string_value(hport)) < sizeof(buf))
			snprintf(buf, sizeof(buf), "%s", json_string_value(hport));
		else
			return err_setx(e, EINVAL, "PortBindings[\"%s\"][%zu].HostPort: want a port number string", key,
			                idx);
		if (*buf && !parse_port(buf, strlen(buf), &p->host_port))
			return err_setx(e, EINVAL,
			                "PortBindings[\"%s\"][%zu].HostPort \"%s\": want a port in 1..65535%s", key,
			                idx, buf, strchr(buf, '-') ? " (ranges are not supported)" : "");
	}
	return 0;
}

int net_ports_from_json(json_t *bindings, struct net_port **out, size_t *n, struct ros_err *e)
{
	*out = NULL;
	*n = 0;
	if (!bindings || json_is_null(bindings))
		return 0;
	if (!json_is_object(bindings))
		return err_setx(e, EINVAL,
		                "PortBindings: want an object like {\"80/tcp\": [{\"HostPort\": \"8080\"}]}");
	size_t total = 0;
	const char *key;
	json_t *v;
	json_object_foreach(bindings, key, v) total += json_is_array(v) && json_array_size(v) ? json_array_size(v) : 1;
	cleanup_free struct net_port *ports = calloc(total ? total : 1, sizeof(*ports));
	if (!ports)
		return err_set(e, ENOMEM, "PortBindings");
	size_t k = 0;
	json_object_foreach(bindings, key, v)
	{
		struct net_port base = {0};
		const char *slash = strchr(key, '/');
		size_t plen = slash ? (size_t)(slash - key) : strlen(key);
		if (!parse_port(key, plen, &base.ctr_port))
			return err_setx(e, EINVAL,
			                "PortBindings[\"%s\"]: want PORT[/tcp|/udp] with a port in 1..65535%s", key,
			                memchr(key, '-', plen) ? " (ranges are not supported)" : "");
		const char *proto = slash ? slash + 1 : "tcp";
		if (strcmp(proto, "tcp") && strcmp(proto, "udp"))
			return err_setx(e, EPROTONOSUPPORT, "PortBindings[\"%s\"]: protocol \"%s\" (want tcp or udp)",
			                key, proto);
		snprintf(base.proto, sizeof(base.proto), "%s", proto);
		if (json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0)) {
			ports[k++] = base;
			continue;
		}
		if (!json_is_array(v))
			return err_setx(e, EINVAL, "PortBindings[\"%s\"]: want a list of bindings", key);
		size_t i;
		json_t *bind;
		json_array_foreach(v, i, bind)
		{
			ports[k] = base;
			int r = parse_binding(key, i, bind, &ports[k], e);
			if (r < 0)
				return r;
			k++;
		}
	}
	*out = TAKE_PTR(ports);
	*n = k;
	return 0;
}

int net_port_pick_free(struct net_port *p, struct ros_err *e)
{
	bool udp = !strcmp(p->proto, "udp");
	struct sockaddr_in sa = {.sin_family = AF_INET};
	if (p->host_ip[0] && strcmp(p->host_ip, "::") && inet_pton(AF_INET, p->host_ip, &sa.sin_addr) != 1)
		return err_setx(e, EAFNOSUPPORT, "pick a free port: host address \"%s\" is not IPv4", p->host_ip);
	cleanup_close int fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(e, errno, "pick a free %s port: socket", p->proto);
	socklen_t len = sizeof(sa);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return err_set(e, errno, "pick a free %s port on %s", p->proto, p->host_ip[0] ? p->host_ip : "0.0.0.0");
	p->host_port = ntohs(sa.sin_port);
	return 0;
}
