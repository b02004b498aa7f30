#!/usr/bin/env bash
# Builds the file tree of one system service image (docs/images.md);
# rootfs/mkimages.sh turns the trees into squashfs files:
#   rootfs/mkimage.sh NAME BINDIR OUTDIR      (the tree goes to OUTDIR/NAME)
# The recipe rootfs/images/NAME.sh sets PKGS (Debian packages: each is
# fetched with `apt-get download` together with its Depends closure, minus
# the packages only their maintainer scripts need, then unpacked with
# dpkg -x), ROS_BINS (ros programs from BINDIR, stripped; the packages
# that own the libraries they link on the build host join PKGS), KEEP_LIBS
# (sonames kept though no ELF file links them: what a program dlopen()s),
# STUB_LIBS (sonames replaced by a stub, below; a recipe may add to them),
# COMPRESS (zstd, the default: fast to
# read; or xz: a quarter smaller, several times slower to read, for an image
# nothing reads while the system boots; written to OUTDIR/.NAME.compress for
# rootfs/mkimages.sh), COLD (paths in the image that nothing reads while
# the system boots: they go to a layer of their own, NAME-cold, in xz under
# the image; written to OUTDIR/.NAME.cold), and may define customize()
# (runs with $tree set).
# Every image carries busybox-static for /bin/sh. The build fails when an
# ELF file in the image needs a library the image does not hold.
set -euo pipefail
name=$1 bindir=$2 outdir=$3
src=$(cd "$(dirname "$0")/.." && pwd)
cache=${ROS_CACHE:-$src/build/cache}/debs
recipe=$src/rootfs/images/$name.sh
[ -f "$recipe" ] || { echo "mkimage: no recipe $recipe" >&2; exit 1; }

# Packages the closure drags in only for maintainer scripts, docs or
# alternatives ros does not use (the ELF check below proves none is needed).
SKIP=" adduser cdebconf debconf dpkg install-info perl perl-base perl-modules-5.36 libperl5.36 tar
 sensible-utils ucf usr-is-merged usrmerge init-system-helpers lsb-base runit-helper sysvinit-utils
 libfile-find-rule-perl libnumber-compare-perl libtext-glob-perl libdebian-installer4 libnewt0.52
 libslang2 libtextwrap1 tzdata iproute2 libbpf1 libelf1 libxtables12 libmnl0 libcap2-bin
 libgdbm6 libgdbm-compat4 readline-common libreadline8 libsemanage2 libsemanage-common libsepol2
 libelogind0 procps libproc2-0 passwd debianutils gcc-12-base "

SKIP=" $(echo "$SKIP" | tr -s " \n" "  ") " # one line, single spaces
PKGS=() ROS_BINS=() KEEP_LIBS=() COMPRESS=zstd COLD=()
# Libraries every image gets as a stub (make_stub below: each entry point
# the image's programs take from it returns 0 / NULL, each variable is
# zero, and it needs no other library). Each is reached only through what
# ros never turns on, and was all that kept other libraries in the images:
# - librtmp, libldap and liblber, libssh2: libcurl's rtmp://, ldap://,
#   scp:// and sftp://. ros and userctr let curl use http and https alone
#   (CURLOPT_PROTOCOLS_STR), so curl refuses the others with its own error
#   before calling them; curl_global_init's libssh2_init() gets 0, success.
# - libgnutls: chronyd's NTS (ros-ntpd writes no nts source or key, and
#   chrony initialises GnuTLS only for those) and libmicrohttpd's TLS
#   (userctr serves its socket without MHD_USE_TLS; MHD's constructor's
#   gnutls_global_init() gets 0, success). With librtmp and libldap they
#   were its only users.
# - libsystemd: sshd's sd_notify() and sd_listen_fds(), which return 0
#   when not started by systemd, as here.
# They took GnuTLS, p11-kit, libffi, libhogweed, libtasn1, Cyrus SASL,
# libgcrypt and libgpg-error with them (2.6 MB of the ISO). Curl talks
# TLS through OpenSSL, which stays.
STUB_LIBS=(librtmp.so.1 libldap-2.5.so.0 liblber-2.5.so.0 libssh2.so.1 libgnutls.so.30 libsystemd.so.0)
# stub functions that return -1 instead: libldap's error (LDAP_OPT_ERROR),
# so that curl_version() does not print what ldap_get_option() never filled
# in, and an ldap:// that got past CURLOPT_PROTOCOLS_STR fails at once
STUB_FAIL=" ldap_get_option ldap_init_fd "
customize() { :; }
# shellcheck source=/dev/null
. "$recipe"

mkdir -p "$outdir"
tree=$(mktemp -d -p "$outdir" ".$name.XXXXXX")
trap 'rm -rf "$tree"' EXIT

# --- Debian packages ---
closure() {
	apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
		--no-replaces --no-enhances "$@" 2>/dev/null | grep -v '^ ' | grep -v '<' | sort -u |
		while read -r p; do [[ "$SKIP" == *" $p "* ]] || echo "$p"; done
}
# The libraries of the ros programs come from the same Debian packages as
# everything else (not the build host's copies, which may be an older point
# release and sit at other paths): then images hold them identically and
# they go to the base layer. The packages that own them on the build host:
for b in "${ROS_BINS[@]}"; do
	[ -x "$bindir/$b" ] || continue
	for lib in $(ldd "$bindir/$b" | grep -oE '/[^ ]+'); do
		for p in "$lib" "$(readlink -f "$lib")"; do
			owner=$(dpkg-query -S "$p" 2>/dev/null | grep -v '^diversion' | head -1) || true
			[ -n "$owner" ] && { PKGS+=("${owner%%:*}"); break; }
		done
	done
done
if [ ${#PKGS[@]} -gt 0 ]; then
	mapfile -t PKGS < <(printf '%s\n' "${PKGS[@]}" | sort -u)
	mkdir -p "$cache"
	mapfile -t all < <(closure "${PKGS[@]}")
	need=()
	for p in "${all[@]}"; do
		ls "$cache/${p}_"*.deb >/dev/null 2>&1 || need+=("$p")
	done
	if [ ${#need[@]} -gt 0 ]; then
		echo "  FETCH   ${#need[@]} packages for $name" >&2
		(cd "$cache" && apt-get download -q -o APT::Sandbox::User=root "${need[@]}" >/dev/null) || {
			echo "mkimage: apt-get download failed (apt-get update first?)" >&2
			exit 1
		}
	fi
	for p in "${all[@]}"; do
		deb=$(find "$cache" -maxdepth 1 -name "${p}_*.deb" -printf "%T@ %p\n" | sort -rn | head -1 | cut -d" " -f2-)
		dpkg -x "$deb" "$tree"
	done
fi

# --- busybox and ros programs ---
mkdir -p "$tree"/{bin,sbin,usr/bin,usr/sbin,etc,dev,proc,sys,run,tmp,var/log,var/lib,root}
chmod 1777 "$tree/tmp"
install -m 0755 /bin/busybox "$tree/bin/busybox"
for a in $("$tree/bin/busybox" --list-full); do
	[ -e "$tree/$a" ] || [ -L "$tree/$a" ] || ln -s /bin/busybox "$tree/$a"
done
copy_with_libs() { # BIN DEST (stripped: ros builds with -g)
	install -D -s -m 0755 "$1" "$tree$2"
	local lib d have
	for lib in $(ldd "$1" | grep -oE '/[^ ]+'); do
		have=
		for d in lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu lib64; do
			[ -e "$tree/$d/${lib##*/}" ] && have=1
		done
		# a library no package provided: the build host's
		[ -n "$have" ] || install -D -m 0755 "$(readlink -f "$lib")" "$tree$lib"
	done
}
for b in "${ROS_BINS[@]}"; do
	[ -x "$bindir/$b" ] || { echo "mkimage: $name needs $bindir/$b: build it first" >&2; exit 1; }
	copy_with_libs "$bindir/$b" "/usr/bin/$b"
done
[ -d "$src/rootfs/images/$name" ] && cp -a "$src/rootfs/images/$name/." "$tree/"

# The users every image knows (services run as root or as these).
cat >"$tree/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
ros:x:1100:1100:ros:/home/ros:/bin/sh
sshd:x:100:65534::/run/sshd:/usr/sbin/nologin
_chrony:x:101:101:Chrony daemon:/var/lib/chrony:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
P
cat >"$tree/etc/group" <<'G'
root:x:0:
tty:x:5:
disk:x:6:
lp:x:7:
kmem:x:15:
dialout:x:20:
cdrom:x:24:
floppy:x:25:
tape:x:26:
audio:x:29:
video:x:44:
input:x:105:
kvm:x:106:
render:x:107:
sgx:x:108:
sudo:x:27:ros
docker:x:999:ros
_chrony:x:101:
ros:x:1100:
nogroup:x:65534:
G

printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$tree/etc/hosts"
customize
ln -sfn ../run/resolvconf/resolv.conf "$tree/etc/resolv.conf" # written by the network service

# --- prune: docs, man pages, locales, charset converters, init scripts ---
rm -rf "$tree"/usr/share/{doc,man,info,locale,lintian,bug,bash-completion,zsh,common-licenses,bash-completion} \
	"$tree"/usr/lib/x86_64-linux-gnu/gconv "$tree"/etc/init.d "$tree"/etc/rc?.d "$tree"/etc/systemd \
	"$tree"/lib/systemd/system "$tree"/usr/lib/systemd/system "$tree"/etc/cron.* "$tree"/etc/logrotate.d \
	"$tree"/usr/share/zoneinfo "$tree"/etc/default
rm -rf "$tree"/lib/udev/hwdb.d "$tree"/usr/lib/udev/hwdb.d # vendor names only: nothing ros needs
rm -rf "$tree"/usr/lib/x86_64-linux-gnu/krb5/plugins "$tree"/usr/lib/x86_64-linux-gnu/engines-3 \
	"$tree"/usr/lib/x86_64-linux-gnu/ossl-modules # kerberos and OpenSSL plugins: nothing here loads them
# headers, debugger scripts and other systems' hooks (AppArmor, apport,
# NetworkManager, dhclient, initramfs-tools, runit, pkg-config)
rm -rf "$tree"/usr/include "$tree"/usr/share/{gcc,gdb,apport,initramfs-tools,runit,pkgconfig} \
	"$tree"/usr/lib/x86_64-linux-gnu/pkgconfig "$tree"/etc/apparmor.d "$tree"/usr/lib/NetworkManager "$tree"/etc/dhcp

# --- keep only the shared libraries something in the image loads ---
libdirs=(lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu lib lib64 usr/lib usr/libexec/sudo)
is_lib() { case "$1" in */lib*.so | */lib*.so.*) return 0 ;; *) return 1 ;; esac; }
resolve() { # PATH in the tree: follows symlinks inside the tree, not the host's
	local p=$1 t n=0
	while [ -L "$p" ] && [ $n -lt 20 ]; do
		t=$(readlink "$p")
		case "$t" in /*) p=$tree$t ;; *) p=$(dirname "$p")/$t ;; esac
		n=$((n + 1))
	done
	echo "$p"
}
find_lib() { # SONAME: its path in the image
	local d
	for d in "${libdirs[@]}"; do [ -e "$tree/$d/$1" ] && { echo "$tree/$d/$1"; return 0; }; done
	return 1
}
# PAM modules matter only where something reads /etc/pam.d, and only
# those its files name (pam_userdb alone would keep libdb, 1.8 MB)
if [ -d "$tree/etc/pam.d" ]; then
	pam_used=" $(cat "$tree"/etc/pam.d/* 2>/dev/null | grep -v '^[[:space:]]*#' | grep -o 'pam_[a-z0-9_]*\.so' | sort -u | tr '\n' ' ') "
	for f in "$tree"/lib/x86_64-linux-gnu/security/pam_*.so "$tree"/usr/lib/x86_64-linux-gnu/security/pam_*.so; do
		[ -e "$f" ] || continue
		[[ "$pam_used" == *" $(basename "$f") "* ]] || rm -f "$f"
	done
else
	rm -rf "$tree"/lib/x86_64-linux-gnu/security "$tree"/usr/lib/x86_64-linux-gnu/security
fi
declare -A keep=() stubbed=()
queue=()
for soname in "${STUB_LIBS[@]}"; do # what they need is not followed: their stubs need nothing
	p=$(find_lib "$soname") && stubbed[$(resolve "$p")]=$soname
done
while IFS= read -r f; do
	head -c 4 "$f" 2>/dev/null | grep -q 'ELF' || continue
	# executables, PAM/NSS/sudo plugins and the loader are roots
	if ! is_lib "$f" || [[ "$f" == */security/* || "$f" == */sudo/* || "$f" == */ld-linux* ]]; then
		queue+=("$f")
	fi
done < <(find "$tree" -type f)
for soname in "${KEEP_LIBS[@]}"; do
	p=$(find_lib "$soname") || { echo "mkimage: $name: KEEP_LIBS $soname is not in the image" >&2; exit 1; }
	r=$(resolve "$p")
	keep[$r]=1
	queue+=("$r")
done
while [ ${#queue[@]} -gt 0 ]; do
	f=${queue[0]}
	queue=("${queue[@]:1}")
	[ -n "${stubbed[$f]:-}" ] && continue
	for lib in $(readelf -d "$f" 2>/dev/null | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
		p=$(find_lib "$lib") || continue
		r=$(resolve "$p")
		[ -n "${keep[$r]:-}" ] && continue
		keep[$r]=1
		queue+=("$r")
	done
done
while IFS= read -r f; do
	[[ "$f" == */security/* || "$f" == */sudo/* || "$f" == */ld-linux* ]] && continue
	r=$(resolve "$f")
	[ -n "${keep[$r]:-}" ] || rm -f "$f"
done < <(find "$tree"/lib "$tree"/usr/lib -type f \( -name 'lib*.so' -o -name 'lib*.so.*' \) 2>/dev/null)
while IFS= read -r l; do # dangling library links (judged inside the tree)
	[ -e "$(resolve "$l")" ] || rm -f "$l"
done < <(find "$tree"/lib "$tree"/usr/lib -type l \( -name 'lib*.so' -o -name 'lib*.so.*' \) 2>/dev/null)

# --- stubs (STUB_LIBS) ---
# A stub has the library's soname and defines exactly what the image's
# other ELF files take from it, at the versions they ask for: functions
# return 0 (NULL, or success where 0 means that: see STUB_LIBS; -1 for
# STUB_FAIL), variables are zeroed at their real sizes (copy relocations).
# Made from the users left after pruning, so images with the same users
# (libcurl) get the same file and share it in base.
make_stub() { # SONAME PATH: the real library at PATH becomes its stub
	local soname=$1 real=$2 gen f
	gen=$(mktemp -d)
	while IFS= read -r f; do
		[ -n "${stubbed[$(resolve "$f")]:-}" ] && continue # a stub's real library uses nothing
		head -c 4 "$f" 2>/dev/null | grep -q 'ELF' || continue
		readelf -d "$f" 2>/dev/null | grep -qF "Shared library: [$soname]" || continue
		# defined symbols too: a variable an executable copies (R_X86_64_COPY) is defined there
		nm -D -P "$f" 2>/dev/null | cut -d" " -f1 || true
	done < <(find "$tree" -type f) | sort -u >"$gen/wanted"
	# "name version type size" for each symbol of the real library asked
	# for by name@version or, unversioned, by name (the default version)
	nm -D -P -S --defined-only "$real" | awk -v wanted="$gen/wanted" '
		BEGIN { while ((getline l < wanted) > 0) want[l] = 1 }
		$2 != "A" {
			n = $1; sub(/@.*/, "", n)
			v = $1; if (!sub(/^[^@]*@@?/, "", v)) v = ""
			if (want[n "@" v] || (want[n] && (v == "" || $1 ~ /@@/)))
				print n, v, $2, ($4 == "" ? 8 : "0x" $4)
		}' | sort >"$gen/syms"
	if [ -n "$(cut -d' ' -f1 "$gen/syms" | uniq -d)" ]; then
		echo "mkimage: $name: stub $soname: a symbol asked for at two versions: $(cut -d' ' -f1 "$gen/syms" | uniq -d | head -1)" >&2
		exit 1
	fi
	awk -v fail="$STUB_FAIL" '$3 ~ /^[DdBbRrVvGgSs]$/ {print "char " $1 "[" $4 "] __attribute__((aligned(16)));"; next}
		{print "long " $1 "(void);\nlong " $1 "(void) { return " (index(fail, " " $1 " ") ? -1 : 0) "; }"}' \
		"$gen/syms" >"$gen/stub.c"
	# a version script: the versions asked for or, for an unversioned library, none
	if awk '$2 != "" {found = 1} END {exit !found}' "$gen/syms"; then
		awk 'NR == FNR {if ($2 != "" && first == "") first = $2; next}
			{v[$2 == "" ? first : $2] = v[$2 == "" ? first : $2] " " $1 ";"}
			END {for (k in v) print k " { global:" v[k] " };"}' "$gen/syms" "$gen/syms" | sort >"$gen/map"
	else
		awk 'BEGIN {printf "{ global:"} {printf " %s;", $1} END {print " local: *; };"}' "$gen/syms" >"$gen/map"
	fi
	gcc -shared -fPIC -O2 -s -nostdlib -fno-builtin -Wl,-soname,"$soname" -Wl,--version-script="$gen/map" \
		-o "$gen/stub.so" "$gen/stub.c"
	cp "$gen/stub.so" "$real" # keeps the path and mode: the links to it stay
	echo "  STUB    $name: $soname, $(wc -l <"$gen/syms") symbols" >&2
	rm -rf "$gen"
}
for real in "${!stubbed[@]}"; do
	if [ -e "$real" ]; then make_stub "${stubbed[$real]}" "$real"; fi
done

# --- TLS trust where libcurl is (registries, cloud-config and upgrade
# URLs over https): Mozilla's CA certificates from Debian's ca-certificates
# package, in one bundle as its update-ca-certificates writes it, at the
# path Debian's libcurl and OpenSSL read (not the build host's bundle,
# which may hold local CAs). Identical in every such image: it goes to base.
if find_lib libcurl.so.4 >/dev/null; then
	newest() { find "$cache" -maxdepth 1 -name 'ca-certificates_*.deb' -printf '%T@ %p\n' | sort -rn | head -1 | cut -d' ' -f2-; }
	deb=$(newest)
	if [ -z "$deb" ]; then
		(cd "$cache" && apt-get download -q -o APT::Sandbox::User=root ca-certificates >/dev/null)
		deb=$(newest)
	fi
	cas=$(mktemp -d)
	dpkg -x "$deb" "$cas"
	mkdir -p "$tree/etc/ssl/certs"
	# each file ends with a newline (awk adds a missing one)
	find "$cas/usr/share/ca-certificates/mozilla" -name '*.crt' | LC_ALL=C sort | while IFS= read -r f; do
		awk 1 "$f"
	done >"$tree/etc/ssl/certs/ca-certificates.crt"
	rm -rf "$cas"
	n=$(grep -c 'BEGIN CERTIFICATE' "$tree/etc/ssl/certs/ca-certificates.crt")
	[ "$n" -ge 100 ] || { echo "mkimage: $name: only $n CA certificates in $deb" >&2; exit 1; }
	echo "  CA      $name: $n certificates" >&2
fi

printf 'include /etc/ld.so.conf.d/*.conf\n' >"$tree/etc/ld.so.conf"
ldconfig -r "$tree" 2>/dev/null || true

# --- every ELF finds its libraries inside the image ---
missing=0
while IFS= read -r f; do
	head -c 4 "$f" 2>/dev/null | grep -q 'ELF' || continue
	for lib in $(readelf -d "$f" 2>/dev/null | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
		ok=0
		for d in "${libdirs[@]}"; do [ -e "$tree/$d/$lib" ] && ok=1 && break; done
		if [ $ok = 0 ]; then
			echo "mkimage: $name: ${f#"$tree"} needs $lib, which the image lacks" >&2
			missing=1
		fi
	done
done < <(find "$tree" -type f \( -perm -u+x -o -name '*.so*' \) ! -path '*/security/*')
[ $missing = 0 ] || exit 1

case $COMPRESS in zstd | xz) ;; *) echo "mkimage: $name: COMPRESS=$COMPRESS: zstd or xz" >&2; exit 1 ;; esac
echo "$COMPRESS" >"$outdir/.$name.compress"
for p in "${COLD[@]}"; do
	[ -e "$tree/$p" ] || { echo "mkimage: $name: COLD: $p is not in the image" >&2; exit 1; }
done
printf '%s\n' "${COLD[@]}" | sed '/^$/d' >"$outdir/.$name.cold"

chmod 0755 "$tree"
rm -rf "${outdir:?}/$name"
mv "$tree" "$outdir/$name"
trap - EXIT
echo "  TREE    $outdir/$name $(du -sh "$outdir/$name" | cut -f1)" >&2
