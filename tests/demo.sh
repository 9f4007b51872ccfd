#!/bin/sh
# tests/demo.sh - `make demo`, the README's main job: the whole deploy on
# this machine with no cloud account. One local host (a systemd-nspawn
# container of the cached Debian base: real systemd, sshd, cloud-init,
# Debian's cargo) goes through
#   mvm-provision nspawn | mvm-waitinit |
#     mvm-sync tests/fixtures/mvm tests/fixtures/mvmd | mvm-postdeploy
# then the smoke test on the host, the KVM gate (mvm-kvmcheck) and
# mvm-teardown. Exit 0 when every stage worked, even if KVM is not usable
# here (said plainly: the gate is the one thing such a machine cannot
# pass); non-zero when a stage that should work here failed. Without root
# or systemd-nspawn it is the KVM gate of this machine alone.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/hosts/operator.sh"
operator_scratch mvmdemo "$top/mvmbox"
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ "$(id -u)" != 0 ] || ! command -v systemd-nspawn > /dev/null 2>&1; then
  echo "demo: no root or no systemd-nspawn: checking this machine only" >&2
  echo "+ mvm-kvmcheck" >&2
  exec mvm-kvmcheck < /dev/null
fi

echo "+ make image   (cached after the first run, about 75 s cold)" >&2
MVM_IMAGE_NOEXT4=1 sh "$top/tests/hosts/mkrootfs.sh" || exit 1
operator_env "$tmp" mvm-demo
label=mvm-demo-$$
trap 'mvm-teardown nspawn "$label" > /dev/null 2>&1; rm -rf "$tmp"' \
  EXIT INT TERM
fx=$top/tests/fixtures
echo "+ mvm-provision -l $label -k $MVM_SSH_KEY.pub nspawn | mvm-waitinit |" \
  "mvm-sync tests/fixtures/mvm tests/fixtures/mvmd | mvm-postdeploy" >&2
# pipefail by hand (POSIX sh): each stage reports its status on fd 3.
st=$( { { mvm-provision -l "$label" -k "$MVM_SSH_KEY.pub" nspawn
          echo "provision=$?" >&3; } |
        { mvm-waitinit; echo "waitinit=$?" >&3; } |
        { mvm-sync "$fx/mvm" "$fx/mvmd"; echo "sync=$?" >&3; } |
        { mvm-postdeploy > "$tmp/ready"; echo "postdeploy=$?" >&3; }; } 3>&1 )
# shellcheck disable=SC2086
echo "demo: exit status of each stage:" $st >&2
cat "$tmp/ready"
bad=""
for s in $st; do
  [ "${s#*=}" = 0 ] || bad="$bad ${s%=*}"
done

# The smoke test on each ready host, with the system's ssh client and the
# host key its record pinned (checked against what the host serves).
while read -r addr rest; do
  case " $rest " in *" stage=ready "*) ;; *) continue ;; esac
  port=${addr##*:} host=${addr%:*}
  fp=$(printf '%s\n' "$rest" | sed -n 's/.*hostkey=\([^ ]*\).*/\1/p')
  ssh-keyscan -T 10 -t ed25519 -p "$port" "$host" 2> /dev/null \
    > "$tmp/keyscan"
  if ! ssh-keygen -lf "$tmp/keyscan" | grep -qF " $fp "; then
    echo "demo: $addr: the host key differs from the record's pin" >&2
    bad="$bad smoke"
    continue
  fi
  echo "+ ssh -p $port mvm@$host 'bash ~/smoke-mvmd.sh'" >&2
  ssh -n -p "$port" -i "$MVM_SSH_KEY" -o BatchMode=yes \
    -o UserKnownHostsFile="$tmp/keyscan" -o LogLevel=ERROR \
    "mvm@$host" 'bash ~/smoke-mvmd.sh' >&2 || bad="$bad smoke"
done < "$tmp/ready"

echo "+ mvm-kvmcheck | mvm-teardown" >&2
mvm-kvmcheck < "$tmp/ready" > "$tmp/kvm"
kvm=$?
mvm-teardown < "$tmp/kvm"
down=$?
[ "$down" = 0 ] || bad="$bad teardown"
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ "$kvm" != 0 ]; then
  # Records with kvm=fail whose only error is the gate's own (error=kvm:)
  # are its verdict on this machine (PVM's /dev/kvm, or none), not a
  # failure of the pipeline; a host it could not check has no kvm=.
  if grep -q ' kvm=fail' "$tmp/kvm" &&
    ! grep -v '^#' "$tmp/kvm" | grep -v ' kvm=[a-z]' | grep -q . &&
    ! grep ' error=' "$tmp/kvm" | grep -qv ' error=kvm:'; then
    echo "demo: KVM is not usable here (see the 'fail' checks above):" \
      "Firecracker cannot run on this machine; every other stage passed" >&2
  else
    bad="$bad kvmcheck"
  fi
fi
if [ -n "$bad" ]; then
  echo "demo: FAILED:$bad" >&2
  exit 1
fi
echo "demo: ok: four units active, stage=ready, host torn down" >&2
