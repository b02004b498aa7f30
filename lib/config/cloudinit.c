/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "cloudinit.h"

#include <blkid.h>
#include <ctype.h>
#include <curl/curl.h>
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "core/cleanup.h"
#include "core/fs.h"

#define CI_MAX_USER_DATA (16u << 20)

static const char *rp(char *buf, size_t size, const struct ci_opts *o, const char *abs)
{
	snprintf(buf, size, "%s%s", o->root ? o->root : "", abs);
	return buf;
}

/* ---- decoding ---- */

static int b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

static int b64_decode(const char *in, char **out, size_t *len, struct ros_err *e)
{
	size_t n = strlen(in);
	cleanup_free char *buf = malloc(n / 4 * 3 + 4);
	if (!buf)
		return err_set(e, ENOMEM, "base64");
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '=' || c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		int v = b64_value(c);
		if (v < 0)
			return err_setx(e, EINVAL, "invalid base64 character '%c' at offset %zu", c, i);
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	buf[o] = '\0';
	*len = o;
	*out = TAKE_PTR(buf);
	return 0;
}

static int gunzip(const char *in, size_t in_len, char **out, size_t *len, struct ros_err *e)
{
	z_stream z = {0};
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return err_setx(e, ENOMEM, "gzip: cannot initialise");
	size_t cap = in_len * 4 + 1024, o = 0;
	char *buf = malloc(cap);
	if (!buf) {
		inflateEnd(&z);
		return err_set(e, ENOMEM, "gzip");
	}
	int r = 0;
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)in_len;
	for (;;) {
		if (cap - o < 1024) {
			if (cap >= CI_MAX_USER_DATA) {
				r = err_setx(e, EFBIG, "gzip: expands past %u bytes", CI_MAX_USER_DATA);
				break;
			}
			cap *= 2;
			char *nb = realloc(buf, cap);
			if (!nb) {
				r = err_set(e, ENOMEM, "gzip");
				break;
			}
			buf = nb;
		}
		z.next_out = (Bytef *)buf + o;
		z.avail_out = (uInt)(cap - o - 1);
		int zr = inflate(&z, Z_NO_FLUSH);
		o = cap - 1 - z.avail_out;
		if (zr == Z_STREAM_END)
			break;
		if (zr != Z_OK) {
			r = err_setx(e, EINVAL, "gzip: corrupt data (%s)", z.msg ? z.msg : "inflate failed");
			break;
		}
		if (z.avail_in == 0 && z.avail_out > 0) {
			r = err_setx(e, EINVAL, "gzip: truncated data");
			break;
		}
	}
	inflateEnd(&z);
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[o] = '\0';
	*out = buf;
	*len = o;
	return 0;
}

static bool is_gzip(const char *b, size_t len)
{
	return len >= 2 && (unsigned char)b[0] == 0x1f && (unsigned char)b[1] == 0x8b;
}

int ci_decode_content(const char *content, const char *encoding, char **out, size_t *len, struct ros_err *e)
{
	if (!encoding || !strcmp(encoding, "text/plain")) {
		*out = strdup(content);
		*len = strlen(content);
		return *out ? 0 : err_set(e, ENOMEM, "content");
	}
	bool b64 = strstr(encoding, "b64") || strstr(encoding, "base64");
	bool gz = !strncmp(encoding, "gz", 2);
	cleanup_free char *raw = NULL;
	size_t raw_len = 0;
	if (b64) {
		int r = b64_decode(content, &raw, &raw_len, e);
		if (r < 0)
			return r;
	} else {
		raw = strdup(content);
		raw_len = strlen(content);
	}
	if (!raw)
		return err_set(e, ENOMEM, "content");
	if (gz)
		return gunzip(raw, raw_len, out, len, e);
	*out = TAKE_PTR(raw);
	*len = raw_len;
	return 0;
}

/* ---- datasources ---- */

struct ci_found {
	char *user_data;
	size_t len;
	char *hostname;
	char *instance_id;
};

static void found_clear(struct ci_found *f)
{
	free(f->user_data);
	free(f->hostname);
	free(f->instance_id);
	memset(f, 0, sizeof(*f));
}

struct http_buf {
	char *data;
	size_t len, max;
};

static size_t http_write(char *p, size_t size, size_t n, void *ud)
{
	struct http_buf *b = ud;
	size_t add = size * n;
	if (b->len + add > b->max)
		return 0;
	char *nb = realloc(b->data, b->len + add + 1);
	if (!nb)
		return 0;
	memcpy(nb + b->len, p, add);
	b->data = nb;
	b->len += add;
	b->data[b->len] = '\0';
	return add;
}

/* libcurl, loaded on first use: only the url and ec2 datasources need it,
 * and linking it would make every `ros` command load some thirty libraries
 * (TLS, Kerberos, LDAP, ...) at start. */
struct curl_api {
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
};

static const struct curl_api *curl_api(struct ros_err *e)
{
	static struct curl_api api;
	static int state; /* 0: not tried, 1: loaded, -1: not there */
	if (state == 0) {
		void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
		state = -1;
		if (h) {
			*(void **)&api.easy_init = dlsym(h, "curl_easy_init");
			*(void **)&api.easy_setopt = dlsym(h, "curl_easy_setopt");
			*(void **)&api.easy_perform = dlsym(h, "curl_easy_perform");
			*(void **)&api.easy_getinfo = dlsym(h, "curl_easy_getinfo");
			*(void **)&api.easy_cleanup = dlsym(h, "curl_easy_cleanup");
			*(void **)&api.easy_strerror = dlsym(h, "curl_easy_strerror");
			if (api.easy_init && api.easy_setopt && api.easy_perform && api.easy_getinfo &&
			    api.easy_cleanup && api.easy_strerror)
				state = 1;
		}
	}
	if (state == 1)
		return &api;
	err_setx(e, ENOSYS, "libcurl.so.4 cannot be loaded: %s", dlerror() ?: "a symbol is missing");
	return NULL;
}

/* GET url; 1 = 200 with body, 0 = 404, <0 = error. */
static int http_get(const char *url, int timeout_s, char **out, size_t *len, struct ros_err *e)
{
	const struct curl_api *cu = curl_api(e);
	if (!cu)
		return err_prefix(e, "%s", url);
	CURL *c = cu->easy_init();
	if (!c)
		return err_setx(e, ENOMEM, "%s: cannot initialise libcurl", url);
	struct http_buf b = {.max = CI_MAX_USER_DATA};
	char errbuf[CURL_ERROR_SIZE] = "";
	cu->easy_setopt(c, CURLOPT_URL, url);
	cu->easy_setopt(c, CURLOPT_WRITEFUNCTION, http_write);
	cu->easy_setopt(c, CURLOPT_WRITEDATA, &b);
	cu->easy_setopt(c, CURLOPT_TIMEOUT, (long)timeout_s);
	cu->easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)(timeout_s < 2 ? timeout_s : 2));
	cu->easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	cu->easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	cu->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cu->easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	cu->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	CURLcode cr = cu->easy_perform(c);
	long status = 0;
	cu->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	cu->easy_cleanup(c);
	if (cr != CURLE_OK) {
		free(b.data);
		return err_setx(e, EIO, "%s: %s", url, errbuf[0] ? errbuf : cu->easy_strerror(cr));
	}
	if (status == 404) {
		free(b.data);
		return 0;
	}
	if (status != 200) {
		free(b.data);
		return err_setx(e, EIO, "%s: HTTP status %ld", url, status);
	}
	*out = b.data ? b.data : strdup("");
	if (!*out)
		return err_set(e, ENOMEM, "%s", url);
	*len = b.len;
	return 1;
}

static int ds_url(const char *url, const struct ci_opts *o, struct ci_found *f, struct ros_err *e)
{
	int r = http_get(url, o->timeout_s, &f->user_data, &f->len, e);
	if (r == 0)
		return err_setx(e, ENOENT, "%s: not found (HTTP 404)", url);
	return r < 0 ? r : 1;
}

static char *trim_dup(const char *s)
{
	if (!s)
		return NULL;
	while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
		s++;
	size_t l = strlen(s);
	while (l && strchr(" \n\r\t", s[l - 1]))
		l--;
	return strndup(s, l);
}

static int ds_ec2(const char *base, const struct ci_opts *o, struct ci_found *f, struct ros_err *e)
{
	char url[1024];
	snprintf(url, sizeof(url), "%s/latest/user-data", base);
	int r = http_get(url, o->timeout_s, &f->user_data, &f->len, e);
	if (r < 0)
		return r;
	char *v = NULL;
	size_t l;
	snprintf(url, sizeof(url), "%s/latest/meta-data/hostname", base);
	if (http_get(url, o->timeout_s, &v, &l, NULL) == 1) {
		f->hostname = trim_dup(v);
		free(v);
	}
	snprintf(url, sizeof(url), "%s/latest/meta-data/instance-id", base);
	if (http_get(url, o->timeout_s, &v, &l, NULL) == 1) {
		f->instance_id = trim_dup(v);
		free(v);
	}
	if (r == 0 && !f->hostname)
		return err_setx(e, ENOENT, "%s: no user-data or meta-data", base);
	return 1;
}

/* meta-data of NoCloud is YAML: instance-id, local-hostname / hostname. */
static void parse_nocloud_meta(const char *buf, size_t len, struct ci_found *f)
{
	struct cfg_node *m = NULL;
	if (cfg_parse_yaml(buf, len, "meta-data", &m, NULL) < 0)
		return;
	const char *h = cfg_get_string(m, "local-hostname", cfg_get_string(m, "hostname", NULL));
	const char *id = cfg_get_string(m, "instance-id", NULL);
	if (h)
		f->hostname = strdup(h);
	if (id)
		f->instance_id = strdup(id);
	cfg_free(m);
}

static void parse_configdrive_meta(const char *buf, struct ci_found *f)
{
	json_t *j = json_loads(buf, 0, NULL);
	if (!j)
		return;
	const char *h = json_string_value(json_object_get(j, "hostname"));
	if (!h)
		h = json_string_value(json_object_get(j, "name"));
	const char *id = json_string_value(json_object_get(j, "uuid"));
	if (h)
		f->hostname = strdup(h);
	if (id)
		f->instance_id = strdup(id);
	json_decref(j);
}

static int read_opt(const char *dir, const char *rel, char **out, size_t *len)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return fs_read_all(p, CI_MAX_USER_DATA, out, len, NULL);
}

/* Reads user-data/meta-data from a directory laid out as NoCloud or config-2. */
static int ds_read_dir(const char *dir, bool configdrive, struct ci_found *f, struct ros_err *e)
{
	cleanup_free char *meta = NULL;
	size_t mlen = 0;
	if (configdrive) {
		read_opt(dir, "openstack/latest/user_data", &f->user_data, &f->len);
		if (read_opt(dir, "openstack/latest/meta_data.json", &meta, &mlen) == 0)
			parse_configdrive_meta(meta, f);
	} else {
		read_opt(dir, "user-data", &f->user_data, &f->len);
		if (read_opt(dir, "meta-data", &meta, &mlen) == 0)
			parse_nocloud_meta(meta, mlen, f);
	}
	if (!f->user_data && !f->hostname)
		return err_setx(e, ENOENT, "%s: no user-data or meta-data", dir);
	return 1;
}

/* Runs argv quietly; 0 when it exited 0. */
static int run_quiet(char *const argv[])
{
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

/* When the kernel cannot mount the filesystem (no iso9660/vfat driver),
 * copy its files out in userspace with xorriso or mtools. */
static int extract_userspace(const char *dev, const char *type, const char *dir, struct ros_err *e)
{
	if (!strcmp(type, "iso9660")) {
		char indev[PATH_MAX + 8];
		snprintf(indev, sizeof(indev), "stdio:%s", dev);
		char *argv[] = {"xorriso", "-osirrox", "on", "-indev", indev, "-extract", "/", (char *)(uintptr_t)dir,
		                NULL};
		if (run_quiet(argv) == 0)
			return 0;
	} else if (!strcmp(type, "vfat")) {
		char src[] = "::/";
		char *argv[] = {"mcopy", "-s", "-n", "-i", (char *)(uintptr_t)dev, src, (char *)(uintptr_t)dir, NULL};
		if (run_quiet(argv) == 0)
			return 0;
	}
	return err_setx(e, ENODEV, "%s: the kernel cannot mount %s and it could not be read in userspace", dev, type);
}

static int ds_label(const char *label, bool configdrive, struct ci_found *f, struct ros_err *e)
{
	blkid_cache cache = NULL;
	if (blkid_get_cache(&cache, "/dev/null") < 0)
		return err_setx(e, EIO, "blkid: cannot open a cache");
	blkid_probe_all(cache);
	cleanup_free char *dev = blkid_get_devname(cache, "LABEL", label);
	if (!dev) {
		/* vfat labels are upper case on disk */
		char upper[64];
		size_t i = 0;
		for (; i < sizeof(upper) - 1 && label[i]; i++)
			upper[i] = (char)toupper((unsigned char)label[i]);
		upper[i] = '\0';
		dev = blkid_get_devname(cache, "LABEL", upper);
	}
	cleanup_free char *type = dev ? blkid_get_tag_value(cache, "TYPE", dev) : NULL;
	blkid_put_cache(cache);
	if (!dev)
		return err_setx(e, ENOENT, "no filesystem labelled %s", label);
	if (!type || (strcmp(type, "iso9660") != 0 && strcmp(type, "vfat") != 0))
		return err_setx(e, EINVAL, "%s (label %s): expected iso9660 or vfat, found %s", dev, label,
		                type ? type : "no filesystem");
	char dir[] = "/tmp/ros-cidata.XXXXXX";
	if (!mkdtemp(dir))
		return err_set(e, errno, "mkdtemp");
	bool mounted = mount(dev, dir, type, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0;
	int r = 0;
	if (!mounted) {
		int er = errno;
		if (er == ENODEV)
			r = extract_userspace(dev, type, dir, e);
		else
			r = err_set(e, er, "mount %s (label %s) on %s", dev, label, dir);
	}
	if (r >= 0)
		r = ds_read_dir(dir, configdrive, f, e);
	if (mounted) {
		umount2(dir, MNT_DETACH);
		rmdir(dir);
	} else {
		fs_remove_tree(dir, NULL);
	}
	if (r < 0)
		return err_prefix(e, "%s (label %s)", dev, label);
	return r;
}

static int try_datasource(const char *ds, const struct ci_opts *o, const struct cfg_node *cfg, struct ci_found *f,
                          struct ros_err *e)
{
	if (!strcmp(ds, "nocloud"))
		return o->no_devices ? 0 : ds_label("cidata", false, f, e);
	if (!strcmp(ds, "configdrive"))
		return o->no_devices ? 0 : ds_label("config-2", true, f, e);
	if (!strncmp(ds, "file:", 5)) {
		char p[PATH_MAX];
		int r = fs_read_all(rp(p, sizeof(p), o, ds + 5), CI_MAX_USER_DATA, &f->user_data, &f->len, e);
		return r < 0 ? r : 1;
	}
	if (!strncmp(ds, "dir:", 4)) {
		char p[PATH_MAX];
		return ds_read_dir(rp(p, sizeof(p), o, ds + 4), false, f, e);
	}
	if (!strcmp(ds, "url")) {
		const char *url = cfg_get_string(cfg, "ros.cloud_config_url", NULL);
		return url ? ds_url(url, o, f, e) : 0;
	}
	if (!strncmp(ds, "url:", 4))
		return ds_url(ds + 4, o, f, e);
	if (!strcmp(ds, "ec2"))
		return ds_ec2(cfg_get_string(cfg, "ros.cloud_init.ec2_url", "http://169.254.169.254"), o, f, e);
	return err_setx(e, EINVAL,
	                "ros.cloud_init.datasources: unknown datasource '%s' (nocloud, configdrive, "
	                "file:PATH, url, url:URL, ec2)",
	                ds);
}

static int save_found(const struct ci_opts *o, struct ci_found *f, struct cfg_diag *d)
{
	char p[PATH_MAX];
	int failures = 0;
	fs_mkdir_p(rp(p, sizeof(p), o, CFG_DIR_CLOUD_D), 0700, NULL);
	fs_mkdir_p(rp(p, sizeof(p), o, CI_DIR_STATE), 0700, NULL);
	if (f->user_data && is_gzip(f->user_data, f->len)) {
		char *plain = NULL;
		size_t plen = 0;
		struct ros_err e = {0};
		if (gunzip(f->user_data, f->len, &plain, &plen, &e) < 0) {
			cfg_diag_add(d, true, "user-data: %s", err_msg(&e));
			return 1;
		}
		free(f->user_data);
		f->user_data = plain;
		f->len = plen;
	}
	if (f->user_data && f->len) {
		struct ros_err e = {0};
		if (!strncmp(f->user_data, "#cloud-config", 13)) {
			struct cfg_node *n = NULL;
			if (cfg_parse_yaml(f->user_data, f->len, "user-data", &n, &e) < 0) {
				cfg_diag_add(d, true, "%s", err_msg(&e));
				failures++;
			}
			cfg_free(n);
			/* saved even when broken: the layer loader sets it aside with the reason */
			if (fs_write_atomic(rp(p, sizeof(p), o, CI_PATH_USER_DATA), f->user_data, f->len, 0600, &e) < 0)
				cfg_diag_add(d, true, "save user-data: %s", err_msg(&e)), failures++;
		} else if (!strncmp(f->user_data, "#!", 2)) {
			if (fs_write_atomic(rp(p, sizeof(p), o, CI_PATH_SCRIPT), f->user_data, f->len, 0700, &e) < 0)
				cfg_diag_add(d, true, "save user-data script: %s", err_msg(&e)), failures++;
		} else {
			cfg_diag_add(d, true,
			             "user-data: unsupported format (expected #cloud-config, #! or gzip): "
			             "starts with \"%.20s\"",
			             f->user_data);
			failures++;
		}
	}
	if (f->hostname) {
		struct cfg_node *m = cfg_new(CFG_MAP);
		struct ros_err e = {0};
		if (m && cfg_map_set(m, "hostname", cfg_new_string(f->hostname)) == 0 &&
		    cfg_write_layer(o->root, CI_PATH_META_DATA, m, &e) < 0)
			cfg_diag_add(d, true, "save meta-data: %s", err_msg(&e)), failures++;
		cfg_free(m);
	}
	if (f->instance_id)
		fs_write_atomic(rp(p, sizeof(p), o, CI_DIR_STATE "/instance-id"), f->instance_id,
		                strlen(f->instance_id), 0600, NULL);
	return failures;
}

int ci_fetch(const struct ci_opts *o, struct cfg_diag *d, char *source, size_t source_size)
{
	struct cfg_node *cfg = NULL;
	struct ros_err e = {0};
	struct cfg_diag ignore = {0};
	if (cfg_load_merged(o->root, o->cmdline, 0, &cfg, &ignore, &e) < 0) {
		cfg_diag_add(d, true, "config: %s", err_msg(&e));
		return 0;
	}
	cfg_diag_free(&ignore);
	static const char *const dflt[] = {"nocloud", "configdrive", "url"};
	const struct cfg_node *list = cfg_get(cfg, "ros.cloud_init.datasources");
	size_t n = list && list->type == CFG_LIST ? list->list.n : sizeof(dflt) / sizeof(dflt[0]);
	int found = 0;
	for (size_t i = 0; i < n && !found; i++) {
		const char *ds = dflt[i < 3 ? i : 0];
		if (list && list->type == CFG_LIST) {
			const struct cfg_node *it = list->list.items[i];
			if (it->type != CFG_STRING) {
				cfg_diag_add(d, true, "ros.cloud_init.datasources[%zu]: expected string, got %s", i,
				             cfg_type_name(it->type));
				continue;
			}
			ds = it->s;
		}
		struct ci_found f = {0};
		err_clear(&e);
		int r = try_datasource(ds, o, cfg, &f, &e);
		if (r > 0) {
			save_found(o, &f, d);
			snprintf(source, source_size, "%s", ds);
			char p[PATH_MAX];
			fs_write_atomic(rp(p, sizeof(p), o, CI_DIR_STATE "/datasource"), ds, strlen(ds), 0600, NULL);
			found = 1;
		} else if (r < 0) {
			cfg_diag_add(d, false, "datasource %s: %s", ds, err_msg(&e));
		}
		found_clear(&f);
	}
	cfg_free(cfg);
	return found;
}
