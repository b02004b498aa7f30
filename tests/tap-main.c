/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdlib.h>

#include "tap.h"

static struct tap_test *tap_head, **tap_tail = &tap_head;
static bool tap_failed;
static const char *tap_skipped;

void tap_register(struct tap_test *t)
{
	*tap_tail = t;
	tap_tail = &t->next;
}

void tap_check(bool cond, const char *file, int line, const char *fmt, ...)
{
	if (cond)
		return;
	tap_failed = true;
	va_list ap;
	va_start(ap, fmt);
	printf("# check failed at %s:%d: ", file, line);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}

void tap_skip(const char *why)
{
	tap_skipped = why;
}

int main(int argc, char **argv)
{
	int n = 0, failures = 0;
	for (struct tap_test *t = tap_head; t; t = t->next)
		n++;
	const char *only = argc > 1 ? argv[1] : NULL;
	printf("1..%d\n", n);
	int i = 0;
	for (struct tap_test *t = tap_head; t; t = t->next) {
		i++;
		if (only && strcmp(only, t->name) != 0) {
			printf("ok %d - %s # SKIP not selected\n", i, t->name);
			continue;
		}
		tap_failed = false;
		tap_skipped = NULL;
		fflush(stdout);
		t->fn();
		if (tap_skipped)
			printf("ok %d - %s # SKIP %s\n", i, t->name, tap_skipped);
		else
			printf("%sok %d - %s\n", tap_failed ? "not " : "", i, t->name);
		fflush(stdout);
		failures += tap_failed;
	}
	return failures ? 1 : 0;
}
