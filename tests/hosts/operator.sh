# tests/hosts/operator.sh - sourced by demo.sh and verify.sh: the operator
# side of a local run, kept apart from the user's own. A scratch directory
# with the applet links first on PATH, a throwaway ed25519 key unless
# MVM_SSH_KEY names one, and a state directory of its own, so the run's
# teardown touches only the hosts it made.
# shellcheck shell=sh

# operator_scratch NAME MVMBOX: $tmp, a new private directory (the
# caller's trap removes it) holding MVMBOX's applet links, first on PATH.
operator_scratch() {
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || exit 1
  "$2" --install -s "$tmp" || exit 1
  PATH=$tmp:$PATH
}

# operator_env DIR COMMENT: key and state under DIR (which the caller
# removes on exit); COMMENT names the key's purpose in authorized_keys.
operator_env() {
  if [ -z "${MVM_SSH_KEY:-}" ]; then
    ssh-keygen -q -t ed25519 -N '' -f "$1/key" -C "$2"
    MVM_SSH_KEY=$1/key
    export MVM_SSH_KEY
  fi
  MVM_STATE_DIR=$1/state
  export MVM_STATE_DIR
}
