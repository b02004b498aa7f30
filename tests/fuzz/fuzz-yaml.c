/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the YAML loader, validator, emitter, dotted keys, JSON
 * conversion, merge and the typed getters. */
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
	json_t *j = cfg_to_json(n);
	struct cfg_node *back = j ? cfg_from_json(j) : NULL;
	json_decref(j);
	if (back && cfg_merge(back, n) >= 0) {
		long long i;
		bool b;
		const char *str;
		char buf[64];
		for (size_t k = 0; k < cfg_map_size(back); k++) {
			struct cfg_node *v = cfg_map_value_at(back, k);
			cfg_as_int(v, cfg_map_key_at(back, k), &i, NULL);
			cfg_as_bool(v, NULL, &b, NULL);
			cfg_as_string(v, NULL, &str, buf, sizeof(buf), NULL);
			for (size_t m = 0; m < cfg_list_size(v); m++)
				cfg_as_string(cfg_list_at(v, m), "x", &str, buf, sizeof(buf), NULL);
		}
	}
	cfg_free(back);
	cfg_free(n);
	return 0;
}
