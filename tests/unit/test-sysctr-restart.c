/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "../tap.h"
#include "../../sysctr/restart.h"

TEST(parse_policies)
{
	struct restart_policy p;
	char err[256] = "";
	is_int(restart_parse("no", &p, err, sizeof(err)), 0);
	is_int(p.mode, RESTART_NO);
	is_int(restart_parse(NULL, &p, err, sizeof(err)), 0);
	is_int(p.mode, RESTART_NO);
	is_int(restart_parse("always", &p, err, sizeof(err)), 0);
	is_int(p.mode, RESTART_ALWAYS);
	is_int(restart_parse("unless-stopped", &p, err, sizeof(err)), 0);
	is_int(p.mode, RESTART_UNLESS_STOPPED);
	is_int(restart_parse("on-failure", &p, err, sizeof(err)), 0);
	is_int(p.mode, RESTART_ON_FAILURE);
	is_int(p.max_retries, 0);
	is_int(restart_parse("on-failure:3", &p, err, sizeof(err)), 0);
	is_int(p.max_retries, 3);
}

TEST(parse_errors_name_the_value)
{
	struct restart_policy p;
	char err[256] = "";
	is_int(restart_parse("sometimes", &p, err, sizeof(err)), -EINVAL);
	ok(strstr(err, "\"sometimes\"") != NULL, "%s", err);
	is_int(restart_parse("on-failure:x", &p, err, sizeof(err)), -EINVAL);
	ok(strstr(err, "\"on-failure:x\"") != NULL, "%s", err);
	is_int(restart_parse("on-failure:", &p, err, sizeof(err)), -EINVAL);
	is_int(restart_parse("on-failure:-1", &p, err, sizeof(err)), -EINVAL);
	is_int(restart_parse("on-failures", &p, err, sizeof(err)), -EINVAL);
}

TEST(no_never_restarts)
{
	struct restart_policy p = {RESTART_NO, 0};
	struct restart_state st = {0};
	is_int(restart_decide(&p, &st, true, 5), -1);
	is_int(st.crash_loop, 0);
}

TEST(on_failure_restarts_only_failures_up_to_n)
{
	struct restart_policy p = {RESTART_ON_FAILURE, 2};
	struct restart_state st = {0};
	is_int(restart_decide(&p, &st, false, 5), -1);
	is_int(restart_decide(&p, &st, true, 5), 100);
	is_int(restart_decide(&p, &st, true, 5), 200);
	is_int(restart_decide(&p, &st, true, 5), -1);
	is_int(st.restarts, 2);
}

TEST(backoff_doubles_and_caps_then_crash_loop)
{
	struct restart_policy p = {RESTART_ALWAYS, 0};
	struct restart_state st = {0};
	int64_t want[] = {100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		is_int(restart_decide(&p, &st, false, 10), want[i]);
	is_int(restart_decide(&p, &st, false, 10), -1);
	ok(st.crash_loop, "crash loop after %d quick exits", RESTART_CRASH_LOOP);
	is_int(restart_decide(&p, &st, false, 20000), -1);
}

TEST(backoff_is_capped_at_30s)
{
	struct restart_policy p = {RESTART_ALWAYS, 0};
	struct restart_state st = {.quick_fails = 10};
	is_int(restart_decide(&p, &st, true, 10), RESTART_BACKOFF_MAX_MS);
}

TEST(a_stable_run_resets_backoff)
{
	struct restart_policy p = {RESTART_UNLESS_STOPPED, 0};
	struct restart_state st = {0};
	is_int(restart_decide(&p, &st, true, 10), 100);
	is_int(restart_decide(&p, &st, true, 10), 200);
	is_int(restart_decide(&p, &st, true, RESTART_STABLE_MS), 100);
	is_int(st.quick_fails, 0);
	is_int(restart_decide(&p, &st, true, 10), 100);
}

TEST(stopped_by_user_is_not_restarted)
{
	struct restart_policy p = {RESTART_ALWAYS, 0};
	struct restart_state st = {.stopped_by_user = true};
	is_int(restart_decide(&p, &st, true, 10), -1);
	is_int(st.crash_loop, 0);
}
