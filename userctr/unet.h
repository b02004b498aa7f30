/* SPDX-License-Identifier: MIT */
#pragma once
/* Container networking for userctr on lib/net: bridge, veth, IPAM, ports. */
#include <stdbool.h>
#include <sys/types.h>

#include "core/err.h"

struct uctr;

/* Before create: the address (bridge mode) and /etc/hosts, resolv.conf,
 * hostname in the container's directory; NetworkSettings recorded. */
int unet_prepare(struct uctr *c, struct ros_err *e);
/* After create, before start: the veth into the container's netns (pid),
 * loopback up, ports published. */
int unet_attach(struct uctr *c, pid_t pid, struct ros_err *e);
/* After exit: ports unpublished; removing also frees the address. */
void unet_release(struct uctr *c, bool removing);
