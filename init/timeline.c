/* SPDX-License-Identifier: MIT */
/*
 * The boot timeline: "<monotonic ms> <stage>" lines in /run/ros/boot-timeline.
 * Stages are kept in memory until /run exists, and the whole file is
 * rewritten atomically on each stage.  init's last stage ("sysctr") is
 * written before sysctr starts; from then on only sysctr appends to it.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/fs.h"
#include "init.h"

#define TIMELINE_MAX 16

static struct {
	uint64_t ms;
	char stage[32];
} entries[TIMELINE_MAX];
static size_t n_entries;

uint64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int timeline_flush(struct ros_err *e)
{
	char buf[TIMELINE_MAX * 56];
	size_t len = 0;
	for (size_t i = 0; i < n_entries; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%llu %s\n", (unsigned long long)entries[i].ms,
		                        entries[i].stage);
	int r = fs_mkdir_p("/run/ros", 0755, e);
	if (r < 0)
		return r;
	return fs_write_atomic(TIMELINE_PATH, buf, len, 0644, e);
}

void timeline_add(const char *stage, uint64_t ms)
{
	if (n_entries == TIMELINE_MAX)
		return;
	entries[n_entries].ms = ms;
	snprintf(entries[n_entries].stage, sizeof(entries[0].stage), "%s", stage);
	n_entries++;
	if (n_entries > 1) /* "kernel" alone is recorded before /run exists */
		timeline_flush(NULL);
}
