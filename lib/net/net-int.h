/* SPDX-License-Identifier: MIT */
#pragma once
/* Helpers shared by the files of lib/net; not part of the API. */
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

/* Interface names and owners go into nft scripts unquoted: letters, digits,
 * '_', '-', '.' only. */
bool net_name_ok(const char *s, size_t max);
int net_check_owner(const char *owner, struct ros_err *e);

/* Runs `nft -f -` with script on stdin.  On failure the error carries what
 * (names the step) and nft's first error line.  out (optional) receives
 * nft's stdout (heap, NUL-terminated). */
int net_nft_run(const char *what, const char *script, char **out, struct ros_err *e);

/* err_prefix that keeps the code r even when e is NULL (err_prefix alone
 * returns -EIO then). */
#define net_prefix(r, e, ...)                                                                                          \
	({                                                                                                             \
		int net_prefix_r_ = (r);                                                                               \
		err_prefix((e), __VA_ARGS__);                                                                          \
		net_prefix_r_;                                                                                         \
	})
