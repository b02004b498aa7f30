#!/bin/sh
# A stand-in for sysctr in tests/integration/init.bats, run by the real init
# as PID 1.  It reports on the console (init's stdout, a file the test
# reads) and takes its behaviour from fake.mode= on the command line:
#   default   start one "container" (once per boot) and wait for SIGTERM
#   crash     exit 3 at once (init restarts it with backoff)
#   orphans   also double-fork 20 short-lived processes (init must reap them)
#   stubborn  ignore SIGTERM (init must kill it after ros.shutdown.timeout)
mode=default
for w in $ROS_CMDLINE; do
	case "$w" in fake.mode=*) mode=${w#fake.mode=} ;; esac
done
read -r up _ </proc/uptime
echo "fake-sysctr: start pid=$$ uptime=$up mode=$mode"
case "$mode" in
crash) exit 3 ;;
orphans)
	i=0
	while [ $i -lt 20 ]; do
		(sleep 0.$((i % 10)) &)
		i=$((i + 1))
	done
	echo "fake-sysctr: orphans made"
	;;
esac
if [ ! -e /run/fake-container ]; then
	: >/run/fake-container
	sh -c 'trap "echo fake-container: got SIGTERM; exit 0" TERM; while :; do sleep 1000 & wait $!; done' &
	echo "fake-sysctr: container pid=$!"
fi
if [ "$mode" = stubborn ]; then
	trap 'echo "fake-sysctr: ignoring SIGTERM"' TERM
else
	trap 'echo "fake-sysctr: got SIGTERM pid=$$"; exit 0' TERM
fi
while :; do
	sleep 1000 &
	wait $!
done
