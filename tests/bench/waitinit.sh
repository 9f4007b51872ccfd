#!/bin/sh
# tests/bench/waitinit.sh - how fast mvm-waitinit notices that cloud-init
# is done, and how many SSH connections and `cloud-init status` runs (each
# a Python start on a real host) it costs, against the original's shell
# loop `until ssh HOST cloud-init status | grep -q done; do sleep 5; done`.
# Loopback sshd + the cloud-init shim flipping to done DELAY s after start.
# Usage: sh tests/bench/waitinit.sh [RUNS [DELAY]]   (default 5 runs, 4 s)
set -u
: "${TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${MVMBOX:=$TOP/mvmbox}"
export TOP
. "$TOP/tests/servers/sshd.sh"
runs=${1:-5} delay=${2:-4}
have_sshd || { echo "waitinit bench: no sshd, skipped"; exit 0; }
start_sshd > /dev/null || exit 1
trap 'stop_sshd' EXIT INT TERM
out=$(mktemp -d "${TMPDIR:-/tmp}/mvmbenchw.XXXXXX")
ssh_opts="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
  -o BatchMode=yes -o LogLevel=ERROR -i $SSH_KEY -p $SSHD_PORT"

now() { date +%s.%N; }
accepted() { grep -c 'Accepted publickey' "$SSHD_LOG"; }
calls() { wc -l < "$SSHD_SHIMS/calls" 2> /dev/null || echo 0; }

# reset: the shim runs `delay` s from now, then reports done; prints ready
reset() {
  rm -f "$SSHD_SHIMS/calls" "$SSHD_SHIMS/done_at"
  echo "done" > "$SSHD_SHIMS/mode"
  echo "$1" > "$SSHD_SHIMS/delay"
  t=$(now)
  echo "$t" > "$SSHD_SHIMS/started"
  awk -v t="$t" -v d="$1" 'BEGIN { printf "%.6f\n", t + d }'
}

# one run of a waiter (a shell command) with the shim done after $2 s,
# prints "latency conns calls"
one() {
  ready=$(reset "$2") a0=$(accepted)
  sh -c "$1" > /dev/null 2>&1
  t=$(now)
  printf '%s %s %s\n' "$(awk -v t="$t" -v r="$ready" \
    'BEGIN { printf "%.3f", t - r }')" $(($(accepted) - a0)) "$(calls)"
}

w="echo '$SSHD_ADDR user=$SSHD_USER' | '$MVMBOX' mvm-waitinit -q -i $SSH_KEY"
l="until ssh $(echo $ssh_opts) $SSHD_USER@127.0.0.1 cloud-init status |
     grep -q 'status: done'; do sleep 5; done"
i=0
while [ $i -lt "$runs" ]; do
  # run i is done after DELAY + i s: the shell loop's 5 s phase varies
  one "$w" $((delay + i)) >> "$out/w"
  one "$l" $((delay + i)) >> "$out/l"
  i=$((i + 1))
done

# -j: 20 hosts (records) at once against the same sshd
ready=$(reset "$delay") a0=$(accepted)
(i=0; while [ $i -lt 20 ]; do echo "$SSHD_ADDR user=$SSHD_USER n=$i"; i=$((i+1)); done) |
  "$MVMBOX" mvm-waitinit -q -j 20 -i "$SSH_KEY" | while read -r _; do now; done > "$out/j"
jlast=$(sort -n "$out/j" | tail -n 1)
jlat=$(awk -v t="$jlast" -v r="$ready" 'BEGIN { printf "%.3f", t - r }')
jconn=$(($(accepted) - a0)) jcalls=$(calls)

stats() {  # min / median / max of column $2 of file $1
  cut -d' ' -f"$2" "$1" | sort -n | awk '{ v[NR] = $1 }
    END { printf "%s / %s / %s", v[1], v[int((NR + 1) / 2)], v[NR] }'
}
echo "waitinit: $runs runs, cloud-init shim done $delay..$((delay + runs - 1))s after start (loopback)"
echo
echo "| waiter | done -> record (s) min/median/max | ssh connections | cloud-init status runs |"
echo "|---|---|---|---|"
echo "| mvm-waitinit | $(stats "$out/w" 1) | $(stats "$out/w" 2) | $(stats "$out/w" 3) |"
echo "| shell loop, ssh + sleep 5 | $(stats "$out/l" 1) | $(stats "$out/l" 2) | $(stats "$out/l" 3) |"
echo "| mvm-waitinit -j 20, 20 hosts | $jlat (last record) | $jconn | $jcalls |"
echo
echo "command: sh tests/bench/waitinit.sh $runs $delay"
rm -rf "$out"
