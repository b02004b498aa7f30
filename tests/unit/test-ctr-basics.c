/* SPDX-License-Identifier: MIT */
/* Basics: the default specs parse; bad input is refused with
 * an error that names the JSON path; ids are checked. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "ctr/ctr.h"
#include "ctr/spec.h"
#include "tap.h"

static int parse_str(const char *text, struct spec **s, struct ros_err *e)
{
	json_error_t je;
	json_t *doc = json_loads(text, 0, &je);
	if (!doc)
		return -EINVAL;
	int r = spec_parse(doc, "/bundle", s, e);
	json_decref(doc);
	return r;
}

/* the default spec with one change given as a JSON object merged on top */
static int parse_default_with(const char *path_json, struct spec **s, struct ros_err *e)
{
	json_t *doc = spec_default(false);
	json_error_t je;
	json_t *patch = json_loads(path_json, 0, &je);
	json_object_update_recursive(doc, patch);
	json_decref(patch);
	int r = spec_parse(doc, "/bundle", s, e);
	json_decref(doc);
	return r;
}

TEST(default_spec_parses)
{
	struct spec *s = NULL;
	struct ros_err e = {0};
	json_t *doc = spec_default(false);
	ok(spec_parse(doc, "/bundle", &s, &e) == 0, "default spec: %s", e.msg);
	ok(s && s->n_mounts > 0, "has mounts");
	ok(s && s->args && !strcmp(s->args[0], "sh"), "args[0] is sh");
	ok(s && !strcmp(s->root_path, "/bundle/rootfs"), "root.path is resolved against the bundle: %s",
	   s ? s->root_path : "");
	spec_free(s);
	json_decref(doc);
	doc = spec_default(true);
	s = NULL;
	ok(spec_parse(doc, "/bundle", &s, &e) == 0, "rootless default spec: %s", e.msg);
	ok(s && s->n_uid_maps == 1, "rootless spec maps one uid range");
	spec_free(s);
	json_decref(doc);
}

TEST(wrong_type_names_the_json_path)
{
	struct spec *s = NULL;
	struct ros_err e = {0};
	ok(parse_default_with("{\"process\": {\"cwd\": 5}}", &s, &e) < 0, "cwd as a number is refused");
	ok(strstr(e.msg, "process.cwd") != NULL, "error names process.cwd: %s", e.msg);
	e = (struct ros_err){0};
	ok(parse_default_with("{\"hostname\": [1]}", &s, &e) < 0, "hostname as an array is refused");
	ok(strstr(e.msg, "hostname") != NULL, "error names hostname: %s", e.msg);
}

TEST(bad_entries_in_arrays_name_their_index)
{
	struct spec *s = NULL;
	struct ros_err e = {0};
	ok(parse_default_with("{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1, \"soft\": 1}, "
	                      "{\"type\": \"RLIMIT_BOGUS\", \"hard\": 1, \"soft\": 1}]}}",
	                      &s, &e) < 0,
	   "an unknown rlimit is refused");
	ok(strstr(e.msg, "rlimits[1]") != NULL, "error names rlimits[1]: %s", e.msg);
	e = (struct ros_err){0};
	ok(parse_default_with("{\"process\": {\"capabilities\": {\"bounding\": [\"CAP_CHOWN\", \"CAP_NOPE\"]}}}", &s,
	                      &e) < 0,
	   "an unknown capability is refused");
	ok(strstr(e.msg, "CAP_NOPE") != NULL, "error names the capability: %s", e.msg);
}

TEST(missing_required_fields_are_refused)
{
	struct spec *s = NULL;
	struct ros_err e = {0};
	ok(parse_str("{\"ociVersion\": \"1.0.2\"}", &s, &e) < 0, "no process/root is refused: %s", e.msg);
	ok(e.msg[0] != 0, "with a message");
	e = (struct ros_err){0};
	ok(parse_str("[]", &s, &e) < 0, "a non-object document is refused");
}

TEST(container_ids_are_checked)
{
	struct ros_err e = {0};
	is_int(ctr_id_check("abc-1.2_x+y", &e), 0);
	ok(ctr_id_check("", &e) < 0, "empty id refused");
	ok(ctr_id_check("..", &e) < 0, ".. refused");
	ok(ctr_id_check("a/b", &e) < 0, "slash refused");
	ok(ctr_id_check("a b", &e) < 0, "space refused");
}

TEST(status_names)
{
	is_str(ctr_status_name(CTR_CREATED), "created");
	is_str(ctr_status_name(CTR_RUNNING), "running");
	is_str(ctr_status_name(CTR_STOPPED), "stopped");
	is_str(ctr_status_name(CTR_PAUSED), "paused");
	ok(ctr_pid_start_time(getpid()) > 0, "our own start time is known");
	ok(ctr_pid_start_time(0x3fffffff) == 0, "a pid that does not exist has none");
}
