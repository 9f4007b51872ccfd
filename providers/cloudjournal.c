/* providers/cloudjournal.c - the cloud driver's use of the journal beyond
 * its lines before and after each create (see cloud.h): a provider's note
 * of what its create made besides the host, and the names of the hosts
 * mvmbox meant to make, read back for a provider whose create takes no
 * tags (latitude tags in a second call, so a kill in between leaves a
 * server with only its name). */
#include "mvm.h"
#include "provider.h"
#include "cloud.h"

struct intent {
  char *name, *label;
};

static struct {
  struct intent *v;
  int n, cap;
  const char *prov;       /* whose intent lines were read, or NULL */
  int asked;              /* cloud_intended() was called */
} N;

int cloud_journal(const char *prov, const struct cloud_req *q,
                  const char *key, const char *val)
{
  struct rec r;
  int rc;

  rec_new(&r, "-");
  rec_set(&r, "provider", "%s", prov);
  rec_set(&r, "label", "%s", q->label);
  rec_set(&r, "name", "%s", q->name);
  rec_set(&r, "intent", "create");
  rec_set(&r, key, "%s", val);
  rc = journal_add(&r);
  rec_release(&r);
  return rc;
}

void cloud_intend(const char *name, const char *label)
{
  if (N.n == N.cap) {
    N.cap = N.cap ? N.cap * 2 : 16;
    N.v = xrealloc(N.v, N.cap * sizeof(*N.v));
  }
  N.v[N.n].name = xstrdup(name);
  N.v[N.n].label = xstrdup(label ? label : "");
  N.n++;
}

static void intent_line(const struct rec *r, void *arg)
{
  const char *p = rec_get(r, "provider"), *n = rec_get(r, "name");

  (void)arg;
  if (p && n && *n && rec_get(r, "intent") && !strcmp(p, N.prov))
    cloud_intend(n, rec_get(r, "label"));
}

int cloud_intents_load(const char *prov)
{
  if (N.prov) return 0;           /* once per process */
  N.prov = prov;
  return journal_each(intent_line, NULL);
}

static int intended(const char *name, const char *label)
{
  int i;

  for (i = 0; i < N.n; i++)
    if (!strcmp(N.v[i].name, name) && (!label || !strcmp(N.v[i].label,
                                                         label)))
      return 1;
  return 0;
}

int cloud_intended(const char *name, const char *label)
{
  N.asked = 1;
  return intended(name, label);
}

int cloud_intents_found(const struct cloud_list *l, const char *label)
{
  int i, k = 0;

  if (!N.asked) return -1;
  for (i = 0; i < l->n; i++)
    k += !*l->h[i].label && intended(l->h[i].name, label);
  return k;
}
