#!/bin/bash
# bench/engine.sh [N]: userctr driven by the stock docker CLI, side by side
# with podman (Debian, crun runtime) on the same busybox image (issue #6):
#
#   run_ms     `docker run --rm busybox true` vs `podman run --rm busybox true`:
#              median and p90 of N (default 30) runs after 3 warm-ups, with
#              --network none and with the default network (userctr's bridge,
#              podman's CNI bridge)
#   seq100_ms  100 sequential `run -d ... sleep 1000` + `rm -f` (network none)
#   rss        userctr engine+reaper VmRSS (and Pss) before and with 100
#              running `sleep 1000` containers, the growth per container;
#              podman keeps nothing resident but one conmon per container:
#              the sum of their VmRSS
#
# Targets: run latency <= 1.0x podman, RSS growth <= 256 KiB per container.
#
# Everything runs in one private mount namespace with the cgroup2 mount
# detached (crun refuses the v1 hybrid otherwise); userctr gets a temp
# --root, its own socket, bridge and subnet; podman a temp --root,
# --runroot, --tmpdir and network config (its own bridge and subnet), so
# neither touches the host's engines.  Everything is removed at exit.
#
# usage: bench/engine.sh [N]     (root; ROS_BUILD, default build/)
set -euo pipefail
N=${1:-30}
SRC=$(cd "$(dirname "$0")/.." && pwd)
ROS_BUILD=${ROS_BUILD:-$SRC/build}
export ROS_BUILD

if [ -z "${ROS_BENCH_ENGINE_NS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "engine.sh: needs root" >&2; exit 1; }
	for t in docker podman crun busybox; do
		command -v "$t" >/dev/null || { echo "engine.sh: $t not installed" >&2; exit 1; }
	done
	if [ ! -x "$ROS_BUILD/bin/userctr" ]; then
		make -C "$SRC" BUILD="$(realpath -m --relative-to="$SRC" "$ROS_BUILD")" >&2
	fi
	ROS_BENCH_ENGINE_NS=1 exec unshare -m "$0" "$@"
fi
mount --make-rprivate /
umount /sys/fs/cgroup/unified 2>/dev/null || true

TMP=$(mktemp -d /tmp/ros-bench-engine.XXXXXX)
BR="ub$$"
BR=${BR:0:15}
PBR="pb$$"
PBR=${PBR:0:15}
NET="10.214.$((RANDOM % 200 + 20)).0/24"
PNET="10.215.$((RANDOM % 200 + 20))"
export DOCKER_HOST="unix://$TMP/docker.sock" DOCKER_CONFIG="$TMP/docker-config"
REAPER=
mkdir -p "$DOCKER_CONFIG"
echo '{}' >"$DOCKER_CONFIG/config.json" # podman reads DOCKER_CONFIG too

pod() {
	podman --root "$TMP/proot" --runroot "$TMP/prun" --tmpdir "$TMP/ptmp" --network-config-dir "$TMP/cni" \
		--runtime crun --cgroup-manager=cgroupfs --events-backend none "$@"
}
# root here cannot raise rlimits past the hard limit (peers-on-this-host.md)
PULIMIT=(--ulimit nofile=1024:1024 --ulimit nproc=1000:1000)

cleanup() {
	set +e
	if [ -S "$TMP/docker.sock" ]; then
		# shellcheck disable=SC2046
		docker rm -f $(docker ps -aq 2>/dev/null) >/dev/null 2>&1
	fi
	if [ -n "$REAPER" ]; then
		kill "$REAPER" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$REAPER" 2>/dev/null || break; sleep 0.05; done
	fi
	[ -d "$TMP/proot" ] && pod rm -f -t 0 -a >/dev/null 2>&1
	nft delete table ip "userctr-$BR" 2>/dev/null
	ip link del "$BR" 2>/dev/null
	ip link del "$PBR" 2>/dev/null
	awk -v p="$TMP" 'index($2, p) == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l
	rm -rf "$TMP"
}
trap cleanup EXIT

# ---- the image: busybox-static with every applet, a docker-archive ---------
# shellcheck source=tests/lib/image.bash
source "$SRC/tests/lib/image.bash"
r="$TMP/rootfs"
mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/root"
cp "$(command -v busybox)" "$r/bin/busybox"
for a in $("$r/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$r/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$r/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
tar -C "$r" -cf "$TMP/layer.tar" .
make_archive "$TMP/busybox.tar" busybox:latest amd64 "$TMP/layer.tar" >/dev/null

# ---- userctr ----------------------------------------------------------------
"$ROS_BUILD/bin/userctr" --host "$DOCKER_HOST" --root "$TMP/uroot" --bridge "$BR" --bip "$NET" \
	2>>"$TMP/userctr.log" &
REAPER=$!
for _ in $(seq 100); do
	docker version >/dev/null 2>&1 && break
	sleep 0.05
done
docker version >/dev/null 2>&1 || { cat "$TMP/userctr.log" >&2; exit 1; }
docker load -i "$TMP/busybox.tar" >/dev/null

# ---- podman: its own storage and a default network on its own bridge --------
mkdir -p "$TMP/cni" "$TMP/cni-data"
cat >"$TMP/cni/87-podman-bridge.conflist" <<-JSON
{"cniVersion": "0.4.0", "name": "podman", "plugins": [
 {"type": "bridge", "bridge": "$PBR", "isGateway": true, "ipMasq": true, "hairpinMode": true,
  "ipam": {"type": "host-local", "dataDir": "$TMP/cni-data", "routes": [{"dst": "0.0.0.0/0"}],
           "ranges": [[{"subnet": "$PNET.0/24", "gateway": "$PNET.1"}]]}},
 {"type": "portmap", "capabilities": {"portMappings": true}},
 {"type": "firewall"}, {"type": "tuning"}]}
JSON
pod load -i "$TMP/busybox.tar" >/dev/null 2>&1

# ---- helpers -------------------------------------------------------------------
# timed_runs CMD...: 3 warm-ups, then N runs; prints each run's ms (integer us/1000)
timed_runs() {
	local i t0 t1
	for i in 1 2 3; do "$@" >/dev/null; done
	for ((i = 0; i < N; i++)); do
		t0=$(date +%s%N)
		"$@" >/dev/null
		t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000))
	done
}
# stat_of P: the P-th percentile (nearest rank) of the numbers on stdin, in ms
stat_of() {
	sort -n | awk -v p="$1" '{a[NR] = $1} END {
		if (p == 50) v = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		else { k = int((p * NR + 99) / 100); v = a[k] }
		printf "%.1f", v / 1000 }'
}
kib() { awk -v k="$2" '$1 == k ":" {print $2}' "/proc/$1/status"; }
pss() { awk '$1 == "Pss:" {print $2}' "/proc/$1/smaps_rollup"; }
engine_pid() { cat "$TMP/uroot/engine.pid"; }

declare -A med p90
measure() { # NAME CMD...: fills med[NAME], p90[NAME]
	local name=$1 out
	shift
	out=$(timed_runs "$@")
	med[$name]=$(stat_of 50 <<<"$out")
	p90[$name]=$(stat_of 90 <<<"$out")
}

# ---- (a) run --rm true latency ----------------------------------------------------
echo "engine.sh: run --rm latency, N=$N ..." >&2
measure u_none docker run --rm --network none busybox true
measure p_none pod run --rm --network none "${PULIMIT[@]}" busybox true
measure u_net docker run --rm busybox true
measure p_net pod run --rm "${PULIMIT[@]}" busybox true

# ---- (b) 100 sequential run -d + rm -f ---------------------------------------------
echo "engine.sh: 100 x (run -d + rm -f) ..." >&2
seq100() { # CLI...
	local i id t0 t1
	t0=$(date +%s%N)
	for ((i = 0; i < 100; i++)); do
		id=$("$@" run -d --network none "${EXTRA[@]}" busybox sleep 1000)
		"$@" rm -f "${RMOPT[@]}" "$id" >/dev/null
	done
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}
EXTRA=() RMOPT=()
u_seq=$(seq100 docker)
# podman's rm -f waits 10 s for SIGTERM first; docker's rm -f kills at once
EXTRA=("${PULIMIT[@]}") RMOPT=(-t 0)
p_seq=$(seq100 pod)

# ---- (c) RSS with 100 running containers --------------------------------------------
echo "engine.sh: RSS with 100 running containers ..." >&2
epid=$(engine_pid)
u_rss0=$(($(kib "$epid" VmRSS) + $(kib "$REAPER" VmRSS)))
u_pss0=$(($(pss "$epid") + $(pss "$REAPER")))
u_eng0=$(kib "$epid" VmRSS)
u_rea0=$(kib "$REAPER" VmRSS)
# start times of the 1st-10th and 91st-100th: a start must not slow down with more running
starts() { # CLI...: 100 run -d, prints "first10_ms last10_ms total_ms"
	local i t0 t1 ts first=0 last=0
	ts=$(date +%s%N)
	for ((i = 0; i < 100; i++)); do
		t0=$(date +%s%N)
		"$@" run -d --network none "${EXTRA[@]}" busybox sleep 1000 >/dev/null
		t1=$(date +%s%N)
		((i < 10)) && first=$((first + (t1 - t0) / 1000))
		((i >= 90)) && last=$((last + (t1 - t0) / 1000))
	done
	echo "$((first / 1000)) $((last / 1000)) $(((t1 - ts) / 1000000))"
}
EXTRA=()
read -r u_first u_last u_start100 < <(starts docker)
[ "$(docker ps -q | wc -l)" = 100 ] || { echo "engine.sh: userctr does not run 100 containers" >&2; exit 1; }
[ "$(engine_pid)" = "$epid" ] || { echo "engine.sh: the engine restarted" >&2; exit 1; }
u_rss1=$(($(kib "$epid" VmRSS) + $(kib "$REAPER" VmRSS)))
u_pss1=$(($(pss "$epid") + $(pss "$REAPER")))
u_eng1=$(kib "$epid" VmRSS)
u_rea1=$(kib "$REAPER" VmRSS)
# shellcheck disable=SC2046
docker rm -f $(docker ps -aq) >/dev/null

EXTRA=("${PULIMIT[@]}")
read -r p_first p_last p_start100 < <(starts pod)
p_rss=0
p_pss=0
n_conmon=0
for pid in $(pod ps -q --no-trunc | xargs -r podman --root "$TMP/proot" --runroot "$TMP/prun" \
	--tmpdir "$TMP/ptmp" inspect --format '{{.State.ConmonPid}}'); do
	p_rss=$((p_rss + $(kib "$pid" VmRSS)))
	p_pss=$((p_pss + $(pss "$pid")))
	n_conmon=$((n_conmon + 1))
done
[ "$n_conmon" = 100 ] || { echo "engine.sh: podman runs $n_conmon containers, not 100" >&2; exit 1; }
pod rm -f -t 0 -a >/dev/null

# ---- the table ------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
printf '\n%-44s %12s %12s %8s\n' "" userctr podman ratio
for k in none net; do
	label="run --rm true, network $([ $k = none ] && echo none || echo default)"
	printf '%-44s %12s %12s %8s\n' "$label, median ms" "${med[u_$k]}" "${med[p_$k]}" "$(ratio "${med[u_$k]}" "${med[p_$k]}")"
	printf '%-44s %12s %12s %8s\n' "$label, p90 ms" "${p90[u_$k]}" "${p90[p_$k]}" "$(ratio "${p90[u_$k]}" "${p90[p_$k]}")"
done
printf '%-44s %12s %12s %8s\n' "100 x (run -d + rm -f), ms" "$u_seq" "$p_seq" "$(ratio "$u_seq" "$p_seq")"
printf '%-44s %12s %12s %8s\n' "100 x run -d (100 left running), ms" "$u_start100" "$p_start100" \
	"$(ratio "$u_start100" "$p_start100")"
printf '%-44s %12s %12s\n' "  run -d 1-10 / 91-100 ms" "$u_first / $u_last" "$p_first / $p_last"
printf '%-44s %12s %12s\n' "resident RSS KiB, idle" "$u_rss0" 0
printf '%-44s %12s %12s\n' "resident RSS KiB, 100 running" "$u_rss1" "$p_rss"
printf '%-44s %12s %12s\n' "resident Pss KiB, 100 running" "$u_pss1" "$p_pss"
u_per=$(((u_rss1 - u_rss0) / 100))
printf '%-44s %12s %12s\n' "RSS growth per container, KiB" "$u_per" "$((p_rss / 100))"
printf '%-44s %12s\n' "  engine KiB idle / 100 running" "$u_eng0 / $u_eng1"
printf '%-44s %12s\n' "  reaper KiB idle / 100 running" "$u_rea0 / $u_rea1"
printf '%-44s %12s\n' "Pss growth per container, KiB" "$(((u_pss1 - u_pss0) / 100))"
echo
verdict() { if awk -v a="$1" -v b="$2" 'BEGIN {exit !(a <= b)}'; then echo PASS; else echo MISS; fi; }
echo "target run latency <= 1.0x podman (median, none):    $(verdict "${med[u_none]}" "${med[p_none]}") (${med[u_none]} vs ${med[p_none]} ms)"
echo "target run latency <= 1.0x podman (median, default): $(verdict "${med[u_net]}" "${med[p_net]}") (${med[u_net]} vs ${med[p_net]} ms)"
echo "target RSS growth <= 256 KiB per container:          $(verdict "$u_per" 256) ($u_per KiB)"
