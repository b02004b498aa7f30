/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the kernel command line parser and dotted keys. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	struct cfg_node *n = NULL;
	struct cfg_diag d = {0};
	if (cfg_parse_cmdline(s, &n, &d, NULL) == 0)
		cfg_free(n);
	cfg_diag_free(&d);
	/* the same bytes as a dotted key */
	struct cfg_node *m = cfg_new(CFG_MAP);
	struct cfg_node *v = cfg_new_int(1);
	if (m && v && cfg_set(m, s, v, NULL) < 0)
		cfg_free(v);
	cfg_get(m, s);
	cfg_unset(m, s, NULL);
	cfg_free(m);
	free(s);
	return 0;
}
