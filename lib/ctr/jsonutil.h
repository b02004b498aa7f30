/* SPDX-License-Identifier: MIT */
#pragma once
/*
 * Typed access to JSON members with errors that name the JSON path and the
 * reason: "linux.resources.memory.limit: expected integer, got string".
 * `path` is the dotted path of `obj`; "" for the document root.
 * A missing member leaves *out untouched and returns 0 unless required.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

const char *json_type_name(const json_t *v);
/* Joins path and key ("a.b" + "c" -> "a.b.c"; "" + "c" -> "c") into buf. */
const char *json_path_join(char *buf, size_t size, const char *path, const char *key);
/* Same for an array index: "a.b" + 3 -> "a.b[3]". */
const char *json_path_index(char *buf, size_t size, const char *path, size_t index);

int json_get_string(json_t *obj, const char *path, const char *key, bool required, const char **out, struct ros_err *e);
int json_get_bool(json_t *obj, const char *path, const char *key, bool required, bool *out, struct ros_err *e);
int json_get_int64(json_t *obj, const char *path, const char *key, bool required, int64_t *out, struct ros_err *e);
/* Rejects negative values. */
int json_get_uint64(json_t *obj, const char *path, const char *key, bool required, uint64_t *out, struct ros_err *e);
/* Range-checked into 32-bit types. */
int json_get_uint32(json_t *obj, const char *path, const char *key, bool required, uint32_t *out, struct ros_err *e);
int json_get_int32(json_t *obj, const char *path, const char *key, bool required, int32_t *out, struct ros_err *e);
/* *out is borrowed; NULL when absent (or JSON null, which counts as absent). */
int json_get_object(json_t *obj, const char *path, const char *key, bool required, json_t **out, struct ros_err *e);
int json_get_array(json_t *obj, const char *path, const char *key, bool required, json_t **out, struct ros_err *e);
/* An array of strings into a NULL-terminated heap strv (free with cleanup_strv). */
int json_get_strv(json_t *obj, const char *path, const char *key, bool required, char ***out, struct ros_err *e);
/* Error helper: "<path>: expected <what>, got <type>". */
int json_type_error(struct ros_err *e, const char *path, const char *what, const json_t *got);
