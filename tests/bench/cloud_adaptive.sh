#!/bin/sh
# tests/bench/cloud_adaptive.sh - the adaptive shared rate against a fake
# Vultr API (tests/servers/fakecloud.py on 127.0.0.1; no real cloud is
# called) that counts requests per wall-clock second and answers the 11th
# of a second 429 (Retry-After: 1), as Vultr does. ADAPT_N hosts (default
# 200) as ADAPT_N/100 concurrent mvm-provision -n 100 vultr with no
# MVM_VULTR_RATE (the default ceiling, 20/s, is over the limit), then
# mvm-teardown vultr. Reports wall against the floor (requests the fake
# accepted / 10 per second), the share of 429s, and what is left.
set -u
: "${TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
N=${ADAPT_N:-200}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mvmbench-adapt.XXXXXX")
cd "$tmp" || exit 1
export MVM_STATE_DIR="$tmp/state" XDG_STATE_HOME="$tmp/xdg" HOME="$tmp"
export VULTR_API_KEY=test-vultr-key SSH_PUBKEY="$tmp/op.pub" MVM_CLOUD_POLL_S=1
unset MVM_VULTR_RATE
trap 'fake_stop; rm -rf "$tmp"' EXIT INT TERM
ssh-keygen -q -t ed25519 -N '' -f "$tmp/op"
. "$TOP/tests/servers/fake.sh"
now() { date +%s.%N; }
stat_of() { fake_get /_fake/state | python3 -c 'import json,sys
d=json.load(sys.stdin); print(d["requests"], d["counts"].get("429", 0))'; }
# --page-max 0: pages of the API's 500 (the tests' 2 would make each
# listing of 200 hosts 100 pages).
fake_start vultr --window 10 --check 0 --page-max 0 || exit 1
export MVM_VULTR_ENDPOINT=$FAKE_URL
procs=$(( (N + 99) / 100 ))
t0=$(now) i=0 pids=
while [ "$i" -lt "$procs" ]; do
  mvm-provision -n 100 -l a$i vultr > "a$i.out" 2> "a$i.err" &
  pids="$pids $!"
  i=$((i + 1))
done
# shellcheck disable=SC2086
wait $pids
t1=$(now)
made=$(cat a*.out | grep -c '^127')
read -r req c429 <<EOF
$(stat_of)
EOF
t2=$(now)
mvm-teardown vultr > down.out 2> down.err; rc=$?
t3=$(now)
read -r dreq d429 <<EOF
$(stat_of)
EOF
dreq=$((dreq - req)) d429=$((d429 - c429))
left=$(fake_n)
echo "| fake Vultr, 10 req/s per second window, no MVM_VULTR_RATE | hosts | wall (s) | floor (s) | wall/floor | requests | 429s |"
echo "|---|---|---|---|---|---|---|"
awk -v n="$made" -v p="$procs" -v t="$t0" -v u="$t1" -v r="$req" -v c="$c429" 'BEGIN {
  f = (r - c) / 10; printf "| %d x mvm-provision -n 100 vultr | %d | %.1f | %.1f | %.2fx | %d | %d (%.1f %%) |\n", p, n, u - t, f, (u - t) / f, r, c, 100 * c / r }'
awk -v n="$(grep -c stage=down down.out)" -v t="$t2" -v u="$t3" -v r="$dreq" -v c="$d429" -v l="$left" -v rc="$rc" 'BEGIN {
  f = (r - c) / 10; printf "| mvm-teardown vultr (exit %d, %d left) | %d | %.1f | %.1f | %.2fx | %d | %d (%.1f %%) |\n", rc, l, n, u - t, f, (u - t) / f, r, c, 100 * c / r }'
tail -n 1 down.err
# Where provision's requests went: creates against the polls of hosts
# waiting for their address (both spend the same per-second budget).
fake_get /_fake/state | python3 -c 'import json,sys
print("requests by kind at the end:", json.load(sys.stdin)["counts"])'
