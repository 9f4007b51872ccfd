#!/bin/sh
# tests/check.sh - `make check`: static checks. shellcheck on every shell
# file, mandoc -Tlint on the man pages, cppcheck on the C sources, and the
# size budgets of STYLE.md (lib module and applet <= 400 lines, provider
# <= 500), and that the fuzz harnesses build. Exits 1 if any check fails.
set -u
cd "$(dirname "$0")/.." || exit 2
rc=0
fail() { echo "check: $*"; rc=1; }

shfiles=$(git ls-files '*.sh' '*.test' .ci/run tests/servers/shims 2>/dev/null)
if command -v shellcheck >/dev/null; then
  # shellcheck disable=SC2086
  # .test files set variables that tests/testing.sh reads (SC2034).
  # shellcheck disable=SC2046
  shellcheck -s sh -S warning -e SC2034 $(echo "$shfiles" | grep -v -e '^.ci/run$' -e '^templates/') ||
    fail "shellcheck"
  shellcheck -s bash -S warning .ci/run || fail "shellcheck .ci/run"
  # The hosts' scripts are bash (arrays, pipefail), as the original's.
  shellcheck -s bash -S warning templates/*.sh || fail "shellcheck templates"
else
  echo "check: shellcheck not installed, skipped"
fi

if command -v mandoc >/dev/null; then
  mandoc -Tlint -Wwarning man/*.1 man/*.5 || fail "mandoc -Tlint"
else
  echo "check: mandoc not installed, skipped"
fi

if command -v cppcheck >/dev/null; then
  cppcheck -q --error-exitcode=1 --enable=warning,portability \
    --inline-suppr -D_GNU_SOURCE -Ilib -Iproviders -Iapplets \
    --suppress=missingIncludeSystem applets lib providers probe ||
    fail "cppcheck"
fi

for f in applets/*.c lib/*.c lib/*/*.c providers/*.c; do
  [ -f "$f" ] || continue
  n=$(wc -l < "$f")
  case $f in providers/*) max=500;; *) max=400;; esac
  [ "$n" -le "$max" ] || fail "$f has $n lines, over its budget of $max"
done
# The fuzz harnesses are built only by CI's fuzz lane; build them here too,
# so an interface change that breaks one fails the check, not the last lane.
if command -v clang >/dev/null; then
  make -s fuzz >/dev/null || fail "make fuzz"
else
  echo "check: clang not installed, fuzz harnesses not built"
fi

# Every shared library mvmbox loads at start costs every applet run (issue
# 19: libcurl alone is 10 ms and 7.5 MB); the NEEDED list may only shrink.
# libcurl, libssh2 and libcrypto load at first use (lib/lazy*.c), libarchive
# is not used (lib/sync/tarz.c writes tar streams);
# the small ones left cost a start together ~0.2x a libc-only one:
needed_ok="libyaml-0.so.2 libz.so.1 libjansson.so.4 libexpat.so.1 libc.so.6"
if command -v readelf >/dev/null && [ -f mvmbox ]; then
  for n in $(readelf -d mvmbox | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    case " $(echo $needed_ok) " in *" $n "*) ;;
      *) fail "mvmbox NEEDs $n, not in tests/check.sh's list (load it at first use)";;
    esac
  done
fi

# The layers of ARCHITECTURE.md: applets -> providers -> lib/'s rooms ->
# lib/'s core, nothing back up. A file includes the core ("mvm.h",
# "json.h", "lazylib.h"), its own folder's headers, and the door
# ("ROOM/ROOM.h") of a room below its own only; a third-party header only
# inside the room that wraps it.
rooms_below() {   # the rooms a room may use
  case $1 in
    crypto|kvm) echo "";;
    http|ssh) echo "crypto";;
    sync) echo "crypto ssh";;
    deploy) echo "crypto ssh sync";;
    providers|applets|probe) echo "crypto http ssh kvm sync deploy";;
  esac
}
for f in $(git ls-files 'lib/*.[ch]' 'providers/*.[ch]' 'applets/*.[ch]' \
             'probe/*.c' 2>/dev/null); do
  case $f in
    lib/*/*) room=${f#lib/}; room=${room%%/*};;
    lib/*) room=core;;
    *) room=${f%%/*};;
  esac
  ok=" $(rooms_below "$room") "
  for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
    case $inc in
      mvm.h|json.h|lazylib.h) continue;;
      provider.h) [ "$room" = applets ] && continue;;   # the providers' door
      */*) r=${inc%%/*}
           [ "$inc" = "$r/$r.h" ] || { fail "$f includes $inc: not a door"; continue; }
           case $ok in *" $r "*) ;; *) fail "$f ($room) includes $inc: not a room below it";; esac;;
      *) [ -f "$(dirname "$f")/$inc" ] ||
           fail "$f includes \"$inc\": not in its own folder";;
    esac
  done
  for lib3 in curl/ libssh2 openssl/ jansson expat archive zlib yaml; do
    grep -q "^#include <$lib3" "$f" || continue
    case $lib3:$f in
      curl/:lib/http/*|libssh2:lib/ssh/*|openssl/:lib/crypto/*) ;;
      jansson:lib/json.c|expat:lib/http/xml.c|zlib:lib/codec.c) ;;
      # libyaml twice, for two jobs: reading the CLIs' config files (the
      # core's conf.c, an event parser) and merging cloud-config
      # documents (deploy/userdata.c, the document API).
      yaml:lib/conf.c|yaml:lib/deploy/userdata.c) ;;
      *) fail "$f includes <$lib3...>: only the room that wraps it may";;
    esac
  done
done
# And no circles between files: which object uses which (nm), sorted.
if [ -f mvmbox ] && command -v nm >/dev/null && command -v tsort >/dev/null; then
  objs=$(ls lib/*.o lib/*/*.o providers/*.o applets/*.o 2>/dev/null)
  # shellcheck disable=SC2086
  nm -A $objs 2>/dev/null | awk '
    { f = $1; sub(/:.*/, "", f) }
    $2 == "U" { use[f] = use[f] " " $3; next }
    $2 ~ /^[TDBR]$/ { def[$3] = f }
    END { for (f in use) { n = split(use[f], u, " ");
            for (i = 1; i <= n; i++)
              if ((u[i] in def) && def[u[i]] != f) print f, def[u[i]] } }' |
    sort -u | tsort > /dev/null 2> tsort.err ||
    fail "a circle between files: $(grep -v ': input contains a loop:' tsort.err | sed 's/^tsort: //' | tr '\n' ' ')"
  rm -f tsort.err
fi

[ $rc = 0 ] && echo "check: all passed"
exit $rc
