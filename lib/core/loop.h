/* SPDX-License-Identifier: MIT */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Attaches file to a free loop device (LOOP_CONFIGURE, or SET_FD and
 * SET_STATUS64 before Linux 5.8), read-only, cleared on last close; the
 * device's path goes to dev. Returns the open loop fd: keep it until the
 * device is mounted. */
int loop_attach(const char *file, char *dev, size_t size, struct ros_err *e);
/* The same for the part of file from offset, limit bytes long (0: to its
 * end), read-only or writable (ros install and make disk use partitions
 * of an image file this way). */
int loop_attach_range(const char *file, uint64_t offset, uint64_t limit, bool read_only, char *dev, size_t size,
                      struct ros_err *e);
