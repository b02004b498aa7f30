/* SPDX-License-Identifier: MIT */
#pragma once
/*
 * A tiny TAP producer with self-registering tests:
 *
 *   TEST(merge_replaces_lists) { ok(x == 1, "x is one"); }
 *
 * Each TEST is one TAP test point; it fails if any check inside fails.
 * Link with tests/tap-main.c, which provides main().
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct tap_test {
	const char *name;
	void (*fn)(void);
	struct tap_test *next;
};

void tap_register(struct tap_test *t);
void tap_check(bool cond, const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void tap_skip(const char *why);

#define TEST(name_)                                                                                                    \
	static void test_##name_(void);                                                                                \
	static struct tap_test tap_##name_ = {#name_, test_##name_, NULL};                                             \
	__attribute__((constructor)) static void tap_reg_##name_(void)                                                 \
	{                                                                                                              \
		tap_register(&tap_##name_);                                                                            \
	}                                                                                                              \
	static void test_##name_(void)

#define ok(cond, ...) tap_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(a, b)                                                                                                   \
	do {                                                                                                           \
		long long is_a_ = (long long)(a), is_b_ = (long long)(b);                                              \
		tap_check(is_a_ == is_b_, __FILE__, __LINE__, "%s == %s (got %lld, want %lld)", #a, #b, is_a_, is_b_); \
	} while (0)
#define is_str(a, b)                                                                                                   \
	do {                                                                                                           \
		const char *is_a_ = (a), *is_b_ = (b);                                                                 \
		tap_check(is_a_ &&is_b_ &&strcmp(is_a_, is_b_) == 0, __FILE__, __LINE__,                               \
		          "%s == %s (got \"%s\", want \"%s\")", #a, #b, is_a_ ? is_a_ : "(null)",                      \
		          is_b_ ? is_b_ : "(null)");                                                                   \
	} while (0)
