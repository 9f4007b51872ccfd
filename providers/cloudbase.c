/* providers/cloudbase.c - what the cloud driver's files (cloud.c,
 * clouddown.c, cloudpoll.c, cloudpool.c) and the provider files share,
 * below all of them: the host list, environment knobs, times, an answer's
 * document, the API handle with the provider's credentials, a host as a
 * record, a monthly price as an hourly one. */
#include "mvm.h"
#include "http/http.h"
#include "json.h"
#include "provider.h"
#include "cloud.h"

struct cloud_host *cloud_list_add(struct cloud_list *l)
{
  if (l->n >= CLOUD_LIST_MAX) return NULL;
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 16;
    l->h = xrealloc(l->h, l->cap * sizeof(*l->h));
  }
  memset(&l->h[l->n], 0, sizeof(*l->h));
  return &l->h[l->n++];
}

void cloud_list_release(struct cloud_list *l)
{
  free(l->h);
  memset(l, 0, sizeof(*l));
}

const char *cloud_env(const char *const *names)
{
  const char *v;

  for (; *names; names++)
    if ((v = getenv(*names)) && *v) return v;
  return NULL;
}

double cloud_env_s(const char *name, double def)
{
  const char *s = getenv(name);
  double v = s && *s ? strtod(s, NULL) : 0;

  return v > 0 ? v : def;
}

int cloud_time(const char *in, char *out, size_t len, int compact)
{
  time_t t = time_parse(in);

  if (t < 0) return -1;
  time_fmt(t, out, len, compact);
  return 0;
}

/* mvm.err with the provider's name in front (error() must not read the
 * buffer it writes). */
int cloud_err_pfx(const char *prov, const char *tail)
{
  char why[sizeof(mvm.err)];

  snprintf(why, sizeof(why), "%s", mvm.err);
  return error("%s: %s%s", prov, why, tail ? tail : "");
}

int cloud_parse(const struct http_resp *r, struct json **j)
{
  if ((*j = json_parse(r->body ? r->body : "", r->len))) return 0;
  return cloud_err_pfx("bad answer", NULL);
}

const char *cloud_region(const struct cloud_ops *o)
{
  const char *r = o->default_region ? o->default_region() : NULL;

  return r ? r : o->region;
}

struct http *cloud_connect(const struct cloud_ops *o, const char *region)
{
  struct http *h;

  if (o->at && o->at(region ? region : cloud_region(o))) return NULL;
  h = http_new(o->name, o->base);
  http_rate(h, o->rate, o->burst);
  if (o->init(h)) {
    char why[sizeof(mvm.err)];

    snprintf(why, sizeof(why), "%s", mvm.err);
    http_free(h);
    error("%s", why);
    return NULL;
  }
  return h;
}

void cloud_rec(const struct cloud_ops *o, const struct cloud_host *c,
                     struct rec *r)
{
  rec_new(r, *c->addr ? c->addr : "-");
  rec_set(r, "provider", "%s", o->name);
  if (*c->id) rec_set(r, "id", "%s", c->id);
  if (*c->label) rec_set(r, "label", "%s", c->label);
  if (*c->name) rec_set(r, "name", "%s", c->name);
  if (*c->region) rec_set(r, "region", "%s", c->region);
  if (*c->created) rec_set(r, "created", "%s", c->created);
  if (*c->expires) rec_set(r, "expires", "%s", c->expires);
  if (*c->price) rec_set(r, "price", "%s", c->price);
}

double cloud_monthly_hourly(double monthly)
{
  return monthly / 730;
}
