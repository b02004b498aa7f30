/* SPDX-License-Identifier: MIT */
#include "err.h"

#include <stdio.h>
#include <string.h>

static int norm(int code)
{
	if (code < 0)
		code = -code;
	return code == 0 ? EIO : code;
}

int err_set(struct ros_err *e, int code, const char *fmt, ...)
{
	code = norm(code);
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < sizeof(e->msg))
			snprintf(e->msg + n, sizeof(e->msg) - (size_t)n, ": %s", strerror(code));
		e->code = code;
	}
	return -code;
}

int err_setx(struct ros_err *e, int code, const char *fmt, ...)
{
	code = norm(code);
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
		e->code = code;
	}
	return -code;
}

int err_prefix(struct ros_err *e, const char *fmt, ...)
{
	if (!e)
		return -EIO;
	char old[ROS_ERR_MSG_MAX];
	memcpy(old, e->msg, sizeof(old));
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	/* Truncating the old message is fine; the check silences
	 * -Wformat-truncation (ASan builds at -O1 warn). */
	if (n >= 0 && (size_t)n < sizeof(e->msg) && snprintf(e->msg + n, sizeof(e->msg) - (size_t)n, ": %s", old) < 0)
		e->msg[n] = '\0';
	return -norm(e->code);
}

void err_clear(struct ros_err *e)
{
	if (e) {
		e->code = 0;
		e->msg[0] = '\0';
	}
}

const char *err_msg(const struct ros_err *e)
{
	if (!e || !e->msg[0])
		return "unknown error";
	return e->msg;
}
