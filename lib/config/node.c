/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "core/cleanup.h"

struct cfg_node *cfg_new(enum cfg_type t)
{
	struct cfg_node *n = calloc(1, sizeof(*n));
	if (n)
		n->type = t;
	return n;
}

struct cfg_node *cfg_new_string(const char *s)
{
	struct cfg_node *n = cfg_new(CFG_STRING);
	if (n && !(n->s = strdup(s))) {
		free(n);
		return NULL;
	}
	return n;
}

struct cfg_node *cfg_new_int(long long i)
{
	struct cfg_node *n = cfg_new(CFG_INT);
	if (n)
		n->i = i;
	return n;
}

struct cfg_node *cfg_new_bool(bool b)
{
	struct cfg_node *n = cfg_new(CFG_BOOL);
	if (n)
		n->b = b;
	return n;
}

void cfg_free(struct cfg_node *n)
{
	if (!n)
		return;
	switch (n->type) {
	case CFG_STRING:
		free(n->s);
		break;
	case CFG_MAP:
		for (size_t i = 0; i < n->map.n; i++) {
			free(n->map.keys[i]);
			cfg_free(n->map.vals[i]);
		}
		free(n->map.keys);
		free(n->map.vals);
		free(n->map.index);
		break;
	case CFG_LIST:
		for (size_t i = 0; i < n->list.n; i++)
			cfg_free(n->list.items[i]);
		free(n->list.items);
		break;
	default:
		break;
	}
	free(n);
}

const char *cfg_type_name(enum cfg_type t)
{
	static const char *const names[] = {"null", "boolean", "integer", "float", "string", "map", "list"};
	return t <= CFG_LIST ? names[t] : "unknown";
}

struct cfg_node *cfg_copy(const struct cfg_node *n)
{
	if (!n)
		return NULL;
	struct cfg_node *c = cfg_new(n->type);
	if (!c)
		return NULL;
	c->file = n->file;
	c->line = n->line;
	c->col = n->col;
	c->key_line = n->key_line;
	c->key_col = n->key_col;
	switch (n->type) {
	case CFG_STRING:
		if (!(c->s = strdup(n->s)))
			goto fail;
		break;
	case CFG_MAP:
		for (size_t i = 0; i < n->map.n; i++) {
			struct cfg_node *v = cfg_copy(n->map.vals[i]);
			if (!v || cfg_map_set(c, n->map.keys[i], v) < 0) {
				cfg_free(v);
				goto fail;
			}
		}
		break;
	case CFG_LIST:
		for (size_t i = 0; i < n->list.n; i++) {
			struct cfg_node *v = cfg_copy(n->list.items[i]);
			if (!v || cfg_list_append(c, v) < 0) {
				cfg_free(v);
				goto fail;
			}
		}
		break;
	case CFG_BOOL:
		c->b = n->b;
		break;
	case CFG_INT:
		c->i = n->i;
		break;
	case CFG_FLOAT:
		c->f = n->f;
		break;
	case CFG_NULL:
		break;
	}
	return c;
fail:
	cfg_free(c);
	return NULL;
}

/* Maps keep insertion order in keys/vals; past MAP_INDEX_MIN entries a
 * hash index (open addressing, slot = position + 1) keeps lookups O(1),
 * so a hostile file with one huge map cannot make loading quadratic. */
#define MAP_INDEX_MIN 32

static size_t key_hash(const char *k)
{
	size_t h = 1469598103934665603ull;
	for (; *k; k++)
		h = (h ^ (unsigned char)*k) * 1099511628211ull;
	return h;
}

static void index_put(struct cfg_node *map, size_t pos)
{
	size_t mask = map->map.index_cap - 1;
	size_t s = key_hash(map->map.keys[pos]) & mask;
	while (map->map.index[s])
		s = (s + 1) & mask;
	map->map.index[s] = (unsigned)pos + 1;
}

/* (Re)builds the index for n entries; with too few entries drops it.  On
 * ENOMEM the map simply stays unindexed (slower, still right). */
static void index_rebuild(struct cfg_node *map, size_t n)
{
	free(map->map.index);
	map->map.index = NULL;
	map->map.index_cap = 0;
	if (n < MAP_INDEX_MIN)
		return;
	size_t cap = 64;
	while (cap < n * 2)
		cap *= 2;
	map->map.index = calloc(cap, sizeof(unsigned));
	if (!map->map.index)
		return;
	map->map.index_cap = cap;
	for (size_t i = 0; i < map->map.n; i++)
		index_put(map, i);
}

static ssize_t map_find(const struct cfg_node *map, const char *key)
{
	if (map->map.index) {
		size_t mask = map->map.index_cap - 1;
		for (size_t s = key_hash(key) & mask; map->map.index[s]; s = (s + 1) & mask) {
			size_t pos = map->map.index[s] - 1;
			if (!strcmp(map->map.keys[pos], key))
				return (ssize_t)pos;
		}
		return -1;
	}
	for (size_t i = 0; i < map->map.n; i++)
		if (!strcmp(map->map.keys[i], key))
			return (ssize_t)i;
	return -1;
}

struct cfg_node *cfg_map_get(const struct cfg_node *map, const char *key)
{
	if (!map || map->type != CFG_MAP)
		return NULL;
	ssize_t i = map_find(map, key);
	return i < 0 ? NULL : map->map.vals[i];
}

int cfg_map_set(struct cfg_node *map, const char *key, struct cfg_node *v)
{
	if (map->type != CFG_MAP)
		return -EINVAL;
	ssize_t i = map_find(map, key);
	if (i >= 0) {
		cfg_free(map->map.vals[i]);
		map->map.vals[i] = v;
		return 0;
	}
	if (map->map.n == map->map.cap) {
		size_t cap = map->map.cap ? map->map.cap * 2 : 8;
		char **k = realloc(map->map.keys, cap * sizeof(*k));
		if (!k)
			return -ENOMEM;
		map->map.keys = k;
		struct cfg_node **vv = realloc(map->map.vals, cap * sizeof(*vv));
		if (!vv)
			return -ENOMEM;
		map->map.vals = vv;
		map->map.cap = cap;
	}
	char *kd = strdup(key);
	if (!kd)
		return -ENOMEM;
	map->map.keys[map->map.n] = kd;
	map->map.vals[map->map.n++] = v;
	if (map->map.index && map->map.n * 2 <= map->map.index_cap)
		index_put(map, map->map.n - 1);
	else if (map->map.n >= MAP_INDEX_MIN)
		index_rebuild(map, map->map.n);
	return 0;
}

bool cfg_map_remove(struct cfg_node *map, const char *key)
{
	if (!map || map->type != CFG_MAP)
		return false;
	ssize_t found = map_find(map, key);
	if (found < 0)
		return false;
	size_t i = (size_t)found;
	free(map->map.keys[i]);
	cfg_free(map->map.vals[i]);
	memmove(&map->map.keys[i], &map->map.keys[i + 1], (map->map.n - i - 1) * sizeof(char *));
	memmove(&map->map.vals[i], &map->map.vals[i + 1], (map->map.n - i - 1) * sizeof(void *));
	map->map.n--;
	if (map->map.index) /* positions moved */
		index_rebuild(map, map->map.n);
	return true;
}

int cfg_list_append(struct cfg_node *list, struct cfg_node *v)
{
	if (list->type != CFG_LIST)
		return -EINVAL;
	if (list->list.n == list->list.cap) {
		size_t cap = list->list.cap ? list->list.cap * 2 : 8;
		struct cfg_node **it = realloc(list->list.items, cap * sizeof(*it));
		if (!it)
			return -ENOMEM;
		list->list.items = it;
		list->list.cap = cap;
	}
	list->list.items[list->list.n++] = v;
	return 0;
}

const char *cfg_scalar_text(const struct cfg_node *n, char *buf, size_t size)
{
	if (!n)
		return NULL;
	switch (n->type) {
	case CFG_NULL:
		return "null";
	case CFG_BOOL:
		return n->b ? "true" : "false";
	case CFG_INT:
		snprintf(buf, size, "%lld", n->i);
		return buf;
	case CFG_FLOAT:
		if (isnan(n->f))
			return ".nan";
		if (isinf(n->f))
			return n->f > 0 ? ".inf" : "-.inf";
		snprintf(buf, size, "%.17g", n->f);
		if (!strpbrk(buf, ".eEn"))
			strncat(buf, ".0", size - strlen(buf) - 1);
		return buf;
	case CFG_STRING:
		return n->s;
	default:
		return NULL;
	}
}

/* ---- YAML 1.2 core schema resolution of plain scalars ---- */

static bool all_match(const char *s, const char *set)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr(set, *s))
			return false;
	return true;
}

static bool is_core_int(const char *s, long long *out)
{
	const char *p = s;
	int base = 10;
	if (!strncmp(p, "0o", 2) && all_match(p + 2, "01234567")) {
		base = 8;
		p += 2;
	} else if (!strncmp(p, "0x", 2) && all_match(p + 2, "0123456789abcdefABCDEF")) {
		base = 16;
		p += 2;
	} else {
		const char *d = (*p == '-' || *p == '+') ? p + 1 : p;
		if (!all_match(d, "0123456789"))
			return false;
	}
	errno = 0;
	char *end;
	long long v = strtoll(p, &end, base);
	if (errno || *end)
		return false; /* out of range: stays a string */
	*out = v;
	return true;
}

static bool is_core_float(const char *s, double *out)
{
	const char *p = (*s == '-' || *s == '+') ? s + 1 : s;
	if (!strcmp(p, ".inf") || !strcmp(p, ".Inf") || !strcmp(p, ".INF")) {
		*out = *s == '-' ? -INFINITY : INFINITY;
		return true;
	}
	if (p == s && (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN"))) {
		*out = NAN;
		return true;
	}
	/* [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
	const char *q = p;
	size_t digits = 0;
	while (isdigit((unsigned char)*q))
		q++, digits++;
	if (*q == '.') {
		q++;
		while (isdigit((unsigned char)*q))
			q++, digits++;
	}
	if (!digits)
		return false;
	if (*q == 'e' || *q == 'E') {
		q++;
		if (*q == '-' || *q == '+')
			q++;
		if (!isdigit((unsigned char)*q))
			return false;
		while (isdigit((unsigned char)*q))
			q++;
	}
	if (*q)
		return false;
	*out = strtod(s, NULL);
	return true;
}

struct cfg_node *cfg_resolve_plain(const char *s)
{
	if (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL"))
		return cfg_new(CFG_NULL);
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		return cfg_new_bool(true);
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return cfg_new_bool(false);
	long long i;
	if (is_core_int(s, &i))
		return cfg_new_int(i);
	double f;
	if (is_core_float(s, &f)) {
		struct cfg_node *n = cfg_new(CFG_FLOAT);
		if (n)
			n->f = f;
		return n;
	}
	return cfg_new_string(s);
}

/* ---- merge ---- */

int cfg_merge(struct cfg_node *dst, const struct cfg_node *src)
{
	if (dst->type != CFG_MAP || src->type != CFG_MAP)
		return -EINVAL;
	for (size_t i = 0; i < src->map.n; i++) {
		const char *k = src->map.keys[i];
		const struct cfg_node *sv = src->map.vals[i];
		struct cfg_node *dv = cfg_map_get(dst, k);
		if (dv && dv->type == CFG_MAP && sv->type == CFG_MAP) {
			int r = cfg_merge(dv, sv);
			if (r < 0)
				return r;
			continue;
		}
		struct cfg_node *c = cfg_copy(sv);
		if (!c)
			return -ENOMEM;
		int r = cfg_map_set(dst, k, c);
		if (r < 0) {
			cfg_free(c);
			return r;
		}
	}
	return 0;
}

/* ---- dotted keys ---- */

struct key_seg {
	bool is_index;
	size_t index;
	char name[256];
};

/* Splits a dotted key into segments; returns the count or -EINVAL. */
static int key_split(const char *key, struct key_seg *segs, int max, struct ros_err *e)
{
	int n = 0;
	const char *p = key;
	if (!*p)
		return err_setx(e, EINVAL, "empty key");
	while (*p) {
		if (n == max)
			return err_setx(e, EINVAL, "key %s: too many parts", key);
		struct key_seg *s = &segs[n];
		memset(s, 0, sizeof(*s));
		if (*p == '[' && (p[1] == '"' || p[1] == '\'')) {
			char q = p[1];
			const char *end = strchr(p + 2, q);
			if (!end || end[1] != ']' || (size_t)(end - p - 2) >= sizeof(s->name))
				return err_setx(e, EINVAL, "key %s: unterminated [\"...\"] at offset %zu", key,
				                (size_t)(p - key));
			memcpy(s->name, p + 2, (size_t)(end - p - 2));
			p = end + 2;
		} else if (*p == '[') {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(p + 1, &end, 10);
			if (end == p + 1 || *end != ']' || errno || v > 1000000)
				return err_setx(e, EINVAL, "key %s: bad list index at offset %zu", key,
				                (size_t)(p - key));
			s->is_index = true;
			s->index = (size_t)v;
			p = end + 1;
		} else if (*p == '"' || *p == '\'') {
			char q = *p;
			const char *end = strchr(p + 1, q);
			if (!end || (size_t)(end - p - 1) >= sizeof(s->name))
				return err_setx(e, EINVAL, "key %s: unterminated quote at offset %zu", key,
				                (size_t)(p - key));
			memcpy(s->name, p + 1, (size_t)(end - p - 1));
			p = end + 1;
		} else {
			size_t len = strcspn(p, ".[");
			if (len == 0 || len >= sizeof(s->name))
				return err_setx(e, EINVAL, "key %s: empty or overlong part at offset %zu", key,
				                (size_t)(p - key));
			memcpy(s->name, p, len);
			p += len;
		}
		n++;
		if (*p == '.') {
			p++;
			if (!*p)
				return err_setx(e, EINVAL, "key %s: ends with '.'", key);
		} else if (*p && *p != '[') {
			return err_setx(e, EINVAL, "key %s: unexpected '%c' at offset %zu", key, *p, (size_t)(p - key));
		}
	}
	return n;
}

#define KEY_MAX_SEGS 64

static struct cfg_node *seg_child(const struct cfg_node *n, const struct key_seg *s)
{
	if (s->is_index)
		return n && n->type == CFG_LIST && s->index < n->list.n ? n->list.items[s->index] : NULL;
	return cfg_map_get(n, s->name);
}

struct cfg_node *cfg_get(const struct cfg_node *root, const char *key)
{
	struct key_seg segs[KEY_MAX_SEGS];
	int n = key_split(key, segs, KEY_MAX_SEGS, NULL);
	if (n < 0)
		return NULL;
	const struct cfg_node *cur = root;
	for (int i = 0; i < n && cur; i++)
		cur = seg_child(cur, &segs[i]);
	return (struct cfg_node *)(uintptr_t)cur;
}

int cfg_set(struct cfg_node *root, const char *key, struct cfg_node *value, struct ros_err *e)
{
	struct key_seg segs[KEY_MAX_SEGS];
	int n = key_split(key, segs, KEY_MAX_SEGS, e);
	if (n < 0)
		return n;
	struct cfg_node *cur = root;
	for (int i = 0; i < n; i++) {
		bool last = i == n - 1;
		struct key_seg *s = &segs[i];
		if (s->is_index) {
			if (cur->type != CFG_LIST)
				return err_setx(e, EINVAL, "%s: part %d is a list index but the value there is a %s",
				                key, i + 1, cfg_type_name(cur->type));
			if (s->index > cur->list.n)
				return err_setx(e, ERANGE, "%s: index %zu is past the end of a list of %zu", key,
				                s->index, cur->list.n);
			if (s->index == cur->list.n) {
				struct cfg_node *nn = last ? value : cfg_new(segs[i + 1].is_index ? CFG_LIST : CFG_MAP);
				if (!nn || cfg_list_append(cur, nn) < 0)
					return err_set(e, ENOMEM, "%s", key);
				cur = nn;
			} else if (last) {
				cfg_free(cur->list.items[s->index]);
				cur->list.items[s->index] = value;
			} else {
				cur = cur->list.items[s->index];
			}
			continue;
		}
		if (cur->type != CFG_MAP)
			return err_setx(e, EINVAL, "%s: cannot set '%s' inside a %s", key, s->name,
			                cfg_type_name(cur->type));
		if (last) {
			if (cfg_map_set(cur, s->name, value) < 0)
				return err_set(e, ENOMEM, "%s", key);
			break;
		}
		struct cfg_node *next = cfg_map_get(cur, s->name);
		bool want_list = segs[i + 1].is_index;
		if (!next || (!want_list && next->type != CFG_MAP) || (want_list && next->type != CFG_LIST)) {
			if (next && next->type != CFG_NULL)
				return err_setx(e, EINVAL, "%s: '%s' is a %s, not a %s", key, s->name,
				                cfg_type_name(next->type), want_list ? "list" : "map");
			next = cfg_new(want_list ? CFG_LIST : CFG_MAP);
			if (!next || cfg_map_set(cur, s->name, next) < 0) {
				cfg_free(next);
				return err_set(e, ENOMEM, "%s", key);
			}
		}
		cur = next;
	}
	return 0;
}

int cfg_unset(struct cfg_node *root, const char *key, struct ros_err *e)
{
	struct key_seg segs[KEY_MAX_SEGS];
	int n = key_split(key, segs, KEY_MAX_SEGS, e);
	if (n < 0)
		return n;
	struct cfg_node *cur = root;
	for (int i = 0; i < n - 1 && cur; i++)
		cur = seg_child(cur, &segs[i]);
	if (!cur)
		return 0;
	struct key_seg *s = &segs[n - 1];
	if (s->is_index) {
		if (cur->type != CFG_LIST || s->index >= cur->list.n)
			return 0;
		cfg_free(cur->list.items[s->index]);
		memmove(&cur->list.items[s->index], &cur->list.items[s->index + 1],
		        (cur->list.n - s->index - 1) * sizeof(void *));
		cur->list.n--;
		return 1;
	}
	return cfg_map_remove(cur, s->name) ? 1 : 0;
}

const char *cfg_get_string(const struct cfg_node *root, const char *key, const char *dflt)
{
	const struct cfg_node *n = cfg_get(root, key);
	return n && n->type == CFG_STRING ? n->s : dflt;
}

long long cfg_get_int(const struct cfg_node *root, const char *key, long long dflt)
{
	const struct cfg_node *n = cfg_get(root, key);
	return n && n->type == CFG_INT ? n->i : dflt;
}

bool cfg_get_bool(const struct cfg_node *root, const char *key, bool dflt)
{
	const struct cfg_node *n = cfg_get(root, key);
	return n && n->type == CFG_BOOL ? n->b : dflt;
}

/* ---- iteration and typed getters ---- */

size_t cfg_map_size(const struct cfg_node *map)
{
	return map && map->type == CFG_MAP ? map->map.n : 0;
}

const char *cfg_map_key_at(const struct cfg_node *map, size_t i)
{
	return i < cfg_map_size(map) ? map->map.keys[i] : NULL;
}

struct cfg_node *cfg_map_value_at(const struct cfg_node *map, size_t i)
{
	return i < cfg_map_size(map) ? map->map.vals[i] : NULL;
}

size_t cfg_list_size(const struct cfg_node *list)
{
	return list && list->type == CFG_LIST ? list->list.n : 0;
}

struct cfg_node *cfg_list_at(const struct cfg_node *list, size_t i)
{
	return i < cfg_list_size(list) ? list->list.items[i] : NULL;
}

static int type_err(const struct cfg_node *n, const char *key, const char *want, struct ros_err *e)
{
	char w[512] = "", got[128], tmp[64];
	if (!n)
		return err_setx(e, ENOENT, "%s: missing, expected %s", key ? key : "value", want);
	if (n->file && n->key_line)
		snprintf(w, sizeof(w), "%s:%d:%d: ", n->file, n->key_line, n->key_col);
	else if (n->file && n->line)
		snprintf(w, sizeof(w), "%s:%d:%d: ", n->file, n->line, n->col);
	if (n->type == CFG_STRING)
		snprintf(got, sizeof(got), "\"%.60s\"", n->s);
	else if (n->type == CFG_MAP || n->type == CFG_LIST)
		snprintf(got, sizeof(got), "a %s", cfg_type_name(n->type));
	else
		snprintf(got, sizeof(got), "%s %s", cfg_type_name(n->type), cfg_scalar_text(n, tmp, sizeof(tmp)));
	return err_setx(e, EINVAL, "%s%s%sexpected %s, got %s", w, key ? key : "", key ? ": " : "", want, got);
}

int cfg_as_string(const struct cfg_node *n, const char *key, const char **out, char *buf, size_t size,
                  struct ros_err *e)
{
	if (!n || n->type == CFG_NULL || n->type == CFG_MAP || n->type == CFG_LIST)
		return type_err(n, key, "string", e);
	if (n->type == CFG_STRING) {
		*out = n->s;
		return 0;
	}
	if (!buf || size == 0)
		return type_err(n, key, "string", e);
	*out = cfg_scalar_text(n, buf, size);
	return 0;
}

int cfg_as_int(const struct cfg_node *n, const char *key, long long *out, struct ros_err *e)
{
	if (!n || n->type != CFG_INT)
		return type_err(n, key, "integer", e);
	*out = n->i;
	return 0;
}

int cfg_as_bool(const struct cfg_node *n, const char *key, bool *out, struct ros_err *e)
{
	if (!n || n->type != CFG_BOOL)
		return type_err(n, key, "boolean", e);
	*out = n->b;
	return 0;
}

/* ---- JSON ---- */

json_t *cfg_to_json(const struct cfg_node *n)
{
	switch (n->type) {
	case CFG_NULL:
		return json_null();
	case CFG_BOOL:
		return json_boolean(n->b);
	case CFG_INT:
		return json_integer(n->i);
	case CFG_FLOAT:
		return isfinite(n->f) ? json_real(n->f) : json_null();
	case CFG_STRING:
		return json_string(n->s);
	case CFG_MAP: {
		json_t *o = json_object();
		for (size_t i = 0; o && i < n->map.n; i++)
			json_object_set_new(o, n->map.keys[i], cfg_to_json(n->map.vals[i]));
		return o;
	}
	case CFG_LIST: {
		json_t *a = json_array();
		for (size_t i = 0; a && i < n->list.n; i++)
			json_array_append_new(a, cfg_to_json(n->list.items[i]));
		return a;
	}
	}
	return json_null();
}

struct cfg_node *cfg_from_json(const json_t *j)
{
	struct cfg_node *n = NULL;
	switch (json_typeof(j)) {
	case JSON_NULL:
		return cfg_new(CFG_NULL);
	case JSON_TRUE:
	case JSON_FALSE:
		return cfg_new_bool(json_is_true(j));
	case JSON_INTEGER:
		return cfg_new_int(json_integer_value(j));
	case JSON_REAL:
		n = cfg_new(CFG_FLOAT);
		if (n)
			n->f = json_real_value(j);
		return n;
	case JSON_STRING:
		return cfg_new_string(json_string_value(j));
	case JSON_OBJECT: {
		n = cfg_new(CFG_MAP);
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)(uintptr_t)j, k, v)
		{
			struct cfg_node *c = cfg_from_json(v);
			if (!n || !c || cfg_map_set(n, k, c) < 0) {
				cfg_free(c);
				cfg_free(n);
				return NULL;
			}
		}
		return n;
	}
	case JSON_ARRAY: {
		n = cfg_new(CFG_LIST);
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v)
		{
			struct cfg_node *c = cfg_from_json(v);
			if (!n || !c || cfg_list_append(n, c) < 0) {
				cfg_free(c);
				cfg_free(n);
				return NULL;
			}
		}
		return n;
	}
	}
	return NULL;
}
