/* SPDX-License-Identifier: MIT */
#pragma once
/*
 * The files ros-network owns under the root: resolv.conf (etc/resolv.conf
 * or where --resolv-conf says) and etc/hostname, each written atomically
 * and only when its text changes.
 */
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define NETFILES_RESOLV "/etc/resolv.conf"
#define NETFILES_HOSTNAME "/etc/hostname"

/* ROOT+path (NETFILES_RESOLV by default) from nameservers and search
 * domains, in order, duplicates dropped.  Returns 1 when written, 0 when it
 * already read so. */
int netfiles_write_resolv(const char *root, const char *path, const char *const *nameservers, size_t n_nameservers,
                          const char *const *search, size_t n_search, struct ros_err *e);
/* etc/hostname; 1 when written, 0 when unchanged. */
int netfiles_write_hostname(const char *root, const char *hostname, struct ros_err *e);
