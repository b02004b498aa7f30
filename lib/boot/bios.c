/* SPDX-License-Identifier: MIT */
/*
 * BIOS boot the way grub-bios-setup does it for a GPT disk with a BIOS
 * boot partition, without GRUB's tools on the machine:
 *   - boot.img (the MBR code) gets the LBA of core.img at 0x5c and keeps
 *     the disk's BPB (0x3-0x5a) and partition table/signature
 *     (0x1b8-0x1fe); the "boot drive check" jump at 0x66 is NOPed, as
 *     grub-bios-setup does for hard disks (some BIOSes pass a bad drive);
 *   - core.img starts with diskboot.img, whose last 12 bytes are the
 *     first blocklist {u64 start, u16 sectors, u16 segment}: the rest of
 *     core.img, which lies right after its first sector.
 */
#include <string.h>

#include "boot.h"

#define BOOT_BPB_START 0x3
#define BOOT_BPB_END 0x5a
#define BOOT_KERNEL_SECTOR 0x5c
#define BOOT_DRIVE_CHECK 0x66
#define BOOT_PART_START 0x1b8
#define BOOT_PART_END 0x1fe
#define BLOCKLIST_SIZE 12

static void put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put_le16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

int bios_boot_img_patch(unsigned char boot[BIOS_SECTOR], const unsigned char mbr[BIOS_SECTOR], uint64_t core_lba,
                        struct ros_err *e)
{
	if (boot[0x1fe] != 0x55 || boot[0x1ff] != 0xaa)
		return err_setx(e, EINVAL, "boot.img: no 55 AA boot signature: not GRUB's boot.img");
	if (boot[BOOT_DRIVE_CHECK] != 0xeb && boot[BOOT_DRIVE_CHECK] != 0x90)
		return err_setx(e, EINVAL,
		                "boot.img: unexpected byte %#x at the drive check (0x66): another GRUB version?",
		                boot[BOOT_DRIVE_CHECK]);
	memcpy(boot + BOOT_BPB_START, mbr + BOOT_BPB_START, BOOT_BPB_END - BOOT_BPB_START);
	memcpy(boot + BOOT_PART_START, mbr + BOOT_PART_START, BOOT_PART_END - BOOT_PART_START);
	put_le64(boot + BOOT_KERNEL_SECTOR, core_lba);
	boot[BOOT_DRIVE_CHECK] = 0x90;
	boot[BOOT_DRIVE_CHECK + 1] = 0x90;
	return 0;
}

int bios_core_img_patch(unsigned char *core, size_t len, uint64_t core_lba, struct ros_err *e)
{
	if (len < 2 * BIOS_SECTOR || len % BIOS_SECTOR)
		return err_setx(e, EINVAL, "core.img: %zu bytes: expected a multiple of 512, at least 1024", len);
	size_t sectors = len / BIOS_SECTOR;
	if (sectors - 1 > 0xffff)
		return err_setx(e, EFBIG, "core.img: %zu sectors: too big for one blocklist", sectors);
	unsigned char *bl = core + BIOS_SECTOR - BLOCKLIST_SIZE;
	/* diskboot.img ships with start 2 and segment 0x820 (GRUB 2.x) */
	if (bl[10] != 0x20 || bl[11] != 0x08)
		return err_setx(e, EINVAL,
		                "core.img: no blocklist (segment 0x820) at the end of its first sector: "
		                "not an i386-pc core.img?");
	put_le64(bl, core_lba + 1);
	put_le16(bl + 8, (uint16_t)(sectors - 1));
	/* the next entry (below it) ends the list */
	memset(bl - BLOCKLIST_SIZE, 0, 10);
	return 0;
}
