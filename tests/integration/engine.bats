#!/usr/bin/env bats
# userctr containers driven by the real docker CLI: run, attach, -it, logs,
# exec, ps, inspect, volumes, ports, restart policies, limits, security,
# live restore.  One engine per file (temp --root, its own bridge), a
# fresh one where a test restarts it.

load ../lib/image

setup_file() {
	command -v docker >/dev/null || skip "docker CLI not installed (scripts/install-deps.sh)"
	command -v busybox >/dev/null || skip "busybox not installed"
	export FILE_TMP BR NET SOCK DOCKER_HOST DOCKER_CONFIG
	FILE_TMP=$(mktemp -d)
	BR="ue$$"
	BR=${BR:0:15}
	NET="10.213.$((RANDOM % 200 + 20)).0/24"
	SOCK="$FILE_TMP/docker.sock"
	DOCKER_HOST="unix://$SOCK"
	DOCKER_CONFIG="$FILE_TMP/docker-config"
	# a busybox image with every applet
	local r="$FILE_TMP/rootfs" a
	mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/root" "$r/data"
	cp "$(command -v busybox)" "$r/bin/busybox"
	for a in $("$r/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$r/bin/$a"; done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$r/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
	echo "image file" >"$r/data/f"
	tar -C "$r" -cf "$FILE_TMP/layer.tar" .
	TMP=$FILE_TMP make_archive "$FILE_TMP/busybox.tar" busybox:latest amd64 "$FILE_TMP/layer.tar" >/dev/null
	engine_start
	docker load -i "$FILE_TMP/busybox.tar" >/dev/null
}

engine_start() {
	"$ROS_BUILD/bin/userctr" --host "$DOCKER_HOST" --root "$FILE_TMP/root" --bridge "$BR" --bip "$NET" \
		2>>"$FILE_TMP/userctr.log" 3>&- &
	echo $! >"$FILE_TMP/reaper.pid"
	for _ in $(seq 100); do
		docker version >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	cat "$FILE_TMP/userctr.log" >&2
	return 1
}

engine_stop() {
	local pid
	pid=$(cat "$FILE_TMP/reaper.pid")
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
}

teardown() {
	# every test leaves no container behind
	local ids
	ids=$(docker ps -aq 2>/dev/null || true)
	[ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1 || true
}

teardown_file() {
	[ -n "${FILE_TMP:-}" ] || return 0
	local ids
	ids=$(docker ps -aq 2>/dev/null || true)
	[ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1 || true
	engine_stop
	nft delete table ip "userctr-$BR" 2>/dev/null || true
	ip link del "$BR" 2>/dev/null || true
	grep -q "$FILE_TMP" /proc/mounts && awk -v p="$FILE_TMP" '$2 ~ "^"p {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l
	rm -rf "$FILE_TMP"
}

@test "run --rm prints the output and passes the exit code" {
	run docker run --rm busybox echo hi
	[ "$status" -eq 0 ]
	[ "$output" = "hi" ]
	run docker run --rm busybox sh -c 'echo out; echo err >&2; exit 7'
	[ "$status" -eq 7 ]
	[[ "$output" == *out* ]] && [[ "$output" == *err* ]]
	# --rm removed them
	[ -z "$(docker ps -aq)" ]
}

@test "stdout and stderr stay apart; stdin reaches the container with -i" {
	run bash -c 'docker run --rm busybox sh -c "echo out; echo err >&2" 2>/dev/null'
	[ "$output" = "out" ]
	run bash -c 'docker run --rm busybox sh -c "echo out; echo err >&2" 2>&1 >/dev/null'
	[ "$output" = "err" ]
	run bash -c 'printf "line1\nline2\n" | docker run -i --rm busybox wc -l'
	[ "$status" -eq 0 ]
	[ "$output" = "2" ]
}

@test "run -d, logs -f, exec, stop and rm" {
	id=$(docker run -d --name ticker busybox sh -c 'trap "echo bye; exit 0" TERM; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done')
	[ ${#id} -eq 64 ]
	sleep 1
	run docker logs ticker
	[[ "$output" == *"tick 0"* ]]
	run docker logs --tail 1 ticker
	[ "$(echo "$output" | wc -l)" -eq 1 ]
	run docker logs -t ticker
	[[ "$output" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z\ tick\ 0 ]]
	# follow: new lines arrive, and it ends when the container stops
	docker logs -f ticker >"$FILE_TMP/follow.out" &
	local fpid=$!
	run docker exec ticker sh -c 'echo in-exec; hostname; exit 3'
	[ "$status" -eq 3 ]
	[[ "$output" == *in-exec* ]]
	[[ "$output" == *"${id:0:12}"* ]]
	run docker exec -e FOO=bar -w /tmp -u nobody ticker sh -c 'echo $FOO $(pwd) $(id -u)'
	[ "$output" = "bar /tmp 65534" ]
	run docker stop ticker
	[ "$status" -eq 0 ]
	wait "$fpid"
	grep -q "tick 3" "$FILE_TMP/follow.out"
	grep -q bye "$FILE_TMP/follow.out"
	run docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' ticker
	[ "$output" = "exited 0" ]
	run docker rm ticker
	[ "$status" -eq 0 ]
	run docker inspect ticker
	[ "$status" -ne 0 ]
	[[ "$output" == *"No such"* ]]
}

@test "stop escalates to SIGKILL after -t seconds" {
	docker run -d --name stubborn busybox sh -c 'trap "" TERM; sleep 100 & wait'
	sleep 0.3
	run docker stop -t 1 stubborn
	[ "$status" -eq 0 ]
	run docker inspect -f '{{.State.ExitCode}}' stubborn
	[ "$output" = "137" ]
}

@test "run -it gets a pty, a window size and interactive input" {
	command -v script >/dev/null || skip "script (util-linux) not installed"
	run timeout 30 script -qec "stty cols 91 rows 27; docker run -it --rm busybox sh -c 'tty; sleep 0.5; stty size'" /dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"/dev/pts/0"* ]]
	[[ "$output" == *"27 91"* ]]
	run timeout 30 script -qec "docker run -it --rm busybox sh" /dev/null < <(sleep 1; printf 'echo typed-$((6*7))\nexit 5\n')
	[ "$status" -eq 5 ]
	[[ "$output" == *"typed-42"* ]]
	# exec -it too
	docker run -d --name tty1 busybox sleep 100
	run timeout 30 script -qec "docker exec -it tty1 tty" /dev/null
	[[ "$output" == *"/dev/pts/"* ]]
}

@test "ps and ps -a show status text; inspect has the Config the CLI needs" {
	docker run -d --name up1 -e A=b -w /tmp -l team=x busybox sleep 100
	docker run --name done1 busybox sh -c 'exit 3' || true
	docker create --name new1 busybox true
	run docker ps --format '{{.Names}} {{.Status}}'
	[[ "$output" == *"up1 Up "* ]]
	[[ "$output" != *done1* ]]
	run docker ps -a --format '{{.Names}}|{{.Status}}'
	[[ "$output" == *"done1|Exited (3) "*" ago"* ]]
	[[ "$output" == *"new1|Created"* ]]
	run docker ps -a --filter status=exited --format '{{.Names}}'
	[ "$output" = "done1" ]
	run docker ps --filter label=team=x --format '{{.Names}}'
	[ "$output" = "up1" ]
	run docker inspect -f '{{.Config.WorkingDir}} {{index .Config.Labels "team"}} {{.State.Running}} {{.HostConfig.NetworkMode}} {{.Path}}' up1
	[ "$output" = "/tmp x true bridge sleep" ]
	run docker inspect -f '{{range .Config.Env}}{{.}} {{end}}' up1
	[[ "$output" == *"PATH=/bin"* ]] && [[ "$output" == *"A=b"* ]]
	run docker top up1
	[[ "$output" == *"sleep 100"* ]]
	run docker stats --no-stream --format '{{.Name}} {{.PIDs}}' up1
	[ "$status" -eq 0 ]
	[ "$output" = "up1 1" ]
	run docker rename up1 up2
	[ "$status" -eq 0 ]
	run docker ps --format '{{.Names}}'
	[ "$output" = "up2" ]
	run docker create --name up2 busybox true
	[ "$status" -ne 0 ]
	[[ "$output" == *'The container name "/up2" is already in use'* ]]
}

@test "named volumes and bind mounts; docker volume create, ls, inspect, rm" {
	run docker volume create vol1
	[ "$output" = "vol1" ]
	docker run --rm -v vol1:/v busybox sh -c 'echo kept > /v/f'
	run docker run --rm -v vol1:/v:ro busybox cat /v/f
	[ "$output" = "kept" ]
	run docker run --rm -v vol1:/v:ro busybox touch /v/g
	[ "$status" -ne 0 ]
	run docker volume ls --format '{{.Name}} {{.Driver}}'
	[[ "$output" == *"vol1 local"* ]]
	run docker volume inspect -f '{{.Mountpoint}}' vol1
	[ "$(cat "$output/f")" = "kept" ]
	mkdir -p "$FILE_TMP/bind"
	docker run --rm -v "$FILE_TMP/bind:/b" busybox sh -c 'echo from-ctr > /b/x'
	[ "$(cat "$FILE_TMP/bind/x")" = "from-ctr" ]
	docker run -d --name holder -v vol1:/v busybox sleep 100
	run docker volume rm vol1
	[ "$status" -ne 0 ]
	[[ "$output" == *"in use"* ]]
	docker rm -f holder
	run docker volume rm vol1
	[ "$status" -eq 0 ]
	run docker volume inspect vol1
	[ "$status" -ne 0 ]
	# --tmpfs and --read-only
	run docker run --rm --read-only --tmpfs /scratch busybox sh -c 'touch /scratch/ok && echo ok; touch /nope'
	[[ "$output" == *ok* ]]
	[[ "$output" == *"Read-only file system"* ]]
}

@test "bridge network: an address, DNS files, and -p reached from the host over TCP" {
	run docker run --rm busybox sh -c 'ip -4 addr show eth0; cat /etc/hosts; cat /etc/resolv.conf'
	[[ "$output" == *"inet ${NET%.0/24}."* ]]
	[[ "$output" == *localhost* ]]
	[[ "$output" == *nameserver* ]]
	port=$(free_port)
	docker run -d --name web -p "$port:80" busybox sh -c 'echo hello-from-ctr > /tmp/index.html; httpd -f -p 80 -h /tmp'
	run docker port web
	[[ "$output" == *"80/tcp -> 0.0.0.0:$port"* ]]
	for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
	run curl -sf "http://127.0.0.1:$port/"
	[ "$output" = "hello-from-ctr" ]
	# two containers reach each other
	ip=$(docker inspect -f '{{.NetworkSettings.IPAddress}}' web)
	run docker run --rm busybox wget -qO- "http://$ip/"
	[ "$output" = "hello-from-ctr" ]
	docker rm -f web
	run curl -s -m 2 "http://127.0.0.1:$port/"
	[ "$status" -ne 0 ]
	# none: loopback only; host: the host's interfaces
	run docker run --rm --network none busybox ip -o link
	[[ "$output" == *"lo:"* ]] && [[ "$output" != *"eth0"* ]]
	run docker run --rm --network host busybox ip -o link
	[[ "$output" == *"$BR"* ]]
}

@test "restart policies: on-failure counts, always restarts, no and --rm do not" {
	docker run -d --name onf --restart on-failure:2 busybox sh -c 'exit 3'
	for _ in $(seq 100); do
		[ "$(docker inspect -f '{{.State.Status}} {{.RestartCount}}' onf)" = "exited 2" ] && break
		sleep 0.1
	done
	[ "$(docker inspect -f '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}' onf)" = "exited 2 3" ]
	docker run -d --name alw --restart always busybox sleep 100
	pid=$(docker inspect -f '{{.State.Pid}}' alw)
	kill -9 "$pid"
	for _ in $(seq 100); do
		[ "$(docker inspect -f '{{.RestartCount}} {{.State.Running}}' alw)" = "1 true" ] && break
		sleep 0.1
	done
	[ "$(docker inspect -f '{{.RestartCount}} {{.State.Running}}' alw)" = "1 true" ]
	[ "$(docker inspect -f '{{.State.Pid}}' alw)" != "$pid" ]
	# an explicit stop is not undone by the policy
	docker stop -t 0 alw
	sleep 0.5
	[ "$(docker inspect -f '{{.State.Status}}' alw)" = "exited" ]
	run docker run --rm --restart always busybox true
	[ "$status" -ne 0 ]
	[[ "$output" == *"cannot specify both --restart and --rm"* ]]
}

@test "limits: memory over the limit is OOM-killed (137); cpus and pids reach the cgroup" {
	run docker run --rm -m 16m busybox sh -c 'x=a; while true; do x=$x$x; done'
	[ "$status" -eq 137 ]
	docker run --name oom -m 16m busybox sh -c 'x=a; while true; do x=$x$x; done' || true
	run docker inspect -f '{{.State.ExitCode}} {{.State.OOMKilled}}' oom
	[ "$output" = "137 true" ]
	docker run -d --name lim --cpus 0.5 --pids-limit 20 -m 32m busybox sleep 100
	cg=$(awk -F: '$2 ~ /pids/ {print $3}' /proc/"$(docker inspect -f '{{.State.Pid}}' lim)"/cgroup)
	[ "$(cat /sys/fs/cgroup/pids$cg/pids.max)" = "20" ]
	cgc=$(awk -F: '$2 ~ /cpu,/ || $2 ~ /^cpu$/ {print $3}' /proc/"$(docker inspect -f '{{.State.Pid}}' lim)"/cgroup | head -1)
	[ "$(cat /sys/fs/cgroup/cpu$cgc/cpu.cfs_quota_us)" = "50000" ]
	cgm=$(awk -F: '$2 ~ /memory/ {print $3}' /proc/"$(docker inspect -f '{{.State.Pid}}' lim)"/cgroup)
	[ "$(cat /sys/fs/cgroup/memory$cgm/memory.limit_in_bytes)" = "33554432" ]
}

@test "security: Docker's default caps, seccomp, masked /proc; --privileged, --cap-drop, seccomp=unconfined, no-new-privileges" {
	run docker run --rm busybox sh -c 'grep -E "^(CapEff|Seccomp|NoNewPrivs):" /proc/self/status'
	[[ "$output" == *"CapEff:	00000000a80425fb"* ]]
	[[ "$output" == *"Seccomp:	2"* ]]
	[[ "$output" == *"NoNewPrivs:	0"* ]]
	# a blocked syscall: no new user namespace
	run docker run --rm busybox unshare -U true
	[ "$status" -ne 0 ]
	# a masked path reads empty (the first of Docker's list this kernel has)
	local m
	for m in /proc/kcore /proc/timer_list /proc/keys /proc/sched_debug; do [ -e "$m" ] && break; done
	[ "$(wc -c <"$m")" -gt 0 ]
	run docker run --rm busybox sh -c "wc -c < $m"
	[ "$output" = "0" ]
	run docker run --rm busybox sh -c 'echo 1 > /proc/sys/kernel/printk'
	[ "$status" -ne 0 ]
	run docker run --rm --cap-drop ALL busybox sh -c 'grep CapEff /proc/self/status; chown 1 /tmp'
	[[ "$output" == *"CapEff:	0000000000000000"* ]]
	[ "$status" -ne 0 ]
	run docker run --rm busybox ip link set lo down
	[ "$status" -ne 0 ]
	run docker run --rm --cap-add NET_ADMIN busybox ip link set lo down
	[ "$status" -eq 0 ]
	run docker run --rm --privileged busybox sh -c 'grep -E "^(CapEff|Seccomp):" /proc/self/status'
	[[ "$output" == *"Seccomp:	0"* ]]
	[[ "$output" != *"CapEff:	00000000a80425fb"* ]]
	run docker run --rm --security-opt seccomp=unconfined busybox grep Seccomp: /proc/self/status
	[[ "$output" == *"Seccomp:	0"* ]]
	run docker run --rm --security-opt no-new-privileges busybox grep NoNewPrivs: /proc/self/status
	[[ "$output" == *"NoNewPrivs:	1"* ]]
	# a custom profile in Docker's format: mkdir refused with EPERM
	cat >"$FILE_TMP/prof.json" <<-JSON
	{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],
	 "syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}
	JSON
	run docker run --rm --security-opt "seccomp=$FILE_TMP/prof.json" busybox mkdir /tmp/x
	[ "$status" -ne 0 ]
	[[ "$output" == *"Operation not permitted"* ]]
	# --init: tini is PID 1
	run docker run --rm --init busybox cat /proc/1/cmdline
	[[ "$output" == *docker-init* ]]
	run docker run --rm -u nobody busybox id -u
	[ "$output" = "65534" ]
}

@test "kill -9 of the engine: containers keep running and are shown after it restarts" {
	docker run -d --name survivor busybox sh -c 'i=0; while true; do echo s$i; i=$((i+1)); sleep 0.2; done'
	docker run -d --name quitter busybox sh -c 'sleep 1.5; exit 4'
	pid=$(docker inspect -f '{{.State.Pid}}' survivor)
	epid=$(cat "$FILE_TMP/root/engine.pid")
	kill -9 "$epid"
	sleep 0.3
	kill -0 "$pid"
	# the reaper starts a new engine
	for _ in $(seq 100); do
		[ "$(cat "$FILE_TMP/root/engine.pid" 2>/dev/null)" != "$epid" ] && docker version >/dev/null 2>&1 && break
		sleep 0.1
	done
	run docker ps --format '{{.Names}} {{.Status}}'
	[[ "$output" == *"survivor Up"* ]]
	[ "$(docker inspect -f '{{.State.Pid}}' survivor)" = "$pid" ]
	# output went on into the log across the restart
	sleep 1
	run docker logs --tail 1 survivor
	n=${output#s}
	[ "$n" -gt 5 ]
	# the one that exited while no engine ran (or after) has its real status
	for _ in $(seq 50); do
		[ "$(docker inspect -f '{{.State.Status}}' quitter)" = exited ] && break
		sleep 0.1
	done
	[ "$(docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' quitter)" = "exited 4" ]
	run docker stop -t 1 survivor
	[ "$status" -eq 0 ]
}

@test "bad input: malformed JSON, unknown fields of the wrong type, missing images and containers" {
	run curl -s -w ' %{http_code}' --unix-socket "$SOCK" -H 'Content-Type: application/json' -d '{"Image": "busybox",' http://d/v1.44/containers/create
	[[ "$output" == *'"message":"invalid JSON in the request body: line 1'*' 400' ]]
	run curl -s -w ' %{http_code}' --unix-socket "$SOCK" -H 'Content-Type: application/json' -d '{"Image":"busybox","Env":["A=b",3]}' http://d/v1.44/containers/create
	[[ "$output" == *'Env[1]: expected a string'*' 400' ]]
	run curl -s -w ' %{http_code}' --unix-socket "$SOCK" -H 'Content-Type: application/json' -d '{"Image":"busybox","HostConfig":{"Memory":"lots"}}' http://d/v1.44/containers/create
	[[ "$output" == *'HostConfig.Memory: expected an integer'*' 400' ]]
	run docker run --rm nosuchimage:1 true
	[ "$status" -ne 0 ]
	[[ "$output" == *"nosuchimage"* ]]
	run docker run --rm --restart bogus busybox true
	[ "$status" -ne 0 ]
	run curl -s -w ' %{http_code}' --unix-socket "$SOCK" -X POST http://d/v1.44/containers/nosuch/start
	[[ "$output" == *'"message":"No such container: nosuch"'*' 404' ]]
	run docker run --rm busybox /no/such/binary
	[ "$status" -eq 127 ] || [ "$status" -eq 125 ]
	[ -z "$(docker ps -aq)" ]
}

@test "restart policy always comes back after the whole engine restarts" {
	docker run -d --name back --restart always busybox sleep 100
	docker run -d --name stays busybox sleep 100
	engine_stop
	# what a reboot does to the containers
	kill -9 "$(docker_pid back)" "$(docker_pid stays)" 2>/dev/null || true
	sleep 0.3
	engine_start
	for _ in $(seq 50); do
		[ "$(docker inspect -f '{{.State.Running}}' back)" = true ] && break
		sleep 0.1
	done
	[ "$(docker inspect -f '{{.State.Running}}' back)" = true ]
	[ "$(docker inspect -f '{{.State.Running}}' stays)" = false ]
}

docker_pid() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["State"]["Pid"])' \
		"$(grep -l "\"/$1\"" "$FILE_TMP"/root/containers/*/container.json)"
}

@test "docker pull from a loopback registry (pushed with skopeo), then run it; skopeo's docker-archive and an OCI archive load" {
	command -v docker-registry >/dev/null || skip "docker-registry not installed (scripts/install-deps.sh)"
	command -v skopeo >/dev/null || skip "skopeo not installed (scripts/install-deps.sh)"
	local rport
	rport=$(free_port)
	cat >"$FILE_TMP/registry.yml" <<-YML
	version: 0.1
	log:
	  level: error
	storage:
	  filesystem:
	    rootdirectory: $FILE_TMP/registry
	http:
	  addr: 127.0.0.1:$rport
	YML
	docker-registry serve "$FILE_TMP/registry.yml" >"$FILE_TMP/registry.log" 2>&1 3>&- &
	local rpid=$!
	for _ in $(seq 100); do curl -sf "http://127.0.0.1:$rport/v2/" >/dev/null && break; sleep 0.05; done
	local sk=(skopeo --insecure-policy copy -q --dest-tls-verify=false)
	"${sk[@]}" "docker-archive:$FILE_TMP/busybox.tar" "docker://127.0.0.1:$rport/team/bb:1"
	run docker pull "127.0.0.1:$rport/team/bb:1"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Pull complete"* ]] || [[ "$output" == *"Already exists"* ]]
	[[ "$output" == *"Downloaded newer image for 127.0.0.1:$rport/team/bb:1"* ]]
	run docker run --rm "127.0.0.1:$rport/team/bb:1" echo pulled
	[ "$output" = "pulled" ]
	run docker pull "127.0.0.1:$rport/team/nosuch:1"
	[ "$status" -ne 0 ]
	[[ "$output" == *"404"* ]] || [[ "$output" == *"not found"* ]] || [[ "$output" == *"unknown"* ]]
	# archives made by skopeo: docker-archive and oci-archive
	"${sk[@]}" "docker-archive:$FILE_TMP/busybox.tar" "docker-archive:$FILE_TMP/sk-docker.tar:skopeo/docker:1"
	"${sk[@]}" "docker-archive:$FILE_TMP/busybox.tar" "oci-archive:$FILE_TMP/sk-oci.tar:skopeo/oci:1"
	run docker load -i "$FILE_TMP/sk-docker.tar"
	[[ "$output" == *"Loaded image: skopeo/docker:1"* ]]
	run docker load -i "$FILE_TMP/sk-oci.tar"
	[ "$status" -eq 0 ]
	run docker run --rm skopeo/docker:1 echo from-skopeo
	[ "$output" = "from-skopeo" ]
	kill "$rpid"
	docker rmi -f "127.0.0.1:$rport/team/bb:1" skopeo/docker:1 >/dev/null 2>&1 || true
}

@test "a hostile image tarball gets a JSON error and writes nothing outside the store" {
	local d="$FILE_TMP/evil"
	mkdir -p "$d/layer"
	echo pwned >"$d/layer/x"
	(cd "$d/layer" && tar --transform 's|^x$|../../../../../../tmp/ros-evil-'"$$"'|' -cf ../layer.tar x)
	h=$(sha256sum "$d/layer.tar" | cut -d' ' -f1)
	mkdir -p "$d/arc/$h" && cp "$d/layer.tar" "$d/arc/$h/layer.tar"
	printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$h" >"$d/arc/c.json"
	c=$(sha256sum "$d/arc/c.json" | cut -d' ' -f1)
	mv "$d/arc/c.json" "$d/arc/$c.json"
	printf '[{"Config":"%s.json","RepoTags":["evil:1"],"Layers":["%s/layer.tar"]}]' "$c" "$h" >"$d/arc/manifest.json"
	tar -C "$d/arc" -cf "$d/evil.tar" .
	run curl -s -w ' %{http_code}' --unix-socket "$SOCK" -X POST -H 'Content-Type: application/x-tar' \
		--data-binary "@$d/evil.tar" http://d/v1.44/images/load
	echo "$output"
	[[ "$output" == *'"message":'*'path leaves'*' 400' ]] || [[ "$output" == *'"message":'*'..'*' 400' ]]
	[ ! -e "/tmp/ros-evil-$$" ]
	run docker image inspect evil:1
	[ "$status" -ne 0 ]
	# a truncated archive
	head -c 3000 "$FILE_TMP/busybox.tar" >"$d/short.tar"
	run docker load -i "$d/short.tar"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Error"* ]]
}
