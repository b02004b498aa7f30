# shellcheck shell=bash disable=SC2034,SC2154,SC2012 # a recipe sourced by rootfs/mkimage.sh (tree, src, cache are its)
# cloud-init: the first-boot one-shot, `ros cloud-init` (docs/config.md).
ROS_BINS=(ros)
# the url and ec2 datasources: ros dlopen()s libcurl
PKGS=(libcurl4)
KEEP_LIBS=(libcurl.so.4)
# xz: ros is in the base layer; libcurl and its libraries load only for a
# url or ec2 datasource
COMPRESS=xz
