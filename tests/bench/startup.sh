#!/bin/sh
# tests/bench/startup.sh - what an applet costs before it does anything
# (issue 19): median wall time of 40 runs and peak RSS of `mvmbox
# --version` and of a few applets' --help, beside a libc-only binary, for
# mvmbox as built (libcurl and libarchive loaded at first use) and for the
# same objects linked the old way, with every library NEEDED at start.
# Prints a markdown table for BENCHMARKS.md.
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

echo "command: sh tests/bench/startup.sh ($n runs each, median; RSS = max)"
echo
echo "| command | libc-only (ms) | linked (ms) | lazy (ms) | linked RSS (KB) | lazy RSS (KB) | libc-only RSS (KB) |"
echo "|---|---|---|---|---|---|---|"
row() {   # side by side: the machine is shared, its load changes
  base=$("$tmp/runstat" "$n" "$tmp/libc-only")
  old=$("$tmp/runstat" "$n" "$tmp/linked/mvmbox" "$@")
  new=$("$tmp/runstat" "$n" "$MVMBOX" "$@")
  echo "| mvmbox $* | ${base% *} | ${old% *} | ${new% *} | ${old#* } | ${new#* } | ${base#* } |"
}
row --version
row mvm-kvmcheck --help
row mvm-provision nspawn --help
row mvm-sync --help
row mvm-teardown --help
