/* applets/teardown.c - mvm-teardown: destroy hosts. With PROVIDER [LABEL]:
 * every host of that provider tagged mvm-ephemeral=true (of one label).
 * Without: exactly the hosts of the records on stdin, by their provider=
 * and id=, including records that carry error= (a host that failed a
 * stage still exists). Writes one record per destroyed host, stage=down. */
#include "mvm.h"
#include "provider.h"

const char teardown_usage[] =
"usage: mvm-teardown [--dry-run] [PROVIDER [LABEL]]\n"
"\n"
"Destroy every PROVIDER host tagged mvm-ephemeral=true (only those of\n"
"LABEL if given), or, with no PROVIDER, exactly the hosts of the host\n"
"records on stdin (their provider= and id=; error records too). Writes a\n"
"record per destroyed host with stage=down.\n"
"\n"
"  --dry-run   say what would be destroyed, destroy nothing\n"
"  -q, -v      quieter, more verbose\n";

static struct {
  int dry, failed, badinput, emitted;
} TT;

static void put(struct rec *r)
{
  char *line = rec_format(r);

  if (writeall(1, line, strlen(line)))
    warn("cannot write record: %s", line);
  free(line);
}

static void emit(struct rec *r)
{
  rec_set(r, "stage", "down");
  if (rec_failed(r) && !strncmp(rec_get(r, "error"), "down:", 5))
    TT.failed = 1;
  TT.emitted++;
  put(r);
}

static const struct provider *lookup(const char *name)
{
  const struct provider *const *l;

  for (l = provider_list(); *l; l++)
    if (!strcmp((*l)->name, name)) return *l;
  return NULL;
}

/* One record from stdin. */
static void one(struct rec *r)
{
  const char *pn = rec_get(r, "provider"), *id = rec_get(r, "id");
  const struct provider *p = pn ? lookup(pn) : NULL;
  int before = TT.emitted;

  mvm.host = r->addr;
  if (r->bad) {
    warn("%s", r->bad);
    TT.badinput = 1;
    rec_fail(r, "down", "malformed record (%s)", r->bad);
  } else if (!id && rec_failed(r)) {
    put(r);                     /* never created: nothing to destroy */
    goto out;
  } else if (!pn || !id) {
    rec_fail(r, "down", "no %s= in the record", pn ? "id" : "provider");
  } else if (!p) {
    rec_fail(r, "down", "unknown provider '%s'", pn);
  } else if (TT.dry) {
    printf("# dry-run: would destroy %s provider=%s id=%s\n", r->addr, pn,
           id);
    fflush(stdout);
    goto out;
  } else if (p->down(NULL, r, emit)) {
    rec_fail(r, "down", "%s", mvm.err);
  } else if (TT.emitted > before) {
    goto out;
  } else {
    info("%s: %s: nothing to destroy (already gone?)", pn, id);
  }
  if (rec_failed(r)) {
    warn("%s", rec_get(r, "error"));
    TT.failed = 1;
  }
  emit(r);
out:
  mvm.host = NULL;
}

static void from_stdin(void)
{
  struct lines in;
  struct rec r;
  char *line;
  size_t len;
  int rc, toolong;

  lines_init(&in, 0);
  for (;;) {
    rc = lines_next(&in, &line, &len, &toolong);
    if (rc < 0) break;
    if (rc == 0) {
      if (lines_fill(&in) < 0) pdie("cannot read records");
      continue;
    }
    rec_parse(&r, line, len, in.lineno);
    free(line);
    if (toolong && !r.bad) {
      r.bad = xasprintf("line %ld: longer than %d bytes", in.lineno,
                        REC_LINE_MAX);
      if (!r.addr) r.addr = xstrdup("-");
    }
    if (!r.addr) put(&r);
    else one(&r);
    rec_release(&r);
  }
  lines_release(&in);
}

int teardown_main(int argc, char **argv)
{
  static const struct option lo[] = {
    { "dry-run", no_argument, NULL, 'D' },
    { "help", no_argument, NULL, 'h' },
    { 0 }
  };
  const struct provider *p;
  const char *label;
  int c;

  while ((c = getopt_long(argc, argv, "+qv", lo, NULL)) != -1) {
    switch (c) {
    case 'D': TT.dry = 1; break;
    case 'q': mvm.quiet = 1; break;
    case 'v': mvm.verbose = 1; break;
    default: help_exit(NULL);
    }
  }
  if (argc - optind > 2) help_exit("too many arguments");
  if (optind == argc) {
    if (isatty(0)) help_exit("give PROVIDER [LABEL], or records on stdin");
    from_stdin();
    return TT.badinput ? EXIT_USAGE : TT.failed ? EXIT_HOSTFAIL : EXIT_OK;
  }
  p = provider_find(argv[optind]);
  label = argv[optind + 1];
  if (label && !*label) label = NULL;
  if (TT.dry) {
    printf("# dry-run: would destroy every %s host tagged"
           " mvm-ephemeral=true%s%s\n", p->name, label ? " label=" : "",
           label ? label : "");
    return EXIT_OK;
  }
  info("destroying %s hosts tagged mvm-ephemeral=true%s%s", p->name,
       label ? ", label " : "", label ? label : "");
  if (p->down(label, NULL, emit)) {
    warn("%s: %s", p->name, mvm.err);
    return EXIT_HOSTFAIL;
  }
  info("%d host(s) destroyed", TT.emitted);
  return TT.failed ? EXIT_HOSTFAIL : EXIT_OK;
}
