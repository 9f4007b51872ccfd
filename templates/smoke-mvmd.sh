#!/usr/bin/env bash
# shellcheck shell=bash
# ~/smoke-mvmd.sh - is mvmd really up on this host? Installed by
# mvm-postdeploy from templates/smoke-mvmd.sh. Checks: the four units
# active, the configs readable by user mvmd, mvm-hostd's socket present,
# and the KVM gate (a VM can be created on /dev/kvm). Prints one line per
# check and a summary; exit 1 if any check failed. Where the host's gate
# is optional (/etc/mvm-kvm-gate, the local test hosts), an unusable KVM
# is a warning, not a failure.
set -euo pipefail

units="mvm-hostd mvmd-agent mvmd-coordinator mvmd-gateway"
configs="/etc/mvmd/coordinator.toml /etc/mvmd/gateway.toml"
socket=/run/mvm/hostd.sock
fails=0

result() { # NAME OK|FAIL|WARN DETAIL
  printf '%-28s %s%s\n' "$1" "$2" "${3:+ ($3)}"
  [ "$2" != FAIL ] || fails=$((fails + 1))
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi
}

for u in $units; do
  st=$(systemctl is-active "$u.service" 2>/dev/null || true)
  if [ "$st" = active ]; then
    result "unit $u" OK
  else
    result "unit $u" FAIL "${st:-unknown}"
  fi
done

for c in $configs; do
  if as_root runuser -u mvmd -- test -r "$c" 2>/dev/null; then
    result "config $c" OK
  else
    result "config $c" FAIL "not readable by mvmd"
  fi
done

if as_root test -S "$socket"; then
  result "hostd socket" OK "$socket"
else
  result "hostd socket" FAIL "no socket at $socket"
fi

# The gate: KVM_GET_API_VERSION must say 12 and KVM_CREATE_VM must work
# (a /dev/kvm node alone proves nothing). python3 is there: cloud-init.
probe='
import fcntl, os, sys
try:
    fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
except OSError as e:
    sys.exit("cannot open /dev/kvm: " + e.strerror)
try:
    v = fcntl.ioctl(fd, 0xAE00)
except OSError as e:
    sys.exit("KVM_GET_API_VERSION: " + e.strerror)
if v != 12:
    sys.exit("KVM API version %d, want 12" % v)
try:
    os.close(fcntl.ioctl(fd, 0xAE01, 0))
except OSError as e:
    sys.exit("KVM_CREATE_VM: " + e.strerror)
'
why=$(python3 -c "$probe" 2>&1) && kvm=ok || kvm=bad
gate=$(cat /etc/mvm-kvm-gate 2>/dev/null || echo required)
if [ "$kvm" = ok ]; then
  result "kvm gate" OK "a VM was created"
elif [ "$gate" = optional ]; then
  result "kvm gate" WARN "KVM not usable here: $why; gate optional"
else
  result "kvm gate" FAIL "$why"
fi

if [ "$fails" -eq 0 ]; then
  echo "smoke: all checks passed"
else
  echo "smoke: $fails check(s) failed"
fi
[ "$fails" -eq 0 ]
