/* SPDX-License-Identifier: MIT */
#pragma once
/* Cleanup attributes for libnl-3 objects, and libnl's errors as errno (lib/net
 * and network/ use them). */
#include <errno.h>
#include <netlink/errno.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>

static inline void nl_socket_freep(struct nl_sock **s)
{
	if (*s)
		nl_socket_free(*s);
}
static inline void nl_addr_putp(struct nl_addr **a)
{
	if (*a)
		nl_addr_put(*a);
}
static inline void rtnl_link_putp(struct rtnl_link **k)
{
	if (*k)
		rtnl_link_put(*k);
}
static inline void rtnl_addr_putp(struct rtnl_addr **a)
{
	if (*a)
		rtnl_addr_put(*a);
}
static inline void rtnl_route_putp(struct rtnl_route **r)
{
	if (*r)
		rtnl_route_put(*r);
}
static inline void nl_cache_freep(struct nl_cache **c)
{
	if (*c)
		nl_cache_free(*c);
}
#define cleanup_nl_sock __attribute__((cleanup(nl_socket_freep)))
#define cleanup_nl_addr __attribute__((cleanup(nl_addr_putp)))
#define cleanup_rtnl_link __attribute__((cleanup(rtnl_link_putp)))
#define cleanup_rtnl_addr __attribute__((cleanup(rtnl_addr_putp)))
#define cleanup_rtnl_route __attribute__((cleanup(rtnl_route_putp)))
#define cleanup_nl_cache __attribute__((cleanup(nl_cache_freep)))

/* libnl's error numbers back to errno, for the callers' -errno contract;
 * NLE_OBJ_NOTFOUND becomes notfound (a caller may tell it from a device
 * gone, NLE_NODEV: ENODEV). */
static inline int nl_to_errno(int nlerr, int notfound)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_NOMEM:
		return ENOMEM;
	case NLE_EXIST:
		return EEXIST;
	case NLE_INVAL:
	case NLE_RANGE:
		return EINVAL;
	case NLE_OPNOTSUPP:
	case NLE_AF_NOSUPPORT:
		return EOPNOTSUPP;
	case NLE_OBJ_NOTFOUND:
		return notfound;
	case NLE_NODEV:
		return ENODEV;
	case NLE_NOADDR:
		return EADDRNOTAVAIL;
	case NLE_BUSY:
		return EBUSY;
	case NLE_NOACCESS:
		return EACCES;
	case NLE_PERM:
		return EPERM;
	case NLE_AGAIN:
		return EAGAIN;
	case NLE_INTR:
		return EINTR;
	default:
		return EIO;
	}
}
