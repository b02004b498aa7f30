/* SPDX-License-Identifier: MIT */
#pragma once
/*
 * lib/image's own helpers, shared by store.c, load.c (`docker load`) and
 * pull.c (registry pull) so both record images the same way.  Not for use
 * outside lib/image.
 */
#include <jansson.h>
#include <stddef.h>

#include "core/err.h"
#include "image/image.h"

#define IMAGE_MAX_JSON (16 << 20)
#define cleanup_json __attribute__((cleanup(json_decrefp)))

/* Writes images.json atomically. */
int image_index_save(struct image_store *s, struct ros_err *e);

/* An anonymous O_TMPFILE in ROOT/tmp to fill with a blob's bytes. */
int image_blob_tmpfile(struct image_store *s, struct ros_err *e);
/* Hashes tmpfd (an image_blob_tmpfile) from its start and links it in as
 * blobs/sha256/<hex>; when want ("sha256:hex" or hex) is given the bytes
 * must hash to it, else EBADMSG naming both digests.  out_hex: 65 bytes. */
int image_blob_commit(struct image_store *s, int tmpfd, const char *want, char *out_hex, struct ros_err *e);

/* Reads the stored config blob <cfghex> as a JSON object and checks that
 * rootfs.diff_ids, when present and non-empty, has nlayers entries.
 * what names the config in errors. */
int image_config_read(struct image_store *s, const char *cfghex, size_t nlayers, const char *what, json_t **out,
                      struct ros_err *e);
/* rootfs.diff_ids[index] of a config from image_config_read, or NULL when
 * the config has no diff_ids (hand-made archives). */
json_t *image_config_diff_id(json_t *config, size_t index);

/* Unpacks the stored layer blob <hex> into layers/<hex> unless it is
 * there already (returns 1 then, 0 after unpacking).  want_diff (optional)
 * is rootfs.diff_ids[index]: the uncompressed bytes must hash to it; on a
 * mismatch the blob is removed again (no unpacked layer uses it). */
int image_layer_unpack(struct image_store *s, const char *hex, json_t *want_diff, size_t index, struct ros_err *e);

/* Records image sha256:<cfghex> with its layers (array of hex strings,
 * bottom first, stolen) in the index and points each of repotags (strings,
 * normalised here) at it; extra (optional, borrowed) keys are merged into
 * the image object.  Appends {"id", "tags"} to loaded (optional).  The
 * caller saves the index. */
int image_record(struct image_store *s, const char *cfghex, json_t *config, json_t *layers, json_t *repotags,
                 json_t *extra, json_t *loaded, struct ros_err *e);

/* The name a pulled image is tagged under (without ":tag"): the repository
 * with "library/" dropped when it lives on the default registry (as Docker
 * shows "busybox"), else "host/repo".  -ENAMETOOLONG past size. */
int image_ref_local_name(const struct image_ref *r, const char *default_registry, char *out, size_t size);
