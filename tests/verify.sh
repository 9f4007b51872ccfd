#!/bin/sh
# tests/verify.sh - `make verify`: the verification matrix of this machine.
# For each provider of VERIFY_PROVIDERS (default nspawn; qemu too where it
# boots) the whole pipeline, one host:
#   mvm-provision P | mvm-waitinit | mvm-sync tests/fixtures/mvm
#     tests/fixtures/mvmd | mvm-postdeploy | mvm-kvmcheck |
#     mvm-run --stage smoke 'bash ~/smoke-mvmd.sh' | mvm-teardown
# each run's records kept in $VERIFY_DIR (default ./verify-runs), then
# mvm-report of them all. A host that fails a step keeps flowing (the
# later steps pass it on: '-' in the matrix) to teardown. The exit status
# is mvm-report's: 0 only when every row is verified. Needs root for
# nspawn (and the cached image: tests/hosts/mkrootfs.sh).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/hosts/operator.sh"
operator_scratch mvmverify "$top/mvmbox"
trap 'rm -rf "$tmp"' EXIT INT TERM
out=${VERIFY_DIR:-$PWD/verify-runs}
mkdir -p "$out"
providers=${VERIFY_PROVIDERS:-nspawn}
MVM_IMAGE_NOEXT4=1 sh "$top/tests/hosts/mkrootfs.sh" >&2 || exit 1
operator_env "$tmp" mvm-verify
fx=$top/tests/fixtures
stamp=$(date -u +%Y%m%dT%H%M%SZ)
for p in $providers; do
  label=mvm-verify-$p-$$
  trap 'mvm-teardown "$p" "$label" > /dev/null 2>&1; rm -rf "$tmp"' \
    EXIT INT TERM
  echo "+ verify $p: provision | waitinit | sync | postdeploy | kvmcheck |" \
    "run --stage smoke | teardown" >&2
  mvm-provision -l "$label" -k "$MVM_SSH_KEY.pub" "$p" |
    mvm-waitinit | mvm-sync "$fx/mvm" "$fx/mvmd" | mvm-postdeploy |
    mvm-kvmcheck | mvm-run --stage smoke 'bash ~/smoke-mvmd.sh' |
    mvm-teardown > "$out/$p-$stamp.rec"
  trap 'rm -rf "$tmp"' EXIT INT TERM
done
cd "$out" || exit 1
# shellcheck disable=SC2046
cat $(for p in $providers; do echo "$p-$stamp.rec"; done) | mvm-report
