/* applets/postdeploy.c - mvm-postdeploy: stage 2 of the deploy on each host
 * of the records, over one SSH session: build the binaries with cargo in
 * the synced tree, install those whose content changed, render the configs
 * (one HMAC secret per host, made once), install the units, start them,
 * restart only those whose file, binary or config changed, verify, write
 * /etc/mvm-deploy-status. Every step compares before it acts, so a re-run
 * on a deployed host only builds (a no-op) and verifies. lib/deploy*.c
 * hold the desired state and the remote commands. */
#include "mvm.h"
#include "ssh/ssh.h"
#include "sync/sync.h"
#include "deploy/deploy.h"
#include <getopt.h>

const char postdeploy_usage[] =
"usage: mvm-postdeploy [-qv] [-i IDENTITY] [-u USER] [-j N] [-t TIMEOUT] "
"[--src DIR] [--bin PACKAGE:BINARY] [--rotate-secret] [--templates DIR] "
"[HOST...]\n"
"\n"
"On each host of the records on stdin (or the HOSTs given): build the mvmd\n"
"binaries, install them, render /etc/mvmd/{coordinator,gateway}.toml with\n"
"the host's HMAC secret (made once), install and start the four units,\n"
"verify they stay active and write /etc/mvm-deploy-status; print each\n"
"record with stage=ready. Idempotent: a re-run changes only what differs.\n"
"\n"
"  --src DIR         the synced mvmd tree on the host\n"
"                    (default /home/mvm/mvmd)\n"
"  --bin PKG:BIN     build binary BIN of cargo package PKG; repeatable\n"
"                    (default mvmd:mvmd and mvmd-runtime:mvm-hostd)\n"
"  --rotate-secret   a new HMAC secret even if the host has one\n"
"  --templates DIR   configs and units from DIR (default: templates/ of\n"
"                    this mvmbox: the source tree or share/mvmbox)\n"
"  -t TIMEOUT        connect timeout per host, seconds (default 30)\n"
"  -i IDENTITY       key file (default MVM_SSH_KEY, agent, ~/.ssh/id_*)\n"
"  -u USER           login user for records without user= (default mvm)\n"
"  -j N              hosts at once (default 8); -q quiet; -v debug\n";

#define OUT_MAX (1 << 20)
#define SETTLE 2            /* seconds a unit's process must have lived */
#define VERIFY_LIMIT 90     /* seconds for all units to get there */

static struct {
  struct ssh_opts o;
  int jobs, rotate, tty;
  const char *src;
  char **bins;
  int nbins;
} TT;

/* Remote text on stderr, one "mvm-postdeploy: HOST: WHAT: line" each, made
 * safe for a terminal; not hidden by -q: it explains a failure. */
static void show(const char *what, char *text)
{
  char *line, *save = NULL, *p, *msg;

  for (line = strtok_r(text, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    for (p = line; *p; p++)
      if ((unsigned char)*p < 32 || *p == 127) *p = '?';
    msg = xasprintf("%s: %s: %s: %s\n", mvm.applet, mvm.host, what, line);
    writeall(2, msg, strlen(msg));
    free(msg);
  }
}

/* -1 with mvm.err "STEP: " + what it said (error() must not read the
 * buffer it writes). */
static int step_fail(const char *step)
{
  char why[sizeof(mvm.err)];

  snprintf(why, sizeof(why), "%s", mvm.err);
  return error("%s: %s", step, why);
}

/* The compiler's own words: the first "error..." line, else the last. */
static const char *cause(char *out)
{
  char *p;

  for (p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
    if (!strncmp(p, "error", 5)) {
      char *c = xstrndup(p, strcspn(p, "\n"));

      snprintf(mvm.err, sizeof(mvm.err), "%s", c);
      free(c);
      return mvm.err;
    }
  return last_line(out);
}

/* The binary item of package pkg (cargo's "could not compile `pkg`"),
 * else the first one. */
static const struct ditem *culprit(const struct deploy *d, const char *out)
{
  const char *p = strstr(out, "could not compile `");
  const struct ditem *first = NULL;
  size_t n;
  int i;

  for (i = 0; i < d->n; i++) {
    const struct ditem *it = d->it + i;

    if (it->kind != DK_BIN) continue;
    if (!first) first = it;
    n = strlen(it->pkg);
    if (p && !strncmp(p + 19, it->pkg, n) && p[19 + n] == '`') return it;
  }
  return first;
}

/* One cargo run for every binary; each one's SHA-256 into d. */
static int build(struct ssh *s, struct deploy *d)
{
  char *cmd = deploy_build_cmd(d, TT.src), *out = NULL, *line, *save = NULL;
  char why[sizeof(mvm.err)], bin[64], sum[65];
  const struct ditem *it;
  struct ssh_chan *c;
  double start = now_s();
  int rc, i, got = 0;

  status("build");
  c = ssh_chan_open(s, cmd);
  free(cmd);
  if (!c) return step_fail("build");
  while ((rc = ssh_chan_poll(c, 1.0)) == 0)
    status("build %.0fs", now_s() - start);
  if (rc < 0) {
    ssh_chan_abort(c);
    return step_fail("build");
  }
  rc = ssh_chan_finish(c, &out, NULL, OUT_MAX);
  if (rc == 92) {
    char *tail = xstrdup(out);

    show("cargo", tail);
    free(tail);
    it = culprit(d, out);
    snprintf(why, sizeof(why), "%s", cause(out));
    rc = error("build: package %s (binary %s): cargo build failed: %s",
               it->pkg, it->bin, why);
  } else if (rc == 90) {
    rc = error("build: no tree at %s (run mvm-sync first)", TT.src);
  } else if (rc == 91) {
    rc = error("build: no cargo on the host (PATH, ~/.cargo/bin)");
  } else if (rc > 0) {
    rc = error("build: remote sh failed (exit %d)", rc);
  } else if (rc < 0) {
    rc = step_fail("build");
  }
  for (line = rc ? NULL : strtok_r(out, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save))
    if (sscanf(line, "%63s %64s", bin, sum) == 2 && strlen(sum) == 64 &&
        strspn(sum, "0123456789abcdef") == 64) {
      deploy_set_bin(d, bin, sum);
      got++;
    }
  for (i = 0; !rc && i < d->n; i++)
    if (d->it[i].kind == DK_BIN && !*d->it[i].sum)
      rc = error("build: package %s: no target/release/%s after the build",
                 d->it[i].pkg, d->it[i].bin);
  debug("built %d binaries in %.1fs", got, now_s() - start);
  free(out);
  return rc;
}

static int probe(struct ssh *s, struct deploy *d)
{
  char *cmd = deploy_probe_cmd(d), *out = NULL;
  size_t len = 0;
  int rc;

  status("probe");
  rc = ssh_run(s, cmd, &out, &len, OUT_MAX);
  free(cmd);
  if (rc < 0) return step_fail("probe");
  if (rc > 0)
    rc = error("probe: cannot run as root: sudo -n failed (exit %d); the "
               "login user needs passwordless sudo", rc);
  else if (deploy_parse(d, out))
    rc = step_fail("probe");
  if (out) freezero(out, len);   /* it held the host's secret */
  return rc;
}

static int chan_sink(void *arg, const void *buf, size_t n)
{
  return ssh_chan_write(arg, buf, n);
}

static int apply(struct ssh *s, struct deploy *d)
{
  static const char *const why[] = {
    "no user mvm on the host", "cannot create the users mvmd, kvm",
    "cannot create /etc/mvmd or /var/lib/mvm", "cannot make a staging dir",
    "cannot unpack the files", "cannot install a file",
    "systemctl daemon-reload or enable failed" };
  char *cmd = deploy_apply_cmd(d, TT.src);
  struct ssh_chan *c;
  int rc;

  status("install");
  c = ssh_chan_open(s, cmd);
  free(cmd);
  if (!c) return step_fail("install");
  if (deploy_apply_send(d, chan_sink, c)) {
    rc = step_fail("install");
    ssh_chan_abort(c);
    return rc;
  }
  rc = ssh_chan_finish(c, NULL, NULL, 0);
  if (rc >= 80 && rc <= 86) return error("install: %s", why[rc - 80]);
  if (rc < 0) return step_fail("install");
  if (rc) return error("install: remote sh failed (exit %d)", rc);
  return 0;
}

static int verify(struct ssh *s, struct deploy *d, int *written)
{
  char *cmd = deploy_verify_cmd(d, SETTLE, VERIFY_LIMIT), *out = NULL, *nl;
  char unit[64] = "", why[96] = "";
  int rc;

  status("verify");
  ssh_set_deadline(s, now_s() + VERIFY_LIMIT + 60);
  rc = ssh_run(s, cmd, &out, NULL, OUT_MAX);
  ssh_set_deadline(s, 0);
  free(cmd);
  if (rc < 0) return step_fail("verify");
  if (rc == 0 && !strncmp(out, "ok ", 3)) {
    *written = !strncmp(out, "ok written", 10);
    free(out);
    return 0;
  }
  if (sscanf(out, "fail %63s %95[^\n]", unit, why) < 1) {
    free(out);
    return error("verify: remote sh failed (exit %d)", rc);
  }
  nl = strchr(out, '\n');
  if (nl && nl[1]) {
    char *tail = xstrdup(nl + 1);

    show("journal", tail);
    free(tail);
  }
  rc = error("verify: %s did not start: %s; journal: %s", unit, why,
             nl && nl[1] ? last_line(nl + 1) : "(empty)");
  free(out);
  return rc;
}

static void report(const struct deploy *d)
{
  struct buf b = { 0 };
  char *r = deploy_units(d, 1);
  int i;

  buf_add(&b, "", 0);
  for (i = 0; i < d->n; i++) {
    if (!d->it[i].changed) continue;
    if (b.len) buf_add(&b, ", ", 2);
    buf_add(&b, d->it[i].path, strlen(d->it[i].path));
  }
  if (!b.len && deploy_pending(d)) info("nothing changed; starting units");
  else if (!b.len) info("nothing changed: verifying only");
  else info("changed: %s%s%s%s", b.s, d->fresh ? " (new secret)" : "",
            *r ? "; restart: " : "", r);
  free(b.s);
  free(r);
}

/* The next step, as the original's up.sh said it. */
static void ready_line(const struct rec *r)
{
  const char *user = rec_get(r, "user");
  char host[256], port[32] = "", *line;
  int p;

  if (rec_hostport(r, host, sizeof(host), &p, 22)) return;
  if (p != 22) snprintf(port, sizeof(port), "-p %d ", p);
  line = xasprintf("ready: ssh %s%s@%s 'bash ~/smoke-mvmd.sh'\n", port,
                   user ? user : TT.o.user ? TT.o.user : "mvm", host);
  writeall(2, line, strlen(line));
  free(line);
}

static int postdeploy_one(struct rec *r, void *arg)
{
  struct deploy d;
  struct ssh *s;
  int rc = -1, written = 0;

  (void)arg;
  deploy_init(&d, TT.bins, TT.nbins);
  d.rotate = TT.rotate;
  if (!(s = ssh_open(r, &TT.o))) goto out;
  if (build(s, &d)) goto out;
  if (probe(s, &d)) goto out;
  status("render");
  if (deploy_render(&d, r)) {
    step_fail("render");
    goto out;
  }
  report(&d);
  if (deploy_pending(&d) && apply(s, &d)) goto out;
  if (verify(s, &d, &written)) goto out;
  info("ready (%s /etc/mvm-deploy-status)", written ? "wrote" : "kept");
  rec_set(r, "stage", "ready");
  rc = 0;
  if (TT.tty) ready_line(r);
out:
  if (rc) {
    char *line = xasprintf("%s: %s: error: %s\n", mvm.applet, mvm.host,
                           mvm.err);

    writeall(2, line, strlen(line));
    free(line);
  }
  ssh_close(s);
  deploy_release(&d);
  return rc;
}

static void add_bin(char *arg, int *defaults)
{
  char *colon = strchr(arg, ':');
  const char *ok = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                   "0123456789_-";

  if (!colon || colon == arg || !colon[1] || strspn(arg, ok) != 
      (size_t)(colon - arg) || strspn(colon + 1, ok) != strlen(colon + 1))
    help_exit("bad --bin '%s': want PACKAGE:BINARY", arg);
  if (*defaults) TT.nbins = 0;
  *defaults = 0;
  if (TT.nbins >= DEPLOY_MAX - 10) help_exit("too many --bin");
  TT.bins[TT.nbins++] = arg;
}

int postdeploy_main(int argc, char **argv)
{
  static const struct option longopts[] = {
    { "src", required_argument, NULL, 'S' },
    { "bin", required_argument, NULL, 'B' },
    { "rotate-secret", no_argument, NULL, 'R' },
    { "templates", required_argument, NULL, 'T' },
    { NULL, 0, NULL, 0 }
  };
  static char *defbins[] = { "mvmd:mvmd", "mvmd-runtime:mvm-hostd" };
  struct run_opts ro = { .stage = "ready", .each = postdeploy_one };
  const char *tdir = NULL, *dir;
  int c, defaults = 1;

  TT.o.timeout = 30;
  TT.jobs = 8;
  TT.src = "/home/mvm/mvmd";
  TT.bins = xmalloc((argc + 2) * sizeof(char *));
  TT.bins[0] = defbins[0];
  TT.bins[1] = defbins[1];
  TT.nbins = 2;
  while ((c = getopt_long(argc, argv, "qv" SSH_OPTSTR, longopts, NULL)) != -1)
  {
    if (ssh_common_opt(c, optarg, &TT.o, &TT.jobs)) continue;
    switch (c) {
    case 'q': mvm.quiet = 1; break;
    case 'v': mvm.verbose = 1; break;
    case 'S':
      if (*optarg != '/') help_exit("--src must be absolute: '%s'", optarg);
      TT.src = optarg;
      break;
    case 'B': add_bin(optarg, &defaults); break;
    case 'R': TT.rotate = 1; break;
    case 'T': tdir = optarg; break;
    default: help_exit(NULL);
    }
  }
  /* Read from disk at run time, not built in: editing a template needs
   * no rebuild, and the installed ones sit in share/mvmbox/templates. */
  if (!(dir = tmpl_dir(tdir)) || deploy_templates(dir)) die("%s", mvm.err);
  TT.tty = isatty(2) && !mvm.quiet;
  ro.jobs = TT.jobs;
  ro.hosts = argv + optind;
  return run_records(&ro);
}
