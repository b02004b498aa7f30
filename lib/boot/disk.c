/* SPDX-License-Identifier: MIT */
/*
 * The disk: a GPT written with libfdisk (util-linux; ros links it, so the
 * installer needs no sfdisk/sgdisk in whatever image runs it, and the same
 * code partitions an image file on the build host), partition device
 * nodes, raw writes of gzip'ed filesystem templates, and growing the last
 * partition and its ext4 while mounted (first boot of a copied image).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <libfdisk/libfdisk.h>
#include <limits.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "boot.h"
#include "core/cleanup.h"
#include "core/loop.h"
#include "core/fs.h"

#define GUID_BIOS "21686148-6449-6E6F-744E-656564454649"
#define GUID_ESP "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
#define GUID_LINUX "0FC63DAF-8483-4772-8E79-3D69D8477DE4"

static const struct part_spec layout_parts[] = {
        {PART_BIOS, "ROS_BIOS", GUID_BIOS, 1},   {PART_ESP, "ROS_EFI", GUID_ESP, 32},
        {PART_SLOT_A, "ROS_A", GUID_LINUX, 512}, {PART_SLOT_B, "ROS_B", GUID_LINUX, 512},
        {PART_OEM, "ROS_OEM", GUID_LINUX, 32},   {PART_STATE, "ROS_STATE", GUID_LINUX, 0},
};

#define STATE_MIN_MIB 256

size_t boot_layout(bool with_oem, struct part_spec out[PART_KINDS])
{
	size_t n = 0;
	for (size_t i = 0; i < sizeof(layout_parts) / sizeof(*layout_parts); i++)
		if (layout_parts[i].kind != PART_OEM || with_oem)
			out[n++] = layout_parts[i];
	return n;
}

uint64_t boot_layout_min_bytes(bool with_oem)
{
	struct part_spec p[PART_KINDS];
	size_t n = boot_layout(with_oem, p);
	uint64_t mib = 1 + 1; /* the GPT and alignment in front, the backup at the end */
	for (size_t i = 0; i < n; i++)
		mib += p[i].size_mib ? p[i].size_mib : STATE_MIN_MIB;
	return mib * MIB;
}

static void fdisk_cleanup(struct fdisk_context **c)
{
	if (*c)
		fdisk_unref_context(*c);
}

int disk_partition(const char *dev, const struct part_spec *parts, size_t n, struct ros_err *e)
{
	__attribute__((cleanup(fdisk_cleanup))) struct fdisk_context *cxt = fdisk_new_context();
	if (!cxt)
		return err_set(e, ENOMEM, "libfdisk");
	int r = fdisk_assign_device(cxt, dev, 0);
	if (r < 0)
		return err_set(e, r, "open %s for partitioning", dev);
	fdisk_enable_wipe(cxt, 1); /* old filesystem and table signatures */
	if ((r = fdisk_create_disklabel(cxt, "gpt")) < 0)
		return err_set(e, r, "create a GPT on %s", dev);
	struct fdisk_label *lb = fdisk_get_label(cxt, NULL);
	unsigned long ss = fdisk_get_sector_size(cxt);
	fdisk_sector_t next = MIB / ss;
	for (size_t i = 0; i < n; i++) {
		struct fdisk_partition *pa = fdisk_new_partition();
		struct fdisk_parttype *t = fdisk_label_get_parttype_from_string(lb, parts[i].type);
		if (!pa || !t) {
			fdisk_unref_partition(pa);
			fdisk_unref_parttype(t);
			return err_set(e, ENOMEM, "libfdisk partition %s", parts[i].name);
		}
		fdisk_partition_set_partno(pa, i);
		fdisk_partition_set_start(pa, next);
		if (parts[i].size_mib)
			fdisk_partition_set_size(pa, parts[i].size_mib * MIB / ss);
		else
			fdisk_partition_end_follow_default(pa, 1);
		fdisk_partition_set_name(pa, parts[i].name);
		fdisk_partition_set_type(pa, t);
		r = fdisk_add_partition(cxt, pa, NULL);
		fdisk_unref_partition(pa);
		fdisk_unref_parttype(t);
		if (r < 0)
			return err_set(e, r, "add partition %zu (%s, %llu MiB) on %s", i + 1, parts[i].name,
			               (unsigned long long)parts[i].size_mib, dev);
		next += parts[i].size_mib * MIB / ss;
	}
	if ((r = fdisk_write_disklabel(cxt)) < 0)
		return err_set(e, r, "write the GPT to %s", dev);
	struct stat st;
	if (stat(dev, &st) == 0 && S_ISBLK(st.st_mode) && (r = fdisk_reread_partition_table(cxt)) < 0)
		return err_set(e, r, "re-read the partition table of %s (is a partition of it in use?)", dev);
	if ((r = fdisk_deassign_device(cxt, 0)) < 0)
		return err_set(e, r, "sync %s", dev);
	return 0;
}

void disk_part_path(const char *disk, unsigned partno, char *out, size_t size)
{
	size_t l = strlen(disk);
	bool digit = l && disk[l - 1] >= '0' && disk[l - 1] <= '9';
	snprintf(out, size, "%s%s%u", disk, digit ? "p" : "", partno);
}

int disk_wait_node(const char *path, int ms, struct ros_err *e)
{
	struct timespec ts = {0, 50 * 1000000};
	for (int waited = 0; access(path, F_OK) < 0; waited += 50) {
		if (waited >= ms)
			return err_setx(e, ENOENT, "%s did not appear in %d ms", path, ms);
		nanosleep(&ts, NULL);
	}
	return 0;
}

static int sysfs_u64(const char *path, uint64_t *out, struct ros_err *e)
{
	cleanup_free char *s = NULL;
	int r = fs_read_all(path, 64, &s, NULL, e);
	if (r < 0)
		return r;
	char *end = NULL;
	*out = strtoull(s, &end, 10);
	if (end == s)
		return err_setx(e, EINVAL, "%s: not a number", path);
	return 0;
}

int disk_of_partition(unsigned long long devnum, char *disk, size_t size, unsigned *partno, struct ros_err *e)
{
	char link[128], target[PATH_MAX], p[PATH_MAX + 32];
	snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", major(devnum), minor(devnum));
	cleanup_free char *real = realpath(link, NULL);
	if (!real)
		return err_set(e, errno, "%s", link);
	snprintf(p, sizeof(p), "%s/partition", real);
	uint64_t n = 0;
	if (sysfs_u64(p, &n, NULL) < 0)
		return err_setx(e, EINVAL, "device %u:%u (%s) is not a partition", major(devnum), minor(devnum),
		                strrchr(real, '/') + 1);
	*partno = (unsigned)n;
	snprintf(target, sizeof(target), "%s", real);
	char *slash = strrchr(target, '/');
	*slash = '\0';
	snprintf(disk, size, "/dev/%s", strrchr(target, '/') + 1);
	return 0;
}

static bool all_zero(const unsigned char *b, size_t n)
{
	return n == 0 || (b[0] == 0 && !memcmp(b, b + 1, n - 1));
}

static int zero_range(int fd, bool blk, uint64_t off, uint64_t len, struct ros_err *e, const char *dev)
{
	if (!len)
		return 0;
	if (blk) {
		uint64_t range[2] = {off, len};
		if (ioctl(fd, BLKZEROOUT, range) == 0)
			return 0;
	} else if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0) {
		return 0;
	}
	static const unsigned char zeros[65536];
	while (len) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		ssize_t w = pwrite(fd, zeros, n, (off_t)off);
		if (w < 0)
			return err_set(e, errno, "write zeros to %s at %llu", dev, (unsigned long long)off);
		off += (uint64_t)w;
		len -= (uint64_t)w;
	}
	return 0;
}

int disk_write_gz(const char *gz, const char *dev, uint64_t offset, uint64_t max, uint64_t *written, struct ros_err *e)
{
	cleanup_close int in = open(gz, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return err_set(e, errno, "open %s", gz);
	cleanup_close int out = open(dev, O_WRONLY | O_CLOEXEC);
	if (out < 0)
		return err_set(e, errno, "open %s for writing", dev);
	struct stat st;
	if (fstat(out, &st) < 0)
		return err_set(e, errno, "stat %s", dev);
	bool blk = S_ISBLK(st.st_mode);
	gzFile z = gzdopen(dup(in), "rb");
	if (!z)
		return err_set(e, ENOMEM, "gzdopen %s", gz);
	cleanup_free unsigned char *buf = malloc(1 << 20);
	if (!buf) {
		gzclose(z);
		return err_set(e, ENOMEM, "write %s", gz);
	}
	uint64_t done = 0, zero_start = 0, zero_len = 0;
	int r = 0;
	for (;;) {
		int n = gzread(z, buf, 1 << 20);
		if (n < 0) {
			int zerr;
			r = err_setx(e, EIO, "%s: %s", gz, gzerror(z, &zerr));
			break;
		}
		if (n == 0)
			break;
		if (done + (uint64_t)n > max) {
			r = err_setx(e, EFBIG, "%s is bigger than the %llu bytes of %s at %llu", gz,
			             (unsigned long long)max, dev, (unsigned long long)offset);
			break;
		}
		/* 4 KiB blocks: runs of zeros become one zero-out request */
		for (size_t off = 0; off < (size_t)n; off += 4096) {
			size_t len = (size_t)n - off < 4096 ? (size_t)n - off : 4096;
			uint64_t at = offset + done + off;
			if (all_zero(buf + off, len)) {
				if (!zero_len)
					zero_start = at;
				zero_len += len;
				continue;
			}
			if ((r = zero_range(out, blk, zero_start, zero_len, e, dev)) < 0)
				break;
			zero_len = 0;
			if (pwrite(out, buf + off, len, (off_t)at) != (ssize_t)len) {
				r = err_set(e, errno ? errno : EIO, "write %s at %llu", dev, (unsigned long long)at);
				break;
			}
		}
		if (r < 0)
			break;
		done += (uint64_t)n;
	}
	gzclose(z);
	if (r >= 0)
		r = zero_range(out, blk, zero_start, zero_len, e, dev);
	if (r >= 0 && fsync(out) < 0)
		r = err_set(e, errno, "fsync %s", dev);
	if (r >= 0 && written)
		*written = done;
	return r;
}

/* Writes the GPT back as it is: libfdisk moves a backup GPT that is not
 * at the end of the disk there (and the last usable LBA with it). */
static int gpt_relocate(const char *disk, struct ros_err *e)
{
	__attribute__((cleanup(fdisk_cleanup))) struct fdisk_context *cxt = fdisk_new_context();
	if (!cxt)
		return err_set(e, ENOMEM, "libfdisk");
	int r = fdisk_assign_device(cxt, disk, 0);
	if (r < 0)
		return err_set(e, r, "open %s", disk);
	if (!fdisk_is_labeltype(cxt, FDISK_DISKLABEL_GPT))
		return err_setx(e, EINVAL, "%s has no GPT", disk);
	if (fdisk_get_last_lba(cxt) + 34 >= fdisk_get_nsectors(cxt))
		return 0;
	if ((r = fdisk_write_disklabel(cxt)) < 0)
		return err_set(e, r, "move the backup GPT of %s to its end", disk);
	if ((r = fdisk_deassign_device(cxt, 0)) < 0)
		return err_set(e, r, "sync %s", disk);
	return 1;
}

int disk_grow_last(const char *disk, unsigned partno, struct ros_err *e)
{
	int r = gpt_relocate(disk, e);
	if (r < 0)
		return r;
	__attribute__((cleanup(fdisk_cleanup))) struct fdisk_context *cxt = fdisk_new_context();
	if (!cxt)
		return err_set(e, ENOMEM, "libfdisk");
	if ((r = fdisk_assign_device(cxt, disk, 0)) < 0)
		return err_set(e, r, "open %s", disk);
	struct fdisk_partition *cur = NULL;
	if ((r = fdisk_get_partition(cxt, partno - 1, &cur)) < 0)
		return err_set(e, r, "partition %u of %s", partno, disk);
	fdisk_sector_t start = fdisk_partition_get_start(cur), size = fdisk_partition_get_size(cur);
	fdisk_unref_partition(cur);
	unsigned long ss = fdisk_get_sector_size(cxt);
	fdisk_sector_t grain = MIB / ss;
	fdisk_sector_t want = (fdisk_get_last_lba(cxt) + 1 - start) / grain * grain;
	if (want <= size + grain)
		return 0; /* within a MiB of the end already */
	struct fdisk_table *orig = NULL;
	if ((r = fdisk_get_partitions(cxt, &orig)) < 0)
		return err_set(e, r, "read the partitions of %s", disk);
	struct fdisk_partition *pa = fdisk_new_partition();
	if (!pa) {
		fdisk_unref_table(orig);
		return err_set(e, ENOMEM, "libfdisk");
	}
	fdisk_partition_set_size(pa, want);
	r = fdisk_set_partition(cxt, partno - 1, pa);
	fdisk_unref_partition(pa);
	if (r >= 0)
		r = fdisk_write_disklabel(cxt);
	if (r >= 0)
		r = fdisk_reread_changes(cxt, orig); /* BLKPG resize: works while mounted */
	fdisk_unref_table(orig);
	if (r < 0)
		return err_set(e, r, "grow partition %u of %s to %llu MiB", partno, disk,
		               (unsigned long long)(want / grain));
	if ((r = fdisk_deassign_device(cxt, 0)) < 0)
		return err_set(e, r, "sync %s", disk);
	return 1;
}

#ifndef EXT4_IOC_RESIZE_FS
#define EXT4_IOC_RESIZE_FS _IOW('f', 16, uint64_t)
#endif

int ext4_grow(const char *dir, uint64_t bytes, struct ros_err *e)
{
	cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno, "open %s", dir);
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0)
		return err_set(e, errno, "statfs %s", dir);
	if (sf.f_type != 0xEF53)
		return err_setx(e, EINVAL, "%s is not ext4", dir);
	uint64_t bs = (uint64_t)sf.f_bsize;
	uint64_t blocks = bytes / bs;
	if (blocks <= (uint64_t)sf.f_blocks) /* f_blocks excludes the metadata: surely no bigger */
		return 0;
	/* the kernel does nothing when blocks is the current size */
	if (ioctl(fd, EXT4_IOC_RESIZE_FS, &blocks) < 0)
		return err_set(e, errno, "grow the ext4 on %s to %llu blocks of %llu", dir, (unsigned long long)blocks,
		               (unsigned long long)bs);
	struct statfs after;
	if (fstatfs(fd, &after) < 0)
		return err_set(e, errno, "statfs %s", dir);
	return after.f_blocks > sf.f_blocks;
}

int fs_set_label(const char *dir, const char *label, struct ros_err *e)
{
	cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno, "open %s", dir);
	char buf[FSLABEL_MAX] = {0};
	snprintf(buf, sizeof(buf), "%s", label);
	if (ioctl(fd, FS_IOC_SETFSLABEL, buf) < 0)
		return err_set(e, errno, "set the label of %s to %s", dir, label);
	return 0;
}

int disk_part_range(const char *disk, unsigned partno, uint64_t *start, uint64_t *size, struct ros_err *e)
{
	__attribute__((cleanup(fdisk_cleanup))) struct fdisk_context *cxt = fdisk_new_context();
	if (!cxt)
		return err_set(e, ENOMEM, "libfdisk");
	int r = fdisk_assign_device(cxt, disk, 1);
	if (r < 0)
		return err_set(e, r, "open %s", disk);
	struct fdisk_partition *pa = NULL;
	if ((r = fdisk_get_partition(cxt, partno - 1, &pa)) < 0)
		return err_set(e, r, "partition %u of %s", partno, disk);
	unsigned long ss = fdisk_get_sector_size(cxt);
	*start = fdisk_partition_get_start(pa) * ss;
	*size = fdisk_partition_get_size(pa) * ss;
	fdisk_unref_partition(pa);
	return 0;
}

int disk_loop_range(const char *file, uint64_t offset, uint64_t size, char *dev, size_t dev_size, struct ros_err *e)
{
	return loop_attach_range(file, offset, size, false, dev, dev_size, e);
}
