# shellcheck shell=bash
# providers/example-static.sh - an example original-style adapter for the
# script provider (mvm-provision(1)), runnable as it is: it "creates" a
# host by handing out the next free address of MVM_EXAMPLE_HOSTS (hosts you
# already have, space-separated) and remembers which label holds which in
# MVM_EXAMPLE_STATE (default ${XDG_RUNTIME_DIR:-$HOME/.cache}/mvm-example),
# so provider_down and provider_list work as a cloud's would. The user-data
# is not applied to those hosts; a real adapter hands it to its cloud where
# the comments say (the hcloud lines are examples, not run).
#
#   MVM_EXAMPLE_HOSTS="203.0.113.7 203.0.113.8" \
#     mvm-provision -n 2 ./providers/example-static.sh | mvm-waitinit
#   mvm-teardown --dry-run ./providers/example-static.sh   # what is held
#   mvm-teardown ./providers/example-static.sh             # release all

state=${MVM_EXAMPLE_STATE:-${XDG_RUNTIME_DIR:-$HOME/.cache}/mvm-example}

provider_default_instance_type() { echo existing; }
provider_default_region() { echo here; }

# provider_up LABEL CLOUD_INIT: the new host's address on the last line.
# Real: hcloud server create --type "$INSTANCE_TYPE" --location "$REGION" \
#   --label mvm-ephemeral=true --label "mvm-label=$1" \
#   --user-data-from-file "$2" --ssh-key "$SSH_PUBKEY" ...
provider_up() {
  label=$1
  mkdir -p "$state" && chmod 700 "$state" || return 1
  for addr in ${MVM_EXAMPLE_HOSTS:-}; do
    # mkdir is atomic: two provisions never hand out the same host
    if mkdir "$state/$addr" 2>/dev/null; then
      printf '%s\n' "$label" > "$state/$addr/label"
      echo "holding $addr for $label"
      echo "$addr"
      return 0
    fi
  done
  echo "no free host in MVM_EXAMPLE_HOSTS='${MVM_EXAMPLE_HOSTS:-}'" >&2
  return 1
}

# The held hosts of LABEL (all if empty), one address per line.
held() {
  for d in "$state"/*/; do
    [ -f "$d/label" ] || continue
    if [ -z "$1" ] || [ "$(cat "$d/label")" = "$1" ]; then
      d=${d%/}
      echo "${d##*/}"
    fi
  done
}

# provider_down LABEL-OR-EMPTY: destroy every host of LABEL (all if empty).
# Real: hcloud server delete for each server of that label.
provider_down() {
  for addr in $(held "$1"); do
    rm -rf "${state:?}/$addr" && echo "released $addr"
  done
}

# provider_list LABEL-OR-EMPTY (optional): a record per host provider_down
# would destroy. Real: hcloud server list -l mvm-ephemeral=true -o json.
provider_list() {
  for addr in $(held "$1"); do
    echo "$addr label=$(cat "$state/$addr/label")" \
      "created=$(date -u -r "$state/$addr/label" +%Y-%m-%dT%H:%M:%SZ)"
  done
}
