/* SPDX-License-Identifier: MIT */
/*
 * pull-driver ROOT REF [--auth USER:PASS] [--insecure HOST:PORT]... [--default-registry HOST]
 *             [--certs-dir DIR]
 *
 * Pulls REF into the image store at ROOT with image_pull, printing each
 * progress report as "ID: STATUS [CUR/TOTAL]" and then "id sha256:...".
 * On failure prints "error: MESSAGE" on stderr and exits 1.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "image/image.h"

static void on_progress(void *arg, const char *id, const char *status, uint64_t cur, uint64_t total)
{
	(void)arg;
	if (total)
		printf("%s: %s %" PRIu64 "/%" PRIu64 "\n", id ? id : "-", status, cur, total);
	else
		printf("%s: %s\n", id ? id : "-", status);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr,
		        "usage: %s ROOT REF [--auth USER:PASS] [--insecure HOST:PORT]... "
		        "[--default-registry HOST] [--certs-dir DIR]\n",
		        argv[0]);
		return 2;
	}
	const char *insecure[16] = {0};
	size_t ninsecure = 0;
	struct image_pull_opts o = {.progress = on_progress, .insecure = insecure};
	for (int i = 3; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "--auth") == 0)
			o.auth = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--insecure") == 0 && ninsecure + 1 < ARRAY_SIZE(insecure))
			insecure[ninsecure++] = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--default-registry") == 0)
			o.default_registry = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--certs-dir") == 0)
			o.certs_dir = argv[++i];
		else {
			fprintf(stderr, "%s: unknown argument %s\n", argv[0], argv[i]);
			return 2;
		}
	}
	struct image_store s;
	struct ros_err e = {0};
	if (image_store_open(&s, argv[1], &e) < 0) {
		fprintf(stderr, "error: %s\n", e.msg);
		return 1;
	}
	cleanup_free char *id = NULL;
	int r = image_pull(&s, argv[2], &o, &id, &e);
	image_store_close(&s);
	if (r < 0) {
		fprintf(stderr, "error: %s\n", e.msg);
		return 1;
	}
	printf("id %s\n", id);
	return 0;
}
