/* providers/cloudend.c - a cloud service that ends (struct cloud_ops
 * .ended, .service): said in the tense the clock gives, with the days
 * counted, and once it has ended, mvm-provision refuses before any key is
 * made or request sent, unless MVM_<PROVIDER>_ENDPOINT names another API
 * (a test's fake, a successor). Teardown still tries: hosts made before
 * the end may be left, and the API may still answer deletes. */
#include "mvm.h"
#include "provider.h"
#include "cloud.h"

/* The sentence, "Equinix Metal ended on 2026-06-30 (159 days ago)" or
 * "... ends on ... (in 3 days)": 1 ended, 0 not yet, -1 no end known. */
static int end_said(const struct cloud_ops *o, char *out, size_t n)
{
  char at[40];
  time_t end, now = time(NULL);
  long d;

  snprintf(at, sizeof(at), "%sT00:00:00Z", o->ended ? o->ended : "");
  if (!o->ended || (end = time_parse(at)) < 0) return -1;
  d = (long)((now >= end ? now - end : end - now) / 86400);
  if (now < end)
    snprintf(out, n, "%s ends on %s (in %ld day%s)", o->service, o->ended,
             d, d == 1 ? "" : "s");
  else if (d == 0)
    snprintf(out, n, "%s ended on %s (today)", o->service, o->ended);
  else
    snprintf(out, n, "%s ended on %s (%ld day%s ago)", o->service,
             o->ended, d, d == 1 ? "" : "s");
  return now >= end;
}

/* MVM_<NAME>_ENDPOINT, if it names an API other than the provider's own
 * (a trailing '/' and the case of the host do not make another). */
static const char *other_endpoint(const struct cloud_ops *o, char *env,
                                  size_t n)
{
  const char *ep;
  size_t bl = strlen(o->base);
  char *p;

  snprintf(env, n, "MVM_%s_ENDPOINT", o->name);
  for (p = env; *p; p++) *p = toupper((unsigned char)*p);
  ep = getenv(env);
  if (!ep || !*ep) return NULL;
  if (!strncasecmp(ep, o->base, bl) && (!ep[bl] || !strcmp(ep + bl, "/")))
    return NULL;
  return ep;
}

int cloud_check(const struct cloud_ops *o)
{
  char said[160], env[64];
  const char *ep;
  int st = end_said(o, said, sizeof(said));

  if (st < 0) return 0;
  if (!st) {
    info("%s: %s", o->name, said);
    return 0;
  }
  if ((ep = other_endpoint(o, env, sizeof(env)))) {
    info("%s: %s: trying %s (%s)", o->name, said, ep, env);
    return 0;
  }
  return error("%s: its API is gone, so nothing was made (%s names another"
               " API to try; mvm-teardown %s still tries)", said, env,
               o->name);
}

void cloud_end_note(const struct cloud_ops *o)
{
  char said[160], env[64];
  const char *ep = other_endpoint(o, env, sizeof(env));

  if (end_said(o, said, sizeof(said)) == 1)
    info("%s: %s: trying %s anyway (--deadline bounds the wait)", o->name,
         said, ep ? ep : o->base);
}
