#!/usr/bin/env bash
# shellcheck shell=bash
# ~/run-tests.sh - mvm's test lane on this host, installed by mvm-postdeploy
# from templates/run-tests.sh. Steps: fmt, clippy (-D warnings), workspace
# tests, the seccomp functional probe (needs a usable /dev/kvm), cargo
# deny, cargo audit. Each step's result is printed, then a summary.
#   bash ~/run-tests.sh [--continue] [STEP...]
# Without --continue the first failing step ends the run; with it every
# step runs. Either way the exit status is 1 if any step failed, 0 only
# if every step that ran passed. MVM_SRC: the tree (default ~/mvm).
set -euo pipefail

steps_all="fmt clippy test seccomp deny audit"
cont=0
want=()
for a in "$@"; do
  case $a in
    --continue) cont=1 ;;
    -h | --help)
      sed -n '2,9p' "$0"
      exit 0
      ;;
    -*)
      echo "run-tests.sh: unknown option '$a'" >&2
      exit 2
      ;;
    *)
      case " $steps_all " in
        *" $a "*) want+=("$a") ;;
        *)
          echo "run-tests.sh: unknown step '$a' (steps: $steps_all)" >&2
          exit 2
          ;;
      esac
      ;;
  esac
done
if [ ${#want[@]} -eq 0 ]; then
  read -r -a want <<<"$steps_all"
fi

src=${MVM_SRC:-$HOME/mvm}
export PATH="$HOME/.cargo/bin:$PATH"
cd "$src" || {
  echo "run-tests.sh: no tree at $src (run mvm-sync first)" >&2
  exit 1
}

kvm_usable() {
  [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]
}

step_cmd() {
  case $1 in
    fmt) cargo fmt --all -- --check ;;
    clippy) cargo clippy --workspace --all-targets -- -D warnings ;;
    test) cargo test --workspace ;;
    seccomp)
      if ! kvm_usable; then
        echo "seccomp: /dev/kvm missing or not usable by $(id -un)" >&2
        return 1
      fi
      cargo test --workspace -- --ignored seccomp
      ;;
    deny) cargo deny check ;;
    audit) cargo audit ;;
  esac
}

passed=()
failed=()
for s in "${want[@]}"; do
  echo "==> $s"
  # `cmd || rc=$?`, not `if cmd; then ...; fi; rc=$?` (which always
  # gives 0: the original's bug). set -e does not reach inside a command
  # tested by ||, so each step is one command or returns explicitly.
  rc=0
  step_cmd "$s" || rc=$?
  if [ "$rc" -eq 0 ]; then
    echo "==> $s: ok"
    passed+=("$s")
  else
    echo "==> $s: FAILED (exit $rc)"
    failed+=("$s")
    [ "$cont" = 1 ] || break
  fi
done

ran=$((${#passed[@]} + ${#failed[@]}))
echo "==> summary: ${#passed[@]} of $ran steps passed${failed[*]:+; failed: ${failed[*]}}"
if [ "$ran" -lt "${#want[@]}" ]; then
  echo "==> stopped at the first failure; --continue runs the rest"
fi
[ ${#failed[@]} -eq 0 ]
