/* SPDX-License-Identifier: MIT */
#pragma once
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* Writes data to path atomically: temp file in the same directory, fsync,
 * rename, fsync of the directory.  A reader sees the old or the new file,
 * never a torn one.  mode is applied to the new file (0600 for secrets). */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct ros_err *e);

/* fs_write_atomic without the fsyncs: atomic but not durable, for state
 * that describes live processes and means nothing after a reboot (and
 * lives on tmpfs, where an fsync is a syscall for nothing). */
int fs_write_replace(const char *path, const void *data, size_t len, mode_t mode, struct ros_err *e);

/* Reads a whole file into a NUL-terminated heap buffer; fails with EFBIG
 * past max bytes.  *len_out (optional) excludes the NUL. */
int fs_read_all(const char *path, size_t max, char **out, size_t *len_out, struct ros_err *e);
/* Same, from an open fd (not closed). */
int fs_read_fd(int fd, size_t max, char **out, size_t *len_out, struct ros_err *e);

/* mkdir -p with mode for each created component. */
int fs_mkdir_p(const char *path, mode_t mode, struct ros_err *e);

/* Writes a string to an existing file (sysfs, procfs, cgroupfs), no O_CREAT. */
int fs_write_file(const char *path, const char *s, struct ros_err *e);

/* Writes all of buf to fd, retrying on EINTR and short writes. */
int fs_write_all(int fd, const void *buf, size_t len);

/* rm -rf that never crosses a mount point (stays on the device of path). */
int fs_remove_tree(const char *path, struct ros_err *e);
