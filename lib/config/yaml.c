/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config.h"
#include "core/cleanup.h"
#include "core/fs.h"

/* File names are interned for the life of the process so nodes can point
 * at them after merges; there are only ever a handful of config files. */
static const char *intern(const char *name)
{
	static struct interned {
		struct interned *next;
		char name[];
	} * head;
	if (!name)
		return NULL;
	for (struct interned *i = head; i; i = i->next)
		if (!strcmp(i->name, name))
			return i->name;
	struct interned *i = malloc(sizeof(*i) + strlen(name) + 1);
	if (!i)
		return NULL;
	strcpy(i->name, name);
	i->next = head;
	head = i;
	return i->name;
}

struct anchor {
	char *name;
	struct cfg_node *node;
};

struct parse_ctx {
	yaml_parser_t parser;
	const char *file;
	size_t nodes;
	struct anchor *anchors;
	size_t n_anchors;
	struct ros_err *e;
};

static int parse_node(struct parse_ctx *c, yaml_event_t *ev, int depth, struct cfg_node **out);

static int ctx_error(struct parse_ctx *c, const yaml_mark_t *m, const char *fmt, const char *arg)
{
	char what[512];
	snprintf(what, sizeof(what), fmt, arg);
	return err_setx(c->e, EINVAL, "%s:%zu:%zu: %s", c->file, m->line + 1, m->column + 1, what);
}

static int next_event(struct parse_ctx *c, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&c->parser, ev)) {
		const char *problem = c->parser.problem ? c->parser.problem : "syntax error";
		char what[512];
		if (c->parser.context)
			snprintf(what, sizeof(what), "%s %s", problem, c->parser.context);
		else
			snprintf(what, sizeof(what), "%s", problem);
		return err_setx(c->e, EINVAL, "%s:%zu:%zu: %s", c->file, c->parser.problem_mark.line + 1,
		                c->parser.problem_mark.column + 1, what);
	}
	return 0;
}

static void set_pos(struct parse_ctx *c, struct cfg_node *n, const yaml_mark_t *m)
{
	n->file = c->file;
	n->line = (int)m->line + 1;
	n->col = (int)m->column + 1;
}

/* Counts nodes of a subtree against the budget (aliases are copies). */
static size_t count_nodes(const struct cfg_node *n)
{
	size_t k = 1;
	if (n->type == CFG_MAP)
		for (size_t i = 0; i < n->map.n; i++)
			k += count_nodes(n->map.vals[i]);
	else if (n->type == CFG_LIST)
		for (size_t i = 0; i < n->list.n; i++)
			k += count_nodes(n->list.items[i]);
	return k;
}

static int remember_anchor(struct parse_ctx *c, const yaml_char_t *name, struct cfg_node *n)
{
	if (!name)
		return 0;
	if (c->n_anchors >= 1024)
		return err_setx(c->e, E2BIG, "%s: too many anchors", c->file);
	struct anchor *a = realloc(c->anchors, (c->n_anchors + 1) * sizeof(*a));
	if (!a)
		return err_set(c->e, ENOMEM, "%s", c->file);
	c->anchors = a;
	a[c->n_anchors].name = strdup((const char *)name);
	a[c->n_anchors].node = n; /* borrowed: lives in the tree being built */
	if (!a[c->n_anchors].name)
		return err_set(c->e, ENOMEM, "%s", c->file);
	c->n_anchors++;
	return 0;
}

static int scalar_node(struct parse_ctx *c, yaml_event_t *ev, struct cfg_node **out)
{
	const char *v = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;
	struct cfg_node *n;
	if (tag && !strcmp(tag, YAML_STR_TAG))
		n = cfg_new_string(v);
	else if (tag && strcmp(tag, "!") != 0) {
		n = cfg_resolve_plain(v);
		if (n && ((!strcmp(tag, YAML_INT_TAG) && n->type != CFG_INT) ||
		          (!strcmp(tag, YAML_BOOL_TAG) && n->type != CFG_BOOL) ||
		          (!strcmp(tag, YAML_NULL_TAG) && n->type != CFG_NULL) ||
		          (!strcmp(tag, YAML_FLOAT_TAG) && n->type != CFG_FLOAT && n->type != CFG_INT))) {
			cfg_free(n);
			return ctx_error(c, &ev->start_mark, "value does not match its tag %s", tag);
		}
		if (n && !strcmp(tag, YAML_FLOAT_TAG) && n->type == CFG_INT) {
			double f = (double)n->i;
			n->type = CFG_FLOAT;
			n->f = f;
		}
	} else if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !tag)
		n = cfg_resolve_plain(v);
	else
		n = cfg_new_string(v);
	if (!n)
		return err_set(c->e, ENOMEM, "%s", c->file);
	set_pos(c, n, &ev->start_mark);
	*out = n;
	return 0;
}

static int parse_node(struct parse_ctx *c, yaml_event_t *ev, int depth, struct cfg_node **out)
{
	if (depth > CFG_MAX_DEPTH)
		return ctx_error(c, &ev->start_mark, "nesting deeper than %s levels", "64");
	if (++c->nodes > CFG_MAX_NODES)
		return ctx_error(c, &ev->start_mark, "more than %s nodes", "200000");

	switch (ev->type) {
	case YAML_SCALAR_EVENT: {
		int r = scalar_node(c, ev, out);
		if (r < 0)
			return r;
		return remember_anchor(c, ev->data.scalar.anchor, *out);
	}
	case YAML_ALIAS_EVENT: {
		const char *name = (const char *)ev->data.alias.anchor;
		for (size_t i = c->n_anchors; i-- > 0;)
			if (!strcmp(c->anchors[i].name, name)) {
				c->nodes += count_nodes(c->anchors[i].node);
				if (c->nodes > CFG_MAX_NODES)
					return ctx_error(c, &ev->start_mark, "alias *%s expands past the node limit",
					                 name);
				*out = cfg_copy(c->anchors[i].node);
				if (!*out)
					return err_set(c->e, ENOMEM, "%s", c->file);
				return 0;
			}
		return ctx_error(c, &ev->start_mark, "unknown alias *%s", name);
	}
	case YAML_SEQUENCE_START_EVENT: {
		struct cfg_node *list = cfg_new(CFG_LIST);
		if (!list)
			return err_set(c->e, ENOMEM, "%s", c->file);
		set_pos(c, list, &ev->start_mark);
		int r = remember_anchor(c, ev->data.sequence_start.anchor, list);
		for (;;) {
			yaml_event_t item;
			if (r < 0 || (r = next_event(c, &item)) < 0)
				break;
			if (item.type == YAML_SEQUENCE_END_EVENT) {
				yaml_event_delete(&item);
				*out = list;
				return 0;
			}
			struct cfg_node *child = NULL;
			r = parse_node(c, &item, depth + 1, &child);
			yaml_event_delete(&item);
			if (r >= 0 && cfg_list_append(list, child) < 0) {
				cfg_free(child);
				r = err_set(c->e, ENOMEM, "%s", c->file);
			}
		}
		cfg_free(list);
		return r;
	}
	case YAML_MAPPING_START_EVENT: {
		struct cfg_node *map = cfg_new(CFG_MAP);
		if (!map)
			return err_set(c->e, ENOMEM, "%s", c->file);
		set_pos(c, map, &ev->start_mark);
		int r = remember_anchor(c, ev->data.mapping_start.anchor, map);
		for (;;) {
			yaml_event_t kev, vev;
			if (r < 0 || (r = next_event(c, &kev)) < 0)
				break;
			if (kev.type == YAML_MAPPING_END_EVENT) {
				yaml_event_delete(&kev);
				*out = map;
				return 0;
			}
			if (kev.type != YAML_SCALAR_EVENT) {
				r = ctx_error(c, &kev.start_mark, "expected a scalar map key, got a %s",
				              kev.type == YAML_ALIAS_EVENT ? "alias" : "collection");
				yaml_event_delete(&kev);
				break;
			}
			char *key = strdup((const char *)kev.data.scalar.value);
			yaml_mark_t kmark = kev.start_mark;
			yaml_event_delete(&kev);
			if (!key) {
				r = err_set(c->e, ENOMEM, "%s", c->file);
				break;
			}
			if ((r = next_event(c, &vev)) < 0) {
				free(key);
				break;
			}
			struct cfg_node *child = NULL;
			r = parse_node(c, &vev, depth + 1, &child);
			yaml_event_delete(&vev);
			if (r < 0) {
				free(key);
				break;
			}
			child->key_line = (int)kmark.line + 1;
			child->key_col = (int)kmark.column + 1;
			if (!strcmp(key, "<<") && child->type == CFG_MAP) {
				/* YAML merge key: earlier explicit keys win. */
				for (size_t i = 0; i < child->map.n; i++)
					if (!cfg_map_get(map, child->map.keys[i])) {
						struct cfg_node *cp = cfg_copy(child->map.vals[i]);
						if (!cp || cfg_map_set(map, child->map.keys[i], cp) < 0)
							cfg_free(cp);
					}
				cfg_free(child);
			} else if (cfg_map_get(map, key)) {
				r = ctx_error(c, &kmark, "duplicate key '%s'", key);
				cfg_free(child);
			} else if (cfg_map_set(map, key, child) < 0) {
				cfg_free(child);
				r = err_set(c->e, ENOMEM, "%s", c->file);
			}
			free(key);
		}
		cfg_free(map);
		return r;
	}
	default:
		return ctx_error(c, &ev->start_mark, "unexpected YAML event %s", "");
	}
}

int cfg_parse_yaml(const char *buf, size_t len, const char *filename, struct cfg_node **out, struct ros_err *e)
{
	struct parse_ctx c = {.file = intern(filename ? filename : "<input>"), .e = e};
	if (!c.file)
		c.file = "<input>";
	if (len > CFG_MAX_FILE_SIZE)
		return err_setx(e, EFBIG, "%s: larger than %u bytes", c.file, CFG_MAX_FILE_SIZE);
	if (!yaml_parser_initialize(&c.parser))
		return err_set(e, ENOMEM, "%s", c.file);
	yaml_parser_set_input_string(&c.parser, (const unsigned char *)buf, len);

	struct cfg_node *root = NULL;
	int r = 0;
	bool in_doc = false, done = false;
	while (!done && r >= 0) {
		yaml_event_t ev;
		if ((r = next_event(&c, &ev)) < 0)
			break;
		switch (ev.type) {
		case YAML_STREAM_START_EVENT:
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (root)
				r = ctx_error(&c, &ev.start_mark, "more than one YAML document%s", "");
			in_doc = true;
			break;
		case YAML_DOCUMENT_END_EVENT:
			in_doc = false;
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			if (!in_doc || root) {
				r = ctx_error(&c, &ev.start_mark, "unexpected content%s", "");
				break;
			}
			r = parse_node(&c, &ev, 0, &root);
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&c.parser);
	for (size_t i = 0; i < c.n_anchors; i++)
		free(c.anchors[i].name);
	free(c.anchors);
	if (r < 0) {
		cfg_free(root);
		return r;
	}
	if (!root || root->type == CFG_NULL) {
		cfg_free(root);
		root = cfg_new(CFG_MAP);
		if (!root)
			return err_set(e, ENOMEM, "%s", c.file);
	}
	*out = root;
	return 0;
}

int cfg_parse_file(const char *path, struct cfg_node **out, struct ros_err *e)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;
	int r = fs_read_all(path, CFG_MAX_FILE_SIZE, &buf, &len, e);
	if (r < 0)
		return r;
	if (memchr(buf, '\0', len))
		return err_setx(e, EINVAL, "%s: contains a NUL byte; not a YAML text file", path);
	return cfg_parse_yaml(buf, len, path, out, e);
}

/* ---- emitter ---- */

static int emit(yaml_emitter_t *em, yaml_event_t *ev)
{
	return yaml_emitter_emit(em, ev) ? 0 : -EIO;
}

static int emit_scalar(yaml_emitter_t *em, const char *s, bool force_quote)
{
	yaml_event_t ev;
	yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;
	if (force_quote)
		style = strchr(s, '\n') ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_SINGLE_QUOTED_SCALAR_STYLE;
	else if (strchr(s, '\n'))
		style = YAML_LITERAL_SCALAR_STYLE;
	yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)(uintptr_t)s, (int)strlen(s), 1, 1, style);
	return emit(em, &ev);
}

/* Would this string read back as something other than a string? */
static bool needs_quotes(const char *s)
{
	struct cfg_node *n = cfg_resolve_plain(s);
	bool q = !n || n->type != CFG_STRING;
	cfg_free(n);
	return q;
}

static int emit_node(yaml_emitter_t *em, const struct cfg_node *n)
{
	yaml_event_t ev;
	char buf[64];
	int r;
	switch (n->type) {
	case CFG_MAP:
		yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
		if ((r = emit(em, &ev)) < 0)
			return r;
		for (size_t i = 0; i < n->map.n; i++) {
			if ((r = emit_scalar(em, n->map.keys[i], needs_quotes(n->map.keys[i]))) < 0 ||
			    (r = emit_node(em, n->map.vals[i])) < 0)
				return r;
		}
		yaml_mapping_end_event_initialize(&ev);
		return emit(em, &ev);
	case CFG_LIST:
		yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
		if ((r = emit(em, &ev)) < 0)
			return r;
		for (size_t i = 0; i < n->list.n; i++)
			if ((r = emit_node(em, n->list.items[i])) < 0)
				return r;
		yaml_sequence_end_event_initialize(&ev);
		return emit(em, &ev);
	case CFG_STRING:
		return emit_scalar(em, n->s, needs_quotes(n->s));
	default:
		return emit_scalar(em, cfg_scalar_text(n, buf, sizeof(buf)), false);
	}
}

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
	return fwrite(buffer, 1, size, data) == size;
}

int cfg_emit_yaml(const struct cfg_node *n, FILE *f, struct ros_err *e)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	if (!yaml_emitter_initialize(&em))
		return err_set(e, ENOMEM, "yaml emitter");
	yaml_emitter_set_output(&em, write_handler, f);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	int r = 0;
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	r = emit(&em, &ev);
	if (r >= 0) {
		yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
		r = emit(&em, &ev);
	}
	if (r >= 0)
		r = emit_node(&em, n);
	if (r >= 0) {
		yaml_document_end_event_initialize(&ev, 1);
		r = emit(&em, &ev);
	}
	if (r >= 0) {
		yaml_stream_end_event_initialize(&ev);
		r = emit(&em, &ev);
	}
	if (r < 0)
		r = err_setx(e, EIO, "emit YAML: %s", em.problem ? em.problem : "write failed");
	yaml_emitter_delete(&em);
	return r;
}

char *cfg_to_yaml_string(const struct cfg_node *n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	int r = cfg_emit_yaml(n, f, NULL);
	fclose(f);
	if (r < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
