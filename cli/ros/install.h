/* SPDX-License-Identifier: MIT */
#pragma once
/* Shared by `ros install` (cmd-install.c) and `ros os` slot commands
 * (cmd-slots.c): the target disk, its partitions, writing a slot, the
 * GRUB environment on the ESP.  docs/install.md. */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/boot.h"

#define INST_MEDIA "/run/ros/media"
#define INST_PARTNO_BIOS 1
#define INST_PARTNO_ESP 2
#define INST_GRUBENV "grub/grubenv"

struct inst_target {
	char disk[PATH_MAX];
	bool file; /* an image file: partitions through offset loop devices */
};

struct inst_part {
	char dev[PATH_MAX];
	uint64_t start, size;
	int loop_fd;
};

static inline unsigned inst_slot_partno(char slot)
{
	return slot == 'A' ? 3 : 4;
}

int inst_part_open(const struct inst_target *t, unsigned partno, struct inst_part *p, struct ros_err *e);
void inst_part_close(struct inst_part *p);
/* mkdtemp under /tmp + mount; inst_umount unmounts and removes it. */
int inst_mount(const char *dev, const char *type, unsigned long flags, char dir[64], struct ros_err *e);
int inst_umount(char dir[64], struct ros_err *e);
/* Runs argv in cwd (NULL: here); its stdout into out (may be NULL).
 * Fails naming the program and its status. */
int inst_run(const char *cwd, const char *const argv[], char *out, size_t out_size, struct ros_err *e);
/* Writes slot (A or B) from srcdir (the medium layout) or tarball, using
 * the ext4 template tmpl, then re-mounts it and verifies SHA256SUMS.  The
 * version written goes to version. */
int inst_slot_write(const struct inst_target *t, char slot, const char *tmpl, const char *srcdir, const char *tarball,
                    char *version, size_t vsize, struct ros_err *e);
/* Mounts the ESP of t, loads the boot state (fresh = don't load, start
 * from st as given), lets the caller change it, saves it atomically. */
int inst_env_update(const struct inst_target *t, struct boot_state *st, bool fresh,
                    int (*change)(struct boot_state *st, void *arg, struct ros_err *e), void *arg, struct ros_err *e);
/* cmd-slots.c: ros os list|upgrade|rollback|mark-good (argv[0] is the
 * subcommand); -1 when argv[0] is none of them. */
int os_slots(int argc, char **argv);
