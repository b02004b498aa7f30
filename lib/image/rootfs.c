/* SPDX-License-Identifier: MIT */
/* Container root file systems: the image's layers under an overlay. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "image/image.h"

int image_rootfs_mount(struct image_store *s, const char *id, const char *dir, char **rootfs_out, struct ros_err *e)
{
	if (strpbrk(dir, ":,") || strpbrk(s->root, ":,"))
		return err_setx(e, EINVAL, "overlay paths cannot contain ':' or ',': %s",
		                strpbrk(dir, ":,") ? dir : s->root);
	cleanup_free char *lower = NULL;
	int r = image_lowerdir(s, id, &lower, e);
	if (r < 0)
		return r;
	char upper[4096], work[4096], rootfs[4096];
	snprintf(upper, sizeof(upper), "%s/upper", dir);
	snprintf(work, sizeof(work), "%s/work", dir);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", dir);
	if ((r = fs_mkdir_p(upper, 0755, e)) < 0 || (r = fs_mkdir_p(work, 0700, e)) < 0 ||
	    (r = fs_mkdir_p(rootfs, 0755, e)) < 0)
		return r;
	cleanup_free char *opts = NULL;
	if (asprintf(&opts, "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work) < 0)
		return err_set(e, ENOMEM, "overlay options");
	if (strlen(opts) >= (size_t)sysconf(_SC_PAGESIZE))
		return err_setx(e, E2BIG, "overlay options for image %s are %zu bytes, more than a page", id,
		                strlen(opts));
	if (mount("overlay", rootfs, "overlay", 0, opts) < 0)
		return err_set(e, errno, "mount overlay on %s", rootfs);
	if (rootfs_out && !(*rootfs_out = strdup(rootfs))) {
		umount2(rootfs, MNT_DETACH);
		return err_set(e, ENOMEM, "rootfs path");
	}
	return 0;
}

int image_rootfs_umount(const char *dir, struct ros_err *e)
{
	char rootfs[4096];
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", dir);
	if (umount2(rootfs, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return err_set(e, errno, "unmount %s", rootfs);
	return 0;
}
