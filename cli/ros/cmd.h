/* SPDX-License-Identifier: MIT */
#pragma once

struct ros_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

#define ROS_CMD(name, fn, help) int fn(int argc, char **argv);
#include "commands.def"
#undef ROS_CMD

/* The root all paths are relative to: --root DIR, else $ROS_ROOT, else "". */
void ros_root_set(const char *dir);
const char *ros_root(void);
/* Joins ros_root() and an absolute path into buf. */
const char *ros_path(char *buf, unsigned long size, const char *abs_path);
