#!/usr/bin/env bats
# Boots the real ISO in QEMU: the serial console (ttyS0) to a log, and the
# test shell (an autologin root shell the console service runs on ttyS1
# when the cloud-config says ros.autologin: ttyS1) through a socket.

load lib

setup() {
	vm_require
	CC=$BATS_TEST_TMPDIR/user-data.yml
}
teardown() { vm_stop; }

# The cloud-config of the tests: hostname, an ssh key, a file, a command,
# the shell.
good_cloud_config() {
	ssh-keygen -q -t ed25519 -N '' -C test@ros -f "$BATS_TEST_TMPDIR/key"
	cat >"$CC" <<C
#cloud-config
hostname: ros-vm-test
ssh_authorized_keys:
  - $(cat "$BATS_TEST_TMPDIR/key.pub")
C
	cat >>"$CC" <<'C'
write_files:
  - path: /home/ros/from-cloud-config.txt
    content: "written by write_files\n"
    permissions: "0640"
runcmd:
  - "echo runcmd-ran > /home/ros/runcmd.txt"
ros:
  autologin: ttyS1
  services:
    limited:
      image: syslog
      command: [sleep, "1000"]
      mem_limit: 64m
      pids_limit: 20
      cpu_shares: 512
C
}

# Everything a booted ros shows (the issue's list), through the test shell.
check_system() {
	vm_wait 'login:'
	vm_shell_open
	# every service up, cloud-init done (exit 0)
	for _ in $(seq 60); do
		vm_sh 'ros service ps' >"$BATS_TEST_TMPDIR/ps" || true
		[ "$(awk '$2 == "running"' "$BATS_TEST_TMPDIR/ps" | wc -l)" -ge 5 ] && break
		sleep 1
	done
	cat "$BATS_TEST_TMPDIR/ps"
	for s in udev syslog network ntpd console; do
		grep -E "^$s +running " "$BATS_TEST_TMPDIR/ps"
	done
	grep -E '^cloud-init +exited +- +- +0 +0 ' "$BATS_TEST_TMPDIR/ps"
	# each a container: its own mount namespace; its own pid namespace
	# except the console (the administrator's shell sees the host's pids)
	host_mnt=$(vm_sh 'readlink /proc/1/ns/mnt')
	host_pid=$(vm_sh 'readlink /proc/1/ns/pid')
	for s in udev syslog network ntpd console; do
		pid=$(awk -v s="$s" '$1 == s {print $3}' "$BATS_TEST_TMPDIR/ps")
		[ "$(vm_sh "readlink /proc/$pid/ns/mnt")" != "$host_mnt" ]
		if [ "$s" != console ]; then [ "$(vm_sh "readlink /proc/$pid/ns/pid")" != "$host_pid" ]; fi
	done
	# cgroup v2 here: each service in its own cgroup under /sysctr
	pid=$(awk '$1 == "syslog" {print $3}' "$BATS_TEST_TMPDIR/ps")
	[ "$(vm_sh "cat /proc/$pid/cgroup")" = "0::/sysctr/syslog" ]
	# RCU grace periods were expedited for the boot only: back to normal
	# once the services are up (at the latest a minute after sysctr started)
	for _ in $(seq 70); do [ "$(vm_sh 'cat /sys/kernel/rcu_expedited')" = 0 ] && break; sleep 1; done
	[ "$(vm_sh 'cat /sys/kernel/rcu_expedited')" = 0 ]
	vm_sh '! test -e /run/ros/rcu-expedited'
	# sysctr runs ahead of the services (nice -10), the services at 0
	[ "$(vm_sh "cut -d' ' -f19 /proc/$pid/stat")" = 0 ]
	[ "$(vm_sh 'cut -d" " -f19 /proc/$(pidof sysctr)/stat')" = -10 ]
	[ "$(vm_sh "awk '\$2 == \"/sys/fs/cgroup\" {print \$3}' /proc/mounts")" = cgroup2 ]
	# init's options are still on the one hierarchy with every service up
	# (a cgroup2 mount from the initial cgroup namespace re-applies its own)
	vm_sh "awk '\$2 == \"/sys/fs/cgroup\" {print \$4}' /proc/1/mounts" | grep -E 'nsdelegate.*favordynmods'
	# a service from the cloud-config (sysctr re-read the definitions after
	# cloud-init): its limits through lib/ctr's cgroup v2 path
	for _ in $(seq 30); do vm_sh 'ros service ps' | grep -qE '^limited +running' && break; sleep 1; done
	[ "$(vm_sh 'cat /sys/fs/cgroup/sysctr/limited/memory.max')" = 67108864 ]
	[ "$(vm_sh 'cat /sys/fs/cgroup/sysctr/limited/pids.max')" = 20 ]
	vm_sh 'cat /sys/fs/cgroup/sysctr/limited/cpu.weight'
	[ "$(vm_sh 'cat /sys/fs/cgroup/sysctr/limited/cpu.weight')" != 100 ]
	# least privilege: syslog and ntpd run with no or one capability, and
	# the default seccomp filter
	pid=$(awk '$1 == "syslog" {print $3}' "$BATS_TEST_TMPDIR/ps")
	vm_sh "grep -E '^CapEff:\s+0+$' /proc/$pid/status"
	vm_sh "grep -E '^Seccomp:\s+2$' /proc/$pid/status"
	pid=$(awk '$1 == "ntpd" {print $3}' "$BATS_TEST_TMPDIR/ps")
	vm_sh "grep -E '^CapEff:\s+0*2000000$' /proc/$pid/status"
	# cloud-config applied: hostname, write_files, runcmd, ssh key
	[ "$(vm_sh hostname)" = ros-vm-test ]
	[ "$(vm_sh 'cat /home/ros/from-cloud-config.txt')" = "written by write_files" ]
	[ "$(vm_sh 'stat -c %a /home/ros/from-cloud-config.txt')" = 640 ]
	[ "$(vm_sh 'cat /home/ros/runcmd.txt')" = runcmd-ran ]
	vm_sh 'grep -q "test@ros" /home/ros/.ssh/authorized_keys'
	# syslog serves /dev/log
	vm_sh 'logger hello-from-the-vm-test; sleep 1; grep hello-from-the-vm-test /var/log/messages'
	# udev cold-plugged the cidata disk
	vm_sh 'test -e /dev/disk/by-label/cidata'
	# the network service: DHCP from QEMU's user network, DNS
	vm_sh 'ip -4 addr show eth0 | grep -q "inet 10.0.2.15/24"'
	vm_sh 'ip route | grep -q "default via 10.0.2.2"'
	vm_sh 'grep -q "^nameserver 10.0.2.3" /etc/resolv.conf'
	# chronyd runs
	vm_sh 'pidof chronyd'
	# the docker CLI (Debian's docker.io) for the user engine
	vm_sh 'docker --version' | grep -E '^Docker version 2'
	# restarting a service
	old=$(awk '$1 == "syslog" {print $3}' "$BATS_TEST_TMPDIR/ps")
	vm_sh 'ros service restart syslog'
	for _ in $(seq 30); do
		new=$(vm_sh 'ros service ps' | awk '$1 == "syslog" && $2 == "running" {print $3}')
		[ -n "$new" ] && [ "$new" != "$old" ] && break
		sleep 0.5
	done
	[ -n "$new" ] && [ "$new" != "$old" ]
	vm_sh 'sleep 1; logger after-restart; sleep 1; grep after-restart /var/log/messages'
	# the boot timeline
	vm_sh 'ros os boot-time'
}

@test "BIOS boot with a cloud-config: every system service runs as a container and does its job; ssh with the key; ros os poweroff" {
	good_cloud_config
	vm_cidata "$CC"
	port=$(( 20000 + RANDOM % 20000 ))
	VM_NET_OPTS=",hostfwd=tcp:127.0.0.1:$port-:22" vm_boot bios
	vm_wait 'init: boot medium /dev/sr0'
	check_system
	# ssh as ros with the cloud-config's key; sudo without a password
	ssh_ros() {
		ssh -p "$port" -i "$BATS_TEST_TMPDIR/key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
			-o BatchMode=yes -o ConnectTimeout=20 ros@127.0.0.1 "$@"
	}
	for _ in $(seq 30); do ssh_ros true 2>/dev/null && break; sleep 1; done
	[ "$(ssh_ros 'id -un')" = ros ]
	ssh_ros 'id' | grep -E 'groups=.*\(sudo\).*\(docker\)|groups=.*\(docker\).*\(sudo\)'
	[ "$(ssh_ros 'sudo -n id -u')" = 0 ]
	# no password login for ros (ros.password unset)
	run ssh -p "$port" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes \
		-o PubkeyAuthentication=no -o ConnectTimeout=20 ros@127.0.0.1 true
	[ "$status" -ne 0 ]
	# poweroff: QEMU exits 0 by itself
	vm_sh 'ros os poweroff' 5 || true
	vm_wait_exit
	[ "$VM_RC" = 0 ]
	grep -E 'sysctr: stopped' "$VM_LOG"
	! grep -q 'Kernel panic' "$VM_LOG"
}

@test "UEFI boot with a cloud-config: GRUB EFI, every system service up" {
	good_cloud_config
	vm_cidata "$CC"
	vm_boot uefi
	vm_wait 'init: boot medium /dev/sr0'
	check_system
}

@test "a broken cloud-config: the machine still reaches login and ros config validate names the error" {
	printf '#cloud-config\nhostname: [unclosed\nwrite_files: {\n' >"$CC"
	vm_cidata "$CC"
	# the test shell comes from the kernel command line here (the
	# cloud-config that would ask for it is the broken one)
	vm_boot_kernel "ros.autologin=ttyS1"
	vm_wait 'login:'
	vm_shell_open
	run vm_sh 'ros config validate'
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *50-user-data.yml* ]]
	vm_sh 'ros service ps' | grep -E '^console +running'
}

@test "boots with 128 MB of RAM: every system service still comes up" {
	VM_MEM=128 vm_boot_kernel "ros.autologin=ttyS1"
	vm_wait 'login:'
	vm_shell_open
	for _ in $(seq 60); do
		[ "$(vm_sh 'ros service ps' | awk '$2 == "running"' | wc -l)" -ge 5 ] && break
		sleep 1
	done
	vm_sh 'ros service ps'
	[ "$(vm_sh 'ros service ps' | awk '$2 == "running"' | wc -l)" -ge 5 ]
	vm_sh 'ros service ps' | grep -E '^cloud-init +exited .* 0 +0 '
	vm_sh 'free -m'
}
