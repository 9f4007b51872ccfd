#!/bin/sh
# tests/demo.sh - `make demo`, the README's main job: run the deploy pipeline
# on this machine with no cloud account. Until the local providers land it
# is the KVM gate of this machine, which tells the truth about /dev/kvm.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$(mktemp -d "${TMPDIR:-/tmp}/mvmdemo.XXXXXX")
trap 'rm -rf "$bin"' EXIT INT TERM
"$top/mvmbox" --install -s "$bin"
PATH=$bin:$PATH
echo "+ mvm-kvmcheck" >&2
mvm-kvmcheck < /dev/null
