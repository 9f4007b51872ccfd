#!/bin/sh
# tests/bench/local.sh - the local hosts: base image restore, and nspawn
# hosts from `mvm-provision` to stage=init and back through mvm-teardown,
# for 1, 2 and 4 hosts (3 runs each). MVM_BENCH_VM=1 adds one qemu boot.
# Needs root, systemd-nspawn and the image (make image); else it says why.
# Prints a markdown table for BENCHMARKS.md.
set -u
: "${TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
cache=${MVM_CACHE:-/var/cache/mvmbox}
if [ "$(id -u)" != 0 ] || ! command -v systemd-nspawn > /dev/null 2>&1; then
  echo "local: skipped (needs root and systemd-nspawn)"
  exit 0
fi
MVM_IMAGE_NOEXT4=1 sh "$TOP/tests/hosts/mkrootfs.sh" 2> /dev/null || {
  echo "local: skipped (no base image: make image)"; exit 0; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mvmbench-local.XXXXXX")
export MVM_STATE_DIR="$tmp/state" MVM_SSH_KEY="$tmp/key"
trap 'mvm-teardown nspawn > /dev/null 2>&1; mvm-teardown qemu > /dev/null 2>&1;
  rm -rf "$tmp"' EXIT INT TERM
ssh-keygen -q -t ed25519 -N '' -f "$tmp/key"
now() { date +%s.%N; }
dt() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
# median of three
med() { printf '%s\n' "$@" | sort -n | sed -n 2p; }

echo "| step | hosts | median of 3 (s) | runs (s) |"
echo "|---|---|---|---|"

# Restore of the cached tarball into a scratch cache (the real one stays).
key=$(basename "$(readlink "$cache/current")" | sed 's/^img-//')
if [ -f "$cache/rootfs-$key.tar.zst" ]; then
  runs=""
  for _ in 1 2 3; do
    mkdir -p "$tmp/cache"
    ln -f "$cache/rootfs-$key.tar.zst" "$tmp/cache/" 2> /dev/null ||
      cp "$cache/rootfs-$key.tar.zst" "$tmp/cache/"
    a=$(now)
    MVM_CACHE=$tmp/cache MVM_IMAGE_NOEXT4=1 \
      sh "$TOP/tests/hosts/mkrootfs.sh" 2> /dev/null
    runs="$runs $(dt "$a" "$(now)")"
    rm -rf "$tmp/cache"
  done
  # shellcheck disable=SC2086
  echo "| image restore from tarball (nspawn rootfs) | - | $(med $runs) |$runs |"
fi

for n in 1 2 4; do
  up="" down=""
  for _ in 1 2 3; do
    a=$(now)
    mvm-provision -q -n "$n" -l "bench-$n" -k "$tmp/key.pub" nspawn |
      mvm-waitinit -q > "$tmp/recs"
    b=$(now)
    mvm-teardown -q < "$tmp/recs" > /dev/null
    c=$(now)
    [ "$(grep -c ' stage=init' "$tmp/recs")" = "$n" ] || echo "local: run failed"
    up="$up $(dt "$a" "$b")" down="$down $(dt "$b" "$c")"
  done
  # shellcheck disable=SC2086
  echo "| nspawn: provision -> waitinit (stage=init) | $n | $(med $up) |$up |"
  # shellcheck disable=SC2086
  echo "| nspawn: teardown (clean poweroff) | $n | $(med $down) |$down |"
done

if [ "${MVM_BENCH_VM:-0}" = 1 ]; then
  sh "$TOP/tests/hosts/mkrootfs.sh" 2> /dev/null
  a=$(now)
  mvm-provision -q -l bench-vm -k "$tmp/key.pub" qemu |
    mvm-waitinit -q -t 300 > "$tmp/recs"
  b=$(now)
  mvm-teardown -q < "$tmp/recs" > /dev/null
  c=$(now)
  echo "| qemu: provision -> waitinit (one run) | 1 | $(dt "$a" "$b") | - |"
  echo "| qemu: teardown (ACPI poweroff) | 1 | $(dt "$b" "$c") | - |"
fi
echo
echo "command: sh tests/bench/run.sh local (MVM_BENCH_VM=1 for qemu)"
