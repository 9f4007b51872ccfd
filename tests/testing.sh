# tests/testing.sh - toybox-style test helpers, sourced by tests/run.sh.
# testing NAME COMMAND RESULT INFILE STDIN
#   runs COMMAND under sh with STDIN (printf'd) on stdin and INFILE written to
#   ./input; passes when stdout equals RESULT (printf'd). The exit status is
#   appended to stdout as "[rc=N]" when EXPECT_RC is set (testcmd -r style).
# testcmd NAME ARGS RESULT INFILE STDIN: the same with "$C ARGS".
# Stage times (" init_s=0.4") are removed from stdout before comparing
# unless KEEP_TIMES is set.
# optional COND: skip the following tests unless COND (a shell test) holds.
# skipnot COND: skip the next test unless COND holds.
# shellcheck shell=sh

: "${PASSES:=0}" "${FAILS:=0}" "${SKIPS:=0}"
SKIPNEXT=0
SKIPALL=""

_tfile() { printf '%s\n' "$TESTFILE"; }

testing() {
  _name=$1 _cmd=$2 _want=$3 _in=$4 _stdin=$5
  if [ -n "$SKIPALL" ] || [ "$SKIPNEXT" = 1 ]; then
    SKIPNEXT=0
    SKIPS=$((SKIPS + 1))
    printf 'SKIP: %s: %s\n' "$(_tfile)" "$_name"
    return 0
  fi
  printf '%b' "$_in" > input
  printf '%b' "$_want" > expected
  _rc=0
  printf '%b' "$_stdin" | eval "$_cmd" > actual 2> stderr || _rc=$?
  # Each stage's time (" init_s=0.4", lib/run.c) differs run to run:
  # compared without it, unless the test sets KEEP_TIMES.
  if [ -z "${KEEP_TIMES:-}" ]; then
    sed -E 's/ [a-z0-9_]+_s=[0-9]+\.[0-9]//g' actual > actual.t &&
      mv actual.t actual
  fi
  if [ -n "${EXPECT_RC+x}" ]; then echo "[rc=$_rc]" >> actual; fi
  if cmp -s expected actual; then
    PASSES=$((PASSES + 1))
    [ -n "$VERBOSE" ] && printf 'PASS: %s: %s\n' "$(_tfile)" "$_name"
  else
    FAILS=$((FAILS + 1))
    printf 'FAIL: %s: %s\n' "$(_tfile)" "$_name"
    printf '  command: %s\n' "$_cmd"
    diff -u expected actual | sed 's/^/  /' | head -n 40
    sed 's/^/  stderr: /' stderr | head -n 20
  fi
  return 0
}

testcmd() {
  testing "$1" "\"\$C\" $2" "$3" "$4" "$5"
}

optional() {
  if eval "$1"; then SKIPALL=""; else SKIPALL=1; fi
}

skipnot() {
  eval "$1" || SKIPNEXT=1
}

# check NAME COMMAND: pass when COMMAND exits 0 (for state assertions).
check() {
  if [ -n "$SKIPALL" ] || [ "$SKIPNEXT" = 1 ]; then
    SKIPNEXT=0; SKIPS=$((SKIPS + 1))
    printf 'SKIP: %s: %s\n' "$(_tfile)" "$1"
    return 0
  fi
  if eval "$2" > check.out 2>&1; then
    PASSES=$((PASSES + 1))
    [ -n "$VERBOSE" ] && printf 'PASS: %s: %s\n' "$(_tfile)" "$1"
  else
    FAILS=$((FAILS + 1))
    printf 'FAIL: %s: %s\n  command: %s\n' "$(_tfile)" "$1" "$2"
    sed 's/^/  /' check.out | head -n 40
  fi
  return 0
}

# skip_all REASON: the whole file is skipped, with one clear line.
skip_all() {
  SKIPS=$((SKIPS + 1))
  printf 'SKIP: %s: %s\n' "$(_tfile)" "$1"
}

# public_install DIR: DIR (made world-readable) gets a copy of $MVMBOX, its
# applet links, and the cloud-init/ and templates/ it finds beside itself,
# so a test can run an applet as another user (nobody) even when the
# checkout and the scratch directory are private (a clone in root's 0700
# home). The caller removes DIR.
public_install() {
  mkdir -p "$1" && chmod 0755 "$1" &&
    cp "$MVMBOX" "$1/mvmbox" && chmod 0755 "$1/mvmbox" &&
    "$1/mvmbox" --install -s "$1" &&
    cp -r "$TOP/cloud-init" "$TOP/templates" "$1/" &&
    chmod -R a+rX "$1/cloud-init" "$1/templates"
}

# stop_fake PIDFILE: end the fake server PIDFILE names and wait until it
# is gone, so a fake restarted on the same state directory never sees the
# old one still write there (its db.json once came back after a restart
# and a fresh-fake test found the last test's instances).
stop_fake() {
  [ -f "$1" ] || return 0
  _pid=$(cat "$1")
  kill "$_pid" 2>/dev/null
  _i=0
  while kill -0 "$_pid" 2>/dev/null && [ $_i -lt 100 ]; do
    sleep 0.1; _i=$((_i + 1))
  done
  kill -9 "$_pid" 2>/dev/null
  rm -f "$1"
}
