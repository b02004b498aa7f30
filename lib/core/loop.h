/* SPDX-License-Identifier: MIT */
#pragma once
#include <stddef.h>

#include "err.h"

/* Attaches file to a free loop device (LOOP_CONFIGURE, or SET_FD and
 * SET_STATUS64 before Linux 5.8), read-only, cleared on last close; the
 * device's path goes to dev. Returns the open loop fd: keep it until the
 * device is mounted. */
int loop_attach(const char *file, char *dev, size_t size, struct ros_err *e);
