/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the OCI spec parser (config.json to struct spec) and
 * the error path; every malformed input must give an error, never a crash. */
#include <stdint.h>
#include <stdlib.h>

#include "ctr/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t je;
	json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
	if (!doc)
		return 0;
	struct spec *s = NULL;
	struct ros_err e = {0};
	if (spec_parse(doc, "/nonexistent-bundle", &s, &e) >= 0)
		spec_free(s);
	json_decref(doc);
	return 0;
}
