/* applets/report.c - mvm-report: host records in, the verification matrix
 * out. One row per provider and type: a column per verification step
 * (ok, fail with the reason, - not reached, skip with why), the status,
 * the cycle time, the spend and the date. Reads several runs at once; a
 * host seen twice (the same provider= and id=) is one host, its later
 * fields winning. Only reads records; the one writer of its stdout. */
#include "mvm.h"

const char report_usage[] =
"usage: mvm-report [--markdown | --tsv | --json]\n"
"\n"
"Read host records (usually mvm-teardown's output; several runs may be\n"
"concatenated) and print the verification matrix: one row per provider\n"
"and type with each step's state, the status, cycle time, spend and date.\n"
"Exit 0 when every row is verified, 1 when one is not, 2 on bad input.\n"
"\n"
"  --markdown  a Markdown table (the default), to paste into docs\n"
"  --tsv       tab-separated, with a header line\n"
"  --json      one JSON array of row objects\n";

#define STEPS_MAX 16
#define HOSTS_MAX 100000
#define REASON_MAX 80

/* The steps of a verified run, in order; mvm-run stages found in the
 * records (any other NAME_s key) come after smoke. */
static const char *const base_steps[] = { "provision", "init", "sync",
                                          "ready", "kvm", "smoke" };
/* Steps a lane does not have: said as skip, never counted as missing. */
static const struct { const char *provider, *step, *why; } lanes[] = {
  { "hetzner", "kvm", "no nested virt: no-KVM lane" },
};

enum { ST_NONE, ST_OK, ST_SKIP, ST_FAIL };

struct host {
  struct rec r;
  char *key;              /* provider + id, or unique when there is none */
};

struct row {
  const char *provider, *type;
  char region[64];
  int st[STEPS_MAX];
  char why[STEPS_MAX][REASON_MAX];
  double first, last;     /* created .. end of teardown */
  double spend;           /* in currency: price_currency=, else USD */
  char currency[8];
  int unpriced;           /* a host with no price=, or two currencies */
};

static struct {
  int fmt;                /* 'm', 't', 'j' */
  const char *steps[STEPS_MAX];
  int nsteps;
  struct host *h;
  int nh;
  struct row *rows;
  int nrows;
} TT;

static int step_index(const char *name)
{
  int i;

  for (i = 0; i < TT.nsteps; i++)
    if (!strcmp(TT.steps[i], name)) return i;
  return -1;
}

/* Extra steps: every NAME_s key that is not a base step nor down. */
static void find_steps(const struct rec *r)
{
  static char names[STEPS_MAX][32];
  int i;

  for (i = 0; i < r->n; i++) {
    const char *k = r->f[i].key;
    size_t n = strlen(k);

    if (n < 3 || n > 31 || strcmp(k + n - 2, "_s")) continue;
    snprintf(names[TT.nsteps], sizeof(names[0]), "%.*s", (int)n - 2, k);
    if (!strcmp(names[TT.nsteps], "down") ||
        step_index(names[TT.nsteps]) >= 0 || TT.nsteps >= STEPS_MAX - 1)
      continue;
    TT.steps[TT.nsteps] = names[TT.nsteps];
    TT.nsteps++;
  }
}

/* A host seen before (same provider= and id=) takes the new fields. */
static void add_host(struct rec *r, long lineno)
{
  const char *p = rec_get(r, "provider"), *id = rec_get(r, "id");
  char *key;
  int i, j;

  key = id && *id && strcmp(id, "-") ? xasprintf("%s %s", p, id)
                                     : xasprintf("%s line %ld", p, lineno);
  for (i = 0; i < TT.nh; i++)
    if (!strcmp(TT.h[i].key, key)) break;
  if (i < TT.nh) {
    for (j = 0; j < r->n; j++)
      rec_set(&TT.h[i].r, r->f[j].key, "%s", r->f[j].val);
    free(key);
    rec_release(r);
    return;
  }
  if (TT.nh >= HOSTS_MAX) die("more than %d hosts", HOSTS_MAX);
  TT.h = xrealloc(TT.h, (TT.nh + 1) * sizeof(*TT.h));
  TT.h[TT.nh].r = *r;
  TT.h[TT.nh].key = key;
  TT.nh++;
}

/* Every record of stdin; 1 if a line was malformed (said, skipped). */
static int read_all(void)
{
  struct lines l;
  char *line;
  size_t len;
  int rc, toolong, bad = 0;

  lines_init(&l, 0);
  for (;;) {
    struct rec r;

    rc = lines_next(&l, &line, &len, &toolong);
    if (rc < 0) break;
    if (rc == 0 && lines_fill(&l) < 0) pdie("cannot read records");
    if (rc == 0) continue;
    rec_parse(&r, line, len, l.lineno);
    free(line);
    if (toolong || r.bad || (r.addr && !rec_get(&r, "provider"))) {
      if (r.bad) errmsg(NULL, "%s: skipped", r.bad);
      else errmsg(NULL, "line %ld: %s: skipped", l.lineno, toolong ?
                  "too long" : "no provider=");
      bad = 1;
      rec_release(&r);
    } else if (r.addr) {
      find_steps(&r);
      add_host(&r, l.lineno);
    } else {
      rec_release(&r);
    }
  }
  lines_release(&l);
  return bad;
}

/* The failed stage of a record's error=, and its reason. */
static const char *failed_at(const struct rec *r, char *stage, size_t n)
{
  const char *e = rec_get(r, "error"), *c = e ? strchr(e, ':') : NULL;

  if (!e) return NULL;
  snprintf(stage, n, "%.*s", c ? (int)(c - e) : (int)strlen(e), e);
  return c ? c + 1 : "";
}

/* One host's state at step I (DOWN: teardown). */
static int host_state(const struct rec *r, const char *step, char *why,
                      size_t n)
{
  char at[32], *key = xasprintf("%s_s", step);
  const char *reason = failed_at(r, at, sizeof(at)), *p = rec_get(r,
                                                                 "provider");
  int had = rec_get(r, key) != NULL;
  size_t i;

  free(key);
  *why = 0;
  if (reason && !strcmp(at, step)) {
    snprintf(why, n, "%s", reason);
    return ST_FAIL;
  }
  if (!strcmp(step, "kvm") && rec_get(r, "kvm") &&
      !strcmp(rec_get(r, "kvm"), "fail")) {
    snprintf(why, n, "kvm=fail");
    return ST_FAIL;
  }
  if (!strcmp(step, "provision") && !reason) return ST_OK;
  if (!strcmp(step, "provision") && rec_get(r, "id") &&
      strcmp(rec_get(r, "id"), "-"))
    return ST_OK;             /* it exists: a later step failed */
  for (i = 0; i < ARRAY_LEN(lanes); i++)
    if (!had && !strcmp(lanes[i].provider, p) &&
        !strcmp(lanes[i].step, step)) {
      snprintf(why, n, "%s", lanes[i].why);
      return ST_SKIP;
    }
  return had ? ST_OK : ST_NONE;
}

static struct row *row_of(const struct rec *r)
{
  const char *p = rec_get(r, "provider"), *t = rec_get(r, "type");
  int i;

  if (!t) t = "-";
  for (i = 0; i < TT.nrows; i++)
    if (!strcmp(TT.rows[i].provider, p) && !strcmp(TT.rows[i].type, t))
      return &TT.rows[i];
  TT.rows = xrealloc(TT.rows, (TT.nrows + 1) * sizeof(*TT.rows));
  memset(&TT.rows[TT.nrows], 0, sizeof(*TT.rows));
  TT.rows[TT.nrows].provider = p;
  TT.rows[TT.nrows].type = t;
  TT.rows[TT.nrows].first = -1;
  return &TT.rows[TT.nrows++];
}

/* Seconds of every NAME_s key: the host's time in the stages. */
static double stage_time(const struct rec *r)
{
  double t = 0;
  int i;

  for (i = 0; i < r->n; i++) {
    size_t n = strlen(r->f[i].key);

    if (n > 2 && !strcmp(r->f[i].key + n - 2, "_s"))
      t += strtod(r->f[i].val, NULL);
  }
  return t;
}

/* Merge one host into its row: a failure wins, then not reached. */
static void add_to_row(const struct rec *r)
{
  struct row *w = row_of(r);
  const char *reg = rec_get(r, "region"), *pr = rec_get(r, "price");
  const char *lv = rec_get(r, "lived"), *cur = rec_get(r, "price_currency");
  time_t c = rec_get(r, "created") ? time_parse(rec_get(r, "created")) : -1;
  double life, end;
  char why[REASON_MAX];
  int i, s;

  for (i = 0; i <= TT.nsteps; i++) {
    s = host_state(r, i < TT.nsteps ? TT.steps[i] : "down", why, sizeof(why));
    if (s == ST_FAIL && w->st[i] != ST_FAIL)
      snprintf(w->why[i], REASON_MAX, "%s", why);
    if (s == ST_SKIP && !w->st[i]) snprintf(w->why[i], REASON_MAX, "%s", why);
    if (!w->st[i] || s == ST_FAIL || (s == ST_NONE && w->st[i] != ST_FAIL))
      w->st[i] = s;
  }
  if (reg && !strstr(w->region, reg))
    snprintf(w->region + strlen(w->region), sizeof(w->region) -
             strlen(w->region), "%s%s", *w->region ? "," : "", reg);
  /* lived= is teardown's measure (taken as the destroy began); without
   * it, the host lived the time its stages took */
  life = lv ? strtod(lv, NULL) + strtod(rec_get(r, "down_s") ?
                                        rec_get(r, "down_s") : "0", NULL)
            : stage_time(r);
  if (c > 0) {
    end = (double)c + life;
    if (w->first < 0 || c < w->first) w->first = (double)c;
    if (end > w->last) w->last = end;
  }
  if (pr && !*w->currency)
    snprintf(w->currency, sizeof(w->currency), "%s", cur ? cur : "USD");
  if (pr && !strcmp(w->currency, cur ? cur : "USD"))
    w->spend += strtod(pr, NULL) * life / 3600;
  else w->unpriced = 1;       /* no sum of two currencies without a rate */
}

static int row_cmp(const void *a, const void *b)
{
  const struct row *x = a, *y = b;
  int c = strcmp(x->provider, y->provider);

  return c ? c : strcmp(x->type, y->type);
}

/* The row's cells, in column order, into CELL (each malloc'd). */
static int row_cells(const struct row *w, char **cell, int *verified)
{
  static const char *const word[] = { "-", "ok", "skip", "fail" };
  char status[64] = "verified", day[16] = "-";
  int i, n = 0;

  cell[n++] = xstrdup(w->provider);
  cell[n++] = xstrdup(w->type);
  cell[n++] = xstrdup(*w->region ? w->region : "-");
  for (i = 0; i <= TT.nsteps; i++) {
    const char *name = i < TT.nsteps ? TT.steps[i] : "down";

    cell[n++] = *w->why[i] ? xasprintf("%s: %s", word[w->st[i]], w->why[i])
                           : xstrdup(word[w->st[i]]);
    if ((w->st[i] == ST_FAIL || w->st[i] == ST_NONE) &&
        !strcmp(status, "verified"))
      snprintf(status, sizeof(status), "%s %s", name,
               w->st[i] == ST_FAIL ? "failed" : "not reached");
  }
  *verified = !strcmp(status, "verified");
  cell[n++] = xstrdup(status);
  if (w->first < 0) cell[n++] = xstrdup("?");
  else if (w->last - w->first < 120)
    cell[n++] = xasprintf("%.0f s", w->last - w->first);
  else cell[n++] = xasprintf("%.0f min", (w->last - w->first) / 60);
  cell[n++] = w->unpriced ? xstrdup("?") : xasprintf("%s %.2f", w->currency,
                                                    w->spend);
  if (w->first >= 0) {
    time_t t = (time_t)w->first;

    strftime(day, sizeof(day), "%Y-%m-%d", gmtime(&t));
  }
  cell[n++] = xstrdup(day);
  return n;
}

/* A cell as the format needs it: Markdown escapes '|', TSV has no tab. */
static void put_cell(const char *s)
{
  for (; *s; s++) {
    if (TT.fmt == 'm' && *s == '|') fputs("\\|", stdout);
    else if (TT.fmt == 'j' && (*s == '"' || *s == '\\')) printf("\\%c", *s);
    else if ((unsigned char)*s < 32) putchar(' ');
    else putchar(*s);
  }
}

static void print_line(char **cell, int n, char **head, int last)
{
  int i;

  if (TT.fmt == 'j') printf("  {");
  else if (TT.fmt == 'm') printf("|");
  for (i = 0; i < n; i++) {
    if (TT.fmt == 'j') printf("%s\"%s\": \"", i ? ", " : "", head[i]);
    else if (TT.fmt == 'm') putchar(' ');
    put_cell(cell[i]);
    if (TT.fmt == 'j') putchar('"');
    else if (TT.fmt == 'm') printf(" |");
    else if (i < n - 1) putchar('\t');
  }
  if (TT.fmt == 'j') printf("}%s", last ? "" : ",");
  putchar('\n');
}

static int print_matrix(void)
{
  static const char *const tail[] = { "down", "status", "cycle", "spend",
                                      "date" };
  char *head[STEPS_MAX + 8], *cell[STEPS_MAX + 8];
  int i, j, n = 0, ok, all = 1;

  head[n++] = "provider";
  head[n++] = "type";
  head[n++] = "region";
  for (i = 0; i < TT.nsteps; i++) head[n++] = (char *)TT.steps[i];
  for (i = 0; i < (int)ARRAY_LEN(tail); i++) head[n++] = (char *)tail[i];
  if (TT.fmt == 'j') printf("[\n");
  else print_line(head, n, head, 0);
  if (TT.fmt == 'm') {
    for (i = 0; i < n; i++) printf("|---");
    printf("|\n");
  }
  for (i = 0; i < TT.nrows; i++) {
    row_cells(&TT.rows[i], cell, &ok);
    all &= ok;
    print_line(cell, n, head, i == TT.nrows - 1);
    for (j = 0; j < n; j++) free(cell[j]);
  }
  if (TT.fmt == 'j') printf("]\n");
  return all;
}

int report_main(int argc, char **argv)
{
  static const struct option lo[] = {
    { "markdown", no_argument, NULL, 'm' },
    { "tsv", no_argument, NULL, 't' },
    { "json", no_argument, NULL, 'j' },
    { 0 }
  };
  int c, i, bad, all;

  TT.fmt = 'm';
  while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
    if (c == 'm' || c == 't' || c == 'j') TT.fmt = c;
    else help_exit(NULL);
  }
  if (optind < argc) help_exit("no arguments: records come on stdin");
  if (isatty(0)) help_exit("give host records on stdin");
  for (i = 0; i < (int)ARRAY_LEN(base_steps); i++)
    TT.steps[TT.nsteps++] = base_steps[i];
  bad = read_all();
  for (i = 0; i < TT.nh; i++) add_to_row(&TT.h[i].r);
  qsort(TT.rows, TT.nrows, sizeof(*TT.rows), row_cmp);
  all = print_matrix();
  for (i = 0; i < TT.nh; i++) {
    rec_release(&TT.h[i].r);
    free(TT.h[i].key);
  }
  free(TT.h);
  free(TT.rows);
  if (bad) return EXIT_USAGE;
  return all && TT.nrows ? EXIT_OK : EXIT_HOSTFAIL;
}
