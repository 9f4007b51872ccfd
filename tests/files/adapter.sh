# shellcheck shell=bash
# tests/files/adapter.sh - a tiny original-style adapter for the script
# provider's tests. "Creates" a host by keeping its label and user-data in
# $ADAPTER_STATE/host.N/ and prints a loopback address on the last line.
# ADAPTER_FAIL=1 makes provider_up fail. provider_list, the optional fifth
# function, prints a record per host that provider_down would destroy.

provider_default_instance_type() { echo tiny-1; }
provider_default_region() { echo test-region-1; }

provider_up() {
  label=$1 ci=$2
  echo "creating $label in $REGION as $INSTANCE_TYPE"
  [ -z "${ADAPTER_FAIL:-}" ] || { echo "quota exceeded" >&2; return 1; }
  n=$(cat "$ADAPTER_STATE/next" 2>/dev/null || echo 0)
  echo $((n + 1)) > "$ADAPTER_STATE/next"
  mkdir -p "$ADAPTER_STATE/host.$n"
  printf '%s\n' "$label" > "$ADAPTER_STATE/host.$n/label"
  printf '%s\n' "$ci" > "$ADAPTER_STATE/host.$n/path"
  cp "$ci" "$ADAPTER_STATE/host.$n/user-data"
  cp "$SSH_PUBKEY" "$ADAPTER_STATE/host.$n/pubkey"
  echo "127.0.0.$((n + 2))"
}

provider_down() {
  label=$1
  for d in "$ADAPTER_STATE"/host.*; do
    [ -d "$d" ] || continue
    if [ -z "$label" ] || [ "$(cat "$d/label")" = "$label" ]; then
      rm -rf "$d"
      echo "destroyed ${d##*/}"
    fi
  done
}

provider_list() {
  label=$1
  for d in "$ADAPTER_STATE"/host.*; do
    [ -d "$d" ] || continue
    l=$(cat "$d/label")
    [ -z "$label" ] || [ "$l" = "$label" ] || continue
    n=${d##*/host.}
    echo "127.0.0.$((n + 2)) label=$l created=$(date -u -r "$d" +%Y-%m-%dT%H:%M:%SZ)"
  done
}
