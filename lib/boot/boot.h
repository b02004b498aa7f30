/* SPDX-License-Identifier: MIT */
#pragma once
/*
 * lib/boot: the installed disk (docs/install.md).
 *   grubenv.c  the 1024-byte "# GRUB Environment Block" file GRUB's
 *              load_env/save_env read and write
 *   slots.c    A/B slot state kept in that block: order, tries, good,
 *              versions; what GRUB will boot; mark good, upgrade, rollback
 *   bios.c     boot.img + core.img set-up for the BIOS boot partition (what
 *              grub-bios-setup does), so no GRUB tool is needed at install
 *   disk.c     GPT layout with libfdisk, partition devices, raw image
 *              writes (gzip templates), ext4 online grow
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* ---- grubenv.c ---- */

#define GRUBENV_SIZE 1024
#define GRUBENV_HEADER "# GRUB Environment Block\n"
#define GRUBENV_MAX_VARS 64

struct grubenv {
	size_t n;
	char *key[GRUBENV_MAX_VARS];
	char *val[GRUBENV_MAX_VARS];
};

void grubenv_free(struct grubenv *env);
/* Parses a block: exactly GRUBENV_SIZE bytes, the header, "key=value\n"
 * lines (GRUB's escapes: backslash before backslash and newline), then '#'
 * padding.  Errors name what is wrong (where = the file, for messages). */
int grubenv_parse(const char *buf, size_t len, const char *where, struct grubenv *env, struct ros_err *e);
/* Formats env into out (GRUBENV_SIZE bytes); ENOSPC if it does not fit. */
int grubenv_format(const struct grubenv *env, char out[GRUBENV_SIZE], struct ros_err *e);
const char *grubenv_get(const struct grubenv *env, const char *key);
/* value NULL unsets.  Keys are [A-Za-z0-9_]+; values have no '\n'. */
int grubenv_set(struct grubenv *env, const char *key, const char *value, struct ros_err *e);
int grubenv_load(const char *path, struct grubenv *env, struct ros_err *e);
/* Write temp + fsync + rename + fsync dir: a power cut leaves the old or
 * the new block, both valid. */
int grubenv_save(const char *path, const struct grubenv *env, struct ros_err *e);

/* ---- slots.c ---- */

#define BOOT_SLOTS 2
#define BOOT_TRIES_MAX 9 /* grub.cfg counts down from at most this */
#define BOOT_TRIES_DEFAULT 3
#define BOOT_TRIAL_TIMEOUT_DEFAULT 300 /* seconds; sysctr's default too */

struct boot_slot {
	char name;         /* 'A' or 'B' */
	bool good;         /* booted to "all services up" once */
	unsigned tries;    /* trial boots left (GRUB decrements) */
	bool failed;       /* ran out of tries without being marked good */
	char version[128]; /* "" = nothing bootable written there */
};

struct boot_state {
	char order[BOOT_SLOTS]; /* preferred first */
	struct boot_slot slot[BOOT_SLOTS];
	char note[256];           /* the last thing that happened (ros_note) */
	char append[512];         /* extra kernel arguments (ros_append) */
	unsigned trial_timeout_s; /* ros_trial_timeout: a trial boot not good by then reboots */
};

int boot_state_from_env(const struct grubenv *env, struct boot_state *st, struct ros_err *e);
int boot_state_to_env(const struct boot_state *st, struct grubenv *env, struct ros_err *e);
struct boot_slot *boot_slot_get(struct boot_state *st, char name);
char boot_slot_other(char name);
/* What grub.cfg picks: the first slot in order that is good or has tries
 * left; *consumes_try says whether that boot uses one.  0 if none. */
char boot_pick(const struct boot_state *st, bool *consumes_try);
/* GRUB's side, for tests and `ros os list`: pick and decrement. */
char boot_grub_simulate(struct boot_state *st);
/* A fresh install: slot a holds version, good. */
void boot_state_init(struct boot_state *st, char a, const char *version, const char *append);
/* Called once the booted slot reached "all services up".  Records a
 * fall-back (the preferred slot ran out of tries) in failed and note.
 * Returns 1 when st changed, 0 when there was nothing to do. */
int boot_mark_good(struct boot_state *st, char booted, const char *when);
/* Before writing slot: make it unbootable (GRUB skips it). */
int boot_upgrade_begin(struct boot_state *st, char slot, char booted, struct ros_err *e);
/* After writing and verifying slot: try it next, tries times. */
int boot_upgrade_commit(struct boot_state *st, char slot, const char *version, unsigned tries, struct ros_err *e);
/* Prefer the other slot again (it must be good). */
int boot_rollback(struct boot_state *st, char booted, struct ros_err *e);

/* ---- bios.c ---- */

#define BIOS_SECTOR 512
/* Patches boot.img (512 bytes, in place) to load core.img from core_lba,
 * keeping the disk's MBR partition table and BPB from mbr (512 bytes). */
int bios_boot_img_patch(unsigned char boot[BIOS_SECTOR], const unsigned char mbr[BIOS_SECTOR], uint64_t core_lba,
                        struct ros_err *e);
/* Patches core.img's first blocklist (in diskboot.img) for core_lba. */
int bios_core_img_patch(unsigned char *core, size_t len, uint64_t core_lba, struct ros_err *e);

/* ---- disk.c ---- */

#define MIB (1024ULL * 1024ULL)

enum part_kind { PART_BIOS, PART_ESP, PART_SLOT_A, PART_SLOT_B, PART_OEM, PART_STATE, PART_KINDS };

struct part_spec {
	enum part_kind kind;
	const char *name;  /* GPT partition name = filesystem label */
	const char *type;  /* GPT type GUID */
	uint64_t size_mib; /* 0: the rest of the disk (last) */
};

/* The layout, in order; with_oem adds ROS_OEM before ROS_STATE. */
size_t boot_layout(bool with_oem, struct part_spec out[PART_KINDS]);
/* Smallest disk the layout fits on. */
uint64_t boot_layout_min_bytes(bool with_oem);

/* Writes a new GPT with the layout on dev (a block device or an image
 * file) and re-reads it.  Partition numbers start at 1 in layout order. */
int disk_partition(const char *dev, const struct part_spec *parts, size_t n, struct ros_err *e);
/* /dev/vda + 3 -> /dev/vda3; /dev/loop0 -> /dev/loop0p3. */
void disk_part_path(const char *disk, unsigned partno, char *out, size_t size);
/* Waits up to ms for a device node. */
int disk_wait_node(const char *path, int ms, struct ros_err *e);
/* The whole disk and partition number of the partition device dev_t. */
int disk_of_partition(unsigned long long devnum, char *disk, size_t size, unsigned *partno, struct ros_err *e);
/* Writes the gzip file gz to dev from offset, at most max bytes; zero
 * runs become zero-out requests (BLKZEROOUT on block devices, hole
 * punching on files); fsyncs.  *written (may be NULL): bytes written. */
int disk_write_gz(const char *gz, const char *dev, uint64_t offset, uint64_t max, uint64_t *written, struct ros_err *e);
/* Grows the partition partno of disk (the last one) to the end of the
 * disk, moving the backup GPT there; works while it is mounted (BLKPG).
 * Returns 1 if it grew, 0 if it already filled the disk. */
int disk_grow_last(const char *disk, unsigned partno, struct ros_err *e);
/* Online ext4 grow of the filesystem mounted at dir to bytes. Returns 1 if
 * it grew, 0 if it was already that size. */
int ext4_grow(const char *dir, uint64_t bytes, struct ros_err *e);
/* Sets the label of the filesystem mounted at dir (FS_IOC_SETFSLABEL). */
int fs_set_label(const char *dir, const char *label, struct ros_err *e);
/* Start and size in bytes of partition partno (from the GPT; files too). */
int disk_part_range(const char *disk, unsigned partno, uint64_t *start, uint64_t *size, struct ros_err *e);
/* A read-write loop device over [offset, offset+size) of file (autoclear:
 * keep the returned fd open until done). */
int disk_loop_range(const char *file, uint64_t offset, uint64_t size, char *dev, size_t dev_size, struct ros_err *e);
