/* applets/run.c - mvm-run: the operator's COMMAND on every host of the
 * records, as a stage: over the same pinned SSH as every stage, N hosts
 * at once (lib/run.c). Its output (stdout and stderr together) goes to our
 * stderr prefixed with the host; exit 0 gives stage=NAME, else
 * error=NAME:exit N: LAST LINE. COMMAND is the operator's, sent as given
 * to the login shell; nothing from a record is put into it. */
#include "mvm.h"
#include "ssh/ssh.h"

const char run_usage[] =
"usage: mvm-run [-qv] [--stage NAME] [-t TIMEOUT] [--io-timeout SECS] "
"[-i IDENTITY] [-u USER] [-j N] COMMAND\n"
"\n"
"Run COMMAND (one argument, run by the login shell of the record's user=)\n"
"on each host of the records on stdin; print each record with\n"
"stage=NAME and NAME_s=SECONDS when it exits 0, else with\n"
"error=NAME:exit N: LAST LINE OF OUTPUT.\n"
"\n"
"  --stage NAME      the stage's name (default run): smoke, tests, ...\n"
"  -t TIMEOUT        per host, connect and command, seconds (or Nm, Nh);\n"
"                    default 60m\n"
"  --io-timeout SECS fail a host whose command prints nothing for SECS\n"
"  -i IDENTITY       private key file (default: MVM_SSH_KEY, ssh-agent,\n"
"                    ~/.ssh/id_ed25519, id_ecdsa, id_rsa)\n"
"  -u USER           login user for records without user= (default mvm)\n"
"  -j N              hosts at once (default 32)\n"
"  -q                only a failed host's last 20 lines of output\n"
"  -v                debug output\n";

#define TAIL_LINES 20
#define LINE_MAX_SHOWN 1024

static struct {
  struct ssh_opts o;
  int jobs, io;
  const char *stage, *cmd;
} TT;

/* The last TAIL_LINES lines of output, and the line being read. */
struct tail {
  char line[TAIL_LINES][LINE_MAX_SHOWN];
  int n, next;
  char cur[LINE_MAX_SHOWN];
  size_t len;
};

static void line_done(struct tail *t)
{
  size_t i;

  for (i = 0; i < t->len; i++)
    if (((unsigned char)t->cur[i] < 32 && t->cur[i] != '\t') ||
        t->cur[i] == 127) t->cur[i] = '?';
  t->cur[t->len] = 0;
  if (!mvm.quiet) fprintf(stderr, "%s: %s\n", mvm.host, t->cur);
  snprintf(t->line[t->next], LINE_MAX_SHOWN, "%s", t->cur);
  t->next = (t->next + 1) % TAIL_LINES;
  if (t->n < TAIL_LINES) t->n++;
  t->len = 0;
}

static void take(struct tail *t, const char *p, size_t n)
{
  for (; n; p++, n--) {
    if (*p == '\n') line_done(t);
    else if (*p != '\r' && t->len < LINE_MAX_SHOWN - 1) t->cur[t->len++] = *p;
  }
}

static const char *tail_last(const struct tail *t)
{
  return t->n ? t->line[(t->next + TAIL_LINES - 1) % TAIL_LINES] : NULL;
}

/* -q: a failed host shows its last lines after all. */
static void show_tail(const struct tail *t)
{
  int i;

  if (!mvm.quiet) return;
  for (i = 0; i < t->n; i++)
    fprintf(stderr, "%s: %s\n", mvm.host,
            t->line[(t->next + TAIL_LINES - t->n + i) % TAIL_LINES]);
}

/* Read the command's output until it ends: 0, or -1 (mvm.err). */
static int pump(struct ssh *s, struct ssh_chan *c, struct tail *t,
                double deadline)
{
  char buf[16384];
  size_t n;

  for (;;) {
    double at = TT.io ? now_s() + TT.io : deadline;

    ssh_set_deadline(s, at < deadline ? at : deadline);
    n = ssh_chan_read(c, buf, sizeof(buf));
    if (n == 0) return 0;
    if (n == (size_t)-1) {
      if (TT.io && now_s() >= at && at < deadline)
        return error("no output for %ds (--io-timeout)", TT.io);
      if (now_s() >= deadline) return error("timeout after %ds", TT.o.timeout);
      return error("connection lost: %s", mvm.err);
    }
    take(t, buf, n);
  }
}

static int run_one(struct rec *r, void *arg)
{
  double deadline = now_s() + TT.o.timeout;
  struct tail *t = xzalloc(sizeof(*t));
  struct ssh_opts o = TT.o;
  struct ssh_chan *c;
  struct ssh *s;
  char *cmd;
  int rc = -1, st;

  (void)arg;
  o.deadline = deadline;
  if (!(s = ssh_open(r, &o))) goto out;
  ssh_set_deadline(s, deadline);
  /* stdin from nothing (a command that reads it must not hang), stderr
   * with stdout: one stream, in order, for the host's lines */
  cmd = xasprintf("exec </dev/null 2>&1\n%s", TT.cmd);
  c = ssh_chan_open(s, cmd);
  free(cmd);
  if (!c) goto close;
  status("running");
  if (pump(s, c, t, deadline)) {
    ssh_chan_abort(c);
    goto close;
  }
  ssh_set_deadline(s, deadline);
  if ((st = ssh_chan_finish(c, NULL, NULL, 0)) < 0) {
    error("connection lost: %s", mvm.err);
    goto close;
  }
  if (t->len) line_done(t);
  if (st) {
    if (tail_last(t)) error("exit %d: %s", st, tail_last(t));
    else error("exit %d", st);
    show_tail(t);
    goto close;
  }
  rec_set(r, "stage", "%s", TT.stage);
  rc = 0;
close:
  if (rc && t->len) line_done(t);
  ssh_close(s);
out:
  free(t);
  return rc;
}

int run_main(int argc, char **argv)
{
  static const struct option lo[] = {
    { "stage", required_argument, NULL, 'S' },
    { "io-timeout", required_argument, NULL, 'T' },
    { 0 }
  };
  struct run_opts ro = { .each = run_one };
  const char *p;
  int c;

  TT.o.timeout = 60 * 60;
  TT.jobs = 32;
  TT.stage = "run";
  while ((c = getopt_long(argc, argv, "+qv" SSH_OPTSTR, lo, NULL)) != -1) {
    if (ssh_common_opt(c, optarg, &TT.o, &TT.jobs)) continue;
    switch (c) {
    case 'q': mvm.quiet = 1; break;
    case 'v': mvm.verbose = 1; break;
    case 'S': TT.stage = optarg; break;
    case 'T': TT.io = xatoi_range(optarg, 1, 86400); break;
    default: help_exit(NULL);
    }
  }
  for (p = TT.stage; *p; p++)
    if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) &&
        *p != '_') break;
  if (*p || !*TT.stage || strlen(TT.stage) > 24)
    help_exit("bad --stage '%s': 1-24 of a-z 0-9 _", TT.stage);
  if (argc - optind != 1) help_exit("give COMMAND as one argument");
  TT.cmd = argv[optind];
  if (!*TT.cmd) help_exit("empty COMMAND");
  if (isatty(0)) help_exit("give host records on stdin");
  ro.stage = TT.stage;
  ro.jobs = TT.jobs;
  return run_records(&ro);
}
