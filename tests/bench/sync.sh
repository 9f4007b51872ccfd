#!/bin/sh
# tests/bench/sync.sh - mvm-sync against rsync, side by side in one run:
# a copy of /usr/include (on tmpfs) to a loopback sshd, destinations on
# /dev/shm (on disk, write noise swings single runs by 3x). Runs are
# interleaved (mvm, rsync, mvm, ...) so load from anything else on the box
# hits both. Prints medians (and min-max) of BENCH_RUNS (default 5) runs
# and the ratios, of the medians and the median of each run's ratio:
#   1. initial sync wall time, vs rsync -a -e ssh
#   2. no-change re-sync wall time, vs rsync -a
#   3. one file changed (a few bytes in a 30-50 KB header): bytes on the
#      wire both ways, counted by a TCP proxy, mvm-sync -z vs rsync -az
#   4. peak RSS of the local side (GNU time %M: the process and children)
#   and, for context, the local side's CPU time (user+sys) of the initial
#   sync; the remote side's (sshd, tar or rsync) is not counted.
# Each login is measured in its own set: the sshd user and, when run as
# root, root too (its tar keeps owners and modes); BENCH_LOGINS="a b" picks
# others. A root login's bash reads ~/.bashrc for every command sshd starts
# (Debian builds bash with SSH_SOURCE_BASHRC), and a developer box's root rc
# can cost seconds (pyenv init: 1 s idle, 3-7 s loaded, here), paid once by
# each tool per sync: the sessions get SHLVL=1, which makes bash skip it, so
# the bench times the tools and not the rc. BENCH_ROOT_RC=1 keeps the rc.
# Needs /usr/sbin/sshd, rsync, python3 (the proxy), GNU time.
set -u
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
TOP=$top
M=${MVMBOX:-$top/mvmbox}
RUNS=${BENCH_RUNS:-5}
TREE=${BENCH_TREE:-/usr/include}
. "$top/tests/servers/sshd.sh"
for t in /usr/sbin/sshd rsync python3 /usr/bin/time; do
  command -v "$t" > /dev/null || { echo "sync bench: no $t, skipped"; exit 0; }
done

if [ "${BENCH_ROOT_RC:-0}" = 1 ]; then
  start_sshd > /dev/null || exit 1
else
  SSHD_SETENV=SHLVL=1 start_sshd > /dev/null || exit 1
fi
W=$(mktemp -d /dev/shm/mvmbench.XXXXXX)
PROXY_PID=
cleanup() {
  [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2> /dev/null
  stop_sshd; rm -rf "$W"
}
trap cleanup EXIT INT TERM
chmod 0755 "$W"
mkdir "$W/src"
cp -a "$TREE/." "$W/src/include"
SRC=$W/src/include

# The wire counter: a TCP proxy to the sshd that appends "up down" bytes of
# each connection to $W/wire when it closes.
python3 "$top/tests/servers/countproxy.py" "$SSHD_PORT" "$W/wire" > "$W/proxy.port" &
PROXY_PID=$!
i=0
while [ ! -s "$W/proxy.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
PPORT=$(cat "$W/proxy.port")

# t FILE CMD: append "seconds maxrss_kb cpu_s" of the sh command CMD to FILE
t() {
  /usr/bin/time -f '%e %M %U %S' -o "$W/t.out" sh -c "$2" > /dev/null 2> "$W/err" ||
    { echo "sync bench: failed: $2"; cat "$W/err"; exit 1; }
  awk '{ print $1, $2, $3 + $4 }' "$W/t.out" >> "$W/$1"
}
# wire FILE CMD: run CMD through the proxy, append its total bytes to FILE
wire() {
  : > "$W/wire"
  sh -c "$2" > /dev/null 2> "$W/err" ||
    { echo "sync bench: failed: $2"; cat "$W/err"; exit 1; }
  i=0
  while [ ! -s "$W/wire" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
  awk '{ s += $1 + $2 } END { print s }' "$W/wire" >> "$W/$1"
}

# bench LOGIN: RUNS rounds of mvm-sync and rsync in turn, into $W/LOGIN.*
bench() {
  L=$1 D=$W/dst-$1
  mkdir -p "$D"; chown "$L" "$D" 2> /dev/null
  REC="$SSHD_ADDR user=$L hostkey=$SSHD_HOSTKEY_FP"
  PREC="127.0.0.1:$PPORT user=$L hostkey=$SSHD_HOSTKEY_FP"
  SSH="ssh -i $SSH_KEY -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR -l $L"
  MV="$D/include" RS="$D/rsync"
  MVM_INIT="echo '$REC' | '$M' mvm-sync -i '$SSH_KEY' -d '$D' '$SRC'"
  MVM_Z="echo '$PREC' | '$M' mvm-sync -z -i '$SSH_KEY' -d '$D' '$SRC'"
  RS_INIT="rsync -a -e '$SSH -p $SSHD_PORT' '$SRC/' '127.0.0.1:$RS/'"
  RS_Z="rsync -az -e '$SSH -p $PPORT' '$SRC/' '127.0.0.1:$RS/'"
  n=1
  while [ $n -le "$RUNS" ]; do
    rm -rf "$MV" "$RS"; sync
    t "$L.init.mvm" "$MVM_INIT"
    t "$L.init.rsync" "$RS_INIT"
    t "$L.same.mvm" "$MVM_INIT"
    t "$L.same.rsync" "$RS_INIT"
    # one file changed: a few bytes in the middle of a 30-50 KB header
    f=$(find "$SRC" -type f -size +30k -size -50k | sort | head -n 1)
    printf 'x%d' "$n" | dd of="$f" bs=1 seek=10000 conv=notrunc 2> /dev/null
    touch -d "@$((1600000000 + n))" "$f"
    wire "$L.one.mvm" "$MVM_Z"
    wire "$L.one.rsync" "$RS_Z"
    n=$((n + 1))
  done
  diff -r --no-dereference "$MV" "$RS" > /dev/null ||
    echo "sync bench: WARNING: trees differ ($L)"
  rm -rf "$MV" "$RS"
}

med() {  # med FILE COLUMN
  cut -d' ' -f"$2" "$W/$1" | sort -n |
    awk '{ v[NR] = $1 }
      END { if (NR % 2) print v[(NR + 1) / 2];
            else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
mn() { cut -d' ' -f"$2" "$W/$1" | sort -n | head -n 1; }
mx() { cut -d' ' -f"$2" "$W/$1" | sort -n | tail -n 1; }
# ratio of each run to its rsync partner, median: robust to drift in load
pair() {
  cut -d" " -f"$2" "$W/$1.mvm" > "$W/a"; cut -d" " -f"$2" "$W/$1.rsync" > "$W/b"
  paste -d' ' "$W/a" "$W/b" | awk '{ print $1 / $2 }' | sort -n |
    awk '{ v[NR] = $1 }
      END { if (NR % 2) print v[(NR + 1) / 2];
            else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
row() {  # row LABEL FILE COLUMN UNIT
  a=$(med "$2.mvm" "$3") b=$(med "$2.rsync" "$3")
  printf '| %s | %s %s (%s-%s) | %s %s (%s-%s) | %.2fx | %.2fx |\n' "$1" \
    "$a" "$4" "$(mn "$2.mvm" "$3")" "$(mx "$2.mvm" "$3")" \
    "$b" "$4" "$(mn "$2.rsync" "$3")" "$(mx "$2.rsync" "$3")" \
    "$(echo "$a $b" | awk '{ print $1 / $2 }')" "$(pair "$2" "$3")"
}
LOGINS=${BENCH_LOGINS:-$SSHD_USER}
[ -z "${BENCH_LOGINS:-}" ] && [ "$(id -u)" = 0 ] && LOGINS="$SSHD_USER root"
files=$(find "$SRC" | wc -l) mb=$(du -sm "$SRC" | cut -f1)
echo "$TREE: $files entries, $mb MB; medians (min-max) of $RUNS runs,"
echo "mvm-sync and rsync in turn; $(nproc) cores, load before:" \
  "$(cut -d' ' -f1-3 /proc/loadavg)"
for L in $LOGINS; do
  bench "$L"
  echo
  echo "login $L (load after: $(cut -d' ' -f1-3 /proc/loadavg)):"
  echo
  echo "| measure | mvm-sync | rsync | ratio of medians | median of run ratios |"
  echo "|---|---|---|---|---|"
  row "1. initial sync (wall)" "$L.init" 1 s
  row "2. no-change re-sync (wall)" "$L.same" 1 s
  row "3. one file changed, bytes on the wire (-z / -az)" "$L.one" 1 B
  row "4. peak RSS, initial sync (local side)" "$L.init" 2 KB
  row "(local CPU user+sys, initial sync)" "$L.init" 3 s
done
