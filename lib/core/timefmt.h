/* SPDX-License-Identifier: MIT */
#pragma once
#include <stddef.h>

/* The time now as RFC 3339 in UTC with nanoseconds, as OCI state files and
 * the Docker API write it: "2026-12-01T19:22:39.123456789Z". */
void time_rfc3339_now(char *out, size_t size);
