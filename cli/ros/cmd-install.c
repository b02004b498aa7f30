/* SPDX-License-Identifier: MIT */
/*
 * ros install: the running version (the boot medium, /run/ros/media) to a
 * disk, or to an image file (`make disk` runs this on the build host):
 * GPT, GRUB for BIOS and UEFI, slot A, the state partition with the
 * cloud-config, optionally an OEM partition.  docs/install.md.
 */
#define _GNU_SOURCE
#include <blkid/blkid.h>
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "core/cleanup.h"
#include "core/fs.h"
#include "install.h"

/* ---- shared with cmd-slots.c ---- */

int inst_part_open(const struct inst_target *t, unsigned partno, struct inst_part *p, struct ros_err *e)
{
	p->loop_fd = -1;
	int r = disk_part_range(t->disk, partno, &p->start, &p->size, e);
	if (r < 0)
		return r;
	if (t->file) {
		int fd = disk_loop_range(t->disk, p->start, p->size, p->dev, sizeof(p->dev), e);
		if (fd < 0)
			return fd;
		p->loop_fd = fd;
		return 0;
	}
	disk_part_path(t->disk, partno, p->dev, sizeof(p->dev));
	return disk_wait_node(p->dev, 5000, e);
}

void inst_part_close(struct inst_part *p)
{
	if (p->loop_fd >= 0)
		close(p->loop_fd);
	p->loop_fd = -1;
}

int inst_mount(const char *dev, const char *type, unsigned long flags, char dir[64], struct ros_err *e)
{
	snprintf(dir, 64, "/tmp/ros-mnt.XXXXXX");
	if (!mkdtemp(dir))
		return err_set(e, errno, "mkdtemp %s", dir);
	/* vfat: the kernel's default iocharset (ascii on Debian) is a module
	 * ros does not ship; iso8859-1 is loaded with vfat */
	const char *data = !strcmp(type, "vfat") ? "iocharset=iso8859-1" : NULL;
	if (mount(dev, dir, type, flags, data) < 0) {
		int saved = errno;
		rmdir(dir);
		dir[0] = '\0';
		return err_set(e, saved, "mount %s (%s) on a temporary directory", dev, type);
	}
	return 0;
}

int inst_umount(char dir[64], struct ros_err *e)
{
	if (!dir[0])
		return 0;
	if (umount(dir) < 0)
		return err_set(e, errno, "unmount %s", dir);
	rmdir(dir);
	dir[0] = '\0';
	return 0;
}

int inst_run(const char *cwd, const char *const argv[], char *out, size_t out_size, struct ros_err *e)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return err_set(e, errno, "pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return err_set(e, errno, "fork for %s", argv[0]);
	}
	if (pid == 0) {
		dup2(pfd[1], 1);
		if (cwd && chdir(cwd) < 0) {
			fprintf(stderr, "ros: chdir %s: %m\n", cwd);
			_exit(126);
		}
		execvp(argv[0], (char *const *)(uintptr_t)argv);
		fprintf(stderr, "ros: run %s: %m\n", argv[0]);
		_exit(127);
	}
	close(pfd[1]);
	size_t n = 0;
	char sink[4096];
	for (;;) {
		char *dst = out && n + 1 < out_size ? out + n : sink;
		size_t room = out && n + 1 < out_size ? out_size - 1 - n : sizeof(sink);
		ssize_t got = read(pfd[0], dst, room);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		if (dst != sink)
			n += (size_t)got;
	}
	close(pfd[0]);
	if (out)
		out[n] = '\0';
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return err_set(e, errno, "wait for %s", argv[0]);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return err_setx(e, EIO, "%s failed (%s %d)%s%s", argv[0], WIFEXITED(status) ? "exit status" : "signal",
		                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), out && n ? ": " : "",
		                out && n ? out : "");
	return 0;
}

static int copy_file(const char *src, const char *dst, mode_t mode, struct ros_err *e)
{
	cleanup_close int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return err_set(e, errno, "open %s", src);
	cleanup_close int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0)
		return err_set(e, errno, "create %s", dst);
	cleanup_free char *buf = malloc(1 << 20);
	if (!buf)
		return err_set(e, ENOMEM, "copy %s", src);
	for (;;) {
		ssize_t n = read(in, buf, 1 << 20);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(e, errno, "read %s", src);
		if (n == 0)
			break;
		if (fs_write_all(out, buf, (size_t)n) < 0)
			return err_set(e, errno, "write %s", dst);
	}
	if (fsync(out) < 0)
		return err_set(e, errno, "fsync %s", dst);
	return 0;
}

/* The files of a slot, relative to the medium's root; SHA256SUMS lists them. */
static const char *const slot_files[] = {
        "boot/vmlinuz",         "boot/initrd.img",      "ros/root.squashfs",      "ros/VERSION",
        "ros/install/boot.img", "ros/install/core.img", "ros/install/esp.img.gz", "ros/install/ext4.img.gz"};

static int slot_fill_from_dir(const char *srcdir, const char *mnt, struct ros_err *e)
{
	char sums[8192];
	const char *argv[2 + sizeof(slot_files) / sizeof(*slot_files)];
	size_t a = 0;
	argv[a++] = "sha256sum";
	for (size_t i = 0; i < sizeof(slot_files) / sizeof(*slot_files); i++) {
		char src[PATH_MAX], dst[PATH_MAX], dir[PATH_MAX];
		snprintf(src, sizeof(src), "%s/%s", srcdir, slot_files[i]);
		snprintf(dst, sizeof(dst), "%s/%s", mnt, slot_files[i]);
		snprintf(dir, sizeof(dir), "%s", dst);
		*strrchr(dir, '/') = '\0';
		int r = fs_mkdir_p(dir, 0755, e);
		if (r < 0)
			return r;
		struct stat st;
		if (stat(src, &st) == 0 && st.st_size > 8 << 20)
			printf("      %s (%lld MiB)\n", slot_files[i], (long long)(st.st_size >> 20));
		fflush(stdout);
		if ((r = copy_file(src, dst, 0644, e)) < 0)
			return r;
		argv[a++] = slot_files[i];
	}
	argv[a] = NULL;
	/* the sums of the source, so the check after re-mounting compares
	 * what the slot holds with what was meant to be written */
	int r = inst_run(srcdir, argv, sums, sizeof(sums), e);
	if (r < 0)
		return err_prefix(e, "checksum the source %s", srcdir);
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/SHA256SUMS", mnt);
	return fs_write_atomic(p, sums, strlen(sums), 0644, e);
}

static int slot_verify(const char *mnt, char *version, size_t vsize, struct ros_err *e)
{
	char sums[PATH_MAX], out[8192];
	snprintf(sums, sizeof(sums), "%s/SHA256SUMS", mnt);
	cleanup_free char *list = NULL;
	int r = fs_read_all(sums, 64 << 10, &list, NULL, e);
	if (r < 0)
		return err_prefix(e, "the image lists no checksums");
	for (size_t i = 0; i < 4; i++) { /* the files a boot needs must be listed */
		char needle[128];
		snprintf(needle, sizeof(needle), " %s\n", slot_files[i]);
		char needle2[128];
		snprintf(needle2, sizeof(needle2), "*%s\n", slot_files[i]);
		if (!strstr(list, needle) && !strstr(list, needle2))
			return err_setx(e, EINVAL, "SHA256SUMS does not list %s", slot_files[i]);
	}
	const char *argv[] = {"sha256sum", "-c", "SHA256SUMS", NULL};
	if ((r = inst_run(mnt, argv, out, sizeof(out), e)) < 0)
		return err_prefix(e, "verify the written files");
	char vp[PATH_MAX];
	snprintf(vp, sizeof(vp), "%s/ros/VERSION", mnt);
	cleanup_free char *v = NULL;
	if ((r = fs_read_all(vp, 256, &v, NULL, e)) < 0)
		return r;
	v[strcspn(v, "\n")] = '\0';
	if (!v[0])
		return err_setx(e, EINVAL, "ros/VERSION is empty");
	snprintf(version, vsize, "%s", v);
	return 0;
}

/* A partition from the ext4 template: written, mounted at mnt, labelled,
 * grown to fill it (online; where the ioctl is refused, as on a build
 * host without CAP_SYS_RESOURCE, offline with resize2fs if there is one). */
static int part_format(struct inst_part *p, const char *label, const char *tmpl, char mnt[64], struct ros_err *e)
{
	int r = disk_write_gz(tmpl, p->dev, 0, p->size, NULL, e);
	if (r < 0 || (r = inst_mount(p->dev, "ext4", MS_NOATIME, mnt, e)) < 0 || (r = fs_set_label(mnt, label, e)) < 0)
		return r;
	r = ext4_grow(mnt, p->size, e);
	if (r != -EPERM)
		return r < 0 ? r : 0;
	const char *argv[] = {"resize2fs", "-f", p->dev, NULL};
	if ((r = inst_umount(mnt, e)) < 0 || (r = inst_run(NULL, argv, NULL, 0, e)) < 0)
		return err_prefix(e, "online grow refused (no CAP_SYS_RESOURCE), offline");
	return inst_mount(p->dev, "ext4", MS_NOATIME, mnt, e);
}

int inst_slot_write(const struct inst_target *t, char slot, const char *tmpl, const char *srcdir, const char *tarball,
                    char *version, size_t vsize, struct ros_err *e)
{
	struct inst_part p;
	int r = inst_part_open(t, inst_slot_partno(slot), &p, e);
	if (r < 0)
		return r;
	char mnt[64] = "", label[16];
	snprintf(label, sizeof(label), "ROS_%c", slot);
	printf("      slot %c: %s (%llu MiB)\n", slot, p.dev, (unsigned long long)(p.size / MIB));
	fflush(stdout);
	if ((r = part_format(&p, label, tmpl, mnt, e)) < 0)
		goto out;
	if (srcdir) {
		r = slot_fill_from_dir(srcdir, mnt, e);
	} else {
		const char *argv[] = {"tar", "-x", "-f", tarball, "-C", mnt, NULL};
		r = inst_run(NULL, argv, NULL, 0, e);
	}
	if (r < 0)
		goto out;
	sync();
	if ((r = inst_umount(mnt, e)) < 0)
		goto out;
	/* read back from the disk, not from what the page cache kept */
	if ((r = inst_mount(p.dev, "ext4", MS_RDONLY, mnt, e)) < 0)
		goto out;
	printf("      slot %c: verifying\n", slot);
	fflush(stdout);
	r = slot_verify(mnt, version, vsize, e);
out:
	if (mnt[0]) {
		struct ros_err ue = {0};
		if (inst_umount(mnt, &ue) < 0 && r >= 0)
			r = err_setx(e, ue.code, "%s", ue.msg);
	}
	inst_part_close(&p);
	if (r < 0)
		return err_prefix(e, "slot %c (%s)", slot, t->disk);
	return 0;
}

/* The same through mtools, for a kernel without vfat: not atomic, only
 * for images being built. */
static int env_update_mtools(const char *dev, struct boot_state *st, bool fresh,
                             int (*change)(struct boot_state *st, void *arg, struct ros_err *e), void *arg,
                             struct ros_err *e)
{
	struct grubenv env = {0};
	int r = 0;
	if (!fresh) {
		char buf[GRUBENV_SIZE * 2];
		const char *rd[] = {"mtype", "-i", dev, "::/" INST_GRUBENV, NULL};
		if ((r = inst_run(NULL, rd, buf, sizeof(buf), e)) < 0 ||
		    (r = grubenv_parse(buf, strlen(buf), INST_GRUBENV, &env, e)) < 0 ||
		    (r = boot_state_from_env(&env, st, e)) < 0)
			goto out;
	}
	if (!change || (r = change(st, arg, e)) <= 0)
		goto out;
	char tmp[] = "/tmp/ros-grubenv.XXXXXX", block[GRUBENV_SIZE];
	if ((r = boot_state_to_env(st, &env, e)) < 0 || (r = grubenv_format(&env, block, e)) < 0)
		goto out;
	int fd = mkstemp(tmp);
	if (fd < 0) {
		r = err_set(e, errno, "mkstemp %s", tmp);
		goto out;
	}
	r = fs_write_all(fd, block, sizeof(block)) < 0 ? err_set(e, errno, "write %s", tmp) : 0;
	close(fd);
	const char *wr[] = {"mcopy", "-o", "-i", dev, tmp, "::/" INST_GRUBENV, NULL};
	if (r >= 0)
		r = inst_run(NULL, wr, NULL, 0, e);
	unlink(tmp);
out:
	grubenv_free(&env);
	return r;
}

int inst_env_update(const struct inst_target *t, struct boot_state *st, bool fresh,
                    int (*change)(struct boot_state *st, void *arg, struct ros_err *e), void *arg, struct ros_err *e)
{
	struct inst_part p;
	int r = inst_part_open(t, INST_PARTNO_ESP, &p, e);
	if (r < 0)
		return r;
	char mnt[64] = "", path[128];
	struct grubenv env = {0};
	unsigned long ro = change ? 0 : MS_RDONLY;
	r = inst_mount(p.dev, "vfat", ro | MS_NOATIME | MS_NOSUID | MS_NODEV | MS_NOEXEC, mnt, e);
	if (r == -ENODEV) {
		/* a kernel without vfat (a build host making a disk image) */
		r = env_update_mtools(p.dev, st, fresh, change, arg, e);
		goto out;
	}
	if (r < 0)
		goto out;
	snprintf(path, sizeof(path), "%s/" INST_GRUBENV, mnt);
	if (!fresh) {
		if ((r = grubenv_load(path, &env, e)) < 0 || (r = boot_state_from_env(&env, st, e)) < 0)
			goto out;
	}
	if (!change || (r = change(st, arg, e)) <= 0)
		goto out; /* only reading, an error, or nothing to write */
	if ((r = boot_state_to_env(st, &env, e)) < 0 || (r = grubenv_save(path, &env, e)) < 0)
		goto out;
out:
	grubenv_free(&env);
	if (mnt[0]) {
		struct ros_err ue = {0};
		if (inst_umount(mnt, &ue) < 0 && r >= 0)
			r = err_setx(e, ue.code, "%s", ue.msg);
	}
	inst_part_close(&p);
	if (r < 0)
		return err_prefix(e, "boot environment on %s", p.dev);
	return 0;
}

/* ---- ros install ---- */

static void install_usage(FILE *out)
{
	fprintf(out, "usage: ros install -d DISK [-c CLOUD-CONFIG] [--append ARGS] [-f] [--no-reboot]\n"
	             "                   [--source DIR] [--oem DIR] [--size MIB]\n\n"
	             "Installs the running ros version on DISK: GPT, GRUB for BIOS and UEFI,\n"
	             "slot A, the state partition (ROS_STATE).  Everything on DISK is lost.\n\n"
	             "  -d, --device DISK    the disk (/dev/vdb), or an image file (made with --size)\n"
	             "  -c, --cloud-config F copied to the state's cloud-config.d/install.yml\n"
	             "  -a, --append ARGS    extra kernel arguments for every boot\n"
	             "  -f, --force          install over a disk that holds partitions or data\n"
	             "      --no-reboot      do not reboot when done\n"
	             "      --source DIR     the medium to install from (default " INST_MEDIA ")\n"
	             "      --oem DIR        copy DIR to an OEM partition (ROS_OEM, mounted on\n"
	             "                       /usr/share/ros/oem)\n"
	             "      --size MIB       create the image file DISK of that size first\n");
}

static int disk_holds_something(const char *disk, char *what, size_t size)
{
	blkid_probe pr = blkid_new_probe_from_filename(disk);
	if (!pr)
		return -errno;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_enable_partitions(pr, 1);
	const char *val = NULL;
	int r = blkid_do_safeprobe(pr);
	int found = 0;
	if (r == 0 && blkid_probe_lookup_value(pr, "PTTYPE", &val, NULL) == 0) {
		snprintf(what, size, "a partition table (%s)", val);
		found = 1;
	} else if (r == 0 && blkid_probe_lookup_value(pr, "TYPE", &val, NULL) == 0) {
		snprintf(what, size, "a filesystem (%s)", val);
		found = 1;
	} else if (r == -2) {
		snprintf(what, size, "several filesystem signatures");
		found = 1;
	}
	blkid_free_probe(pr);
	return found;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int install_bios(const struct inst_target *t, const char *src, struct ros_err *e)
{
	char p[PATH_MAX];
	cleanup_free char *core = NULL, *boot = NULL;
	size_t core_len = 0, boot_len = 0;
	snprintf(p, sizeof(p), "%s/ros/install/core.img", src);
	int r = fs_read_all(p, 1 << 20, &core, &core_len, e);
	if (r < 0)
		return r;
	snprintf(p, sizeof(p), "%s/ros/install/boot.img", src);
	if ((r = fs_read_all(p, 4096, &boot, &boot_len, e)) < 0)
		return r;
	if (boot_len != BIOS_SECTOR)
		return err_setx(e, EINVAL, "%s: %zu bytes, expected 512", p, boot_len);
	uint64_t start, size;
	if ((r = disk_part_range(t->disk, INST_PARTNO_BIOS, &start, &size, e)) < 0)
		return r;
	/* core.img padded to whole sectors */
	size_t padded = (core_len + BIOS_SECTOR - 1) / BIOS_SECTOR * BIOS_SECTOR;
	if (padded > size)
		return err_setx(e, EFBIG, "core.img (%zu bytes) does not fit the BIOS boot partition (%llu)", core_len,
		                (unsigned long long)size);
	cleanup_free unsigned char *img = calloc(1, padded);
	if (!img)
		return err_set(e, ENOMEM, "core.img");
	memcpy(img, core, core_len);
	uint64_t lba = start / BIOS_SECTOR;
	if ((r = bios_core_img_patch(img, padded, lba, e)) < 0)
		return r;
	cleanup_close int fd = open(t->disk, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno, "open %s", t->disk);
	unsigned char mbr[BIOS_SECTOR];
	if (pread(fd, mbr, sizeof(mbr), 0) != (ssize_t)sizeof(mbr))
		return err_set(e, errno ? errno : EIO, "read the MBR of %s", t->disk);
	if ((r = bios_boot_img_patch((unsigned char *)boot, mbr, lba, e)) < 0)
		return r;
	if (pwrite(fd, img, padded, (off_t)start) != (ssize_t)padded)
		return err_set(e, errno ? errno : EIO, "write core.img to %s at %llu", t->disk,
		               (unsigned long long)start);
	if (pwrite(fd, boot, BIOS_SECTOR, 0) != BIOS_SECTOR)
		return err_set(e, errno ? errno : EIO, "write boot.img to the MBR of %s", t->disk);
	if (fsync(fd) < 0)
		return err_set(e, errno, "fsync %s", t->disk);
	return 0;
}

static int install_esp(const struct inst_target *t, const char *src, struct ros_err *e)
{
	struct inst_part p;
	int r = inst_part_open(t, INST_PARTNO_ESP, &p, e);
	if (r < 0)
		return r;
	char gz[PATH_MAX];
	snprintf(gz, sizeof(gz), "%s/ros/install/esp.img.gz", src);
	r = disk_write_gz(gz, p.dev, 0, p.size, NULL, e);
	inst_part_close(&p);
	return r;
}

/* A data partition from the ext4 template: labelled, grown, mounted at mnt. */
static int install_data_part(const struct inst_target *t, unsigned partno, const char *label, const char *tmpl,
                             struct inst_part *p, char mnt[64], struct ros_err *e)
{
	int r = inst_part_open(t, partno, p, e);
	if (r < 0)
		return r;
	if ((r = part_format(p, label, tmpl, mnt, e)) < 0) {
		struct ros_err ue = {0};
		inst_umount(mnt, &ue);
		inst_part_close(p);
		return err_prefix(e, "%s (%s)", label, p->dev);
	}
	return 0;
}

static int install_state(const struct inst_target *t, unsigned partno, const char *tmpl, const char *cloud_config,
                         struct ros_err *e)
{
	struct inst_part p;
	char mnt[64] = "";
	int r = install_data_part(t, partno, "ROS_STATE", tmpl, &p, mnt, e);
	if (r < 0)
		return r;
	char dir[PATH_MAX], dst[PATH_MAX + 32];
	snprintf(dir, sizeof(dir), "%s/var/lib/ros/conf/cloud-config.d", mnt);
	r = fs_mkdir_p(dir, 0700, e);
	if (r >= 0 && cloud_config) {
		cleanup_free char *cc = NULL;
		size_t len = 0;
		snprintf(dst, sizeof(dst), "%s/install.yml", dir);
		if ((r = fs_read_all(cloud_config, 1 << 20, &cc, &len, e)) >= 0)
			r = fs_write_atomic(dst, cc, len, 0600, e);
	}
	sync();
	struct ros_err ue = {0};
	if (inst_umount(mnt, &ue) < 0 && r >= 0)
		r = err_setx(e, ue.code, "%s", ue.msg);
	inst_part_close(&p);
	return r;
}

static int install_oem(const struct inst_target *t, unsigned partno, const char *tmpl, const char *oem,
                       struct ros_err *e)
{
	struct inst_part p;
	char mnt[64] = "";
	int r = install_data_part(t, partno, "ROS_OEM", tmpl, &p, mnt, e);
	if (r < 0)
		return r;
	char src[PATH_MAX + 4];
	snprintf(src, sizeof(src), "%s/.", oem);
	const char *argv[] = {"cp", "-R", src, mnt, NULL};
	r = inst_run(NULL, argv, NULL, 0, e);
	sync();
	struct ros_err ue = {0};
	if (inst_umount(mnt, &ue) < 0 && r >= 0)
		r = err_setx(e, ue.code, "%s", ue.msg);
	inst_part_close(&p);
	return r;
}

/* Slot B gets nothing at install: wipe its first MiB so no old
 * filesystem (a previous install's ROS_B) is found by label. */
static int wipe_start(const struct inst_target *t, unsigned partno, struct ros_err *e)
{
	uint64_t start, size;
	int r = disk_part_range(t->disk, partno, &start, &size, e);
	if (r < 0)
		return r;
	cleanup_close int fd = open(t->disk, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno, "open %s", t->disk);
	static const char zeros[1 << 16];
	for (uint64_t off = 0; off < MIB && off < size; off += sizeof(zeros))
		if (pwrite(fd, zeros, sizeof(zeros), (off_t)(start + off)) != (ssize_t)sizeof(zeros))
			return err_set(e, errno ? errno : EIO, "wipe partition %u of %s", partno, t->disk);
	if (fsync(fd) < 0)
		return err_set(e, errno, "fsync %s", t->disk);
	return 0;
}

struct init_arg {
	const char *version, *append;
};

static int env_init(struct boot_state *st, void *arg, struct ros_err *e)
{
	const struct init_arg *a = arg;
	boot_state_init(st, 'A', a->version, a->append);
	snprintf(st->note, sizeof(st->note), "installed %s to slot A", a->version);
	return 1;
}

#define STEP(n, total, ...)                                                                                            \
	do {                                                                                                           \
		printf("[%d/%d] ", n, total);                                                                          \
		printf(__VA_ARGS__);                                                                                   \
		printf("\n");                                                                                          \
		fflush(stdout);                                                                                        \
	} while (0)

int cmd_install(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"device", required_argument, NULL, 'd'}, {"cloud-config", required_argument, NULL, 'c'},
	        {"append", required_argument, NULL, 'a'}, {"force", no_argument, NULL, 'f'},
	        {"no-reboot", no_argument, NULL, 'n'},    {"source", required_argument, NULL, 's'},
	        {"oem", required_argument, NULL, 'o'},    {"size", required_argument, NULL, 'z'},
	        {"help", no_argument, NULL, 'h'},         {0},
	};
	const char *disk = NULL, *cloud_config = NULL, *append = "", *src = INST_MEDIA, *oem = NULL;
	bool force = false, no_reboot = false;
	unsigned long long size_mib = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "d:c:a:fh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			disk = optarg;
			break;
		case 'c':
			cloud_config = optarg;
			break;
		case 'a':
			append = optarg;
			break;
		case 'f':
			force = true;
			break;
		case 'n':
			no_reboot = true;
			break;
		case 's':
			src = optarg;
			break;
		case 'o':
			oem = optarg;
			break;
		case 'z':
			size_mib = strtoull(optarg, NULL, 10);
			break;
		case 'h':
			install_usage(stdout);
			return 0;
		default:
			install_usage(stderr);
			return 2;
		}
	}
	if (!disk || optind != argc) {
		install_usage(stderr);
		return 2;
	}
	struct ros_err e = {0};
	struct inst_target t = {0};
	snprintf(t.disk, sizeof(t.disk), "%s", disk);
	double t0 = now_s();
	/* what to install: the medium's files */
	char p[PATH_MAX], tmpl[PATH_MAX];
	for (size_t i = 0; i < 8; i++) {
		static const char *const need[] = {"boot/vmlinuz",           "boot/initrd.img",
		                                   "ros/root.squashfs",      "ros/VERSION",
		                                   "ros/install/boot.img",   "ros/install/core.img",
		                                   "ros/install/esp.img.gz", "ros/install/ext4.img.gz"};
		snprintf(p, sizeof(p), "%s/%s", src, need[i]);
		if (access(p, R_OK) < 0) {
			fprintf(stderr, "ros install: %s: %s (not a ros medium with install files?)\n", p,
			        strerror(errno));
			return 1;
		}
	}
	snprintf(tmpl, sizeof(tmpl), "%s/ros/install/ext4.img.gz", src);
	if (cloud_config && access(cloud_config, R_OK) < 0) {
		fprintf(stderr, "ros install: cloud-config %s: %s\n", cloud_config, strerror(errno));
		return 1;
	}
	if (oem) {
		struct stat ost;
		if (stat(oem, &ost) < 0 || !S_ISDIR(ost.st_mode)) {
			fprintf(stderr, "ros install: --oem %s: not a directory\n", oem);
			return 1;
		}
	}
	if (strlen(append) >= sizeof(((struct boot_state *)0)->append)) {
		fprintf(stderr, "ros install: --append: longer than %zu bytes\n",
		        sizeof(((struct boot_state *)0)->append) - 1);
		return 1;
	}
	/* where to: a block device, or an image file */
	struct stat st;
	if (size_mib) {
		cleanup_close int fd = open(disk, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0 || ftruncate(fd, (off_t)(size_mib * MIB)) < 0) {
			fprintf(stderr, "ros install: create %s of %llu MiB: %s\n", disk, size_mib, strerror(errno));
			return 1;
		}
	}
	if (stat(disk, &st) < 0) {
		fprintf(stderr, "ros install: %s: %s\n", disk, strerror(errno));
		return 1;
	}
	if (S_ISREG(st.st_mode)) {
		t.file = true;
	} else if (!S_ISBLK(st.st_mode)) {
		fprintf(stderr, "ros install: %s is neither a block device nor an image file\n", disk);
		return 1;
	}
	uint64_t disk_bytes = (uint64_t)st.st_size;
	{
		cleanup_close int fd = open(disk, O_RDONLY | O_CLOEXEC | (t.file ? 0 : O_EXCL));
		if (fd < 0) {
			fprintf(stderr, "ros install: open %s: %s%s\n", disk, strerror(errno),
			        errno == EBUSY ? " (it or one of its partitions is mounted or in use)" : "");
			return 1;
		}
		off_t end = lseek(fd, 0, SEEK_END);
		if (end > 0)
			disk_bytes = (uint64_t)end;
	}
	bool with_oem = oem != NULL;
	if (disk_bytes < boot_layout_min_bytes(with_oem)) {
		fprintf(stderr, "ros install: %s has %llu MiB; the layout needs at least %llu MiB\n", disk,
		        (unsigned long long)(disk_bytes / MIB),
		        (unsigned long long)(boot_layout_min_bytes(with_oem) / MIB));
		return 1;
	}
	char what[128];
	int held = disk_holds_something(disk, what, sizeof(what));
	if (held < 0) {
		fprintf(stderr, "ros install: probe %s: %s\n", disk, strerror(-held));
		return 1;
	}
	if (held && !force) {
		fprintf(stderr, "ros install: %s holds %s; use -f to overwrite it\n", disk, what);
		return 1;
	}
	cleanup_free char *version = NULL;
	snprintf(p, sizeof(p), "%s/ros/VERSION", src);
	if (fs_read_all(p, 256, &version, NULL, &e) < 0) {
		fprintf(stderr, "ros install: %s\n", err_msg(&e));
		return 1;
	}
	version[strcspn(version, "\n")] = '\0';
	int total = with_oem ? 7 : 6, n = 0;
	printf("installing ros %s to %s (%llu MiB)%s\n", version, disk, (unsigned long long)(disk_bytes / MIB),
	       held ? ", overwriting what it held" : "");
	struct part_spec parts[PART_KINDS];
	size_t nparts = boot_layout(with_oem, parts);
	STEP(++n, total, "partitioning (GPT: %zu partitions)", nparts);
	if (disk_partition(disk, parts, nparts, &e) < 0)
		goto fail;
	STEP(++n, total, "GRUB for BIOS (boot.img in the MBR, core.img in ROS_BIOS)");
	if (install_bios(&t, src, &e) < 0)
		goto fail;
	STEP(++n, total, "EFI system partition (ROS_EFI: GRUB for UEFI, grub.cfg)");
	if (install_esp(&t, src, &e) < 0)
		goto fail;
	STEP(++n, total, "slot A: ros %s", version);
	char written[128];
	if (inst_slot_write(&t, 'A', tmpl, src, NULL, written, sizeof(written), &e) < 0)
		goto fail;
	if (with_oem) {
		STEP(++n, total, "OEM partition (ROS_OEM) from %s", oem);
		if (install_oem(&t, (unsigned)nparts - 1, tmpl, oem, &e) < 0)
			goto fail;
	}
	STEP(++n, total, "state partition (ROS_STATE)%s%s", cloud_config ? " with " : "",
	     cloud_config ? cloud_config : "");
	if (install_state(&t, (unsigned)nparts, tmpl, cloud_config, &e) < 0)
		goto fail;
	if (wipe_start(&t, inst_slot_partno('B'), &e) < 0)
		goto fail;
	STEP(++n, total, "boot environment: slot A (%s) good%s%s", written, append[0] ? ", kernel arguments " : "",
	     append);
	struct boot_state bs;
	struct init_arg ia = {written, append};
	if (inst_env_update(&t, &bs, true, env_init, &ia, &e) < 0)
		goto fail;
	sync();
	printf("installed ros %s to %s in %.1f s\n", written, disk, now_s() - t0);
	if (no_reboot || t.file)
		return 0;
	printf("rebooting\n");
	fflush(stdout);
	char *av[] = {"os", "reboot", NULL};
	return cmd_os(2, av);
fail:
	fprintf(stderr, "ros install: %s\n", err_msg(&e));
	return 1;
}
