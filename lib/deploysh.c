/* lib/deploysh.c - the remote sh commands of mvm-postdeploy (lib/deploy.h):
 * build as the login user, then probe, install and verify as root (sudo
 * -n unless the login is root). A command line never holds the secret:
 * file contents go up as a tar stream on the channel's stdin, into a
 * root-only staging dir, and land by rename with their final mode. */
#include "mvm.h"

/* Run script as root: directly when logged in as root, else sudo -n. */
static char *as_root(const char *script)
{
  char *q = sh_quote(script), *cmd;

  cmd = xasprintf("if [ \"$(id -u)\" = 0 ]; then exec sh -c %s; fi; "
                  "exec sudo -n sh -c %s", q, q);
  free(q);
  return cmd;
}

/* Exit 90: no tree; 91: no cargo; 92: the build failed (stdout: the
 * log's tail); 0: stdout is the binary's SHA-256. */
char *deploy_build_cmd(const char *src, const char *pkg, const char *bin)
{
  char *qs = sh_quote(src), *qp = sh_quote(pkg), *qb = sh_quote(bin), *cmd;

  cmd = xasprintf(
    "cd %s 2>/dev/null || exit 90; PATH=\"$HOME/.cargo/bin:$PATH\"; "
    "command -v cargo >/dev/null 2>&1 || exit 91; mkdir -p target || exit 92; "
    "l=target/.mvm-build-%s.log; "
    "if ! cargo build --release --package %s --bin %s > \"$l\" 2>&1; then "
    "tail -n 30 \"$l\"; exit 92; fi; "
    "sha256sum < target/release/%s | cut -d' ' -f1",
    qs, bin, qp, qb, qb);
  free(qs);
  free(qp);
  free(qb);
  return cmd;
}

/* ~mvm/NAME -> $H/NAME, in the remote shell. */
static const char home_fix[] =
  "H=$(getent passwd mvm | cut -d: -f6); "
  "fix() { case $1 in '~mvm/'*) echo \"$H/${1#'~mvm/'}\";; *) echo \"$1\";; "
  "esac; }; ";

char *deploy_probe_cmd(const struct deploy *d)
{
  struct buf b = { 0 };
  char *units = deploy_units(d, 0), *cmd;
  int i;

  buf_add(&b, home_fix, strlen(home_fix));
  buf_add(&b, "for f in", 8);
  for (i = 0; i < d->n; i++) {
    char *q = sh_quote(d->it[i].path);

    buf_add(&b, " ", 1);
    buf_add(&b, q, strlen(q));
    free(q);
  }
  cmd = xasprintf(
    "; do p=$(fix \"$f\"); if [ -f \"$p\" ]; then "
    "printf 'f %%s %%s %%s\\n' \"$f\" \"$(stat -c %%a:%%U:%%G \"$p\")\" "
    "\"$(sha256sum < \"$p\" | cut -d' ' -f1)\"; fi; done; "
    "s=$(cat /etc/mvmd/hmac.secret 2>/dev/null) && echo \"secret $s\"; "
    "[ -n \"$H\" ] && getent group kvm >/dev/null && "
    "getent passwd mvmd >/dev/null && [ -d /var/lib/mvm ] && "
    "[ \"$(stat -c %%a:%%U:%%G /etc/mvmd 2>/dev/null)\" = 750:root:mvmd ] "
    "&& echo users ok; ok=1; for u in %s; do "
    "systemctl is-enabled --quiet \"$u\" 2>/dev/null && "
    "systemctl is-active --quiet \"$u\" || ok=0; done; "
    "[ $ok = 1 ] && echo units ok; echo end",
    units);
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
    "put() { p=$(fix \"$5\"); n=$(dirname \"$p\")/.$(basename \"$p\").mvm-new; "
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
 * we looked (a crash), and when limit seconds pass without that. */
char *deploy_verify_cmd(const struct deploy *d, int settle, int limit)
{
  char *units = deploy_units(d, 0), *s, *cmd;

  s = xasprintf(
    "units='%s'; end=$(( $(date +%%s) + %d )); base=; "
    "for u in $units; do base=\"$base $(systemctl show -p NRestarts --value "
    "\"$u\")\"; done; "
    "st() { A=; S=; N=0; P=0; while IFS== read -r k v; do case $k in "
    "ActiveState) A=$v;; SubState) S=$v;; NRestarts) N=${v:-0};; "
    "MainPID) P=${v:-0};; esac; done <<EOF\n"
    "$(systemctl show -p ActiveState -p SubState -p NRestarts -p MainPID "
    "\"$1\")\nEOF\n}; "
    "bad() { echo \"fail $1 $2\"; journalctl -u \"$1\" -n 30 --no-pager "
    "2>&1; exit 1; }; "
    "while :; do wait=; set -- $base; for u in $units; do b=$1; shift; "
    "st \"$u\"; "
    "if [ \"$A\" = failed ] || [ \"$S\" = auto-restart ] || "
    "[ \"$N\" -gt \"$b\" ]; then bad \"$u\" \"$A/$S, restarted $((N - b)) "
    "time(s)\"; fi; "
    "if [ \"$A\" = inactive ]; then bad \"$u\" \"exited ($S)\"; fi; "
    "a=; [ \"$A\" = active ] && [ \"$P\" -gt 0 ] && "
    "a=$(ps -o etimes= -p \"$P\" | tr -d ' '); "
    "[ \"${a:-0}\" -ge %d ] || wait=\"$u $A/$S\"; done; "
    "[ -z \"$wait\" ] && break; "
    "[ \"$(date +%%s)\" -lt \"$end\" ] || bad ${wait%%%% *} "
    "\"still ${wait#* } after %ds\"; sleep 0.3; done; "
    "w='ready\n%s'; if [ \"$(cat /etc/mvm-deploy-status 2>/dev/null)\" = "
    "\"$w\" ]; then echo ok kept; exit 0; fi; "
    "n=/etc/.mvm-deploy-status.new; printf '%%s\\n' \"$w\" > \"$n\" && "
    "chmod 0644 \"$n\" && mv -f \"$n\" /etc/mvm-deploy-status && "
    "echo ok written",
    units, limit, settle, limit, d->want);
  cmd = as_root(s);
  free(s);
  free(units);
  return cmd;
}
