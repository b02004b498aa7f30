/* SPDX-License-Identifier: MIT */
/*
 * roci: the OCI runtime command line (the runc/crun contract) on libros.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "core/log.h"
#include "ctr/ctr.h"
#include "ctr/spec.h"

static const char *state_root = CTR_DEFAULT_STATE_ROOT;

static int fail(const struct ros_err *e)
{
	log_error("%s", err_msg(e));
	return 1;
}

static int need_args(int argc, int n, const char *usage)
{
	if (argc - optind < n) {
		log_error("usage: roci %s", usage);
		return -1;
	}
	return 0;
}

struct create_args {
	const char *bundle, *pid_file, *console_socket;
	bool no_pivot, detach;
	int preserve_fds;
};

static int parse_create_opts(int argc, char **argv, struct create_args *c, bool run)
{
	static const struct option opts[] = {{"bundle", required_argument, NULL, 'b'},
	                                     {"pid-file", required_argument, NULL, 'p'},
	                                     {"console-socket", required_argument, NULL, 'c'},
	                                     {"no-pivot", no_argument, NULL, 'n'},
	                                     {"no-new-keyring", no_argument, NULL, 'k'},
	                                     {"preserve-fds", required_argument, NULL, 'f'},
	                                     {"detach", no_argument, NULL, 'd'},
	                                     {"keep", no_argument, NULL, 'K'},
	                                     {0}};
	int ch;
	c->bundle = ".";
	while ((ch = getopt_long(argc, argv, "+b:d", opts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			c->bundle = optarg;
			break;
		case 'p':
			c->pid_file = optarg;
			break;
		case 'c':
			c->console_socket = optarg;
			break;
		case 'n':
			c->no_pivot = true;
			break;
		case 'f':
			c->preserve_fds = atoi(optarg);
			break;
		case 'd':
			if (!run)
				return -1;
			c->detach = true;
			break;
		case 'k':
		case 'K':
			break;
		default:
			return -1;
		}
	}
	return 0;
}

static int cmd_create(int argc, char **argv, bool run)
{
	struct create_args c = {0};
	if (parse_create_opts(argc, argv, &c, run) < 0 ||
	    need_args(argc, 1, run ? "run [--bundle DIR] [--detach] ID" : "create [--bundle DIR] ID") < 0)
		return 2;
	const char *id = argv[optind];
	struct ros_err e = {0};
	pid_t pid = -1;
	struct ctr_create_opts o = {.state_root = state_root,
	                            .id = id,
	                            .bundle = c.bundle,
	                            .pid_file = c.pid_file,
	                            .console_socket = c.console_socket,
	                            .no_pivot = c.no_pivot,
	                            .preserve_fds = c.preserve_fds,
	                            .stdio = {-1, -1, -1},
	                            .pid_out = &pid};
	if (ctr_create(&o, &e) < 0)
		return fail(&e);
	if (!run)
		return 0;
	if (ctr_start(state_root, id, &e) < 0) {
		struct ros_err de = {0};
		ctr_delete(state_root, id, true, &de);
		return fail(&e);
	}
	if (c.detach)
		return 0;
	/* forward the usual termination signals to the container */
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	ctr_delete(state_root, id, true, &e);
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

static int cmd_start(int argc, char **argv)
{
	if (need_args(argc, 1, "start ID") < 0)
		return 2;
	struct ros_err e = {0};
	return ctr_start(state_root, argv[optind], &e) < 0 ? fail(&e) : 0;
}

static int cmd_state(int argc, char **argv)
{
	if (need_args(argc, 1, "state ID") < 0)
		return 2;
	struct ros_err e = {0};
	struct ctr_state st;
	if (ctr_state_get(state_root, argv[optind], &st, &e) < 0)
		return fail(&e);
	json_t *j = ctr_state_json(&st);
	char *s = json_dumps(j, JSON_INDENT(2));
	printf("%s\n", s);
	free(s);
	json_decref(j);
	ctr_state_release(&st);
	return 0;
}

static int parse_signal(const char *s)
{
	char *end;
	long n = strtol(s, &end, 10);
	if (*s && !*end)
		return n > 0 && n < NSIG ? (int)n : -1;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (int i = 1; i < NSIG; i++) {
		const char *name = sigabbrev_np(i);
		if (name && !strcasecmp(s, name))
			return i;
	}
	return -1;
}

static int cmd_kill(int argc, char **argv)
{
	bool all = false;
	static const struct option opts[] = {{"all", no_argument, NULL, 'a'}, {0}};
	int ch;
	while ((ch = getopt_long(argc, argv, "+a", opts, NULL)) != -1) {
		if (ch != 'a')
			return 2;
		all = true;
	}
	if (need_args(argc, 1, "kill [--all] ID [SIGNAL]") < 0)
		return 2;
	int sig = SIGTERM;
	if (argc - optind > 1 && (sig = parse_signal(argv[optind + 1])) < 0) {
		log_error("kill: unknown signal \"%s\"", argv[optind + 1]);
		return 2;
	}
	struct ros_err e = {0};
	return ctr_kill(state_root, argv[optind], sig, all, &e) < 0 ? fail(&e) : 0;
}

static int cmd_delete(int argc, char **argv)
{
	bool force = false;
	static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {0}};
	int ch;
	while ((ch = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
		if (ch != 'f')
			return 2;
		force = true;
	}
	if (need_args(argc, 1, "delete [--force] ID") < 0)
		return 2;
	struct ros_err e = {0};
	return ctr_delete(state_root, argv[optind], force, &e) < 0 ? fail(&e) : 0;
}

static int cmd_list(int argc, char **argv)
{
	bool quiet = false, json = false;
	static const struct option opts[] = {
	        {"quiet", no_argument, NULL, 'q'}, {"format", required_argument, NULL, 'f'}, {0}};
	int ch;
	while ((ch = getopt_long(argc, argv, "+qf:", opts, NULL)) != -1) {
		if (ch == 'q')
			quiet = true;
		else if (ch == 'f')
			json = !strcmp(optarg, "json");
		else
			return 2;
	}
	struct ros_err e = {0};
	cleanup_strv char **ids = NULL;
	if (ctr_list(state_root, &ids, &e) < 0)
		return fail(&e);
	json_t *arr = json_array();
	if (!quiet && !json)
		printf("%-20s %-8s %-10s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
	for (char **id = ids; *id; id++) {
		struct ctr_state st;
		if (ctr_state_get(state_root, *id, &st, NULL) < 0)
			continue;
		if (quiet)
			printf("%s\n", *id);
		else if (json)
			json_array_append_new(arr, ctr_state_json(&st));
		else
			printf("%-20s %-8d %-10s %-40s %s\n", *id, (int)st.pid, ctr_status_name(st.status), st.bundle,
			       st.created);
		ctr_state_release(&st);
	}
	if (json) {
		char *s = json_dumps(arr, 0);
		printf("%s\n", s);
		free(s);
	}
	json_decref(arr);
	return 0;
}

static int cmd_pause(int argc, char **argv, bool pause)
{
	if (need_args(argc, 1, pause ? "pause ID" : "resume ID") < 0)
		return 2;
	struct ros_err e = {0};
	return ctr_pause(state_root, argv[optind], pause, &e) < 0 ? fail(&e) : 0;
}

static int cmd_exec(int argc, char **argv)
{
	static const struct option opts[] = {{"env", required_argument, NULL, 'e'},
	                                     {"cwd", required_argument, NULL, 'w'},
	                                     {"user", required_argument, NULL, 'u'},
	                                     {"detach", no_argument, NULL, 'd'},
	                                     {"pid-file", required_argument, NULL, 'p'},
	                                     {"process", required_argument, NULL, 'P'},
	                                     {"tty", no_argument, NULL, 't'},
	                                     {"console-socket", required_argument, NULL, 'c'},
	                                     {0}};
	struct ctr_exec_opts o = {.state_root = state_root, .stdio = {-1, -1, -1}};
	char *envs[65] = {0};
	size_t ne = 0;
	const char *process = NULL;
	int tty = -1; /* -1: as --process says */
	int ch;
	while ((ch = getopt_long(argc, argv, "+e:w:u:dp:P:t", opts, NULL)) != -1) {
		switch (ch) {
		case 'e':
			if (ne < 64)
				envs[ne++] = optarg;
			break;
		case 'w':
			o.cwd = optarg;
			break;
		case 'u': {
			unsigned u, g = 0;
			int k = sscanf(optarg, "%u:%u", &u, &g);
			if (k < 1) {
				log_error("exec: --user wants UID[:GID], not \"%s\"", optarg);
				return 2;
			}
			o.has_user = true;
			o.uid = u;
			o.gid = g;
			break;
		}
		case 'd':
			o.detach = true;
			break;
		case 'p':
			o.pid_file = optarg;
			break;
		case 'P':
			process = optarg;
			break;
		case 't':
			tty = 1;
			break;
		case 'c':
			o.console_socket = optarg;
			break;
		default:
			return 2;
		}
	}
	if (need_args(argc, 1,
	              "exec [--env K=V] [--cwd DIR] [--user UID[:GID]] [-d] [--pid-file F] [--process FILE] "
	              "[-t --console-socket S] ID [CMD...]") < 0)
		return 2;
	o.id = argv[optind];
	o.env = envs;
	o.args = argv + optind + 1;
	json_t *pj = NULL;
	char **pargs = NULL;
	if (process) {
		json_error_t je;
		pj = json_load_file(process, 0, &je);
		if (!pj) {
			log_error("exec: %s:%d:%d: %s", process, je.line, je.column, je.text);
			return 1;
		}
		json_t *a = json_object_get(pj, "args");
		if (!json_is_array(a) || json_array_size(a) == 0) {
			log_error("exec: %s: .args must be a non-empty array of strings", process);
			json_decref(pj);
			return 1;
		}
		pargs = calloc(json_array_size(a) + 1, sizeof(char *));
		for (size_t i = 0; pargs && i < json_array_size(a); i++) {
			const char *v = json_string_value(json_array_get(a, i));
			if (!v) {
				log_error("exec: %s: .args[%zu] must be a string", process, i);
				free(pargs);
				json_decref(pj);
				return 1;
			}
			pargs[i] = (char *)(uintptr_t)v;
		}
		o.args = pargs;
		json_t *env = json_object_get(pj, "env");
		for (size_t i = 0; json_is_array(env) && i < json_array_size(env) && ne < 64; i++)
			if (json_is_string(json_array_get(env, i)))
				envs[ne++] = (char *)(uintptr_t)json_string_value(json_array_get(env, i));
		const char *cwd = json_string_value(json_object_get(pj, "cwd"));
		if (cwd)
			o.cwd = cwd;
		json_t *user = json_object_get(pj, "user");
		if (json_is_object(user)) {
			o.has_user = true;
			o.uid = (uid_t)json_integer_value(json_object_get(user, "uid"));
			o.gid = (gid_t)json_integer_value(json_object_get(user, "gid"));
		}
		if (tty < 0)
			tty = json_is_true(json_object_get(pj, "terminal"));
	}
	o.terminal = tty > 0;
	if (!o.args[0]) {
		log_error("exec: no command given");
		free(pargs);
		json_decref(pj);
		return 2;
	}
	if (o.terminal && !o.console_socket) {
		/* roci does not relay a terminal itself: its caller owns the pty */
		log_error("exec: --tty (or process.terminal) needs --console-socket PATH to send the pty master to");
		free(pargs);
		json_decref(pj);
		return 1;
	}
	struct ros_err e = {0};
	int status = 0;
	int r = ctr_exec(&o, &status, &e);
	free(pargs);
	json_decref(pj);
	if (r < 0)
		return fail(&e);
	return o.detach ? 0 : status;
}

/* A size as runc takes it: 123, 1.5k, 64m, 2g, 1GiB, "10 MB" (units of
 * 1024), or -1 for no limit.  Returns false when s is not one. */
static bool parse_size(const char *s, int64_t *out)
{
	if (!strcmp(s, "-1")) {
		*out = -1;
		return true;
	}
	const char *p = s;
	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return false;
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	}
	double v = strtod(s, NULL); /* the checked prefix: digits and one dot */
	if (*p == ' ')
		p++;
	static const char units[] = "kmgtp";
	const char *u = *p ? strchr(units, *p | 0x20) : NULL;
	if (u) {
		for (const char *k = units; k <= u; k++)
			v *= 1024;
		p++;
		if (*p == 'i' || *p == 'I')
			p++;
	}
	if (*p == 'b' || *p == 'B')
		p++;
	if (*p || v >= 9223372036854775807.0)
		return false;
	*out = (int64_t)v;
	return true;
}

static bool parse_int(const char *s, bool negative_ok, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || errno || (v < 0 && !negative_ok))
		return false;
	*out = v;
	return true;
}

/* Sets res.group.key = v (v is stolen), creating the group object. */
static void set_resource(json_t *res, const char *group, const char *key, json_t *v)
{
	json_t *g = json_object_get(res, group);
	if (!json_is_object(g))
		json_object_set_new(res, group, g = json_object());
	json_object_set_new(g, key, v);
}

static json_t *load_resources(const char *file)
{
	json_error_t je;
	json_t *j = !strcmp(file, "-") ? json_loadf(stdin, JSON_REJECT_DUPLICATES, &je)
	                               : json_load_file(file, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		if (strcmp(file, "-") && access(file, F_OK) < 0)
			log_error("update: --resources %s: %s", file, strerror(errno));
		else
			log_error("update: --resources %s:%d:%d: %s", !strcmp(file, "-") ? "<stdin>" : file, je.line,
			          je.column, je.text);
	}
	return j;
}

static int cmd_update(int argc, char **argv)
{
	enum { SIZE, INT, UINT, STRING, IGNORED };
	static const struct {
		const char *flag, *group, *key;
		int kind;
	} flags[] = {
	        {"memory", "memory", "limit", SIZE},
	        {"memory-reservation", "memory", "reservation", SIZE},
	        {"memory-swap", "memory", "swap", SIZE},
	        {"kernel-memory", NULL, NULL, IGNORED},
	        {"kernel-memory-tcp", NULL, NULL, IGNORED},
	        {"cpu-shares", "cpu", "shares", UINT},
	        {"cpu-period", "cpu", "period", UINT},
	        {"cpu-quota", "cpu", "quota", INT},
	        {"cpu-rt-period", "cpu", "realtimePeriod", UINT},
	        {"cpu-rt-runtime", "cpu", "realtimeRuntime", INT},
	        {"cpuset-cpus", "cpu", "cpus", STRING},
	        {"cpuset-mems", "cpu", "mems", STRING},
	        {"pids-limit", "pids", "limit", INT},
	        {"blkio-weight", "blockIO", "weight", UINT},
	};
	enum { N_FLAGS = sizeof(flags) / sizeof(flags[0]) };
	struct option opts[N_FLAGS + 2] = {{"resources", required_argument, NULL, 'r'}};
	for (int i = 0; i < N_FLAGS; i++)
		opts[i + 1] = (struct option){flags[i].flag, required_argument, NULL, 256 + i};
	const char *file = NULL;
	json_t *set = json_object();
	int ch, r = 2;
	while ((ch = getopt_long(argc, argv, "+r:", opts, NULL)) != -1) {
		if (ch == 'r') {
			file = optarg;
			continue;
		}
		if (ch < 256 || ch >= 256 + N_FLAGS)
			goto out;
		int i = ch - 256;
		int64_t size;
		long long n;
		json_t *v = NULL;
		switch (flags[i].kind) {
		case SIZE:
			if (parse_size(optarg, &size))
				v = json_integer(size);
			break;
		case INT:
		case UINT:
			if (parse_int(optarg, flags[i].kind == INT, &n))
				v = json_integer(n);
			break;
		case STRING:
			v = json_string(optarg);
			break;
		case IGNORED:
			log_warn("update: --%s is ignored: kernel memory limits are deprecated (as in runc)",
			         flags[i].flag);
			continue;
		}
		if (!v) {
			log_error("update: --%s: invalid value \"%s\" (want %s)", flags[i].flag, optarg,
			          flags[i].kind == SIZE  ? "a size such as 512m, 1g or -1"
			          : flags[i].kind == INT ? "an integer"
			                                 : "a non-negative integer");
			goto out;
		}
		set_resource(set, flags[i].group, flags[i].key, v);
	}
	if (need_args(argc, 1, "update [--resources FILE|-] [--memory N] [--cpu-shares N] ... ID") < 0)
		goto out;
	if (!file && !json_object_size(set)) {
		log_error("update: nothing to change: give --resources FILE or a resource option");
		goto out;
	}
	json_t *res = set;
	if (file) {
		if (!(res = load_resources(file))) {
			r = 1;
			goto out;
		}
		/* the options override the file member by member */
		const char *group;
		json_t *g;
		json_object_foreach(set, group, g)
		{
			const char *key;
			json_t *v;
			json_object_foreach(g, key, v)
			{
				if (json_is_object(res))
					set_resource(res, group, key, json_incref(v));
			}
		}
	}
	struct ros_err e = {0};
	r = ctr_update(state_root, argv[optind], res, &e) < 0 ? fail(&e) : 0;
	if (res != set)
		json_decref(res);
out:
	json_decref(set);
	return r;
}

static int cmd_ps(int argc, char **argv)
{
	bool json = false;
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'}, {0}};
	int ch;
	while ((ch = getopt_long(argc, argv, "+f:", opts, NULL)) != -1) {
		if (ch != 'f')
			return 2;
		json = !strcmp(optarg, "json");
	}
	if (need_args(argc, 1, "ps [--format table|json] ID") < 0)
		return 2;
	struct ros_err e = {0};
	pid_t *pids = NULL;
	size_t n = 0;
	if (ctr_ps(state_root, argv[optind], &pids, &n, &e) < 0)
		return fail(&e);
	if (json) {
		printf("[");
		for (size_t i = 0; i < n; i++)
			printf("%s%d", i ? "," : "", (int)pids[i]);
		printf("]\n");
	} else {
		printf("PID\n");
		for (size_t i = 0; i < n; i++)
			printf("%d\n", (int)pids[i]);
	}
	free(pids);
	return 0;
}

static int cmd_spec(int argc, char **argv)
{
	bool rootless = false;
	const char *bundle = ".";
	static const struct option opts[] = {
	        {"rootless", no_argument, NULL, 'r'}, {"bundle", required_argument, NULL, 'b'}, {0}};
	int ch;
	while ((ch = getopt_long(argc, argv, "+b:", opts, NULL)) != -1) {
		if (ch == 'r')
			rootless = true;
		else if (ch == 'b')
			bundle = optarg;
		else
			return 2;
	}
	char p[4096];
	snprintf(p, sizeof(p), "%s/config.json", bundle);
	if (access(p, F_OK) == 0) {
		log_error("spec: %s already exists", p);
		return 1;
	}
	json_t *j = spec_default(rootless);
	char *s = json_dumps(j, JSON_INDENT(2));
	json_decref(j);
	struct ros_err e = {0};
	int r = s ? fs_write_atomic(p, s, strlen(s), 0644, &e) : -ENOMEM;
	free(s);
	return r < 0 ? fail(&e) : 0;
}

static int cmd_features(void)
{
	printf("{\"ociVersionMin\":\"1.0.0\",\"ociVersionMax\":\"1.1.0\","
	       "\"hooks\":[\"prestart\",\"createRuntime\",\"createContainer\",\"startContainer\",\"poststart\","
	       "\"poststop\"],"
	       "\"mountOptions\":[\"async\",\"atime\",\"bind\",\"defaults\",\"dev\",\"diratime\",\"dirsync\",\"exec\","
	       "\"mand\",\"noatime\",\"nodev\",\"nodiratime\",\"noexec\",\"nomand\",\"norelatime\",\"nostrictatime\","
	       "\"nosuid\",\"private\",\"rbind\",\"relatime\",\"remount\",\"ro\",\"rprivate\",\"rshared\",\"rslave\","
	       "\"runbindable\",\"rw\",\"shared\",\"slave\",\"strictatime\",\"suid\",\"sync\",\"unbindable\"],"
	       "\"linux\":{\"namespaces\":[\"cgroup\",\"ipc\",\"mount\",\"network\",\"pid\",\"time\",\"user\",\"uts\"],"
	       "\"capabilities\":[],\"cgroup\":{\"v1\":true,\"v2\":true,\"systemd\":false,\"systemdUser\":false},"
	       "\"seccomp\":{\"enabled\":true,\"actions\":[\"SCMP_ACT_ALLOW\",\"SCMP_ACT_ERRNO\",\"SCMP_ACT_KILL\","
	       "\"SCMP_ACT_KILL_PROCESS\",\"SCMP_ACT_KILL_THREAD\",\"SCMP_ACT_LOG\",\"SCMP_ACT_TRACE\","
	       "\"SCMP_ACT_TRAP\"],\"operators\":[\"SCMP_CMP_EQ\",\"SCMP_CMP_GE\",\"SCMP_CMP_GT\",\"SCMP_CMP_LE\","
	       "\"SCMP_CMP_LT\",\"SCMP_CMP_MASKED_EQ\",\"SCMP_CMP_NE\"]},"
	       "\"apparmor\":{\"enabled\":false},\"selinux\":{\"enabled\":false}},"
	       "\"annotations\":{\"org.opencontainers.runc.version\":\"roci %s\"}}\n",
	       ROS_VERSION);
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: roci [--root DIR] [--log FILE] [--log-format text|json] [--debug] COMMAND [ARGS]\n\n"
	             "commands: create, start, run, state, kill, delete, list, ps, exec, pause, resume, update, spec, "
	             "features\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"root", required_argument, NULL, 'r'},       {"log", required_argument, NULL, 'l'},
	        {"log-format", required_argument, NULL, 'F'}, {"debug", no_argument, NULL, 'D'},
	        {"systemd-cgroup", no_argument, NULL, 's'},   {"help", no_argument, NULL, 'h'},
	        {"version", no_argument, NULL, 'v'},          {0}};
	const char *log_path = NULL;
	bool json = false, debug = false;
	int ch;
	while ((ch = getopt_long(argc, argv, "+hv", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			state_root = optarg;
			break;
		case 'l':
			log_path = optarg;
			break;
		case 'F':
			json = !strcmp(optarg, "json");
			break;
		case 'D':
			debug = true;
			break;
		case 's':
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'v':
			printf("roci version %s\nspec: 1.1.0\n", ROS_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	int log_fd = 2;
	if (log_path && (log_fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0)
		log_fd = 2;
	log_setup("roci", log_fd, json);
	if (debug)
		log_set_level(LOG_LVL_DEBUG);
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[optind];
	argc -= optind;
	argv += optind;
	optind = 1;
	int r;
	if (!strcmp(cmd, "create"))
		r = cmd_create(argc, argv, false);
	else if (!strcmp(cmd, "run"))
		r = cmd_create(argc, argv, true);
	else if (!strcmp(cmd, "start"))
		r = cmd_start(argc, argv);
	else if (!strcmp(cmd, "state"))
		r = cmd_state(argc, argv);
	else if (!strcmp(cmd, "kill"))
		r = cmd_kill(argc, argv);
	else if (!strcmp(cmd, "delete"))
		r = cmd_delete(argc, argv);
	else if (!strcmp(cmd, "list"))
		r = cmd_list(argc, argv);
	else if (!strcmp(cmd, "exec"))
		r = cmd_exec(argc, argv);
	else if (!strcmp(cmd, "ps"))
		r = cmd_ps(argc, argv);
	else if (!strcmp(cmd, "update"))
		r = cmd_update(argc, argv);
	else if (!strcmp(cmd, "pause"))
		r = cmd_pause(argc, argv, true);
	else if (!strcmp(cmd, "resume"))
		r = cmd_pause(argc, argv, false);
	else if (!strcmp(cmd, "spec"))
		r = cmd_spec(argc, argv);
	else if (!strcmp(cmd, "features"))
		r = cmd_features();
	else {
		log_error("unknown command \"%s\"", cmd);
		usage(stderr);
		r = 2;
	}
	if (r == 2 && errno != 0)
		errno = 0;
	return r;
}
