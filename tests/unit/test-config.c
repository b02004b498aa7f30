/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tap.h"
#include "config/config.h"
#include "core/cleanup.h"
#include "core/fs.h"

static struct cfg_node *parse(const char *y)
{
	struct cfg_node *n = NULL;
	struct ros_err e = {0};
	if (cfg_parse_yaml(y, strlen(y), "t.yml", &n, &e) < 0) {
		printf("# parse failed: %s\n", e.msg);
		return NULL;
	}
	return n;
}

static char *tmpdir(void)
{
	char *t = strdup("/tmp/ros-test-config.XXXXXX");
	return mkdtemp(t);
}

static void put(const char *root, const char *rel, const char *content)
{
	char p[4096], d[4096];
	snprintf(p, sizeof(p), "%s%s", root, rel);
	snprintf(d, sizeof(d), "%s", p);
	*strrchr(d, '/') = '\0';
	fs_mkdir_p(d, 0755, NULL);
	fs_write_atomic(p, content, strlen(content), 0644, NULL);
}

TEST(core_schema_types_plain_scalars_and_quoted_stay_strings)
{
	struct cfg_node *n = parse("a: 12\nb: '12'\nc: true\nd: yes\ne: ~\nf: 1.5\ng: 0x1f\nh: 0o17\ni: \"true\"\n"
	                           "j: .inf\nk: 12abc\nl: !!str 7\n");
	ok(n != NULL, "parsed");
	is_int(cfg_get(n, "a")->type, CFG_INT);
	is_int(cfg_get(n, "a")->i, 12);
	is_int(cfg_get(n, "b")->type, CFG_STRING);
	is_int(cfg_get(n, "c")->type, CFG_BOOL);
	is_int(cfg_get(n, "d")->type, CFG_STRING); /* YAML 1.2: yes is a string */
	is_int(cfg_get(n, "e")->type, CFG_NULL);
	is_int(cfg_get(n, "f")->type, CFG_FLOAT);
	is_int(cfg_get(n, "g")->i, 31);
	is_int(cfg_get(n, "h")->i, 15);
	is_int(cfg_get(n, "i")->type, CFG_STRING);
	is_int(cfg_get(n, "j")->type, CFG_FLOAT);
	is_int(cfg_get(n, "k")->type, CFG_STRING);
	is_int(cfg_get(n, "l")->type, CFG_STRING);
	cfg_free(n);
}

TEST(parse_error_names_file_line_and_column)
{
	struct cfg_node *n = NULL;
	struct ros_err e = {0};
	const char *y = "a: 1\nb: [1, 2\nc: 3\n";
	ok(cfg_parse_yaml(y, strlen(y), "cloud-config.yml", &n, &e) < 0, "fails");
	ok(strstr(e.msg, "cloud-config.yml:") == e.msg, "message starts with the file: %s", e.msg);
	ok(strstr(e.msg, ":3:") || strstr(e.msg, ":4:"), "message names the line: %s", e.msg);
}

TEST(duplicate_keys_are_an_error)
{
	struct cfg_node *n = NULL;
	struct ros_err e = {0};
	const char *y = "a: 1\na: 2\n";
	ok(cfg_parse_yaml(y, strlen(y), "t.yml", &n, &e) < 0, "fails");
	ok(strstr(e.msg, "t.yml:2:1: duplicate key 'a'") != NULL, "%s", e.msg);
}

TEST(alias_bomb_is_refused_without_exhausting_memory)
{
	char y[4096] = "a: &a [x,x,x,x,x,x,x,x,x,x]\n";
	char prev = 'a';
	for (char c = 'b'; c <= 'j'; c++) {
		char line[128];
		snprintf(line, sizeof(line), "%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n", c, c, prev, prev,
		         prev, prev, prev, prev, prev, prev, prev, prev);
		strcat(y, line);
		prev = c;
	}
	struct cfg_node *n = NULL;
	struct ros_err e = {0};
	ok(cfg_parse_yaml(y, strlen(y), "bomb.yml", &n, &e) < 0, "refused");
	ok(strstr(e.msg, "node limit") != NULL, "%s", e.msg);
}

TEST(deep_nesting_is_refused)
{
	char y[1024] = "";
	for (int i = 0; i < 100; i++)
		strcat(y, "[");
	struct cfg_node *n = NULL;
	struct ros_err e = {0};
	ok(cfg_parse_yaml(y, strlen(y), "deep.yml", &n, &e) < 0, "refused");
	ok(strstr(e.msg, "deeper") != NULL, "%s", e.msg);
}

TEST(merge_merges_maps_and_replaces_lists_and_scalars)
{
	struct cfg_node *a = parse("x: {a: 1, b: [1, 2], c: {d: 1}}\ny: 1\n");
	struct cfg_node *b = parse("x: {b: [3], c: {e: 2}}\ny: two\n");
	is_int(cfg_merge(a, b), 0);
	is_int(cfg_get(a, "x.a")->i, 1);
	is_int(cfg_get(a, "x.b")->list.n, 1);
	is_int(cfg_get(a, "x.b[0]")->i, 3);
	is_int(cfg_get(a, "x.c.d")->i, 1);
	is_int(cfg_get(a, "x.c.e")->i, 2);
	is_str(cfg_get(a, "y")->s, "two");
	cfg_free(a);
	cfg_free(b);
}

TEST(dotted_keys_with_indexes_and_quoted_parts)
{
	struct cfg_node *n = parse("ros:\n  network:\n    interfaces:\n      eth0:\n        addresses: [10.0.0.1/24, "
	                           "10.0.0.2/24]\n  environment:\n    a.b: dotted\n");
	is_str(cfg_get(n, "ros.network.interfaces.eth0.addresses[1]")->s, "10.0.0.2/24");
	is_str(cfg_get(n, "ros.environment.\"a.b\"")->s, "dotted");
	is_str(cfg_get(n, "ros.environment[\"a.b\"]")->s, "dotted");
	ok(cfg_get(n, "ros.network.interfaces.eth0.addresses[2]") == NULL, "past the end is missing");
	struct ros_err e = {0};
	is_int(cfg_set(n, "ros.network.interfaces.eth1.mtu", cfg_new_int(9000), &e), 0);
	is_int(cfg_get(n, "ros.network.interfaces.eth1.mtu")->i, 9000);
	is_int(cfg_set(n, "ros.network.interfaces.eth0.addresses[2]", cfg_new_string("x"), &e), 0);
	is_str(cfg_get(n, "ros.network.interfaces.eth0.addresses[2]")->s, "x");
	struct cfg_node *v = cfg_new_string("y");
	ok(cfg_set(n, "ros.network.interfaces.eth0.addresses[9]", v, &e) < 0, "index past the end refused");
	cfg_free(v);
	is_int(cfg_unset(n, "ros.network.interfaces.eth0.addresses[0]", &e), 1);
	is_str(cfg_get(n, "ros.network.interfaces.eth0.addresses[0]")->s, "10.0.0.2/24");
	is_int(cfg_unset(n, "ros.nothing.here", &e), 0);
	ok(cfg_get(n, "a..b") == NULL, "malformed key finds nothing");
	cfg_free(n);
}

TEST(schema_reports_type_errors_with_position_and_unknown_keys_as_warnings)
{
	struct cfg_node *n = parse("hostname: h\nros:\n  network:\n    interfaces:\n      eth0:\n        mtu: big\n  "
	                           "frobnicate: 1\n");
	struct cfg_diag d = {0};
	is_int(cfg_validate(n, false, &d), 1);
	is_int(d.n, 2);
	is_int(cfg_diag_errors(&d), 1);
	bool found = false;
	for (size_t i = 0; i < d.n; i++)
		found |= !strcmp(d.items[i].msg, "t.yml:6:9: ros.network.interfaces.eth0.mtu: expected integer, got "
		                                 "\"big\"");
	ok(found, "mtu error with file:line:col");
	cfg_diag_free(&d);
	is_int(cfg_validate(n, true, &d), 2);
	cfg_diag_free(&d);
	cfg_free(n);
}

TEST(emit_round_trips_and_quotes_strings_that_look_like_other_types)
{
	struct cfg_node *n = parse("a: 'true'\nb: '12'\nc: plain\nd: [1, x]\ne: {f: null}\ng: \"line1\\nline2\"\n");
	cleanup_free char *y = cfg_to_yaml_string(n);
	ok(y != NULL, "emitted");
	struct cfg_node *back = parse(y);
	is_int(cfg_get(back, "a")->type, CFG_STRING);
	is_int(cfg_get(back, "b")->type, CFG_STRING);
	is_int(cfg_get(back, "d[0]")->type, CFG_INT);
	is_int(cfg_get(back, "e.f")->type, CFG_NULL);
	is_str(cfg_get(back, "g")->s, "line1\nline2");
	cfg_free(n);
	cfg_free(back);
}

TEST(cmdline_values_are_yaml_and_extra_args_kept)
{
	struct cfg_node *n = NULL;
	struct cfg_diag d = {0};
	is_int(cfg_parse_cmdline("BOOT_IMAGE=/x console=ttyS0 ros.a.b=[x,y] ros.flag ros.s=\"two words\" ros.n=5 "
	                         "cloud-config-url=http://h/u -- single extra\n",
	                         &n, &d, NULL),
	       0);
	is_int(cfg_get(n, "ros.a.b")->list.n, 2);
	is_int(cfg_get(n, "ros.flag")->b, true);
	is_str(cfg_get(n, "ros.s")->s, "two words");
	is_int(cfg_get(n, "ros.n")->i, 5);
	is_str(cfg_get(n, "ros.cloud_config_url")->s, "http://h/u");
	is_str(cfg_get(n, "ros.environment.EXTRA_CMDLINE")->s, "single extra");
	ok(cfg_get(n, "console") == NULL, "non-ros tokens ignored");
	is_int(d.n, 0);
	cfg_free(n);
}

TEST(layers_merge_in_order_and_cmdline_wins)
{
	cleanup_free char *root = tmpdir();
	put(root, CFG_PATH_IMAGE, "hostname: image\nros: {ntp: {servers: [a]}, debug: false}\n");
	put(root, CFG_PATH_OEM, "hostname: oem\n");
	put(root, CFG_DIR_CLOUD_D "/10-b.yml", "hostname: b\n");
	put(root, CFG_DIR_CLOUD_D "/20-c.yml", "hostname: c\nros: {ntp: {servers: [c]}}\n");
	put(root, CFG_PATH_USER, "ros: {debug: true}\n");
	struct cfg_node *t = NULL;
	struct cfg_diag d = {0};
	is_int(cfg_load_merged(root, "ros.hostname=fromcmd", 0, &t, &d, NULL), 0);
	is_str(cfg_get_string(t, "hostname", NULL), "c");
	is_str(cfg_get_string(t, "ros.ntp.servers[0]", NULL), "c");
	is_int(cfg_get_bool(t, "ros.debug", false), true);
	is_str(cfg_get_string(t, "ros.hostname", NULL), "fromcmd");
	is_int(cfg_diag_errors(&d), 0);
	cfg_diag_free(&d);
	cfg_free(t);
	fs_remove_tree(root, NULL);
}

TEST(bad_layer_at_boot_is_set_aside_and_last_good_copy_used)
{
	cleanup_free char *root = tmpdir();
	put(root, CFG_PATH_USER, "hostname: good\n");
	struct cfg_node *t = NULL;
	struct cfg_diag d = {0};
	is_int(cfg_load_merged(root, "", CFG_LOAD_BOOT, &t, &d, NULL), 0);
	cfg_free(t);
	cfg_diag_free(&d);
	put(root, CFG_PATH_USER, "hostname: [broken\n");
	is_int(cfg_load_merged(root, "", CFG_LOAD_BOOT, &t, &d, NULL), 0);
	is_str(cfg_get_string(t, "hostname", NULL), "good");
	ok(cfg_diag_errors(&d) >= 1, "the failure is reported");
	char p[4096];
	snprintf(p, sizeof(p), "%s%s.rejected", root, CFG_PATH_USER);
	ok(access(p, F_OK) == 0, "bad file kept as .rejected");
	snprintf(p, sizeof(p), "%s%s.rejected.reason", root, CFG_PATH_USER);
	cleanup_free char *why = NULL;
	ok(fs_read_all(p, 4096, &why, NULL, NULL) == 0 && strstr(why, "cloud-config.yml:"),
	   "reason file names the place");
	snprintf(p, sizeof(p), "%s%s", root, CFG_PATH_USER);
	cleanup_free char *now = NULL;
	ok(fs_read_all(p, 4096, &now, NULL, NULL) == 0 && strstr(now, "good"), "good copy restored");
	cfg_free(t);
	cfg_diag_free(&d);
	fs_remove_tree(root, NULL);
}

TEST(writer_killed_mid_write_leaves_old_or_new_never_torn)
{
	cleanup_free char *root = tmpdir();
	char p[4096];
	snprintf(p, sizeof(p), "%s/f.yml", root);
	size_t big = 1 << 20;
	char *a = malloc(big), *b = malloc(big);
	memset(a, 'a', big);
	memset(b, 'b', big);
	fs_write_atomic(p, a, big, 0600, NULL);
	int torn = 0;
	for (int round = 0; round < 20; round++) {
		pid_t pid = fork();
		if (pid == 0) {
			for (;;)
				fs_write_atomic(p, (round & 1) ? a : b, big, 0600, NULL);
		}
		usleep(2000 + (useconds_t)round * 700);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		char *got = NULL;
		size_t len = 0;
		if (fs_read_all(p, 2 * big, &got, &len, NULL) < 0 || len != big ||
		    (memcmp(got, a, big) != 0 && memcmp(got, b, big) != 0))
			torn++;
		free(got);
	}
	is_int(torn, 0);
	free(a);
	free(b);
	fs_remove_tree(root, NULL);
}

TEST(secrets_are_stripped)
{
	struct cfg_node *n = parse("ros: {password: x, ssh: {keys: {rsa: K}, port: 22}, environment: {API_TOKEN: t, "
	                           "A: b}}\nusers: [{name: u, passwd: h}]\n");
	struct cfg_node *s = cfg_strip_secrets(n);
	ok(cfg_get(s, "ros.password") == NULL, "password gone");
	ok(cfg_get(s, "ros.ssh.keys") == NULL, "keys gone");
	ok(cfg_get(s, "ros.ssh.port") != NULL, "port kept");
	ok(cfg_get(s, "ros.environment.API_TOKEN") == NULL, "token gone");
	ok(cfg_get(s, "ros.environment.A") != NULL, "plain env kept");
	ok(cfg_get(s, "users[0].passwd") == NULL && cfg_get(s, "users[0].name"), "user passwd gone");
	cfg_free(n);
	cfg_free(s);
}

TEST(json_round_trip)
{
	struct cfg_node *n = parse("a: [1, 2.5, x, true, null]\nb: {c: d}\n");
	json_t *j = cfg_to_json(n);
	struct cfg_node *back = cfg_from_json(j);
	cleanup_free char *y1 = cfg_to_yaml_string(n);
	cleanup_free char *y2 = cfg_to_yaml_string(back);
	is_str(y1, y2);
	json_decref(j);
	cfg_free(n);
	cfg_free(back);
}

TEST(iteration_and_typed_getters_name_the_place_and_key)
{
	struct cfg_node *n = NULL;
	struct ros_err e = {0};
	const char *y = "ros:\n  network:\n    interfaces:\n      eth0:\n        mtu: big\n        dhcp: true\n"
	                "        addresses: [10.0.0.2/24, 10.0.0.3/24]\n        metric: 7\n";
	ok(cfg_parse_yaml(y, strlen(y), "cloud-config.yml", &n, &e) == 0, "parsed");
	struct cfg_node *eth0 = cfg_get(n, "ros.network.interfaces.eth0");
	is_int((long long)cfg_map_size(eth0), 4);
	is_str(cfg_map_key_at(eth0, 0), "mtu");
	ok(cfg_map_key_at(eth0, 4) == NULL && cfg_map_value_at(eth0, 4) == NULL, "out of range is NULL");
	ok(cfg_map_size(cfg_get(eth0, "mtu")) == 0, "a scalar has no map entries");
	struct cfg_node *addrs = cfg_get(eth0, "addresses");
	is_int((long long)cfg_list_size(addrs), 2);
	is_str(cfg_list_at(addrs, 1)->s, "10.0.0.3/24");
	ok(cfg_list_at(addrs, 2) == NULL, "list out of range is NULL");

	long long mtu = 0;
	ok(cfg_as_int(cfg_map_value_at(eth0, 0), "ros.network.interfaces.eth0.mtu", &mtu, &e) == -EINVAL,
	   "a string is not an integer");
	is_str(e.msg, "cloud-config.yml:5:9: ros.network.interfaces.eth0.mtu: expected integer, got \"big\"");
	long long metric = 0;
	ok(cfg_as_int(cfg_get(eth0, "metric"), "metric", &metric, &e) == 0 && metric == 7, "integer read");
	bool dhcp = false;
	ok(cfg_as_bool(cfg_get(eth0, "dhcp"), "dhcp", &dhcp, &e) == 0 && dhcp, "bool read");
	ok(cfg_as_bool(cfg_get(eth0, "metric"), "metric", &dhcp, &e) == -EINVAL, "int is not a bool");
	const char *s = NULL;
	char buf[32];
	ok(cfg_as_string(cfg_get(eth0, "metric"), "metric", &s, buf, sizeof(buf), &e) == 0, "int as text");
	is_str(s, "7");
	ok(cfg_as_string(addrs, "addresses", &s, buf, sizeof(buf), &e) == -EINVAL, "a list is not a string");
	ok(strstr(e.msg, "expected string, got a list") != NULL, "says what it got: %s", e.msg);
	ok(cfg_as_int(NULL, "nope", &mtu, &e) == -ENOENT, "missing is ENOENT");
	cfg_free(n);
}

TEST(schema_defaults_validate_and_match_the_shipped_os_config)
{
	struct cfg_node *dflt = cfg_schema_defaults();
	ok(dflt != NULL, "defaults build");
	struct cfg_diag d = {0};
	is_int((long long)cfg_validate(dflt, true, &d), 0);
	cfg_diag_free(&d);
	is_int(cfg_get_int(dflt, "ros.cloud_init.timeout", -1), 5);
	ok(cfg_get_bool(dflt, "ros.network.interfaces.eth*.dhcp", false), "eth* dhcp by default");

	/* configs/os-config.yml is the image layer: it must say what the schema says */
	const char *src = getenv("ROS_SRC");
	char path[4096];
	snprintf(path, sizeof(path), "%s/configs/os-config.yml", src && *src ? src : ".");
	struct cfg_node *shipped = NULL;
	struct ros_err e = {0};
	ok(cfg_parse_file(path, &shipped, &e) == 0, "parse %s: %s", path, e.msg);
	if (shipped) {
		struct cfg_node *merged = cfg_copy(dflt);
		cfg_merge(merged, shipped);
		cleanup_free char *a = cfg_to_yaml_string(dflt);
		cleanup_free char *b = cfg_to_yaml_string(merged);
		is_str(b, a); /* the shipped file adds or changes nothing the schema does not give */
		cfg_free(merged);
		merged = cfg_copy(shipped);
		cfg_merge(merged, dflt);
		cleanup_free char *c = cfg_to_yaml_string(shipped);
		cleanup_free char *f = cfg_to_yaml_string(merged);
		is_str(f, c); /* and leaves out no default */
		cfg_free(merged);
	}
	cfg_free(shipped);
	cfg_free(dflt);
}

TEST(a_huge_map_loads_in_linear_time_and_stays_consistent)
{
	/* 150,000 keys in one map (3.5 MiB): a quadratic duplicate check took
	 * minutes here; with the index it takes well under a second */
	size_t cap = 4u << 20, len = 0;
	cleanup_free char *buf = malloc(cap);
	len += (size_t)snprintf(buf, cap, "ros:\n  environment:\n");
	for (int i = 0; i < 150000; i++)
		len += (size_t)snprintf(buf + len, cap - len, "    K%d: v%d\n", i, i);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct cfg_node *n = NULL;
	struct ros_err e = {0};
	ok(cfg_parse_yaml(buf, len, "big.yml", &n, &e) == 0, "parsed: %s", e.msg);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ok(secs < 15, "parse took %.2f s", secs);
	struct cfg_node *env = cfg_get(n, "ros.environment");
	is_int((long long)cfg_map_size(env), 150000);
	is_str(cfg_get_string(n, "ros.environment.K149999", NULL), "v149999");
	ok(cfg_map_remove(env, "K0") && cfg_map_remove(env, "K77777"), "removed two");
	ok(!cfg_map_get(env, "K0") && !cfg_map_get(env, "K77777"), "gone");
	is_str(cfg_get_string(n, "ros.environment.K77778", NULL), "v77778");
	is_str(cfg_map_key_at(env, 0), "K1");
	ok(cfg_map_set(env, "K5", cfg_new_string("new")) == 0 && cfg_map_size(env) == 149998, "replace keeps size");
	is_str(cfg_get_string(n, "ros.environment.K5", NULL), "new");
	const char *dup = "a:\n  k0: 1\n  k1: 1\n  k2: 1\n  k3: 1\n  k4: 1\n  k5: 1\n  k6: 1\n  k7: 1\n  k8: 1\n"
	                  "  k9: 1\n  k10: 1\n  k11: 1\n  k12: 1\n  k13: 1\n  k14: 1\n  k15: 1\n  k16: 1\n  k17: 1\n"
	                  "  k18: 1\n  k19: 1\n  k20: 1\n  k21: 1\n  k22: 1\n  k23: 1\n  k24: 1\n  k25: 1\n  k26: 1\n"
	                  "  k27: 1\n  k28: 1\n  k29: 1\n  k30: 1\n  k31: 1\n  k32: 1\n  k33: 1\n  k3: 2\n";
	struct cfg_node *d = NULL;
	ok(cfg_parse_yaml(dup, strlen(dup), "dup.yml", &d, &e) < 0, "a duplicate in an indexed map is still found");
	ok(strstr(e.msg, "dup.yml:36:3: duplicate key 'k3'") != NULL, "%s", e.msg);
	cfg_free(d);
	cfg_free(n);
}
