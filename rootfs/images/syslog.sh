# syslog: busybox syslogd (from Debian's busybox-static) serving /dev/log,
# writing /var/log/messages, rotated by size.
PKGS=()
