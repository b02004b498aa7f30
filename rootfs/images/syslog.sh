# shellcheck shell=bash disable=SC2034,SC2154,SC2012 # a recipe sourced by rootfs/mkimage.sh (tree, src, cache are its)
# syslog: busybox syslogd (from Debian's busybox-static) serving /dev/log,
# writing /var/log/messages, rotated by size.
PKGS=()
