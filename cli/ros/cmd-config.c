/* SPDX-License-Identifier: MIT */
/* ros config: get, set, merge, export, validate, unset. */
#define _GNU_SOURCE
#include <dirent.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "config/config.h"
#include "core/cleanup.h"
#include "core/fs.h"

static void print_diag(const struct cfg_diag *d, bool errors_only)
{
	for (size_t i = 0; i < d->n; i++)
		if (!errors_only || d->items[i].error)
			fprintf(stderr, "%s: %s\n", d->items[i].error ? "error" : "warning", d->items[i].msg);
}

static int load_merged(struct cfg_node **tree)
{
	struct cfg_diag d = {0};
	struct ros_err e = {0};
	int r = cfg_load_merged(ros_root(), NULL, 0, tree, &d, &e);
	cfg_diag_free(&d);
	if (r < 0) {
		fprintf(stderr, "ros config: %s\n", err_msg(&e));
		return -1;
	}
	return 0;
}

/* The user layer (cloud-config.yml), or an empty map. */
static int load_user_layer(struct cfg_node **out)
{
	char p[PATH_MAX];
	ros_path(p, sizeof(p), CFG_PATH_USER);
	struct ros_err e = {0};
	int r = cfg_parse_file(p, out, &e);
	if (r == -ENOENT) {
		*out = cfg_new(CFG_MAP);
		return *out ? 0 : -1;
	}
	if (r < 0) {
		fprintf(stderr, "ros config: %s\n", err_msg(&e));
		return -1;
	}
	return 0;
}

/* Validates the layer; prints every message; refuses it on errors. */
static int validate_and_write(struct cfg_node *layer)
{
	struct cfg_diag d = {0};
	size_t errors = cfg_validate(layer, false, &d);
	print_diag(&d, false);
	cfg_diag_free(&d);
	if (errors) {
		fprintf(stderr, "ros config: not written: %zu error%s\n", errors, errors == 1 ? "" : "s");
		return 1;
	}
	struct ros_err e = {0};
	if (cfg_write_layer(ros_root(), CFG_PATH_USER, layer, &e) < 0) {
		fprintf(stderr, "ros config: %s\n", err_msg(&e));
		return 1;
	}
	return 0;
}

static int print_node(const struct cfg_node *n)
{
	char buf[64];
	if (n->type == CFG_MAP || n->type == CFG_LIST) {
		struct ros_err e = {0};
		if (cfg_emit_yaml(n, stdout, &e) < 0) {
			fprintf(stderr, "ros config: %s\n", err_msg(&e));
			return 1;
		}
		return 0;
	}
	if (n->type == CFG_NULL)
		return 0;
	printf("%s\n", cfg_scalar_text(n, buf, sizeof(buf)));
	return 0;
}

static bool want_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return false;
}

static int config_get(int argc, char **argv)
{
	if (want_help(argc, argv)) {
		printf("usage: ros config get KEY\n\nPrints KEY of the merged config: scalars bare, maps and lists "
		       "as YAML.\nKeys are dotted: ros.network.interfaces.eth0.addresses[0]; quote keys with dots: "
		       "ros.environment.\"a.b\".\nExit status 1 when the key is not set.\n");
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: ros config get KEY\n");
		return 2;
	}
	struct cfg_node *tree = NULL;
	if (load_merged(&tree) < 0)
		return 1;
	struct cfg_node *n = cfg_get(tree, argv[1]);
	int rc = n ? print_node(n) : 1;
	if (!n)
		fprintf(stderr, "ros config: %s: not set\n", argv[1]);
	cfg_free(tree);
	return rc;
}

static struct cfg_node *parse_cli_value(const char *v)
{
	/* A value as YAML: "[a, b]", "true", "'quoted string'"; what is not a
	 * one-line YAML value is taken as a plain string. */
	struct ros_err e = {0};
	struct cfg_node *n = strchr(v, '\n') ? NULL : cfg_parse_value(v, "value", &e);
	return n ? n : cfg_new_string(v);
}

static int config_set(int argc, char **argv)
{
	if (want_help(argc, argv)) {
		printf("usage: ros config set KEY VALUE\n\nSets KEY in %s. VALUE is read as YAML (true, 42, "
		       "[a, b], 'a string'),\nand the result is validated before it is written.\n",
		       CFG_PATH_USER);
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: ros config set KEY VALUE\n");
		return 2;
	}
	struct cfg_node *layer = NULL;
	if (load_user_layer(&layer) < 0)
		return 1;
	struct cfg_node *v = parse_cli_value(argv[2]);
	struct ros_err e = {0};
	if (!v || cfg_set(layer, argv[1], v, &e) < 0) {
		cfg_free(v);
		cfg_free(layer);
		fprintf(stderr, "ros config set: %s\n", v ? err_msg(&e) : "out of memory");
		return 1;
	}
	int rc = validate_and_write(layer);
	cfg_free(layer);
	return rc;
}

static int config_unset(int argc, char **argv)
{
	if (want_help(argc, argv)) {
		printf("usage: ros config unset KEY\n\nRemoves KEY from %s.\n", CFG_PATH_USER);
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: ros config unset KEY\n");
		return 2;
	}
	struct cfg_node *layer = NULL;
	if (load_user_layer(&layer) < 0)
		return 1;
	struct ros_err e = {0};
	int r = cfg_unset(layer, argv[1], &e);
	int rc = 0;
	if (r < 0) {
		fprintf(stderr, "ros config unset: %s\n", err_msg(&e));
		rc = 1;
	} else if (r == 0) {
		fprintf(stderr, "ros config unset: %s: not set\n", argv[1]);
		rc = 1;
	} else {
		rc = validate_and_write(layer);
	}
	cfg_free(layer);
	return rc;
}

/* Reads -i FILE or stdin as YAML. */
static int read_input(const char *file, struct cfg_node **out)
{
	struct ros_err e = {0};
	int r;
	if (file && strcmp(file, "-") != 0) {
		r = cfg_parse_file(file, out, &e);
	} else {
		cleanup_free char *buf = NULL;
		size_t len = 0;
		r = fs_read_fd(0, CFG_MAX_FILE_SIZE, &buf, &len, &e);
		if (r >= 0)
			r = cfg_parse_yaml(buf, len, "<stdin>", out, &e);
	}
	if (r < 0) {
		fprintf(stderr, "ros config: %s\n", err_msg(&e));
		return -1;
	}
	if ((*out)->type != CFG_MAP) {
		fprintf(stderr, "ros config: %s: expected a map at the top level, got a %s\n", file ? file : "<stdin>",
		        cfg_type_name((*out)->type));
		cfg_free(*out);
		return -1;
	}
	return 0;
}

static int config_merge(int argc, char **argv)
{
	const char *input = NULL;
	static const struct option opts[] = {
	        {"input", required_argument, NULL, 'i'}, {"help", no_argument, NULL, 'h'}, {0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "i:h", opts, NULL)) != -1) {
		if (c == 'i') {
			input = optarg;
		} else if (c == 'h') {
			printf("usage: ros config merge [-i FILE]\n\nDeep-merges YAML (stdin by default) into %s "
			       "after validating it:\nmaps merge, lists and scalars are replaced.\n",
			       CFG_PATH_USER);
			return 0;
		} else {
			return 2;
		}
	}
	struct cfg_node *in = NULL, *layer = NULL;
	if (read_input(input, &in) < 0)
		return 1;
	struct cfg_diag d = {0};
	size_t errors = cfg_validate(in, false, &d);
	print_diag(&d, false);
	cfg_diag_free(&d);
	if (errors) {
		fprintf(stderr, "ros config merge: not merged: %zu error%s\n", errors, errors == 1 ? "" : "s");
		cfg_free(in);
		return 1;
	}
	if (load_user_layer(&layer) < 0) {
		cfg_free(in);
		return 1;
	}
	cfg_merge(layer, in);
	cfg_free(in);
	int rc = validate_and_write(layer);
	cfg_free(layer);
	return rc;
}

static int config_export(int argc, char **argv)
{
	const char *output = NULL;
	bool full = false, private = false;
	static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
	                                     {"full", no_argument, NULL, 'f'},
	                                     {"private", no_argument, NULL, 'p'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:fph", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'f':
			full = true;
			break;
		case 'p':
			private
			= true;
			break;
		case 'h':
			printf("usage: ros config export [-o FILE] [--full] [--private]\n\nPrints the user config "
			       "(%s), or with --full the whole merged config.\nSecrets (passwords, private keys, "
			       "tokens) are left out unless --private.\n",
			       CFG_PATH_USER);
			return 0;
		default:
			return 2;
		}
	}
	struct cfg_node *tree = NULL;
	if (full ? load_merged(&tree) < 0 : load_user_layer(&tree) < 0)
		return 1;
	if (!private) {
		struct cfg_node *s = cfg_strip_secrets(tree);
		cfg_free(tree);
		tree = s;
		if (!tree)
			return 1;
	}
	cleanup_free char *yaml = cfg_to_yaml_string(tree);
	cfg_free(tree);
	if (!yaml)
		return 1;
	if (output) {
		struct ros_err e = {0};
		if (fs_write_atomic(output, yaml, strlen(yaml), private ? 0600 : 0644, &e) < 0) {
			fprintf(stderr, "ros config export: %s\n", err_msg(&e));
			return 1;
		}
		return 0;
	}
	fputs(yaml, stdout);
	return 0;
}

/* Lists layers set aside at boot, with their reasons. */
static int show_rejected(const char *dir_abs)
{
	char dir[PATH_MAX];
	ros_path(dir, sizeof(dir), dir_abs);
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int k = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l < 16 || strcmp(de->d_name + l - 16, ".rejected.reason") != 0)
			continue;
		char p[PATH_MAX + 256];
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		cleanup_free char *why = NULL;
		if (fs_read_all(p, 8192, &why, NULL, NULL) == 0) {
			fprintf(stderr, "error: %s/%.*s: %s", dir, (int)(l - 7), de->d_name, why);
			k++;
		}
	}
	closedir(d);
	return k;
}

static int config_validate(int argc, char **argv)
{
	const char *input = NULL;
	bool strict = false;
	static const struct option opts[] = {{"input", required_argument, NULL, 'i'},
	                                     {"strict", no_argument, NULL, 's'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "i:sh", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			input = optarg;
			break;
		case 's':
			strict = true;
			break;
		case 'h':
			printf("usage: ros config validate [-i FILE] [--strict]\n\nChecks FILE (or stdin with -i -), "
			       "or every config layer of this machine and the layers\nset aside at boot. Unknown keys "
			       "are warnings, errors with --strict.\n");
			return 0;
		default:
			return 2;
		}
	}
	size_t errors = 0;
	if (input) {
		struct cfg_node *in = NULL;
		if (read_input(input, &in) < 0)
			return 1;
		struct cfg_diag d = {0};
		errors = cfg_validate(in, strict, &d);
		print_diag(&d, false);
		cfg_diag_free(&d);
		cfg_free(in);
	} else {
		struct cfg_diag d = {0};
		struct ros_err e = {0};
		struct cfg_node *tree = NULL;
		if (cfg_load_merged(ros_root(), NULL, 0, &tree, &d, &e) < 0) {
			fprintf(stderr, "ros config: %s\n", err_msg(&e));
			return 1;
		}
		if (strict)
			for (size_t i = 0; i < d.n; i++)
				d.items[i].error = true;
		errors = cfg_diag_errors(&d);
		print_diag(&d, false);
		cfg_diag_free(&d);
		cfg_free(tree);
		errors += (size_t)show_rejected(CFG_DIR_CONF);
		errors += (size_t)show_rejected(CFG_DIR_CLOUD_D);
	}
	if (errors) {
		fprintf(stderr, "%zu error%s\n", errors, errors == 1 ? "" : "s");
		return 1;
	}
	printf("ok\n");
	return 0;
}

int cmd_config(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} subs[] = {{"get", config_get},     {"set", config_set},       {"unset", config_unset},
	            {"merge", config_merge}, {"export", config_export}, {"validate", config_validate}};
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		FILE *out = argc < 2 ? stderr : stdout;
		fprintf(out, "usage: ros config COMMAND\n\n"
		             "  get KEY                      print a key of the merged config\n"
		             "  set KEY VALUE                set a key (VALUE is YAML)\n"
		             "  unset KEY                    remove a key\n"
		             "  merge [-i FILE]              merge YAML into the config\n"
		             "  export [-o FILE] [--full] [--private]\n"
		             "  validate [-i FILE] [--strict]\n");
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "ros config: unknown command '%s'\n", argv[1]);
	return 2;
}
