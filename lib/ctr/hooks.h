/* SPDX-License-Identifier: MIT */
#pragma once
#include "core/err.h"
#include "spec.h"

/* Runs one hook with the state JSON on stdin; fails when it exits
 * non-zero or outlives its timeout (it is then killed). */
int hook_run(const struct spec_hook *h, const char *state_json, struct ros_err *e);
/* Runs the hooks of one kind in order; stops at the first failure. */
int hooks_run(const struct spec *s, enum spec_hook_kind kind, const char *state_json, struct ros_err *e);
