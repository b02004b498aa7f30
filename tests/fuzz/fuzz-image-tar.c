/* SPDX-License-Identifier: MIT */
/* Fuzz target: the hardened layer tar extractor, into a fresh scratch dir. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char base[] = "/tmp/fuzz-image-tar-XXXXXX";
	if (!mkdtemp(base))
		abort();
	char root[64];
	snprintf(root, sizeof(root), "%s/root", base);
	if (mkdir(root, 0755) < 0)
		abort();
	int dfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct image_extract_opts o = {.whiteouts = (size & 1) != 0};
	struct ros_err e = {0};
	(void)image_tar_extract_mem(data, size, dfd, &o, &e);
	close(dfd);
	/* Nothing may appear beside root. */
	cleanup_close int bfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (faccessat(bfd, "escaped", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		abort();
	fs_remove_tree(base, &e);
	return 0;
}
