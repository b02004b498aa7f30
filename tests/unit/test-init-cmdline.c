/* SPDX-License-Identifier: MIT */
/* init's kernel command line parser (init/cmdline.c, included: init is a
 * program, not part of libros). */
#define _GNU_SOURCE
#include "../../init/cmdline.c"

#include "../tap.h"

TEST(defaults_when_the_line_has_no_ros_keys)
{
	struct init_cmdline c;
	init_cmdline_defaults(&c);
	is_int(init_cmdline_parse("BOOT_IMAGE=/vmlinuz console=ttyS0 quiet\n", &c, NULL), 0);
	is_str(c.sysctr, "/usr/bin/sysctr");
	is_str(c.state, "LABEL=ROS_STATE");
	is_str(c.root, "");
	is_int(c.shutdown_timeout_s, 30);
	ok(!c.cgroup_v1 && !c.rescue, "v2, no rescue");
}

TEST(keys_are_read_and_quotes_group)
{
	struct init_cmdline c;
	init_cmdline_defaults(&c);
	is_int(init_cmdline_parse(
	               "console=ttyS0 ros.root=\"/run/my root.sqfs\" ros.sysctr=/bin/x ros.state=none "
	               "ros.state.autoformat=/dev/vdb ros.cgroup=v1 ros.rescue ros.shutdown.timeout=5 ros.debug=1 "
	               "ros.services.x=1",
	               &c, NULL),
	       0);
	is_str(c.root, "/run/my root.sqfs");
	is_str(c.sysctr, "/bin/x");
	is_str(c.state, "none");
	is_str(c.autoformat, "/dev/vdb");
	ok(c.cgroup_v1, "ros.cgroup=v1");
	ok(c.rescue, "ros.rescue without a value is true");
	ok(c.debug, "ros.debug=1");
	is_int(c.shutdown_timeout_s, 5);
}

TEST(double_dash_ends_the_kernel_part)
{
	struct init_cmdline c;
	init_cmdline_defaults(&c);
	is_int(init_cmdline_parse("quiet -- ros.root=/x", &c, NULL), 0);
	is_str(c.root, "");
}

TEST(bad_values_are_reported_and_the_rest_applied)
{
	struct init_cmdline c;
	struct ros_err e = {0};
	init_cmdline_defaults(&c);
	is_int(init_cmdline_parse("ros.cgroup=v3 ros.root=/ok ros.shutdown.timeout=-1 ros.rescue=maybe ros.sysctr=", &c,
	                          &e),
	       -4);
	is_str(e.msg, "kernel command line: ros.cgroup=v3: expected v1 or v2");
	is_str(c.root, "/ok");
	is_int(c.shutdown_timeout_s, 30);
	ok(!c.rescue, "bad boolean leaves the default");
	is_str(c.sysctr, "/usr/bin/sysctr");
}

TEST(overlong_values_are_refused)
{
	struct init_cmdline c;
	struct ros_err e = {0};
	char line[2048] = "ros.root=/";
	memset(line + 10, 'a', 1000);
	line[1010] = '\0';
	init_cmdline_defaults(&c);
	is_int(init_cmdline_parse(line, &c, &e), -1);
	is_str(c.root, "");
	ok(strstr(e.msg, "ros.root") != NULL, "names the key: %s", e.msg);
}

TEST(ros_media_names_the_boot_medium_default_label_ros)
{
	struct init_cmdline c;
	init_cmdline_defaults(&c);
	is_str(c.media, "LABEL=ROS");
	/* what an installed disk's grub.cfg passes */
	const char *line = "BOOT_IMAGE=(hd0,gpt3)/boot/vmlinuz panic=5 ros.slot=A ros.media=LABEL=ROS_A";
	is_int(init_cmdline_parse(line, &c, NULL), 0);
	is_str(c.media, "LABEL=ROS_A");
	struct ros_err e = {0};
	ok(init_cmdline_parse("ros.media=", &c, &e) < 0, "an empty ros.media is an error: %s", e.msg);
	is_str(c.media, "LABEL=ROS_A");
}
