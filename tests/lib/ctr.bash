# Shared set-up for the runtime tests: a busybox-static rootfs and a bundle.
# shellcheck shell=bash

ROCI="$ROS_BUILD/bin/roci"

# make_bundle DIR: DIR/rootfs (busybox) and DIR/config.json (roci spec, no tty)
make_bundle() {
	local b=$1
	mkdir -p "$b/rootfs/bin" "$b/rootfs/tmp" "$b/rootfs/etc"
	cp /bin/busybox "$b/rootfs/bin/busybox"
	local c
	for c in sh true false echo cat ls id hostname sleep ps mount grep mkdir touch stat readlink ulimit head \
		wc tr sed dd kill printf env pwd; do
		ln -sf busybox "$b/rootfs/bin/$c"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$b/rootfs/etc/passwd"
	(cd "$b" && "$ROCI" spec)
	set_config '.process.terminal = false | .root.readonly = false'
}

# set_config JQ-EXPR: edits $BUNDLE/config.json
set_config() {
	local tmp
	tmp=$(mktemp)
	jq "$1" "$BUNDLE/config.json" >"$tmp" && mv "$tmp" "$BUNDLE/config.json"
}

# set_args ARG...: the container's process.args
set_args() {
	local json
	json=$(printf '%s\n' "$@" | jq -R . | jq -s .)
	set_config ".process.args = $json"
}

roci() {
	"$ROCI" --root "$STATE" "$@"
}

ctr_setup() {
	BUNDLE=$(mktemp -d)
	STATE=$(mktemp -d)
	make_bundle "$BUNDLE"
	ID="t$$-$RANDOM"
}

ctr_teardown() {
	local id
	for id in $("$ROCI" --root "$STATE" list -q 2>/dev/null); do
		"$ROCI" --root "$STATE" delete --force "$id" >/dev/null 2>&1 || true
	done
	rm -rf "$BUNDLE" "$STATE"
}
