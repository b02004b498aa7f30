/* SPDX-License-Identifier: MIT */
/* libFuzzer target: init's kernel command line parser. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../init/cmdline.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct init_cmdline c;
	struct ros_err e = {0};
	init_cmdline_defaults(&c);
	init_cmdline_parse(text, &c, &e);
	free(text);
	return 0;
}
