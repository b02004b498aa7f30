#!/usr/bin/env bash
# Installs the Debian packages ros needs to build and test (and, with
# `image`, to build and boot the OS image). Idempotent: installs only what
# is missing, so `make` can call it whenever a tool is absent.
set -euo pipefail

build_pkgs=(
	build-essential pkg-config clang lld llvm
	libseccomp-dev libcap-dev libjansson-dev libyaml-dev libmount-dev libblkid-dev libfdisk-dev
	libnl-3-dev libnl-route-3-dev libcurl4-openssl-dev libarchive-dev libssl-dev
	libmicrohttpd-dev zlib1g-dev
	bats cppcheck clang-format shellcheck busybox-static jq python3 nftables socat
	docker-registry skopeo tini openssl ca-certificates
	xorriso mtools dosfstools e2fsprogs squashfs-tools cpio zstd
	crun runc podman uidmap fuse-overlayfs slirp4netns iproute2 util-linux
)
image_pkgs=(
	qemu-system-x86 qemu-utils ovmf grub-pc-bin grub-efi-amd64-bin grub-common
	isolinux syslinux-common syslinux-utils kmod socat openssh-client
)

want=("${build_pkgs[@]}")
if [ "${1:-}" = image ] || [ "${1:-}" = all ]; then
	want+=("${image_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# the docker CLI drives userctr in the tests: Debian's docker.io where no
# docker client is installed (its daemon is not started by the tests)
command -v docker >/dev/null || missing+=(docker.io)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages (${missing[*]}); run this script as root" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
dpkg --configure -a || true
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
