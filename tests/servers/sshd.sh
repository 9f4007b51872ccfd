# tests/servers/sshd.sh - a real OpenSSH sshd on loopback for tests (sourced).
# After OpenSSH regress/test-exec.sh start_sshd: own host key, own client key,
# own config, a free 127.0.0.1 (or ::1) port, and a shim dir first on the
# session PATH (fake cloud-init, see shims/cloud-init).
#
#   start_sshd [CONFIG-LINE...]    prepare_sshd + run_sshd
#   start_sshd6 [CONFIG-LINE...]   the same on [::1]
#   prepare_sshd [CONFIG-LINE...]  write keys + config, pick a port, no start
#   run_sshd                       start (again) on the prepared port + key
#   kill_sshd                      kill -9 the listener and its sessions
#   stop_sshd                      kill everything and remove SSHD_DIR
#
# Exports: SSHD_DIR SSHD_PORT SSHD_ADDR (host:port for a record) SSHD_USER
# (login user: "mvmtest" when root, else yourself) SSH_KEY (client private
# key, ed25519, OpenSSH format) SSHD_HOSTKEY_FP (SHA256:...) SSHD_PID
# SSHD_SHIMS (the shim dir; write its state files) SSHD_LOG.
# SSHD_SETENV="VAR=VALUE ..." adds to the sessions' environment (sshd uses
# only its first SetEnv line, so config lines cannot).
# Several servers at once: call start_sshd again after saving the variables;
# stop_sshd stops the one the variables name.
# shellcheck shell=sh

SSHD_BIN=${SSHD_BIN:-/usr/sbin/sshd}

# have_sshd: the test can run (sshd and ssh-keygen present).
have_sshd() {
  [ -x "$SSHD_BIN" ] && command -v ssh-keygen > /dev/null 2>&1
}

_sshd_user() {
  if [ "$(id -u)" != 0 ]; then id -un; return; fi
  # root's dotfiles prepend PATH (TESTHOSTS.md 1): log in as a clean user
  # with no dotfiles and an unlocked, passwordless account.
  if ! id mvmtest > /dev/null 2>&1; then
    # (another test run may create it at the same moment)
    useradd -M -d /var/lib/mvmtest -s /bin/sh mvmtest > /dev/null 2>&1 ||
      id mvmtest > /dev/null 2>&1 || { echo root; return; }
  fi
  # a home without dotfiles: sshd's "Could not chdir" would reach stderr
  [ -d /var/lib/mvmtest ] ||
    { mkdir -p /var/lib/mvmtest && chown mvmtest /var/lib/mvmtest; }
  usermod -p '*' mvmtest > /dev/null 2>&1
  echo mvmtest
}

_sshd_tree() {   # _sshd_tree PID: PID and all its descendants
  for _c in $(pgrep -P "$1" 2> /dev/null); do _sshd_tree "$_c"; done
  echo "$1"
}

prepare_sshd() {
  _listen=${SSHD_LISTEN:-127.0.0.1}
  SSHD_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mvmsshd.XXXXXX") || return 1
  chmod 0755 "$SSHD_DIR"
  SSHD_USER=$(_sshd_user)
  SSHD_SHIMS=$SSHD_DIR/shims SSHD_LOG=$SSHD_DIR/sshd.log
  SSH_KEY=$SSHD_DIR/id_ed25519
  mkdir -p "$SSHD_SHIMS"
  cp "$TOP/tests/servers/shims/cloud-init" "$SSHD_SHIMS/"
  chmod 0755 "$SSHD_SHIMS/cloud-init"
  ssh-keygen -q -t ed25519 -N '' -C mvmtest-host -f "$SSHD_DIR/hostkey"
  ssh-keygen -q -t ed25519 -N '' -C mvmtest-client -f "$SSH_KEY"
  cp "$SSH_KEY.pub" "$SSHD_DIR/authorized_keys"
  chmod 0644 "$SSHD_DIR/authorized_keys"
  : > "$SSHD_DIR/cloud-init-output.log"
  chown -R "$SSHD_USER" "$SSHD_SHIMS" "$SSHD_DIR/cloud-init-output.log" \
    2> /dev/null
  SSHD_HOSTKEY_FP=$(ssh-keygen -lf "$SSHD_DIR/hostkey.pub" | cut -d' ' -f2)
  {
    echo "ListenAddress $_listen"
    echo "HostKey $SSHD_DIR/hostkey"
    echo "PidFile $SSHD_DIR/sshd.pid"
    echo "AuthorizedKeysFile $SSHD_DIR/authorized_keys"
    echo "UsePAM no"
    echo "PasswordAuthentication no"
    echo "KbdInteractiveAuthentication no"
    echo "StrictModes no"
    echo "LogLevel VERBOSE"
    # shellcheck disable=SC2086
    echo "SetEnv PATH=$SSHD_SHIMS:/usr/local/bin:/usr/bin:/bin" \
      "MVM_CLOUDINIT_LOG=$SSHD_DIR/cloud-init-output.log" \
      "MVM_CLOUDINIT_RUN=$SSHD_DIR" ${SSHD_SETENV:-}
    echo "Subsystem sftp internal-sftp"
    for _l in "$@"; do echo "$_l"; done
  } > "$SSHD_DIR/sshd_config"
  SSHD_PORT=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000 ))
  case $_listen in
    *:*) SSHD_ADDR="[$_listen]:$SSHD_PORT" ;;
    *) SSHD_ADDR="$_listen:$SSHD_PORT" ;;
  esac
  [ "$(id -u)" = 0 ] && { mkdir -p /run/sshd; chmod 0755 /run/sshd; }
  export SSHD_DIR SSHD_PORT SSHD_ADDR SSHD_USER SSH_KEY SSHD_HOSTKEY_FP \
    SSHD_SHIMS SSHD_LOG
}

# run_sshd: start on SSHD_PORT; waits until it listens. If the port is
# taken (only on the first start) it picks another one.
run_sshd() {
  _try=0
  while :; do
    touch "$SSHD_LOG"
    _skip=$(($(wc -l < "$SSHD_LOG") + 1))
    "$SSHD_BIN" -D -E "$SSHD_LOG" -f "$SSHD_DIR/sshd_config" \
      -p "$SSHD_PORT" < /dev/null > /dev/null 2>&1 &
    SSHD_PID=$!
    export SSHD_PID
    _n=0
    while [ $_n -lt 200 ]; do
      tail -n +$_skip "$SSHD_LOG" | grep -q 'Server listening' && return 0
      kill -0 "$SSHD_PID" 2> /dev/null || break
      sleep 0.02; _n=$((_n + 1))
    done
    kill -9 "$SSHD_PID" 2> /dev/null; wait "$SSHD_PID" 2> /dev/null
    _try=$((_try + 1))
    if ! tail -n +$_skip "$SSHD_LOG" | grep -q 'in use' || [ $_try -ge 20 ]
    then
      echo "sshd did not start:" >&2; tail -n +$_skip "$SSHD_LOG" >&2
      return 1
    fi
    SSHD_PORT=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000 ))
    SSHD_ADDR=${SSHD_ADDR%:*}:$SSHD_PORT
    export SSHD_PORT SSHD_ADDR
  done
}

start_sshd() { prepare_sshd "$@" && run_sshd; }
start_sshd6() { SSHD_LISTEN=::1 prepare_sshd "$@" && run_sshd; }

# kill_sshd: the host dies: the listener and every session, with SIGKILL.
kill_sshd() {
  # started in a subshell (run_sshd &): find it by its pid file
  [ -n "${SSHD_PID:-}" ] || SSHD_PID=$(cat "$SSHD_DIR/sshd.pid" 2> /dev/null)
  [ -n "${SSHD_PID:-}" ] || return 0
  # shellcheck disable=SC2046
  kill -9 $(_sshd_tree "$SSHD_PID") 2> /dev/null
  wait "$SSHD_PID" 2> /dev/null
  rm -f "$SSHD_DIR/sshd.pid"
  SSHD_PID=
}

stop_sshd() {
  kill_sshd
  [ -n "${SSHD_DIR:-}" ] && case $SSHD_DIR in */mvmsshd.*) rm -rf "$SSHD_DIR" ;; esac
  SSHD_DIR=
}
