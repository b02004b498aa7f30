/* SPDX-License-Identifier: MIT */
/*
 * Containers: the saved document (ROOT/containers/ID/container.json, the
 * shape of `docker inspect`), lifecycle through lib/ctr in-process, output
 * into json-file logs and to attached clients, exits, restart policies and
 * re-adoption after an engine restart.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "core/timefmt.h"
#include "ctr/cgroup.h"
#include "ctr/ctr.h"
#include "unet.h"
#include "userctr.h"

#define LOG_READ_MAX (64 << 20)

/* ---- small helpers ------------------------------------------------------------------ */

static long long parse_time(const char *s)
{
	struct tm tm = {0};
	if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
		return 0;
	return (long long)timegm(&tm);
}

static json_t *state_of(struct uctr *c)
{
	return json_object_get(c->doc, "State");
}

const char *uctr_name(const struct uctr *c)
{
	const char *n = json_string_value(json_object_get(c->doc, "Name"));
	return n ? n + 1 : c->id;
}

static json_t *hostcfg(struct uctr *c)
{
	return json_object_get(c->doc, "HostConfig");
}

static json_t *config(struct uctr *c)
{
	return json_object_get(c->doc, "Config");
}

static void ctr_dir(const struct uctr *c, char *out, size_t size, const char *leaf)
{
	snprintf(out, size, "%s/containers/%s%s%s", c->u->root, c->id, leaf ? "/" : "", leaf ? leaf : "");
}

void uctr_save(struct uctr *c)
{
	char p[4096];
	ctr_dir(c, p, sizeof(p), "container.json");
	cleanup_free char *txt = json_dumps(c->doc, JSON_COMPACT);
	struct ros_err e = {0};
	if (!txt || fs_write_atomic(p, txt, strlen(txt), 0600, &e) < 0)
		fprintf(stderr, "userctr: saving %s: %s\n", c->id, txt ? err_msg(&e) : "out of memory");
}

struct uctr *ctr_find(struct userctr *u, const char *name)
{
	if (!name || !*name)
		return NULL;
	if (*name == '/')
		name++;
	for (struct uctr *c = u->ctrs; c; c = c->next)
		if (!strcmp(c->id, name) || !strcmp(uctr_name(c), name))
			return c;
	/* a unique id prefix */
	struct uctr *found = NULL;
	size_t n = strlen(name);
	for (struct uctr *c = u->ctrs; c; c = c->next)
		if (!strncmp(c->id, name, n)) {
			if (found)
				return NULL;
			found = c;
		}
	return found;
}

static void set_status(struct uctr *c, const char *status)
{
	json_t *st = state_of(c);
	json_object_set_new(st, "Status", json_string(status));
	json_object_set_new(st, "Running", json_boolean(!strcmp(status, "running") || !strcmp(status, "paused")));
	json_object_set_new(st, "Paused", json_boolean(!strcmp(status, "paused")));
	json_object_set_new(st, "Restarting", json_boolean(!strcmp(status, "restarting")));
}

static struct uctr *uctr_new(struct userctr *u, const char *id, json_t *doc)
{
	struct uctr *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->u = u;
	snprintf(c->id, sizeof(c->id), "%s", id);
	c->doc = doc;
	c->in_fd = c->log_fd = c->pidfd = -1;
	c->pidw = (struct watch){W_PIDFD, c};
	c->out = (struct iosrc){.w = {W_SRC, &c->out}, .fd = -1, .stream = 1, .c = c};
	c->err = (struct iosrc){.w = {W_SRC, &c->err}, .fd = -1, .stream = 2, .c = c};
	c->out.w.p = &c->out;
	c->err.w.p = &c->err;
	c->backoff_ms = 100;
	c->next = u->ctrs;
	u->ctrs = c;
	return c;
}

static void uctr_unlink(struct uctr *c)
{
	for (struct uctr **p = &c->u->ctrs; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
}

/* ---- log records -------------------------------------------------------------------- */

/* The log line as a JSON string (invalid UTF-8 bytes become '?'). */
static json_t *log_string(const char *buf, size_t len)
{
	json_t *s = json_stringn(buf, len);
	if (s)
		return s;
	cleanup_free char *copy = malloc(len);
	if (!copy)
		return NULL;
	for (size_t i = 0; i < len; i++)
		copy[i] = (unsigned char)buf[i] >= 0x80 ? '?' : buf[i];
	return json_stringn(copy, len);
}

static void send_log_record(struct hstream *s, const char *stream, const char *time, const char *log, size_t len)
{
	bool is_err = !strcmp(stream, "stderr");
	if ((is_err && !s->err) || (!is_err && !s->out))
		return;
	char ts[64] = "";
	if (s->timestamps)
		snprintf(ts, sizeof(ts), "%s ", time);
	size_t tl = strlen(ts);
	if (!s->tty) {
		unsigned char hdr[8];
		frame_header(hdr, is_err ? 2 : 1, tl + len);
		hstream_write(s, hdr, 8);
	}
	hstream_write(s, ts, tl);
	hstream_write(s, log, len);
}

static void log_record(struct uctr *c, int stream, const char *buf, size_t len)
{
	char t[64];
	time_rfc3339_now(t, sizeof(t));
	const char *sname = stream == 2 ? "stderr" : "stdout";
	if (c->log_fd >= 0) {
		json_t *j = json_pack("{s:o,s:s,s:s}", "log", log_string(buf, len), "stream", sname, "time", t);
		cleanup_free char *txt = j ? json_dumps(j, JSON_COMPACT) : NULL;
		json_decref(j);
		if (txt) {
			size_t n = strlen(txt);
			txt[n] = '\n';
			if (fs_write_all(c->log_fd, txt, n + 1) < 0) {
				/* a full disk loses log lines, not the container */
			}
		}
	}
	for (struct hstream *s = c->u->streams; s; s = s->next)
		if (s->kind == HS_LOGS && !s->eof && !strcmp(s->ctr_id, c->id))
			send_log_record(s, sname, t, buf, len);
}

/* Output of a container: to the log by lines, to attached clients as it comes. */
static void output(struct uctr *c, struct iosrc *s, const char *buf, size_t len)
{
	for (struct hijack *h = c->attached, *next; h; h = next) {
		next = h->next;
		hijack_send(h, s->stream, buf, len);
	}
	while (len) {
		const char *nl = memchr(buf, '\n', len);
		size_t take = nl ? (size_t)(nl - buf) + 1 : len;
		if (s->part_len + take > sizeof(s->part) || nl) {
			if (s->part_len + take <= sizeof(s->part)) {
				memcpy(s->part + s->part_len, buf, take);
				s->part_len += take;
				log_record(c, s->stream, s->part, s->part_len);
				s->part_len = 0;
			} else {
				log_record(c, s->stream, s->part, s->part_len);
				s->part_len = 0;
				continue; /* retry the chunk against an empty buffer */
			}
		} else {
			memcpy(s->part + s->part_len, buf, take);
			s->part_len += take;
		}
		buf += take;
		len -= take;
	}
}

static void src_close(struct iosrc *s)
{
	if (s->fd < 0)
		return;
	if (s->c && s->part_len) {
		log_record(s->c, s->stream, s->part, s->part_len);
		s->part_len = 0;
	}
	struct userctr *u = s->c ? s->c->u : s->x->u;
	epoll_ctl(u->ep, EPOLL_CTL_DEL, s->fd, NULL);
	close(s->fd);
	s->fd = -1;
}

static void src_add(struct userctr *u, struct iosrc *s, int fd)
{
	s->fd = fd;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &s->w};
	epoll_ctl(u->ep, EPOLL_CTL_ADD, fd, &ev);
}

static void finish_exit(struct uctr *c);

void src_event(struct iosrc *s, uint32_t events)
{
	char buf[65536];
	for (int round = 0; round < 16 && s->fd >= 0; round++) {
		ssize_t n = read(s->fd, buf, sizeof(buf));
		if (n > 0) {
			if (s->c)
				output(s->c, s, buf, (size_t)n);
			else if (s->x && s->x->hj)
				hijack_send(s->x->hj, s->stream, buf, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		/* EOF, or EIO from a pty whose other side is closed */
		struct uctr *c = s->c;
		struct uexec *x = s->x;
		src_close(s);
		if (c && c->exit_pending && c->out.fd < 0 && c->err.fd < 0)
			finish_exit(c);
		if (x)
			uexec_src_closed(x);
		return;
	}
}

static void store_fds(struct uctr *c);

void uctr_stdin(struct uctr *c, const void *buf, size_t len, bool eof)
{
	if (c->in_fd < 0)
		return;
	if (len && fs_write_all(c->in_fd, buf, len) < 0) {
		/* the container closed its stdin */
	}
	if (eof && !json_is_true(json_object_get(config(c), "Tty"))) {
		close(c->in_fd);
		c->in_fd = -1;
		/* the reaper's copy too, or the reader never sees EOF */
		store_fds(c);
	}
}

/* ---- ids and names ---------------------------------------------------------------- */

static void new_id(char out[65])
{
	unsigned char b[32];
	if (getrandom(b, sizeof(b), 0) != sizeof(b)) {
		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (unsigned char)(rand() ^ (int)now_ms());
	}
	for (size_t i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static const char *const left[] = {"admiring", "brave",  "clever", "dreamy", "eager",   "focused", "gallant",
                                   "happy",    "jolly",  "keen",   "lucid",  "modest",  "nifty",   "quirky",
                                   "relaxed",  "serene", "tender", "upbeat", "vibrant", "zealous"};
static const char *const right[] = {"archimedes", "babbage", "curie",   "dijkstra", "euler",    "fermat",
                                    "galois",     "hopper",  "kepler",  "lovelace", "mccarthy", "noether",
                                    "pascal",     "ritchie", "shannon", "thompson", "turing",   "wozniak"};

static void new_name(struct userctr *u, char *out, size_t size)
{
	for (int i = 0;; i++) {
		unsigned r = 0;
		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = (unsigned)now_ms();
		snprintf(out, size, "%s_%s%s", left[r % ARRAY_SIZE(left)], right[(r / 32) % ARRAY_SIZE(right)],
		         i > 5 ? "_" : "");
		if (i > 5)
			snprintf(out + strlen(out), size - strlen(out), "%u", r % 1000);
		if (!ctr_find(u, out))
			return;
	}
}

static int name_check(const char *name, struct ros_err *e)
{
	size_t n = strlen(name);
	if (n < 2 && !(n == 1 && isalnum((unsigned char)name[0])))
		goto bad;
	if (!isalnum((unsigned char)name[0]))
		goto bad;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("_.-", name[i]))
			goto bad;
	if (n > 128)
		goto bad;
	return 0;
bad:
	return err_setx(e, EINVAL, "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name);
}

/* ---- create --------------------------------------------------------------------------------- */

static json_t *env_merge(json_t *image_env, json_t *user_env)
{
	json_t *out = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(image_env, i, v)
	{
		const char *s = json_string_value(v);
		if (!s)
			continue;
		size_t k = strcspn(s, "=");
		bool overridden = false;
		size_t j;
		json_t *w;
		json_array_foreach(user_env, j, w)
		{
			const char *t = json_string_value(w);
			if (t && !strncmp(t, s, k) && (t[k] == '=' || t[k] == '\0'))
				overridden = true;
		}
		if (!overridden)
			json_array_append(out, v);
	}
	json_array_foreach(user_env, i, v)
	        /* "KEY" alone is the engine's environment value in Docker; here unset */
	        if (json_string_value(v) && strchr(json_string_value(v), '=')) json_array_append(out, v);
	return out;
}

int uctr_create(struct userctr *u, const char *name, json_t *body, struct uctr **out, json_t **warnings,
                struct ros_err *e)
{
	if (dspec_check(body, e) < 0)
		return -1;
	char nm[256];
	if (name && *name) {
		if (*name == '/')
			name++;
		if (name_check(name, e) < 0)
			return -1;
		snprintf(nm, sizeof(nm), "%s", name);
		for (struct uctr *o = u->ctrs; o; o = o->next)
			if (!strcmp(uctr_name(o), nm))
				return err_setx(
				        e, EEXIST,
				        "Conflict. The container name \"/%s\" is already in use by container \"%s\". "
				        "You have to remove (or rename) that container to be able to reuse that name.",
				        nm, o->id);
	} else {
		new_name(u, nm, sizeof(nm));
	}
	const char *image = json_string_value(json_object_get(body, "Image"));
	const char *image_id;
	if (!image || !*image)
		return err_setx(e, EINVAL, "Config.Image: no image given");
	if (image_resolve(&u->images, image, &image_id, NULL) < 0)
		return err_setx(e, ENOENT, "No such image: %s", image);
	json_t *img = image_get(&u->images, image_id);
	json_t *icfg = json_object_get(json_object_get(img, "config"), "config");

	json_t *cfg = json_deep_copy(body);
	json_t *hc = json_object_get(cfg, "HostConfig");
	hc = hc ? json_incref(hc) : json_object();
	json_object_del(cfg, "HostConfig");
	json_object_del(cfg, "NetworkingConfig");
	/* image defaults */
	json_object_set_new(cfg, "Env", env_merge(json_object_get(icfg, "Env"), json_object_get(body, "Env")));
	json_t *ep = json_object_get(body, "Entrypoint");
	json_t *cmd = json_object_get(body, "Cmd");
	bool user_ep = json_is_array(ep) && json_array_size(ep) > 0;
	if (!user_ep && json_object_get(icfg, "Entrypoint"))
		json_object_set(cfg, "Entrypoint", json_object_get(icfg, "Entrypoint"));
	if ((!json_is_array(cmd) || json_array_size(cmd) == 0) && !user_ep && json_object_get(icfg, "Cmd"))
		json_object_set(cfg, "Cmd", json_object_get(icfg, "Cmd"));
	static const char *const inherit[] = {"WorkingDir", "User", "StopSignal"};
	for (size_t i = 0; i < ARRAY_SIZE(inherit); i++) {
		const char *v = json_string_value(json_object_get(cfg, inherit[i]));
		if ((!v || !*v) && json_string_value(json_object_get(icfg, inherit[i])))
			json_object_set(cfg, inherit[i], json_object_get(icfg, inherit[i]));
	}
	json_t *labels = json_object_get(icfg, "Labels");
	if (json_is_object(labels)) {
		json_t *merged = json_deep_copy(labels);
		if (json_is_object(json_object_get(body, "Labels")))
			json_object_update(merged, json_object_get(body, "Labels"));
		json_object_set_new(cfg, "Labels", merged);
	}
	if (json_is_object(json_object_get(icfg, "Volumes")) || json_is_object(json_object_get(body, "Volumes"))) {
		json_t *vols = json_object();
		json_object_update(vols, json_object_get(icfg, "Volumes"));
		json_object_update(vols, json_object_get(body, "Volumes"));
		json_object_set_new(cfg, "Volumes", vols);
	}
	json_t *args = json_array();
	json_array_extend(args, json_object_get(cfg, "Entrypoint"));
	json_array_extend(args, json_object_get(cfg, "Cmd"));
	if (json_array_size(args) == 0) {
		json_decref(args);
		json_decref(cfg);
		json_decref(hc);
		return err_setx(e, EINVAL, "no command specified");
	}
	char id[65], created[64];
	new_id(id);
	time_rfc3339_now(created, sizeof(created));
	char hostname[13];
	snprintf(hostname, sizeof(hostname), "%.12s", id);
	const char *hn = json_string_value(json_object_get(cfg, "Hostname"));
	if (!hn || !*hn)
		json_object_set_new(cfg, "Hostname", json_string(hostname));
	json_object_set_new(cfg, "Image", json_string(image));
	json_t *nm_mode = json_object_get(hc, "NetworkMode");
	if (!json_string_value(nm_mode) || !*json_string_value(nm_mode) ||
	    !strcmp(json_string_value(nm_mode), "default"))
		json_object_set_new(hc, "NetworkMode", json_string("bridge"));
	char slashed[260];
	snprintf(slashed, sizeof(slashed), "/%s", nm);
	json_t *path = json_incref(json_array_get(args, 0));
	json_array_remove(args, 0);
	json_t *doc =
	        json_pack("{s:s,s:s,s:o,s:o,s:s,s:s,s:o,s:o,s:i,s:s,s:s,s:s,s:{s:s,s:b,s:b,s:b,s:b,s:b,s:i,s:i,"
	                  "s:s,s:s,s:s},s:[],s:{s:o,s:s,s:s,s:i,s:s}}",
	                  "Id", id, "Created", created, "Path", path, "Args", args, "Image", image_id, "Name", slashed,
	                  "Config", cfg, "HostConfig", hc, "RestartCount", 0, "Driver", "overlay2", "Platform", "linux",
	                  "LogPath", "", "State", "Status", "created", "Running", 0, "Paused", 0, "Restarting", 0,
	                  "OOMKilled", 0, "Dead", 0, "Pid", 0, "ExitCode", 0, "Error", "", "StartedAt",
	                  "0001-01-01T00:00:00Z", "FinishedAt", "0001-01-01T00:00:00Z", "Mounts", "NetworkSettings",
	                  "Ports", json_object(), "IPAddress", "", "Gateway", "", "IPPrefixLen", 0, "MacAddress", "");
	if (!doc)
		return err_setx(e, ENOMEM, "out of memory");
	struct uctr *c = uctr_new(u, id, doc);
	if (!c) {
		json_decref(doc);
		return err_setx(e, ENOMEM, "out of memory");
	}
	char dir[4096], logp[4096];
	ctr_dir(c, dir, sizeof(dir), NULL);
	ctr_dir(c, logp, sizeof(logp), NULL);
	snprintf(logp + strlen(logp), sizeof(logp) - strlen(logp), "/%s-json.log", id);
	json_object_set_new(doc, "LogPath", json_string(logp));
	if (mkdir(dir, 0700) < 0) {
		err_set(e, errno, "mkdir %s", dir);
		uctr_unlink(c);
		json_decref(doc);
		free(c);
		return -1;
	}
	*warnings = json_array();
	uctr_save(c);
	events_emit(u, "container", "create", id, nm);
	*out = c;
	return 0;
}

/* ---- start ----------------------------------------------------------------------------- */

static void store_fds(struct uctr *c)
{
	int fds[3], n = 0;
	char key[80];
	char mask[4] = "";
	if (c->out.fd >= 0) {
		fds[n++] = c->out.fd;
		strcat(mask, "o");
	}
	if (c->err.fd >= 0) {
		fds[n++] = c->err.fd;
		strcat(mask, "e");
	}
	if (c->in_fd >= 0) {
		fds[n++] = c->in_fd;
		strcat(mask, "i");
	}
	snprintf(key, sizeof(key), "%s/%s", c->id, mask);
	reaper_store(c->u, key, fds, n);
}

static int cgroup_dir(struct uctr *c, const char *ctrl, char *out, size_t size)
{
	struct ctr_state st;
	if (ctr_state_get(c->u->state_root, c->id, &st, NULL) < 0)
		return -1;
	ctr_state_release(&st);
	if (cgroup_detect(CGROUP_ROOT) == CGROUP_V2)
		snprintf(out, size, "%s%s", CGROUP_ROOT, st.cgroup_path);
	else
		snprintf(out, size, "%s/%s%s", CGROUP_ROOT, ctrl, st.cgroup_path);
	return 0;
}

static unsigned long long read_ull(const char *dir, const char *file, const char *key)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	cleanup_fclose FILE *f = fopen(p, "re");
	if (!f)
		return 0;
	char line[256];
	while (fgets(line, sizeof(line), f)) {
		if (!key) {
			if (!strncmp(line, "max", 3))
				return 0;
			return strtoull(line, NULL, 10);
		}
		size_t k = strlen(key);
		if (!strncmp(line, key, k) && line[k] == ' ')
			return strtoull(line + k + 1, NULL, 10);
	}
	return 0;
}

static bool oom_killed(struct uctr *c)
{
	char d[4096];
	if (cgroup_dir(c, "memory", d, sizeof(d)) < 0)
		return false;
	if (cgroup_detect(CGROUP_ROOT) == CGROUP_V2)
		return read_ull(d, "memory.events", "oom_kill") > 0;
	return read_ull(d, "memory.oom_control", "oom_kill") > 0;
}

int uctr_start(struct uctr *c, struct ros_err *e)
{
	struct userctr *u = c->u;
	if (c->running)
		return err_setx(e, EALREADY, "container %s is already running", c->id);
	json_t *cfg = config(c);
	bool tty = json_is_true(json_object_get(cfg, "Tty"));
	bool open_stdin = json_is_true(json_object_get(cfg, "OpenStdin"));
	char dir[4096];
	ctr_dir(c, dir, sizeof(dir), NULL);
	/* a leftover runtime state of an earlier run */
	ctr_delete(u->state_root, c->id, true, NULL);
	image_rootfs_umount(dir, NULL);
	cleanup_free char *rootfs = NULL;
	const char *image_id = json_string_value(json_object_get(c->doc, "Image"));
	if (image_rootfs_mount(&u->images, image_id, dir, &rootfs, e) < 0)
		return err_prefix(e, "rootfs");
	json_t *img = image_get(&u->images, image_id);
	if (unet_prepare(c, e) < 0) {
		image_rootfs_umount(dir, NULL);
		return -1;
	}
	json_t *spec = dspec_build(u, c, rootfs, json_object_get(json_object_get(img, "config"), "config"), e);
	if (!spec) {
		image_rootfs_umount(dir, NULL);
		return -1;
	}
	int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	int pty = -1;
	pid_t pid = 0;
	if (!tty && (pipe2(pout, O_CLOEXEC) < 0 || pipe2(perr, O_CLOEXEC) < 0)) {
		err_set(e, errno, "pipe");
		goto fail;
	}
	if (!tty && open_stdin && pipe2(pin, O_CLOEXEC) < 0) {
		err_set(e, errno, "pipe");
		goto fail;
	}
	struct ctr_create_opts o = {
	        .state_root = u->state_root,
	        .id = c->id,
	        .bundle = dir,
	        .spec = spec,
	        .stdio = {tty ? -1 : (open_stdin ? pin[0] : devnull), tty ? -1 : pout[1], tty ? -1 : perr[1]},
	        .pid_out = &pid,
	        .pty_out = tty ? &pty : NULL,
	};
	if (ctr_create(&o, e) < 0)
		goto fail;
	for (int *p = (int[]){pin[0], pout[1], perr[1]}, i = 0; i < 3; i++)
		if (p[i] >= 0)
			close(p[i]);
	pin[0] = pout[1] = perr[1] = -1;
	if (unet_attach(c, pid, e) < 0) {
		ctr_delete(u->state_root, c->id, true, NULL);
		goto fail;
	}
	if (ctr_start(u->state_root, c->id, e) < 0) {
		ctr_delete(u->state_root, c->id, true, NULL);
		unet_release(c, false);
		goto fail;
	}
	char logp[4096];
	snprintf(logp, sizeof(logp), "%s", json_string_value(json_object_get(c->doc, "LogPath")));
	if (c->log_fd < 0)
		c->log_fd = open(logp, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (tty) {
		src_add(u, &c->out, pty);
		c->in_fd = fcntl(pty, F_DUPFD_CLOEXEC, 3);
	} else {
		src_add(u, &c->out, pout[0]);
		src_add(u, &c->err, perr[0]);
		c->in_fd = pin[1];
		if (c->in_fd >= 0)
			fcntl(c->in_fd, F_SETFL, fcntl(c->in_fd, F_GETFL) & ~O_NONBLOCK);
	}
	close(devnull);
	json_decref(spec);
	c->pid = pid;
	c->running = true;
	for (struct hijack *h = c->attached; h; h = h->next)
		hijack_rearm(h);
	c->start_time = ctr_pid_start_time(pid);
	c->running = true;
	c->adopted = false;
	c->exit_pending = false;
	c->kill_at = c->restart_at = 0;
	json_t *st = state_of(c);
	char now[64];
	time_rfc3339_now(now, sizeof(now));
	set_status(c, "running");
	json_object_set_new(st, "Pid", json_integer(pid));
	json_object_set_new(st, "StartedAt", json_string(now));
	json_object_set_new(st, "ExitCode", json_integer(0));
	json_object_set_new(st, "OOMKilled", json_false());
	json_object_set_new(st, "Error", json_string(""));
	json_object_set_new(c->doc, "ros.start_time", json_integer((json_int_t)c->start_time));
	json_object_set_new(c->doc, "ros.started_ms", json_integer((json_int_t)now_ms()));
	uctr_save(c);
	store_fds(c);
	events_emit(u, "container", "start", c->id, uctr_name(c));
	return 0;
fail:
	for (int *p = (int[]){pin[0], pin[1], pout[0], pout[1], perr[0], perr[1], pty, devnull}, i = 0; i < 8; i++)
		if (p[i] >= 0)
			close(p[i]);
	json_decref(spec);
	image_rootfs_umount(dir, NULL);
	json_object_set_new(state_of(c), "Error", json_string(err_msg(e)));
	json_object_set_new(state_of(c), "ExitCode", json_integer(127));
	uctr_save(c);
	return -1;
}

/* ---- exits ------------------------------------------------------------------------------ */

static const char *restart_policy(struct uctr *c, int *max)
{
	json_t *rp = json_object_get(hostcfg(c), "RestartPolicy");
	const char *name = json_string_value(json_object_get(rp, "Name"));
	*max = (int)json_integer_value(json_object_get(rp, "MaximumRetryCount"));
	return name && *name ? name : "no";
}

static bool should_restart(struct uctr *c, int code)
{
	int max;
	const char *p = restart_policy(c, &max);
	if (c->user_stopped || c->removing || json_is_true(json_object_get(hostcfg(c), "AutoRemove")))
		return false;
	if (!strcmp(p, "always") || !strcmp(p, "unless-stopped"))
		return true;
	if (!strcmp(p, "on-failure"))
		return code != 0 && (max <= 0 || json_integer_value(json_object_get(c->doc, "RestartCount")) < max);
	return false;
}

static void answer_waiters(struct uctr *c, bool removed)
{
	int code = (int)json_integer_value(json_object_get(state_of(c), "ExitCode"));
	char body[128];
	int n = snprintf(body, sizeof(body), "{\"Error\":null,\"StatusCode\":%d}\n", code);
	for (struct hstream *s = c->u->streams; s; s = s->next) {
		if (strcmp(s->ctr_id, c->id) || s->eof)
			continue;
		if (s->kind == HS_LOGS) {
			hstream_end(s);
		} else if (s->condition != 2 || removed) {
			hstream_write(s, body, (size_t)n);
			hstream_end(s);
		}
	}
}

static void do_remove(struct uctr *c, bool volumes);

/* The container's process is gone and its output drained. */
static void finish_exit(struct uctr *c)
{
	struct userctr *u = c->u;
	c->exit_pending = false;
	src_close(&c->out);
	src_close(&c->err);
	if (c->in_fd >= 0) {
		close(c->in_fd);
		c->in_fd = -1;
	}
	if (c->pidfd >= 0) {
		epoll_ctl(u->ep, EPOLL_CTL_DEL, c->pidfd, NULL);
		close(c->pidfd);
		c->pidfd = -1;
	}
	int st = c->exit_status;
	int code = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 255;
	if (st == -1)
		code = 255;
	bool oom = oom_killed(c);
	ctr_delete(u->state_root, c->id, true, NULL);
	unet_release(c, false);
	char dir[4096];
	ctr_dir(c, dir, sizeof(dir), NULL);
	image_rootfs_umount(dir, NULL);
	reaper_drop(u, c->id);
	c->running = c->paused = false;
	c->pid = 0;
	c->kill_at = 0;
	json_t *s = state_of(c);
	char now[64];
	time_rfc3339_now(now, sizeof(now));
	set_status(c, "exited");
	json_object_set_new(s, "Pid", json_integer(0));
	json_object_set_new(s, "ExitCode", json_integer(code));
	json_object_set_new(s, "OOMKilled", json_boolean(oom));
	json_object_set_new(s, "FinishedAt", json_string(now));
	uctr_save(c);
	for (struct hijack *h = c->attached, *next; h; h = next) {
		next = h->next;
		hijack_close(h);
	}
	if (oom)
		events_emit(u, "container", "oom", c->id, uctr_name(c));
	events_emit(u, "container", "die", c->id, uctr_name(c));
	answer_waiters(c, false);
	api_resume_deferred(u, c->id);
	if (c->removing || json_is_true(json_object_get(hostcfg(c), "AutoRemove"))) {
		do_remove(c, json_is_true(json_object_get(hostcfg(c), "AutoRemove")));
		return;
	}
	if (should_restart(c, code)) {
		long long ran = (long long)now_ms() - json_integer_value(json_object_get(c->doc, "ros.started_ms"));
		if (ran > 10000)
			c->backoff_ms = 100;
		c->restart_at = now_ms() + c->backoff_ms;
		c->backoff_ms = c->backoff_ms * 2 > 60000 ? 60000 : c->backoff_ms * 2;
		set_status(c, "restarting");
		uctr_save(c);
	}
}

bool ctrs_reaped(struct userctr *u, pid_t pid, int status)
{
	for (struct uctr *c = u->ctrs; c; c = c->next)
		if (c->running && c->pid == pid && !c->exit_pending) {
			c->exit_status = status;
			c->exit_pending = true;
			if (c->out.fd < 0 && c->err.fd < 0)
				finish_exit(c);
			return true;
		}
	return false;
}

/* ---- stop, kill, remove ------------------------------------------------------------------ */

int uctr_kill(struct uctr *c, int sig, struct ros_err *e)
{
	if (!c->running || c->exit_pending)
		return err_setx(e, EBUSY, "Cannot kill container: %s: Container %s is not running", c->id, c->id);
	if (sig == SIGKILL || sig == SIGTERM || sig == SIGINT)
		c->user_stopped = true;
	if (c->paused)
		ctr_pause(c->u->state_root, c->id, false, NULL);
	if (kill(c->pid, sig) < 0 && errno != ESRCH)
		return err_set(e, errno, "kill %s", c->id);
	return 0;
}

int uctr_stop(struct uctr *c, int sig, int timeout, struct ros_err *e)
{
	c->user_stopped = true;
	c->restart_at = 0;
	if (!c->running || c->exit_pending) {
		if (!strcmp(json_string_value(json_object_get(state_of(c), "Status")) ?: "", "restarting")) {
			set_status(c, "exited");
			uctr_save(c);
		}
		return err_setx(e, EALREADY, "container %s is not running", c->id);
	}
	json_object_set_new(c->doc, "ros.user_stopped", json_true());
	uctr_save(c);
	if (c->paused)
		ctr_pause(c->u->state_root, c->id, false, NULL);
	if (kill(c->pid, sig) < 0 && errno != ESRCH)
		return err_set(e, errno, "kill %s", c->id);
	c->kill_at = now_ms() + (uint64_t)(timeout < 0 ? 0 : timeout) * 1000;
	if (timeout == 0)
		kill(c->pid, SIGKILL);
	return 0;
}

static void do_remove(struct uctr *c, bool volumes)
{
	struct userctr *u = c->u;
	char dir[4096];
	ctr_dir(c, dir, sizeof(dir), NULL);
	image_rootfs_umount(dir, NULL);
	unet_release(c, true);
	if (c->log_fd >= 0)
		close(c->log_fd);
	c->log_fd = -1;
	struct ros_err e = {0};
	if (fs_remove_tree(dir, &e) < 0)
		fprintf(stderr, "userctr: removing %s: %s\n", dir, err_msg(&e));
	uexec_drop_container(u, c);
	uctr_unlink(c);
	if (volumes) {
		size_t i;
		json_t *m;
		json_array_foreach(json_object_get(c->doc, "Mounts"), i, m)
		{
			if (json_is_true(json_object_get(m, "ros.anonymous")))
				volume_remove(u, json_string_value(json_object_get(m, "Name")), true, NULL);
		}
	}
	events_emit(u, "container", "destroy", c->id, uctr_name(c));
	answer_waiters(c, true);
	api_resume_deferred(u, c->id);
	json_decref(c->doc);
	free(c);
}

int uctr_remove(struct uctr *c, bool force, bool volumes, struct ros_err *e)
{
	if (c->running || c->exit_pending) {
		if (!force)
			return err_setx(e, EBUSY,
			                "You cannot remove a running container %s. Stop the container before "
			                "attempting removal or force remove",
			                c->id);
		c->removing = true;
		c->user_stopped = true;
		if (!c->exit_pending) {
			if (c->paused)
				ctr_pause(c->u->state_root, c->id, false, NULL);
			kill(c->pid, SIGKILL);
		}
		return 1; /* removed when the exit is seen */
	}
	do_remove(c, volumes);
	return 0;
}

int uctr_rename(struct uctr *c, const char *name, struct ros_err *e)
{
	if (*name == '/')
		name++;
	if (name_check(name, e) < 0)
		return -1;
	struct uctr *o = ctr_find(c->u, name);
	if (o && o != c && !strcmp(uctr_name(o), name))
		return err_setx(e, EEXIST, "Conflict. The container name \"/%s\" is already in use by container \"%s\"",
		                name, o->id);
	char s[260];
	snprintf(s, sizeof(s), "/%s", name);
	json_object_set_new(c->doc, "Name", json_string(s));
	uctr_save(c);
	events_emit(c->u, "container", "rename", c->id, name);
	return 0;
}

int uctr_pause(struct uctr *c, bool pause, struct ros_err *e)
{
	if (!c->running)
		return err_setx(e, EBUSY, "Container %s is not running", c->id);
	if (c->paused == pause)
		return err_setx(e, EBUSY, "Container %s is %s paused", c->id, pause ? "already" : "not");
	if (ctr_pause(c->u->state_root, c->id, pause, e) < 0)
		return -1;
	c->paused = pause;
	set_status(c, pause ? "paused" : "running");
	uctr_save(c);
	events_emit(c->u, "container", pause ? "pause" : "unpause", c->id, uctr_name(c));
	return 0;
}

int uctr_resize(struct uctr *c, unsigned h, unsigned w, struct ros_err *e)
{
	if (!c->running || c->out.fd < 0 || !json_is_true(json_object_get(config(c), "Tty")))
		return err_setx(e, EBUSY, "Container %s is not running with a tty", c->id);
	struct winsize ws = {.ws_row = (unsigned short)h, .ws_col = (unsigned short)w};
	if (ioctl(c->out.fd, TIOCSWINSZ, &ws) < 0)
		return err_set(e, errno, "resize");
	return 0;
}

/* ---- timers -------------------------------------------------------------------------------- */

int ctrs_timeout(struct userctr *u)
{
	uint64_t now = now_ms(), next = 0;
	for (struct uctr *c = u->ctrs; c; c = c->next) {
		if (c->kill_at && c->running && (!next || c->kill_at < next))
			next = c->kill_at;
		if (c->restart_at && (!next || c->restart_at < next))
			next = c->restart_at;
	}
	if (!next)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

void ctrs_tick(struct userctr *u)
{
	uint64_t now = now_ms();
	for (struct uctr *c = u->ctrs; c; c = c->next) {
		if (c->kill_at && c->running && c->kill_at <= now) {
			c->kill_at = 0;
			kill(c->pid, SIGKILL);
		}
		if (c->restart_at && c->restart_at <= now && !c->running) {
			c->restart_at = 0;
			struct ros_err e = {0};
			json_object_set_new(
			        c->doc, "RestartCount",
			        json_integer(json_integer_value(json_object_get(c->doc, "RestartCount")) + 1));
			if (uctr_start(c, &e) < 0) {
				fprintf(stderr, "userctr: restarting %s: %s\n", uctr_name(c), err_msg(&e));
				set_status(c, "exited");
				uctr_save(c);
			} else {
				events_emit(u, "container", "restart", c->id, uctr_name(c));
			}
		}
	}
}

/* ---- attach and logs ----------------------------------------------------------------------- */

void uctr_attach(struct uctr *c, struct hijack *h, bool logs)
{
	h->c = c;
	h->next = c->attached;
	c->attached = h;
	if (logs) {
		cleanup_free char *txt = NULL;
		size_t len = 0;
		if (fs_read_all(json_string_value(json_object_get(c->doc, "LogPath")), LOG_READ_MAX, &txt, &len,
		                NULL) >= 0) {
			for (char *line = txt, *nl; line && *line; line = nl ? nl + 1 : NULL) {
				nl = strchr(line, '\n');
				if (nl)
					*nl = '\0';
				json_t *r = json_loads(line, 0, NULL);
				const char *l = json_string_value(json_object_get(r, "log"));
				const char *s = json_string_value(json_object_get(r, "stream"));
				if (l)
					hijack_send(h, s && !strcmp(s, "stderr") ? 2 : 1, l,
					            json_string_length(json_object_get(r, "log")));
				json_decref(r);
			}
		}
	}
	if (!c->running && !c->exit_pending &&
	    !strcmp(json_string_value(json_object_get(state_of(c), "Status")) ?: "", "exited"))
		hijack_close(h);
}

void uctr_detach(struct uctr *c, struct hijack *h)
{
	for (struct hijack **p = &c->attached; *p; p = &(*p)->next)
		if (*p == h) {
			*p = h->next;
			break;
		}
	h->c = NULL;
}

int uctr_logs(struct uctr *c, struct hstream *s, long tail, long long since, long long until, struct ros_err *e)
{
	cleanup_free char *txt = NULL;
	size_t len = 0;
	const char *path = json_string_value(json_object_get(c->doc, "LogPath"));
	if (fs_read_all(path, LOG_READ_MAX, &txt, &len, NULL) < 0)
		return 0; /* no log yet */
	/* line starts, for tail */
	size_t n_lines = 0;
	for (size_t i = 0; i < len; i++)
		if (txt[i] == '\n')
			n_lines++;
	size_t skip = tail >= 0 && (size_t)tail < n_lines ? n_lines - (size_t)tail : 0;
	size_t idx = 0;
	for (char *line = txt, *nl; line && *line; line = nl ? nl + 1 : NULL, idx++) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (idx < skip)
			continue;
		json_t *r = json_loads(line, 0, NULL);
		const char *l = json_string_value(json_object_get(r, "log"));
		const char *stream = json_string_value(json_object_get(r, "stream"));
		const char *t = json_string_value(json_object_get(r, "time"));
		long long ts = parse_time(t);
		if (l && stream && t && (!since || ts >= since) && (!until || ts < until))
			send_log_record(s, stream, t, l, json_string_length(json_object_get(r, "log")));
		json_decref(r);
	}
	(void)e;
	return 0;
}

/* ---- summaries ------------------------------------------------------------------------------- */

static void human_duration(long long secs, char *out, size_t size)
{
	if (secs < 1)
		snprintf(out, size, "Less than a second");
	else if (secs == 1)
		snprintf(out, size, "1 second");
	else if (secs < 60)
		snprintf(out, size, "%lld seconds", secs);
	else if (secs / 60 == 1)
		snprintf(out, size, "About a minute");
	else if (secs < 3600)
		snprintf(out, size, "%lld minutes", secs / 60);
	else if ((secs + 1800) / 3600 == 1)
		snprintf(out, size, "About an hour");
	else if (secs < 48 * 3600)
		snprintf(out, size, "%lld hours", (secs + 1800) / 3600);
	else if (secs < 14 * 86400)
		snprintf(out, size, "%lld days", secs / 86400);
	else if (secs < 56 * 86400)
		snprintf(out, size, "%lld weeks", secs / (7 * 86400));
	else if (secs < 730 * 86400)
		snprintf(out, size, "%lld months", secs / (30 * 86400));
	else
		snprintf(out, size, "%lld years", secs / (365 * 86400));
}

static json_t *ports_summary(struct uctr *c)
{
	json_t *out = json_array();
	const char *key;
	json_t *binds;
	json_t *actual = json_object_get(c->doc, "ros.ports");
	json_object_foreach(json_object_get(hostcfg(c), "PortBindings"), key, binds)
	{
		unsigned port = 0;
		char proto[8] = "tcp";
		if (sscanf(key, "%u/%7s", &port, proto) < 1)
			continue;
		json_t *got = c->running ? json_object_get(actual, key) : NULL;
		if (!json_array_size(got)) {
			json_array_append_new(out, json_pack("{s:i,s:s}", "PrivatePort", (int)port, "Type", proto));
			continue;
		}
		size_t i;
		json_t *b;
		json_array_foreach(got, i, b)
		{
			json_array_append_new(
			        out,
			        json_pack("{s:i,s:s,s:i,s:s}", "PrivatePort", (int)port, "Type", proto, "PublicPort",
			                  atoi(json_string_value(json_object_get(b, "HostPort")) ?: "0"), "IP",
			                  json_string_value(json_object_get(b, "HostIp")) ?: "0.0.0.0"));
		}
	}
	return out;
}

json_t *uctr_summary(struct uctr *c)
{
	json_t *st = state_of(c);
	const char *status = json_string_value(json_object_get(st, "Status")) ?: "created";
	char text[128], dur[64];
	time_t now = time(NULL);
	if (!strcmp(status, "running") || !strcmp(status, "paused")) {
		human_duration((long long)now - parse_time(json_string_value(json_object_get(st, "StartedAt"))), dur,
		               sizeof(dur));
		snprintf(text, sizeof(text), "Up %s%s", dur, c->paused ? " (Paused)" : "");
	} else if (!strcmp(status, "exited") || !strcmp(status, "restarting")) {
		human_duration((long long)now - parse_time(json_string_value(json_object_get(st, "FinishedAt"))), dur,
		               sizeof(dur));
		snprintf(text, sizeof(text), "%s (%d) %s ago", !strcmp(status, "restarting") ? "Restarting" : "Exited",
		         (int)json_integer_value(json_object_get(st, "ExitCode")), dur);
	} else {
		snprintf(text, sizeof(text), "Created");
	}
	char cmd[4096] = "";
	size_t off = 0;
	off += (size_t)snprintf(cmd, sizeof(cmd), "%s", json_string_value(json_object_get(c->doc, "Path")) ?: "");
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(c->doc, "Args"), i, a) if (off < sizeof(cmd)) off +=
	        (size_t)snprintf(cmd + off, sizeof(cmd) - off, " %s", json_string_value(a) ?: "");
	char name[260];
	snprintf(name, sizeof(name), "/%s", uctr_name(c));
	json_t *labels = json_object_get(config(c), "Labels");
	json_t *nets = json_object();
	const char *mode = json_string_value(json_object_get(hostcfg(c), "NetworkMode")) ?: "bridge";
	json_object_set_new(
	        nets, mode,
	        json_pack("{s:s,s:s,s:i}", "IPAddress",
	                  json_string_value(json_object_get(json_object_get(c->doc, "NetworkSettings"), "IPAddress"))
	                          ?: "",
	                  "Gateway", "", "IPPrefixLen", 0));
	return json_pack("{s:s,s:[s],s:s,s:s,s:s,s:I,s:o,s:o,s:s,s:s,s:{s:s},s:{s:o},s:o}", "Id", c->id, "Names", name,
	                 "Image", json_string_value(json_object_get(config(c), "Image")) ?: "", "ImageID",
	                 json_string_value(json_object_get(c->doc, "Image")) ?: "", "Command", cmd, "Created",
	                 (json_int_t)parse_time(json_string_value(json_object_get(c->doc, "Created"))), "Ports",
	                 ports_summary(c), "Labels", json_is_object(labels) ? json_incref(labels) : json_object(),
	                 "State", status, "Status", text, "HostConfig", "NetworkMode", mode, "NetworkSettings",
	                 "Networks", nets, "Mounts", json_incref(json_object_get(c->doc, "Mounts")) ?: json_array());
}

json_t *uctr_inspect(struct uctr *c)
{
	json_t *j = json_deep_copy(c->doc);
	const char *key;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(j, tmp, key, v) if (!strncmp(key, "ros.", 4)) json_object_del(j, key);
	json_t *execs = json_array();
	for (struct uexec *x = c->u->execs; x; x = x->next)
		if (x->c == c)
			json_array_append_new(execs, json_string(x->id));
	json_object_set_new(j, "ExecIDs", json_array_size(execs) ? execs : (json_decref(execs), json_null()));
	char dir[4096];
	ctr_dir(c, dir, sizeof(dir), NULL);
	json_object_set_new(j, "GraphDriver",
	                    json_pack("{s:s,s:{s:s%,s:s%}}", "Name", "overlay2", "Data", "UpperDir", dir, strlen(dir),
	                              "MergedDir", dir, strlen(dir)));
	json_object_set_new(j, "MountLabel", json_string(""));
	json_object_set_new(j, "ProcessLabel", json_string(""));
	json_object_set_new(j, "AppArmorProfile", json_string(""));
	json_t *ns = json_object_get(j, "NetworkSettings");
	json_object_set_new(ns, "Ports", json_object());
	const char *pk;
	json_t *pb;
	json_t *actual = json_object_get(c->doc, "ros.ports");
	json_object_foreach(json_object_get(hostcfg(c), "PortBindings"), pk, pb)
	{
		json_t *got = json_object_get(actual, pk);
		json_object_set(json_object_get(ns, "Ports"), pk, c->running && got ? got : json_null());
	}
	return j;
}

json_t *uctr_stats(struct uctr *c)
{
	char now[64];
	time_rfc3339_now(now, sizeof(now));
	unsigned long long mem = 0, limit = 0, cpu = 0, pids = 0;
	char d[4096];
	bool v2 = cgroup_detect(CGROUP_ROOT) == CGROUP_V2;
	if (c->running && cgroup_dir(c, "memory", d, sizeof(d)) == 0) {
		mem = read_ull(d, v2 ? "memory.current" : "memory.usage_in_bytes", NULL);
		limit = read_ull(d, v2 ? "memory.max" : "memory.limit_in_bytes", NULL);
	}
	if (c->running && cgroup_dir(c, v2 ? "" : "cpuacct", d, sizeof(d)) == 0)
		cpu = v2 ? read_ull(d, "cpu.stat", "usage_usec") * 1000 : read_ull(d, "cpuacct.usage", NULL);
	if (c->running && cgroup_dir(c, "pids", d, sizeof(d)) == 0)
		pids = read_ull(d, "pids.current", NULL);
	struct sysinfo_like {
		unsigned long long total;
	} si = {0};
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	si.total = (unsigned long long)pages * (unsigned long long)psize;
	if (!limit || limit > si.total)
		limit = si.total;
	/* system CPU time in ns, from /proc/stat (USER_HZ ticks) */
	unsigned long long sys = 0;
	FILE *f = fopen("/proc/stat", "re");
	if (f) {
		unsigned long long v[8] = {0};
		if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		           &v[6], &v[7]) == 8)
			for (int i = 0; i < 8; i++)
				sys += v[i];
		sys = sys * (1000000000ULL / (unsigned long long)sysconf(_SC_CLK_TCK));
		fclose(f);
	}
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	char name[260];
	snprintf(name, sizeof(name), "/%s", uctr_name(c));
	return json_pack("{s:s,s:s,s:s,s:s,s:{s:I},s:{s:{s:I,s:I,s:I},s:I,s:i},s:{s:{s:I,s:I,s:I},s:I,s:i},"
	                 "s:{s:I,s:I,s:{}},s:{}}",
	                 "read", now, "preread", "0001-01-01T00:00:00Z", "id", c->id, "name", name, "pids_stats",
	                 "current", (json_int_t)pids, "cpu_stats", "cpu_usage", "total_usage", (json_int_t)cpu,
	                 "usage_in_kernelmode", (json_int_t)0, "usage_in_usermode", (json_int_t)0, "system_cpu_usage",
	                 (json_int_t)sys, "online_cpus", (int)ncpu, "precpu_stats", "cpu_usage", "total_usage",
	                 (json_int_t)0, "usage_in_kernelmode", (json_int_t)0, "usage_in_usermode", (json_int_t)0,
	                 "system_cpu_usage", (json_int_t)0, "online_cpus", (int)ncpu, "memory_stats", "usage",
	                 (json_int_t)mem, "limit", (json_int_t)limit, "stats", "networks");
}

json_t *uctr_top(struct uctr *c, struct ros_err *e)
{
	if (!c->running)
		return err_setx(e, EBUSY, "Container %s is not running", c->id), NULL;
	pid_t *pids = NULL;
	size_t n = 0;
	if (ctr_ps(c->u->state_root, c->id, &pids, &n, e) < 0)
		return NULL;
	json_t *procs = json_array();
	for (size_t i = 0; i < n; i++) {
		char p[64], cmd[4096] = "";
		snprintf(p, sizeof(p), "/proc/%d/cmdline", (int)pids[i]);
		cleanup_free char *txt = NULL;
		size_t len = 0;
		if (fs_read_all(p, sizeof(cmd) - 1, &txt, &len, NULL) >= 0) {
			for (size_t k = 0; k < len; k++)
				if (!txt[k])
					txt[k] = ' ';
			snprintf(cmd, sizeof(cmd), "%.*s", (int)len, txt);
		}
		char pid[16];
		snprintf(pid, sizeof(pid), "%d", (int)pids[i]);
		json_array_append_new(procs, json_pack("[s,s]", pid, cmd));
	}
	free(pids);
	return json_pack("{s:[s,s],s:o}", "Titles", "PID", "CMD", "Processes", procs);
}

/* ---- load, adopt, shutdown ------------------------------------------------------------------- */

int ctrs_load(struct userctr *u, struct ros_err *e)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/containers", u->root);
	DIR *d = opendir(dir);
	if (!d)
		return err_set(e, errno, "open %s", dir);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) != 64)
			continue;
		char p[4200];
		snprintf(p, sizeof(p), "%s/%s/container.json", dir, de->d_name);
		json_error_t je;
		json_t *doc = json_load_file(p, 0, &je);
		if (!json_is_object(doc)) {
			fprintf(stderr, "userctr: %s: line %d: %s; container skipped\n", p, je.line, je.text);
			json_decref(doc);
			continue;
		}
		struct uctr *c = uctr_new(u, de->d_name, doc);
		if (!c) {
			json_decref(doc);
			break;
		}
		c->user_stopped = json_is_true(json_object_get(doc, "ros.user_stopped"));
	}
	closedir(d);
	return 0;
}

static pid_t ppid_of(pid_t pid)
{
	char p[64], buf[512];
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	cleanup_close int fd = open(p, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	const char *rp = strrchr(buf, ')');
	int ppid = 0;
	if (!rp || sscanf(rp + 2, "%*c %d", &ppid) != 1)
		return 0;
	return (pid_t)ppid;
}

void uctr_pidfd_event(struct uctr *c)
{
	if (c->running && !c->exit_pending)
		ctrs_reaped(c->u, c->pid, -1);
}

void ctrs_adopt(struct userctr *u, json_t *stored)
{
	/* the fds the reaper kept, by container id */
	const char *key;
	json_t *fds;
	for (struct uctr *c = u->ctrs; c; c = c->next) {
		json_t *st = state_of(c);
		const char *status = json_string_value(json_object_get(st, "Status")) ?: "";
		pid_t pid = (pid_t)json_integer_value(json_object_get(st, "Pid"));
		unsigned long long t0 =
		        (unsigned long long)json_integer_value(json_object_get(c->doc, "ros.start_time"));
		bool was_running = !strcmp(status, "running") || !strcmp(status, "paused");
		const char *mask = NULL;
		json_t *mine = NULL;
		json_object_foreach(stored, key, fds) if (!strncmp(key, c->id, 64) && key[64] == '/')
		{
			mine = fds;
			mask = key + 65;
		}
		if (was_running && pid > 0 && t0 && ctr_pid_start_time(pid) == t0) {
			c->running = true;
			c->adopted = true;
			c->pid = pid;
			c->start_time = t0;
			c->paused = !strcmp(status, "paused");
			const char *logp = json_string_value(json_object_get(c->doc, "LogPath"));
			c->log_fd = logp ? open(logp, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600) : -1;
			size_t k = 0;
			for (const char *m = mask ? mask : ""; *m; m++, k++) {
				int fd = (int)json_integer_value(json_array_get(mine, k));
				if (*m == 'o')
					src_add(u, &c->out, fd);
				else if (*m == 'e')
					src_add(u, &c->err, fd);
				else if (*m == 'i')
					c->in_fd = fd;
			}
			/* the fds stay with the reaper too, for the next engine */
			store_fds(c);
			/* not the reaper's child (the reaper itself was restarted): watch
			 * the pid; its exit status is lost to whoever reaps it */
			if (ppid_of(pid) != getppid()) {
				c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
				struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &c->pidw};
				if (c->pidfd >= 0)
					epoll_ctl(u->ep, EPOLL_CTL_ADD, c->pidfd, &ev);
			}
			continue;
		}
		/* closing fds we will not use */
		for (size_t k = 0; k < json_array_size(mine); k++)
			close((int)json_integer_value(json_array_get(mine, k)));
		if (was_running) {
			/* it exited while no engine watched: the reaper may know how */
			char pk[32];
			snprintf(pk, sizeof(pk), "%d", (int)pid);
			json_t *rec = json_object_get(u->exits, pk);
			c->running = true;
			c->pid = pid;
			c->exit_status = rec ? (int)json_integer_value(rec) : -1;
			if (rec) {
				reaper_ack(u, pid);
				json_object_del(u->exits, pk);
			}
			finish_exit(c);
		}
	}
	/* what was never started again: restart policies across engine restarts and reboots */
	for (struct uctr *c = u->ctrs, *next; c; c = next) {
		next = c->next;
		const char *status = json_string_value(json_object_get(state_of(c), "Status")) ?: "";
		if (c->running || !(strcmp(status, "exited") == 0 || strcmp(status, "restarting") == 0))
			continue;
		int max;
		const char *p = restart_policy(c, &max);
		if (!c->user_stopped && (!strcmp(p, "always") || !strcmp(p, "unless-stopped") ||
		                         (!strcmp(p, "on-failure") && !strcmp(status, "restarting")))) {
			struct ros_err e = {0};
			if (uctr_start(c, &e) < 0)
				fprintf(stderr, "userctr: starting %s (restart policy %s): %s\n", uctr_name(c), p,
				        err_msg(&e));
		}
	}
}

void ctrs_shutdown(struct userctr *u)
{
	while (u->ctrs) {
		struct uctr *c = u->ctrs;
		u->ctrs = c->next;
		for (struct hijack *h = c->attached, *next; h; h = next) {
			next = h->next;
			h->c = NULL;
			hijack_close(h);
		}
		if (c->out.fd >= 0)
			close(c->out.fd);
		if (c->err.fd >= 0)
			close(c->err.fd);
		if (c->in_fd >= 0)
			close(c->in_fd);
		if (c->log_fd >= 0)
			close(c->log_fd);
		json_decref(c->doc);
		free(c);
	}
}
