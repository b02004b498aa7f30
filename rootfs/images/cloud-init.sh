# shellcheck shell=bash disable=SC2034,SC2154,SC2012 # a recipe sourced by rootfs/mkimage.sh (tree, src, cache are its)
# cloud-init: the first-boot one-shot, `ros cloud-init` (docs/config.md).
ROS_BINS=(ros)
# the url and ec2 datasources: ros dlopen()s libcurl
PKGS=(libcurl4)
KEEP_LIBS=(libcurl.so.4)
# zstd (the default): ros, libcurl and its libraries are in the base
# layer (userctr has them too), the image itself holds next to nothing,
# and an xz image costs a decompressor at each mount
