/* SPDX-License-Identifier: MIT */
#include "jsonutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"

const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

const char *json_path_join(char *buf, size_t size, const char *path, const char *key)
{
	if (!path || !*path)
		snprintf(buf, size, "%s", key);
	else
		snprintf(buf, size, "%s.%s", path, key);
	return buf;
}

const char *json_path_index(char *buf, size_t size, const char *path, size_t index)
{
	snprintf(buf, size, "%s[%zu]", path ? path : "", index);
	return buf;
}

int json_type_error(struct ros_err *e, const char *path, const char *what, const json_t *got)
{
	return err_setx(e, EINVAL, "%s: expected %s, got %s", path, what, got ? json_type_name(got) : "nothing");
}

/* Looks key up; returns 1 when present (non-null), 0 when absent, <0 on error. */
static int lookup(json_t *obj, const char *path, const char *key, bool required, json_t **v, char *full, size_t fsize,
                  struct ros_err *e)
{
	json_path_join(full, fsize, path, key);
	*v = obj ? json_object_get(obj, key) : NULL;
	if (!*v || json_is_null(*v)) {
		if (required)
			return err_setx(e, EINVAL, "%s: required property missing", full);
		return 0;
	}
	return 1;
}

int json_get_string(json_t *obj, const char *path, const char *key, bool required, const char **out, struct ros_err *e)
{
	char full[512];
	json_t *v;
	int r = lookup(obj, path, key, required, &v, full, sizeof(full), e);
	if (r <= 0)
		return r;
	if (!json_is_string(v))
		return json_type_error(e, full, "string", v);
	*out = json_string_value(v);
	return 0;
}

int json_get_bool(json_t *obj, const char *path, const char *key, bool required, bool *out, struct ros_err *e)
{
	char full[512];
	json_t *v;
	int r = lookup(obj, path, key, required, &v, full, sizeof(full), e);
	if (r <= 0)
		return r;
	if (!json_is_boolean(v))
		return json_type_error(e, full, "boolean", v);
	*out = json_is_true(v);
	return 0;
}

int json_get_int64(json_t *obj, const char *path, const char *key, bool required, int64_t *out, struct ros_err *e)
{
	char full[512];
	json_t *v;
	int r = lookup(obj, path, key, required, &v, full, sizeof(full), e);
	if (r <= 0)
		return r;
	if (!json_is_integer(v))
		return json_type_error(e, full, "integer", v);
	*out = json_integer_value(v);
	return 0;
}

int json_get_uint64(json_t *obj, const char *path, const char *key, bool required, uint64_t *out, struct ros_err *e)
{
	char full[512];
	json_t *v;
	int r = lookup(obj, path, key, required, &v, full, sizeof(full), e);
	if (r <= 0)
		return r;
	if (!json_is_integer(v))
		return json_type_error(e, full, "integer", v);
	if (json_integer_value(v) < 0)
		return err_setx(e, EINVAL, "%s: expected a non-negative integer, got %lld", full,
		                (long long)json_integer_value(v));
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

int json_get_uint32(json_t *obj, const char *path, const char *key, bool required, uint32_t *out, struct ros_err *e)
{
	uint64_t v = 0;
	bool had = obj && json_object_get(obj, key);
	int r = json_get_uint64(obj, path, key, required, &v, e);
	if (r < 0 || !had)
		return r;
	if (v > UINT32_MAX) {
		char full[512];
		return err_setx(e, ERANGE, "%s: %llu is out of range (max %u)",
		                json_path_join(full, sizeof(full), path, key), (unsigned long long)v, UINT32_MAX);
	}
	*out = (uint32_t)v;
	return 0;
}

int json_get_int32(json_t *obj, const char *path, const char *key, bool required, int32_t *out, struct ros_err *e)
{
	int64_t v = 0;
	bool had = obj && json_object_get(obj, key);
	int r = json_get_int64(obj, path, key, required, &v, e);
	if (r < 0 || !had)
		return r;
	if (v < INT32_MIN || v > INT32_MAX) {
		char full[512];
		return err_setx(e, ERANGE, "%s: %lld is out of range", json_path_join(full, sizeof(full), path, key),
		                (long long)v);
	}
	*out = (int32_t)v;
	return 0;
}

int json_get_object(json_t *obj, const char *path, const char *key, bool required, json_t **out, struct ros_err *e)
{
	char full[512];
	json_t *v;
	*out = NULL;
	int r = lookup(obj, path, key, required, &v, full, sizeof(full), e);
	if (r <= 0)
		return r;
	if (!json_is_object(v))
		return json_type_error(e, full, "object", v);
	*out = v;
	return 0;
}

int json_get_array(json_t *obj, const char *path, const char *key, bool required, json_t **out, struct ros_err *e)
{
	char full[512];
	json_t *v;
	*out = NULL;
	int r = lookup(obj, path, key, required, &v, full, sizeof(full), e);
	if (r <= 0)
		return r;
	if (!json_is_array(v))
		return json_type_error(e, full, "array", v);
	*out = v;
	return 0;
}

int json_get_strv(json_t *obj, const char *path, const char *key, bool required, char ***out, struct ros_err *e)
{
	json_t *arr;
	int r = json_get_array(obj, path, key, required, &arr, e);
	if (r < 0 || !arr)
		return r;
	char full[512], item[600];
	json_path_join(full, sizeof(full), path, key);
	size_t n = json_array_size(arr);
	cleanup_strv char **v = calloc(n + 1, sizeof(char *));
	if (!v)
		return err_set(e, ENOMEM, "%s", full);
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_array_get(arr, i);
		if (!json_is_string(s))
			return json_type_error(e, json_path_index(item, sizeof(item), full, i), "string", s);
		v[i] = strdup(json_string_value(s));
		if (!v[i])
			return err_set(e, ENOMEM, "%s", full);
	}
	*out = TAKE_PTR(v);
	return 0;
}
