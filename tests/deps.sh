#!/bin/sh
# tests/deps.sh - install everything mvmbox needs to build and test on
# Debian 12 (root, non-interactive). Safe to run again.
set -eu
pkgs="build-essential pkg-config libcurl4-openssl-dev libssh2-1-dev
 libyaml-dev libssl-dev zlib1g-dev libjansson-dev libexpat1-dev
 libarchive-dev openssh-server openssh-client rsync tar mandoc shellcheck
 cppcheck clang libclang-rt-14-dev valgrind hyperfine systemd-container
 mmdebstrap debootstrap debian-archive-keyring qemu-system-x86 qemu-utils
 genisoimage zstd iproute2 cloud-init python3 python3-yaml shfmt curl
 python3-jsonschema python3-cryptography"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
    missing="$missing $p"
done
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
# Every nspawn test host's systemd, journald and logind take inotify
# instances from root's one budget (the kernel counts per user, across
# containers): the default of 128 runs out at about 15 hosts at once.
want=1024
have=$(cat /proc/sys/fs/inotify/max_user_instances 2>/dev/null || echo "$want")
if [ "$have" -lt "$want" ]; then
  $SUDO sysctl -q -w fs.inotify.max_user_instances="$want" ||
    echo "deps: cannot raise fs.inotify.max_user_instances ($have)" >&2
fi
[ -z "$missing" ] && exit 0
$SUDO apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
  --no-install-recommends $missing
