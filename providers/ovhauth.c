/* providers/ovhauth.c - OVH API credentials as go-ovh and python-ovh read
 * them: OVH_ENDPOINT, OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET,
 * OVH_CONSUMER_KEY, else ./ovh.conf, ~/.ovh.conf, /etc/ovh.conf
 * ([default] endpoint=, [ENDPOINT] application_key= ...). The Public Cloud
 * project is OVH_CLOUD_PROJECT_SERVICE (Terraform's name for it). */
#include "mvm.h"
#include "auth.h"

/* Each endpoint's API root and the default region of its accounts: an
 * ovh-ca or ovh-us account has none of ovh-eu's regions (OVHcloud's
 * region list: BHS5 in Beauharnois, US-EAST-VA-1 in Vint Hill). */
static const char *const roots[][3] = {
  { "ovh-eu", "https://eu.api.ovh.com/1.0", "GRA7" },
  { "ovh-ca", "https://ca.api.ovh.com/1.0", "BHS5" },
  { "ovh-us", "https://api.us.ovhcloud.com/1.0", "US-EAST-VA-1" },
};

void ovh_cred_clear(struct ovh_cred *c)
{
  auth_wipe(&c->as);
  auth_wipe(&c->ck);
  free(c->ak);
  free(c->base);
  free(c->project);
  memset(c, 0, sizeof(*c));
}

/* The first config file that exists, or NULL. */
static char *conf_file(void)
{
  char *f[3] = { xstrdup("ovh.conf"), conf_path(NULL, ".ovh.conf"),
                 xstrdup("/etc/ovh.conf") }, *found = NULL;
  int i;

  for (i = 0; i < 3; i++) {
    if (!found && !access(f[i], F_OK)) found = f[i];
    else free(f[i]);
  }
  return found;
}

static int from_conf(struct ovh_cred *c, const char *file, const char *ep)
{
  static const char *const keys[] = { "application_key",
                                      "application_secret", "consumer_key" };
  char **dst[] = { &c->ak, &c->as, &c->ck };
  size_t i;
  int rc;

  for (i = 0; i < ARRAY_LEN(keys); i++) {
    if (*dst[i]) continue;
    rc = conf_toml(file, ep, NULL, NULL, keys[i], dst[i]);
    if (rc < 0) return -1;
    if (rc) return error("no credentials: OVH_%s is not set and '%s' has "
                         "no %s in [%s]", i == 0 ? "APPLICATION_KEY" : i == 1
                         ? "APPLICATION_SECRET" : "CONSUMER_KEY", file,
                         keys[i], ep);
  }
  return 0;
}

/* The endpoint as go-ovh reads it: OVH_ENDPOINT, else [default]
 * endpoint= of FILE, else ovh-eu. */
static char *endpoint_name(const char *file)
{
  const char *e = getenv("OVH_ENDPOINT");
  char *ep = NULL;

  if (e && *e) return xstrdup(e);
  if (!file || conf_toml(file, "default", NULL, NULL, "endpoint", &ep))
    return xstrdup("ovh-eu");
  return ep;
}

const char *ovh_default_region(void)
{
  char *file = conf_file(), *ep = endpoint_name(file);
  const char *region = roots[0][2];
  size_t i;

  for (i = 0; i < ARRAY_LEN(roots); i++)
    if (!strcmp(ep, roots[i][0]) || !strcmp(ep, roots[i][1]))
      region = roots[i][2];
  free(ep);
  free(file);
  return region;
}

int ovh_cred_load(struct ovh_cred *c)
{
  static const char *const env[] = { "OVH_APPLICATION_KEY",
    "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY" };
  char **dst[] = { &c->ak, &c->as, &c->ck }, *file, *ep = NULL;
  const char *p;
  size_t i;
  int rc = 0, missing = -1;

  memset(c, 0, sizeof(*c));
  for (i = 0; i < ARRAY_LEN(env); i++) {
    const char *v = getenv(env[i]);
    if (v && *v) *dst[i] = xstrdup(v);
    else if (missing < 0) missing = (int)i;
  }
  file = conf_file();
  ep = endpoint_name(file);
  for (i = 0; !rc && i < ARRAY_LEN(roots); i++)
    if (!strcmp(ep, roots[i][0])) c->base = xstrdup(roots[i][1]);
  if (!rc && !c->base) {
    if (strncmp(ep, "https://", 8) && strncmp(ep, "http://", 7))
      rc = error("OVH_ENDPOINT: unknown endpoint '%s' (ovh-eu, ovh-ca, "
                 "ovh-us or a URL)", ep);
    else c->base = xstrdup(ep);
  }
  if (!rc && missing >= 0 && !file)
    rc = error("no credentials: %s is not set and there is no ovh.conf, "
               "~/.ovh.conf or /etc/ovh.conf", env[missing]);
  else if (!rc && missing >= 0)
    rc = from_conf(c, file, ep);
  p = getenv("OVH_CLOUD_PROJECT_SERVICE");
  if (!rc && (!p || !*p))
    rc = error("no project: set OVH_CLOUD_PROJECT_SERVICE to the Public "
               "Cloud project id");
  if (!rc) c->project = xstrdup(p);
  free(file);
  free(ep);
  if (rc) ovh_cred_clear(c);
  return rc;
}
