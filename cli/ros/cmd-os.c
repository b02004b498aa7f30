/* SPDX-License-Identifier: MIT */
/*
 * ros os: the running system as a whole.
 *   reboot | poweroff | halt   signal init (PID 1) as busybox init does
 *   boot-time                  print /run/ros/boot-timeline
 *   version                    print the booted OS version
 * init's pid comes from /run/ros/init.pid (DIR/run/ros/init.pid with
 * --root DIR), so this never signals the PID 1 of another system.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "core/cleanup.h"
#include "core/fs.h"
#include "install.h"

static void os_usage(FILE *out)
{
	fprintf(out, "usage: ros os reboot|poweroff|halt|boot-time|version|list|upgrade|rollback\n\n"
	             "  reboot      stop every service and reboot\n"
	             "  poweroff    stop every service and power off\n"
	             "  halt        stop every service and halt\n"
	             "  boot-time   how long each boot stage took\n"
	             "  version     the version of the running OS\n"
	             "  list        the A/B slots of the installed disk: versions, which runs,\n"
	             "              which is good, what boots next, the last event\n"
	             "  upgrade -i FILE|URL [--no-reboot] [--tries N] [--trial-timeout SEC] [--sha256 HEX]\n"
	             "              write an ISO or tarball to the other slot, boot it next\n"
	             "  rollback [--no-reboot]  boot the other (good) slot again\n"
	             "  (docs/install.md)\n");
}

/* init writes its pid there (1 on a ros machine; the host's pid of a
 * test's namespace init): no file, no ros init to signal. */
static int init_pid(long *pid)
{
	char path[4096];
	cleanup_free char *text = NULL;
	struct ros_err e = {0};
	if (fs_read_all(ros_path(path, sizeof(path), "/run/ros/init.pid"), 64, &text, NULL, &e) < 0) {
		fprintf(stderr, "ros os: %s (is ros init running%s?)\n", err_msg(&e),
		        ros_root()[0] ? " with this root" : "");
		return -1;
	}
	char *end = NULL;
	*pid = strtol(text, &end, 10);
	if (*pid <= 0 || end == text || (*end && *end != '\n')) {
		fprintf(stderr, "ros os: %s: expected a pid, got '%.20s'\n", path, text);
		return -1;
	}
	return 0;
}

static int os_signal(int sig, const char *what)
{
	long pid;
	if (init_pid(&pid) < 0)
		return 1;
	if (kill((pid_t)pid, sig) < 0) {
		fprintf(stderr, "ros os %s: signal init (pid %ld): %s\n", what, pid, strerror(errno));
		return 1;
	}
	return 0;
}

static int os_boot_time(void)
{
	char path[4096];
	cleanup_free char *text = NULL;
	struct ros_err e = {0};
	if (fs_read_all(ros_path(path, sizeof(path), "/run/ros/boot-timeline"), 1 << 20, &text, NULL, &e) < 0) {
		fprintf(stderr, "ros os boot-time: %s\n", err_msg(&e));
		return 1;
	}
	/* Check every line before printing any. */
	size_t n = 0;
	for (const char *p = text; *p; p++)
		n += *p == '\n';
	cleanup_free struct {
		unsigned long long ms;
		const char *stage;
	} *rows = calloc(n + 1, sizeof(*rows));
	if (!rows) {
		fprintf(stderr, "ros os boot-time: out of memory\n");
		return 1;
	}
	n = 0;
	unsigned lineno = 0;
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		char *end = NULL;
		errno = 0;
		unsigned long long ms = strtoull(line, &end, 10);
		if (errno || end == line || *end != ' ' || !end[1]) {
			fprintf(stderr, "ros os boot-time: %s:%u: expected '<ms> <stage>', got '%s'\n", path, lineno,
			        line);
			return 1;
		}
		rows[n].ms = ms;
		rows[n++].stage = end + 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (i == 0)
			printf("%-28s %8llu ms  (kernel start to init)\n", rows[i].stage, rows[i].ms);
		else
			printf("%-28s %8llu ms  %+lld ms\n", rows[i].stage, rows[i].ms,
			       (long long)(rows[i].ms - rows[i - 1].ms));
	}
	if (n > 1)
		printf("%-28s %8llu ms  (init to last stage: %llu ms)\n", "total", rows[n - 1].ms,
		       rows[n - 1].ms - rows[0].ms);
	return 0;
}

static int os_version(void)
{
	char path[4096];
	cleanup_free char *text = NULL;
	struct ros_err e = {0};
	if (fs_read_all(ros_path(path, sizeof(path), "/run/ros/version"), 256, &text, NULL, &e) < 0) {
		fprintf(stderr, "ros os version: %s (not booted by ros init?)\n", err_msg(&e));
		return 1;
	}
	text[strcspn(text, "\n")] = '\0';
	printf("%s\n", text);
	return 0;
}

int cmd_os(int argc, char **argv)
{
	if (argc >= 2) {
		int r = os_slots(argc - 1, argv + 1);
		if (r >= 0)
			return r;
	}
	if (argc != 2) {
		os_usage(stderr);
		return 2;
	}
	const char *sub = argv[1];
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
		os_usage(stdout);
		return 0;
	}
	if (!strcmp(sub, "reboot"))
		return os_signal(SIGTERM, sub);
	if (!strcmp(sub, "poweroff"))
		return os_signal(SIGUSR2, sub);
	if (!strcmp(sub, "halt"))
		return os_signal(SIGUSR1, sub);
	if (!strcmp(sub, "boot-time"))
		return os_boot_time();
	if (!strcmp(sub, "version"))
		return os_version();
	fprintf(stderr, "ros os: unknown subcommand '%s'\n", sub);
	os_usage(stderr);
	return 2;
}
