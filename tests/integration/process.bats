#!/usr/bin/env bats
# process, namespaces, mounts, capabilities, rlimits, seccomp, hooks, terminal.

load ../lib/ctr

setup() { ctr_setup; }
teardown() { ctr_teardown; }

@test "process.user sets uid, gid and additional gids; umask applies" {
	set_config '.process.user = {"uid": 1000, "gid": 1001, "additionalGids": [2000, 2001], "umask": 63}'
	set_args sh -c 'id; umask'
	run roci run --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[[ "$output" == *"uid=1000 gid=1001 groups=2000,2001"* ]]
	[[ "$output" == *"0077"* ]]
}

@test "process.env and process.cwd" {
	set_config '.process.env = ["PATH=/bin", "FOO=bar baz"] | .process.cwd = "/tmp"'
	set_args sh -c 'echo "$FOO"; pwd'
	run roci run --bundle "$BUNDLE" "$ID"
	[ "$output" = $'bar baz\n/tmp' ]
}

@test "hostname and domainname in a new uts namespace" {
	set_config '.hostname = "box1" | .domainname = "example.org"'
	set_args sh -c 'hostname; cat /proc/sys/kernel/domainname'
	run roci run --bundle "$BUNDLE" "$ID"
	[ "$output" = $'box1\nexample.org' ]
}

@test "namespaces are new: pid 1 inside, own mount, net, ipc, uts" {
	set_args sh -c 'echo $$; ls /proc/self/ns/ >/dev/null; readlink /proc/self/ns/net /proc/self/ns/ipc /proc/self/ns/uts /proc/self/ns/mnt'
	run roci run --bundle "$BUNDLE" "$ID"
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" != "$(readlink /proc/self/ns/net)" ]
	[ "${lines[2]}" != "$(readlink /proc/self/ns/ipc)" ]
	[ "${lines[3]}" != "$(readlink /proc/self/ns/uts)" ]
	[ "${lines[4]}" != "$(readlink /proc/self/ns/mnt)" ]
}

@test "a namespace joined by path is shared" {
	unshare --net --fork sleep 100 &
	sleep 0.3
	holder=$(pgrep -P $! sleep || echo $!)
	set_config ".linux.namespaces |= map(if .type == \"network\" then .path = \"/proc/$holder/ns/net\" else . end)"
	set_args readlink /proc/self/ns/net
	run roci run --bundle "$BUNDLE" "$ID"
	kill %1 2>/dev/null || true
	[ "$output" = "$(readlink /proc/$holder/ns/net)" ]
}

@test "user namespace with uid and gid mappings" {
	set_config '.linux.namespaces += [{"type": "user"}] | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] | .mounts |= map(select(.destination != "/sys/fs/cgroup"))'
	chown -R 100000:100000 "$BUNDLE/rootfs"
	chmod 755 "$BUNDLE" # the mapped root must reach its rootfs
	set_args sh -c 'cat /proc/self/uid_map; id -u'
	run roci run --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[[ "$output" == *"0     100000      65536"* ]]
	[ "${lines[-1]}" = 0 ]
}

@test "bind mounts: read-only, and a tmpfs with options" {
	src=$(mktemp -d)
	echo data >"$src/f"
	set_config ".mounts += [{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"$src\", \"options\": [\"rbind\", \"ro\"]}, {\"destination\": \"/scratch\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"size=1m\", \"noexec\"]}]"
	set_args sh -c 'cat /data/f; touch /data/g 2>&1; grep " /scratch " /proc/mounts'
	run roci run --bundle "$BUNDLE" "$ID"
	[[ "${lines[0]}" == data ]]
	[[ "$output" == *"Read-only file system"* ]]
	[[ "$output" == *"tmpfs /scratch tmpfs rw,noexec"*"size=1024k"* ]]
	[ ! -e "$src/g" ]
	rm -rf "$src"
}

@test "root.readonly makes / read-only" {
	set_config '.root.readonly = true'
	set_args sh -c 'touch /x 2>&1; true'
	run roci run --bundle "$BUNDLE" "$ID"
	[[ "$output" == *"Read-only file system"* ]]
}

@test "masked and read-only paths" {
	mkdir -p "$BUNDLE/rootfs/secret" && echo s >"$BUNDLE/rootfs/secret/x"
	set_config '.linux.maskedPaths += ["/etc/passwd", "/secret", "/does/not/exist"]'
	set_args sh -c 'cat /etc/passwd | wc -c; ls /secret | wc -l; echo 1 > /proc/sys/kernel/domainname 2>&1'
	run roci run --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[ "${lines[0]}" = 0 ]
	[ "${lines[1]}" = 0 ]
	[[ "$output" == *"Read-only file system"* ]]
}

@test "the default devices exist and others do not" {
	set_args sh -c 'ls /dev; echo x > /dev/null && echo null-ok'
	run roci run --bundle "$BUNDLE" "$ID"
	for d in null zero full random urandom tty ptmx pts shm mqueue fd stdin; do
		[[ "$output" == *"$d"* ]]
	done
	[[ "$output" == *null-ok* ]]
	[[ "$output" != *sda* ]]
}

@test "linux.devices creates a device node with its mode" {
	set_config '.linux.devices = [{"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 384, "uid": 0, "gid": 0}]'
	set_args sh -c 'stat -c "%a %t %T" /dev/mynull; echo x > /dev/mynull && echo ok'
	run roci run --bundle "$BUNDLE" "$ID"
	[ "${lines[0]}" = "600 1 3" ]
	[ "${lines[1]}" = ok ]
}

@test "the device cgroup denies devices not allowed" {
	set_config '.linux.devices = [{"path": "/dev/kmsg2", "type": "c", "major": 1, "minor": 11}] | .linux.resources.devices = [{"allow": false, "access": "rwm"}, {"allow": false, "type": "c", "major": 1, "minor": 11, "access": "rwm"}]'
	set_args sh -c 'head -c1 /dev/kmsg2 2>&1; true'
	run roci run --bundle "$BUNDLE" "$ID"
	[[ "$output" == *"Operation not permitted"* ]]
}

@test "capabilities: the effective set is what the spec lists" {
	set_args sh -c 'grep CapEff /proc/self/status; grep CapBnd /proc/self/status'
	run roci run --bundle "$BUNDLE" "$ID"
	[[ "$output" == *"CapEff:	0000000020000420"* ]]
	[[ "$output" == *"CapBnd:	0000000020000420"* ]]
}

@test "capabilities: a dropped capability cannot be used" {
	set_args sh -c 'hostname other 2>&1; true'
	run roci run --bundle "$BUNDLE" "$ID"
	[[ "$output" == *"not permitted"* ]]
	set_config '.process.capabilities.bounding += ["CAP_SYS_ADMIN"] | .process.capabilities.effective += ["CAP_SYS_ADMIN"] | .process.capabilities.permitted += ["CAP_SYS_ADMIN"]'
	set_args sh -c 'hostname other && hostname'
	run roci run --bundle "$BUNDLE" "$ID"
	[ "$output" = other ]
}

@test "ambient capabilities reach a non-root process" {
	set_config '.process.user = {"uid": 1000, "gid": 1000} | .process.capabilities.inheritable = ["CAP_KILL"] | .process.capabilities.ambient = ["CAP_KILL"]'
	set_args grep CapAmb /proc/self/status
	run roci run --bundle "$BUNDLE" "$ID"
	[[ "$output" == *"CapAmb:	0000000000000020"* ]]
}

@test "noNewPrivileges is set" {
	set_args grep NoNewPrivs /proc/self/status
	run roci run --bundle "$BUNDLE" "$ID"
	[[ "$output" == *"NoNewPrivs:	1"* ]]
}

@test "rlimits are applied; soft above hard is refused" {
	set_config '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 256, "hard": 512}, {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}]'
	set_args sh -c 'ulimit -n; ulimit -Hn; ulimit -c'
	run roci run --bundle "$BUNDLE" "$ID"
	[ "$output" = $'256\n512\n0' ]
	set_config '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 600, "hard": 512}]'
	run roci create --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"process.rlimits[0]: soft limit 600 is above the hard limit 512"* ]]
}

@test "oomScoreAdj and sysctl" {
	set_config '.process.oomScoreAdj = 500 | .linux.sysctl = {"net.ipv4.ip_forward": "1"} | .linux.readonlyPaths = []'
	set_args sh -c 'cat /proc/self/oom_score_adj /proc/sys/net/ipv4/ip_forward'
	run roci run --bundle "$BUNDLE" "$ID"
	[ "$output" = $'500\n1' ]
}

@test "seccomp: errno action with an argument condition, default allow" {
	set_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}, {"names": ["no_such_syscall"], "action": "SCMP_ACT_ERRNO"}]}'
	set_args sh -c 'mkdir /tmp/d 2>&1; echo done'
	run roci run --bundle "$BUNDLE" "$ID"
	[[ "$output" == *"Permission denied"* ]]
	[[ "$output" == *done* ]]
}

@test "seccomp: an unknown action is an error naming its path" {
	set_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_EXPLODE"}]}'
	run roci create --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *'linux.seccomp.syscalls[0].action: unknown action "SCMP_ACT_EXPLODE"'* ]]
}

@test "hooks run in order with the state on stdin" {
	log="$BUNDLE/hooks.log"
	printf '#!/bin/sh\nread -r s; echo "$1 $(echo "$s" | jq -r .status)" >> %s\n' "$log" >"$BUNDLE/hook.sh"
	chmod +x "$BUNDLE/hook.sh"
	h() { echo "{\"path\": \"$BUNDLE/hook.sh\", \"args\": [\"hook.sh\", \"$1\"]}"; }
	set_config ".hooks = {\"prestart\": [$(h prestart)], \"createRuntime\": [$(h createRuntime)], \"createContainer\": [$(h createContainer)], \"poststart\": [$(h poststart)], \"poststop\": [$(h poststop)]}"
	set_args true
	roci run --bundle "$BUNDLE" "$ID"
	[ "$(cat "$log")" = $'prestart creating\ncreateRuntime creating\ncreateContainer creating\npoststart running\npoststop stopped' ]
}

@test "memory limit is enforced in the cgroup (v1)" {
	[ -d /sys/fs/cgroup/memory ] || skip "no cgroup v1 memory hierarchy"
	set_config '.linux.resources.memory = {"limit": 16777216} | .linux.resources.pids = {"limit": 20}'
	set_args sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; dd if=/dev/zero of=/dev/shm/f bs=1M count=64 2>/dev/null && echo survived'
	set_config '.mounts |= map(if .destination == "/dev/shm" then .options = ["nosuid","nodev","mode=1777","size=128m"] else . end)'
	run roci run --bundle "$BUNDLE" "$ID"
	[ "${lines[0]}" = 16777216 ]
	[ "${lines[1]}" = 20 ]
	[[ "$output" != *survived* ]]
	[ "$status" -eq 137 ]
}

@test "terminal: the pty master is sent to the console socket" {
	sock="$BUNDLE/console.sock"
	python3 - "$sock" >"$BUNDLE/console.out" 2>&1 <<'PY' &
import socket, sys, array, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
fds = array.array("i")
msg, anc, flags, addr = c.recvmsg(16, socket.CMSG_LEN(4))
for level, typ, data in anc:
    fds.frombytes(data[:4])
m = fds[0]
out = b""
while True:
    try:
        d = os.read(m, 1024)
    except OSError:
        break
    if not d:
        break
    out += d
print(out.decode(errors="replace"))
PY
	for _ in $(seq 30); do [ -S "$sock" ] && break; sleep 0.1; done
	set_config '.process.terminal = true'
	set_args sh -c 'tty; echo via-pty'
	roci create --bundle "$BUNDLE" --console-socket "$sock" "$ID"
	roci start "$ID"
	wait
	grep -q '/dev/pts/0' "$BUNDLE/console.out"
	grep -q via-pty "$BUNDLE/console.out"
}

@test "no-pivot: the root is moved and chrooted" {
	set_args sh -c 'ls / | grep -c busybox; ls /bin/busybox'
	run roci run --no-pivot --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0 ]
	[ "${lines[1]}" = /bin/busybox ]
}
