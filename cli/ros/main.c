/* SPDX-License-Identifier: MIT */
/*
 * ros: the command line that manages a ros machine.  Each subcommand lives
 * in cmd-<name>.c as `int cmd_<name>(int argc, char **argv)` (argv[0] is
 * the subcommand) and is listed in the table below.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"

static const struct ros_cmd commands[] = {
#define ROS_CMD(name, fn, help) {name, fn, help},
#include "commands.def"
#undef ROS_CMD
};

static void usage(FILE *out)
{
	fprintf(out, "usage: ros [--root DIR] COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "\nRun 'ros COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
	/* As sysctr: no /dev/urandom read for jansson's hash seed, which early in
	 * a boot (`ros cloud-init`) makes the kernel gather jitter entropy first. */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	json_object_seed((size_t)ts.tv_nsec ^ ((size_t)getpid() << 20));
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--root") && i + 1 < argc) {
			ros_root_set(argv[++i]);
		} else if (!strncmp(argv[i], "--root=", 7)) {
			ros_root_set(argv[i] + 7);
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--version")) {
			printf("ros version %s\n", ROS_VERSION);
			return 0;
		} else {
			fprintf(stderr, "ros: unknown option %s\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (!strcmp(argv[i], commands[c].name))
			return commands[c].fn(argc - i, argv + i);
	fprintf(stderr, "ros: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return 2;
}
