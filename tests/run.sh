#!/bin/sh
# tests/run.sh - run the unit binary and every tests/*.test file (or the ones
# named: "sync" runs tests/sync.test). Each .test runs in a fresh scratch
# directory with the applet links on PATH and $C naming the applet.
# The last line is "N passed, N failed, N skipped"; the exit status is 1 if
# anything failed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
: "${MVMBOX:=$top/mvmbox}" "${UNIT:=$top/tests/unit/unit}" "${VERBOSE:=}"
export MVMBOX VERBOSE TOP="$top"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/mvmtest.XXXXXX")
trap 'rm -rf "$scratch"' EXIT INT TERM
mkdir "$scratch/bin"
"$MVMBOX" --install -s "$scratch/bin" || { echo "mvmbox --install failed"; exit 1; }
ln -s "$MVMBOX" "$scratch/bin/mvmbox"
PATH=$scratch/bin:$PATH
export PATH BINDIR="$scratch/bin"
# No test may reach a real cloud API, even one whose fake failed to start:
# every provider's endpoint is a closed loopback port until a test points
# it at its fake.
for e in AWS AWS_CHECKIP GCP GCP_TOKEN AZURE OVH HETZNER VULTR LATITUDE \
  EQUINIX; do
  export "MVM_${e}_ENDPOINT=http://127.0.0.1:9"
done
export MVM_AZURE_AUTHORITY=http://127.0.0.1:9
# Google's own override: no test reaches a real GCE metadata server, not
# even on a GCE VM (it wins over the VM's DMI product name).
export GCE_METADATA_HOST=127.0.0.1:9

passes=0 fails=0 skips=0
if [ $# -eq 0 ] || [ "$1" = unit ]; then
  out=$("$UNIT" 2>&1); rc=$?
  printf '%s\n' "$out" | grep -v '^PASS' || true
  p=$(printf '%s\n' "$out" | sed -n 's/^unit: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
  f=$(printf '%s\n' "$out" | sed -n 's/^unit: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
  if [ -z "$p" ]; then p=0 f=1; echo "FAIL: unit binary crashed (rc=$rc)"; fi
  passes=$((passes + p)) fails=$((fails + f))
  [ $# -gt 0 ] && shift
fi

if [ $# -eq 0 ]; then
  # shellcheck disable=SC2046
  set -- $(cd "$top/tests" && ls ./*.test | sed 's|^\./||; s|\.test$||')
fi
for t in "$@"; do
  f="$top/tests/$t.test"
  [ -f "$f" ] || { echo "FAIL: no such test file: tests/$t.test"; fails=$((fails + 1)); continue; }
  d="$scratch/$t"; mkdir -p "$d"
  res=$(cd "$d" && C="mvm-$t" TESTFILE="$t.test" PASSES=0 FAILS=0 SKIPS=0 \
        sh -c '. "$TOP/tests/testing.sh"; . "$1"; echo "@@ $PASSES $FAILS $SKIPS"' \
        sh "$f" 2>&1)
  printf '%s\n' "$res" | grep -v '^@@ '
  counts=$(printf '%s\n' "$res" | sed -n 's/^@@ //p' | tail -n 1)
  if [ -n "$counts" ]; then
    read -r p f s <<EOF2
$counts
EOF2
    passes=$((passes + p)) fails=$((fails + f)) skips=$((skips + s))
  else
    echo "FAIL: tests/$t.test did not finish"; fails=$((fails + 1))
  fi
done
echo "$passes passed, $fails failed, $skips skipped"
[ "$fails" -eq 0 ]
