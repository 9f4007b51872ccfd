#!/bin/sh
# tests/bench/startup.sh - what an applet costs before it does anything
# (issue 19): median wall time of 40 runs and peak RSS of `mvmbox --help`,
# `--version`, a few applets' --help and an mvm-report of a small record
# file (no HTTP, no tar stream), beside a libc-only binary, for mvmbox as
# built (libcurl, libarchive, libssh2, libcrypto loaded at first use) and
# for the same objects linked the old way, every library NEEDED at start.
# The three run in turn (runstat.c), so the load hits them alike; the
# ratios are the median of each round's over the libc-only binary's; the
# goal is <= 2x. Prints a markdown table for BENCHMARKS.md.
set -u
: "${TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${MVMBOX:=$TOP/mvmbox}"
n=${MVM_BENCH_RUNS:-40}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mvmbench-startup.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
cc -O2 -o "$tmp/runstat" "$TOP/tests/bench/runstat.c" || exit 1
printf 'int main(void){return 0;}\n' > "$tmp/empty.c"
cc -O2 -o "$tmp/libc-only" "$tmp/empty.c" || exit 1
# "linked": the objects of this build, every library NEEDED (as before
# issue 19); --no-as-needed keeps the ones whose symbols mvmbox defines.
mkdir "$tmp/linked"
# shellcheck disable=SC2046 # pkg-config prints words: split them
(cd "$TOP" && cc -o "$tmp/linked/mvmbox" applets/*.o lib/*.o providers/*.o \
  probe/embed.o -Wl,--no-as-needed $(pkg-config --libs libcurl libssh2 \
  yaml-0.1 openssl zlib jansson expat libarchive)) || exit 1

# A small record file for mvm-report: three hosts' lives, all verified
# (runstat times only runs that exit 0).
for i in 1 2 3; do
  echo "127.0.0.$i:22 provider=nspawn id=mvm-$i type=nspawn region=local" \
    "created=2026-12-06T17:00:00Z provision_s=3.0 price=0 init_s=4.0" \
    "sync_s=1.0 ready_s=9.0 kvm=ok kvm_s=2.0 smoke_s=1.0 stage=down" \
    "lived=60 down_s=0.3"
done > "$tmp/records"

echo "command: sh tests/bench/startup.sh ($n runs each, in turn; medians;"
echo "ratio: median of the runs' over the libc-only run beside; RSS: max)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| command | libc-only (ms) | linked (ms) | lazy (ms) | linked / libc-only | lazy / libc-only | libc-only RSS (KB) | linked RSS (KB) | lazy RSS (KB) |"
echo "|---|---|---|---|---|---|---|---|---|"
row() {   # row [< FILE] ARG...: the three in turn, one runstat
  "$tmp/runstat" "$n" "$tmp/libc-only" -- "$tmp/linked/mvmbox" "$@" -- \
    "$MVMBOX" "$@" > "$tmp/row" || exit 1
  # shellcheck disable=SC2046 # three lines of three numbers
  set -- "$*${label:-}" $(cat "$tmp/row")
  echo "| mvmbox $1 | $2 | $5 | $8 | $7x | ${10}x | $3 | $6 | $9 |"
}
row --help
row --version
row mvm-kvmcheck --help
row mvm-provision nspawn --help
row mvm-sync --help
row mvm-teardown --help
label=" < 3 records" row mvm-report < "$tmp/records"
