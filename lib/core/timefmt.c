/* SPDX-License-Identifier: MIT */
#include "timefmt.h"

#include <stdio.h>
#include <time.h>

void time_rfc3339_now(char *out, size_t size)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char base[32];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, size, "%s.%09ldZ", base, ts.tv_nsec);
}
