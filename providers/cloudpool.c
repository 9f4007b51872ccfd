/* providers/cloudpool.c - the parent's side of the driver's workers, for
 * up() and down() alike: a worker per host (lib/pool.c), its record
 * emitted as it comes or held until the listing confirms it, and the
 * record of a worker that died. */
#include "mvm.h"
#include "provider.h"
#include "cloud.h"

static void got(int i, struct rec *r, void *arg)
{
  const struct cloud_pool *cp = arg;
  int k;

  if (!cp->held) {
    cp->emit(r);
    return;
  }
  rec_new(&cp->held[i], r->addr);
  for (k = 0; k < r->n; k++)
    rec_set(&cp->held[i], r->f[k].key, "%s", r->f[k].val);
  if (cp->on_held) cp->on_held(cp->job);
}

/* A worker that died sent nothing: its host (if listed) failed, and one
 * that was creating may exist, which only a teardown can tell. */
static void lost_rec(const struct cloud_pool *cp, int i, int st,
                     struct rec *r)
{
  if (cp->creates) {
    rec_new(r, "-");
    rec_set(r, "provider", "%s", cp->o->name);
    rec_set(r, "label", "%s", cp->label);
    rec_fail(r, "provision", "worker of host %d died (status %d): it may"
             " exist; run mvm-teardown %s %s", i + 1, st, cp->o->name,
             cp->label);
  } else {
    cloud_rec(cp->o, &cp->hosts->h[i], r);
    rec_fail(r, "down", "worker died (status %d)", st);
  }
}

static void lost(int i, int st, void *arg)
{
  const struct cloud_pool *cp = arg;
  struct rec r;

  if (cp->held) {
    lost_rec(cp, i, st, &cp->held[i]);
    return;
  }
  lost_rec(cp, i, st, &r);
  cp->emit(&r);
  rec_release(&r);
}

static void child(int i, int fd, void *arg)
{
  const struct cloud_pool *cp = arg;

  cp->child(i, fd, cp->job);
}

void cloud_pool_run(const struct cloud_pool *cp, int n)
{
  struct pool p = { child, got, lost, (void *)cp, cp->creates };
  int jobs = (int)cloud_env_s("MVM_CLOUD_JOBS", 32);

  if (n > 0) pool_run(&p, n, jobs < n ? jobs : n);
}
