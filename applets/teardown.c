/* applets/teardown.c - mvm-teardown: destroy hosts. With PROVIDER [LABEL]:
 * every host of that provider tagged mvm-ephemeral=true (of one label);
 * --dry-run writes their records instead (the provider's list()).
 * Without: exactly the hosts of the records on stdin, by their provider=
 * and id=, including records that carry error= (a host that failed a
 * stage still exists), each in a worker of lib/run.c. Writes one record
 * per destroyed host, stage=down. Destroying is the one thing an
 * interrupt must not stop: the first INT/TERM/HUP lets every destroy of
 * what was read (or of the label) finish, a second one aborts, naming
 * what is left. */
#include "mvm.h"
#include "provider.h"

const char teardown_usage[] =
"usage: mvm-teardown [-qv] [-j N] [--deadline TIME] [--dry-run] [--expired]\n"
"                    [PROVIDER [LABEL]]\n"
"\n"
"Destroy every PROVIDER host tagged mvm-ephemeral=true (only those of\n"
"LABEL if given), or, with no PROVIDER, exactly the hosts of the host\n"
"records on stdin (their provider= and id=; error records too). Writes a\n"
"record per destroyed host with stage=down.\n"
"\n"
"  --dry-run   destroy nothing; write the record of each host that would\n"
"              be destroyed (PROVIDER: as the provider lists them, with\n"
"              created= when known; records: those on stdin), so\n"
"              'mvm-teardown --dry-run P | mvm-teardown' destroys those\n"
"  --expired   only PROVIDER's hosts past their mvm-expires tag (a reaper\n"
"              for cron; see mvm-provision --ttl)\n"
"  --deadline TIME  keep retrying deletes, listings and the polls that\n"
"              confirm them (through 429s, 5xx, lost answers) until TIME\n"
"              has passed (seconds, or with s, m, h; default 20m); a host\n"
"              still there then is an error record, exit 1\n"
"  -j N        destroy at most N hosts at once (default 8)\n"
"  -q, -v      quieter, more verbose\n";

static struct {
  int dry, failed, emitted, jobs, expired;
  struct rec *cur;
  struct rec *found;          /* --expired: the provider's listing */
  int nfound, nundated;       /* ... and its hosts with no expires= */
} TT;

/* PROVIDER [LABEL]: each destroyed host, written at once. */
static void emit(struct rec *r)
{
  char *line;

  rec_set(r, "stage", "down");
  if (rec_failed(r)) {
    TT.failed = 1;
    rec_errmsg(r);
  }
  TT.emitted++;
  line = rec_format(r);
  if (writeall(1, line, strlen(line)))
    errmsg(NULL, "cannot write record: %s", line);
  free(line);
}

/* --dry-run PROVIDER [LABEL]: each host the provider lists, as it is. */
static void emit_listed(struct rec *r)
{
  char *line = rec_format(r);

  TT.emitted++;
  if (writeall(1, line, strlen(line)))
    errmsg(NULL, "cannot write record: %.*s", (int)strlen(line) - 1, line);
  free(line);
}

/* Records: in a worker, the provider's record becomes the worker's. */
static void emit_into(struct rec *r)
{
  int i;

  for (i = 0; i < r->n; i++)
    rec_set(TT.cur, r->f[i].key, "%s", r->f[i].val);
  TT.emitted++;
}

/* --deadline: seconds, or a number of s, m or h; at most a day. */
static long deadline_arg(const char *s)
{
  long v = secs_parse(s, 86400);

  if (v < 0) help_exit("bad --deadline '%s': N, Ns, Nm or Nh, at most 24h", s);
  return v;
}

static const struct provider *lookup(const char *name)
{
  const struct provider *const *l;

  for (l = provider_list(); *l; l++)
    if (!strcmp((*l)->name, name)) return *l;
  return NULL;
}

/* One record from stdin, in its own worker (lib/run.c). */
static int one(struct rec *r, void *arg)
{
  const char *pn = rec_get(r, "provider"), *id = rec_get(r, "id");
  const struct provider *p = pn ? lookup(pn) : NULL;

  (void)arg;
  if (!id && rec_failed(r)) return 0;  /* never created: nothing to do */
  /* A journal's intent line (no id yet): the provider looks it up by
   * name, in case the create went through. */
  if (!pn || (!id && !rec_get(r, "intent")))
    return error("no %s in the record", pn ? "id" : "provider");
  /* By record is exactly that host: never widen an empty id to "all". */
  if (id && (!*id || !strcmp(id, "-")))
    return error("refusing a record without a usable id= (id='%s')", id);
  if (!p) return error("unknown provider '%s'", pn);
  if (TT.dry) {
    info("dry-run: would destroy %s %s=%s", pn, id ? "id" : "intent",
         id ? id : rec_get(r, "intent"));
    return 0;
  }
  TT.cur = r;
  if (p->down(NULL, r, emit_into)) return -1;
  if (!TT.emitted)     /* an intent line has no id=: name the host */
    info("%s: %s: nothing to destroy (already gone?)", pn,
         id ? id : rec_get(r, "name") ? rec_get(r, "name") : "-");
  rec_set(r, "stage", "down");
  return 0;
}

/* The records each provider with a down_end() destroyed: its sweep of
 * what creates left besides hosts runs once, after every destroy, not in
 * each record's worker (N parallel sweeps of the same objects). */
static struct ended {
  const struct provider *p;
  struct rec *r;
  int n;
} ends[16];
static int nends;

static void ended(const struct rec *r, void *arg)
{
  const char *pn = rec_get(r, "provider");
  const struct provider *p = pn ? lookup(pn) : NULL;
  struct ended *e = ends;
  int i;

  (void)arg;
  /* Not one() skipped as never created: its objects are not ours to end. */
  if (TT.dry || !p || !p->down_end || (!rec_get(r, "id") && rec_failed(r)))
    return;
  while (e < ends + nends && e->p != p) e++;
  if (e == ends + ARRAY_LEN(ends)) return;
  if (e == ends + nends) nends++;
  e->p = p;
  e->r = xrealloc(e->r, (e->n + 1) * sizeof(*e->r));
  rec_new(&e->r[e->n], r->addr);
  for (i = 0; i < r->n; i++)
    rec_set(&e->r[e->n], r->f[i].key, "%s", r->f[i].val);
  e->n++;
}

/* The sweeps: a failure is a warning (the hosts are gone; a teardown by
 * label sweeps again); none after a second ^C (abort: stop now). */
static void end_all(void)
{
  int i, k;

  for (i = 0; i < nends; i++) {
    if (sig_count() < 2 && ends[i].p->down_end(ends[i].r, ends[i].n))
      warn("%s: %s", ends[i].p->name, mvm.err);
    for (k = 0; k < ends[i].n; k++) rec_release(&ends[i].r[k]);
    free(ends[i].r);
  }
  nends = 0;
}

/* --expired: keep the listed hosts whose expires= has passed. */
static void collect(struct rec *r)
{
  const char *e = rec_get(r, "expires");
  struct tm tm = { 0 };
  struct rec *c;
  int i;

  if (!e || !strptime(e, "%Y-%m-%dT%H:%M:%SZ", &tm)) {
    TT.nundated++;
    return;
  }
  if (timegm(&tm) > time(NULL) || TT.nfound >= 100000) return;
  TT.found = xrealloc(TT.found, (TT.nfound + 1) * sizeof(*TT.found));
  c = &TT.found[TT.nfound++];
  rec_new(c, r->addr);
  for (i = 0; i < r->n; i++) rec_set(c, r->f[i].key, "%s", r->f[i].val);
}

static int reap(const struct provider *p, const char *label)
{
  char *line;
  int i;

  if (p->list(label, collect)) {
    warn("%s: %s", p->name, mvm.err);
    return EXIT_HOSTFAIL;
  }
  info("%d expired %s host(s)", TT.nfound, p->name);
  /* A provider without tags (ovh) cannot carry mvm-expires: say so rather
   * than report a clean sweep that never looked at them. */
  if (TT.nundated)
    warn("%s: %d host(s) carry no expiry and are kept: 'mvm-teardown %s "
         "LABEL' destroys by label", p->name, TT.nundated, p->name);
  for (i = 0; i < TT.nfound; i++) {
    if (TT.dry) {
      line = rec_format(&TT.found[i]);
      printf("%s", line);
      free(line);
    } else if (p->down(NULL, &TT.found[i], emit)) {
      warn("%s: %s: %s", p->name, rec_get(&TT.found[i], "id"), mvm.err);
    } else {
      ended(&TT.found[i], NULL);
    }
    rec_release(&TT.found[i]);
  }
  free(TT.found);
  end_all();
  return TT.failed || mvm.exitval ? EXIT_HOSTFAIL : EXIT_OK;
}

int teardown_main(int argc, char **argv)
{
  static const struct option lo[] = {
    { "dry-run", no_argument, NULL, 'D' },
    { "expired", no_argument, NULL, 'E' },
    { "deadline", required_argument, NULL, 'T' },
    { "help", no_argument, NULL, 'h' },
    { 0 }
  };
  const struct provider *p;
  const char *label;
  char until[32];
  long deadline = 1200;
  int c;

  TT.jobs = 8;
  while ((c = getopt_long(argc, argv, "+j:qv", lo, NULL)) != -1) {
    switch (c) {
    case 'D': TT.dry = 1; break;
    case 'E': TT.expired = 1; break;
    case 'T':
      deadline = deadline_arg(optarg);
      break;
    case 'j': TT.jobs = xatoi_range(optarg, 1, 256); break;
    case 'q': mvm.quiet = 1; break;
    case 'v': mvm.verbose = 1; break;
    default: help_exit(NULL);
    }
  }
  if (argc - optind > 2) help_exit("too many arguments");
  /* One end for every worker and provider process of this teardown. */
  snprintf(until, sizeof(until), "%lld", (long long)time(NULL) + deadline);
  setenv("MVM_TEARDOWN_UNTIL", until, 1);
  if (optind == argc && TT.expired) help_exit("--expired needs PROVIDER");
  if (optind == argc) {
    struct run_opts o = { .stage = "down", .jobs = TT.jobs, .each = one,
                          .all = 1, .finish = 1, .done = ended };

    if (isatty(0)) help_exit("give PROVIDER [LABEL], or records on stdin");
    c = run_records(&o);
    end_all();
    return c;
  }
  p = provider_find(argv[optind]);
  label = argv[optind + 1];
  if (label && !*label) label = NULL;
  if (TT.expired) return reap(p, label);
  if (TT.dry) {
    if (p->list(label, emit_listed)) {
      errmsg(NULL, "%s: cannot list: %s", p->name, mvm.err);
      return EXIT_HOSTFAIL;
    }
    info("dry-run: %d %s host(s)%s%s would be destroyed", TT.emitted,
         p->name, label ? " of label " : "", label ? label : "");
    return mvm.exitval ? EXIT_HOSTFAIL : EXIT_OK;
  }
  info("destroying %s hosts tagged mvm-ephemeral=true%s%s", p->name,
       label ? ", label " : "", label ? label : "");
  sig_first_line("mvm-teardown: interrupted: the destroy goes on (again to"
                 " abort)");
  sig_catch();
  sig_abort_line("mvm-teardown: aborted: hosts of %s%s%s may still be"
                 " running: mvm-teardown %s%s%s", p->name,
                 label ? " label " : "", label ? label : "", argv[optind],
                 label ? " " : "", label ? label : "");
  if (p->down(label, NULL, emit)) {
    errmsg(NULL, "%s: %s", p->name, mvm.err);
    return sig_status(EXIT_HOSTFAIL);
  }
  if (TT.emitted && !(p->flags & PF_CONFIRMS))
    info("%d host(s) destroyed", TT.emitted);
  if (sig_caught()) errmsg(NULL, "interrupted: the destroy went on to its end");
  return sig_status(TT.failed ? EXIT_HOSTFAIL : EXIT_OK);
}
