#!/usr/bin/env bats
# sysctr: the real init runs as PID 1 of a PID + mount namespace with a
# busybox test root carrying the real sysctr; services are busybox
# directory images.  `ros service` runs inside that root (chroot through
# /proc/PID/root) and talks to sysctr on its socket.

load sysctr-lib

setup() {
	[ "$(id -u)" = 0 ] || skip "needs root (namespaces, mounts, cgroups)"
	[ -x "$ROS_BUILD/bin/sysctr" ] || skip "sysctr not built"
	export ROOT=$BATS_TEST_TMPDIR/root
	sysctr_make_root "$ROOT"
	mkdir -p "$ROOT/var/shared"
	BASE="ros.root=$ROOT ros.state=none ros.cgroup=v1"
}

teardown() {
	init_cleanup
	local d
	for d in /sys/fs/cgroup/*/sysctr; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	true
}

sh_svc() { # NAME SCRIPT [EXTRA YAML LINES]: a busybox service running sh -c SCRIPT
	printf '%s:\n  image: /img/bb\n  command: ["sh", "-c", %s]\n  volumes: ["/var/shared:/shared"]\n%s\n' \
		"$1" "$(printf '%s' "$2" | jq -Rs .)" "${3:-}"
}

@test "services start in dependency order: a one-shot gates its dependents, independent ones start in parallel" {
	services base.yml "$(sh_svc setup 'sleep 0.5; echo ready > /shared/setup; exit 0' '  labels: {ros.detach: false}')
$(sh_svc web 'cat /shared/setup > /shared/web-saw; exec sleep 1000' '  labels: {ros.after: setup}')
$(sh_svc proxy 'exec sleep 1000' '  labels: {ros.after: web}')
$(sh_svc ntp 'exec sleep 1000' '  labels: {ros.before: proxy}')"
	init_start "$BASE"
	wait_until state_is proxy running
	[ "$(cat "$(in_sys /var/shared/web-saw)")" = ready ]
	tl=$(in_sys /run/ros/boot-timeline)
	order=$(awk '$2 == "service" {print $3}' "$tl" | tr '\n' ' ')
	echo "order: $order"
	# setup first (alone), then web; ntp did not wait for setup; proxy last
	[[ "$order" == setup* ]] || [[ "$order" == ntp\ setup* ]]
	[[ "$order" == *web\ proxy* ]]
	state_is setup exited
	rs service ps | grep -E '^setup +exited +- +- +0 +0 '
}

@test "named images are squashfs files mounted once and shared; a layer named in .ros-lower is stacked under" {
	command -v mksquashfs >/dev/null || skip "no mksquashfs"
	local t=$BATS_TEST_TMPDIR
	mkdir -p "$t/base/bin" "$t/base"/{proc,sys,dev,tmp,etc,run,shared} "$t/top/etc"
	cp "$(command -v busybox)" "$t/base/bin/busybox"
	ln -s busybox "$t/base/bin/sh"
	echo from-top >"$t/top/etc/marker"
	echo base >"$t/top/.ros-lower"
	mkdir -p "$ROOT/usr/share/ros/images"
	mksquashfs "$t/base" "$ROOT/usr/share/ros/images/base.squashfs" -quiet -no-progress -all-root >/dev/null
	mksquashfs "$t/top" "$ROOT/usr/share/ros/images/top.squashfs" -quiet -no-progress -all-root >/dev/null
	services base.yml "$(printf 'one:\n  image: top\n  command: [sh, -c, "cat /etc/marker > /shared/one; exec sleep 1000"]\n  volumes: [/var/shared:/shared]\ntwo:\n  image: top\n  read_only: true\n  command: [sh, -c, "touch /etc/x 2>/dev/null || echo ro > /shared/two; exec sleep 1000"]\n  volumes: [/var/shared:/shared]\n')"
	init_start "$BASE"
	wait_until state_is two running
	wait_until test -e "$(in_sys /var/shared/two)"
	wait_until test -e "$(in_sys /var/shared/one)"
	[ "$(cat "$(in_sys /var/shared/one)")" = from-top ]
	[ "$(cat "$(in_sys /var/shared/two)")" = ro ]
	# each image mounted once, whatever the number of services using it
	[ "$(grep -c ' /run/sysctr/images/top ' "/proc/$INIT_PID/mountinfo")" = 1 ]
	[ "$(grep -c ' /run/sysctr/images/base ' "/proc/$INIT_PID/mountinfo")" = 1 ]
}

@test "a service runs in its own namespaces with no capabilities but those it lists" {
	services base.yml "$(sh_svc plain 'busybox unshare -U true 2>/shared/unshare.err; echo $? >/shared/unshare.rc; exec sleep 1000')
$(sh_svc timed 'exec sleep 1000' '  cap_add: [SYS_TIME]
  pids_limit: 50')
vols:
  image: /img/bb
  command: [sh]
  volumes: ['/var/shared:/data']
  labels: {ros.createonly: true}
borrower:
  image: /img/bb
  command: [sh, -c, 'echo \"\$SRV|\$GREETING\" > /data/env; echo borrowed > /data/borrowed; exec sleep 1000']
  environment: ['SRV=\${ros.ntp.servers}', 'GREETING=\${GREETING}']
  volumes_from: [vols]"
	mkdir -p "$ROOT/usr/share/ros"
	printf 'ros:\n  environment: {GREETING: hi there}\n  ntp: {servers: [a.example, b.example]}\n' >"$ROOT/usr/share/ros/os-config.yml"
	init_start "$BASE"
	wait_until state_is timed running
	# volumes_from a create-only service (created, never started)
	wait_until test -e "$(in_sys /var/shared/borrowed)"
	state_is vols created
	# ${VAR} from ros.environment, ${a.b.c} from the config (a list joined by spaces)
	[ "$(cat "$(in_sys /var/shared/env)")" = "a.example b.example|hi there" ]
	# pids in `ros service ps` are those of the system's PID namespace
	pid=$(rs service ps | awk '$1 == "plain" {print $3}')
	p=$(in_sys /proc/"$pid")
	[ "$(readlink "$p"/ns/pid)" != "$(readlink /proc/"$INIT_PID"/ns/pid)" ]
	[ "$(readlink "$p"/ns/net)" != "$(readlink /proc/"$INIT_PID"/ns/net)" ]
	[ "$(readlink "$p"/ns/mnt)" != "$(readlink /proc/"$INIT_PID"/ns/mnt)" ]
	grep -E '^CapEff:\s+0+$' "$p"/status
	grep -E '^NoNewPrivs:\s+1$' "$p"/status
	# the default seccomp profile: a filter is loaded, and creating a user
	# namespace (no capability needed without it) fails with EPERM
	grep -E '^Seccomp:\s+2$' "$p"/status
	wait_until test -s "$(in_sys /var/shared/unshare.rc)"
	[ "$(cat "$(in_sys /var/shared/unshare.rc)")" != 0 ]
	grep -i 'not permitted' "$(in_sys /var/shared/unshare.err)"
	tpid=$(rs service ps | awk '$1 == "timed" {print $3}')
	grep -E '^CapEff:\s+0*2000000$' "$(in_sys /proc/"$tpid"/status)" # CAP_SYS_TIME = 25
	[ "$(cat /sys/fs/cgroup/pids/sysctr/timed/pids.max)" = 50 ]
}

@test "restart policies: always restarts with backoff, on-failure:N gives up after N, no leaves it exited" {
	services base.yml "$(sh_svc flappy 'echo run; exit 1' '  restart: always')
$(sh_svc limited 'echo run; exit 3' '  restart: on-failure:2')
$(sh_svc once 'echo run; exit 1' '  restart: "no"')
$(sh_svc clean 'exit 0' '  restart: on-failure')"
	init_start "$BASE"
	wait_until state_is limited exited
	wait_until eval '[ "$(rs service ps | awk '"'"'$1 == "limited" {print $5}'"'"')" = 2 ]'
	sleep 1 # on-failure:2 must not run a fourth time
	[ "$(grep -c run "$(in_sys /var/log/ros/limited.log)")" = 3 ]
	rs service ps | grep -E '^limited +exited +- +- +2 +3 '
	[ "$(grep -c run "$(in_sys /var/log/ros/once.log)")" = 1 ]
	rs service ps | grep -E '^clean +exited .* 0 +0 '
	# always: 100, 200, 400 ms backoff -> at least 4 runs within ~2 s
	wait_until eval '[ "$(grep -c run "$(in_sys /var/log/ros/flappy.log)")" -ge 4 ]'
	grep -E 'service flappy: restart 3' "$CONSOLE"
}

@test "crash-loop limit: a service that keeps exiting quickly is given up and shown as crash-loop until started again" {
	mkdir -p "$ROOT/usr/share/ros"
	printf 'ros:\n  restart: {backoff_min_ms: 20, backoff_max_ms: 80, crash_loop_limit: 4}\n' >"$ROOT/usr/share/ros/os-config.yml"
	services base.yml "$(sh_svc crashy 'echo run; exit 1' '  restart: always')"
	init_start "$BASE"
	wait_until state_is crashy crash-loop
	grep -E 'service crashy: crash loop: 4 quick exits, left stopped' "$CONSOLE"
	sleep 0.5
	[ "$(grep -c run "$(in_sys /var/log/ros/crashy.log)")" = 4 ] # 1 run + 3 restarts, then no more
	rs service ps | grep -E '^crashy +crash-loop +- +- +3 +1 '
	rs service start crashy # an explicit start clears it
	wait_until eval '[ "$(grep -c run "$(in_sys /var/log/ros/crashy.log)")" -ge 5 ]'
}

@test "logs go to /var/log/ros/NAME.log, rotate by size, and ros service logs shows and follows them" {
	mkdir -p "$ROOT/usr/share/ros"
	printf 'ros:\n  log: {max_size: 4000, max_files: 2}\n' >"$ROOT/usr/share/ros/os-config.yml"
	services base.yml "$(sh_svc chatty 'i=0; while [ $i -lt 400 ]; do echo "line $i xxxxxxxxxxxxxxxxxxxxxx"; i=$((i+1)); done; echo last-of-first; exec sleep 1000')"
	init_start "$BASE"
	wait_until test -e "$(in_sys /var/log/ros/chatty.log.1)"
	[ ! -e "$(in_sys /var/log/ros/chatty.log.3)" ]
	[ "$(stat -c %a "$(in_sys /var/log/ros)")" = 755 ]
	rs service logs --lines 1 chatty >"$BATS_TEST_TMPDIR/tail" || true
	# follow: a new line written later shows up
	chroot "/proc/$INIT_PID/root" /usr/bin/ros service logs -f chatty >"$BATS_TEST_TMPDIR/follow" 2>&1 &
	f=$!
	pid=$(rs service ps | awk '$1 == "chatty" {print $3}')
	echo "followed-line" >>"$(in_sys /var/log/ros/chatty.log)"
	wait_until grep -q followed-line "$BATS_TEST_TMPDIR/follow"
	kill "$f"
	run rs service logs --lines 2 chatty
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[ "${lines[0]}" = last-of-first ] # reached back into the rotated chatty.log.1
	[ "${lines[1]}" = followed-line ]
	run rs service logs nope
	[ "$status" -eq 1 ]
	[[ "$output" == *nope.log* ]]
	[ -n "$pid" ]
}

@test "enable, disable, up, stop, start, restart and down manage services; enable persists in the config" {
	services base.yml "$(sh_svc always-on 'exec sleep 1000')
$(sh_svc extra 'exec sleep 1000' '  labels: {ros.optional: true}')"
	init_start "$BASE"
	wait_until state_is always-on running
	rs service list | grep -E '^enabled +always-on +built-in'
	rs service list | grep -E '^disabled +extra +optional'
	state_is extra disabled
	rs service enable extra
	grep -A2 services_include "$(in_sys /var/lib/ros/conf/cloud-config.yml)" | grep -E 'extra: true'
	[ "$(stat -c %a "$(in_sys /var/lib/ros/conf/cloud-config.yml)")" = 600 ]
	rs service up
	wait_until state_is extra running
	old=$(rs service ps | awk '$1 == "extra" {print $3}')
	rs service restart extra
	wait_until eval '[ "$(rs service ps | awk '"'"'$1 == "extra" && $2 == "running" {print $3}'"'"')" != "$old" ]'
	rs service stop extra
	wait_until state_is extra stopped
	sleep 0.5
	state_is extra stopped # a stopped service is not restarted by policy
	rs service start extra
	wait_until state_is extra running
	rs service disable extra
	rs service list | grep -E '^disabled +extra'
	run rs service enable nosuch
	[ "$status" -eq 1 ]
	[[ "$output" == *"no service named nosuch"* ]]
	run rs service start nosuch
	[ "$status" -eq 1 ]
	rs service down
	state_is always-on stopped
	state_is extra stopped
	rs service rm extra
}

@test "kill -9 sysctr: services keep running and the restarted sysctr re-adopts them without duplicates" {
	services base.yml "$(sh_svc one 'exec sleep 1000')
$(sh_svc boot-once 'echo ran >> /shared/boot-once; exit 0' '  labels: {ros.detach: false}')"
	init_start "$BASE"
	wait_until state_is one running
	wait_until state_is boot-once exited
	pid=$(rs service ps | awk '$1 == "one" {print $3}')
	sp=$(pgrep -f -P "$INIT_PID" /usr/bin/sysctr || init_children | head -1)
	kill -9 "$sp"
	wait_until grep -q "re-adopted pid" "$CONSOLE"
	wait_until state_is one running
	[ "$(rs service ps | awk '$1 == "one" {print $3}')" = "$pid" ]
	sys_kill -0 "$pid"
	[ "$(grep -c ran "$(in_sys /var/shared/boot-once)")" = 1 ] # the one-shot did not run again
	[ "$(ls /sys/fs/cgroup/pids/sysctr | grep -c '^one$')" = 1 ]
	# the adopted service's exit is still noticed and its policy applied
	sys_kill -KILL "$pid" # (a namespace's PID 1 ignores signals it has no handler for)
	wait_until state_is one exited
}

@test "shutdown stops services in reverse start order, killing one that overstays its stop_timeout" {
	services base.yml "$(sh_svc first 'trap "echo first >> /shared/stops; exit 0" TERM; while :; do sleep 1 & wait $!; done')
$(sh_svc second 'trap "echo second >> /shared/stops; exit 0" TERM; while :; do sleep 1 & wait $!; done' '  labels: {ros.after: first}')
$(sh_svc stubborn 'trap "echo stubborn-ignores >> /shared/stops" TERM; while :; do sleep 1 & wait $!; done' '  labels: {ros.after: second}
  stop_timeout: 1')"
	init_start "$BASE"
	wait_until state_is stubborn running
	shared=$(in_sys /var/shared)
	# an open directory keeps the system's root (a tmpfs-backed overlay)
	# readable after the namespace is gone
	exec {keep}<"$shared"
	kill -TERM "$INIT_PID"
	init_wait_exit
	cat "/dev/fd/$keep/stops"
	[ "$(tr '\n' ' ' <"/dev/fd/$keep/stops")" = "stubborn-ignores second first " ]
	exec {keep}<&-
	grep -E 'service stubborn: did not stop in 1 s, killing it' "$CONSOLE"
	grep -E 'sysctr: stopped' "$CONSOLE"
}

@test "a bad service definition is a clear error naming it, and the other services still start" {
	services bad.yml "$(sh_svc good 'exec sleep 1000')
typo:
  image: /img/bb
  command: [sh]
  restrat: always
badpolicy:
  image: /img/bb
  command: [sh]
  restart: sometimes
needsbad:
  image: /img/bb
  command: [sleep, '1000']
  labels: {ros.after: badpolicy}
loop1:
  image: /img/bb
  command: [sh]
  labels: {ros.after: loop2}
loop2:
  image: /img/bb
  command: [sh]
  labels: {ros.after: loop1}"
	printf 'broken: [yaml\n' >"$ROOT/usr/share/ros/services/broken.yml"
	init_start "$BASE"
	wait_until state_is good running
	grep -E 'service typo: unknown key "restrat"' "$CONSOLE"
	grep -E 'service badpolicy: restart: unknown policy "sometimes"' "$CONSOLE"
	grep -E 'broken.yml:[0-9]+:[0-9]+' "$CONSOLE"
	grep -E 'cycle' "$CONSOLE"
	state_is typo failed
	state_is needsbad failed
	rs service ps
	rs service ps | grep -E 'error: service needsbad: depends on badpolicy'
	state_is loop1 failed
}
