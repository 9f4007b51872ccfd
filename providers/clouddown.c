/* providers/clouddown.c - the cloud driver's other half (see cloud.c):
 * destroying by record, by intent line (looked up by name) or by tag, a
 * worker per host, each destroyed host emitted with lived=; and the listing
 * mvm-teardown --dry-run and --expired read. Prints nothing itself. */
#include "mvm.h"
#include "http/http.h"
#include "provider.h"
#include "cloud.h"

#define DEADLINE_S 1200.0   /* mvm-teardown --deadline's default */
#define REDELETE_S 60.0     /* a host still listed this long: delete again */

struct down {
  const struct cloud_ops *o;
  struct http *h;
  struct cloud_list l;
  emit_fn emit;
  const char *label;
  struct rec *got;        /* by label: each host's record, held until the
                           * listing confirms it is gone */
};

/* The wall-clock end of this teardown: MVM_TEARDOWN_UNTIL (set by
 * mvm-teardown --deadline, the same for all its workers), else 20 min. */
static double until(void)
{
  const char *s = getenv("MVM_TEARDOWN_UNTIL");
  double v = s && *s ? strtod(s, NULL) : 0;

  return v > 0 ? v : http_wall() + DEADLINE_S;
}

static double poll_s(const struct cloud_ops *o)
{
  return cloud_env_s("MVM_CLOUD_POLL_S", o->poll_s);
}

static void lived(const struct cloud_host *c, struct rec *r)
{
  time_t t = time_parse(c->created);

  if (t > 0) rec_set(r, "lived", "%lld", (long long)(time(NULL) - t));
}

static void down_child(int i, int fd, void *arg)
{
  const struct down *d = arg;
  const struct cloud_host *c = &d->l.h[i];
  struct rec r;
  int rc;

  mvm.host = c->name[0] ? c->name : c->id;
  cloud_rec(d->o, c, &r);
  lived(c, &r);
  if ((rc = d->o->destroy(d->h, c)) < 0)
    rec_fail(&r, "down", "%s: %s", d->o->name, mvm.err);
  else if (rc == 1)
    rec_set(&r, "gone", "already");
  pool_send(fd, &r);
  rec_release(&r);
}

/* What a second ^C names (lib/sig.c writes it, after the command to run
 * again): every id of the label not deleted yet, or, once the deletes are
 * done (STILL), every id the last listing still shows. */
static void name_left(const struct down *d, const struct cloud_list *still)
{
  struct buf b = { 0 };
  char head[160];
  int i, n = 0;

  for (i = 0; i < (still ? still->n : d->l.n); i++) {
    if (!still && d->got[i].addr && !rec_failed(&d->got[i])) continue;
    buf_add(&b, " ", 1);
    buf_add(&b, still ? still->h[i].id : d->l.h[i].id,
            strlen(still ? still->h[i].id : d->l.h[i].id));
    n++;
  }
  snprintf(head, sizeof(head), "%s: %d %s host(s) left:", mvm.applet, n,
           d->o->name);
  if (n) {
    struct buf line = { 0 };

    buf_add(&line, head, strlen(head));
    buf_add(&line, b.s, b.len);
    sig_abort_left(line.s);
    free(line.s);
  } else {
    sig_abort_left(NULL);
  }
  free(b.s);
}

static void down_held(void *job)
{
  name_left(job, NULL);
}

/* By label: list again until none of it is left or the deadline passes,
 * deleting again what stays listed REDELETE_S. Returns how many are left;
 * each one's record (or a new one) becomes an error naming the command to
 * run again, never "destroyed". */
static int confirm(struct down *d, double end)
{
  struct cloud_list l = { 0 };
  double last = now_s();
  int i, k, left = -1;

  for (;;) {
    cloud_list_release(&l);
    if (d->o->list(d->h, d->label, &l)) {
      warn("%s: cannot list to confirm: %s", d->o->name, mvm.err);
      left = -1;
    } else if (!(left = l.n) || http_wall() >= end) {
      break;
    } else {
      name_left(d, &l);
    }
    if (http_wall() >= end) break;
    if (left > 0 && now_s() - last >= REDELETE_S) {
      for (i = 0; i < l.n; i++) d->o->destroy(d->h, &l.h[i]);
      last = now_s();
    }
    status("%d host(s) still listed: waiting for them to go", l.n);
    sleep_s(poll_s(d->o));
  }
  for (i = 0; left > 0 && i < l.n; i++) {
    struct rec *r = NULL, extra;

    for (k = 0; k < d->l.n && !r; k++)
      if (!strcmp(d->l.h[k].id, l.h[i].id)) r = &d->got[k];
    if (!r) cloud_rec(d->o, &l.h[i], r = &extra);
    rec_fail(r, "down", "%s: %s is still listed at the deadline: run "
             "mvm-teardown %s%s%s", d->o->name, l.h[i].id, d->o->name,
             d->label ? " " : "", d->label ? d->label : "");
    if (r == &extra) {
      d->emit(r);
      rec_release(r);
    }
  }
  for (i = 0; left < 0 && i < d->l.n; i++)
    if (d->got[i].addr && !rec_failed(&d->got[i]))
      rec_fail(&d->got[i], "down", "%s: deleted, but no listing confirms "
               "it is gone: run mvm-teardown %s%s%s", d->o->name,
               d->o->name, d->label ? " " : "", d->label ? d->label : "");
  cloud_list_release(&l);
  return left < 0 ? d->l.n : left;
}

/* What creates left besides hosts (latitude: user_data objects with a
 * host's private key, tag objects): swept after a teardown by label, and
 * once after a run by records (cloud_down_end). */
static int sweep(struct down *d, const char *label, const struct rec *r,
                 int n)
{
  if (!d->o->sweep || !d->o->sweep(d->h, label, r, n)) return 0;
  return cloud_err_pfx(d->o->name, NULL);
}

/* By label: a worker per host deletes it, then the listing confirms. */
static int down_label(struct down *d, double end)
{
  struct cloud_pool cp = { d->o, d->emit, 0, d->label, NULL, NULL, down_held,
                           down_child, d };
  int i, left, gone = 0;

  if (cloud_intents_load(d->o->name))
    warn("%s: %s: untagged hosts are not looked for", d->o->name, mvm.err);
  if (d->o->list(d->h, d->label, &d->l)) return -1;
  if ((i = cloud_intents_found(&d->l, d->label)) > 0 || (!i && !d->label))
    info("%d untagged host(s) found by the journal's intended names", i);
  d->got = xzalloc((d->l.n + 1) * sizeof(*d->got));
  name_left(d, NULL);
  cp.hosts = &d->l;
  cp.held = d->got;
  cloud_pool_run(&cp, d->l.n);
  left = confirm(d, end);
  sig_abort_left(NULL);
  for (i = 0; i < d->l.n; i++) {
    if (!d->got[i].addr) cloud_rec(d->o, &d->l.h[i], &d->got[i]);
    gone += !rec_failed(&d->got[i]);
    d->emit(&d->got[i]);
    rec_release(&d->got[i]);
  }
  free(d->got);
  info("%d host(s) destroyed, %d left%s", gone, left, left ? ""
       : " (confirmed by listing)");
  return sweep(d, d->label, NULL, 0);
}

/* By record: delete it, then ask for it until it is gone or the deadline
 * passes (0 gone, -1 mvm.err). */
static int down_one(struct down *d, struct cloud_host *c, double end)
{
  int rc = d->o->destroy(d->h, c);

  if (rc) return rc;
  for (;;) {
    if (!d->o->get(d->h, c) && c->state == CLOUD_GONE) return 0;
    if (c->state == CLOUD_FAILED) return cloud_err_pfx(d->o->name, NULL);
    if (http_wall() >= end)
      return error("%s is still there at the deadline: run echo '- "
                   "provider=%s id=%s' | mvm-teardown", c->id, d->o->name,
                   c->id);
    status("deleted, waiting for it to go (%s)", c->status);
    sleep_s(poll_s(d->o));
  }
}

/* An intent line of the journal: did its create go through? Destroy the
 * host of that name (and label) if so. */
static int intent_host(struct down *d, const struct rec *only)
{
  const char *n = rec_get(only, "name"), *l = rec_get(only, "label");
  char name[80], label[64];
  struct rec r;
  int i, rc = 0;

  /* Copies: emit() may rewrite ONLY (mvm-teardown's worker record). */
  if (!n || !l) return error("an intent record needs name= and label=");
  snprintf(name, sizeof(name), "%s", n);
  snprintf(label, sizeof(label), "%s", l);
  cloud_intend(name, label);    /* untagged (killed before tagging): ours */
  if (d->o->list(d->h, label, &d->l))
    return -1;
  for (i = 0; i < d->l.n && !rc; i++) {
    if (strcmp(d->l.h[i].name, name)) continue;
    cloud_rec(d->o, &d->l.h[i], &r);
    lived(&d->l.h[i], &r);
    if ((rc = d->o->destroy(d->h, &d->l.h[i])) < 0)
      rc = -1;
    else if (!rc) d->emit(&r);
    rec_release(&r);
  }
  return rc < 0 ? -1 : 0;
}

int cloud_down(const struct cloud_ops *o, const char *label,
               const struct rec *only, emit_fn emit)
{
  struct down d = { o, NULL, { 0 }, emit, label, NULL };
  struct cloud_host *c;
  struct rec r;
  double end = until();
  int rc = 0, i;

  if (!only) cloud_end_note(o);
  if (!(d.h = cloud_connect(o, NULL))) return -1;
  http_deadline(d.h, end);
  if (only && !rec_get(only, "id")) {   /* a journal's intent: by name */
    rc = intent_host(&d, only);
  } else if (only) {          /* one record: its id= */
    c = cloud_list_add(&d.l);
    snprintf(c->id, sizeof(c->id), "%s", rec_get(only, "id"));
    if ((rc = down_one(&d, c, end)) == 0) {
      rec_new(&r, only->addr);
      for (i = 0; i < only->n; i++)
        rec_set(&r, only->f[i].key, "%s", only->f[i].val);
      snprintf(c->created, sizeof(c->created), "%s",
               rec_get(only, "created") ? rec_get(only, "created") : "");
      lived(c, &r);
      emit(&r);
      rec_release(&r);
    }
    rc = rc < 0 ? -1 : 0;
  } else {
    rc = down_label(&d, end);
  }
  cloud_list_release(&d.l);
  http_free(d.h);
  return rc;
}

int cloud_down_end(const struct cloud_ops *o, const struct rec *r, int n)
{
  struct down d = { o, NULL, { 0 }, NULL, NULL, NULL };
  int rc;

  if (!o->sweep || n < 1) return 0;
  if (!(d.h = cloud_connect(o, NULL))) return -1;
  http_deadline(d.h, until());
  rc = sweep(&d, NULL, r, n);
  http_free(d.h);
  return rc;
}

int cloud_list(const struct cloud_ops *o, const char *label, emit_fn emit)
{
  struct cloud_list l = { 0 };
  struct http *h = cloud_connect(o, NULL);
  struct rec r;
  int i, rc = 0;

  if (!h) return -1;
  if (cloud_intents_load(o->name))
    warn("%s: %s: untagged hosts are not looked for", o->name, mvm.err);
  if (o->list(h, label, &l)) rc = -1;
  for (i = 0; !rc && i < l.n; i++) {
    cloud_rec(o, &l.h[i], &r);
    emit(&r);
    rec_release(&r);
  }
  cloud_list_release(&l);
  http_free(h);
  return rc;
}
