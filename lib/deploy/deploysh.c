/* lib/deploy/deploysh.c - the remote sh commands of mvm-postdeploy (deploy.h):
 * build as the login user, then probe, install and verify as root (sudo
 * -n unless the login is root). A command line never holds the secret:
 * file contents go up as a tar stream on the channel's stdin, into a
 * root-only staging dir, and land by rename with their final mode. */
#include "mvm.h"
#include "deploy.h"
#include "ssh/ssh.h"
#include "sync/sync.h"

/* Run script as root: directly when logged in as root, else sudo -n. */
static char *as_root(const char *script)
{
  char *q = sh_quote(script), *cmd;

  cmd = xasprintf("if [ \"$(id -u)\" = 0 ]; then exec sh -c %s; fi; "
                  "exec sudo -n sh -c %s", q, q);
  free(q);
  return cmd;
}

/* Every binary in one cargo run (cargo's start-up is most of a no-op
 * build). Exit 90: no tree; 91: no cargo; 92: the build failed (stdout:
 * the log's tail); 0: stdout is "BIN SHA256" per binary. */
char *deploy_build_cmd(const struct deploy *d, const char *src)
{
  struct buf args = { 0 }, bins = { 0 };
  char *qs = sh_quote(src), *cmd, *q;
  int i, j;

  buf_add(&args, "", 0);
  buf_add(&bins, "", 0);
  for (i = 0; i < d->n; i++) {
    const struct ditem *it = d->it + i;

    if (it->kind != DK_BIN) continue;
    for (j = 0; j < i; j++)
      if (d->it[j].kind == DK_BIN && !strcmp(d->it[j].pkg, it->pkg)) break;
    if (j == i) {
      q = xasprintf(" --package %s", it->pkg);   /* [A-Za-z0-9_-] only */
      buf_add(&args, q, strlen(q));
      free(q);
    }
    q = xasprintf(" --bin %s", it->bin);
    buf_add(&args, q, strlen(q));
    buf_add(&bins, q + 6, strlen(q + 6));
    free(q);
  }
  cmd = xasprintf(
    "cd %s 2>/dev/null || exit 90; PATH=\"$HOME/.cargo/bin:$PATH\"; "
    "command -v cargo >/dev/null 2>&1 || exit 91; mkdir -p target || exit 92; "
    "l=target/.mvm-build.log; "
    "if ! cargo build --release%s > \"$l\" 2>&1; then tail -n 30 \"$l\"; "
    "exit 92; fi; for b in%s; do printf '%%s %%s\\n' \"$b\" "
    "\"$(sha256sum < \"target/release/$b\" | cut -d' ' -f1)\"; done",
    qs, args.s, bins.s);
  free(qs);
  free(args.s);
  free(bins.s);
  return cmd;
}

static int nunits(const struct deploy *d)
{
  int i, n = 0;

  for (i = 0; i < d->n; i++) n += d->it[i].kind == DK_UNIT;
  return n;
}

/* ~mvm/NAME is NAME in mvm's home ($H), in the remote shell. */
static const char home_fix[] =
  "H=$(getent passwd mvm | cut -d: -f6); "
  "fix() { case $1 in '~mvm/'*) p=$H/${1#'~mvm/'};; *) p=$1;; esac; }; ";

/* Prints "home DIR", then "s PATH MODE:OWNER:GROUP" (one stat) and "HEX
 * PATH" (one sha256sum) for the files that exist, "secret HEX", "users
 * ok", "units ok" when so, and "end": a handful of processes in all. */
char *deploy_probe_cmd(const struct deploy *d)
{
  static const char head[] = "echo \"home $H\"; set --; for f in";
  struct buf b = { 0 };
  char *units = deploy_units(d, 0), *cmd;
  int i;

  buf_add(&b, home_fix, strlen(home_fix));
  buf_add(&b, head, strlen(head));
  for (i = 0; i < d->n; i++) {
    char *q = sh_quote(d->it[i].path);

    buf_add(&b, " ", 1);
    buf_add(&b, q, strlen(q));
    free(q);
  }
  cmd = xasprintf(
    "; do fix \"$f\"; [ -f \"$p\" ] && set -- \"$@\" \"$p\"; done; "
    "if [ $# -gt 0 ]; then stat -c 's %%n %%a:%%U:%%G' \"$@\"; "
    "sha256sum \"$@\"; fi; "
    "s=$(cat /etc/mvmd/hmac.secret 2>/dev/null) && echo \"secret $s\"; "
    "[ -n \"$H\" ] && getent group kvm >/dev/null && "
    "getent passwd mvmd >/dev/null && [ -d /var/lib/mvm ] && "
    "[ \"$(stat -c %%a:%%U:%%G /etc/mvmd 2>/dev/null)\" = 750:root:mvmd ] "
    "&& echo users ok; "
    "[ \"$(systemctl show -p UnitFileState -p ActiveState %s 2>/dev/null | "
    "grep -cx -e UnitFileState=enabled -e ActiveState=active)\" = %d ] && "
    "echo units ok; echo end",
    units, 2 * nunits(d));
  buf_add(&b, cmd, strlen(cmd));
  free(cmd);
  free(units);
  cmd = as_root(b.s);
  free(b.s);
  return cmd;
}

char *deploy_apply_cmd(const struct deploy *d, const char *src)
{
  struct buf b = { 0 };
  char *units = deploy_units(d, 0), *restart = deploy_units(d, 1), *s, *q;
  int i, reload = 0;

  s = xasprintf("set -u; umask 077; %s"
    "[ -n \"$H\" ] || { echo 'no user mvm on the host' >&2; exit 80; }; "
    "getent group kvm >/dev/null || groupadd --system kvm || exit 81; "
    "getent group mvmd >/dev/null || groupadd --system mvmd || exit 81; "
    "getent passwd mvmd >/dev/null || useradd --system --gid mvmd "
    "--groups kvm --no-create-home --home-dir /nonexistent "
    "--shell /usr/sbin/nologin mvmd || exit 81; "
    "install -d -m 0750 -o root -g mvmd /etc/mvmd || exit 82; "
    "[ -d /var/lib/mvm ] || install -d -m 0755 -o mvm -g mvm /var/lib/mvm "
    "|| exit 82; t=$(mktemp -d /etc/mvmd/.mvm-stage.XXXXXX) || exit 83; "
    "trap 'rm -rf \"$t\"' EXIT; "
    "tar -x --no-same-owner -C \"$t\" -f - || exit 84; "
    "put() { fix \"$5\"; n=${p%%/*}/.${p##*/}.mvm-new; "
    "if [ -n \"$1\" ]; then cp \"$t/$1\" \"$n\"; else cp \"$6\" \"$n\"; fi "
    "&& { [ -z \"$7\" ] || [ \"$(sha256sum < \"$n\" | cut -d' ' -f1)\" = "
    "\"$7\" ]; } && chown \"$3:$4\" \"$n\" && chmod \"$2\" \"$n\" && "
    "mv -f \"$n\" \"$p\" || { rm -f \"$n\"; "
    "echo \"cannot install $p\" >&2; exit 85; }; }; ", home_fix);
  buf_add(&b, s, strlen(s));
  free(s);
  for (i = 0; i < d->n; i++) {
    const struct ditem *it = d->it + i;
    char *line;

    if (!it->changed) continue;
    if (it->kind == DK_UNIT) reload = 1;
    q = sh_quote(it->path);
    if (it->kind == DK_BIN) {
      char *from = xasprintf("%s/target/release/%s", src, it->bin);

      s = sh_quote(from);
      line = xasprintf("put '' %o %s %s %s %s %s; ", it->mode, it->owner,
                       it->group, q, s, it->sum);
      free(from);
      free(s);
    } else {
      line = xasprintf("put %d %o %s %s %s '' ''; ", i, it->mode, it->owner,
                       it->group, q);
    }
    buf_add(&b, line, strlen(line));
    free(line);
    free(q);
  }
  s = xasprintf("%s systemctl enable --quiet %s || exit 86; "
                "%s%s%s systemctl start %s; exit 0",
                reload ? "systemctl daemon-reload || exit 86;" : "", units,
                *restart ? "systemctl restart " : "", restart,
                *restart ? ";" : "", units);
  buf_add(&b, s, strlen(s));
  free(s);
  free(units);
  free(restart);
  s = as_root(b.s);
  free(b.s);
  return s;
}

static int add_item(struct tarz *tz, const struct ditem *it, int i)
{
  char name[16];

  snprintf(name, sizeof(name), "%d", i);
  return tarz_add_data(tz, name, it->data, it->len, 0600);
}

int deploy_apply_send(const struct deploy *d,
                      int (*sink)(void *, const void *, size_t), void *arg)
{
  struct tarz *tz = tarz_open(sink, arg, -1);
  int i, rc = 0;

  for (i = 0; !rc && i < d->n; i++)
    if (d->it[i].changed && d->it[i].kind != DK_BIN)
      rc = add_item(tz, d->it + i, i);
  if (tarz_close(tz, NULL)) rc = -1;
  return rc;
}

/* Prints "ok kept|written" or "fail UNIT WHY" and the unit's journal tail.
 * A unit passes once active with its main process settle seconds old; it
 * fails at once when it failed, is waiting to restart or restarted since
 * we looked (a crash), and when limit seconds pass without that. One
 * systemctl and one ps per look, whatever the number of units. */
char *deploy_verify_cmd(const struct deploy *d, int settle, int limit)
{
  char *units = deploy_units(d, 0), *s, *cmd;

  s = xasprintf(
    "units='%s'; end=$(( $(date +%%s) + %d )); "
    "show() { systemctl show -p Id -p ActiveState -p SubState -p NRestarts "
    "-p MainPID $units; }; "
    "base=$(show | sed -n 's/^NRestarts=//p'); "
    "bad() { echo \"fail $1 $2\"; journalctl -u \"$1\" -n 30 --no-pager "
    "2>&1; exit 1; }; "
    "chk() { if [ \"$2\" = failed ] || [ \"$3\" = auto-restart ] || "
    "[ \"$4\" -gt \"$6\" ]; then bad \"$1\" \"$2/$3, restarted $(($4 - $6)) "
    "time(s)\"; fi; [ \"$2\" != inactive ] || bad \"$1\" \"exited ($3)\"; "
    "if [ \"$2\" = active ] && [ \"$5\" -gt 0 ]; then "
    "pids=\"$pids${pids:+,}$5\"; else wait=\"$1 $2/$3\"; fi; }; "
    "while :; do wait=; pids=; U=; set -- $base; "
    "while IFS== read -r k v; do case $k in Id) U=$v;; ActiveState) A=$v;; "
    "SubState) S=$v;; NRestarts) N=${v:-0};; MainPID) P=${v:-0};; "
    "'') if [ -n \"$U\" ]; then chk \"$U\" \"$A\" \"$S\" \"$N\" \"$P\" "
    "\"${1:-0}\"; [ $# = 0 ] || shift; U=; fi;; esac; done <<EOF\n$(show)\n\nEOF\n"
    "if [ -z \"$wait\" ] && [ \"$(ps -o etimes= -p \"$pids\" | "
    "awk -v s=%d '$1 >= s' | wc -l)\" = %d ]; then break; fi; "
    "[ -n \"$wait\" ] || wait=\"$units starting\"; "
    "[ \"$(date +%%s)\" -lt \"$end\" ] || bad \"${wait%%%% *}\" "
    "\"still ${wait#* } after %ds\"; sleep 0.3; done; "
    "w='ready\n%s'; if [ \"$(cat /etc/mvm-deploy-status 2>/dev/null)\" = "
    "\"$w\" ]; then echo ok kept; exit 0; fi; "
    "n=/etc/.mvm-deploy-status.new; printf '%%s\\n' \"$w\" > \"$n\" && "
    "chmod 0644 \"$n\" && mv -f \"$n\" /etc/mvm-deploy-status && "
    "echo ok written",
    units, limit, settle, nunits(d), limit, d->want);
  cmd = as_root(s);
  free(s);
  free(units);
  return cmd;
}
