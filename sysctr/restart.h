/* SPDX-License-Identifier: MIT */
#pragma once
/*
 * sysctr restart policies (compose's `restart:`) and the backoff /
 * crash-loop decision taken when a service's container exits.
 *
 *   no | always | on-failure[:N] | unless-stopped
 *
 * Backoff: 100 ms doubling per consecutive quick failure, capped at 30 s;
 * a run of RESTART_STABLE_MS or more resets the count.  After
 * RESTART_CRASH_LOOP consecutive quick failures the service is given up
 * ("crash loop") until an explicit start.  on-failure:N gives up after N
 * restarts.  A service stopped by the user (`ros service stop/down`) is
 * never restarted by policy.  Header-only (static inline): shared by sysctr
 * and its unit test.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESTART_BACKOFF_MIN_MS 100
#define RESTART_BACKOFF_MAX_MS 30000
#define RESTART_STABLE_MS 10000
#define RESTART_CRASH_LOOP 12

enum restart_mode { RESTART_NO, RESTART_ALWAYS, RESTART_ON_FAILURE, RESTART_UNLESS_STOPPED };

struct restart_policy {
	enum restart_mode mode;
	unsigned max_retries; /* on-failure:N; 0 = unlimited */
};

/* Parses s; on error writes a message naming the value into err. */
static inline int restart_parse(const char *s, struct restart_policy *p, char *err, size_t err_size)
{
	*p = (struct restart_policy){RESTART_NO, 0};
	if (!s || strcmp(s, "no") == 0 || strcmp(s, "") == 0)
		return 0;
	if (strcmp(s, "always") == 0) {
		p->mode = RESTART_ALWAYS;
		return 0;
	}
	if (strcmp(s, "unless-stopped") == 0) {
		p->mode = RESTART_UNLESS_STOPPED;
		return 0;
	}
	if (strncmp(s, "on-failure", 10) == 0 && (s[10] == '\0' || s[10] == ':')) {
		p->mode = RESTART_ON_FAILURE;
		if (s[10] == ':') {
			char *end = NULL;
			errno = 0;
			unsigned long n = strtoul(s + 11, &end, 10);
			if (s[11] < '0' || s[11] > '9' || *end || errno || n > 1000000) {
				snprintf(err, err_size,
				         "restart: bad retry count in \"%s\" (want on-failure:N, N >= 0)", s);
				return -EINVAL;
			}
			p->max_retries = (unsigned)n;
		}
		return 0;
	}
	snprintf(err, err_size, "restart: unknown policy \"%s\" (want no, always, on-failure[:N] or unless-stopped)",
	         s);
	return -EINVAL;
}

/* Per-service restart bookkeeping, kept across restarts. */
struct restart_state {
	unsigned restarts;    /* restarts done by policy since the last explicit start */
	unsigned quick_fails; /* consecutive runs shorter than RESTART_STABLE_MS */
	bool stopped_by_user; /* ros service stop/down: never restart */
	bool crash_loop;      /* given up */
};

/*
 * Decides what to do after an exit.  failed: exit status != 0 or killed by a
 * signal; ran_ms: how long it ran.  Returns -1 for "do not restart" (with
 * st->crash_loop set when that is why), else the delay in ms before the
 * restart.
 */
/* The numbers, settable per machine (ros.restart.* in docs/config.md). */
struct restart_limits {
	int64_t backoff_min_ms, backoff_max_ms;
	unsigned crash_loop; /* consecutive quick exits that mean "crash loop" */
};
#define RESTART_LIMITS_DEFAULT                                                                                         \
	((struct restart_limits){RESTART_BACKOFF_MIN_MS, RESTART_BACKOFF_MAX_MS, RESTART_CRASH_LOOP})

static inline int64_t restart_decide_lim(const struct restart_policy *p, struct restart_state *st, bool failed,
                                         int64_t ran_ms, const struct restart_limits *lim)
{
	if (st->stopped_by_user || st->crash_loop)
		return -1;
	switch (p->mode) {
	case RESTART_NO:
		return -1;
	case RESTART_ON_FAILURE:
		if (!failed)
			return -1;
		if (p->max_retries && st->restarts >= p->max_retries)
			return -1;
		break;
	case RESTART_ALWAYS:
	case RESTART_UNLESS_STOPPED:
		break;
	}
	if (ran_ms >= RESTART_STABLE_MS)
		st->quick_fails = 0;
	else
		st->quick_fails++;
	if (st->quick_fails >= lim->crash_loop) {
		st->crash_loop = true;
		return -1;
	}
	st->restarts++;
	int64_t delay = lim->backoff_min_ms;
	for (unsigned i = 1; i < st->quick_fails && delay < lim->backoff_max_ms; i++)
		delay *= 2;
	if (st->quick_fails == 0)
		delay = lim->backoff_min_ms;
	return delay > lim->backoff_max_ms ? lim->backoff_max_ms : delay;
}

static inline int64_t restart_decide(const struct restart_policy *p, struct restart_state *st, bool failed,
                                     int64_t ran_ms)
{
	const struct restart_limits lim = RESTART_LIMITS_DEFAULT;
	return restart_decide_lim(p, st, failed, ran_ms, &lim);
}
