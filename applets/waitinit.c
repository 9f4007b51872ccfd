/* applets/waitinit.c - mvm-waitinit: wait until each host is really ready:
 * SSH answers and a real authenticated command runs (host key pinned or
 * trusted on first use), then cloud-init has finished (one `cloud-init
 * status --wait` on one connection, reconnecting if the host drops it),
 * then an optional marker file exists. Records leave with stage=init. */
#include "mvm.h"
#include "json.h"
#include "ssh/ssh.h"

const char waitinit_usage[] =
"usage: mvm-waitinit [-qv] [--strict] [--marker PATH] [-t TIMEOUT] "
"[-i IDENTITY] [-u USER] [-j N] [HOST...]\n"
"\n"
"Wait for each host of the records on stdin (or the HOSTs given) to accept\n"
"SSH and finish cloud-init; print each record with stage=init (and\n"
"hostkey=SHA256:... when it had none) as soon as its host is ready.\n"
"\n"
"  -t TIMEOUT     per host, seconds (or Nm, Nh); default 20m\n"
"  -i IDENTITY    private key file, not the .pub (default: MVM_SSH_KEY,\n"
"                 ssh-agent, ~/.ssh/id_ed25519, id_ecdsa, id_rsa)\n"
"  -u USER        login user for records without user= (default mvm)\n"
"  -j N           hosts at once (default 32)\n"
"  --strict       fail a host whose cloud-init finished degraded\n"
"  --marker PATH  also wait until PATH exists on the host\n"
"  -q             quiet: no progress or remote output\n"
"  -v             debug output\n"
"\n"
"A host given by name takes HostName, Port, User and IdentityFile from\n"
"~/.ssh/config where the record and the options do not say.\n";

#define STATUS_MAX (1 << 20)

static struct {
  struct ssh_opts o;
  int jobs, strict;
  const char *marker;
} TT;

/* Show remote text line by line, made safe for a terminal. */
static void show(const char *what, char *text)
{
  char *line, *save = NULL, *p;

  for (line = strtok_r(text, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    for (p = line; *p; p++)
      if (((unsigned char)*p < 32 && *p != '\t') || *p == 127) *p = '?';
    info("%s%s", what, line);
  }
}

/* What cloud-init says, from --format json or, on old versions, --long. */
struct ci {
  char status[32], ext[32];
  char *errors;          /* one per line */
  char *recoverable;
};

static int ci_parse_json(struct ci *ci, const char *out, size_t len)
{
  struct json *j = json_parse(out, len);

  if (!j || !json_text(j, ci->status, sizeof(ci->status), "status")) {
    json_free(j);
    return -1;
  }
  json_text(j, ci->ext, sizeof(ci->ext), "extended_status");
  json_strings(json_get(j, "errors"), &ci->errors);
  json_strings(json_get(j, "recoverable_errors"), &ci->recoverable);
  json_free(j);
  return 0;
}

/* `cloud-init status --long` of any version: "status: X", then a detail
 * and (newer) an "errors:" list; old versions put the error in detail. */
static int ci_parse_long(struct ci *ci, char *out)
{
  char *line, *save = NULL, *list = NULL, **to = NULL;

  for (line = strtok_r(out, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    if (!strncmp(line, "status: ", 8))
      snprintf(ci->status, sizeof(ci->status), "%s", line + 8);
    else if (!strncmp(line, "extended_status: ", 17))
      snprintf(ci->ext, sizeof(ci->ext), "%s", line + 17);
    else if (!strcmp(line, "detail:") || !strcmp(line, "errors:"))
      to = &ci->errors;
    else if (!strcmp(line, "recoverable_errors:"))
      to = &ci->recoverable;
    else if (to && (*line == '\t' || *line == ' ' || *line == '(' ||
                    !strchr(line, ':'))) {
      list = *to;
      line += strspn(line, "\t -");
      *to = xasprintf("%s%s\n", list ? list : "", line);
      free(list);
    } else {
      to = NULL;
    }
  }
  return *ci->status ? 0 : -1;
}

/* Ask for the details: 0, or 1 on a transport error. */
static int ci_details(struct ssh *s, struct ci *ci)
{
  char *out = NULL;
  size_t len;
  int rc;

  rc = ssh_run(s, "cloud-init status --format json 2>/dev/null", &out, &len,
               STATUS_MAX);
  if (rc < 0) return 1;
  if (ci_parse_json(ci, out, len) == 0) goto out;
  free(out);
  out = NULL;
  if (ssh_run(s, "cloud-init status --long", &out, &len, STATUS_MAX) < 0)
    return 1;
  if (ci_parse_long(ci, out)) snprintf(ci->status, sizeof(ci->status), "?");
out:
  free(out);
  return 0;
}

static void log_tail(struct ssh *s)
{
  char *out = NULL;

  if (ssh_run(s, "L=${MVM_CLOUDINIT_LOG:-/var/log/cloud-init-output.log}; "
              "tail -n 40 \"$L\" 2>/dev/null || sudo -n tail -n 40 \"$L\"",
              &out, NULL, STATUS_MAX) >= 0 && out && *out) {
    info("last lines of cloud-init-output.log:");
    show("| ", out);
  }
  free(out);
}

/* Decide on the details: 0 ready, -1 failed (mvm.err), 2 still running. */
static int ci_judge(struct ssh *s, struct ci *ci, int exitcode)
{
  int degraded = !strncmp(ci->ext, "degraded", 8) ||
                 (exitcode == 2 && !strcmp(ci->status, "done"));

  if (!strcmp(ci->status, "error") || !strncmp(ci->ext, "error", 5)) {
    if (ci->errors) show("cloud-init error: ", ci->errors);
    log_tail(s);
    return error("cloud-init failed");
  }
  if (!strcmp(ci->status, "running") || !strcmp(ci->status, "not run"))
    return 2;
  if (degraded) {
    if (ci->recoverable) show("cloud-init recoverable error: ",
                              ci->recoverable);
    if (TT.strict) return error("cloud-init degraded");
    warn("cloud-init finished degraded (recoverable errors); "
         "use --strict to fail");
    return 0;
  }
  if (!strcmp(ci->status, "done") || !strcmp(ci->status, "disabled"))
    return 0;
  return error("cloud-init status %s (exit %d)", ci->status, exitcode);
}

/* The progress line: the stage cloud-init is in, from its status.json
 * (a cat every 10 s, no Python start), and the time so far. */
static void progress(struct ssh *s, double start)
{
  static double next;
  static char stage[40];
  char *out = NULL;
  struct json *j;
  char v[32];

  if (now_s() >= next) {
    next = now_s() + 10;
    if (ssh_run(s, "cat \"${MVM_CLOUDINIT_RUN:-/run/cloud-init}/status.json"
                "\" 2>/dev/null", &out, NULL, STATUS_MAX) == 0 &&
        (j = json_parse(out, strlen(out)))) {
      if (json_text(j, v, sizeof(v), "v1.stage"))
        snprintf(stage, sizeof(stage), ": %s", v);
      json_free(j);
    }
    free(out);
  }
  status("cloud-init running%s %.0fs", stage, now_s() - start);
}

/* 0 done, -1 failed (mvm.err), 1 transport error (reconnect). */
static int wait_cloudinit(struct ssh *s, double start)
{
  struct ssh_chan *c;
  struct ci ci;
  int rc;

  for (;;) {
    /* Its dots come to us (and are dropped): when we go away, the next
     * dot gets SIGPIPE, so no --wait is left behind on the host. */
    c = ssh_chan_open(s, "command -v cloud-init >/dev/null 2>&1 || exit 127;"
                         " exec cloud-init status --wait");
    if (!c) return 1;
    while ((rc = ssh_chan_poll(c, 1.0)) == 0)
      progress(s, start);
    if (rc < 0) {
      ssh_chan_abort(c);
      return 1;
    }
    if ((rc = ssh_chan_finish(c, NULL, NULL, 0)) < 0) return 1;
    if (rc == 0) {
      info("cloud-init status: done after %.1fs", now_s() - start);
      return 0;
    }
    if (rc == 127) {
      info("no cloud-init on the host: nothing to wait for");
      return 0;
    }
    memset(&ci, 0, sizeof(ci));
    if (ci_details(s, &ci)) return 1;
    rc = ci_judge(s, &ci, rc);
    free(ci.errors);
    free(ci.recoverable);
    if (rc != 2) return rc;
    usleep(500000);     /* --wait returned early: wait again */
  }
}

/* 0 once the marker exists, 1 on a transport error. */
static int wait_marker(struct ssh *s, double start)
{
  char *q = sh_quote(TT.marker), *cmd;
  struct ssh_chan *c;
  int rc;

  /* The dots make the loop die of SIGPIPE once we are gone. */
  cmd = xasprintf("while [ ! -e %s ]; do sleep 0.2 2>/dev/null || sleep 1;"
                  " printf .; done", q);
  c = ssh_chan_open(s, cmd);
  free(q);
  free(cmd);
  if (!c) return 1;
  while ((rc = ssh_chan_poll(c, 1.0)) == 0)
    status("waiting for %s %.0fs", TT.marker, now_s() - start);
  if (rc < 0) {
    ssh_chan_abort(c);
    return 1;
  }
  return ssh_chan_finish(c, NULL, NULL, 0) == 0 ? 0 : 1;
}

/* What a connected host is waiting for, named if the deadline comes. */
enum { W_LOGIN, W_CLOUDINIT, W_MARKER };

/* One connection's worth: 0 ready, -1 failed, 1 lost the connection (or
 * the deadline came); *w is the stage it was in. */
static int on_host(struct ssh *s, double start, int *w)
{
  int rc;

  *w = W_LOGIN;
  if ((rc = ssh_run(s, "true", NULL, NULL, 0)) < 0) return 1;
  if (rc) return error("login shell does not work: 'true' exited %d", rc);
  *w = W_CLOUDINIT;
  if ((rc = wait_cloudinit(s, start))) return rc;
  *w = W_MARKER;
  if (TT.marker && wait_marker(s, start)) return 1;
  return 0;
}

/* The deadline came in stage w, with mvm.err the last cause: -1. */
static int timed_out(double start, int w)
{
  static const char *const name[] = { "login", "cloud-init", "marker" };
  char cause[sizeof(mvm.err)];
  double t = now_s() - start;

  snprintf(cause, sizeof(cause), "%s", mvm.err);
  if (strcmp(cause, "timeout"))
    return error("timeout after %.0fs: %s: %s", t, name[w], cause);
  if (w == W_LOGIN)
    return error("timeout after %.0fs: login shell did not run 'true'", t);
  if (w == W_MARKER)
    return error("timeout after %.0fs: marker %s not found", t, TT.marker);
  return error("timeout after %.0fs: cloud-init still running", t);
}

static int waitinit_one(struct rec *r, void *arg)
{
  double start = now_s(), deadline = start + TT.o.timeout, left;
  struct ssh_opts o = TT.o;
  struct ssh *s;
  int rc, w;

  (void)arg;
  for (;;) {
    left = deadline - now_s();
    o.timeout = left < 1 ? 1 : (int)(left + 0.5);
    o.deadline = deadline;      /* not o.timeout rounded: the -t given */
    if (!(s = ssh_open(r, &o))) {
      char cause[sizeof(mvm.err)];
      const char *p = strstr(mvm.err, ": ");

      /* ssh_open counts from its own start; say the total time */
      if (strncmp(mvm.err, "timeout after ", 14) || !p) return -1;
      snprintf(cause, sizeof(cause), "%s", p + 2);
      return error("timeout after %.0fs: %s", now_s() - start, cause);
    }
    ssh_set_deadline(s, deadline);
    rc = on_host(s, start, &w);
    ssh_close(s);
    if (rc <= 0) break;
    if (now_s() >= deadline) return timed_out(start, w);
    info("connection lost (%s): reconnecting", mvm.err);
  }
  if (rc) return -1;
  rec_set(r, "stage", "init");
  return 0;
}

int waitinit_main(int argc, char **argv)
{
  static const struct option longopts[] = {
    { "strict", no_argument, NULL, 'S' },
    { "marker", required_argument, NULL, 'M' },
    { NULL, 0, NULL, 0 }
  };
  struct run_opts ro = { .stage = "init", .each = waitinit_one };
  int c;

  TT.o.timeout = 20 * 60;
  TT.jobs = 32;
  while ((c = getopt_long(argc, argv, "qv" SSH_OPTSTR, longopts, NULL)) != -1)
  {
    if (ssh_common_opt(c, optarg, &TT.o, &TT.jobs)) continue;
    switch (c) {
    case 'q': mvm.quiet = 1; break;
    case 'v': mvm.verbose = 1; break;
    case 'S': TT.strict = 1; break;
    case 'M':
      if (!*optarg) help_exit("empty --marker");
      TT.marker = optarg;
      break;
    default: help_exit(NULL);
    }
  }
  ro.jobs = TT.jobs;
  ro.hosts = argv + optind;
  return run_records(&ro);
}
