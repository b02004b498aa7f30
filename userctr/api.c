/* SPDX-License-Identifier: MIT */
/* Docker Engine API: routing, errors, system and image endpoints. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "ctr/cgroup.h"
#include "userctr.h"

#define MAX_JSON_BODY (1 << 20)

void api_request_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct userctr *u = cls;
	struct request *r = *con_cls;
	if (!r)
		return;
	for (struct deferred **p = &u->deferred; *p;) {
		struct deferred *d = *p;
		if (d->rq == r) {
			*p = d->next;
			free(d);
		} else {
			p = &d->next;
		}
	}
	if (r->upload_fd >= 0)
		close(r->upload_fd);
	free(r->body);
	free(r);
	*con_cls = NULL;
}

static void add_headers(struct MHD_Response *resp, const char *ctype)
{
	MHD_add_response_header(resp, "Api-Version", USERCTR_API_VERSION);
	MHD_add_response_header(resp, "Docker-Experimental", "false");
	MHD_add_response_header(resp, "Ostype", "linux");
	MHD_add_response_header(resp, "Server", "userctr/" ROS_VERSION " (linux)");
	if (ctype)
		MHD_add_response_header(resp, "Content-Type", ctype);
}

static enum MHD_Result send_buf(struct MHD_Connection *c, unsigned status, const char *ctype, const char *buf,
                                size_t len)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)(uintptr_t)buf, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	add_headers(resp, ctype);
	enum MHD_Result ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Sends and consumes j. */
enum MHD_Result api_send_json(struct MHD_Connection *c, unsigned status, json_t *j)
{
	cleanup_free char *txt = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!txt)
		return MHD_NO;
	size_t n = strlen(txt);
	txt[n] = '\0';
	char *withnl = NULL;
	if (asprintf(&withnl, "%s\n", txt) < 0)
		return MHD_NO;
	enum MHD_Result r = send_buf(c, status, "application/json", withnl, n + 1);
	free(withnl);
	return r;
}

enum MHD_Result api_send_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return api_send_json(c, status, json_pack("{s:s}", "message", msg));
}

/* Maps a library error to the Docker status code. */
static unsigned status_of(int r)
{
	switch (-r) {
	case ENOENT:
		return MHD_HTTP_NOT_FOUND;
	case EBUSY:
	case EEXIST:
		return MHD_HTTP_CONFLICT;
	case EINVAL:
	case EBADMSG:
	case EXDEV:
	case EPERM:
	case ENAMETOOLONG:
	case EFBIG:
	case ENOTDIR:
		return MHD_HTTP_BAD_REQUEST;
	default:
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

enum MHD_Result api_send_ros_err(struct MHD_Connection *c, int r, const struct ros_err *e)
{
	return api_send_error(c, status_of(r), "%s", err_msg(e));
}

enum MHD_Result api_send_empty(struct MHD_Connection *c, unsigned status)
{
	return send_buf(c, status, NULL, "", 0);
}

const char *api_arg(struct MHD_Connection *c, const char *key)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
}

bool api_arg_true(struct MHD_Connection *c, const char *key)
{
	const char *v = api_arg(c, key);
	return v && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "True") == 0);
}

/* ---- system ----------------------------------------------------------------- */

static enum MHD_Result h_ping(struct MHD_Connection *c)
{
	return send_buf(c, MHD_HTTP_OK, "text/plain; charset=utf-8", "OK", 2);
}

static enum MHD_Result h_version(struct MHD_Connection *c)
{
	struct utsname u;
	uname(&u);
	json_t *details = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "ApiVersion", USERCTR_API_VERSION, "Arch",
	                            "amd64", "Os", "linux", "BuildTime", "", "GitCommit", "", "GoVersion", "none (C)",
	                            "KernelVersion", u.release, "MinAPIVersion", USERCTR_MIN_API_VERSION);
	json_t *comp = json_pack("[{s:s,s:s,s:o}]", "Name", "Engine", "Version", ROS_VERSION, "Details", details);
	return api_send_json(c, MHD_HTTP_OK,
	                     json_pack("{s:{s:s},s:o,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "Platform", "Name",
	                               "ros userctr", "Components", comp, "Version", ROS_VERSION, "ApiVersion",
	                               USERCTR_API_VERSION, "MinAPIVersion", USERCTR_MIN_API_VERSION, "GitCommit", "",
	                               "GoVersion", "none (C)", "Os", "linux", "Arch", "amd64", "KernelVersion",
	                               u.release, "BuildTime", ""));
}

static enum MHD_Result h_info(struct userctr *u, struct MHD_Connection *c)
{
	int n_all = 0, n_run = 0, n_paused = 0;
	for (struct uctr *x = u->ctrs; x; x = x->next) {
		n_all++;
		n_paused += x->paused;
		n_run += x->running && !x->paused;
	}
	struct utsname un;
	uname(&un);
	struct sysinfo si;
	sysinfo(&si);
	char hostname[256] = "";
	gethostname(hostname, sizeof(hostname) - 1);
	json_t *j = json_pack(
	        "{s:s,s:i,s:i,s:i,s:i,s:I,s:s,s:[],s:{s:[s],s:[s],s:n,s:[s]},s:b,s:b,s:b,s:b,s:b,s:b,"
	        "s:s,s:s,s:s,s:s,s:i,s:I,s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s},s:s,s:{s:{s:s}},s:[],s:s,"
	        "s:{s:s},s:b}",
	        "ID", "userctr", "Containers", n_all, "ContainersRunning", n_run, "ContainersPaused", n_paused,
	        "ContainersStopped", n_all - n_run - n_paused, "Images",
	        (json_int_t)json_object_size(json_object_get(u->images.index, "images")), "Driver", "overlay2",
	        "DriverStatus", "Plugins", "Volume", "local", "Network", "bridge", "Authorization", "Log", "json-file",
	        "MemoryLimit", 1, "SwapLimit", 0, "CpuCfsPeriod", 1, "CpuCfsQuota", 1, "PidsLimit", 1, "IPv4Forwarding",
	        1, "KernelVersion", un.release, "OperatingSystem", "ros", "OSType", "linux", "Architecture", un.machine,
	        "NCPU", (int)sysconf(_SC_NPROCESSORS_ONLN), "MemTotal",
	        (json_int_t)si.totalram * (json_int_t)si.mem_unit, "Name", hostname, "ServerVersion", ROS_VERSION,
	        "DockerRootDir", u->root, "LoggingDriver", "json-file", "CgroupDriver", "cgroupfs", "Swarm",
	        "LocalNodeState", "inactive", "ControlAvailable", "false", "DefaultRuntime", "roci", "Runtimes", "roci",
	        "path", "roci", "SecurityOptions", "CgroupVersion", cgroup_detect(CGROUP_ROOT) == CGROUP_V2 ? "2" : "1",
	        "ContainerdCommit", "ID", "", "Debug", 0);
	if (!j)
		return api_send_error(c, 500, "info: out of memory");
	json_object_set_new(json_object_get(j, "Swarm"), "ControlAvailable", json_false());
	return api_send_json(c, MHD_HTTP_OK, j);
}

static enum MHD_Result h_system_df(struct userctr *u, struct MHD_Connection *c)
{
	json_t *imgs = json_array();
	json_int_t total = 0;
	const char *id;
	json_t *img;
	json_object_foreach(json_object_get(u->images.index, "images"), id, img)
	{
		json_int_t size = json_integer_value(json_object_get(img, "size"));
		total += size;
		json_array_append_new(imgs, json_pack("{s:s,s:s,s:o,s:[],s:I,s:I,s:I,s:i}", "Id", id, "ParentId", "",
		                                      "RepoTags", image_tags(&u->images, id), "RepoDigests", "Created",
		                                      json_integer_value(json_object_get(img, "loaded")), "Size", size,
		                                      "SharedSize", (json_int_t)-1, "Containers", 0));
	}
	json_t *ctrs = json_array();
	for (struct uctr *x = u->ctrs; x; x = x->next) {
		json_t *sum = uctr_summary(x);
		json_object_set_new(sum, "SizeRw", json_integer(0));
		json_object_set_new(sum, "SizeRootFs", json_integer(0));
		json_array_append_new(ctrs, sum);
	}
	json_t *vlist = volume_list(u);
	json_t *vl = json_incref(json_object_get(vlist, "Volumes"));
	json_decref(vlist);
	size_t i;
	json_t *v;
	json_array_foreach(vl, i, v)
	{
		json_object_set_new(v, "UsageData",
		                    json_pack("{s:I,s:i}", "Size", (json_int_t)-1, "RefCount",
		                              volume_in_use(u, json_string_value(json_object_get(v, "Name"))) ? 1 : 0));
	}
	return api_send_json(c, MHD_HTTP_OK,
	                     json_pack("{s:I,s:o,s:o,s:o,s:[]}", "LayersSize", total, "Images", imgs, "Containers",
	                               ctrs, "Volumes", vl, "BuildCache"));
}

/* ---- images ------------------------------------------------------------------ */

static json_int_t image_created(json_t *img)
{
	const char *s = json_string_value(json_object_get(json_object_get(img, "config"), "created"));
	struct tm tm = {0};
	if (s && strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
		return (json_int_t)timegm(&tm);
	return json_integer_value(json_object_get(img, "loaded"));
}

static json_t *image_summary(struct userctr *u, const char *id, json_t *img)
{
	json_t *cfg = json_object_get(json_object_get(img, "config"), "config");
	json_t *labels = json_object_get(cfg, "Labels");
	return json_pack("{s:s,s:s,s:o,s:[],s:I,s:I,s:I,s:I,s:o,s:i}", "Id", id, "ParentId", "", "RepoTags",
	                 image_tags(&u->images, id), "RepoDigests", "Created", image_created(img), "Size",
	                 json_integer_value(json_object_get(img, "size")), "SharedSize", (json_int_t)-1, "VirtualSize",
	                 json_integer_value(json_object_get(img, "size")), "Labels",
	                 json_is_object(labels) ? json_incref(labels) : json_object(), "Containers", -1);
}

static enum MHD_Result h_images_list(struct userctr *u, struct MHD_Connection *c)
{
	json_t *out = json_array();
	const char *id;
	json_t *img;
	json_object_foreach(json_object_get(u->images.index, "images"), id, img)
	{
		json_t *s = image_summary(u, id, img);
		/* Untagged images show only with all=1, like dockerd's dangling filter. */
		if (json_array_size(json_object_get(s, "RepoTags")) == 0 && !api_arg_true(c, "all"))
			json_object_set_new(s, "RepoTags", json_array());
		json_array_append_new(out, s);
	}
	return api_send_json(c, MHD_HTTP_OK, out);
}

static enum MHD_Result h_image_inspect(struct userctr *u, struct MHD_Connection *c, const char *name)
{
	const char *id;
	struct ros_err e = {0};
	int r = image_resolve(&u->images, name, &id, &e);
	if (r < 0)
		return api_send_ros_err(c, r, &e);
	json_t *img = image_get(&u->images, id);
	json_t *cfgdoc = json_object_get(img, "config");
	json_t *cfg = json_object_get(cfgdoc, "config");
	json_t *layers = json_array();
	json_t *diff = json_object_get(json_object_get(cfgdoc, "rootfs"), "diff_ids");
	size_t i;
	for (i = 0; i < json_array_size(diff); i++)
		json_array_append(layers, json_array_get(diff, i));
	cleanup_free char *lower = NULL;
	(void)image_lowerdir(&u->images, id, &lower, &e);
	const char *created = json_string_value(json_object_get(cfgdoc, "created"));
	json_t *j =
	        json_pack("{s:s,s:o,s:[],s:s,s:s,s:s,s:s,s:s,s:O,s:s,s:s,s:I,s:I,s:{s:s,s:{s:s}},s:{s:s,s:o},s:{s:s}}",
	                  "Id", id, "RepoTags", image_tags(&u->images, id), "RepoDigests", "Parent", "", "Comment", "",
	                  "Created", created ? created : "1970-01-01T00:00:00Z", "DockerVersion", "", "Author",
	                  json_string_value(json_object_get(cfgdoc, "author")) ?: "", "Config",
	                  json_is_object(cfg) ? cfg : json_null(), "Architecture",
	                  json_string_value(json_object_get(cfgdoc, "architecture")) ?: "amd64", "Os",
	                  json_string_value(json_object_get(cfgdoc, "os")) ?: "linux", "Size",
	                  json_integer_value(json_object_get(img, "size")), "VirtualSize",
	                  json_integer_value(json_object_get(img, "size")), "GraphDriver", "Name", "overlay2", "Data",
	                  "LowerDir", lower ? lower : "", "RootFS", "Type", "layers", "Layers", layers, "Metadata",
	                  "LastTagTime", "0001-01-01T00:00:00Z");
	return api_send_json(c, MHD_HTTP_OK, j);
}

static enum MHD_Result h_image_tag(struct userctr *u, struct MHD_Connection *c, const char *name)
{
	const char *repo = api_arg(c, "repo"), *tag = api_arg(c, "tag");
	if (!repo || !*repo)
		return api_send_error(c, MHD_HTTP_BAD_REQUEST, "repository name must have at least one component");
	char ref[600];
	snprintf(ref, sizeof(ref), "%s%s%s", repo, tag && *tag ? ":" : "", tag && *tag ? tag : "");
	struct ros_err e = {0};
	int r = image_tag(&u->images, name, ref, &e);
	if (r < 0)
		return api_send_ros_err(c, r, &e);
	const char *id = NULL;
	char norm[600];
	if (image_resolve(&u->images, ref, &id, NULL) >= 0 && image_ref_normalise(ref, norm, sizeof(norm), NULL) >= 0)
		events_emit(u, "image", "tag", id, norm);
	return send_buf(c, MHD_HTTP_CREATED, NULL, "", 0);
}

static enum MHD_Result h_image_delete(struct userctr *u, struct MHD_Connection *c, const char *name)
{
	json_t *deleted = NULL;
	struct ros_err e = {0};
	int r = image_remove(&u->images, name, api_arg_true(c, "force"), &deleted, &e);
	if (r < 0)
		return api_send_ros_err(c, r, &e);
	size_t i;
	json_t *d;
	json_array_foreach(deleted, i, d)
	{
		const char *untag = json_string_value(json_object_get(d, "Untagged"));
		const char *del = json_string_value(json_object_get(d, "Deleted"));
		if (untag)
			events_emit(u, "image", "untag", untag, untag);
		else if (del)
			events_emit(u, "image", "delete", del, NULL);
	}
	return api_send_json(c, MHD_HTTP_OK, deleted);
}

/* {"stream": line} as compact JSON text (heap). */
static char *stream_line(const char *line)
{
	json_t *j = json_pack("{s:s}", "stream", line);
	char *txt = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return txt;
}

static enum MHD_Result h_images_load(struct userctr *u, struct MHD_Connection *c, struct request *rq)
{
	if (rq->upload_errno)
		return api_send_error(c, 500, "receiving the image archive: %s", strerror(rq->upload_errno));
	if (lseek(rq->upload_fd, 0, SEEK_SET) < 0)
		return api_send_error(c, 500, "seek upload: %s", strerror(errno));
	json_t *loaded = NULL;
	struct ros_err e = {0};
	int r = image_load_fd(&u->images, rq->upload_fd, &loaded, &e);
	if (r < 0)
		return api_send_ros_err(c, r, &e);
	/* A JSON message stream, as dockerd sends it. */
	size_t cap = 4096, len = 0;
	cleanup_free char *out = calloc(1, cap);
	size_t i;
	json_t *img;
	json_array_foreach(loaded, i, img)
	{
		json_t *tags = json_object_get(img, "tags");
		events_emit(u, "image", "load", json_string_value(json_object_get(img, "id")),
		            json_string_value(json_array_get(tags, 0)));
		char line[1024];
		size_t j;
		json_t *t;
		json_array_foreach(tags, j, t)
		{
			snprintf(line, sizeof(line), "Loaded image: %s\n", json_string_value(t));
			cleanup_free char *m = stream_line(line);
			len += (size_t)snprintf(out + len, cap > len ? cap - len : 0, "%s\n", m ? m : "{}");
		}
		if (json_array_size(tags) == 0) {
			snprintf(line, sizeof(line), "Loaded image ID: %s\n",
			         json_string_value(json_object_get(img, "id")));
			cleanup_free char *m = stream_line(line);
			len += (size_t)snprintf(out + len, cap > len ? cap - len : 0, "%s\n", m ? m : "{}");
		}
	}
	json_decref(loaded);
	if (len >= cap)
		len = cap - 1;
	return send_buf(c, MHD_HTTP_OK, "application/json", out, len);
}

json_t *api_body_json(struct request *rq, struct ros_err *e)
{
	if (!rq->body || rq->body_len == 0)
		return json_object();
	json_error_t je;
	json_t *j = json_loadb(rq->body, rq->body_len, 0, &je);
	if (!j) {
		err_setx(e, EINVAL, "invalid JSON in the request body: line %d, column %d: %s", je.line, je.column,
		         je.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		err_setx(e, EINVAL, "the request body must be a JSON object");
		return NULL;
	}
	return j;
}

/* ---- routing ----------------------------------------------------------------- */

/* Strips "/v1.NN" from the front; returns NULL for an unsupported version. */
static const char *strip_version(const char *url, bool *too_new)
{
	*too_new = false;
	if (strncmp(url, "/v", 2) != 0 || !(url[2] >= '0' && url[2] <= '9'))
		return url;
	const char *p = url + 2;
	unsigned major = 0, minor = 0;
	int n = 0;
	if (sscanf(p, "%u.%u%n", &major, &minor, &n) != 2)
		return url;
	if (p[n] != '/' && p[n] != '\0')
		return url;
	if (major != 1 || minor > 44)
		*too_new = true;
	return p + n;
}

static bool ends_with(const char *s, const char *suffix, size_t *prefix_len)
{
	size_t n = strlen(s), m = strlen(suffix);
	if (n < m || strcmp(s + n - m, suffix) != 0)
		return false;
	*prefix_len = n - m;
	return true;
}

static enum MHD_Result route(struct userctr *u, struct MHD_Connection *c, const char *method, const char *path,
                             struct request *rq)
{
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	bool post = strcmp(method, "POST") == 0;
	bool del = strcmp(method, "DELETE") == 0;
	size_t n;
	if (strcmp(path, "/_ping") == 0 && get)
		return h_ping(c);
	if (strcmp(path, "/version") == 0 && get)
		return h_version(c);
	if (strcmp(path, "/info") == 0 && get)
		return h_info(u, c);
	if (strcmp(path, "/events") == 0 && get)
		return events_stream(u, c);
	if (strcmp(path, "/system/df") == 0 && get)
		return h_system_df(u, c);
	if (strcmp(path, "/images/json") == 0 && get)
		return h_images_list(u, c);
	if (strcmp(path, "/images/create") == 0 && post)
		return pull_start(u, c);
	if (strcmp(path, "/images/load") == 0 && post)
		return h_images_load(u, c, rq);
	if (strncmp(path, "/images/", 8) == 0) {
		const char *rest = path + 8;
		char name[1024];
		if (get && ends_with(rest, "/json", &n) && n > 0 && n < sizeof(name)) {
			snprintf(name, sizeof(name), "%.*s", (int)n, rest);
			return h_image_inspect(u, c, name);
		}
		if (post && ends_with(rest, "/tag", &n) && n > 0 && n < sizeof(name)) {
			snprintf(name, sizeof(name), "%.*s", (int)n, rest);
			return h_image_tag(u, c, name);
		}
		if (del && *rest && strlen(rest) < sizeof(name))
			return h_image_delete(u, c, rest);
	}
	bool handled;
	enum MHD_Result r = api_ctr_route(u, c, method, path, rq, &handled);
	if (handled)
		return r;
	return api_send_error(c, MHD_HTTP_NOT_FOUND, "page not found: %s %s", method, path);
}

enum MHD_Result api_handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                           const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct userctr *u = cls;
	struct request *rq = *con_cls;
	bool too_new;
	const char *path = strip_version(url, &too_new);
	if (!rq) {
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		rq->upload_fd = -1;
		*con_cls = rq;
		if (strcmp(method, "POST") == 0 && strcmp(path, "/images/load") == 0) {
			rq->streaming_upload = true;
			char tmp[4096];
			snprintf(tmp, sizeof(tmp), "%s/tmp", u->root);
			rq->upload_fd = open(tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
			if (rq->upload_fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
				/* overlayfs before Linux 6.6 has no O_TMPFILE: a file unlinked at once */
				char t[4200];
				snprintf(t, sizeof(t), "%s/upload.XXXXXX", tmp);
				rq->upload_fd = mkostemp(t, O_CLOEXEC);
				if (rq->upload_fd >= 0)
					unlink(t);
			}
			if (rq->upload_fd < 0)
				rq->upload_errno = errno;
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (rq->streaming_upload) {
			if (!rq->upload_errno) {
				int r = fs_write_all(rq->upload_fd, upload_data, *upload_data_size);
				if (r < 0)
					rq->upload_errno = -r;
			}
		} else if (rq->body_len + *upload_data_size > MAX_JSON_BODY) {
			rq->body_too_big = true;
		} else if (!rq->body_too_big) {
			char *nb = realloc(rq->body, rq->body_len + *upload_data_size + 1);
			if (!nb)
				return MHD_NO;
			memcpy(nb + rq->body_len, upload_data, *upload_data_size);
			rq->body = nb;
			rq->body_len += *upload_data_size;
			rq->body[rq->body_len] = '\0';
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (too_new)
		return api_send_error(
		        c, MHD_HTTP_BAD_REQUEST,
		        "client version is too new. Maximum supported API version is " USERCTR_API_VERSION);
	if (rq->body_too_big)
		return api_send_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body larger than %d bytes",
		                      MAX_JSON_BODY);
	return route(u, c, method, path, rq);
}
