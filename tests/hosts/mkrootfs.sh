#!/bin/sh
# tests/hosts/mkrootfs.sh - build (or restore) the Debian 12 base image the
# nspawn and qemu providers boot: `make image`.
#
# Output, under ${MVM_CACHE:-/var/cache/mvmbox}:
#   rootfs-KEY.tar.zst   the cached tarball (KEY = hash of packages + mirror)
#   img-KEY/rootfs/      the unpacked tree (nspawn boots it --volatile=overlay)
#   img-KEY/vmlinuz, initrd.img, base.ext4   for qemu (-kernel/-initrd)
#   current -> img-KEY   what the providers use
# A warm run (tarball present) restores in seconds; build and cache times are
# printed. The mirror is the one this machine's apt uses (never hard-coded).
# Env: MVM_CACHE, MVM_IMAGE_TOOLCHAIN=0 (leave out cargo+gcc),
#      MVM_IMAGE_NOEXT4=1 (skip the qemu disk), MVM_IMAGE_REBUILD=1.
# Needs root, mmdebstrap, zstd; mkfs.ext4 for the qemu disk.
set -eu

cache=${MVM_CACHE:-/var/cache/mvmbox}
suite=bookworm
pkgs="systemd systemd-sysv udev dbus openssh-server cloud-init sudo tar rsync
 iproute2 locales python3-cffi-backend ca-certificates netbase e2fsprogs
 linux-image-cloud-amd64 initramfs-tools"
[ "${MVM_IMAGE_TOOLCHAIN:-1}" = 0 ] || pkgs="$pkgs cargo gcc libc6-dev"
# Bump when the tweaks below change, so the cache key changes too.
tweaks=3

say() { printf 'mkrootfs: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

[ "$(id -u)" = 0 ] || die "needs root (mmdebstrap --mode=root, chroot)"

# The Debian mirror of this machine's apt: one-line sources.list entries and
# deb822 .sources stanzas, first URI that serves $suite (or a -security one).
mirror_of() {   # $1: suite pattern for awk
  {
    [ -f /etc/apt/sources.list ] && cat /etc/apt/sources.list
    for f in /etc/apt/sources.list.d/*.list; do [ -f "$f" ] && cat "$f"; done
  } | awk -v s="$1" '$1 == "deb" {
      i = 2; if ($2 ~ /^\[/) while ($i !~ /\]$/) i++; if ($2 ~ /^\[/) i++
      if ($(i + 1) ~ s) { print $i; exit } }'
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v s="$1" 'BEGIN { RS = ""; FS = "\n" } {
        u = ""; ok = 0; deb = 0
        for (j = 1; j <= NF; j++) {
          if ($j ~ /^Types:/ && $j ~ /[ \t]deb([ \t]|$)/) deb = 1
          if ($j ~ /^URIs:/) { split($j, w, /[ \t]+/); u = w[2] }
          if ($j ~ /^Suites:/) {
            n = split($j, w, /[ \t]+/)
            for (k = 2; k <= n; k++) if (w[k] ~ s) ok = 1
          }
        }
        if (deb && ok && u != "") { print u; exit } }' "$f"
  done
}
mirror=$(mirror_of "^$suite\$" | head -n 1)
security=$(mirror_of "^$suite-security\$" | head -n 1)
[ -n "$mirror" ] || die "no Debian $suite mirror in /etc/apt/sources.list{,.d}"

# shellcheck disable=SC2086
key=$(printf '%s\n' "$suite" "$mirror" "$security" $pkgs "tweaks=$tweaks" |
      sha256sum | cut -c1-12)
tarball=$cache/rootfs-$key.tar.zst
img=$cache/img-$key
mkdir -p "$cache"

# Only one builder at a time (parallel `make image` / e2e runs).
exec 9> "$cache/.lock"
flock 9

# The rootfs: restored from the tarball, or bootstrapped and tweaked.
build_rootfs() {
  if [ -f "$tarball" ]; then
    say "restoring $tarball"
    mkdir -p "$img/rootfs.tmp"
    zstd -q -d -c "$tarball" |
      tar -C "$img/rootfs.tmp" --numeric-owner --xattrs -xf -
    mv "$img/rootfs.tmp" "$img/rootfs"
    say "restored in $(since "$t0") s"
    return
  fi
  say "building $suite rootfs from $mirror (key $key)"
  root=$cache/.build-$key
  srcs="deb $mirror $suite main
deb $mirror $suite-updates main"
  [ -n "$security" ] && srcs="$srcs
deb $security $suite-security main"
  # shellcheck disable=SC2086
  mmdebstrap --quiet --variant=minbase --mode=root \
    --aptopt='Acquire::Check-Valid-Until "false"' \
    --aptopt='Acquire::Check-Date "false"' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --include="$(echo $pkgs | tr ' ' ',')" \
    "$suite" "$root" "$srcs" >&2
  say "mmdebstrap took $(since "$t0") s"
  t1=$(now)
  sh "$(dirname "$0")/tweak.sh" "$root"
  say "tweaks took $(since "$t1") s"
  t1=$(now)
  tar -C "$root" --numeric-owner --xattrs -cf - . |
    zstd -q -3 -T0 -o "$tarball.tmp"
  mv "$tarball.tmp" "$tarball"
  say "cached $(du -h "$tarball" | cut -f1) tarball in $(since "$t1") s:" \
      "$tarball"
  mkdir -p "$img"
  mv "$root" "$img/rootfs"
}

[ "${MVM_IMAGE_REBUILD:-0}" = 1 ] && rm -rf "$tarball" "$img"
t0=$(now)
if [ -f "$img/.done" ]; then
  say "rootfs $key cached in $img"
else
  rm -rf "$img" "$cache/.build-$key"
  build_rootfs
  # qemu boots the rootfs's own kernel and initrd (-kernel/-initrd).
  k=$(find "$img/rootfs/boot" -name 'vmlinuz-*' | sort | tail -n 1)
  cp "$k" "$img/vmlinuz"
  cp "$img/rootfs/boot/initrd.img-${k##*/vmlinuz-}" "$img/initrd.img"
  touch "$img/.done"
fi
# The qemu disk (raw ext4, about 7 s): skipped with MVM_IMAGE_NOEXT4=1 for
# nspawn-only use, made by the next run that wants it.
if [ "${MVM_IMAGE_NOEXT4:-0}" != 1 ] && [ ! -f "$img/base.ext4" ]; then
  t1=$(now)
  truncate -s 4G "$img/base.ext4.tmp"
  mkfs.ext4 -q -F -L root -d "$img/rootfs" "$img/base.ext4.tmp"
  mv "$img/base.ext4.tmp" "$img/base.ext4"
  say "qemu disk in $(since "$t1") s"
fi
ln -sfn "img-$key" "$cache/current"
# Older images: keep their tarballs, drop the unpacked trees.
for d in "$cache"/img-*; do
  [ "$d" = "$img" ] || rm -rf "$d"
done
say "image $key ready in $img ($(since "$t0") s)"
