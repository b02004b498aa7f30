/* SPDX-License-Identifier: MIT */
#pragma once
/*
 * The config tree: YAML (libyaml) or JSON -> one in-memory tree of maps,
 * lists and typed scalars (YAML 1.2 core schema); deep merge; dotted keys;
 * the schema of every key ros understands; the layered, merged machine
 * config with last-known-good fallback.  Never prints, never exits.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/err.h"

enum cfg_type { CFG_NULL, CFG_BOOL, CFG_INT, CFG_FLOAT, CFG_STRING, CFG_MAP, CFG_LIST };

struct cfg_node {
	enum cfg_type type;
	union {
		bool b;
		long long i;
		double f;
		char *s;
		struct {
			char **keys;
			struct cfg_node **vals;
			size_t n, cap;
			/* private: a hash index (slot = position + 1) once a map
			 * is large, so lookups and loading stay linear */
			unsigned *index;
			size_t index_cap;
		} map;
		struct {
			struct cfg_node **items;
			size_t n, cap;
		} list;
	};
	const char *file;      /* interned; NULL when made in code */
	int line, col;         /* 1-based; 0 when unknown */
	int key_line, key_col; /* where the map key naming this value is; 0 when none */
};

/* Limits that keep a hostile file from exhausting memory. */
#define CFG_MAX_FILE_SIZE (4u << 20)
#define CFG_MAX_DEPTH 64
#define CFG_MAX_NODES 200000

/* ---- nodes ---- */
struct cfg_node *cfg_new(enum cfg_type t);
struct cfg_node *cfg_new_string(const char *s);
struct cfg_node *cfg_new_int(long long i);
struct cfg_node *cfg_new_bool(bool b);
void cfg_free(struct cfg_node *n);
struct cfg_node *cfg_copy(const struct cfg_node *n);
const char *cfg_type_name(enum cfg_type t);
/* Map helpers: lookup by exact key; set replaces (takes ownership of v). */
struct cfg_node *cfg_map_get(const struct cfg_node *map, const char *key);
int cfg_map_set(struct cfg_node *map, const char *key, struct cfg_node *v);
bool cfg_map_remove(struct cfg_node *map, const char *key);
int cfg_list_append(struct cfg_node *list, struct cfg_node *v);
/* A scalar as text (bool true/false, numbers in YAML form); NULL for maps/lists. */
const char *cfg_scalar_text(const struct cfg_node *n, char *buf, size_t size);
/* Resolves a plain YAML scalar by the core schema into a new node. */
struct cfg_node *cfg_resolve_plain(const char *s);

/* Iteration: out-of-range or wrong-type gives 0 / NULL.
 *   for (size_t i = 0; i < cfg_map_size(m); i++)
 *           use(cfg_map_key_at(m, i), cfg_map_value_at(m, i));  */
size_t cfg_map_size(const struct cfg_node *map);
const char *cfg_map_key_at(const struct cfg_node *map, size_t i);
struct cfg_node *cfg_map_value_at(const struct cfg_node *map, size_t i);
size_t cfg_list_size(const struct cfg_node *list);
struct cfg_node *cfg_list_at(const struct cfg_node *list, size_t i);
/* Typed scalar getters.  A wrong type is -EINVAL with a message that names
 * the node's place and the key (`key`, may be NULL) the caller asked for:
 *   "cloud-config.yml:12:5: ros.network.interfaces.eth0.mtu: expected integer, got \"big\"".
 * cfg_as_string accepts any scalar except null (numbers and bools as their
 * YAML text, in buf when not a string); cfg_as_int and cfg_as_bool want that
 * exact type. */
int cfg_as_string(const struct cfg_node *n, const char *key, const char **out, char *buf, size_t size,
                  struct ros_err *e);
int cfg_as_int(const struct cfg_node *n, const char *key, long long *out, struct ros_err *e);
int cfg_as_bool(const struct cfg_node *n, const char *key, bool *out, struct ros_err *e);

/* ---- YAML / JSON ---- */
/* Parses one YAML document (an empty document gives an empty map).  Errors
 * read "FILE:LINE:COL: what was expected". */
int cfg_parse_yaml(const char *buf, size_t len, const char *filename, struct cfg_node **out, struct ros_err *e);
int cfg_parse_file(const char *path, struct cfg_node **out, struct ros_err *e);
/* Parses one value as YAML, as `ros config set` and `ros.KEY=VALUE` take it:
 * a plain scalar by the core schema, "[a, b]", "{k: v}", "'quoted'". The
 * node carries no file position; `origin` names it in errors. */
struct cfg_node *cfg_parse_value(const char *v, const char *origin, struct ros_err *e);
/* Emits YAML; strings that would read back as another type are quoted. */
int cfg_emit_yaml(const struct cfg_node *n, FILE *f, struct ros_err *e);
char *cfg_to_yaml_string(const struct cfg_node *n);
json_t *cfg_to_json(const struct cfg_node *n);
struct cfg_node *cfg_from_json(const json_t *j);

/* ---- merge, keys ---- */
/* Deep merge of src into dst: maps merge, lists and scalars are replaced. */
int cfg_merge(struct cfg_node *dst, const struct cfg_node *src);
/* Dotted keys: a.b.c, list indexes a.b[0], quoted map keys a."x.y" or a["x.y"]. */
struct cfg_node *cfg_get(const struct cfg_node *root, const char *key);
int cfg_set(struct cfg_node *root, const char *key, struct cfg_node *value, struct ros_err *e);
/* Returns 1 when removed, 0 when the key was not there. */
int cfg_unset(struct cfg_node *root, const char *key, struct ros_err *e);
/* Convenience getters on a dotted key, with fallbacks. */
const char *cfg_get_string(const struct cfg_node *root, const char *key, const char *dflt);
long long cfg_get_int(const struct cfg_node *root, const char *key, long long dflt);
bool cfg_get_bool(const struct cfg_node *root, const char *key, bool dflt);

/* ---- schema ---- */
struct cfg_diag {
	size_t n;
	struct cfg_diag_item {
		bool error; /* false: warning */
		char *msg;
	} * items;
};
void cfg_diag_add(struct cfg_diag *d, bool error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
size_t cfg_diag_errors(const struct cfg_diag *d);
void cfg_diag_free(struct cfg_diag *d);

/* Validates a tree against the schema. Type and value errors are errors;
 * unknown keys are warnings (errors when strict).  Returns the number of
 * errors added. */
size_t cfg_validate(const struct cfg_node *root, bool strict, struct cfg_diag *d);
/* The defaults the schema gives (the same as configs/os-config.yml, which a
 * unit test checks): the bottom of the merge, so a missing image layer still
 * leaves every key ros needs. */
struct cfg_node *cfg_schema_defaults(void);
/* Is this dotted path (of concrete keys) a secret (password, private key)? */
bool cfg_is_secret_path(const char *path);
/* Copy of n without secrets. */
struct cfg_node *cfg_strip_secrets(const struct cfg_node *n);

/* ---- the machine config ---- */
#define CFG_PATH_IMAGE "/usr/share/ros/os-config.yml"
#define CFG_PATH_OEM "/usr/share/ros/oem/oem-config.yml"
#define CFG_DIR_CONF "/var/lib/ros/conf"
#define CFG_DIR_CLOUD_D "/var/lib/ros/conf/cloud-config.d"
#define CFG_PATH_USER "/var/lib/ros/conf/cloud-config.yml"

/* Parses a kernel command line: ros.a.b=VALUE (VALUE as YAML) and
 * cloud-config-url=URL; everything after "--" becomes
 * ros.environment.EXTRA_CMDLINE.  Bad values are diagnostics, not failures. */
int cfg_parse_cmdline(const char *cmdline, struct cfg_node **out, struct cfg_diag *d, struct ros_err *e);

enum cfg_load_flags {
	CFG_LOAD_BOOT = 1 << 0, /* set aside a bad writable layer (rename + reason file) */
	CFG_LOAD_NO_CMDLINE = 1 << 1,
};
/* Merges every layer under root ("" for /).  cmdline NULL reads
 * ROOT/proc/cmdline.  A layer that fails to parse or validate is reported
 * in d and replaced by its last good copy (ROOT/var/lib/ros/conf/.good/);
 * never fails for a bad layer, only for a system error. */
int cfg_load_merged(const char *root, const char *cmdline, unsigned flags, struct cfg_node **out, struct cfg_diag *d,
                    struct ros_err *e);
/* Writes a layer atomically (mode 0600) and records it as the good copy. */
int cfg_write_layer(const char *root, const char *abs_path, const struct cfg_node *n, struct ros_err *e);
