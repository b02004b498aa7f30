#!/usr/bin/env bats
# roci: the lifecycle hooks.

load ../lib/ctr

setup() { ctr_setup; }
teardown() { ctr_teardown; }


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

@test "hooks get their args, their env and the state with the container id on stdin" {
	log="$BUNDLE/hooks.log"
	printf '#!/bin/sh\nread -r s; echo "$1 $HOOKVAR $(echo "$s" | jq -r .id)" >> %s\n' "$log" >"$BUNDLE/hook.sh"
	chmod +x "$BUNDLE/hook.sh"
	h() { echo "{\"path\": \"$BUNDLE/hook.sh\", \"args\": [\"hook.sh\", \"$1\"], \"env\": [\"HOOKVAR=v-$1\"]}"; }
	set_config ".hooks = {\"poststart\": [$(h poststart)], \"poststop\": [$(h poststop)]}"
	set_args true
	roci run --bundle "$BUNDLE" "$ID"
	[ "$(cat "$log")" = "poststart v-poststart $ID"$'\n'"poststop v-poststop $ID" ]
}

@test "a failing prestart hook fails create, names the hook and leaves nothing behind" {
	printf '#!/bin/sh\necho broken >&2; exit 3\n' >"$BUNDLE/bad.sh"
	chmod +x "$BUNDLE/bad.sh"
	set_config ".hooks = {\"prestart\": [{\"path\": \"$BUNDLE/bad.sh\"}]}"
	set_args true
	run roci create --bundle "$BUNDLE" "$ID"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *prestart* ]]
	[[ "$output" == *bad.sh* ]]
	[ ! -e "$STATE/$ID" ]
	run roci state "$ID"
	[ "$status" -ne 0 ]
}
