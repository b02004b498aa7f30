/* SPDX-License-Identifier: MIT */
/*
 * The root filesystem: overlay(lower = the root squashfs through a loop
 * device or a directory, upper = tmpfs), switched into by MS_MOVE + chroot
 * (an initramfs cannot be pivot_root'ed away), after emptying the initramfs.
 * And the state disk, bind-mounted over the directories that persist.
 */
#define _GNU_SOURCE
#include <blkid/blkid.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/loop.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/loop.h"
#include "init.h"

#define MEDIA_DIR "/run/ros/media"
#define ROOT_RO "/run/ros/root-ro"
#define ROOT_RW "/run/ros/root-rw"
#define STATE_DIR "/run/ros/state"
#define OEM_LABEL "ROS_OEM"
#define OEM_DIR "/usr/share/ros/oem"
#define MEDIA_WAIT_MS 10000
#define DEVICE_WAIT_MS 5000

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* The block devices seen during the boot, each probed once (libblkid,
 * only for the filesystems ros mounts: a full probe tries some sixty
 * types, each reading its own offsets, which on an emulated CD took a
 * seventh of a second per scan); later lookups (the medium while it is
 * awaited, the OEM partition, the state disk) probe only devices that
 * appeared since. */
#define DEVICES_MAX 128
static struct blockdev {
	char node[64], type[32], label[128], uuid[64];
	int fd;
} devices[DEVICES_MAX];
static size_t n_devices;

static const char *const wanted_types[] = {"iso9660", "ext4",  "ext3",     "ext2", "vfat",
                                           "xfs",     "btrfs", "squashfs", "f2fs", NULL};

/* A CD's ISO 9660 label and UUID as libblkid names them (the volume
 * identifier; the modification time, else the creation time, as
 * YYYY-MM-DD-HH-MM-SS-CC), read from its
 * primary volume descriptor: libblkid first asks a CD drive for its last
 * written block, its sessions and the readability of its last sectors, a
 * round of commands that took 50 ms under emulation. */
static bool cd_probe(struct blockdev *d)
{
	unsigned char pvd[2048];
	if (pread(d->fd, pvd, sizeof(pvd), 16 * 2048) != (ssize_t)sizeof(pvd) || memcmp(pvd, "\1CD001\1", 7) != 0)
		return false;
	int n = 32;
	while (n > 0 && (pvd[40 + n - 1] == ' ' || pvd[40 + n - 1] == '\0'))
		n--;
	snprintf(d->type, sizeof(d->type), "iso9660");
	snprintf(d->label, sizeof(d->label), "%.*s", n, (const char *)pvd + 40);
	const unsigned char *t = pvd + 830; /* modified, else created */
	if (!memcmp(t, "0000000000000000", 16) || !t[0])
		t = pvd + 813;
	snprintf(d->uuid, sizeof(d->uuid), "%.4s-%.2s-%.2s-%.2s-%.2s-%.2s-%.2s", t, t + 4, t + 6, t + 8, t + 10, t + 12,
	         t + 14);
	return true;
}

static void device_probe_into(struct blockdev *d, bool cd)
{
	/* Kept open until the end of the boot's lookups: each open and close
	 * of a CD drive is a round of commands to it (lock, test, unlock), a
	 * twentieth of a second each under emulation. */
	d->fd = open(d->node, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (d->fd >= 0 && cd && cd_probe(d))
		return;
	blkid_probe pr = d->fd >= 0 ? blkid_new_probe() : NULL;
	if (!pr || blkid_probe_set_device(pr, d->fd, 0, 0) < 0) {
		if (pr)
			blkid_free_probe(pr);
		return;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID);
	blkid_probe_filter_superblocks_type(pr, BLKID_FLTR_ONLYIN, (char **)(uintptr_t)wanted_types);
	blkid_probe_enable_partitions(pr, 0);
	const char *v;
	if (blkid_do_safeprobe(pr) == 0) {
		if (blkid_probe_lookup_value(pr, "TYPE", &v, NULL) == 0)
			snprintf(d->type, sizeof(d->type), "%s", v);
		if (blkid_probe_lookup_value(pr, "LABEL", &v, NULL) == 0)
			snprintf(d->label, sizeof(d->label), "%s", v);
		if (blkid_probe_lookup_value(pr, "UUID", &v, NULL) == 0)
			snprintf(d->uuid, sizeof(d->uuid), "%s", v);
	}
	blkid_free_probe(pr);
}

/* Adds and probes the block devices not seen yet; an empty one (a CD
 * drive without a disc, an unused loop device) is looked at again later. */
static void devices_scan(void)
{
	DIR *dir = opendir("/sys/class/block");
	if (!dir)
		return;
	struct dirent *de;
	while ((de = readdir(dir)) && n_devices < DEVICES_MAX) {
		if (de->d_name[0] == '.' || !strncmp(de->d_name, "ram", 3))
			continue;
		struct blockdev *d = &devices[n_devices];
		memset(d, 0, sizeof(*d));
		snprintf(d->node, sizeof(d->node), "/dev/%s", de->d_name);
		bool seen = false;
		for (size_t i = 0; i < n_devices && !seen; i++)
			seen = !strcmp(devices[i].node, d->node);
		char sizef[PATH_MAX];
		cleanup_free char *size = NULL;
		snprintf(sizef, sizeof(sizef), "/sys/class/block/%s/size", de->d_name);
		if (seen || fs_read_all(sizef, 64, &size, NULL, NULL) < 0 || strtoull(size, NULL, 10) == 0 ||
		    access(d->node, F_OK) < 0)
			continue;
		device_probe_into(d, !strncmp(de->d_name, "sr", 2));
		n_devices++;
	}
	closedir(dir);
}

static struct blockdev *device_lookup(const char *spec)
{
	const char *label = !strncmp(spec, "LABEL=", 6) ? spec + 6 : NULL;
	const char *uuid = !strncmp(spec, "UUID=", 5) ? spec + 5 : NULL;
	for (size_t i = 0; i < n_devices; i++) {
		struct blockdev *d = &devices[i];
		if (label ? !strcmp(d->label, label) : uuid ? !strcasecmp(d->uuid, uuid) : !strcmp(d->node, spec))
			return d;
	}
	return NULL;
}

/* Resolves LABEL=, UUID= or a device path to a device node; NULL if
 * absent. */
static char *device_find(const char *spec)
{
	if (strncmp(spec, "LABEL=", 6) && strncmp(spec, "UUID=", 5))
		return access(spec, F_OK) == 0 ? strdup(spec) : NULL;
	struct blockdev *d = device_lookup(spec);
	if (!d) {
		devices_scan();
		d = device_lookup(spec);
	}
	return d ? strdup(d->node) : NULL;
}

void devices_forget(void)
{
	for (size_t i = 0; i < n_devices; i++)
		if (devices[i].fd >= 0)
			close(devices[i].fd);
	n_devices = 0;
}

/* Filesystem type of dev, or "" when nothing is recognised. */
static int device_probe(const char *dev, char *type, size_t size, bool *has_partitions, struct ros_err *e)
{
	blkid_probe pr = blkid_new_probe_from_filename(dev);
	if (!pr)
		return err_set(e, errno ? errno : EIO, "probe %s", dev);
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
	blkid_probe_enable_partitions(pr, has_partitions != NULL);
	int r = blkid_do_safeprobe(pr);
	const char *val = NULL;
	type[0] = '\0';
	if (r == 0 && blkid_probe_lookup_value(pr, "TYPE", &val, NULL) == 0)
		snprintf(type, size, "%s", val);
	if (has_partitions)
		*has_partitions = r == 0 && blkid_probe_lookup_value(pr, "PTTYPE", &val, NULL) == 0;
	blkid_free_probe(pr);
	if (r == -2)
		return err_setx(e, EINVAL, "probe %s: more than one filesystem signature", dev);
	if (r < 0)
		return err_setx(e, EIO, "probe %s: cannot read it", dev);
	return 0;
}

static int mount_device(const char *dev, const char *dir, unsigned long flags, struct ros_err *e)
{
	char type[32] = "";
	int r = 0;
	const struct blockdev *known = device_lookup(dev);
	if (known && known->type[0])
		snprintf(type, sizeof(type), "%s", known->type);
	else
		r = device_probe(dev, type, sizeof(type), NULL, e);
	if (r < 0)
		return r;
	if (!type[0])
		return err_setx(e, EINVAL, "mount %s: no filesystem on it", dev);
	r = fs_mkdir_p(dir, 0755, e);
	if (r < 0)
		return r;
	if (mount(dev, dir, type, flags, NULL) < 0)
		return err_set(e, errno, "mount %s (%s) on %s", dev, type, dir);
	return 0;
}

/* The boot medium: ros.media= (default the filesystem labelled ROS; an
 * installed disk's GRUB passes its slot, LABEL=ROS_A), read-only at
 * MEDIA_DIR. */
static int media_mount(const char *spec, struct ros_err *e)
{
	cleanup_free char *dev = NULL;
	for (int waited = 0; !(dev = device_find(spec)); waited += 100) {
		if (waited >= MEDIA_WAIT_MS)
			return err_setx(e, ENOENT, "no filesystem %s appeared in %d s (and no ros.root=)", spec,
			                MEDIA_WAIT_MS / 1000);
		sleep_ms(100);
	}
	log_info("boot medium %s", dev);
	int r = mount_device(dev, MEDIA_DIR, MS_RDONLY, e);
	timeline_add("medium", monotonic_ms());
	return r;
}

static bool in_initramfs(void)
{
	struct statfs sf;
	if (statfs("/", &sf) < 0)
		return false;
	log_debug("/ is filesystem type %#lx", (unsigned long)sf.f_type);
	/* ROS_CMDLINE is the test harness: never empty the host's root. */
	return getpid() == 1 && !getenv("ROS_CMDLINE") && (sf.f_type == RAMFS_MAGIC || sf.f_type == TMPFS_MAGIC) &&
	       access("/init", F_OK) == 0;
}

/* Frees the initramfs' RAM: deletes everything on its device; mounts
 * (NEWROOT, the moved API filesystems) are on other devices. */
static void initramfs_empty(void)
{
	struct stat root;
	if (lstat("/", &root) < 0)
		return;
	DIR *d = opendir("/");
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char path[PATH_MAX];
		struct stat st;
		snprintf(path, sizeof(path), "/%s", de->d_name);
		if (lstat(path, &st) == 0 && st.st_dev == root.st_dev)
			fs_remove_tree(path, NULL);
	}
	closedir(d);
	log_debug("emptied the initramfs");
}

static int switch_root(struct ros_err *e)
{
	static const char *const moved[] = {"/dev", "/proc", "/sys", "/run"};
	bool empty = in_initramfs();
	for (size_t i = 0; i < ARRAY_SIZE(moved); i++) {
		char to[PATH_MAX];
		snprintf(to, sizeof(to), NEWROOT "%s", moved[i]);
		if (mkdir(to, 0755) < 0 && errno != EEXIST)
			return err_set(e, errno, "mkdir %s", to);
		if (mount(moved[i], to, NULL, MS_MOVE, NULL) < 0)
			return err_set(e, errno, "move %s to %s", moved[i], to);
	}
	if (chdir(NEWROOT) < 0)
		return err_set(e, errno, "chdir " NEWROOT);
	if (empty)
		initramfs_empty();
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		return err_set(e, errno, "move " NEWROOT " to /");
	if (chroot(".") < 0 || chdir("/") < 0)
		return err_set(e, errno, "chroot " NEWROOT);
	if (mkdir("/tmp", 01777) < 0 && errno != EEXIST)
		return err_set(e, errno, "mkdir /tmp");
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0)
		return err_set(e, errno, "mount tmpfs on /tmp");
	/* Shared, as containers expect (rslave volumes, mount propagation). */
	if (mount(NULL, "/", NULL, MS_REC | MS_SHARED, NULL) < 0)
		log_warn("make / shared: %s", strerror(errno));
	return 0;
}

int root_setup(const struct init_cmdline *c, struct ros_err *e)
{
	char src[PATH_MAX];
	int r = fs_mkdir_p("/run/ros", 0755, e);
	if (r < 0)
		return r;
	if (c->root[0]) {
		snprintf(src, sizeof(src), "%s", c->root);
	} else if (access("/ros/root.squashfs", F_OK) == 0) {
		snprintf(src, sizeof(src), "/ros/root.squashfs");
	} else {
		r = media_mount(c->media, e);
		if (r < 0)
			return r;
		snprintf(src, sizeof(src), MEDIA_DIR "/ros/root.squashfs");
	}
	struct stat st;
	if (stat(src, &st) < 0)
		return err_set(e, errno, "root %s", src);
	const char *lower = src;
	if (!S_ISDIR(st.st_mode)) {
		char dev[64];
		r = fs_mkdir_p(ROOT_RO, 0755, e);
		if (r < 0)
			return r;
		cleanup_close int loop_fd = loop_attach(src, dev, sizeof(dev), e);
		if (loop_fd < 0)
			return loop_fd;
		if (mount(dev, ROOT_RO, "squashfs", MS_RDONLY | MS_NODEV, NULL) < 0)
			return err_set(e, errno, "mount %s (%s) as squashfs on " ROOT_RO, src, dev);
		lower = ROOT_RO;
	}
	r = fs_mkdir_p(ROOT_RW, 0755, e);
	if (r < 0)
		return r;
	if (mount("tmpfs", ROOT_RW, "tmpfs", 0, "mode=0755") < 0)
		return err_set(e, errno, "mount tmpfs on " ROOT_RW);
	if (mkdir(ROOT_RW "/upper", 0755) < 0 || mkdir(ROOT_RW "/work", 0755) < 0)
		return err_set(e, errno, "mkdir in " ROOT_RW);
	if (mkdir(NEWROOT, 0755) < 0 && errno != EEXIST)
		return err_set(e, errno, "mkdir " NEWROOT);
	char opts[PATH_MAX + 128];
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=" ROOT_RW "/upper,workdir=" ROOT_RW "/work", lower);
	if (mount("overlay", NEWROOT, "overlay", 0, opts) < 0)
		return err_set(e, errno, "mount overlay (%s) on " NEWROOT, opts);
	return switch_root(e);
}

/* A disk is blank when libblkid finds nothing on it and its first MiB is
 * zeros: autoformat must never eat data it merely fails to recognise. */
static int device_check_blank(const char *dev, struct ros_err *e)
{
	char type[32];
	bool parts = false;
	int r = device_probe(dev, type, sizeof(type), &parts, e);
	if (r < 0)
		return r;
	if (type[0] || parts)
		return err_setx(e, EEXIST, "%s is not blank (it holds %s)", dev, type[0] ? type : "a partition table");
	cleanup_close int fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno, "open %s", dev);
	static char buf[64 * 1024];
	for (int i = 0; i < 16; i++) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0)
			return err_set(e, errno, "read %s", dev);
		for (ssize_t j = 0; j < n; j++)
			if (buf[j])
				return err_setx(e, EEXIST, "%s is not blank (non-zero data in its first MiB)", dev);
		if (n < (ssize_t)sizeof(buf))
			break;
	}
	return 0;
}

static int state_format(const char *dev, const char *label, struct ros_err *e)
{
	for (int waited = 0; access(dev, F_OK) < 0; waited += 100) {
		if (waited >= DEVICE_WAIT_MS)
			return err_setx(e, ENOENT, "ros.state.autoformat=%s: no such device after %d s", dev,
			                DEVICE_WAIT_MS / 1000);
		sleep_ms(100);
	}
	int r = device_check_blank(dev, e);
	if (r < 0)
		return err_prefix(e, "ros.state.autoformat");
	log_info("formatting blank %s as ext4 %s", dev, label);
	char label_arg[64], dev_arg[INIT_VALUE_MAX];
	snprintf(label_arg, sizeof(label_arg), "%s", label);
	snprintf(dev_arg, sizeof(dev_arg), "%s", dev);
	char *const argv[] = {"mkfs.ext4", "-F", "-L", label_arg, dev_arg, NULL};
	pid_t pid = spawn("mkfs.ext4", argv, 0);
	if (pid < 0)
		return err_set(e, -pid, "run mkfs.ext4");
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return err_set(e, errno, "wait for mkfs.ext4");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return err_setx(e, EIO, "mkfs.ext4 -L %s %s failed (status %d)", label, dev, status);
	return 0;
}

/* An appliance vendor's OEM partition (ros install --oem, make disk OEM=),
 * read-only at /usr/share/ros/oem where the config's OEM layer is read. */
static void oem_mount(void)
{
	cleanup_free char *dev = device_find("LABEL=" OEM_LABEL);
	struct ros_err e = {0};
	if (!dev)
		return;
	if (mount_device(dev, OEM_DIR, MS_RDONLY | MS_NODEV | MS_NOSUID | MS_NOATIME, &e) < 0)
		log_warn("OEM partition: %s", err_msg(&e));
	else
		log_info("OEM partition %s mounted on " OEM_DIR, dev);
}

/* Without a state disk the state stays in RAM: the root overlay holds it,
 * except userctr's, whose container overlays need an upper layer that is
 * not itself overlayfs: a tmpfs of its own. */
static void ram_state(void)
{
	if (fs_mkdir_p("/var/lib/userctr", 0700, NULL) < 0 ||
	    mount("tmpfs", "/var/lib/userctr", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0)
		log_warn("tmpfs on /var/lib/userctr: %m");
}

int state_setup(const struct init_cmdline *c, struct ros_err *e)
{
	static const char *const persistent[] = {"/var/lib/ros", "/var/lib/userctr", "/home", "/opt", "/var/log"};
	oem_mount();
	if (!strcmp(c->state, "none")) {
		ram_state();
		return 0;
	}
	cleanup_free char *dev = device_find(c->state);
	char type[32] = "";
	/* ros.state may name the autoformat device itself: format it if empty. */
	if (dev && !strcmp(dev, c->autoformat) && device_probe(dev, type, sizeof(type), NULL, NULL) == 0 && !type[0]) {
		free(dev);
		dev = NULL;
	}
	if (!dev && c->autoformat[0]) {
		const char *label = strncmp(c->state, "LABEL=", 6) ? "ROS_STATE" : c->state + 6;
		int r = state_format(c->autoformat, label, e);
		if (r < 0)
			return r;
		dev = strdup(c->autoformat);
		if (!dev)
			return err_set(e, ENOMEM, "state");
	}
	if (!dev) {
		log_info("no state disk %s: state stays in RAM", c->state);
		ram_state();
		return 0;
	}
	int r = mount_device(dev, STATE_DIR, MS_NOATIME, e);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(persistent); i++) {
		char from[PATH_MAX];
		snprintf(from, sizeof(from), STATE_DIR "%s", persistent[i]);
		if ((r = fs_mkdir_p(from, 0755, e)) < 0 || (r = fs_mkdir_p(persistent[i], 0755, e)) < 0)
			return r;
		if (mount(from, persistent[i], NULL, MS_BIND, NULL) < 0)
			return err_set(e, errno, "bind %s on %s", from, persistent[i]);
	}
	log_info("state disk %s mounted on " STATE_DIR, dev);
	return 0;
}
