# shellcheck shell=bash disable=SC2034,SC2154,SC2012 # a recipe sourced by rootfs/mkimage.sh (tree, src, cache are its)
# console: getty on the serial and VGA consoles (busybox getty and login),
# sshd with host keys kept in the state dir, sudo, the ros CLI, the docker
# CLI (from docker.io; only /usr/bin/docker).
PKGS=(openssh-server sudo)
ROS_BINS=(ros)
# zstd: at boot the console runs its script, sshd and ssh-keygen; the
# docker CLI (45 MB of the image's 52) is read only when someone runs it:
# cold, in the xz layer console-cold under the image (rootfs/mkimages.sh)
COLD=(usr/bin/docker)
customize() {
	# the docker CLI alone from Debian's docker.io (the engine is userctr)
	local deb
	deb=$(ls -t "$cache"/docker.io_*.deb 2>/dev/null | head -1 || true)
	if [ -z "$deb" ]; then
		(cd "$cache" && apt-get download -q -o APT::Sandbox::User=root docker.io >/dev/null)
		deb=$(ls -t "$cache"/docker.io_*.deb | head -1)
	fi
	dpkg --fsys-tarfile "$deb" | tar -x -C "$tree" ./usr/bin/docker
	# what a console does not use (with the PAM modules no pam.d file
	# names, which mkimage.sh drops, 2 MB of the ISO): host-based and
	# hardware-key helpers, a key agent (ssh -A brings the user's),
	# ssh-keyscan, sudo's log server and converters; ssh, scp, sftp stay
	rm -f "$tree"/usr/lib/openssh/{ssh-keysign,ssh-pkcs11-helper,ssh-sk-helper} \
		"$tree"/usr/bin/{ssh-agent,ssh-add,ssh-keyscan,cvtsudoers,sudoreplay} "$tree"/usr/sbin/{sudo_logsrvd,sudo_sendlog}
	# the docker CLI's default socket: userctr's (services/userctr.yml)
	mkdir -p "$tree/var/run"
	ln -sfn /run/userctr/docker.sock "$tree/var/run/docker.sock"
	mkdir -p "$tree/etc/ssh" "$tree/etc/sudoers.d" "$tree/home"
	cat >"$tree/etc/ssh/sshd_config" <<'C'
# ros: keys only unless ros.password is set (the console script appends
# PasswordAuthentication yes then); host keys live on the state disk.
HostKey /var/lib/ros/ssh/ssh_host_ed25519_key
HostKey /var/lib/ros/ssh/ssh_host_ecdsa_key
HostKey /var/lib/ros/ssh/ssh_host_rsa_key
PermitRootLogin no
PubkeyAuthentication yes
KbdInteractiveAuthentication no
UsePAM no
PrintMotd no
Subsystem sftp /usr/lib/openssh/sftp-server
C
	printf '%%sudo ALL=(ALL:ALL) NOPASSWD: ALL\n' >"$tree/etc/sudoers.d/ros"
	# the common PAM stacks Debian's pam-auth-update would write (sudo's
	# /etc/pam.d/sudo includes them)
	mkdir -p "$tree/etc/pam.d"
	printf 'auth [success=1 default=ignore] pam_unix.so nullok\nauth requisite pam_deny.so\nauth required pam_permit.so\n' \
		>"$tree/etc/pam.d/common-auth"
	printf 'account [success=1 new_authtok_reqd=done default=ignore] pam_unix.so\naccount requisite pam_deny.so\naccount required pam_permit.so\n' \
		>"$tree/etc/pam.d/common-account"
	printf 'password [success=1 default=ignore] pam_unix.so obscure yescrypt\npassword requisite pam_deny.so\npassword required pam_permit.so\n' \
		>"$tree/etc/pam.d/common-password"
	printf 'session [default=1] pam_permit.so\nsession requisite pam_deny.so\nsession required pam_permit.so\nsession required pam_unix.so\n' \
		| tee "$tree/etc/pam.d/common-session" >"$tree/etc/pam.d/common-session-noninteractive"
	chmod 0440 "$tree/etc/sudoers.d/ros"
	printf 'root:*:1::::::\nros:*:1::::::\nsshd:*:1::::::\n_chrony:*:1::::::\nnobody:*:1::::::\n' >"$tree/etc/shadow"
	chmod 0640 "$tree/etc/shadow"
	printf '\nros %s \\l\n\n' "$(cat "$src/VERSION")" >"$tree/etc/issue"
	printf '/bin/sh\n/bin/ash\n' >"$tree/etc/shells"
	printf 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nexport PS1="\\u@\\h:\\w\\$ "\n' >"$tree/etc/profile"
}
