/* SPDX-License-Identifier: MIT */
/* ros cloud-init: fetch user-data from the datasources and apply it. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "config/cloudinit.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: ros cloud-init [--stage early|late|all] [--no-fetch] [--force] [--timeout SEC]\n"
	             "                      [--cmdline STRING] [--strict]\n\n"
	             "Finds user-data in the datasources of ros.cloud_init.datasources (default: nocloud,\n"
	             "configdrive, url), saves it under /var/lib/ros/conf/cloud-config.d and applies the\n"
	             "cloud-config modules. Once-per-instance modules (users, ssh keys, write_files, runcmd,\n"
	             "scripts) do not run again on a reboot unless --force. Failures are reported per module;\n"
	             "the rest goes on. Exit status: 0, or 1 with --strict when a module failed.\n");
}

int cmd_cloud_init(int argc, char **argv)
{
	struct ci_opts o = {.root = ros_root(), .timeout_s = 5};
	enum ci_stage stage = CI_STAGE_ALL;
	bool strict = false;
	static const struct option opts[] = {{"stage", required_argument, NULL, 's'},
	                                     {"no-fetch", no_argument, NULL, 'n'},
	                                     {"force", no_argument, NULL, 'f'},
	                                     {"timeout", required_argument, NULL, 't'},
	                                     {"cmdline", required_argument, NULL, 'c'},
	                                     {"no-devices", no_argument, NULL, 'D'},
	                                     {"strict", no_argument, NULL, 'S'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!strcmp(optarg, "early"))
				stage = CI_STAGE_EARLY;
			else if (!strcmp(optarg, "late"))
				stage = CI_STAGE_LATE;
			else if (!strcmp(optarg, "all"))
				stage = CI_STAGE_ALL;
			else {
				fprintf(stderr, "ros cloud-init: --stage: expected early, late or all, got \"%s\"\n",
				        optarg);
				return 2;
			}
			break;
		case 'n':
			o.no_fetch = true;
			break;
		case 'f':
			o.force = true;
			break;
		case 't':
			o.timeout_s = atoi(optarg);
			if (o.timeout_s <= 0 || o.timeout_s > 300) {
				fprintf(stderr, "ros cloud-init: --timeout: expected 1..300 seconds, got \"%s\"\n",
				        optarg);
				return 2;
			}
			break;
		case 'c':
			o.cmdline = optarg;
			break;
		case 'D':
			o.no_devices = true;
			break;
		case 'S':
			strict = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	struct cfg_diag d = {0};
	if (!o.no_fetch && (stage & CI_STAGE_EARLY)) {
		char source[256] = "";
		if (ci_fetch(&o, &d, source, sizeof(source)) > 0)
			fprintf(stderr, "ros cloud-init: user-data from %s\n", source);
		else
			fprintf(stderr, "ros cloud-init: no datasource answered\n");
	}
	int failed = ci_apply(&o, stage, &d);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "ros cloud-init: %s: %s\n", d.items[i].error ? "error" : "warning", d.items[i].msg);
	cfg_diag_free(&d);
	if (failed)
		fprintf(stderr, "ros cloud-init: %d module%s failed\n", failed, failed == 1 ? "" : "s");
	return strict && failed ? 1 : 0;
}
