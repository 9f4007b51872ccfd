#!/bin/sh
# tests/bench/run.sh - `make bench`: run every tests/bench/*.sh benchmark in
# turn. Each prints its own table (and the command that produced it) for
# BENCHMARKS.md. Benchmarks use loopback and this machine's test hosts only.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
export TOP="$top" MVMBOX="${MVMBOX:-$top/mvmbox}"
bin=$(mktemp -d "${TMPDIR:-/tmp}/mvmbench.XXXXXX")
trap 'rm -rf "$bin"' EXIT INT TERM
"$MVMBOX" --install -s "$bin"
PATH=$bin:$PATH
export PATH
rc=0
for b in "$top"/tests/bench/*.sh; do
  [ "$(basename "$b")" = run.sh ] && continue
  if [ $# -gt 0 ]; then
    case " $* " in *" $(basename "$b" .sh) "*) ;; *) continue;; esac
  fi
  echo "== $(basename "$b" .sh)"
  sh "$b" || rc=1
done
exit $rc
