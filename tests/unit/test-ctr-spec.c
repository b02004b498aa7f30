/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "core/err.h"
#include "ctr/spec.h"

/* parse DOC (consumed) with bundle /b; returns the result, *out set on success */
static int parse(json_t *doc, struct spec **out, struct ros_err *e)
{
	int r = spec_parse(doc, "/b", out, e);
	json_decref(doc);
	return r;
}

TEST(ctr_spec_default_parses)
{
	struct ros_err e = {0};
	struct spec *s = NULL;
	int r = parse(spec_default(false), &s, &e);
	is_int(r, 0);
	ok(s && s->args && s->args[0], "default spec has args");
	spec_free(s);
}

TEST(ctr_spec_rootless_default_parses)
{
	struct ros_err e = {0};
	struct spec *s = NULL;
	is_int(parse(spec_default(true), &s, &e), 0);
	spec_free(s);
}

TEST(ctr_spec_fields_reach_the_model)
{
	struct ros_err e = {0};
	struct spec *s = NULL;
	json_t *d = spec_default(false);
	json_object_set_new(d, "hostname", json_string("box"));
	json_object_set_new(json_object_get(d, "root"), "readonly", json_true());
	is_int(parse(d, &s, &e), 0);
	is_str(s ? s->hostname : NULL, "box");
	ok(s && s->root_readonly, "root.readonly is true");
	spec_free(s);
}

TEST(ctr_spec_wrong_type_names_the_json_path)
{
	struct ros_err e = {0};
	struct spec *s = NULL;
	json_t *d = spec_default(false);
	json_t *res = json_pack("{s:{s:s}}", "memory", "limit", "lots");
	json_object_set_new(json_object_get(d, "linux"), "resources", res);
	ok(parse(d, &s, &e) < 0, "a string memory limit is refused");
	ok(strstr(e.msg, "linux.resources.memory.limit: expected integer, got string") != NULL, "message: %s", e.msg);
	ok(s == NULL, "no model on error");
}

TEST(ctr_spec_unknown_capability_names_its_index)
{
	struct ros_err e = {0};
	struct spec *s = NULL;
	json_t *d = spec_default(false);
	json_t *bounding = json_object_get(json_object_get(json_object_get(d, "process"), "capabilities"), "bounding");
	size_t i = json_array_size(bounding);
	json_array_append_new(bounding, json_string("CAP_NOT_A_CAP"));
	ok(parse(d, &s, &e) < 0, "an unknown capability is refused");
	char want[128];
	snprintf(want, sizeof(want), "process.capabilities.bounding[%zu]: unknown capability \"CAP_NOT_A_CAP\"", i);
	ok(strstr(e.msg, want) != NULL, "message: %s", e.msg);
}

TEST(ctr_spec_unknown_properties_are_ignored)
{
	struct ros_err e = {0};
	struct spec *s = NULL;
	json_t *d = spec_default(false);
	json_object_set_new(d, "frobnicate", json_integer(1));
	json_object_set_new(json_object_get(d, "process"), "whatever", json_true());
	is_int(parse(d, &s, &e), 0);
	spec_free(s);
}

TEST(ctr_spec_cap_names)
{
	ok(spec_cap_from_name("CAP_SYS_ADMIN") >= 0, "CAP_SYS_ADMIN is known");
	ok(spec_cap_from_name("CAP_NOPE") < 0, "CAP_NOPE is not");
}
