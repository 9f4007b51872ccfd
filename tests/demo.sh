#!/bin/sh
# tests/demo.sh - `make demo`, the README's main job: the deploy pipeline on
# this machine with no cloud account. Two local hosts (systemd-nspawn
# containers of the cached Debian base: real systemd, sshd, cloud-init) go
# through provision -> waitinit -> kvmcheck -> teardown. Without root or
# systemd-nspawn it is the KVM gate of this machine alone.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mvmdemo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
"$top/mvmbox" --install -s "$tmp"
PATH=$tmp:$PATH

if [ "$(id -u)" != 0 ] || ! command -v systemd-nspawn > /dev/null 2>&1; then
  echo "demo: no root or no systemd-nspawn: checking this machine only" >&2
  echo "+ mvm-kvmcheck" >&2
  exec mvm-kvmcheck < /dev/null
fi

echo "+ make image   (cached after the first run, about 75 s cold)" >&2
MVM_IMAGE_NOEXT4=1 sh "$top/tests/hosts/mkrootfs.sh" || exit 1
# A throwaway operator key unless MVM_SSH_KEY names one.
if [ -z "${MVM_SSH_KEY:-}" ]; then
  ssh-keygen -q -t ed25519 -N '' -f "$tmp/key" -C mvm-demo
  MVM_SSH_KEY=$tmp/key
  export MVM_SSH_KEY
fi
label=mvm-demo-$$
trap 'mvm-teardown nspawn "$label" > /dev/null 2>&1; rm -rf "$tmp"' \
  EXIT INT TERM
cmd="mvm-provision -n 2 -l $label -k $MVM_SSH_KEY.pub nspawn | mvm-waitinit"
cmd="$cmd | mvm-kvmcheck | mvm-teardown"
echo "+ $cmd" >&2
# pipefail by hand (POSIX sh): each stage reports its status on fd 3;
# the records that come out of teardown go to stdout (fd 4).
exec 4>&1
st=$( { { mvm-provision -n 2 -l "$label" -k "$MVM_SSH_KEY.pub" nspawn
          echo "provision=$?" >&3; } |
        { mvm-waitinit; echo "waitinit=$?" >&3; } |
        { mvm-kvmcheck; echo "kvmcheck=$?" >&3; } |
        { mvm-teardown >&4; echo "teardown=$?" >&3; }; } 3>&1 )
# shellcheck disable=SC2086
echo "demo: exit status of each stage:" $st >&2
for s in $st; do
  [ "${s#*=}" = 0 ] || exit "${s#*=}"
done
