/* SPDX-License-Identifier: MIT */
/*
 * ros engine list|switch: the user container engine.  Each engine is a
 * system service of the same name; ros.engine names the one in use
 * (userctr by default).  switch records the choice, stops the others,
 * enables and starts the chosen one.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "config/config.h"

static const char *const engines[] = {"userctr", NULL};

/* ros.engine in the merged config (userctr when unset). */
static const char *current(void)
{
	static char buf[64];
	struct cfg_node *tree = NULL;
	struct cfg_diag d = {0};
	struct ros_err e = {0};
	snprintf(buf, sizeof(buf), "userctr");
	if (cfg_load_merged(ros_root(), NULL, 0, &tree, &d, &e) == 0) {
		struct cfg_node *n = cfg_get(tree, "ros.engine");
		if (n && n->type == CFG_STRING && n->s)
			snprintf(buf, sizeof(buf), "%s", n->s);
	}
	cfg_diag_free(&d);
	cfg_free(tree);
	return buf;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ros engine list\n"
	           "       ros engine switch NAME\n\n"
	           "The user container engine serves the docker CLI on /var/run/docker.sock.\n"
	           "Engines: userctr (the default).\n");
}

int cmd_engine(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "list")) {
		if (argc != 2) {
			usage(stderr);
			return 2;
		}
		const char *cur = current();
		for (size_t i = 0; engines[i]; i++)
			printf("%s %s\n", strcmp(engines[i], cur) ? " " : "*", engines[i]);
		return 0;
	}
	if (!strcmp(argv[1], "switch")) {
		if (argc != 3) {
			usage(stderr);
			return 2;
		}
		const char *want = argv[2];
		bool known = false;
		for (size_t i = 0; engines[i]; i++)
			known |= !strcmp(engines[i], want);
		if (!known) {
			fprintf(stderr, "ros engine switch: unknown engine %s (engines: userctr)\n", want);
			return 1;
		}
		char name[64], other[64];
		snprintf(name, sizeof(name), "%s", want);
		char *set[] = {"config", "set", "ros.engine", name, NULL};
		if (cmd_config(4, set) != 0)
			return 1;
		for (size_t i = 0; engines[i]; i++) {
			if (!strcmp(engines[i], want))
				continue;
			snprintf(other, sizeof(other), "%s", engines[i]);
			char *stop[] = {"service", "stop", other, NULL};
			cmd_service(3, stop);
		}
		char *enable[] = {"service", "enable", name, NULL};
		char *start[] = {"service", "start", name, NULL};
		if (cmd_service(3, enable) != 0 || cmd_service(3, start) != 0)
			return 1;
		printf("engine: %s\n", want);
		return 0;
	}
	fprintf(stderr, "ros engine: unknown command %s\n", argv[1]);
	usage(stderr);
	return 2;
}
