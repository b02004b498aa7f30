/* SPDX-License-Identifier: MIT */
#pragma once
/*
 * Errors: a fallible function returns int, >= 0 on success, -errno on
 * failure.  An optional caller-owned struct ros_err carries the human
 * message in a fixed buffer, so the same code works in PID 1, after clone()
 * and when memory is short.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>

#define ROS_ERR_MSG_MAX 1024

struct ros_err {
	int code; /* positive errno, 0 when unset */
	char msg[ROS_ERR_MSG_MAX];
};

/* Sets e (when non-NULL) to "<fmt>: strerror(code)" and returns -code.
 * code may be given positive or negative; 0 becomes EIO. */
int err_set(struct ros_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Like err_set, but the message is exactly fmt (no strerror suffix). */
int err_setx(struct ros_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prepends "<fmt>: " to an existing message; returns -e->code (or -EIO). */
int err_prefix(struct ros_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void err_clear(struct ros_err *e);
const char *err_msg(const struct ros_err *e);
