#!/usr/bin/env bats
# userctr in the booted ISO: the system service, the socket in the console,
# `docker run` over ssh with an image loaded from a tarball the test serves,
# and pulled over HTTPS from a registry signed by a private CA (certs.d).

load lib
load ../lib/image

setup() {
	vm_require
	command -v busybox >/dev/null || skip "busybox not installed"
	for t in docker-registry skopeo openssl; do
		command -v $t >/dev/null || skip "$t not installed (scripts/install-deps.sh)"
	done
	TMP=$BATS_TEST_TMPDIR
}
teardown() {
	[ -n "${HTTP_PID:-}" ] && kill "$HTTP_PID" 2>/dev/null
	[ -n "${REG_PID:-}" ] && kill "$REG_PID" 2>/dev/null
	vm_stop
}

@test "userctr runs as a system container; docker run --rm from the console over ssh; ros engine list" {
	ssh-keygen -q -t ed25519 -N '' -C test@ros -f "$TMP/key"
	# the image, served to the VM (QEMU's user network: the host is 10.0.2.2)
	mkdir -p "$TMP/www"
	busybox_layer "$TMP/layer.tar"
	make_archive "$TMP/www/busybox.tar" busybox:latest amd64 "$TMP/layer.tar" >/dev/null
	# and in a registry over HTTPS, its certificate (for 10.0.2.2) signed
	# by a CA of the test's: the cloud-config puts the CA in certs.d
	make_tls "$TMP/tls" 10.0.2.2
	tport=$(free_port)
	registry_config "$TMP/reg.yml" "127.0.0.1:$tport" "$TMP/registry" "$TMP/tls/server.crt" "$TMP/tls/server.key"
	docker-registry serve "$TMP/reg.yml" >"$TMP/reg.log" 2>&1 3>&- &
	REG_PID=$!
	for _ in $(seq 100); do
		curl -sf --cacert "$TMP/tls/ca.crt" --resolve "10.0.2.2:$tport:127.0.0.1" "https://10.0.2.2:$tport/v2/" >/dev/null && break
		sleep 0.05
	done
	skopeo --insecure-policy copy -q --dest-tls-verify=false "docker-archive:$TMP/www/busybox.tar" \
		"docker://127.0.0.1:$tport/busybox:1"
	cat >"$TMP/user-data.yml" <<C
#cloud-config
ssh_authorized_keys:
  - $(cat "$TMP/key.pub")
write_files:
  - path: /etc/docker/certs.d/10.0.2.2:$tport/ca.crt
    encoding: b64
    content: $(base64 -w0 "$TMP/tls/ca.crt")
ros:
  autologin: ttyS1
C
	vm_cidata "$TMP/user-data.yml"
	hport=$(free_port)
	(cd "$TMP/www" && exec python3 -m http.server --bind 127.0.0.1 "$hport") >/dev/null 2>&1 &
	HTTP_PID=$!
	port=$(free_port)
	VM_NET_OPTS=",hostfwd=tcp:127.0.0.1:$port-:22" vm_boot bios
	vm_wait 'login:'
	vm_shell_open
	for _ in $(seq 60); do
		vm_sh 'ros service ps' >"$TMP/ps" || true
		grep -qE '^userctr +running ' "$TMP/ps" && break
		sleep 1
	done
	cat "$TMP/ps"
	grep -E '^userctr +running ' "$TMP/ps"
	# a container of its own: mount and pid namespaces apart from the host's
	upid=$(awk '$1 == "userctr" {print $3}' "$TMP/ps")
	[ "$(vm_sh "readlink /proc/$upid/ns/mnt")" != "$(vm_sh 'readlink /proc/1/ns/mnt')" ]
	[ "$(vm_sh "readlink /proc/$upid/ns/pid")" != "$(vm_sh 'readlink /proc/1/ns/pid')" ]
	# the socket: mode 0660, group docker
	vm_sh 'stat -c "%a %G" /run/userctr/docker.sock' | grep -x '660 docker'
	run vm_sh 'ros engine list'
	[[ "$output" == *"* userctr"* ]]
	run vm_sh 'ros engine switch nosuch'
	[ "$status" -ne 0 ]
	[[ "$output" == *"unknown engine nosuch"* ]]
	run vm_sh 'ros engine switch userctr && ros config get ros.engine'
	[ "$status" -eq 0 ]
	[[ "$output" == *"engine: userctr"* ]]

	ssh_ros() {
		ssh -p "$port" -i "$TMP/key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
			-o BatchMode=yes -o LogLevel=ERROR -o ConnectTimeout=30 ros@127.0.0.1 "$@"
	}
	for _ in $(seq 30); do ssh_ros true 2>/dev/null && break; sleep 1; done
	ssh_ros "wget -qO- http://10.0.2.2:$hport/busybox.tar | docker load"
	run ssh_ros 'docker run --rm busybox echo hi'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "hi" ]
	# cgroup v2: the container's cgroup is inside userctr's subtree, with a memory limit
	run ssh_ros 'docker run --rm -m 32m busybox cat /proc/self/cgroup /sys/fs/cgroup/memory.max'
	echo "$output"
	[[ "$output" == *"0::/"* ]]
	[[ "$output" == *"33554432"* ]]
	cid=$(ssh_ros 'docker run -d busybox sleep 300')
	vm_sh "cat /sys/fs/cgroup/sysctr/userctr/userctr/$cid/cgroup.procs" | grep -E '^[0-9]+$'
	# the bridge: the container reaches the host's side of QEMU's network
	# (masqueraded: QEMU's user network answers only its own guest address)
	run ssh_ros "docker exec $cid sh -c 'ping -c1 -W5 10.0.2.2'"
	echo "$output"
	[[ "$output" == *"1 packets received"* ]]
	ssh_ros "docker rm -f $cid"

	# TLS: the engine's image holds Debian's CA bundle; the private
	# registry is trusted through certs.d, and refused once its CA is gone
	n=$(vm_sh "grep -c 'BEGIN CERTIFICATE' /proc/$upid/root/etc/ssl/certs/ca-certificates.crt")
	echo "CA certificates: $n"
	[ "$n" -ge 100 ]
	run ssh_ros "docker pull 10.0.2.2:$tport/busybox:1"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Downloaded newer image for 10.0.2.2:$tport/busybox:1"* ]]
	run ssh_ros "docker run --rm 10.0.2.2:$tport/busybox:1 echo over-tls"
	[ "$output" = over-tls ]
	run ssh_ros "sudo rm /etc/docker/certs.d/10.0.2.2:$tport/ca.crt && docker pull 10.0.2.2:$tport/busybox:1"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"SSL certificate problem"*"/etc/docker/certs.d/10.0.2.2:$tport/ca.crt"* ]]
}
