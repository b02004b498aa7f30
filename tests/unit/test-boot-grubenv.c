/* SPDX-License-Identifier: MIT */
/* lib/boot: the GRUB environment block, the A/B slot rules, BIOS set-up. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tap.h"
#include "boot/boot.h"
#include "core/cleanup.h"
#include "core/fs.h"

static void block(char out[GRUBENV_SIZE], const char *vars)
{
	memset(out, '#', GRUBENV_SIZE);
	memcpy(out, GRUBENV_HEADER, strlen(GRUBENV_HEADER));
	memcpy(out + strlen(GRUBENV_HEADER), vars, strlen(vars));
}

TEST(grubenv_parses_what_grub_editenv_writes)
{
	/* as `grub-editenv F set a=1 'b=x\y'` writes it */
	char buf[GRUBENV_SIZE];
	block(buf, "a=1\nb=x\\\\y\nempty=\n");
	struct grubenv env = {0};
	struct ros_err e = {0};
	is_int(grubenv_parse(buf, sizeof(buf), "t", &env, &e), 0);
	is_int((int)env.n, 3);
	is_str(grubenv_get(&env, "a"), "1");
	is_str(grubenv_get(&env, "b"), "x\\y");
	is_str(grubenv_get(&env, "empty"), "");
	ok(grubenv_get(&env, "nope") == NULL, "absent key is NULL");
	grubenv_free(&env);
}

TEST(grubenv_format_round_trips_and_pads_to_1024)
{
	struct grubenv env = {0};
	struct ros_err e = {0};
	is_int(grubenv_set(&env, "ros_order", "B A", &e), 0);
	is_int(grubenv_set(&env, "ros_append", "x=\"a b\" c\\d", &e), 0);
	char buf[GRUBENV_SIZE];
	is_int(grubenv_format(&env, buf, &e), 0);
	ok(!memcmp(buf, GRUBENV_HEADER, strlen(GRUBENV_HEADER)), "header");
	is_int(buf[GRUBENV_SIZE - 1], '#');
	struct grubenv back = {0};
	is_int(grubenv_parse(buf, sizeof(buf), "t", &back, &e), 0);
	is_str(grubenv_get(&back, "ros_append"), "x=\"a b\" c\\d");
	is_str(grubenv_get(&back, "ros_order"), "B A");
	/* unset */
	is_int(grubenv_set(&back, "ros_order", NULL, &e), 0);
	ok(grubenv_get(&back, "ros_order") == NULL, "unset removes the key");
	grubenv_free(&env);
	grubenv_free(&back);
}

TEST(grubenv_refuses_bad_blocks_naming_the_problem)
{
	char buf[GRUBENV_SIZE];
	struct grubenv env = {0};
	struct ros_err e = {0};
	block(buf, "a=1\n");
	ok(grubenv_parse(buf, 1000, "f", &env, &e) < 0 && strstr(e.msg, "1024 bytes"), "size: %s", e.msg);
	buf[0] = 'X';
	ok(grubenv_parse(buf, sizeof(buf), "f", &env, &e) < 0 && strstr(e.msg, "header"), "header: %s", e.msg);
	block(buf, "novalue\n");
	ok(grubenv_parse(buf, sizeof(buf), "f", &env, &e) < 0 && strstr(e.msg, "line 2"), "line: %s", e.msg);
	block(buf, "a=1\n");
	buf[200] = 'z';
	ok(grubenv_parse(buf, sizeof(buf), "f", &env, &e) < 0 && strstr(e.msg, "garbage"), "garbage: %s", e.msg);
}

TEST(grubenv_too_many_bytes_is_enospc)
{
	struct grubenv env = {0};
	struct ros_err e = {0};
	char big[600];
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	is_int(grubenv_set(&env, "x", big, &e), 0);
	is_int(grubenv_set(&env, "y", big, &e), 0);
	char buf[GRUBENV_SIZE];
	is_int(grubenv_format(&env, buf, &e), -ENOSPC);
	ok(grubenv_set(&env, "bad-key", "1", &e) < 0, "keys are [A-Za-z0-9_]");
	ok(grubenv_set(&env, "k", "a\nb", &e) < 0, "values have no newline");
	grubenv_free(&env);
}

TEST(grubenv_save_replaces_atomically_and_load_reads_it)
{
	char dir[] = "/tmp/ros-test-grubenv.XXXXXX";
	ok(mkdtemp(dir) != NULL, "mkdtemp");
	char p[128];
	snprintf(p, sizeof(p), "%s/grubenv", dir);
	struct grubenv env = {0}, back = {0};
	struct ros_err e = {0};
	grubenv_set(&env, "ros_A_good", "1", &e);
	is_int(grubenv_save(p, &env, &e), 0);
	struct stat st;
	is_int(stat(p, &st), 0);
	is_int((int)st.st_size, GRUBENV_SIZE);
	is_int(grubenv_load(p, &back, &e), 0);
	is_str(grubenv_get(&back, "ros_A_good"), "1");
	grubenv_free(&env);
	grubenv_free(&back);
	unlink(p);
	rmdir(dir);
}

static struct boot_state fresh(void)
{
	struct boot_state st;
	boot_state_init(&st, 'A', "1.0", "");
	return st;
}

TEST(slots_fresh_install_boots_a_without_using_tries)
{
	struct boot_state st = fresh();
	bool try;
	is_int(boot_pick(&st, &try), 'A');
	ok(!try, "a good slot uses no try");
}

TEST(slots_upgrade_trial_then_good)
{
	struct boot_state st = fresh();
	struct ros_err e = {0};
	is_int(boot_upgrade_begin(&st, 'B', 'A', &e), 0);
	is_int(boot_grub_simulate(&st), 'A'); /* half-written B is never picked */
	is_int(boot_upgrade_commit(&st, 'B', "2.0", 3, &e), 0);
	is_int(boot_grub_simulate(&st), 'B');
	is_int((int)boot_slot_get(&st, 'B')->tries, 2);
	is_int(boot_mark_good(&st, 'B', "now"), 1);
	ok(boot_slot_get(&st, 'B')->good && !boot_slot_get(&st, 'B')->tries, "B good, tries cleared");
	ok(boot_slot_get(&st, 'A')->good, "A stays good for a rollback");
	is_int(boot_grub_simulate(&st), 'B');
	is_int(boot_mark_good(&st, 'B', "now"), 0);
	/* rollback to A, then back is refused for a never-good slot */
	is_int(boot_rollback(&st, 'B', &e), 0);
	is_int(boot_grub_simulate(&st), 'A');
}

TEST(slots_out_of_tries_falls_back_and_says_so)
{
	struct boot_state st = fresh();
	struct ros_err e = {0};
	boot_upgrade_begin(&st, 'B', 'A', &e);
	boot_upgrade_commit(&st, 'B', "2.0-broken", 2, &e);
	is_int(boot_grub_simulate(&st), 'B');
	is_int(boot_grub_simulate(&st), 'B');
	is_int(boot_grub_simulate(&st), 'A'); /* out of tries */
	is_int(boot_mark_good(&st, 'A', "T"), 1);
	ok(boot_slot_get(&st, 'B')->failed, "B is failed");
	ok(strstr(st.note, "slot B (2.0-broken) was not marked good") != NULL, "note: %s", st.note);
	is_int(st.order[0], 'A');
	ok(boot_rollback(&st, 'A', &e) < 0 && strstr(e.msg, "never marked good"), "no rollback to B: %s", e.msg);
}

TEST(slots_env_round_trip_and_bad_values)
{
	struct boot_state st = fresh(), back;
	struct ros_err e = {0};
	boot_upgrade_commit(&st, 'B', "2.0", 3, &e);
	snprintf(st.append, sizeof(st.append), "quiet");
	struct grubenv env = {0};
	is_int(boot_state_to_env(&st, &env, &e), 0);
	is_str(grubenv_get(&env, "ros_order"), "B A");
	is_str(grubenv_get(&env, "ros_B_tries"), "3");
	is_int(boot_state_from_env(&env, &back, &e), 0);
	is_str(back.slot[1].version, "2.0");
	is_str(back.append, "quiet");
	grubenv_set(&env, "ros_A_tries", "12", &e);
	ok(boot_state_from_env(&env, &back, &e) < 0 && strstr(e.msg, "ros_A_tries=12"), "%s", e.msg);
	grubenv_set(&env, "ros_A_tries", "1", &e);
	grubenv_set(&env, "ros_order", "A A", &e);
	ok(boot_state_from_env(&env, &back, &e) < 0 && strstr(e.msg, "ros_order"), "%s", e.msg);
	grubenv_free(&env);
	ok(boot_upgrade_begin(&st, 'A', 'A', &e) < 0, "the running slot is not written");
}

TEST(bios_patches_grubs_own_images)
{
	int fd = open("/usr/lib/grub/i386-pc/boot.img", O_RDONLY);
	if (fd < 0) {
		tap_skip("no /usr/lib/grub/i386-pc/boot.img (grub-pc-bin)");
		return;
	}
	unsigned char boot[512], mbr[512];
	ok(read(fd, boot, 512) == 512, "read boot.img");
	close(fd);
	memset(mbr, 0, sizeof(mbr));
	mbr[0x1be + 4] = 0xee; /* protective MBR entry */
	mbr[0x1fe] = 0x55;
	mbr[0x1ff] = 0xaa;
	struct ros_err e = {0};
	is_int(bios_boot_img_patch(boot, mbr, 2048, &e), 0);
	is_int(boot[0x5c], 0x00);
	is_int(boot[0x5d], 0x08); /* 2048 little-endian */
	is_int(boot[0x1be + 4], 0xee);
	is_int(boot[0x66], 0x90);
	cleanup_free char *diskboot = NULL;
	size_t len = 0;
	is_int(fs_read_all("/usr/lib/grub/i386-pc/diskboot.img", 4096, &diskboot, &len, &e), 0);
	unsigned char core[4 * 512] = {0};
	memcpy(core, diskboot, len);
	is_int(bios_core_img_patch(core, sizeof(core), 2048, &e), 0);
	is_int(core[0x1f4], 0x01);
	is_int(core[0x1f5], 0x08); /* 2049 */
	is_int(core[0x1fc], 3);    /* 3 more sectors */
	unsigned char junk[1024] = {0};
	ok(bios_core_img_patch(junk, sizeof(junk), 2048, &e) < 0 && strstr(e.msg, "blocklist"), "%s", e.msg);
}
