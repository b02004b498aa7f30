/* SPDX-License-Identifier: MIT */
/*
 * Replays a fuzz target's corpus without libFuzzer: each file under
 * tests/fuzz/corpus/<target>/ is one TAP test point.  Built with ASan+UBSan;
 * a crash or sanitizer report fails the run.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
	const char *self = strrchr(argv[0], '/');
	self = self ? self + 1 : argv[0];
	const char *src = getenv("ROS_SRC");
	char dir[4096];
	if (argc > 1)
		snprintf(dir, sizeof(dir), "%s", argv[1]);
	else
		snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", src ? src : ".", self + strlen("fuzz-"));
	struct dirent **names;
	int n = scandir(dir, &names, NULL, by_name);
	if (n < 0) {
		printf("1..0 # SKIP no corpus at %s\n", dir);
		return 0;
	}
	int files = 0;
	for (int i = 0; i < n; i++)
		files += names[i]->d_name[0] != '.';
	printf("1..%d\n", files);
	int t = 0;
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] == '.') {
			free(names[i]);
			continue;
		}
		char path[8192];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		char *buf = NULL;
		size_t len = 0;
		if (fs_read_all(path, 64u << 20, &buf, &len, NULL) < 0) {
			printf("not ok %d - %s unreadable\n", ++t, names[i]->d_name);
		} else {
			LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
			printf("ok %d - %s\n", ++t, names[i]->d_name);
		}
		fflush(stdout);
		free(buf);
		free(names[i]);
	}
	free(names);
	return 0;
}
