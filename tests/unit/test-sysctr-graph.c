/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "../tap.h"
#include "../../sysctr/graph.h"

#define L(...) ((const char *const[]){__VA_ARGS__}), sizeof((const char *const[]){__VA_ARGS__}) / sizeof(char *)
#define NONE NULL, 0

TEST(independent_services_share_level_zero)
{
	struct graph_node n[] = {{"a", NONE, NONE, 0, ""}, {"b", NONE, NONE, 0, ""}, {"c", NONE, NONE, 0, ""}};
	is_int(graph_order(n, 3), 0);
	is_int(n[0].level, 0);
	is_int(n[1].level, 0);
	is_int(n[2].level, 0);
}

TEST(after_and_before_order_levels)
{
	/* net after udev; console after net; syslog before udev */
	struct graph_node n[] = {
	        {"console", L("net"), NONE, 0, ""}, {"net", L("udev"), NONE, 0, ""}, {"udev", NONE, NONE, 0, ""},
	        {"syslog", NONE, L("udev"), 0, ""}, {"ntp", NONE, NONE, 0, ""},
	};
	is_int(graph_order(n, 5), 0);
	is_int(n[3].level, 0); /* syslog */
	is_int(n[4].level, 0); /* ntp */
	is_int(n[2].level, 1); /* udev after syslog */
	is_int(n[1].level, 2);
	is_int(n[0].level, 3);
}

TEST(missing_dependency_names_both_and_others_start)
{
	struct graph_node n[] = {
	        {"web", L("db"), NONE, 0, ""},
	        {"proxy", L("web"), NONE, 0, ""},
	        {"ok", NONE, NONE, 0, ""},
	};
	is_int(graph_order(n, 3), 2);
	is_int(n[0].level, -1);
	is_str(n[0].err, "service web: ros.after: no service named db");
	is_int(n[1].level, -1);
	is_str(n[1].err, "service proxy: depends on web, which cannot start");
	is_int(n[2].level, 0);
	is_str(n[2].err, "");
}

TEST(missing_before_target_is_an_error)
{
	struct graph_node n[] = {{"a", NONE, L("ghost"), 0, ""}};
	is_int(graph_order(n, 1), 1);
	is_str(n[0].err, "service a: ros.before: no service named ghost");
}

TEST(cycle_names_its_members_and_dependents_fail_others_start)
{
	struct graph_node n[] = {
	        {"x", L("z"), NONE, 0, ""}, {"y", L("x"), NONE, 0, ""},  {"z", L("y"), NONE, 0, ""},
	        {"w", L("y"), NONE, 0, ""}, {"free", NONE, NONE, 0, ""}, {"late", L("free"), NONE, 0, ""},
	};
	is_int(graph_order(n, 6), 4);
	ok(strstr(n[0].err, "dependency cycle: ") != NULL, "x: %s", n[0].err);
	ok(strstr(n[0].err, "x") && strstr(n[0].err, "y -> ") && strstr(n[0].err, "z"), "cycle names x y z: %s",
	   n[0].err);
	ok(strstr(n[1].err, "dependency cycle") != NULL, "y: %s", n[1].err);
	ok(strstr(n[2].err, "dependency cycle") != NULL, "z: %s", n[2].err);
	is_str(n[3].err, "service w: depends on y, which cannot start");
	is_int(n[4].level, 0);
	is_int(n[5].level, 1);
}

TEST(before_and_after_together_form_a_cycle)
{
	struct graph_node n[] = {{"a", L("b"), L("b"), 0, ""}, {"b", NONE, NONE, 0, ""}};
	is_int(graph_order(n, 2), 2);
	is_str(n[0].err, "service a: dependency cycle: a -> b -> a");
	is_str(n[1].err, "service b: dependency cycle: a -> b -> a");
}

TEST(self_dependency_is_ignored)
{
	struct graph_node n[] = {{"a", L("a"), NONE, 0, ""}};
	is_int(graph_order(n, 1), 0);
	is_int(n[0].level, 0);
}

TEST(empty_graph)
{
	is_int(graph_order(NULL, 0), 0);
}
