/* SPDX-License-Identifier: MIT */
/* `docker load`: docker-archive (manifest.json) and OCI layout archives. */
#define _GNU_SOURCE
#include <archive.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "image/image.h"
#include "image/internal.h"

#define MAX_JSON IMAGE_MAX_JSON

/* Opens path inside dirfd without following any symlink or leaving it. */
static int open_beneath(int dirfd, const char *path, int flags)
{
	struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC),
	                       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
	int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

/* An error from open_beneath on an archive member, said plainly. */
static int member_err(struct ros_err *e, int r, const char *what, const char *path)
{
	if (r == -EXDEV)
		return err_setx(e, EXDEV, "%s %s: path leaves the archive", what, path);
	if (r == -ELOOP)
		return err_setx(e, ELOOP, "%s %s: is a symlink (never followed in an archive)", what, path);
	return err_set(e, r, "%s %s", what, path);
}

static int read_json(int dirfd, const char *path, json_t **out, struct ros_err *e)
{
	cleanup_close int fd = open_beneath(dirfd, path, O_RDONLY);
	if (fd < 0)
		return member_err(e, fd, "archive member", path);
	cleanup_free char *txt = NULL;
	int r = fs_read_fd(fd, MAX_JSON, &txt, NULL, e);
	if (r < 0)
		return err_prefix(e, "archive member %s", path);
	json_error_t je;
	*out = json_loads(txt, 0, &je);
	if (!*out)
		return err_setx(e, EINVAL, "%s:%d:%d: %s", path, je.line, je.column, je.text);
	return 0;
}

static int layer_diff_id(const char *blob, char out[72], struct ros_err *e);

int image_layer_unpack(struct image_store *s, const char *hex, json_t *want_diff, size_t index, struct ros_err *e)
{
	char dir[4096], tmp[4096], blob[4096];
	snprintf(dir, sizeof(dir), "%s/layers/%s", s->root, hex);
	snprintf(blob, sizeof(blob), "%s/blobs/sha256/%s", s->root, hex);
	if (access(dir, F_OK) == 0)
		return 1;
	int r;
	if (want_diff) {
		char got[72];
		const char *wd = json_string_value(want_diff);
		r = layer_diff_id(blob, got, e);
		if (r >= 0 && (!wd || strcmp(wd, got) != 0))
			r = err_setx(e, EBADMSG, "content is %s, rootfs.diff_ids[%zu] says %s", got, index,
			             wd ? wd : "(not a string)");
		if (r < 0) {
			unlink(blob); /* no unpacked layer uses it */
			return r;
		}
	}
	snprintf(tmp, sizeof(tmp), "%s/tmp/layer-XXXXXX", s->root);
	if (!mkdtemp(tmp))
		return err_set(e, errno, "mkdtemp %s", tmp);
	cleanup_close int tfd = open(tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cleanup_close int bfd = open(blob, O_RDONLY | O_CLOEXEC);
	struct image_extract_opts o = {.whiteouts = true, .keep_owner = geteuid() == 0};
	if (tfd < 0 || bfd < 0)
		r = err_set(e, errno, "open %s", tfd < 0 ? tmp : blob);
	else
		r = image_tar_extract_fd(bfd, tfd, &o, e);
	if (r >= 0 && rename(tmp, dir) < 0 && errno != ENOTEMPTY && errno != EEXIST)
		r = err_set(e, errno, "rename %s", dir);
	if (r < 0) {
		struct ros_err ignored;
		fs_remove_tree(tmp, &ignored);
		if (access(dir, F_OK) < 0)
			unlink(blob); /* unusable, and no unpacked layer uses it */
		return r;
	}
	if (access(tmp, F_OK) == 0) { /* another load unpacked it first */
		struct ros_err ignored;
		fs_remove_tree(tmp, &ignored);
	}
	return 0;
}

/* Stores one layer blob from the archive and unpacks it (once). */
static int add_layer(struct image_store *s, int dirfd, const char *path, const char *want, json_t *want_diff,
                     size_t index, char hex[65], struct ros_err *e)
{
	cleanup_close int fd = open_beneath(dirfd, path, O_RDONLY);
	if (fd < 0)
		return member_err(e, fd, "layer", path);
	int r = image_blob_put_fd(s, fd, want, hex, e);
	if (r >= 0)
		r = image_layer_unpack(s, hex, want_diff, index, e);
	if (r < 0)
		return err_prefix(e, "layer %s", path);
	return 0;
}

/* sha256 of the layer after decompression: its diff_id. */
static int layer_diff_id(const char *blob, char out[72], struct ros_err *e)
{
	struct archive *a = archive_read_new();
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int r = 0;
	if (!a || !ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		r = err_set(e, ENOMEM, "diff_id");
		goto out;
	}
	/* What the extractor reads, and no filter that runs a program. */
	archive_read_support_filter_gzip(a);
	if (archive_read_support_filter_zstd(a) == ARCHIVE_WARN) {
		archive_read_free(a);
		if (!(a = archive_read_new())) {
			r = err_set(e, ENOMEM, "diff_id");
			goto out;
		}
		archive_read_support_filter_gzip(a);
	}
	archive_read_support_filter_none(a);
	archive_read_support_format_raw(a);
	struct archive_entry *en;
	if (archive_read_open_filename(a, blob, 65536) != ARCHIVE_OK ||
	    archive_read_next_header(a, &en) != ARCHIVE_OK) {
		r = err_setx(e, EINVAL, "%s: %s", blob, archive_error_string(a));
		goto out;
	}
	char buf[65536];
	la_ssize_t n;
	while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(ctx, buf, (size_t)n);
	if (n < 0) {
		r = err_setx(e, EINVAL, "%s: %s", blob, archive_error_string(a));
		goto out;
	}
	unsigned char md[32];
	EVP_DigestFinal_ex(ctx, md, NULL);
	strcpy(out, "sha256:");
	for (int i = 0; i < 32; i++)
		sprintf(out + 7 + 2 * i, "%02x", md[i]);
out:
	EVP_MD_CTX_free(ctx);
	if (a)
		archive_read_free(a);
	return r;
}

int image_config_read(struct image_store *s, const char *cfghex, size_t nlayers, const char *what, json_t **out,
                      struct ros_err *e)
{
	cleanup_json json_t *config = NULL;
	char cfgblob[128];
	snprintf(cfgblob, sizeof(cfgblob), "blobs/sha256/%s", cfghex);
	int r = read_json(s->rootfd, cfgblob, &config, e);
	if (r < 0)
		return err_prefix(e, "image config %s", what);
	if (!json_is_object(config))
		return err_setx(e, EINVAL, "image config %s: not a JSON object", what);
	json_t *diff_ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
	/* An empty or missing list is tolerated (hand-made archives); a present
	 * one must match the layers one for one. */
	if (json_array_size(diff_ids) > 0 && json_array_size(diff_ids) != nlayers)
		return err_setx(e, EINVAL, "image config %s: rootfs.diff_ids has %zu entries for %zu layers", what,
		                json_array_size(diff_ids), nlayers);
	*out = TAKE_PTR(config);
	return 0;
}

json_t *image_config_diff_id(json_t *config, size_t index)
{
	json_t *diff_ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
	return json_array_size(diff_ids) > 0 ? json_array_get(diff_ids, index) : NULL;
}

int image_record(struct image_store *s, const char *cfghex, json_t *config, json_t *layers, json_t *repotags,
                 json_t *extra, json_t *loaded, struct ros_err *e)
{
	json_int_t size = 0;
	size_t i;
	json_t *t;
	json_array_foreach(layers, i, t)
	{
		struct stat st;
		char p[4096];
		snprintf(p, sizeof(p), "%s/blobs/sha256/%s", s->root, json_string_value(t));
		if (stat(p, &st) == 0)
			size += st.st_size;
	}
	/* Check every tag before changing the index: all or nothing. */
	cleanup_json json_t *tags = json_array();
	json_array_foreach(repotags, i, t)
	{
		char norm[512];
		if (!json_is_string(t) || image_ref_normalise(json_string_value(t), norm, sizeof(norm), e) < 0) {
			json_decref(layers);
			if (!json_is_string(t))
				err_setx(e, EINVAL, "not a string");
			return err_prefix(e, "RepoTags[%zu]", i);
		}
		json_array_append_new(tags, json_string(norm));
	}
	char id[80];
	snprintf(id, sizeof(id), "sha256:%s", cfghex);
	json_t *img = json_pack("{s:o,s:O,s:s,s:I,s:I}", "layers", layers, "config", config, "config_blob", cfghex,
	                        "size", size, "loaded", (json_int_t)time(NULL));
	if (!img)
		return err_set(e, ENOMEM, "image %s", id);
	if (extra)
		json_object_update(img, extra);
	json_object_set_new(json_object_get(s->index, "images"), id, img);
	json_array_foreach(tags, i, t)
	{
		json_object_set_new(json_object_get(s->index, "tags"), json_string_value(t), json_string(id));
	}
	if (loaded)
		json_array_append_new(loaded, json_pack("{s:s,s:O}", "id", id, "tags", tags));
	return 0;
}

static int add_image(struct image_store *s, int dirfd, const char *config_path, const char *config_want,
                     char **layer_paths, char **layer_wants, json_t *repotags, json_t *loaded, struct ros_err *e)
{
	char cfghex[65];
	cleanup_close int cfd = open_beneath(dirfd, config_path, O_RDONLY);
	if (cfd < 0)
		return member_err(e, cfd, "image config", config_path);
	int r = image_blob_put_fd(s, cfd, config_want, cfghex, e);
	if (r < 0)
		return err_prefix(e, "image config %s", config_path);
	size_t nlayers = 0;
	while (layer_paths[nlayers])
		nlayers++;
	cleanup_json json_t *config = NULL;
	if ((r = image_config_read(s, cfghex, nlayers, config_path, &config, e)) < 0)
		return r;
	json_t *layers = json_array();
	for (size_t i = 0; layer_paths[i]; i++) {
		char hex[65];
		if ((r = add_layer(s, dirfd, layer_paths[i], layer_wants ? layer_wants[i] : NULL,
		                   image_config_diff_id(config, i), i, hex, e)) < 0) {
			json_decref(layers);
			return r;
		}
		json_array_append_new(layers, json_string(hex));
	}
	return image_record(s, cfghex, config, layers, repotags, NULL, loaded, e);
}

static char **strv_new(size_t n)
{
	return calloc(n + 1, sizeof(char *));
}

static int load_docker(struct image_store *s, int dirfd, json_t *manifest, json_t *loaded, struct ros_err *e)
{
	if (!json_is_array(manifest) || json_array_size(manifest) == 0)
		return err_setx(e, EINVAL, "manifest.json: expected a non-empty array");
	size_t i;
	json_t *m;
	json_array_foreach(manifest, i, m)
	{
		json_t *cfg = json_object_get(m, "Config");
		json_t *layers = json_object_get(m, "Layers");
		if (!json_is_string(cfg))
			return err_setx(e, EINVAL, "manifest.json[%zu].Config: expected string", i);
		if (!json_is_array(layers))
			return err_setx(e, EINVAL, "manifest.json[%zu].Layers: expected array", i);
		cleanup_strv char **paths = strv_new(json_array_size(layers));
		if (!paths)
			return err_set(e, ENOMEM, "manifest");
		size_t j;
		json_t *l;
		json_array_foreach(layers, j, l)
		{
			if (!json_is_string(l))
				return err_setx(e, EINVAL, "manifest.json[%zu].Layers[%zu]: expected string", i, j);
			paths[j] = strdup(json_string_value(l));
		}
		int r = add_image(s, dirfd, json_string_value(cfg), NULL, paths, NULL, json_object_get(m, "RepoTags"),
		                  loaded, e);
		if (r < 0)
			return r;
	}
	return 0;
}

static int blob_path(const char *digest, char *out, size_t size, const char *what, struct ros_err *e)
{
	if (!digest || strncmp(digest, "sha256:", 7) != 0 || strlen(digest) != 71 || strchr(digest + 7, '/'))
		return err_setx(e, EINVAL, "%s: unsupported digest \"%s\"", what, digest ? digest : "");
	snprintf(out, size, "blobs/sha256/%s", digest + 7);
	return 0;
}

static int load_oci(struct image_store *s, int dirfd, json_t *index, json_t *loaded, struct ros_err *e)
{
	json_t *manifests = json_object_get(index, "manifests");
	if (!json_is_array(manifests) || json_array_size(manifests) == 0)
		return err_setx(e, EINVAL, "index.json.manifests: expected a non-empty array");
	size_t i;
	json_t *d;
	json_array_foreach(manifests, i, d)
	{
		char p[256], what[64];
		snprintf(what, sizeof(what), "index.json.manifests[%zu]", i);
		int r = blob_path(json_string_value(json_object_get(d, "digest")), p, sizeof(p), what, e);
		if (r < 0)
			return r;
		cleanup_json json_t *man = NULL;
		if ((r = read_json(dirfd, p, &man, e)) < 0)
			return r;
		const char *cdig = json_string_value(json_object_get(json_object_get(man, "config"), "digest"));
		char cpath[256];
		if ((r = blob_path(cdig, cpath, sizeof(cpath), "manifest config", e)) < 0)
			return r;
		json_t *layers = json_object_get(man, "layers");
		if (!json_is_array(layers))
			return err_setx(e, EINVAL, "%s: layers: expected array", p);
		cleanup_strv char **paths = strv_new(json_array_size(layers));
		cleanup_strv char **wants = strv_new(json_array_size(layers));
		if (!paths || !wants)
			return err_set(e, ENOMEM, "manifest");
		size_t j;
		json_t *l;
		json_array_foreach(layers, j, l)
		{
			const char *ld = json_string_value(json_object_get(l, "digest"));
			char lp[256];
			if ((r = blob_path(ld, lp, sizeof(lp), "manifest layer", e)) < 0)
				return r;
			paths[j] = strdup(lp);
			wants[j] = strdup(ld);
		}
		cleanup_json json_t *tags = json_array();
		const char *name = json_string_value(
		        json_object_get(json_object_get(d, "annotations"), "io.containerd.image.name"));
		if (!name)
			name = json_string_value(json_object_get(json_object_get(d, "annotations"),
			                                         "org.opencontainers.image.ref.name"));
		if (name && strchr(name, ':'))
			json_array_append_new(tags, json_string(name));
		if ((r = add_image(s, dirfd, cpath, cdig, paths, wants, tags, loaded, e)) < 0)
			return r;
	}
	return 0;
}

int image_load_fd(struct image_store *s, int fd, json_t **loaded_out, struct ros_err *e)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s/tmp/load-XXXXXX", s->root);
	if (!mkdtemp(tmp))
		return err_set(e, errno, "mkdtemp %s", tmp);
	int r;
	cleanup_close int dfd = open(tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cleanup_json json_t *loaded = json_array();
	cleanup_json json_t *doc = NULL;
	if (dfd < 0) {
		r = err_set(e, errno, "open %s", tmp);
		goto out;
	}
	struct image_extract_opts o = {0};
	if ((r = image_tar_extract_fd(fd, dfd, &o, e)) < 0) {
		err_prefix(e, "image archive");
		goto out;
	}
	if (faccessat(dfd, "manifest.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		if ((r = read_json(dfd, "manifest.json", &doc, e)) >= 0)
			r = load_docker(s, dfd, doc, loaded, e);
	} else if (faccessat(dfd, "index.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		if ((r = read_json(dfd, "index.json", &doc, e)) >= 0)
			r = load_oci(s, dfd, doc, loaded, e);
	} else {
		r = err_setx(e, EINVAL, "image archive has neither manifest.json nor index.json");
	}
	if (r >= 0)
		r = image_index_save(s, e);
	if (r >= 0 && loaded_out)
		*loaded_out = TAKE_PTR(loaded);
out:;
	struct ros_err ignored;
	fs_remove_tree(tmp, &ignored);
	return r;
}
