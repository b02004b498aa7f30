/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the GRUB environment block parser and the A/B slot
 * state read from it (lib/boot); a parsed block must format back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct grubenv env = {0};
	struct ros_err e = {0};
	/* short inputs are padded into a block so the line parser is reached */
	char block[GRUBENV_SIZE];
	const char *buf = (const char *)data;
	size_t len = size;
	if (size < GRUBENV_SIZE - strlen(GRUBENV_HEADER)) {
		memset(block, '#', sizeof(block));
		memcpy(block, GRUBENV_HEADER, strlen(GRUBENV_HEADER));
		memcpy(block + strlen(GRUBENV_HEADER), data, size);
		buf = block;
		len = sizeof(block);
	}
	if (grubenv_parse(buf, len, "fuzz", &env, &e) == 0) {
		char out[GRUBENV_SIZE];
		if (grubenv_format(&env, out, &e) != 0)
			abort(); /* what parsed from 1024 bytes fits in 1024 bytes */
		struct boot_state st;
		if (boot_state_from_env(&env, &st, &e) == 0) {
			bool try;
			boot_pick(&st, &try);
			boot_mark_good(&st, 'A', "now");
			boot_state_to_env(&st, &env, &e);
		}
	}
	grubenv_free(&env);
	return 0;
}
