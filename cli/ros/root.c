/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"

static const char *root_dir;

void ros_root_set(const char *dir)
{
	root_dir = dir;
}

const char *ros_root(void)
{
	if (root_dir)
		return root_dir;
	const char *env = getenv("ROS_ROOT");
	return env ? env : "";
}

const char *ros_path(char *buf, unsigned long size, const char *abs_path)
{
	snprintf(buf, size, "%s%s", ros_root(), abs_path);
	return buf;
}

int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("%s\n", ROS_VERSION);
	return 0;
}
