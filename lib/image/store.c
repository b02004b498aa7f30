/* SPDX-License-Identifier: MIT */
/* The content-addressed image store: blobs, layers, images.json, load. */
#define _GNU_SOURCE
#include <ctype.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "image/image.h"
#include "image/internal.h"

#define MAX_JSON IMAGE_MAX_JSON

int image_sha256_fd(int fd, char out[65], struct ros_err *e)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		return err_set(e, ENOMEM, "sha256");
	}
	char buf[65536];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			EVP_MD_CTX_free(ctx);
			return err_set(e, errno, "read");
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(ctx, buf, (size_t)n);
	}
	unsigned char md[32];
	unsigned int len = 0;
	EVP_DigestFinal_ex(ctx, md, &len);
	EVP_MD_CTX_free(ctx);
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
	return 0;
}

static bool is_hex64(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static const char *strip_algo(const char *d)
{
	return strncmp(d, "sha256:", 7) == 0 ? d + 7 : d;
}

int image_index_save(struct image_store *s, struct ros_err *e)
{
	cleanup_free char *txt = json_dumps(s->index, JSON_INDENT(1) | JSON_SORT_KEYS);
	if (!txt)
		return err_set(e, ENOMEM, "images.json");
	char path[4096];
	snprintf(path, sizeof(path), "%s/images.json", s->root);
	return fs_write_atomic(path, txt, strlen(txt), 0600, e);
}

int image_store_open(struct image_store *s, const char *root, struct ros_err *e)
{
	*s = (struct image_store){.rootfd = -1};
	char p[4096];
	const char *subs[] = {"blobs/sha256", "layers", "tmp"};
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, subs[i]);
		int r = fs_mkdir_p(p, 0700, e);
		if (r < 0)
			return r;
	}
	s->root = strdup(root);
	s->rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (!s->root || s->rootfd < 0) {
		int r = err_set(e, s->root ? errno : ENOMEM, "open %s", root);
		image_store_close(s);
		return r;
	}
	snprintf(p, sizeof(p), "%s/images.json", root);
	cleanup_free char *txt = NULL;
	int r = fs_read_all(p, MAX_JSON, &txt, NULL, e);
	if (r == -ENOENT) {
		err_clear(e);
		s->index = json_pack("{s:{},s:{}}", "images", "tags");
	} else if (r < 0) {
		image_store_close(s);
		return r;
	} else {
		json_error_t je;
		s->index = json_loads(txt, 0, &je);
		if (!json_is_object(s->index) || !json_is_object(json_object_get(s->index, "images")) ||
		    !json_is_object(json_object_get(s->index, "tags"))) {
			image_store_close(s);
			return err_setx(e, EINVAL, "%s:%d:%d: bad image index: %s", p, je.line, je.column, je.text);
		}
	}
	return 0;
}

void image_store_close(struct image_store *s)
{
	free(s->root);
	s->root = NULL;
	if (s->rootfd >= 0)
		close(s->rootfd);
	s->rootfd = -1;
	if (s->index)
		json_decref(s->index);
	s->index = NULL;
}

#define BLOB_TMP_PREFIX "blob."

int image_blob_tmpfile(struct image_store *s, struct ros_err *e)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s/tmp", s->root);
	int fd = open(tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
		/* overlayfs before Linux 6.6 has no O_TMPFILE: a named file,
		 * unlinked by image_blob_commit (or at the next store open) */
		char t[4200];
		snprintf(t, sizeof(t), "%s/" BLOB_TMP_PREFIX "XXXXXX", tmp);
		fd = mkostemp(t, O_CLOEXEC);
	}
	if (fd < 0)
		return err_set(e, errno, "temporary blob in %s", tmp);
	return fd;
}

/* Removes the name of a temporary blob made without O_TMPFILE. */
static void blob_tmp_unlink(struct image_store *s, int fd)
{
	char fdpath[64], path[4200], tmp[4200];
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(fdpath, path, sizeof(path) - 1);
	if (n <= 0)
		return;
	path[n] = '\0';
	snprintf(tmp, sizeof(tmp), "%s/tmp/" BLOB_TMP_PREFIX, s->root);
	if (!strncmp(path, tmp, strlen(tmp)) && !strstr(path, " (deleted)"))
		unlink(path);
}

int image_blob_commit(struct image_store *s, int out, const char *want, char *out_hex, struct ros_err *e)
{
	char hex[65];
	if (lseek(out, 0, SEEK_SET) < 0)
		return err_set(e, errno, "seek blob");
	int r = image_sha256_fd(out, hex, e);
	if (r < 0)
		return r;
	if (want && strcmp(strip_algo(want), hex) != 0)
		return err_setx(e, EBADMSG, "blob digest mismatch: want %s, got sha256:%s", want, hex);
	if (fsync(out) < 0)
		return err_set(e, errno, "fsync blob");
	char fdpath[64], dst[4096];
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", out);
	snprintf(dst, sizeof(dst), "%s/blobs/sha256/%s", s->root, hex);
	if (linkat(AT_FDCWD, fdpath, AT_FDCWD, dst, AT_SYMLINK_FOLLOW) < 0 && errno != EEXIST)
		return err_set(e, errno, "store blob %s", dst);
	blob_tmp_unlink(s, out);
	if (out_hex)
		memcpy(out_hex, hex, 65);
	return 0;
}

int image_blob_put_fd(struct image_store *s, int fd, const char *want, char *out_hex, struct ros_err *e)
{
	cleanup_close int out = image_blob_tmpfile(s, e);
	if (out < 0)
		return out;
	char buf[65536];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(e, errno, "read blob");
		if (n == 0)
			break;
		int r = fs_write_all(out, buf, (size_t)n);
		if (r < 0)
			return err_set(e, r, "write blob");
	}
	return image_blob_commit(s, out, want, out_hex, e);
}

int image_ref_normalise(const char *ref, char *out, size_t size, struct ros_err *e)
{
	if (!ref || !*ref || strlen(ref) >= 256)
		return err_setx(e, EINVAL, "invalid reference format: \"%s\"", ref ? ref : "");
	for (const char *c = ref; *c; c++)
		if (!(isalnum((unsigned char)*c) || strchr("._-/:@", *c)) || (*c >= 'A' && *c <= 'Z'))
			return err_setx(e, EINVAL, "invalid reference format: repository name (%s) must be lowercase",
			                ref);
	const char *name = ref;
	if (strncmp(name, "docker.io/library/", 18) == 0)
		name += 18;
	else if (strncmp(name, "docker.io/", 10) == 0)
		name += 10;
	const char *slash = strrchr(name, '/');
	const char *colon = strrchr(name, ':');
	bool has_tag = colon && (!slash || colon > slash);
	snprintf(out, size, "%s%s", name, has_tag ? "" : ":latest");
	return 0;
}

int image_resolve(struct image_store *s, const char *name, const char **id_out, struct ros_err *e)
{
	json_t *images = json_object_get(s->index, "images");
	json_t *tags = json_object_get(s->index, "tags");
	char ref[512];
	if (image_ref_normalise(name, ref, sizeof(ref), NULL) == 0) {
		json_t *id = json_object_get(tags, ref);
		if (json_is_string(id)) {
			*id_out = json_string_value(id);
			return 0;
		}
	}
	const char *hex = strip_algo(name);
	size_t n = strlen(hex);
	if (n == 0 || n > 64)
		return err_setx(e, ENOENT, "No such image: %s", name);
	const char *found = NULL;
	const char *key;
	json_t *v;
	json_object_foreach(images, key, v)
	{
		if (strncmp(strip_algo(key), hex, n) == 0) {
			if (found)
				return err_setx(e, ENOENT, "No such image: %s (ambiguous id prefix)", name);
			found = key;
		}
	}
	if (!found)
		return err_setx(e, ENOENT, "No such image: %s", name);
	*id_out = found;
	return 0;
}

json_t *image_get(struct image_store *s, const char *id)
{
	return json_object_get(json_object_get(s->index, "images"), id);
}

json_t *image_tags(struct image_store *s, const char *id)
{
	json_t *out = json_array();
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(s->index, "tags"), key, v)
	{
		if (json_is_string(v) && strcmp(json_string_value(v), id) == 0)
			json_array_append_new(out, json_string(key));
	}
	return out;
}

int image_tag(struct image_store *s, const char *name, const char *ref, struct ros_err *e)
{
	const char *id;
	int r = image_resolve(s, name, &id, e);
	if (r < 0)
		return r;
	char norm[512];
	if ((r = image_ref_normalise(ref, norm, sizeof(norm), e)) < 0)
		return r;
	json_object_set_new(json_object_get(s->index, "tags"), norm, json_string(id));
	return image_index_save(s, e);
}

static bool layer_in_use(struct image_store *s, const char *layer)
{
	const char *key;
	json_t *img;
	json_object_foreach(json_object_get(s->index, "images"), key, img)
	{
		size_t i;
		json_t *l;
		json_array_foreach(json_object_get(img, "layers"), i, l)
		{
			if (strcmp(json_string_value(l), layer) == 0)
				return true;
		}
	}
	return false;
}

static int finish_remove(struct image_store *s, json_t *out, json_t **deleted, struct ros_err *e)
{
	int r = image_index_save(s, e);
	if (deleted && r >= 0)
		*deleted = out;
	else
		json_decref(out);
	return r;
}

int image_remove(struct image_store *s, const char *name, bool force, json_t **deleted, struct ros_err *e)
{
	const char *idb;
	int r = image_resolve(s, name, &idb, e);
	if (r < 0)
		return r;
	cleanup_free char *id = strdup(idb);
	if (!id)
		return err_set(e, ENOMEM, "remove");
	json_t *out = json_array();
	cleanup_json json_t *tags = image_tags(s, id);
	char ref[512];
	bool by_tag = image_ref_normalise(name, ref, sizeof(ref), NULL) == 0 &&
	              json_object_get(json_object_get(s->index, "tags"), ref) != NULL;
	if (by_tag && json_array_size(tags) > 1) {
		json_object_del(json_object_get(s->index, "tags"), ref);
		json_array_append_new(out, json_pack("{s:s}", "Untagged", ref));
		return finish_remove(s, out, deleted, e);
	}
	if (!by_tag && json_array_size(tags) > 1 && !force) {
		json_decref(out);
		return err_setx(e, EBUSY,
		                "conflict: unable to delete %.12s (must be forced) - image is referenced in multiple "
		                "repositories",
		                strip_algo(id));
	}
	size_t i;
	json_t *t;
	json_array_foreach(tags, i, t)
	{
		json_object_del(json_object_get(s->index, "tags"), json_string_value(t));
		json_array_append_new(out, json_pack("{s:O}", "Untagged", t));
	}
	json_t *img = image_get(s, id);
	cleanup_json json_t *layers = json_incref(json_object_get(img, "layers"));
	cleanup_json json_t *cfgblob = json_incref(json_object_get(img, "config_blob"));
	json_object_del(json_object_get(s->index, "images"), id);
	json_array_append_new(out, json_pack("{s:s}", "Deleted", id));
	json_array_foreach(layers, i, t)
	{
		const char *l = json_string_value(t);
		if (!l || !is_hex64(l) || layer_in_use(s, l))
			continue;
		char p[4096];
		snprintf(p, sizeof(p), "%s/layers/%s", s->root, l);
		struct ros_err ignored;
		fs_remove_tree(p, &ignored);
		snprintf(p, sizeof(p), "%s/blobs/sha256/%s", s->root, l);
		unlink(p);
		json_array_append_new(out, json_pack("{s:s+}", "Deleted", "sha256:", l));
	}
	if (json_is_string(cfgblob) && is_hex64(json_string_value(cfgblob))) {
		char p[4096];
		snprintf(p, sizeof(p), "%s/blobs/sha256/%s", s->root, json_string_value(cfgblob));
		unlink(p);
	}
	return finish_remove(s, out, deleted, e);
}

int image_lowerdir(struct image_store *s, const char *id, char **out, struct ros_err *e)
{
	json_t *layers = json_object_get(image_get(s, id), "layers");
	if (!json_is_array(layers) || json_array_size(layers) == 0)
		return err_setx(e, ENOENT, "image %s has no layers", id);
	size_t n = json_array_size(layers), cap = n * (strlen(s->root) + 80) + 1;
	char *buf = calloc(1, cap);
	if (!buf)
		return err_set(e, ENOMEM, "lowerdir");
	for (size_t i = n; i-- > 0;) {
		size_t len = strlen(buf);
		snprintf(buf + len, cap - len, "%s%s/layers/%s", len ? ":" : "", s->root,
		         json_string_value(json_array_get(layers, i)));
	}
	*out = buf;
	return 0;
}
