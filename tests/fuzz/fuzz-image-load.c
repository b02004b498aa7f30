/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: `docker load` (image_load_fd) of arbitrary bytes into a fresh
 * store.  Whatever the archive says, nothing may appear beside the store
 * and a failed load records no image.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char base[] = "/tmp/fuzz-image-load-XXXXXX";
	if (!mkdtemp(base))
		abort();
	char root[64];
	snprintf(root, sizeof(root), "%s/store", base);
	struct image_store s;
	struct ros_err e = {0};
	if (image_store_open(&s, root, &e) < 0)
		abort();
	int fd = memfd_create("fuzz-image-load", MFD_CLOEXEC);
	if (fd < 0 || fs_write_all(fd, data, size) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		abort();
	json_t *loaded = NULL;
	int r = image_load_fd(&s, fd, &loaded, &e);
	close(fd);
	if (r < 0 && (loaded || json_object_size(json_object_get(s.index, "tags")) != 0))
		abort();
	json_decref(loaded);
	image_store_close(&s);
	/* Only the store may exist beside... nothing: base holds "store" alone. */
	DIR *d = opendir(base);
	if (!d)
		abort();
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && strcmp(de->d_name, "store"))
			abort();
	closedir(d);
	/* and the store's scratch space is empty again */
	snprintf(root, sizeof(root), "%s/store/tmp", base);
	if (rmdir(root) < 0)
		abort();
	if (access("/tmp/escaped", F_OK) == 0)
		abort();
	fs_remove_tree(base, &e);
	return 0;
}
