/* SPDX-License-Identifier: MIT */
/*
 * `docker pull`: the registry v2 API over libcurl's blocking easy
 * interface (the engine runs a pull in a worker process).
 *
 *   GET /v2/REPO/manifests/REF   an index (pick linux/amd64) or a manifest
 *   GET /v2/REPO/blobs/DIGEST    the config and each layer
 *
 * A 401 carries a WWW-Authenticate challenge: Bearer (fetch a token from
 * the realm, anonymously or with Basic credentials) or Basic.  Redirects
 * are followed by hand so that every hop is checked against the transport
 * policy (HTTPS, or plain HTTP to loopback and insecure hosts only) and
 * credentials never leave the registry's host.  Every blob lands in an
 * O_TMPFILE and is linked into the store only when its digest matches.
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "image/image.h"
#include "image/internal.h"

#define MAX_MANIFEST (4 << 20)
#define MAX_SMALL_BODY (64 << 10) /* tokens, error bodies */
#define MAX_LAYERS 256
#define MAX_REDIRECTS 5

#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"

struct puller {
	struct image_store *s;
	const struct image_pull_opts *o;
	struct image_ref ref;
	CURL *curl;
	char base[320];    /* scheme://host[:port] as requests are made */
	char origin[600];  /* scheme://host:port, port explicit, to compare with */
	char *authz;       /* "Authorization: ..." for the registry host, or NULL */
	bool auth_retried; /* one fresh challenge per request */
	char errbuf[CURL_ERROR_SIZE];
	/* o->certs_dir/HOST[:PORT] (Docker's certs.d), for the registry host
	 * only: the system's CA bundle plus that directory's *.crt as one PEM
	 * blob (NULL: curl's bundle alone), and a client certificate */
	char *ca_pem;
	size_t ca_len;
	char client_cert[PATH_MAX], client_key[PATH_MAX];
};

/* Where a response goes: memory (capped) or a file, plus what its headers
 * said.  The body of a non-200 answer always goes to memory (at most
 * MAX_SMALL_BODY, the rest dropped) so that the registry's error can be
 * quoted and it never counts against a blob's size. */
struct sink {
	char *buf;
	size_t len, cap, max;
	int fd;
	uint64_t got, limit;
	bool over, write_failed;
	long status;
	char www_auth[2048];
	char content_type[256];
	/* download progress */
	struct puller *p;
	const char *id;
	uint64_t total, shown;
};

static void puller_free(struct puller *p)
{
	if (p->curl)
		curl_easy_cleanup(p->curl);
	free(p->authz);
	free(p->ca_pem);
}

static int pem_append(struct puller *p, const char *path, struct ros_err *e)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;
	int r = fs_read_all(path, 4u << 20, &buf, &len, e);
	if (r < 0)
		return r;
	char *n = realloc(p->ca_pem, p->ca_len + len + 2);
	if (!n)
		return err_set(e, ENOMEM, "%s", path);
	p->ca_pem = n;
	memcpy(n + p->ca_len, buf, len);
	p->ca_len += len;
	if (len && buf[len - 1] != '\n')
		n[p->ca_len++] = '\n';
	n[p->ca_len] = '\0';
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), k = strlen(suf);
	return n > k && strcmp(s + n - k, suf) == 0;
}

/* Docker's certs.d for the registry host: every *.crt is a CA trusted
 * beside the system's (for that host alone), a NAME.cert with its NAME.key
 * is the client certificate.  No directory: nothing to do. */
static int certs_load(struct puller *p, struct ros_err *e)
{
	if (!p->o || !p->o->certs_dir || !p->o->certs_dir[0])
		return 0;
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/%s", p->o->certs_dir, p->ref.host);
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, by_name);
	if (n < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return err_set(e, errno, "registry certificates %s", dir);
	}
	int r = 0;
	bool system_added = false;
	for (int i = 0; i < n && r == 0; i++) {
		const char *f = ents[i]->d_name;
		char path[PATH_MAX + 256];
		snprintf(path, sizeof(path), "%s/%s", dir, f);
		if (has_suffix(f, ".crt")) {
			if (!system_added) {
				/* a blob replaces curl's bundle: the system's goes first */
				char *sys = NULL;
				system_added = true;
				if (curl_easy_getinfo(p->curl, CURLINFO_CAINFO, &sys) == CURLE_OK && sys &&
				    access(sys, R_OK) == 0)
					r = pem_append(p, sys, e);
				if (r < 0)
					break;
			}
			r = pem_append(p, path, e);
		} else if (has_suffix(f, ".cert") && !p->client_cert[0]) {
			char key[PATH_MAX + 256];
			snprintf(key, sizeof(key), "%.*s.key", (int)(strlen(path) - 5), path);
			if (access(key, R_OK) < 0)
				r = err_set(e, errno, "client certificate %s: its key %s", path, key);
			snprintf(p->client_cert, sizeof(p->client_cert), "%s", path);
			snprintf(p->client_key, sizeof(p->client_key), "%s", key);
		}
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return r;
}

static void progress(struct puller *p, const char *id, const char *status, uint64_t cur, uint64_t total)
{
	if (p->o && p->o->progress)
		p->o->progress(p->o->arg, id, status, cur, total);
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct sink *k = arg;
	size_t len = size * n;
	char line[2048];
	size_t l = len < sizeof(line) - 1 ? len : sizeof(line) - 1;
	memcpy(line, data, l);
	line[l] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if (strncmp(line, "HTTP/", 5) == 0) { /* a new response (e.g. after 100 Continue) */
		k->www_auth[0] = k->content_type[0] = '\0';
		const char *sp = strchr(line, ' ');
		k->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		return len;
	}
	char *colon = strchr(line, ':');
	if (!colon)
		return len;
	*colon = '\0';
	const char *v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	/* Several challenges may come; Bearer is preferred over Basic. */
	if (strcasecmp(line, "WWW-Authenticate") == 0 && (!k->www_auth[0] || strncasecmp(v, "Bearer", 6) == 0))
		snprintf(k->www_auth, sizeof(k->www_auth), "%s", v);
	else if (strcasecmp(line, "Content-Type") == 0)
		snprintf(k->content_type, sizeof(k->content_type), "%.*s", (int)strcspn(v, "; "), v);
	return len;
}

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	struct sink *k = arg;
	size_t len = size * n;
	if (k->status != 200) {
		size_t room = MAX_SMALL_BODY - k->len;
		if (k->len < MAX_SMALL_BODY && !k->write_failed) {
			char *nb = k->cap >= MAX_SMALL_BODY + 1 ? k->buf : realloc(k->buf, MAX_SMALL_BODY + 1);
			if (!nb)
				return len;
			k->buf = nb;
			k->cap = MAX_SMALL_BODY + 1;
			size_t take = len < room ? len : room;
			memcpy(k->buf + k->len, data, take);
			k->len += take;
			k->buf[k->len] = '\0';
		}
		return len;
	}
	if (k->got + len > k->limit) {
		k->over = true;
		return 0;
	}
	k->got += len;
	if (k->fd >= 0) {
		if (fs_write_all(k->fd, data, len) < 0) {
			k->write_failed = true;
			return 0;
		}
		/* Docker updates its bars a few times a second; every 512 KiB
		 * or 1% is close enough without a clock. */
		uint64_t step = k->total / 100 > (512 << 10) ? k->total / 100 : (512 << 10);
		if (k->id && (k->got - k->shown >= step || k->got == k->total)) {
			k->shown = k->got;
			progress(k->p, k->id, "Downloading", k->got, k->total);
		}
		return len;
	}
	if (k->len + len + 1 > k->cap) {
		size_t cap = (k->len + len + 1) * 2;
		if (cap > k->max + 1)
			cap = k->max + 1;
		char *nb = realloc(k->buf, cap);
		if (!nb) {
			k->write_failed = true;
			return 0;
		}
		k->buf = nb;
		k->cap = cap;
	}
	memcpy(k->buf + k->len, data, len);
	k->len += len;
	k->buf[k->len] = '\0';
	return len;
}

static int sink_reset(struct sink *k)
{
	k->len = 0;
	if (k->buf)
		k->buf[0] = '\0';
	k->got = k->shown = 0;
	k->over = k->write_failed = false;
	k->status = 0;
	k->www_auth[0] = k->content_type[0] = '\0';
	if (k->fd >= 0 && (ftruncate(k->fd, 0) < 0 || lseek(k->fd, 0, SEEK_SET) < 0))
		return -errno;
	return 0;
}

/* The path part of a URL for error messages ("/v2/busybox/manifests/1"). */
static const char *url_path(const char *url)
{
	const char *p = strstr(url, "://");
	p = p ? strchr(p + 3, '/') : NULL;
	return p ? p : url;
}

static bool is_loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 ||
	       strcmp(host, "[::1]") == 0;
}

/* Plain HTTP is allowed to loopback and to hosts listed as insecure
 * ("host:port", or "host" for any port). */
static bool plain_http_allowed(const struct puller *p, const char *host, const char *port)
{
	if (is_loopback(host))
		return true;
	char hp[320];
	snprintf(hp, sizeof(hp), "%s:%s", host, port);
	for (const char *const *i = p->o ? p->o->insecure : NULL; i && *i; i++)
		if (strcasecmp(*i, hp) == 0 || strcasecmp(*i, host) == 0)
			return true;
	return false;
}

/* Checks url against the transport policy; origin (optional) gets its
 * "scheme://host:port" with the port made explicit. */
static int url_check(struct puller *p, const char *url, char *origin, size_t size, struct ros_err *e)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	int r = 0;
	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		r = err_setx(e, EINVAL, "bad URL %s", url);
		goto out;
	}
	if (strcasecmp(scheme, "https") != 0 &&
	    !(strcasecmp(scheme, "http") == 0 && plain_http_allowed(p, host, port))) {
		r = err_setx(e, EPERM,
		             "refusing %s: plain HTTP goes only to loopback or an insecure registry, no other scheme "
		             "at all",
		             url);
		goto out;
	}
	if (origin)
		snprintf(origin, size, "%s://%s:%s", scheme, host, port);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return r;
}

static void no_proxy_for_loopback(CURL *c)
{
	/* curl takes proxies from the environment; loopback never goes through one. */
	const char *np = getenv("no_proxy");
	if (!np)
		np = getenv("NO_PROXY");
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s%slocalhost,127.0.0.1,::1", np ? np : "", np && *np ? "," : "");
	curl_easy_setopt(c, CURLOPT_NOPROXY, buf);
}

/* GET url into k, following redirects by hand.  extra_authz (optional)
 * overrides the registry's Authorization for this request (token fetch). */
static int http_get(struct puller *p, const char *url0, const char *accept, const char *extra_authz, struct sink *k,
                    struct ros_err *e)
{
	cleanup_free char *url = strdup(url0);
	if (!url)
		return err_set(e, ENOMEM, "GET %s", url_path(url0));
	for (int hop = 0;; hop++) {
		char origin[600];
		int r = url_check(p, url, origin, sizeof(origin), e);
		if (r < 0)
			return r;
		bool same = strcasecmp(origin, p->origin) == 0;
		if ((r = sink_reset(k)) < 0)
			return err_set(e, r, "GET %s: truncating the download", url_path(url));
		struct curl_slist *h = NULL;
		if (accept) {
			char a[512];
			snprintf(a, sizeof(a), "Accept: %s", accept);
			h = curl_slist_append(h, a);
		}
		if (extra_authz && hop == 0)
			h = curl_slist_append(h, extra_authz);
		else if (!extra_authz && same && p->authz)
			h = curl_slist_append(h, p->authz);
		CURL *c = p->curl;
		curl_easy_reset(c);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
		curl_easy_setopt(c, CURLOPT_USERAGENT, "ros/" ROS_VERSION);
		curl_easy_setopt(c, CURLOPT_ERRORBUFFER, p->errbuf);
		curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(c, CURLOPT_HEADERDATA, k);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, k);
		if (same && p->ca_pem) {
			struct curl_blob b = {.data = p->ca_pem, .len = p->ca_len, .flags = CURL_BLOB_NOCOPY};
			curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &b);
		}
		if (same && p->client_cert[0]) {
			curl_easy_setopt(c, CURLOPT_SSLCERT, p->client_cert);
			curl_easy_setopt(c, CURLOPT_SSLKEY, p->client_key);
		}
		no_proxy_for_loopback(c);
		p->errbuf[0] = '\0';
		CURLcode cc = curl_easy_perform(c);
		curl_slist_free_all(h);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &k->status);
		if (k->over)
			return err_setx(e, EFBIG, "GET %s: response larger than %llu bytes", url_path(url),
			                (unsigned long long)k->limit);
		if (k->write_failed)
			return err_set(e, errno ? errno : EIO, "GET %s: storing the response", url_path(url));
		if (cc == CURLE_PEER_FAILED_VERIFICATION && same && p->o && p->o->certs_dir)
			return err_setx(e, EIO, "GET %s: %s (a private CA: put its certificate in %s/%s/ca.crt)",
			                url_path(url), p->errbuf[0] ? p->errbuf : curl_easy_strerror(cc),
			                p->o->certs_dir, p->ref.host);
		if (cc != CURLE_OK)
			return err_setx(e, EIO, "GET %s: %s", url_path(url),
			                p->errbuf[0] ? p->errbuf : curl_easy_strerror(cc));
		if (k->status < 300 || k->status >= 400 || k->status == 304)
			return 0;
		char *loc = NULL;
		if (curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc) != CURLE_OK || !loc)
			return err_setx(e, EPROTO, "GET %s: HTTP %ld without a Location", url_path(url), k->status);
		if (hop >= MAX_REDIRECTS)
			return err_setx(e, ELOOP, "GET %s: more than %d redirects", url_path(url0), MAX_REDIRECTS);
		char *next = strdup(loc);
		if (!next)
			return err_set(e, ENOMEM, "GET %s", url_path(url));
		free(url);
		url = next;
	}
}

/* A registry error body {"errors":[{"code","message"}]} as " (CODE: message)". */
static void registry_error(const struct sink *k, char *out, size_t size)
{
	out[0] = '\0';
	if (!k->buf)
		return;
	json_t *j = json_loads(k->buf, 0, NULL);
	json_t *e0 = json_array_get(json_object_get(j, "errors"), 0);
	const char *code = json_string_value(json_object_get(e0, "code"));
	const char *msg = json_string_value(json_object_get(e0, "message"));
	if (code || msg)
		snprintf(out, size, " (%s%s%s)", code ? code : "", code && msg ? ": " : "", msg ? msg : "");
	json_decref(j);
}

/* One parameter of a WWW-Authenticate challenge, unquoted. */
static bool challenge_param(const char *ch, const char *key, char *out, size_t size)
{
	size_t kl = strlen(key);
	const char *c = ch;
	while (*c && *c != ' ')
		c++; /* skip the scheme */
	while (*c) {
		while (*c == ' ' || *c == ',')
			c++;
		const char *eq = strchr(c, '=');
		if (!eq)
			return false;
		bool match = (size_t)(eq - c) == kl && strncasecmp(c, key, kl) == 0;
		const char *v = eq + 1;
		size_t o = 0;
		if (*v == '"') {
			for (v++; *v && *v != '"'; v++) {
				if (*v == '\\' && v[1])
					v++;
				if (o + 1 < size)
					out[o++] = *v;
			}
			if (*v == '"')
				v++;
		} else {
			for (; *v && *v != ','; v++)
				if (o + 1 < size)
					out[o++] = *v;
		}
		if (match) {
			out[o] = '\0';
			return true;
		}
		c = v;
	}
	return false;
}

static char *basic_authz(const char *userpass)
{
	size_t n = strlen(userpass);
	char *out = malloc(32 + 4 * ((n + 2) / 3) + 1);
	if (!out)
		return NULL;
	int len = sprintf(out, "Authorization: Basic ");
	EVP_EncodeBlock((unsigned char *)out + len, (const unsigned char *)userpass, (int)n);
	return out;
}

/* Answers the challenge in k (a 401 to what) and sets p->authz. */
static int authenticate(struct puller *p, const struct sink *k, const char *what, struct ros_err *e)
{
	const char *ch = k->www_auth;
	const char *auth = p->o ? p->o->auth : NULL;
	if (strncasecmp(ch, "Basic", 5) == 0) {
		if (!auth)
			return err_setx(e, EACCES, "GET %s: HTTP 401: the registry wants a user name and password",
			                what);
		free(p->authz);
		p->authz = basic_authz(auth);
		return p->authz ? 0 : err_set(e, ENOMEM, "auth");
	}
	if (strncasecmp(ch, "Bearer", 6) != 0)
		return err_setx(e, EACCES, "GET %s: HTTP 401 with %s", what,
		                ch[0] ? "an unsupported WWW-Authenticate scheme" : "no WWW-Authenticate challenge");
	char realm[1024], service[256] = "", scope[512];
	if (!challenge_param(ch, "realm", realm, sizeof(realm)) || !realm[0])
		return err_setx(e, EPROTO, "GET %s: HTTP 401: Bearer challenge without a realm: %s", what, ch);
	challenge_param(ch, "service", service, sizeof(service));
	if (!challenge_param(ch, "scope", scope, sizeof(scope)))
		snprintf(scope, sizeof(scope), "repository:%s:pull", p->ref.repo);
	char *es = curl_easy_escape(p->curl, service, 0), *esc = curl_easy_escape(p->curl, scope, 0);
	char url[2048];
	snprintf(url, sizeof(url), "%s%cservice=%s&scope=%s", realm, strchr(realm, '?') ? '&' : '?', es ? es : "",
	         esc ? esc : "");
	curl_free(es);
	curl_free(esc);
	cleanup_free char *basic = auth ? basic_authz(auth) : NULL;
	free(p->authz); /* a stale token is not sent to the token endpoint */
	p->authz = NULL;
	struct sink t = {.fd = -1, .max = MAX_SMALL_BODY, .limit = MAX_SMALL_BODY};
	int r = http_get(p, url, "application/json", basic, &t, e);
	cleanup_free char *body = t.buf;
	if (r < 0)
		return err_prefix(e, "token for %s", what);
	if (t.status != 200) {
		char why[300];
		registry_error(&t, why, sizeof(why));
		return err_setx(e, EACCES, "token for %s: GET %s: HTTP %ld%s%s", what, url_path(realm), t.status, why,
		                t.status == 401 ? (auth ? ": wrong user name or password" : ": credentials needed")
		                                : "");
	}
	json_t *j = json_loads(body ? body : "", 0, NULL);
	const char *tok = json_string_value(json_object_get(j, "token"));
	if (!tok || !*tok)
		tok = json_string_value(json_object_get(j, "access_token"));
	if (!tok || !*tok || strpbrk(tok, "\r\n")) {
		json_decref(j);
		return err_setx(e, EPROTO, "token for %s: GET %s: no \"token\" in the answer", what, url_path(realm));
	}
	free(p->authz);
	if (asprintf(&p->authz, "Authorization: Bearer %s", tok) < 0)
		p->authz = NULL;
	json_decref(j);
	return p->authz ? 0 : err_set(e, ENOMEM, "auth");
}

/* GET path on the registry, authenticating once on a 401.  Any status but
 * 200 is an error naming it and the path. */
static int registry_get(struct puller *p, const char *path, const char *accept, struct sink *k, struct ros_err *e)
{
	char url[1024];
	snprintf(url, sizeof(url), "%s%s", p->base, path);
	for (int attempt = 0;; attempt++) {
		int r = http_get(p, url, accept, NULL, k, e);
		if (r < 0)
			return r;
		if (k->status == 401 && attempt == 0) {
			if ((r = authenticate(p, k, path, e)) < 0)
				return r;
			continue;
		}
		if (k->status == 200)
			return 0;
		char why[300];
		registry_error(k, why, sizeof(why));
		return err_setx(e,
		                k->status == 404                       ? ENOENT
		                : k->status == 401 || k->status == 403 ? EACCES
		                                                       : EPROTO,
		                "GET %s: HTTP %ld%s", path, k->status, why);
	}
}

static void sha256_hex(const void *buf, size_t len, char out[72])
{
	unsigned char md[32];
	EVP_Digest(buf, len, md, NULL, EVP_sha256(), NULL);
	strcpy(out, "sha256:");
	for (int i = 0; i < 32; i++)
		sprintf(out + 7 + 2 * i, "%02x", md[i]);
}

static bool is_digest(const char *d)
{
	if (!d || strncmp(d, "sha256:", 7) != 0 || strlen(d) != 71)
		return false;
	for (const char *c = d + 7; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
			return false;
	return true;
}

/* Fetches manifests/REF (a tag or digest): *doc, its media type and digest. */
static int get_manifest(struct puller *p, const char *ref, json_t **doc, char *mt, size_t mtsize, char digest[72],
                        struct ros_err *e)
{
	char path[700];
	snprintf(path, sizeof(path), "/v2/%s/manifests/%s", p->ref.repo, ref);
	struct sink k = {.fd = -1, .max = MAX_MANIFEST, .limit = MAX_MANIFEST};
	int r = registry_get(p, path, MT_OCI_INDEX ", " MT_DOCKER_LIST ", " MT_OCI_MANIFEST ", " MT_DOCKER_MANIFEST, &k,
	                     e);
	cleanup_free char *body = k.buf;
	if (r == -EFBIG)
		return err_setx(e, EFBIG, "GET %s: manifest larger than %d MiB", path, MAX_MANIFEST >> 20);
	if (r < 0)
		return r;
	sha256_hex(body ? body : "", k.len, digest);
	if (is_digest(ref) && strcmp(ref, digest) != 0)
		return err_setx(e, EBADMSG, "GET %s: manifest digest mismatch: want %s, got %s", path, ref, digest);
	json_error_t je;
	*doc = json_loadb(body ? body : "", k.len, 0, &je);
	if (!json_is_object(*doc)) {
		json_decref(*doc);
		*doc = NULL;
		return err_setx(e, EINVAL, "GET %s: manifest is not a JSON object (%d:%d: %s)", path, je.line,
		                je.column, je.text);
	}
	const char *m = json_string_value(json_object_get(*doc, "mediaType"));
	snprintf(mt, mtsize, "%s", m ? m : k.content_type);
	return 0;
}

/* The linux/amd64 entry of an index, by digest. */
static int pick_platform(json_t *index, const char *where, char out[72], struct ros_err *e)
{
	json_t *ms = json_object_get(index, "manifests");
	if (!json_is_array(ms))
		return err_setx(e, EINVAL, "manifest list %s: manifests: expected an array", where);
	char seen[512] = "";
	size_t i;
	json_t *m;
	json_array_foreach(ms, i, m)
	{
		json_t *pl = json_object_get(m, "platform");
		const char *os = json_string_value(json_object_get(pl, "os"));
		const char *arch = json_string_value(json_object_get(pl, "architecture"));
		if (os && arch && strcmp(os, "linux") == 0 && strcmp(arch, "amd64") == 0) {
			const char *d = json_string_value(json_object_get(m, "digest"));
			if (!is_digest(d))
				return err_setx(e, EINVAL,
				                "manifest list %s: manifests[%zu].digest: expected sha256:<64 hex>",
				                where, i);
			snprintf(out, 72, "%s", d);
			return 0;
		}
		size_t l = strlen(seen);
		snprintf(seen + l, sizeof(seen) - l, "%s%s/%s", l ? ", " : "", os ? os : "?", arch ? arch : "?");
	}
	return err_setx(e, ENOENT, "manifest list %s has no linux/amd64 image (it has: %s)", where,
	                seen[0] ? seen : "nothing");
}

static bool layer_type_ok(const char *mt)
{
	static const char *const ok[] = {
	        "application/vnd.docker.image.rootfs.diff.tar.gzip", "application/vnd.oci.image.layer.v1.tar",
	        "application/vnd.oci.image.layer.v1.tar+gzip", "application/vnd.oci.image.layer.v1.tar+zstd",
	        "application/vnd.docker.image.rootfs.diff.tar"};
	if (!mt)
		return true; /* the extractor finds out */
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		if (strcmp(mt, ok[i]) == 0)
			return true;
	return false;
}

/* Downloads blob digest (size bytes as the manifest says) into the store. */
static int get_blob(struct puller *p, const char *digest, uint64_t size, const char *id, struct ros_err *e)
{
	char path[700];
	snprintf(path, sizeof(path), "/v2/%s/blobs/%s", p->ref.repo, digest);
	cleanup_close int fd = image_blob_tmpfile(p->s, e);
	if (fd < 0)
		return fd;
	struct sink k = {.fd = fd, .limit = size, .p = p, .id = id, .total = size};
	int r = registry_get(p, path, NULL, &k, e);
	free(k.buf); /* an error or redirect body */
	if (r == -EFBIG)
		return err_setx(e, EFBIG, "GET %s: blob larger than the %llu bytes the manifest says", path,
		                (unsigned long long)size);
	if (r < 0)
		return r;
	if (id)
		progress(p, id, "Verifying Checksum", 0, 0);
	if ((r = image_blob_commit(p->s, fd, digest, NULL, e)) < 0)
		return err_prefix(e, "GET %s", path);
	if (id)
		progress(p, id, "Download complete", 0, 0);
	return 0;
}

static bool have_blob(struct puller *p, const char *digest)
{
	char path[128];
	snprintf(path, sizeof(path), "blobs/sha256/%s", digest + 7);
	return faccessat(p->s->rootfd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static bool have_layer(struct puller *p, const char *digest)
{
	char path[128];
	snprintf(path, sizeof(path), "layers/%s", digest + 7);
	return faccessat(p->s->rootfd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* A descriptor at JSON path where: digest and size checked. */
static int descriptor(json_t *d, const char *where, const char *mdig, const char **digest, uint64_t *size,
                      struct ros_err *e)
{
	*digest = json_string_value(json_object_get(d, "digest"));
	json_t *sz = json_object_get(d, "size");
	if (!json_is_object(d))
		return err_setx(e, EINVAL, "manifest %s: %s: expected an object", mdig, where);
	if (!is_digest(*digest))
		return err_setx(e, EINVAL, "manifest %s: %s.digest: expected sha256:<64 hex digits>", mdig, where);
	if (!json_is_integer(sz) || json_integer_value(sz) < 0 ||
	    (uint64_t)json_integer_value(sz) > IMAGE_TAR_MAX_ENTRY_SIZE)
		return err_setx(e, EINVAL, "manifest %s: %s.size: expected a size up to %llu bytes", mdig, where,
		                (unsigned long long)IMAGE_TAR_MAX_ENTRY_SIZE);
	*size = (uint64_t)json_integer_value(sz);
	return 0;
}

static int pull(struct puller *p, const char *refstr, char **id_out, struct ros_err *e)
{
	const struct image_pull_opts *o = p->o;
	int r = image_ref_parse(refstr, o ? o->default_registry : NULL, &p->ref, e);
	if (r < 0)
		return r;
	char host[256];
	snprintf(host, sizeof(host), "%s", p->ref.host);
	char *port = host[0] == '[' ? strstr(host, "]:") : strrchr(host, ':');
	if (port && host[0] == '[')
		port++;
	if (port)
		*port++ = '\0';
	bool plain = plain_http_allowed(p, host, port ? port : "80");
	snprintf(p->base, sizeof(p->base), "%s://%s", plain ? "http" : "https", p->ref.host);
	if ((r = url_check(p, p->base, p->origin, sizeof(p->origin), e)) < 0 || (r = certs_load(p, e)) < 0)
		return r;
	char name[600];
	if (image_ref_local_name(&p->ref, o ? o->default_registry : NULL, name, sizeof(name)) < 0)
		return err_setx(e, ENAMETOOLONG, "%s: name too long", refstr);
	const char *want = p->ref.digest[0] ? p->ref.digest : p->ref.tag;
	char status[700];
	snprintf(status, sizeof(status), "Pulling from %s", p->ref.repo);
	progress(p, want, status, 0, 0);

	cleanup_json json_t *man = NULL;
	char mt[256] = "", topdigest[72] = "", mdigest[72] = "";
	if ((r = get_manifest(p, want, &man, mt, sizeof(mt), topdigest, e)) < 0)
		return r;
	snprintf(mdigest, sizeof(mdigest), "%s", topdigest);
	if (strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0 ||
	    (!mt[0] && json_is_array(json_object_get(man, "manifests")))) {
		char pick[72];
		if ((r = pick_platform(man, topdigest, pick, e)) < 0)
			return r;
		json_decref(TAKE_PTR(man));
		if ((r = get_manifest(p, pick, &man, mt, sizeof(mt), mdigest, e)) < 0)
			return r;
		if (json_is_array(json_object_get(man, "manifests")))
			return err_setx(e, EINVAL, "manifest %s: a manifest list inside a manifest list", mdigest);
	}
	if (strstr(mt, "prettyjws") || json_integer_value(json_object_get(man, "schemaVersion")) == 1)
		return err_setx(e, ENOTSUP, "manifest %s: schema 1 manifests are not supported", mdigest);
	if (json_integer_value(json_object_get(man, "schemaVersion")) != 2)
		return err_setx(e, EINVAL, "manifest %s: schemaVersion: expected 2", mdigest);
	if (mt[0] && strcmp(mt, MT_OCI_MANIFEST) != 0 && strcmp(mt, MT_DOCKER_MANIFEST) != 0)
		return err_setx(e, ENOTSUP, "manifest %s: unsupported media type %s", mdigest, mt);

	const char *cdig;
	uint64_t csize;
	if ((r = descriptor(json_object_get(man, "config"), "config", mdigest, &cdig, &csize, e)) < 0)
		return r;
	if (csize > IMAGE_MAX_JSON)
		return err_setx(e, EFBIG, "manifest %s: config.size: %llu bytes is more than %d MiB", mdigest,
		                (unsigned long long)csize, IMAGE_MAX_JSON >> 20);
	json_t *jl = json_object_get(man, "layers");
	if (!json_is_array(jl) || json_array_size(jl) == 0 || json_array_size(jl) > MAX_LAYERS)
		return err_setx(e, EINVAL, "manifest %s: layers: expected an array of 1 to %d layers", mdigest,
		                MAX_LAYERS);
	size_t n = json_array_size(jl);
	const char *ldig[MAX_LAYERS];
	uint64_t lsize[MAX_LAYERS];
	for (size_t i = 0; i < n; i++) {
		char where[64];
		snprintf(where, sizeof(where), "layers[%zu]", i);
		json_t *l = json_array_get(jl, i);
		if ((r = descriptor(l, where, mdigest, &ldig[i], &lsize[i], e)) < 0)
			return r;
		const char *lmt = json_string_value(json_object_get(l, "mediaType"));
		if (!layer_type_ok(lmt))
			return err_setx(e, ENOTSUP, "manifest %s: layers[%zu].mediaType: unsupported %s", mdigest, i,
			                lmt);
	}

	if (!have_blob(p, cdig) && (r = get_blob(p, cdig, csize, NULL, e)) < 0)
		return err_prefix(e, "image config");
	cleanup_json json_t *config = NULL;
	if ((r = image_config_read(p->s, cdig + 7, n, cdig, &config, e)) < 0)
		return r;

	bool fresh[MAX_LAYERS];
	for (size_t i = 0; i < n; i++) {
		char id[13];
		snprintf(id, sizeof(id), "%.12s", ldig[i] + 7);
		fresh[i] = !have_layer(p, ldig[i]);
		progress(p, id, fresh[i] ? "Pulling fs layer" : "Already exists", 0, 0);
	}
	json_t *layers = json_array();
	for (size_t i = 0; i < n; i++) {
		char id[13];
		snprintf(id, sizeof(id), "%.12s", ldig[i] + 7);
		if (fresh[i]) {
			if (!have_blob(p, ldig[i]))
				r = get_blob(p, ldig[i], lsize[i], id, e);
			else
				progress(p, id, "Download complete", lsize[i], lsize[i]);
			if (r >= 0) {
				progress(p, id, "Extracting", 0, lsize[i]);
				r = image_layer_unpack(p->s, ldig[i] + 7, image_config_diff_id(config, i), i, e);
				if (r < 0)
					err_prefix(e, "layer %s", ldig[i]);
			}
			if (r < 0) {
				json_decref(layers);
				return r;
			}
			progress(p, id, "Extracting", lsize[i], lsize[i]);
			progress(p, id, "Pull complete", 0, 0);
		}
		json_array_append_new(layers, json_string(ldig[i] + 7));
	}

	char id[80], tagged[800];
	snprintf(id, sizeof(id), "sha256:%s", cdig + 7);
	snprintf(tagged, sizeof(tagged), "%s:%s", name, p->ref.tag);
	json_t *tags_idx = json_object_get(p->s->index, "tags");
	const char *old = json_string_value(json_object_get(tags_idx, tagged));
	bool up_to_date = image_get(p->s, id) && (!p->ref.tag[0] || (old && strcmp(old, id) == 0));
	cleanup_json json_t *tags = json_array();
	if (p->ref.tag[0])
		json_array_append_new(tags, json_string(tagged));
	cleanup_json json_t *extra = json_pack("{s:[s++]}", "repo_digests", name, "@", topdigest);
	/* Keep the digests recorded by earlier pulls under other names. */
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(image_get(p->s, id), "repo_digests"), i, d)
	{
		bool dup = false;
		size_t j;
		json_t *x;
		json_array_foreach(json_object_get(extra, "repo_digests"), j, x) dup |= json_equal(x, d);
		if (!dup)
			json_array_append(json_object_get(extra, "repo_digests"), d);
	}
	if ((r = image_record(p->s, cdig + 7, config, layers, tags, extra, NULL, e)) < 0)
		return r;
	if ((r = image_index_save(p->s, e)) < 0)
		return r;
	snprintf(status, sizeof(status), "Digest: %s", topdigest);
	progress(p, NULL, status, 0, 0);
	snprintf(status, sizeof(status), "Status: %s for %s",
	         up_to_date ? "Image is up to date" : "Downloaded newer image", p->ref.tag[0] ? tagged : refstr);
	progress(p, NULL, status, 0, 0);
	if (id_out && !(*id_out = strdup(id)))
		return err_set(e, ENOMEM, "pull");
	return 0;
}

int image_pull(struct image_store *s, const char *ref, const struct image_pull_opts *o, char **id_out,
               struct ros_err *e)
{
	struct puller p = {.s = s, .o = o, .curl = curl_easy_init()};
	if (!p.curl)
		return err_set(e, ENOMEM, "curl_easy_init");
	int r = pull(&p, ref, id_out, e);
	puller_free(&p);
	return r;
}
