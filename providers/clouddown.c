/* providers/clouddown.c - the cloud driver's other half (see cloud.c):
 * destroying by record, by intent line (looked up by name) or by tag, a
 * worker per host, each destroyed host emitted with lived=; and the listing
 * mvm-teardown --dry-run and --expired read. Prints nothing itself. */
#include "mvm.h"
#include "provider.h"
#include "cloud.h"

struct down {
  const struct cloud_ops *o;
  struct http *h;
  struct cloud_list l;
  emit_fn emit;
};

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

static void down_got(int i, struct rec *r, void *arg)
{
  const struct down *d = arg;

  (void)i;
  d->emit(r);
}

static void down_lost(int i, int st, void *arg)
{
  const struct down *d = arg;
  struct rec r;

  cloud_rec(d->o, &d->l.h[i], &r);
  rec_fail(&r, "down", "worker died (status %d)", st);
  d->emit(&r);
  rec_release(&r);
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
  struct pool p = { down_child, down_got, down_lost, NULL, 0 };
  struct down d = { o, NULL, { 0 }, emit };
  struct cloud_host *c;
  struct rec r;
  int rc = 0, i;

  if (!(d.h = cloud_connect(o))) return -1;
  if (only && !rec_get(only, "id")) {   /* a journal's intent: by name */
    rc = intent_host(&d, only);
  } else if (only) {          /* one record: its id= */
    c = cloud_list_add(&d.l);
    snprintf(c->id, sizeof(c->id), "%s", rec_get(only, "id"));
    if ((rc = o->destroy(d.h, c)) == 0) {
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
  } else if (o->list(d.h, label, &d.l)) {
    rc = -1;
  } else if (d.l.n) {
    p.arg = &d;
    pool_run(&p, d.l.n, cloud_jobs(d.l.n));
  }
  cloud_list_release(&d.l);
  http_free(d.h);
  return rc;
}

int cloud_list(const struct cloud_ops *o, const char *label, emit_fn emit)
{
  struct cloud_list l = { 0 };
  struct http *h = cloud_connect(o);
  struct rec r;
  int i, rc = 0;

  if (!h) return -1;
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
