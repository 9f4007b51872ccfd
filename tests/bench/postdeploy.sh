#!/bin/sh
# tests/bench/postdeploy.sh - a post-deploy re-run on a host that is
# already ready, mvm-postdeploy against the original's way, in one run on
# one nspawn host: the templates copied up with scp, then one
# `ssh host bash -s < post-deploy.sh` that builds with cargo, compares and
# installs the binaries, configs and units, reloads, enables, restarts
# what changed, checks is-active and writes the marker (the script below:
# the same steps, as the original's post-deploy.sh ran them). Runs are
# interleaved (mvm, script, mvm, ...) so other load hits both; medians of
# BENCH_RUNS (default 7). Also counted: SSH connections and remote
# commands (exec requests) per re-run: mvm-postdeploy's from its -v debug
# lines, the script's by construction (one scp, one ssh). Needs root and
# systemd-nspawn (the e2e lane); prints a table for BENCHMARKS.md.
set -u
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
RUNS=${BENCH_RUNS:-7}
if [ "$(id -u)" != 0 ] || ! command -v systemd-nspawn > /dev/null 2>&1; then
  echo "postdeploy bench: needs root and systemd-nspawn, skipped"
  exit 0
fi
MVM_IMAGE_NOEXT4=1 sh "$top/tests/hosts/mkrootfs.sh" > /dev/null 2>&1 ||
  { echo "postdeploy bench: no base image"; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/mvmbench.XXXXXX")
MVM_STATE_DIR=$W/state MVM_SSH_KEY=$W/key
export MVM_STATE_DIR MVM_SSH_KEY
label=bench-pd-$$
trap 'mvm-teardown nspawn "$label" > /dev/null 2>&1; rm -rf "$W"' \
  EXIT INT TERM
ssh-keygen -q -t ed25519 -N '' -f "$W/key" -C bench
fx=$top/tests/fixtures
t0=$(date +%s.%N)
mvm-provision -q -l "$label" -k "$W/key.pub" nspawn | mvm-waitinit -q |
  mvm-sync -q "$fx/mvm" "$fx/mvmd" > "$W/synced"
t1=$(date +%s.%N)
mvm-postdeploy -q < "$W/synced" > "$W/ready" || {
  echo "postdeploy bench: the first deploy failed"; exit 1; }
t2=$(date +%s.%N)
grep -q ' stage=ready' "$W/ready" || exit 1
addr=$(cut -d' ' -f1 "$W/ready")
port=${addr##*:} host=${addr%:*}
fp=$(sed -n 's/.*hostkey=\([^ ]*\).*/\1/p' "$W/ready")
ssh-keyscan -t ed25519 -p "$port" "$host" 2> /dev/null > "$W/known"
ssh-keygen -lf "$W/known" | grep -qF " $fp " ||
  { echo "postdeploy bench: host key differs from the pin"; exit 1; }
o="-i $W/key -o BatchMode=yes -o UserKnownHostsFile=$W/known -o LogLevel=ERROR"

# The original's way: post-deploy.sh on the host, templates beside it.
cat > "$W/post-deploy.sh" << 'EOF'
set -euo pipefail
umask 077
units="mvm-hostd mvmd-coordinator mvmd-agent mvmd-gateway"
export PATH="$HOME/.cargo/bin:$PATH"
cd /home/mvm/mvmd
cargo build -q --release --package mvmd --bin mvmd
cargo build -q --release --package mvmd-runtime --bin mvm-hostd
changed=""
for b in mvmd mvm-hostd; do
  if ! cmp -s "target/release/$b" "/usr/local/bin/$b"; then
    sudo install -m 0755 "target/release/$b" "/usr/local/bin/$b"
    changed="$changed $b"
  fi
done
secret=$(sudo cat /etc/mvmd/hmac.secret 2> /dev/null || openssl rand -hex 32)
node=$(hostname)
for c in coordinator gateway; do
  t=$(cat "$HOME/tmpl/$c.toml")
  t=${t//\{\{hmac_secret\}\}/$secret}
  t=${t//\{\{host\}\}/127.0.0.1}
  t=${t//\{\{node_id\}\}/$node}
  if [ "$(sudo cat "/etc/mvmd/$c.toml")" != "$t" ]; then
    printf '%s\n' "$t" | sudo install -m 0640 -o root -g mvmd /dev/stdin \
      "/etc/mvmd/$c.toml"
    changed="$changed $c"
  fi
done
reload=0
for u in $units; do
  if ! cmp -s "$HOME/tmpl/$u.service" "/etc/systemd/system/$u.service"; then
    sudo install -m 0644 "$HOME/tmpl/$u.service" /etc/systemd/system/
    reload=1 changed="$changed $u"
  fi
done
[ $reload = 0 ] || sudo systemctl daemon-reload
# shellcheck disable=SC2086
sudo systemctl enable --now --quiet $units
[ -z "$changed" ] || sudo systemctl restart $units
for u in $units; do systemctl is-active --quiet "$u"; done
[ "$(cat /etc/mvm-deploy-status)" = ready ] ||
  echo ready | sudo tee /etc/mvm-deploy-status > /dev/null
EOF
orig() {
  # shellcheck disable=SC2086
  scp -q -P "$port" $o "$top"/templates/*.toml "$top"/templates/*.service \
    "mvm@$host:tmpl/" &&
    ssh -p "$port" $o "mvm@$host" 'bash -s' < "$W/post-deploy.sh"
}
# shellcheck disable=SC2086
ssh -n -p "$port" $o "mvm@$host" 'mkdir -p tmpl'
orig || { echo "postdeploy bench: the script fails on the host"; exit 1; }
mvm-postdeploy -q < "$W/ready" > /dev/null ||
  { echo "postdeploy bench: re-run failed"; exit 1; }

el() {
  a=$(date +%s.%N)
  "$@" > /dev/null 2>&1 || return 1
  b=$(date +%s.%N)
  echo "$a $b" | awk '{ printf "%.3f\n", $2 - $1 }'
}
: > "$W/t.mvm"
: > "$W/t.orig"
i=0
while [ $i -lt "$RUNS" ]; do
  el sh -c "mvm-postdeploy -q < '$W/ready'" >> "$W/t.mvm" || exit 1
  el orig >> "$W/t.orig" || exit 1
  i=$((i + 1))
done
med() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mvm-postdeploy -v < "$W/ready" 2> "$W/v.err" > /dev/null
execs=$(grep -c ': debug: run: ' "$W/v.err")
conns=$(grep -c ': debug: connected as ' "$W/v.err")
# shellcheck disable=SC2086,SC2016
noop=$(ssh -n -p "$port" $o "mvm@$host" 'cd mvmd && a=$(date +%s%N) &&
  cargo build -q --release -p mvmd --bin mvmd &&
  cargo build -q --release -p mvmd-runtime --bin mvm-hostd &&
  echo $(( ($(date +%s%N) - a) / 1000000 ))')
m=$(med "$W/t.mvm") s=$(med "$W/t.orig")
echo "first deploy: provision..sync $(echo "$t0 $t1" |
  awk '{ printf "%.1f", $2 - $1 }') s, mvm-postdeploy (cold cargo build)" \
  "$(echo "$t1 $t2" | awk '{ printf "%.1f", $2 - $1 }') s"
echo "cargo no-op builds of both binaries on the host: $noop ms; load average: $(cut -d" " -f1-3 /proc/loadavg)"
echo
echo "| re-run on a ready host ($RUNS runs, median) | wall time | SSH connections | remote commands |"
echo "|---|---|---|---|"
echo "| mvm-postdeploy | $m s | $conns | $execs |"
echo "| scp templates + ssh bash -s < post-deploy.sh | $s s | 2 | 2 |"
echo
echo "ratio: $(echo "$s $m" | awk '{ printf "%.2f", $1 / $2 }')x"
