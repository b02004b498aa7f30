/* SPDX-License-Identifier: MIT */
/* lib/image: hardened tar extraction, blobs, docker/OCI archive load, tags, removal. */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/mman.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "image/image.h"
#include "tap.h"

/* A tar built in memory: entries are "type:path[:arg]" with type
 * f (file, arg = content), d (dir), l (symlink, arg = target),
 * h (hard link, arg = target), c (char dev, arg = "maj,min"). */
static size_t make_tar(const char **entries, bool gzip, char *buf, size_t cap)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (gzip)
		archive_write_add_filter_gzip(a);
	size_t used = 0;
	archive_write_open_memory(a, buf, cap, &used);
	for (size_t i = 0; entries[i]; i++) {
		char spec[512];
		snprintf(spec, sizeof(spec), "%s", entries[i]);
		char type = spec[0];
		char *path = spec + 2;
		char *arg = strchr(path, '|');
		if (arg)
			*arg++ = '\0';
		struct archive_entry *en = archive_entry_new();
		archive_entry_set_pathname(en, path);
		archive_entry_set_mtime(en, 1700000000, 0);
		size_t size = 0;
		switch (type) {
		case 'f':
			archive_entry_set_filetype(en, AE_IFREG);
			archive_entry_set_perm(en, 0644);
			size = arg ? strlen(arg) : 0;
			archive_entry_set_size(en, (la_int64_t)size);
			break;
		case 'd':
			archive_entry_set_filetype(en, AE_IFDIR);
			archive_entry_set_perm(en, 0755);
			break;
		case 'l':
			archive_entry_set_filetype(en, AE_IFLNK);
			archive_entry_set_perm(en, 0777);
			archive_entry_set_symlink(en, arg);
			break;
		case 'h':
			archive_entry_set_filetype(en, AE_IFREG);
			archive_entry_set_perm(en, 0644);
			archive_entry_set_hardlink(en, arg);
			break;
		case 'c':
			archive_entry_set_filetype(en, AE_IFCHR);
			archive_entry_set_perm(en, 0600);
			archive_entry_set_rdev(en, makedev(1, 3));
			break;
		}
		archive_write_header(a, en);
		if (size)
			archive_write_data(a, arg, size);
		archive_entry_free(en);
	}
	archive_write_close(a);
	archive_write_free(a);
	return used;
}

static char *tmpdir(void)
{
	char *d = strdup("/tmp/test-image-XXXXXX");
	return mkdtemp(d);
}

static void rmtree(const char *d)
{
	struct ros_err e;
	fs_remove_tree(d, &e);
}

static int extract(const char **entries, const char *root, bool gzip, struct ros_err *e)
{
	static char buf[1 << 20];
	size_t n = make_tar(entries, gzip, buf, sizeof(buf));
	cleanup_close int dfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct image_extract_opts o = {.whiteouts = true};
	return image_tar_extract_mem(buf, n, dfd, &o, e);
}

static bool file_is(const char *path, const char *want)
{
	cleanup_free char *got = NULL;
	struct ros_err e;
	return fs_read_all(path, 4096, &got, NULL, &e) >= 0 && strcmp(got, want) == 0;
}

TEST(extract_files_dirs_links)
{
	cleanup_free char *d = tmpdir();
	const char *t[] = {"d|bin", "f|bin/sh|#!hello", "l|bin/ash|sh", "h|bin/hard|bin/sh", "f|etc/deep/x|y", NULL};
	struct ros_err e = {0};
	is_int(extract(t, d, false, &e), 0);
	char p[512];
	snprintf(p, sizeof(p), "%s/bin/sh", d);
	ok(file_is(p, "#!hello"), "file content");
	snprintf(p, sizeof(p), "%s/bin/ash", d);
	char target[64] = {0};
	ok(readlink(p, target, sizeof(target) - 1) == 2 && strcmp(target, "sh") == 0, "symlink stored");
	struct stat a, b;
	snprintf(p, sizeof(p), "%s/bin/hard", d);
	stat(p, &a);
	snprintf(p, sizeof(p), "%s/bin/sh", d);
	stat(p, &b);
	ok(a.st_ino == b.st_ino, "hard link shares the inode");
	snprintf(p, sizeof(p), "%s/etc/deep/x", d);
	ok(file_is(p, "y"), "missing parents created");
	rmtree(d);
}

TEST(extract_gzip_layer)
{
	cleanup_free char *d = tmpdir();
	const char *t[] = {"f|a|gz", NULL};
	struct ros_err e = {0};
	is_int(extract(t, d, true, &e), 0);
	char p[512];
	snprintf(p, sizeof(p), "%s/a", d);
	ok(file_is(p, "gz"), "gzip layer unpacked");
	rmtree(d);
}

TEST(extract_refuses_dotdot)
{
	cleanup_free char *d = tmpdir();
	char inner[600];
	snprintf(inner, sizeof(inner), "%s/root", d);
	mkdir(inner, 0755);
	const char *t[] = {"f|ok|1", "f|../escaped|x", NULL};
	struct ros_err e = {0};
	is_int(extract(t, inner, false, &e), -EXDEV);
	ok(strstr(e.msg, "entry 1 (../escaped)") && strstr(e.msg, "leaves the root"), "names the entry: %s", e.msg);
	char p[700];
	snprintf(p, sizeof(p), "%s/escaped", d);
	ok(access(p, F_OK) < 0, "nothing written outside");
	rmtree(d);
}

TEST(extract_refuses_absolute_path)
{
	cleanup_free char *d = tmpdir();
	const char *t[] = {"f|/tmp/abs-escape|x", NULL};
	struct ros_err e = {0};
	is_int(extract(t, d, false, &e), -EXDEV);
	ok(strstr(e.msg, "/tmp/abs-escape"), "names the entry: %s", e.msg);
	rmtree(d);
}

TEST(extract_never_follows_symlinks)
{
	cleanup_free char *d = tmpdir();
	char inner[600], outside[600];
	snprintf(inner, sizeof(inner), "%s/root", d);
	snprintf(outside, sizeof(outside), "%s/outside", d);
	mkdir(inner, 0755);
	mkdir(outside, 0755);
	char ltarget[700];
	snprintf(ltarget, sizeof(ltarget), "l|evil|%s", outside);
	const char *t[] = {ltarget, "f|evil/pwned|x", NULL};
	struct ros_err e = {0};
	ok(extract(t, inner, false, &e) < 0, "write through a symlinked dir fails");
	ok(strstr(e.msg, "evil/pwned"), "names the entry: %s", e.msg);
	char p[700];
	snprintf(p, sizeof(p), "%s/pwned", outside);
	ok(access(p, F_OK) < 0, "nothing written through the symlink");

	/* A symlink then a regular file of the same name replaces the link,
	 * it does not write through it. */
	cleanup_free char *d2 = tmpdir();
	char victim[700], lt2[800];
	snprintf(victim, sizeof(victim), "%s/victim", d);
	fs_write_atomic(victim, "orig", 4, 0644, &e);
	snprintf(lt2, sizeof(lt2), "l|f|%s", victim);
	const char *t2[] = {lt2, "f|f|overwritten", NULL};
	is_int(extract(t2, d2, false, &e), 0);
	ok(file_is(victim, "orig"), "file behind the symlink untouched");

	/* A hard link to a path through a symlink is refused. */
	cleanup_free char *d3 = tmpdir();
	char lt3[800];
	snprintf(lt3, sizeof(lt3), "l|up|%s", d);
	const char *t3[] = {lt3, "h|stolen|up/victim", NULL};
	ok(extract(t3, d3, false, &e) < 0, "hard link through a symlink refused: %s", e.msg);
	const char *t4[] = {"h|stolen|../victim", NULL};
	is_int(extract(t4, d3, false, &e), -EXDEV);
	rmtree(d2);
	rmtree(d3);
	rmtree(d);
}

TEST(extract_refuses_device_nodes)
{
	cleanup_free char *d = tmpdir();
	const char *t[] = {"c|dev/null", NULL};
	struct ros_err e = {0};
	is_int(extract(t, d, false, &e), -EPERM);
	ok(strstr(e.msg, "dev/null") && strstr(e.msg, "device"), "names the entry: %s", e.msg);
	rmtree(d);
}

TEST(extract_whiteouts)
{
	if (geteuid() != 0) {
		tap_skip("whiteout devices and trusted.* xattrs need root");
		return;
	}
	cleanup_free char *d = tmpdir();
	const char *t[] = {"d|etc", "f|etc/.wh.gone|", "d|opq", "f|opq/.wh..wh..opq|", NULL};
	struct ros_err e = {0};
	int r = extract(t, d, false, &e);
	if (r == -EOPNOTSUPP || r == -EPERM) {
		tap_skip("filesystem under /tmp lacks mknod or trusted xattrs");
		rmtree(d);
		return;
	}
	is_int(r, 0);
	char p[512];
	struct stat st;
	snprintf(p, sizeof(p), "%s/etc/gone", d);
	ok(lstat(p, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0), "whiteout is a 0/0 char device");
	snprintf(p, sizeof(p), "%s/etc/.wh.gone", d);
	ok(access(p, F_OK) < 0, "marker itself not written");
	char v[4] = {0};
	snprintf(p, sizeof(p), "%s/opq", d);
	ok(getxattr(p, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y', "opaque xattr set");
	rmtree(d);
}

TEST(extract_rejects_garbage)
{
	cleanup_free char *d = tmpdir();
	cleanup_close int dfd = open(d, O_PATH | O_DIRECTORY);
	struct image_extract_opts o = {0};
	struct ros_err e = {0};
	char junk[1024];
	memset(junk, 'A', sizeof(junk));
	ok(image_tar_extract_mem(junk, sizeof(junk), dfd, &o, &e) < 0, "garbage refused: %s", e.msg);
	rmtree(d);
}

static void sha256_hex(const void *buf, size_t len, char out[65])
{
	unsigned char md[32];
	EVP_Digest(buf, len, md, NULL, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

TEST(blob_put_verifies_digest)
{
	cleanup_free char *d = tmpdir();
	struct image_store s;
	struct ros_err e = {0};
	is_int(image_store_open(&s, d, &e), 0);
	char p[512], hex[65], want[65];
	snprintf(p, sizeof(p), "%s/in", d);
	fs_write_atomic(p, "hello", 5, 0644, &e);
	sha256_hex("hello", 5, want);
	int fd = open(p, O_RDONLY);
	is_int(image_blob_put_fd(&s, fd, want, hex, &e), 0);
	close(fd);
	is_str(hex, want);
	snprintf(p, sizeof(p), "%s/blobs/sha256/%s", d, want);
	ok(file_is(p, "hello"), "blob stored under its digest");
	snprintf(p, sizeof(p), "%s/in", d);
	fd = open(p, O_RDONLY);
	is_int(image_blob_put_fd(&s, fd, "sha256:0000000000000000000000000000000000000000000000000000000000000000", hex,
	                         &e),
	       -EBADMSG);
	close(fd);
	ok(strstr(e.msg, "digest mismatch"), "mismatch message: %s", e.msg);
	image_store_close(&s);
	rmtree(d);
}

/* Writes a file named by the content's digest-free name into dir. */
static void put(const char *dir, const char *name, const void *buf, size_t len)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	char *slash = strrchr(p, '/');
	*slash = '\0';
	struct ros_err e;
	fs_mkdir_p(p, 0755, &e);
	*slash = '/';
	fs_write_atomic(p, buf, len, 0644, &e);
}

static int load_dir(struct image_store *s, const char *dir, json_t **loaded, struct ros_err *e)
{
	char cmd[1200], tarp[600];
	snprintf(tarp, sizeof(tarp), "%s.tar", dir);
	snprintf(cmd, sizeof(cmd), "tar -C %s -cf %s .", dir, tarp);
	if (system(cmd) != 0)
		return -EIO;
	cleanup_close int fd = open(tarp, O_RDONLY);
	int r = image_load_fd(s, fd, loaded, e);
	unlink(tarp);
	return r;
}

static const char *CONFIG = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"sh\"],"
                            "\"Env\":[\"PATH=/bin\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";

TEST(load_docker_archive_tag_remove)
{
	cleanup_free char *d = tmpdir();
	char store[600], arc[600];
	snprintf(store, sizeof(store), "%s/store", d);
	snprintf(arc, sizeof(arc), "%s/arc", d);
	static char l1[1 << 16], l2[1 << 16];
	const char *t1[] = {"d|bin", "f|bin/sh|base", "f|etc/motd|one", NULL};
	const char *t2[] = {"f|etc/motd|two", "f|etc/.wh.nothing|", NULL};
	size_t n1 = make_tar(t1, false, l1, sizeof(l1));
	size_t n2 = make_tar(t2, true, l2, sizeof(l2));
	put(arc, "l1/layer.tar", l1, n1);
	put(arc, "l2/layer.tar", l2, n2);
	put(arc, "cfg.json", CONFIG, strlen(CONFIG));
	const char *manifest = "[{\"Config\":\"cfg.json\",\"RepoTags\":[\"busybox:latest\"],"
	                       "\"Layers\":[\"l1/layer.tar\",\"l2/layer.tar\"]}]";
	put(arc, "manifest.json", manifest, strlen(manifest));

	struct image_store s;
	struct ros_err e = {0};
	is_int(image_store_open(&s, store, &e), 0);
	json_t *loaded = NULL;
	int r = load_dir(&s, arc, &loaded, &e);
	is_int(r, 0);
	if (r < 0) {
		printf("# %s\n", e.msg);
		image_store_close(&s);
		rmtree(d);
		return;
	}
	char cfghex[65];
	sha256_hex(CONFIG, strlen(CONFIG), cfghex);
	char id[80];
	snprintf(id, sizeof(id), "sha256:%s", cfghex);
	is_str(json_string_value(json_object_get(json_array_get(loaded, 0), "id")), id);
	json_decref(loaded);
	const char *got;
	is_int(image_resolve(&s, "busybox", &got, &e), 0);
	is_str(got, id);
	is_int(image_resolve(&s, "docker.io/library/busybox:latest", &got, &e), 0);
	is_int(image_resolve(&s, cfghex, &got, &e), 0);
	char prefix[13];
	snprintf(prefix, sizeof(prefix), "%.12s", cfghex);
	is_int(image_resolve(&s, prefix, &got, &e), 0);
	is_int(image_resolve(&s, "nosuch", &got, &e), -ENOENT);
	ok(strstr(e.msg, "No such image: nosuch"), "docker-style message: %s", e.msg);
	json_t *img = image_get(&s, id);
	is_str(json_string_value(json_array_get(
	               json_object_get(json_object_get(json_object_get(img, "config"), "config"), "Cmd"), 0)),
	       "sh");

	cleanup_free char *lower = NULL;
	is_int(image_lowerdir(&s, id, &lower, &e), 0);
	char l1hex[65], l2hex[65], want[1400];
	sha256_hex(l1, n1, l1hex);
	sha256_hex(l2, n2, l2hex);
	snprintf(want, sizeof(want), "%s/layers/%s:%s/layers/%s", store, l2hex, store, l1hex);
	is_str(lower, want);
	char p[1400];
	snprintf(p, sizeof(p), "%s/layers/%s/etc/motd", store, l2hex);
	ok(file_is(p, "two"), "top layer unpacked");

	/* The index survives a reopen. */
	image_store_close(&s);
	is_int(image_store_open(&s, store, &e), 0);
	is_int(image_tag(&s, "busybox", "mine/bb:v1", &e), 0);
	is_int(image_resolve(&s, "mine/bb:v1", &got, &e), 0);
	is_int(image_tag(&s, "busybox", "Bad:Ref", &e), -EINVAL);
	json_t *tags = image_tags(&s, id);
	is_int(json_array_size(tags), 2);
	json_decref(tags);

	json_t *deleted = NULL;
	is_int(image_remove(&s, id, false, &deleted, &e), -EBUSY);
	is_int(image_remove(&s, "mine/bb:v1", false, &deleted, &e), 0);
	is_str(json_string_value(json_object_get(json_array_get(deleted, 0), "Untagged")), "mine/bb:v1");
	json_decref(deleted);
	ok(image_get(&s, id) != NULL, "untag keeps the image");
	is_int(image_remove(&s, "busybox", false, &deleted, &e), 0);
	json_decref(deleted);
	ok(image_get(&s, id) == NULL, "last tag removes the image");
	snprintf(p, sizeof(p), "%s/layers/%s", store, l1hex);
	ok(access(p, F_OK) < 0, "unused layer removed");
	image_store_close(&s);
	rmtree(d);
}

TEST(load_oci_layout)
{
	cleanup_free char *d = tmpdir();
	char store[600], arc[600];
	snprintf(store, sizeof(store), "%s/store", d);
	snprintf(arc, sizeof(arc), "%s/arc", d);
	static char l1[1 << 16];
	const char *t1[] = {"f|hello|oci", NULL};
	size_t n1 = make_tar(t1, true, l1, sizeof(l1));
	char lhex[65], chex[65], mhex[65], name[200];
	sha256_hex(l1, n1, lhex);
	sha256_hex(CONFIG, strlen(CONFIG), chex);
	snprintf(name, sizeof(name), "blobs/sha256/%s", lhex);
	put(arc, name, l1, n1);
	snprintf(name, sizeof(name), "blobs/sha256/%s", chex);
	put(arc, name, CONFIG, strlen(CONFIG));
	char man[1024];
	snprintf(man, sizeof(man),
	         "{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:%s\"},\"layers\":[{\"digest\":\"sha256:%s\"}]}",
	         chex, lhex);
	sha256_hex(man, strlen(man), mhex);
	snprintf(name, sizeof(name), "blobs/sha256/%s", mhex);
	put(arc, name, man, strlen(man));
	char idx[1024];
	snprintf(idx, sizeof(idx),
	         "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"sha256:%s\",\"annotations\":"
	         "{\"io.containerd.image.name\":\"docker.io/library/oci:1\"}}]}",
	         mhex);
	put(arc, "index.json", idx, strlen(idx));
	put(arc, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
	struct image_store s;
	struct ros_err e = {0};
	is_int(image_store_open(&s, store, &e), 0);
	int r = load_dir(&s, arc, NULL, &e);
	ok(r == 0, "OCI load: %s", e.msg);
	const char *got;
	is_int(image_resolve(&s, "oci:1", &got, &e), 0);
	char p[1400];
	snprintf(p, sizeof(p), "%s/layers/%s/hello", store, lhex);
	ok(file_is(p, "oci"), "layer unpacked");

	/* A layer whose bytes do not match the manifest digest is refused. */
	snprintf(name, sizeof(name), "blobs/sha256/%s", lhex);
	put(arc, name, "corrupt", 7);
	image_store_close(&s);
	snprintf(store, sizeof(store), "%s/store2", d);
	is_int(image_store_open(&s, store, &e), 0);
	is_int(load_dir(&s, arc, NULL, &e), -EBADMSG);
	ok(strstr(e.msg, "digest mismatch"), "names the mismatch: %s", e.msg);
	image_store_close(&s);
	rmtree(d);
}

TEST(load_refuses_bad_archives)
{
	cleanup_free char *d = tmpdir();
	char store[600], arc[600];
	snprintf(store, sizeof(store), "%s/store", d);
	snprintf(arc, sizeof(arc), "%s/arc", d);
	put(arc, "manifest.json", "{\"not\":\"array\"}", 15);
	struct image_store s;
	struct ros_err e = {0};
	is_int(image_store_open(&s, store, &e), 0);
	is_int(load_dir(&s, arc, NULL, &e), -EINVAL);
	ok(strstr(e.msg, "manifest.json"), "names manifest.json: %s", e.msg);
	put(arc, "manifest.json", "[{\"Config\":\"../../etc/passwd\",\"Layers\":[]}]", 44);
	ok(load_dir(&s, arc, NULL, &e) < 0, "config outside the archive refused: %s", e.msg);
	image_store_close(&s);
	rmtree(d);
}

TEST(rootfs_overlay_whiteouts_and_upper)
{
	if (geteuid() != 0) {
		tap_skip("mounting overlayfs needs root");
		return;
	}
	cleanup_free char *d = tmpdir();
	char store[600], arc[600], ctr[600];
	snprintf(store, sizeof(store), "%s/store", d);
	snprintf(arc, sizeof(arc), "%s/arc", d);
	snprintf(ctr, sizeof(ctr), "%s/ctr", d);
	static char l1[1 << 16], l2[1 << 16];
	const char *t1[] = {"f|keep|base", "f|gone|base", "d|dir", "f|dir/old|base", NULL};
	const char *t2[] = {"f|.wh.gone|", "f|dir/.wh..wh..opq|", "f|dir/new|top", NULL};
	size_t n1 = make_tar(t1, false, l1, sizeof(l1));
	size_t n2 = make_tar(t2, false, l2, sizeof(l2));
	put(arc, "a/layer.tar", l1, n1);
	put(arc, "b/layer.tar", l2, n2);
	put(arc, "cfg.json", CONFIG, strlen(CONFIG));
	const char *manifest =
	        "[{\"Config\":\"cfg.json\",\"RepoTags\":[\"ov:1\"],\"Layers\":[\"a/layer.tar\",\"b/layer.tar\"]}]";
	put(arc, "manifest.json", manifest, strlen(manifest));
	struct image_store s;
	struct ros_err e = {0};
	is_int(image_store_open(&s, store, &e), 0);
	int r = load_dir(&s, arc, NULL, &e);
	if (r < 0) {
		/* whiteouts need mknod and trusted xattrs on this file system */
		tap_skip(e.msg);
		image_store_close(&s);
		rmtree(d);
		return;
	}
	const char *id;
	is_int(image_resolve(&s, "ov:1", &id, &e), 0);
	cleanup_free char *rootfs = NULL;
	r = image_rootfs_mount(&s, id, ctr, &rootfs, &e);
	if (r == -EINVAL || r == -ENODEV || r == -EPERM) {
		tap_skip("overlayfs mount not possible here");
		image_store_close(&s);
		rmtree(d);
		return;
	}
	is_int(r, 0);
	char p[1400];
	snprintf(p, sizeof(p), "%s/keep", rootfs);
	ok(file_is(p, "base"), "lower file visible");
	snprintf(p, sizeof(p), "%s/gone", rootfs);
	ok(access(p, F_OK) < 0, "whiteout hides the lower file");
	snprintf(p, sizeof(p), "%s/dir/old", rootfs);
	ok(access(p, F_OK) < 0, "opaque dir hides lower contents");
	snprintf(p, sizeof(p), "%s/dir/new", rootfs);
	ok(file_is(p, "top"), "top layer file visible");
	snprintf(p, sizeof(p), "%s/keep", rootfs);
	fs_write_atomic(p, "changed", 7, 0644, &e);
	char l1hex[65];
	sha256_hex(l1, n1, l1hex);
	snprintf(p, sizeof(p), "%s/layers/%s/keep", store, l1hex);
	ok(file_is(p, "base"), "writes go to the upper dir, not the layer");
	is_int(image_rootfs_umount(ctr, &e), 0);
	image_store_close(&s);
	rmtree(d);
}

TEST(load_checks_diff_ids)
{
	cleanup_free char *d = tmpdir();
	char store[600], arc[600];
	snprintf(store, sizeof(store), "%s/store", d);
	snprintf(arc, sizeof(arc), "%s/arc", d);
	static char plain[1 << 16], gz[1 << 16];
	const char *t[] = {"f|x|diff", NULL};
	size_t np = make_tar(t, false, plain, sizeof(plain));
	size_t ng = make_tar(t, true, gz, sizeof(gz));
	char diff[65];
	sha256_hex(plain, np, diff);
	put(arc, "l/layer.tar", gz, ng);
	char cfg[512];
	snprintf(cfg, sizeof(cfg), "{\"config\":{},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:%s\"]}}",
	         diff);
	put(arc, "cfg.json", cfg, strlen(cfg));
	const char *manifest = "[{\"Config\":\"cfg.json\",\"RepoTags\":[\"d:1\"],\"Layers\":[\"l/layer.tar\"]}]";
	put(arc, "manifest.json", manifest, strlen(manifest));
	struct image_store s;
	struct ros_err e = {0};
	is_int(image_store_open(&s, store, &e), 0);
	int r = load_dir(&s, arc, NULL, &e);
	ok(r == 0, "gzip layer matches the uncompressed diff_id: %s", e.msg);
	image_store_close(&s);

	snprintf(store, sizeof(store), "%s/store2", d);
	snprintf(cfg, sizeof(cfg), "{\"config\":{},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:%064d\"]}}",
	         0);
	put(arc, "cfg.json", cfg, strlen(cfg));
	is_int(image_store_open(&s, store, &e), 0);
	is_int(load_dir(&s, arc, NULL, &e), -EBADMSG);
	ok(strstr(e.msg, "l/layer.tar") && strstr(e.msg, "diff_ids[0]"), "names layer and diff_id: %s", e.msg);
	char p[700];
	snprintf(p, sizeof(p), "%s/layers", store);
	struct stat st;
	ok(stat(p, &st) == 0 && st.st_nlink == 2, "no layer left behind");
	const char *got;
	is_int(image_resolve(&s, "d:1", &got, &e), -ENOENT);
	image_store_close(&s);
	rmtree(d);
}

/* ---- hostile `docker load` archives ---------------------------------------
 * Each case loads an archive built in memory into ROOT/store and checks the
 * error, that the store keeps nothing of it (no tag, no layer, empty tmp/)
 * and that nothing appeared or changed beside the store under ROOT. */

struct tent {
	char type; /* f, d, l (symlink), h (hard link) */
	const char *path;
	const void *data; /* f: content; l, h: target */
	size_t len;
};

static size_t tar_build(const struct tent *t, size_t n, bool gzip, char *buf, size_t cap)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (gzip)
		archive_write_add_filter_gzip(a);
	size_t used = 0;
	archive_write_open_memory(a, buf, cap, &used);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *en = archive_entry_new();
		archive_entry_set_pathname(en, t[i].path);
		archive_entry_set_mtime(en, 1700000000, 0);
		archive_entry_set_perm(en, t[i].type == 'd' ? 0755 : 0644);
		archive_entry_set_filetype(en, t[i].type == 'd' ? AE_IFDIR : t[i].type == 'l' ? AE_IFLNK : AE_IFREG);
		if (t[i].type == 'l')
			archive_entry_set_symlink(en, t[i].data);
		else if (t[i].type == 'h')
			archive_entry_set_hardlink(en, t[i].data);
		else if (t[i].type == 'f')
			archive_entry_set_size(en, (la_int64_t)t[i].len);
		archive_write_header(a, en);
		if (t[i].type == 'f' && t[i].len)
			archive_write_data(a, t[i].data, t[i].len);
		archive_entry_free(en);
	}
	archive_write_close(a);
	archive_write_free(a);
	return used;
}

static char *listing(const char *root)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
	         "cd %s && find . -path ./store -prune -o -printf '%%p %%y %%s %%T@ %%l\\n' | LC_ALL=C sort", root);
	FILE *f = popen(cmd, "r");
	char *out = NULL;
	size_t cap = 0;
	FILE *m = open_memstream(&out, &cap);
	char line[4096];
	while (f && fgets(line, sizeof(line), f))
		fputs(line, m);
	if (f)
		pclose(f);
	fclose(m);
	return out;
}

static bool dir_empty(const char *root, const char *sub)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s/store/%s", root, sub);
	struct stat st;
	return stat(p, &st) == 0 && st.st_nlink == 2 && rmdir(p) == 0 && mkdir(p, 0700) == 0;
}

struct hostile {
	char *root;
	char store[600];
	char *before;
	struct image_store s;
};

static void hostile_begin(struct hostile *h)
{
	h->root = tmpdir();
	snprintf(h->store, sizeof(h->store), "%s/store", h->root);
	char p[700];
	struct ros_err e;
	snprintf(p, sizeof(p), "%s/victim", h->root);
	fs_write_atomic(p, "orig", 4, 0644, &e);
	snprintf(p, sizeof(p), "%s/outside", h->root);
	mkdir(p, 0755);
	image_store_open(&h->s, h->store, &e);
	h->before = listing(h->root);
}

/* Loads buf; checks the error code and message and that nothing is left. */
static void hostile_load(struct hostile *h, const void *buf, size_t len, int code, const char *msg, const char *what)
{
	int fd = memfd_create("hostile", MFD_CLOEXEC);
	if (fs_write_all(fd, buf, len) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		abort();
	struct ros_err e = {0};
	int r = image_load_fd(&h->s, fd, NULL, &e);
	close(fd);
	ok(r == code, "%s: load fails with %d (got %d: %s)", what, code, r, e.msg);
	ok(strstr(e.msg, msg) != NULL, "%s: message \"%s\" has \"%s\"", what, e.msg, msg);
	cleanup_free char *after = listing(h->root);
	ok(strcmp(h->before, after) == 0, "%s: nothing changed beside the store:\n%s---\n%s", what, h->before, after);
	ok(json_object_size(json_object_get(h->s.index, "tags")) == 0 &&
	           json_object_size(json_object_get(h->s.index, "images")) == 0,
	   "%s: no image recorded", what);
	ok(dir_empty(h->root, "tmp") && dir_empty(h->root, "layers"), "%s: store tmp/ and layers/ empty", what);
}

static void hostile_end(struct hostile *h)
{
	image_store_close(&h->s);
	rmtree(h->root);
	free(h->root);
	free(h->before);
}

static char big[4 << 20], layer[2 << 20];

/* A docker-archive with one layer (bytes given) under "l/layer.tar". */
static size_t archive_with_layer(const void *l, size_t ln, const char *manifest)
{
	const char *m =
	        manifest ? manifest : "[{\"Config\":\"cfg.json\",\"RepoTags\":[\"h:1\"],\"Layers\":[\"l/layer.tar\"]}]";
	struct tent t[] = {{'f', "cfg.json", CONFIG, strlen(CONFIG)},
	                   {'f', "l/layer.tar", l, ln},
	                   {'f', "manifest.json", m, strlen(m)}};
	return tar_build(t, ARRAY_SIZE(t), false, big, sizeof(big));
}

TEST(load_hostile_truncated_layers_and_archives)
{
	struct hostile h;
	hostile_begin(&h);
	static char payload[256 << 10];
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (char)(i * 7919 % 251);
	struct tent lt[] = {{'f', "bin/data", payload, sizeof(payload)}};
	size_t ln = tar_build(lt, 1, true, layer, sizeof(layer));
	size_t n = archive_with_layer(layer, ln / 2, NULL);
	hostile_load(&h, big, n, -EINVAL, "layer l/layer.tar: entry 0 (bin/data): data: ", "truncated gzip layer");

	n = archive_with_layer(layer, ln, NULL);
	hostile_load(&h, big, n / 2, -EINVAL, "image archive: entry 1 (l/layer.tar): data: ", "truncated outer tar");
	hostile_load(&h, big, 700, -EINVAL, "image archive", "outer tar cut in a header");
	hostile_load(&h, "", 0, -EINVAL, "image archive", "empty upload");
	hostile_end(&h);
}

TEST(load_hostile_manifest_paths)
{
	struct hostile h;
	hostile_begin(&h);
	struct tent lt[] = {{'f', "ok", "1", 1}};
	size_t ln = tar_build(lt, 1, false, layer, sizeof(layer));
	size_t n = archive_with_layer(layer, ln, "[{\"Config\":\"cfg.json\",\"Layers\":[\"../victim\"]}]");
	hostile_load(&h, big, n, -EXDEV, "layer ../victim: path leaves the archive", "manifest layer ../");
	n = archive_with_layer(layer, ln, "[{\"Config\":\"cfg.json\",\"Layers\":[\"l/../../../victim\"]}]");
	hostile_load(&h, big, n, -EXDEV, "path leaves the archive", "manifest layer l/../../..");
	char m[1024];
	snprintf(m, sizeof(m), "[{\"Config\":\"cfg.json\",\"Layers\":[\"%s/victim\"]}]", h.root);
	n = archive_with_layer(layer, ln, m);
	hostile_load(&h, big, n, -EXDEV, "path leaves the archive", "manifest layer absolute");
	n = archive_with_layer(layer, ln, "[{\"Config\":\"../victim\",\"Layers\":[]}]");
	hostile_load(&h, big, n, -EXDEV, "image config ../victim: path leaves the archive", "manifest config ../");
	n = archive_with_layer(layer, ln, "[{\"Config\":\"cfg.json\",\"Layers\":[\"l/missing.tar\"]}]");
	hostile_load(&h, big, n, -ENOENT, "layer l/missing.tar: No such file", "missing layer");

	/* Members that are symlinks out of the archive are never followed. */
	char vict[700];
	snprintf(vict, sizeof(vict), "%s/victim", h.root);
	const char *man = "[{\"Config\":\"cfg.json\",\"Layers\":[\"l/layer.tar\"]}]";
	struct tent t1[] = {{'f', "cfg.json", CONFIG, strlen(CONFIG)},
	                    {'l', "l/layer.tar", vict, 0},
	                    {'f', "manifest.json", man, strlen(man)}};
	n = tar_build(t1, 3, false, big, sizeof(big));
	hostile_load(&h, big, n, -ELOOP, "layer l/layer.tar: is a symlink", "layer member symlinked outside");
	struct tent t2[] = {{'l', "manifest.json", vict, 0}};
	n = tar_build(t2, 1, false, big, sizeof(big));
	hostile_load(&h, big, n, -ELOOP, "archive member manifest.json: is a symlink",
	             "manifest.json symlinked outside");
	hostile_end(&h);
}

TEST(load_hostile_layer_entries)
{
	struct hostile h;
	hostile_begin(&h);
	char abs_outside[700], abs_victim[700];
	snprintf(abs_outside, sizeof(abs_outside), "%s/outside", h.root);
	snprintf(abs_victim, sizeof(abs_victim), "%s/victim", h.root);
	struct {
		struct tent t[2];
		size_t n;
		int code;
		const char *msg, *what;
	} cases[] = {
	        {{{'f', "../../escaped", "x", 1}},
	         1,
	         -EXDEV,
	         "entry 0 (../../escaped): path leaves the root",
	         "layer ../"},
	        {{{'f', "a/../../escaped", "x", 1}}, 1, -EXDEV, "path leaves the root", "layer a/../.."},
	        {{{'f', abs_victim, "x", 1}}, 1, -EXDEV, "path leaves the root", "layer absolute name"},
	        {{{'l', "etc", abs_outside, 0}, {'f', "etc/passwd", "pwned", 5}},
	         2,
	         -ENOTDIR,
	         "entry 1 (etc/passwd): parent directory",
	         "absolute symlink then a write through it"},
	        {{{'l', "up", "../../..", 0}, {'f', "up/victim", "pwned", 5}},
	         2,
	         -ENOTDIR,
	         "entry 1 (up/victim): parent directory",
	         "relative symlink then a write through it"},
	        {{{'h', "stolen", "../../victim", 0}},
	         1,
	         -EXDEV,
	         "hard link target ../../victim leaves the root",
	         "hard link to ../"},
	        {{{'h', "stolen", abs_victim, 0}}, 1, -EXDEV, "leaves the root", "hard link to an absolute path"},
	        {{{'l', "up", abs_outside, 0}, {'h', "stolen", "up/x", 0}},
	         2,
	         -ENOTDIR,
	         "entry 1 (stolen): hard link target up/x",
	         "hard link through a symlink"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t ln = tar_build(cases[i].t, cases[i].n, true, layer, sizeof(layer));
		size_t n = archive_with_layer(layer, ln, NULL);
		hostile_load(&h, big, n, cases[i].code, cases[i].msg, cases[i].what);
	}
	ok(file_is(abs_victim, "orig"), "victim untouched");
	hostile_end(&h);
}

/* A ustar header block with a checksum. */
static void ustar_header(char *b, const char *name, char type, unsigned long long size)
{
	memset(b, 0, 512);
	snprintf(b, 100, "%s", name);
	memcpy(b + 100, "0000644", 7);
	memcpy(b + 108, "0000000", 7);
	memcpy(b + 116, "0000000", 7);
	snprintf(b + 124, 12, "%011llo", size);
	memcpy(b + 136, "14544335400", 11);
	b[156] = type;
	memcpy(b + 257, "ustar", 6);
	memcpy(b + 263, "00", 2);
	memset(b + 148, ' ', 8);
	unsigned sum = 0;
	for (int i = 0; i < 512; i++)
		sum += (unsigned char)b[i];
	snprintf(b + 148, 8, "%06o", sum);
}

/* A pax 'x' header with one record, then a file entry. */
static size_t pax_tar(const char *key, const char *value, size_t vlen, unsigned long long declared, char *out)
{
	size_t rec = strlen(key) + vlen + 3, digits = 1;
	while (snprintf(NULL, 0, "%zu", rec + digits) > (int)digits)
		digits++;
	rec += digits;
	char *p = out;
	ustar_header(p, "PaxHeaders/f", 'x', declared ? declared : rec);
	p += 512;
	int w = sprintf(p, "%zu %s=", rec, key);
	memcpy(p + w, value, vlen);
	p[w + vlen] = '\n';
	p += (rec + 511) / 512 * 512;
	ustar_header(p, "f", '0', 1);
	p += 512;
	*p = 'x';
	p += 512;
	memset(p, 0, 1024);
	return (size_t)(p + 1024 - out);
}

TEST(load_hostile_pax_headers)
{
	struct hostile h;
	hostile_begin(&h);
	static char pax[1 << 20], longpath[200 << 10];
	memset(longpath, 'a', sizeof(longpath));
	for (size_t i = 100; i < sizeof(longpath); i += 100)
		longpath[i] = '/';
	size_t ln = pax_tar("path", longpath, sizeof(longpath), 0, pax);
	size_t n = archive_with_layer(pax, ln, NULL);
	hostile_load(&h, big, n, -ENAMETOOLONG, "name longer than 4096 bytes", "pax path of 200 KiB");
	ln = pax_tar("size", "99999999999999999999", 20, 0, pax);
	n = archive_with_layer(pax, ln, NULL);
	hostile_load(&h, big, n, -EINVAL, "layer l/layer.tar: entry 0", "pax size out of range");
	ln = pax_tar("size", "1099511627776", 13, 0, pax);
	n = archive_with_layer(pax, ln, NULL);
	hostile_load(&h, big, n, -EFBIG, "size 1099511627776 is out of range", "pax size of 1 TiB");
	ln = pax_tar("path", "x", 1, 1ULL << 40, pax);
	n = archive_with_layer(pax, ln, NULL);
	hostile_load(&h, big, n, -EINVAL, "layer l/layer.tar: entry 0: bad tar header", "pax header claiming 1 TiB");
	hostile_end(&h);
}

TEST(load_hostile_huge_manifest)
{
	struct hostile h;
	hostile_begin(&h);
	/* 100 MB of manifest.json: written to a file, the limit refuses it. */
	char p[700];
	snprintf(p, sizeof(p), "%s/outside/huge.tar", h.root);
	int fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	char hdr[512];
	ustar_header(hdr, "manifest.json", '0', 100ULL << 20);
	fs_write_all(fd, hdr, sizeof(hdr));
	static char blank[1 << 20];
	memset(blank, ' ', sizeof(blank));
	blank[0] = '[';
	for (int i = 0; i < 100; i++)
		fs_write_all(fd, blank, sizeof(blank));
	memset(blank, 0, 1024);
	fs_write_all(fd, blank, 1024);
	lseek(fd, 0, SEEK_SET);
	free(h.before);
	h.before = listing(h.root);
	struct ros_err e = {0};
	is_int(image_load_fd(&h.s, fd, NULL, &e), -EFBIG);
	ok(strstr(e.msg, "manifest.json") && strstr(e.msg, "larger than"), "names the member and limit: %s", e.msg);
	close(fd);
	cleanup_free char *after = listing(h.root);
	ok(strcmp(h.before, after) == 0, "nothing changed beside the store");
	ok(dir_empty(h.root, "tmp"), "store tmp/ empty");
	hostile_end(&h);
}

TEST(extract_zstd_layer)
{
	static char buf[1 << 16];
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (archive_write_add_filter_zstd(a) != ARCHIVE_OK) {
		archive_write_free(a);
		tap_skip("libarchive without zstd");
		return;
	}
	size_t used = 0;
	archive_write_open_memory(a, buf, sizeof(buf), &used);
	struct archive_entry *en = archive_entry_new();
	archive_entry_set_pathname(en, "z");
	archive_entry_set_filetype(en, AE_IFREG);
	archive_entry_set_perm(en, 0644);
	archive_entry_set_size(en, 4);
	archive_write_header(a, en);
	archive_write_data(a, "zstd", 4);
	archive_entry_free(en);
	archive_write_close(a);
	archive_write_free(a);
	cleanup_free char *d = tmpdir();
	cleanup_close int dfd = open(d, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct image_extract_opts o = {0};
	struct ros_err e = {0};
	is_int(image_tar_extract_mem(buf, used, dfd, &o, &e), 0);
	char p[600];
	snprintf(p, sizeof(p), "%s/z", d);
	ok(file_is(p, "zstd"), "zstd layer unpacked: %s", e.msg);
	rmtree(d);
}
