# tests/servers/fake.sh - start and query tests/servers/fakecloud.py, the
# stand-in for a cloud API (a fake HTTP server on 127.0.0.1: no real cloud
# is ever called). Sourced by tests/cloud*.test.
#   fake_start PROVIDER [fakecloud options]  sets FAKE_PORT, FAKE_URL, FAKE_PID
#   fake_get PATH          GET a control endpoint (/_fake/state ...)
#   fake_n                 how many instances exist
#   fake_violations        the spec violations seen, one per line
#   fake_faults JSON       replace the faults
#   fake_stop
# shellcheck shell=sh

fake_start() {
  _fn=$1; shift
  _fp="$PWD/fake-$_fn.port"
  rm -f "$_fp"
  python3 "$TOP/tests/servers/fakecloud.py" "$_fn" "$_fp" "$@" \
    2> "$PWD/fake-$_fn.log" &
  FAKE_PID=$!
  # Wait for the port file (the spec loads first), or for the fake to die.
  while [ ! -s "$_fp" ] && kill -0 "$FAKE_PID" 2>/dev/null; do sleep 0.1; done
  [ -s "$_fp" ] || { cat "$PWD/fake-$_fn.log" >&2; return 1; }
  FAKE_PORT=$(cat "$_fp")
  FAKE_URL=http://127.0.0.1:$FAKE_PORT
}

fake_get() { curl -sf --noproxy '*' "$FAKE_URL$1"; }

fake_n() {
  fake_get /_fake/state | python3 -c 'import json,sys
print(len(json.load(sys.stdin)["instances"]))'
}

fake_violations() {
  fake_get /_fake/state | python3 -c 'import json,sys
for v in json.load(sys.stdin)["violations"]: print(v)'
}

fake_count() {
  fake_get /_fake/state | python3 -c 'import json,sys
print(json.load(sys.stdin)["counts"].get(sys.argv[1], 0))' "$1"
}

fake_faults() {
  curl -sf --noproxy '*' -X POST -d "$1" "$FAKE_URL/_fake/faults" >/dev/null
}

fake_stop() {
  [ -n "${FAKE_PID:-}" ] && kill "$FAKE_PID" 2>/dev/null
  wait "$FAKE_PID" 2>/dev/null
  FAKE_PID=
}
