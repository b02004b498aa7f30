/* SPDX-License-Identifier: MIT */
/* The default config.json (`roci spec`), the same shape as `runc spec`. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "spec.h"

static json_t *build(bool rootless)
{
	static const char *const caps = "[\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"]";
	json_error_t je;
	char doc[8192];
	snprintf(
	        doc, sizeof(doc),
	        "{\"ociVersion\": \"1.1.0\","
	        " \"process\": {\"terminal\": true, \"user\": {\"uid\": 0, \"gid\": 0}, \"args\": [\"sh\"],"
	        "  \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\", \"TERM=xterm\"],"
	        "  \"cwd\": \"/\", \"capabilities\": {\"bounding\": %s, \"effective\": %s, \"permitted\": %s,"
	        "  \"ambient\": %s}, \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024}],"
	        "  \"noNewPrivileges\": true},"
	        " \"root\": {\"path\": \"rootfs\", \"readonly\": true},"
	        " \"hostname\": \"roci\","
	        " \"mounts\": ["
	        "  {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
	        "  {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"nosuid\", "
	        "\"strictatime\", \"mode=755\", \"size=65536k\"]},"
	        "  {\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\", \"options\": "
	        "[\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\"%s]},"
	        "  {\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\", \"options\": [\"nosuid\", "
	        "\"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"]},"
	        "  {\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\", \"options\": "
	        "[\"nosuid\", \"noexec\", \"nodev\"]},"
	        "  {\"destination\": \"/sys\", \"type\": \"%s\", \"source\": \"%s\", \"options\": [\"nosuid\", "
	        "\"noexec\", \"nodev\", \"ro\"%s]},"
	        "  {\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\", \"options\": "
	        "[\"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\"]}],"
	        " \"linux\": {%s"
	        "  \"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"}, {\"type\": "
	        "\"uts\"}, {\"type\": \"mount\"}, {\"type\": \"cgroup\"}%s],"
	        "  \"maskedPaths\": [\"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\", "
	        "\"/proc/latency_stats\", \"/proc/timer_list\", \"/proc/timer_stats\", \"/proc/sched_debug\", "
	        "\"/sys/firmware\", \"/proc/scsi\"],"
	        "  \"readonlyPaths\": [\"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\", "
	        "\"/proc/sysrq-trigger\"]}}",
	        caps, caps, caps, caps, rootless ? "" : ", \"gid=5\"", rootless ? "none" : "sysfs",
	        rootless ? "/sys" : "sysfs", rootless ? ", \"rbind\"" : "",
	        rootless ? "\"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}], "
	                   "\"gidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}],"
	                 : "\"resources\": {\"devices\": [{\"allow\": false, \"access\": \"rwm\"}]},",
	        rootless ? ", {\"type\": \"user\"}" : "");
	return json_loads(doc, 0, &je);
}

json_t *spec_default(bool rootless)
{
	/* parsed once per process: sysctr asks for one per service start, and
	 * a deep copy costs a fraction of the parse */
	static json_t *parsed[2];
	json_t **p = &parsed[rootless];
	if (!*p)
		*p = build(rootless);
	return *p ? json_deep_copy(*p) : NULL;
}
