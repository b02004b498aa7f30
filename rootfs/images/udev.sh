# shellcheck shell=bash disable=SC2034,SC2154,SC2012 # a recipe sourced by rootfs/mkimage.sh (tree, src, cache are its)
# udev: systemd-udevd and udevadm with their rules; cold-plug then hot-plug.
PKGS=(udev kmod)
customize() {
	# ros keeps the kernel's link names (eth0, ...): the network config
	# matches them, and renaming a link the network service already
	# brought up races with it
	rm -f "$tree"/lib/udev/rules.d/80-net-setup-link.rules
}
