/* SPDX-License-Identifier: MIT */
/*
 * ros os list | upgrade | rollback | mark-good: the A/B slots of the disk
 * this system booted from (the disk of the slot mounted on /run/ros/media,
 * named by ros.slot= on the kernel command line).  docs/install.md.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "core/cleanup.h"
#include "core/fs.h"
#include "core/loop.h"
#include "install.h"

#define STATE_DIR "/run/ros/state"
#define UPGRADE_DIR "/var/lib/ros/upgrade"

/* The running slot and its disk; fails with a message on a live boot. */
static int booted_from(struct inst_target *t, char *slot, struct ros_err *e)
{
	cleanup_free char *cmdline = NULL;
	int r = fs_read_all("/proc/cmdline", 1 << 16, &cmdline, NULL, e);
	if (r < 0)
		return r;
	const char *k = strstr(cmdline, "ros.slot=");
	if (!k || (k != cmdline && k[-1] != ' ') || (k[9] != 'A' && k[9] != 'B'))
		return err_setx(e, ENOENT,
		                "not booted from an installed disk (no ros.slot=A|B on the kernel command "
		                "line); see ros install");
	*slot = k[9];
	struct stat st;
	if (stat(INST_MEDIA, &st) < 0)
		return err_set(e, errno, "%s (the booted slot)", INST_MEDIA);
	unsigned partno = 0;
	memset(t, 0, sizeof(*t));
	if ((r = disk_of_partition((unsigned long long)st.st_dev, t->disk, sizeof(t->disk), &partno, e)) < 0)
		return err_prefix(e, "the disk of " INST_MEDIA);
	if (partno != inst_slot_partno(*slot))
		return err_setx(e, EINVAL, "%s is partition %u of %s, but slot %c is partition %u", INST_MEDIA, partno,
		                t->disk, *slot, inst_slot_partno(*slot));
	return 0;
}

static void now_text(char *buf, size_t size)
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

static int ch_mark_good(struct boot_state *st, void *arg, struct ros_err *e)
{
	char when[64];
	now_text(when, sizeof(when));
	return boot_mark_good(st, *(char *)arg, when);
}

/* First boot of a copied image: the state partition (last on the disk)
 * and its ext4 grow to the end of the disk, while mounted. */
static int grow_state(struct ros_err *e)
{
	struct stat st;
	if (stat(STATE_DIR, &st) < 0)
		return 0; /* no state disk: nothing to grow */
	struct stat parent;
	if (stat("/run/ros", &parent) == 0 && parent.st_dev == st.st_dev)
		return 0; /* not a mount */
	char disk[PATH_MAX];
	unsigned partno;
	int r = disk_of_partition((unsigned long long)st.st_dev, disk, sizeof(disk), &partno, e);
	if (r < 0)
		return 0; /* a whole-disk state (autoformat): not ours to grow */
	r = disk_grow_last(disk, partno, e);
	if (r < 0)
		return r;
	uint64_t start, size;
	if ((r = disk_part_range(disk, partno, &start, &size, e)) < 0)
		return r;
	int g = ext4_grow(STATE_DIR, size, e);
	if (g < 0)
		return g;
	if (g > 0 || r > 0)
		printf("state partition %s%u grown to %llu MiB\n", disk, partno, (unsigned long long)(size / MIB));
	return 0;
}

static int os_mark_good(void)
{
	struct ros_err e = {0};
	struct inst_target t;
	char slot;
	if (booted_from(&t, &slot, &e) < 0) {
		printf("ros os mark-good: %s: nothing to mark\n", err_msg(&e));
		return 0;
	}
	struct boot_state st;
	if (inst_env_update(&t, &st, false, ch_mark_good, &slot, &e) < 0) {
		fprintf(stderr, "ros os mark-good: %s\n", err_msg(&e));
		return 1;
	}
	printf("slot %c (%s) is good\n", slot, boot_slot_get(&st, slot)->version);
	if (st.note[0])
		printf("%s\n", st.note);
	if (grow_state(&e) < 0) {
		fprintf(stderr, "ros os mark-good: grow the state partition: %s\n", err_msg(&e));
		return 1;
	}
	return 0;
}

static const char *slot_status(const struct boot_slot *s, char *buf, size_t size)
{
	if (!s->version[0])
		snprintf(buf, size, "empty");
	else if (s->good)
		snprintf(buf, size, "good");
	else if (s->failed)
		snprintf(buf, size, "failed (ran out of tries)");
	else if (s->tries)
		snprintf(buf, size, "on trial (%u tries left)", s->tries);
	else
		snprintf(buf, size, "not good, no tries left");
	return buf;
}

static int os_list(void)
{
	struct ros_err e = {0};
	struct inst_target t;
	char booted;
	struct boot_state st;
	if (booted_from(&t, &booted, &e) < 0 || inst_env_update(&t, &st, false, NULL, NULL, &e) < 0) {
		fprintf(stderr, "ros os list: %s\n", err_msg(&e));
		return 1;
	}
	bool try;
	char next = boot_pick(&st, &try);
	printf("%-5s %-30s %s\n", "SLOT", "VERSION", "STATE");
	for (int i = 0; i < BOOT_SLOTS; i++) {
		const struct boot_slot *s = &st.slot[i];
		char buf[64];
		printf("%-5c %-30s %s%s%s\n", s->name, s->version[0] ? s->version : "-",
		       slot_status(s, buf, sizeof(buf)), s->name == booted ? ", running" : "",
		       s->name == next ? ", next boot" : "");
	}
	printf("disk: %s\n", t.disk);
	if (st.append[0])
		printf("kernel arguments: %s\n", st.append);
	if (st.note[0])
		printf("last event: %s\n", st.note);
	return 0;
}

static int ch_rollback(struct boot_state *st, void *arg, struct ros_err *e)
{
	char booted = *(char *)arg;
	int r = boot_rollback(st, booted, e);
	if (r < 0)
		return r;
	char when[64];
	now_text(when, sizeof(when));
	snprintf(st->note, sizeof(st->note), "%s: rollback from slot %c to slot %c (%s)", when, booted,
	         boot_slot_other(booted), boot_slot_get(st, boot_slot_other(booted))->version);
	return 1;
}

static int reboot_now(void)
{
	printf("rebooting\n");
	fflush(stdout);
	char *av[] = {"os", "reboot", NULL};
	return cmd_os(2, av);
}

static int os_rollback(int argc, char **argv)
{
	bool no_reboot = argc > 1 && !strcmp(argv[1], "--no-reboot");
	struct ros_err e = {0};
	struct inst_target t;
	char booted;
	struct boot_state st;
	if (booted_from(&t, &booted, &e) < 0 || inst_env_update(&t, &st, false, ch_rollback, &booted, &e) < 0) {
		fprintf(stderr, "ros os rollback: %s\n", err_msg(&e));
		return 1;
	}
	printf("next boot: slot %c (%s)\n", st.order[0], boot_slot_get(&st, st.order[0])->version);
	return no_reboot ? 0 : reboot_now();
}

struct up_arg {
	char slot, booted;
	const char *version;
	unsigned tries, trial_timeout_s;
};

static int ch_begin(struct boot_state *st, void *arg, struct ros_err *e)
{
	const struct up_arg *a = arg;
	int r = boot_upgrade_begin(st, a->slot, a->booted, e);
	return r < 0 ? r : 1;
}

static int ch_commit(struct boot_state *st, void *arg, struct ros_err *e)
{
	const struct up_arg *a = arg;
	int r = boot_upgrade_commit(st, a->slot, a->version, a->tries, e);
	if (r < 0)
		return r;
	st->trial_timeout_s = a->trial_timeout_s;
	char when[64];
	now_text(when, sizeof(when));
	snprintf(st->note, sizeof(st->note), "%s: upgrade to %s written to slot %c; %u tries", when, a->version,
	         a->slot, a->tries);
	return 1;
}

static bool is_url(const char *s)
{
	return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8);
}

/* sha256 the tarball must have: --sha256, else FILE.sha256 (first word). */
static int expected_sha256(const char *file, const char *given, char out[65], struct ros_err *e)
{
	if (given) {
		snprintf(out, 65, "%s", given);
	} else {
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s.sha256", file);
		cleanup_free char *s = NULL;
		if (fs_read_all(p, 4096, &s, NULL, e) < 0)
			return err_prefix(e, "a tarball needs its sha256 (--sha256 HEX, or FILE.sha256 / URL.sha256)");
		snprintf(out, 65, "%.*s", (int)strcspn(s, " \t\n"), s);
	}
	if (strlen(out) != 64 || strspn(out, "0123456789abcdef") != 64)
		return err_setx(e, EINVAL, "sha256 '%s': expected 64 lowercase hex digits", out);
	return 0;
}

static int verify_sha256(const char *file, const char *want, struct ros_err *e)
{
	char out[4096];
	const char *argv[] = {"sha256sum", file, NULL};
	int r = inst_run(NULL, argv, out, sizeof(out), e);
	if (r < 0)
		return r;
	if (strncmp(out, want, 64))
		return err_setx(e, EBADMSG, "%s: sha256 %.64s, expected %s: refusing it", file, out, want);
	return 0;
}

static int download(const char *url, const char *to, struct ros_err *e)
{
	printf("downloading %s\n", url);
	fflush(stdout);
	unlink(to);
	const char *argv[] = {"wget", "-q", "-O", to, url, NULL};
	int r = inst_run(NULL, argv, NULL, 0, e);
	if (r < 0)
		unlink(to);
	return r;
}

enum image_kind { IMG_UNKNOWN, IMG_ISO, IMG_TAR };

static int image_kind(const char *file, struct ros_err *e)
{
	cleanup_close int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno, "open %s", file);
	char buf[8];
	if (pread(fd, buf, 5, 0x8001) == 5 && !memcmp(buf, "CD001", 5))
		return IMG_ISO;
	if (pread(fd, buf, 5, 257) == 5 && !memcmp(buf, "ustar", 5))
		return IMG_TAR;
	return err_setx(e, EINVAL, "%s is neither an ISO (ros.iso) nor a tar archive (make upgrade-tar)", file);
}

static void upgrade_usage(FILE *out)
{
	fprintf(out,
	        "usage: ros os upgrade -i FILE|URL [--no-reboot] [--tries N] [--trial-timeout SEC]\n"
	        "                      [--sha256 HEX]\n\n"
	        "Writes the image (a ros ISO, or a tarball of boot/vmlinuz, boot/initrd.img,\n"
	        "ros/root.squashfs, ros/VERSION and SHA256SUMS, whose own sha256 comes from\n"
	        "--sha256 or FILE.sha256) to the slot not running, verifies it, and makes it\n"
	        "the next boot with N tries (default %d) to come up; a trial boot whose\n"
	        "services are not all up after SEC seconds (default %d) reboots. Then reboots.\n",
	        BOOT_TRIES_DEFAULT, BOOT_TRIAL_TIMEOUT_DEFAULT);
}

static int os_upgrade(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"image", required_argument, NULL, 'i'},
	        {"no-reboot", no_argument, NULL, 'n'},
	        {"tries", required_argument, NULL, 't'},
	        {"sha256", required_argument, NULL, 's'},
	        {"trial-timeout", required_argument, NULL, 'T'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	const char *image = NULL, *sha = NULL;
	bool no_reboot = false;
	unsigned tries = BOOT_TRIES_DEFAULT, trial_timeout = BOOT_TRIAL_TIMEOUT_DEFAULT;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "i:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			image = optarg;
			break;
		case 'n':
			no_reboot = true;
			break;
		case 't':
			tries = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's':
			sha = optarg;
			break;
		case 'T':
			trial_timeout = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'h':
			upgrade_usage(stdout);
			return 0;
		default:
			upgrade_usage(stderr);
			return 2;
		}
	}
	if (!image || optind != argc) {
		upgrade_usage(stderr);
		return 2;
	}
	if (trial_timeout < 1 || trial_timeout > 86400) {
		fprintf(stderr, "ros os upgrade: --trial-timeout %u: expected 1 to 86400 seconds\n", trial_timeout);
		return 2;
	}
	if (tries < 1 || tries > BOOT_TRIES_MAX) {
		fprintf(stderr, "ros os upgrade: --tries %u: expected 1 to %d\n", tries, BOOT_TRIES_MAX);
		return 2;
	}
	struct ros_err e = {0};
	struct inst_target t;
	char booted, file[PATH_MAX], tmpl[PATH_MAX], mnt[64] = "";
	cleanup_close int loop_fd = -1;
	if (booted_from(&t, &booted, &e) < 0)
		goto fail;
	char slot = boot_slot_other(booted);
	snprintf(tmpl, sizeof(tmpl), INST_MEDIA "/ros/install/ext4.img.gz");
	if (is_url(image)) {
		if (fs_mkdir_p(UPGRADE_DIR, 0700, &e) < 0)
			goto fail;
		snprintf(file, sizeof(file), UPGRADE_DIR "/image");
		if (download(image, file, &e) < 0)
			goto fail;
		if (!sha) {
			char u[PATH_MAX + 8], s[PATH_MAX + 8];
			snprintf(u, sizeof(u), "%s.sha256", image);
			snprintf(s, sizeof(s), "%s.sha256", file);
			struct ros_err ignore = {0};
			unlink(s);
			download(u, s, &ignore); /* an ISO may come without one */
		}
	} else {
		snprintf(file, sizeof(file), "%s", image);
	}
	int kind = image_kind(file, &e);
	if (kind < 0)
		goto fail;
	const char *srcdir = NULL, *tarball = NULL;
	if (kind == IMG_TAR) {
		char want[65];
		if (expected_sha256(file, sha, want, &e) < 0 || verify_sha256(file, want, &e) < 0)
			goto fail;
		printf("%s: sha256 %s verified\n", file, want);
		tarball = file;
	} else {
		char want[65];
		char sp[PATH_MAX + 8];
		snprintf(sp, sizeof(sp), "%s.sha256", file);
		if (sha || access(sp, F_OK) == 0) {
			if (expected_sha256(file, sha, want, &e) < 0 || verify_sha256(file, want, &e) < 0)
				goto fail;
			printf("%s: sha256 %s verified\n", file, want);
		}
		char dev[64];
		loop_fd = loop_attach(file, dev, sizeof(dev), &e);
		if (loop_fd < 0 || inst_mount(dev, "iso9660", MS_RDONLY, mnt, &e) < 0)
			goto fail;
		srcdir = mnt;
	}
	struct boot_state st;
	struct up_arg ua = {slot, booted, NULL, tries, trial_timeout};
	printf("[1/3] slot %c: marked not bootable while it is written\n", slot);
	fflush(stdout);
	if (inst_env_update(&t, &st, false, ch_begin, &ua, &e) < 0)
		goto fail;
	printf("[2/3] slot %c: writing and verifying\n", slot);
	fflush(stdout);
	char version[128];
	if (inst_slot_write(&t, slot, tmpl, srcdir, tarball, version, sizeof(version), &e) < 0)
		goto fail;
	if (mnt[0])
		inst_umount(mnt, NULL);
	ua.version = version;
	printf("[3/3] slot %c: ros %s is the next boot, %u tries to come up\n", slot, version, tries);
	fflush(stdout);
	if (inst_env_update(&t, &st, false, ch_commit, &ua, &e) < 0)
		goto fail;
	if (is_url(image)) { /* the download is in the slot now */
		char s[PATH_MAX + 8];
		snprintf(s, sizeof(s), "%s.sha256", file);
		unlink(file);
		unlink(s);
	}
	return no_reboot ? 0 : reboot_now();
fail:
	if (mnt[0])
		inst_umount(mnt, NULL);
	fprintf(stderr, "ros os upgrade: %s\n", err_msg(&e));
	return 1;
}

/* Called by cmd_os for the slot subcommands; -1 if sub is not one. */
int os_slots(int argc, char **argv)
{
	const char *sub = argv[0];
	if (!strcmp(sub, "list"))
		return os_list();
	if (!strcmp(sub, "upgrade"))
		return os_upgrade(argc, argv);
	if (!strcmp(sub, "rollback"))
		return os_rollback(argc, argv);
	if (!strcmp(sub, "mark-good"))
		return os_mark_good();
	return -1;
}
