/* SPDX-License-Identifier: MIT */
#pragma once
/*
 * User images: a content-addressed store under a root directory.
 *
 *   ROOT/blobs/sha256/<hex>     blobs, named by the sha256 of their bytes
 *   ROOT/layers/<hex>/          each layer unpacked (hex = layer blob digest)
 *   ROOT/images.json            {"images": {id: {...}}, "tags": {ref: id}}
 *   ROOT/tmp/                   scratch space for loads
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"

/* Limits that keep a hostile archive from exhausting the machine. */
#define IMAGE_TAR_MAX_PATH 4096
#define IMAGE_TAR_MAX_ENTRY_SIZE (64ULL << 30)

struct image_extract_opts {
	bool allow_devices; /* character/block nodes (besides whiteouts); default off */
	bool keep_owner;    /* chown entries to their uid/gid (needs root) */
	bool whiteouts;     /* .wh.NAME -> 0/0 char device, .wh..wh..opq -> opaque xattr */
};

/* Unpacks a tar (plain, gzip, ...) read from fd into the directory dirfd.
 * Nothing is ever written outside dirfd: absolute names and ".." are
 * refused, no symlink (from the archive or already on disk) is followed.
 * Errors name the entry: "entry 3 (../etc/passwd): path leaves the root". */
int image_tar_extract_fd(int fd, int dirfd, const struct image_extract_opts *o, struct ros_err *e);
/* Same, from a memory buffer (for the fuzz target). */
int image_tar_extract_mem(const void *buf, size_t len, int dirfd, const struct image_extract_opts *o,
                          struct ros_err *e);

/* Hex sha256 of an fd's contents from the current offset (out: 65 bytes). */
int image_sha256_fd(int fd, char out[65], struct ros_err *e);

struct image_store {
	char *root;
	int rootfd;
	json_t *index; /* images.json */
};

int image_store_open(struct image_store *s, const char *root, struct ros_err *e);
void image_store_close(struct image_store *s);

/* Copies fd into blobs/sha256/<hex>; when want (hex, or "sha256:hex") is
 * given, the contents must hash to it.  out_hex (optional, 65 bytes). */
int image_blob_put_fd(struct image_store *s, int fd, const char *want, char *out_hex, struct ros_err *e);

/* Loads a `docker save` archive (manifest.json) or an OCI image layout
 * archive (index.json).  loaded (optional) gets a JSON array of
 * {"id": "sha256:...", "tags": [...]} the caller decrefs. */
int image_load_fd(struct image_store *s, int fd, json_t **loaded, struct ros_err *e);

/* Finds an image by tag ("busybox", "busybox:1", "docker.io/library/x"),
 * full id ("sha256:hex"), or unique id prefix. *id_out is borrowed. */
int image_resolve(struct image_store *s, const char *name, const char **id_out, struct ros_err *e);
/* Normalises "busybox" -> "busybox:latest". out at least 512 bytes. */
int image_ref_normalise(const char *ref, char *out, size_t size, struct ros_err *e);

int image_tag(struct image_store *s, const char *name, const char *ref, struct ros_err *e);
/* Removes a tag; when ref is an id or the last tag, the image and any layer
 * no other image uses.  force removes an image with several tags. */
int image_remove(struct image_store *s, const char *name, bool force, json_t **deleted, struct ros_err *e);
/* Borrowed {"layers": [...], "config": {...}, "size": n, "created": "..."}. */
json_t *image_get(struct image_store *s, const char *id);
/* Tags of an image, new array. */
json_t *image_tags(struct image_store *s, const char *id);

/* The overlay "lowerdir=" value for an image: topmost layer first. */
int image_lowerdir(struct image_store *s, const char *id, char **out, struct ros_err *e);

/* Assembles a container root: DIR/upper, DIR/work and an overlay mounted on
 * DIR/rootfs with the image's layers as lowerdir.  *rootfs_out (optional,
 * heap) gets DIR/rootfs.  Fails with E2BIG when the mount options exceed a
 * page, EINVAL when a path holds ':' or ',' (overlay cannot quote them). */
int image_rootfs_mount(struct image_store *s, const char *id, const char *dir, char **rootfs_out, struct ros_err *e);
/* Unmounts DIR/rootfs (lazily); the upper layer stays for the caller. */
int image_rootfs_umount(const char *dir, struct ros_err *e);

/* A parsed image reference: "host[:port]/repo[:tag][@sha256:hex]". */
struct image_ref {
	char host[256];  /* registry "host[:port]", lower case */
	char repo[256];  /* repository path in the registry ("library/busybox") */
	char tag[128];   /* "latest" when neither tag nor digest is given; "" with a digest alone */
	char digest[80]; /* "sha256:<64 hex>" or "" */
};
/* Splits and checks ref by the Docker reference grammar.  A first path
 * component with '.' or ':' (or "localhost") is the registry; without one
 * the registry is default_registry (NULL: ENOENT "no default registry
 * configured").  A one-component repository on the default registry gets
 * "library/" in front, as Docker does.  Errors say what is wrong: "invalid
 * reference format: ...". */
int image_ref_parse(const char *ref, const char *default_registry, struct image_ref *out, struct ros_err *e);

struct image_pull_opts {
	const char *auth;            /* "user:password" for Basic auth and the token endpoint, or NULL */
	const char *const *insecure; /* NULL-terminated "host:port" list allowed over plain HTTP (loopback always is) */
	const char
	        *default_registry; /* registry for names without one; NULL = error "no default registry configured" */
	const char *certs_dir;     /* Docker's certs.d: DIR/HOST[:PORT]/ *.crt CAs trusted for that registry beside
	                              the system's, NAME.cert + NAME.key a client certificate; NULL = none */
	void (*progress)(void *arg, const char *id, const char *status, uint64_t current, uint64_t total);
	void *arg;
};
/* Pulls ref from a registry (v2 API, HTTPS; plain HTTP only to loopback and
 * o->insecure hosts) into the store: Bearer token or Basic auth, manifest
 * lists and OCI indexes (picks linux/amd64), docker schema2 and OCI
 * manifests (at most 4 MiB); every blob is checked against its digest,
 * layers (gzip, plain, zstd) are unpacked with the safe extractor and the
 * image recorded and tagged like image_load_fd does ("NAME:TAG"; a
 * digest-only reference is not tagged; "repo_digests" lists NAME@DIGEST).
 * Progress as Docker prints it: "Pulling from REPO" (id: the tag or
 * digest); per layer (id: 12 hex digits) "Pulling fs layer" or "Already
 * exists", "Downloading" (current/total bytes), "Verifying Checksum",
 * "Download complete", "Extracting", "Pull complete"; then id NULL with
 * "Digest: sha256:..." and "Status: Downloaded newer image for NAME:TAG" (or
 * "Image is up to date for").  On failure nothing is tagged; verified blobs
 * may stay in the store.  *id_out (optional, heap) gets "sha256:<config
 * digest>". */
int image_pull(struct image_store *s, const char *ref, const struct image_pull_opts *o, char **id_out,
               struct ros_err *e);
