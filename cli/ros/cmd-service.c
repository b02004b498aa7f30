/* SPDX-License-Identifier: MIT */
/*
 * ros service: the system services (docs/sysctr.md).
 *   list                  every defined service, enabled or not
 *   enable|disable NAME   persisted as ros.services_include.NAME
 *   up [NAME...]          (re)read definitions, start what should run
 *   down                  stop every service
 *   start|stop|restart|rm NAME
 *   ps                    state, pid, uptime, restarts, last exit
 *   logs [-f] [--lines N] NAME
 * Everything but list/enable/disable/logs asks sysctr on its socket
 * (ROOT/run/sysctr.sock; --root DIR works against another system's root).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cmd.h"
#include "config/config.h"
#include "core/cleanup.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: ros service COMMAND\n\n"
	             "  list                      every service, enabled or disabled\n"
	             "  enable NAME | disable NAME  persist in the config; applied by `up` or at boot\n"
	             "  up [NAME...]              re-read definitions and start what should run\n"
	             "  down                      stop every service\n"
	             "  start|stop|restart|rm NAME\n"
	             "  ps                        state, pid, uptime, restarts, last exit\n"
	             "  logs [-f] [--lines N] NAME\n");
}

/* One request to sysctr; returns the reply or NULL (message printed). */
/* Sends req (taken: freed here) to sysctr; its reply, or NULL (said why). */
static json_t *ask(json_t *req)
{
	cleanup_free char *txt = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	char path[4096];
	ros_path(path, sizeof(path), "/run/sysctr.sock");
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	/* a long --root: reach the socket through its directory */
	cleanup_close int dfd = -1;
	if (strlen(path) >= sizeof(a.sun_path)) {
		char dir[4096];
		ros_path(dir, sizeof(dir), "/run");
		if ((dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
			fprintf(stderr, "ros service: %s: %s\n", dir, strerror(errno));
			return NULL;
		}
		snprintf(a.sun_path, sizeof(a.sun_path), "/proc/self/fd/%d/sysctr.sock", dfd);
	} else {
		snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	}
	cleanup_close int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		fprintf(stderr, "ros service: cannot reach sysctr at %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (!txt || send(s, txt, strlen(txt), MSG_NOSIGNAL) < 0) {
		fprintf(stderr, "ros service: sending to sysctr: %s\n", strerror(errno));
		return NULL;
	}
	size_t cap = 1 << 20;
	cleanup_free char *buf = malloc(cap);
	ssize_t n = buf ? recv(s, buf, cap - 1, 0) : -1;
	if (n <= 0) {
		fprintf(stderr, "ros service: no reply from sysctr\n");
		return NULL;
	}
	buf[n] = '\0';
	json_error_t je;
	json_t *r = json_loads(buf, 0, &je);
	if (!r)
		fprintf(stderr, "ros service: bad reply from sysctr: %s\n", je.text);
	return r;
}

/* Prints an error reply; returns the exit status. */
static int done(json_t *r)
{
	if (!r)
		return 1;
	int rc = 0;
	if (!json_is_true(json_object_get(r, "ok"))) {
		fprintf(stderr, "ros service: %s\n", json_string_value(json_object_get(r, "error")) ?: "failed");
		rc = 1;
	}
	json_decref(r);
	return rc;
}

static void fmt_uptime(long long s, char *buf, size_t size)
{
	if (s < 60)
		snprintf(buf, size, "%llds", s);
	else if (s < 3600)
		snprintf(buf, size, "%lldm%llds", s / 60, s % 60);
	else
		snprintf(buf, size, "%lldh%lldm", s / 3600, (s % 3600) / 60);
}

static int do_ps(void)
{
	json_t *r = ask(json_pack("{s:s}", "op", "ps"));
	if (!r || !json_is_true(json_object_get(r, "ok")))
		return done(r);
	printf("%-16s %-11s %-7s %-8s %-8s %-9s %s\n", "NAME", "STATE", "PID", "UPTIME", "RESTARTS", "LAST-EXIT",
	       "IMAGE");
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(r, "services"), i, s)
	{
		char up[32] = "-", ex[16] = "-";
		long long pid = json_integer_value(json_object_get(s, "pid"));
		if (pid)
			fmt_uptime(json_integer_value(json_object_get(s, "uptime")), up, sizeof(up));
		long long le = json_integer_value(json_object_get(s, "last_exit"));
		if (le >= 0)
			snprintf(ex, sizeof(ex), "%lld", le);
		char pids[16] = "-";
		if (pid)
			snprintf(pids, sizeof(pids), "%lld", pid);
		printf("%-16s %-11s %-7s %-8s %-8lld %-9s %s\n", json_string_value(json_object_get(s, "name")),
		       json_string_value(json_object_get(s, "state")), pids, up,
		       json_integer_value(json_object_get(s, "restarts")), ex,
		       json_string_value(json_object_get(s, "image")));
		const char *err = json_string_value(json_object_get(s, "error"));
		if (err)
			printf("    error: %s\n", err);
	}
	json_decref(r);
	return 0;
}

/* Every defined service: name → optional?, from the shipped files and the config. */
static struct cfg_node *defined(struct cfg_node **tree)
{
	struct cfg_diag d = {0};
	struct ros_err e = {0};
	struct cfg_node *out = cfg_new(CFG_MAP);
	*tree = NULL;
	if (cfg_load_merged(ros_root(), NULL, CFG_LOAD_NO_CMDLINE, tree, &d, &e) < 0)
		fprintf(stderr, "ros service: %s\n", e.msg);
	cfg_diag_free(&d);
	char pat[4096];
	ros_path(pat, sizeof(pat), "/usr/share/ros/services/*.yml");
	glob_t g;
	if (glob(pat, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			struct cfg_node *f = NULL;
			if (cfg_parse_file(g.gl_pathv[i], &f, &e) < 0) {
				fprintf(stderr, "ros service: %s\n", e.msg);
				continue;
			}
			for (size_t k = 0; f->type == CFG_MAP && k < cfg_map_size(f); k++) {
				const struct cfg_node *opt = cfg_get(cfg_map_value_at(f, k), "labels.\"ros.optional\"");
				bool o = opt && ((opt->type == CFG_BOOL && opt->b) ||
				                 (opt->type == CFG_STRING && !strcmp(opt->s, "true")));
				cfg_map_set(out, cfg_map_key_at(f, k), cfg_new_string(o ? "optional" : "built-in"));
			}
			cfg_free(f);
		}
		globfree(&g);
	}
	const struct cfg_node *cs = cfg_get(*tree, "ros.services");
	for (size_t k = 0; cs && cs->type == CFG_MAP && k < cfg_map_size(cs); k++)
		if (!cfg_map_get(out, cfg_map_key_at(cs, k)))
			cfg_map_set(out, cfg_map_key_at(cs, k), cfg_new_string("config"));
	return out;
}

static bool is_enabled(const struct cfg_node *tree, const char *name, const char *kind)
{
	const struct cfg_node *in = cfg_map_get(cfg_get(tree, "ros.services_include"), name);
	if (in && in->type == CFG_BOOL)
		return in->b;
	return strcmp(kind, "optional") != 0;
}

static int do_list(void)
{
	struct cfg_node *tree;
	struct cfg_node *defs = defined(&tree);
	for (size_t k = 0; k < cfg_map_size(defs); k++) {
		const char *name = cfg_map_key_at(defs, k), *kind = cfg_map_value_at(defs, k)->s;
		printf("%-9s %-16s %s\n", is_enabled(tree, name, kind) ? "enabled" : "disabled", name, kind);
	}
	cfg_free(defs);
	cfg_free(tree);
	return 0;
}

static int do_enable(const char *name, bool on)
{
	struct cfg_node *tree;
	struct cfg_node *defs = defined(&tree);
	bool known = cfg_map_get(defs, name) != NULL;
	cfg_free(defs);
	cfg_free(tree);
	if (!known) {
		fprintf(stderr, "ros service: no service named %s (see `ros service list`)\n", name);
		return 1;
	}
	char path[4096];
	ros_path(path, sizeof(path), CFG_PATH_USER);
	struct cfg_node *user = NULL;
	struct ros_err e = {0};
	if (access(path, F_OK) == 0) {
		if (cfg_parse_file(path, &user, &e) < 0) {
			fprintf(stderr, "ros service: %s\n", e.msg);
			return 1;
		}
	} else {
		user = cfg_new(CFG_MAP);
	}
	char key[256];
	snprintf(key, sizeof(key), "ros.services_include.\"%s\"", name);
	int r = cfg_set(user, key, cfg_new_bool(on), &e);
	if (r == 0)
		r = cfg_write_layer(ros_root(), CFG_PATH_USER, user, &e);
	cfg_free(user);
	if (r < 0) {
		fprintf(stderr, "ros service: %s\n", e.msg);
		return 1;
	}
	return 0;
}

#define LOG_MAX_ROTATED 99

/* Where the last `lines` lines of the file begin. */
static off_t tail_start(int fd, off_t size, long lines)
{
	char b[4096];
	long seen = 0;
	off_t end = size;
	char last;
	if (end > 0 && pread(fd, &last, 1, end - 1) == 1 && last == '\n')
		end--; /* the final newline ends the last line */
	for (off_t at = end; at > 0;) {
		size_t chunk = at > (off_t)sizeof(b) ? sizeof(b) : (size_t)at;
		at -= (off_t)chunk;
		if (pread(fd, b, chunk, at) != (ssize_t)chunk)
			return 0;
		for (size_t i = chunk; i-- > 0;)
			if (b[i] == '\n' && ++seen == lines)
				return at + (off_t)i + 1;
	}
	return 0;
}

/* Lines in the first size bytes of the file (a last line without a newline counts). */
static long count_lines(int fd, off_t size)
{
	char b[65536];
	long n = 0;
	char last = '\n';
	for (off_t at = 0; at < size;) {
		ssize_t r = pread(fd, b, sizeof(b), at);
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++)
			n += b[i] == '\n';
		last = b[r - 1];
		at += r;
	}
	return n + (last != '\n');
}

static void copy_out(int fd, off_t from, off_t to)
{
	char b[65536];
	while (from < to) {
		ssize_t r = pread(fd, b, (size_t)(to - from) < sizeof(b) ? (size_t)(to - from) : sizeof(b), from);
		if (r <= 0)
			break;
		fwrite(b, 1, (size_t)r, stdout);
		from += r;
	}
}

static int do_logs(int argc, char **argv)
{
	static const struct option opts[] = {{"follow", no_argument, NULL, 'f'},
	                                     {"lines", required_argument, NULL, 'n'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {0}};
	bool follow = false;
	long lines = -1;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "fn:h", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'f':
			follow = true;
			break;
		case 'n':
			lines = strtol(optarg, &end, 10);
			if (*end || lines < 0) {
				fprintf(stderr, "ros service logs: --lines: expected a number, got \"%s\"\n", optarg);
				return 2;
			}
			break;
		case 'h':
			printf("usage: ros service logs [-f] [--lines N] NAME\n");
			return 0;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: ros service logs [-f] [--lines N] NAME\n");
		return 2;
	}
	const char *name = argv[optind];
	if (strchr(name, '/') || name[0] == '.') {
		fprintf(stderr, "ros service logs: bad service name \"%s\"\n", name);
		return 2;
	}
	char rel[512], path[4096];
	snprintf(rel, sizeof(rel), "/var/log/ros/%s.log", name);
	ros_path(path, sizeof(path), rel);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "ros service logs: %s: %s\n", path, strerror(errno));
		return 1;
	}
	struct stat st;
	fstat(fd, &st);
	off_t pos = 0;
	if (lines == 0) {
		pos = st.st_size;
	} else {
		/* Rotated files NAME.log.1 (newest) .. NAME.log.K hold what came
		 * before: reach back into them for what the current one lacks. */
		long need = lines;
		long have = lines > 0 ? count_lines(fd, st.st_size) : 0;
		if (lines > 0 && have >= need)
			pos = tail_start(fd, st.st_size, need);
		else
			need -= have;
		int k = 0;
		long partial = 0; /* lines wanted from the oldest file reached, 0: all of it */
		while (lines < 0 || (have < lines && need > 0)) {
			char rp[4200];
			snprintf(rp, sizeof(rp), "%s.%d", path, k + 1);
			if (k >= LOG_MAX_ROTATED || access(rp, R_OK) < 0)
				break;
			k++;
			if (lines > 0) {
				cleanup_close int rf = open(rp, O_RDONLY | O_CLOEXEC);
				struct stat rst;
				if (rf < 0 || fstat(rf, &rst) < 0)
					break;
				long cnt = count_lines(rf, rst.st_size);
				if (cnt >= need) {
					partial = need;
					break;
				}
				need -= cnt;
			}
		}
		/* oldest first: the last one reached gives only its tail */
		for (int i = k; i >= 1; i--) {
			char rp[4200];
			snprintf(rp, sizeof(rp), "%s.%d", path, i);
			cleanup_close int rf = open(rp, O_RDONLY | O_CLOEXEC);
			struct stat rst;
			if (rf < 0 || fstat(rf, &rst) < 0)
				continue;
			off_t from = 0;
			if (i == k && partial > 0)
				from = tail_start(rf, rst.st_size, partial);
			copy_out(rf, from, rst.st_size);
		}
	}
	char buf[65536];
	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf), pos);
		if (n > 0) {
			fwrite(buf, 1, (size_t)n, stdout);
			pos += n;
			continue;
		}
		if (!follow)
			break;
		fflush(stdout);
		if (fstat(fd, &st) == 0 && st.st_size < pos)
			pos = 0; /* rotated (copytruncate): start over */
		usleep(200 * 1000);
	}
	return 0;
}

int cmd_service(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *v = argv[1];
	if (!strcmp(v, "list"))
		return do_list();
	if (!strcmp(v, "ps"))
		return do_ps();
	if (!strcmp(v, "logs"))
		return do_logs(argc - 1, argv + 1);
	if (!strcmp(v, "down"))
		return done(ask(json_pack("{s:s}", "op", "down")));
	if (!strcmp(v, "up")) {
		json_t *names = json_array();
		for (int i = 2; i < argc; i++)
			json_array_append_new(names, json_string(argv[i]));
		json_t *r = ask(json_pack("{s:s, s:o}", "op", "up", "names", names));
		if (r && json_is_true(json_object_get(r, "ok"))) {
			json_decref(r);
			return do_ps();
		}
		return done(r);
	}
	static const char *const one[] = {"enable", "disable", "start", "stop", "restart", "rm", NULL};
	for (size_t i = 0; one[i]; i++) {
		if (strcmp(v, one[i]))
			continue;
		if (argc != 3) {
			fprintf(stderr, "usage: ros service %s NAME\n", v);
			return 2;
		}
		if (i < 2)
			return do_enable(argv[2], i == 0);
		return done(ask(json_pack("{s:s, s:s}", "op", v, "name", argv[2])));
	}
	fprintf(stderr, "ros service: unknown command \"%s\"\n", v);
	usage(stderr);
	return 2;
}
