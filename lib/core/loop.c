/* SPDX-License-Identifier: MIT */
/* Loop devices without libmount (whose random-number wait can stall a
 * boot for a second before the kernel's CRNG is ready). */
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"

int loop_attach(const char *file, char *dev, size_t size, struct ros_err *e)
{
	return loop_attach_range(file, 0, 0, true, dev, size, e);
}

int loop_attach_range(const char *file, uint64_t offset, uint64_t limit, bool read_only, char *dev, size_t size,
                      struct ros_err *e)
{
	cleanup_close int file_fd = open(file, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (file_fd < 0)
		return err_set(e, errno, "open %s", file);
	cleanup_close int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return err_set(e, errno, "open /dev/loop-control");
	for (int attempt = 0; attempt < 32; attempt++) {
		int nr = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (nr < 0)
			return err_set(e, errno, "get a free loop device");
		snprintf(dev, size, "/dev/loop%d", nr);
		cleanup_close int fd = open(dev, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT) { /* devtmpfs has not made the node yet */
				nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
				continue;
			}
			return err_set(e, errno, "open %s", dev);
		}
		struct loop_config cfg = {.fd = (unsigned)file_fd};
		cfg.info.lo_flags = (read_only ? LO_FLAGS_READ_ONLY : 0) | LO_FLAGS_AUTOCLEAR;
		cfg.info.lo_offset = offset;
		cfg.info.lo_sizelimit = limit;
		size_t name_len = strnlen(file, sizeof(cfg.info.lo_file_name) - 1);
		memcpy(cfg.info.lo_file_name, file, name_len); /* informative only: truncation is fine */
		if (ioctl(fd, LOOP_CONFIGURE, &cfg) == 0)
			return TAKE_FD(fd);
		if (errno == EBUSY) /* another process took it first */
			continue;
		if (errno != EINVAL && errno != ENOTTY)
			return err_set(e, errno, "configure %s for %s at %llu", dev, file, (unsigned long long)offset);
		/* Kernels before 5.8: two steps. */
		if (ioctl(fd, LOOP_SET_FD, file_fd) < 0) {
			if (errno == EBUSY)
				continue;
			return err_set(e, errno, "attach %s to %s", file, dev);
		}
		if (ioctl(fd, LOOP_SET_STATUS64, &cfg.info) < 0) {
			int saved = errno;
			ioctl(fd, LOOP_CLR_FD, 0);
			return err_set(e, saved, "set status of %s", dev);
		}
		return TAKE_FD(fd);
	}
	return err_setx(e, EBUSY, "attach %s: every free loop device was taken", file);
}
