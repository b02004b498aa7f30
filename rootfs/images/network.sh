# shellcheck shell=bash disable=SC2034,SC2154,SC2012 # a recipe sourced by rootfs/mkimage.sh (tree, src, cache are its)
# network: ros's own netlink program (network/, docs/network.md).
ROS_BINS=(ros-network)
