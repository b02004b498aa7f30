# shellcheck shell=bash disable=SC2034,SC2154,SC2012 # a recipe sourced by rootfs/mkimage.sh (tree, src, cache are its)
# ntpd: chrony, servers from ros.ntp.servers, needing only CAP_SYS_TIME.
PKGS=(chrony)
