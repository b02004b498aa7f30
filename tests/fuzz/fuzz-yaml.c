/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the YAML loader, validator, emitter and dotted keys. */
#include <stdint.h>
#include <stdlib.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_node *n = NULL;
	if (cfg_parse_yaml((const char *)data, size, "fuzz.yml", &n, NULL) < 0)
		return 0;
	struct cfg_diag d = {0};
	cfg_validate(n, true, &d);
	cfg_diag_free(&d);
	free(cfg_to_yaml_string(n));
	struct cfg_node *s = cfg_strip_secrets(n);
	cfg_free(s);
	cfg_get(n, "ros.network.interfaces.eth0.addresses[0]");
	cfg_free(n);
	return 0;
}
