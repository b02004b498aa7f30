/* SPDX-License-Identifier: MIT */
/*
 * The default seccomp profile of ros's containers (system services and,
 * later, user containers): everything allowed but the syscalls that reach
 * past a container, which fail with EPERM.  As in Docker's profile, a
 * syscall guarded by a capability is allowed when the container holds that
 * capability (ntpd with CAP_SYS_TIME may set the clock); the rest are never
 * allowed.  Only x86_64 syscalls: other ABIs (int 0x80, x32) are refused.
 */
#include <jansson.h>
#include <string.h>

#include "spec.h"

struct gate {
	const char *cap; /* NULL: denied whatever the capabilities */
	const char *const *names;
};

static const char *const never[] = {"kexec_load", "kexec_file_load", "userfaultfd",  "add_key",    "request_key",
                                    "keyctl",     "lookup_dcookie",  "uselib",       "nfsservctl", "vm86",
                                    "vm86old",    "get_kernel_syms", "query_module", NULL};
static const char *const sys_module[] = {"init_module", "finit_module", "delete_module", "create_module", NULL};
static const char *const sys_boot[] = {"reboot", NULL};
static const char *const sys_time[] = {"settimeofday", "stime", "clock_settime", "adjtimex", "clock_adjtime", NULL};
static const char *const sys_admin[] = {
        "mount",           "umount",  "umount2",  "pivot_root", "swapon",        "swapoff",           "sethostname",
        "setdomainname",   "setns",   "unshare",  "quotactl",   "fanotify_init", "name_to_handle_at", "move_mount",
        "open_tree",       "fsopen",  "fsconfig", "fsmount",    "fspick",        "mount_setattr",     "bpf",
        "perf_event_open", "vhangup", NULL};
static const char *const sys_ptrace[] = {"ptrace", "process_vm_readv", "process_vm_writev",
                                         "kcmp",   "pidfd_getfd",      NULL};
static const char *const sys_rawio[] = {"iopl", "ioperm", NULL};
static const char *const dac_read_search[] = {"open_by_handle_at", NULL};
static const char *const sys_pacct[] = {"acct", NULL};
static const char *const syslog_[] = {"syslog", NULL};

static const struct gate gates[] = {
        {NULL, never},
        {"CAP_SYS_MODULE", sys_module},
        {"CAP_SYS_BOOT", sys_boot},
        {"CAP_SYS_TIME", sys_time},
        {"CAP_SYS_ADMIN", sys_admin},
        {"CAP_SYS_PTRACE", sys_ptrace},
        {"CAP_SYS_RAWIO", sys_rawio},
        {"CAP_DAC_READ_SEARCH", dac_read_search},
        {"CAP_SYS_PACCT", sys_pacct},
        {"CAP_SYSLOG", syslog_},
};

static bool has_cap(const json_t *caps, const char *cap)
{
	size_t i;
	json_t *c;
	json_array_foreach(caps, i, c)
	{
		if (json_is_string(c) && !strcmp(json_string_value(c), cap))
			return true;
	}
	return false;
}

json_t *spec_default_seccomp(const json_t *bounding_caps)
{
	json_t *names = json_array();
	for (size_t g = 0; g < sizeof(gates) / sizeof(gates[0]); g++) {
		if (gates[g].cap && has_cap(bounding_caps, gates[g].cap))
			continue;
		for (const char *const *n = gates[g].names; *n; n++)
			json_array_append_new(names, json_string(*n));
	}
	return json_pack("{s:s, s:[s], s:[{s:o, s:s, s:i}]}", "defaultAction", "SCMP_ACT_ALLOW", "architectures",
	                 "SCMP_ARCH_X86_64", "syscalls", "names", names, "action", "SCMP_ACT_ERRNO", "errnoRet", 1);
}
