/* providers/ovh.c - OVHcloud Public Cloud instances through the /1.0 API,
 * every call signed "$1$"+SHA1 (lib/crypto/sign.c) with the server's clock
 * (/auth/time). Instances carry no tags, so the marker is the name:
 * mvm-ephemeral-LABEL-..., and list filters on that prefix. The region
 * defaults to the endpoint's (ovhauth.c) and must be the project's; the
 * flavor and image are looked up by name in it, the image among those of
 * the flavor's osType. Owns the OVH credentials
 * (providers/ovhauth.c); never writes stdout. */
#include "mvm.h"
#include "http/http.h"
#include "crypto/crypto.h"
#include "json.h"
#include "provider.h"
#include "cloud.h"
#include "auth.h"

#define PREFIX CLOUD_TAG_EPH "-"
#define IMAGE "Ubuntu 24.04"

static struct ovh_cred cred;
static char ovh_base[256] = "https://eu.api.ovh.com/1.0";

static int ovh_sign(struct http *h, const char *method, const char *url,
                    const char *body, void *arg)
{
  char sig[48], ts[24];
  long now = (long)time(NULL) + cred.delta;

  (void)arg;
  ovh_signature(cred.as, cred.ck, method, url, body ? body : "", now, sig);
  snprintf(ts, sizeof(ts), "%ld", now);
  http_sign_header(h, "X-Ovh-Application", cred.ak, 0);
  http_sign_header(h, "X-Ovh-Consumer", cred.ck, 1);
  http_sign_header(h, "X-Ovh-Timestamp", ts, 0);
  http_sign_header(h, "X-Ovh-Signature", sig, 1);
  return 0;
}

/* The clock offset first, unsigned; then every call is signed. */
static int ovh_init(struct http *h)
{
  struct http_resp r = { 0 };
  int rc;

  rc = http_req(h, "get the server time", "GET", "/auth/time", NULL,
                HTTP_RETRY, &r);
  if (!rc && (!r.body || strspn(r.body, "0123456789") == 0))
    rc = error("get the server time: not a number");
  if (!rc) cred.delta = atol(r.body) - (long)time(NULL);
  http_resp_release(&r);
  if (!rc) http_signer(h, ovh_sign, NULL);
  return rc;
}

/* The entry of LIST (a JSON array) whose "name" is NAME: its id, osType
 * and type. FTYPE (images): skip an entry made for another flavor type
 * (its flavorType set and not FTYPE). */
struct row { char id[80], os[40], type[40]; };
static int find_row(struct http *h, const char *what, const char *path,
                    const char *name, const char *ftype, struct row *out)
{
  struct http_resp r = { 0 };
  struct json *j = NULL;
  char t[128], ft[40];
  int i, rc = http_req(h, what, "GET", path, NULL, HTTP_RETRY, &r);

  memset(out, 0, sizeof(*out));
  if (!rc) rc = cloud_parse(&r, &j);
  for (i = 0; !rc && i < json_len(j, "%s", ""); i++) {
    if (!json_text(j, t, sizeof(t), "%d.name", i) || strcmp(t, name))
      continue;
    if (ftype && json_text(j, ft, sizeof(ft), "%d.flavorType", i) && *ft &&
        strcmp(ft, ftype))
      continue;
    json_text(j, out->id, sizeof(out->id), "%d.id", i);
    json_text(j, out->os, sizeof(out->os), "%d.osType", i);
    json_text(j, out->type, sizeof(out->type), "%d.type", i);
    break;
  }
  if (!rc && !*out->id) rc = error("%s: no '%s' in the region", what, name);
  json_free(j);
  http_resp_release(&r);
  return rc;
}

/* Is REGION one of the project's (GET .../region, an array of names)? A
 * default region of another endpoint's accounts fails here, naming the
 * ones there are, before anything is made. */
static int region_ok(struct http *h, const char *region)
{
  char *path = xasprintf("/cloud/project/%s/region", cred.project);
  struct http_resp r = { 0 };
  struct json *j = NULL;
  char t[64], have[200] = "";
  int i, n, rc = http_req(h, "list regions", "GET", path, NULL, HTTP_RETRY,
                          &r);

  if (!rc) rc = cloud_parse(&r, &j);
  for (i = 0, n = rc ? 0 : json_len(j, "%s", ""); i < n; i++) {
    if (!json_text(j, t, sizeof(t), "%d", i)) continue;
    if (!strcmp(t, region)) break;
    if (strlen(have) + strlen(t) + 3 < sizeof(have))
      snprintf(have + strlen(have), sizeof(have) - strlen(have), "%s%s",
               *have ? ", " : "", t);
  }
  if (!rc && i >= n)
    rc = error("region %s is not one of the project's (%s): give -r"
               " REGION", region, *have ? have : "none");
  json_free(j);
  http_resp_release(&r);
  free(path);
  return rc;
}

static void host_from(const struct json *j, struct cloud_host *c)
{
  static const struct cloud_fields f = {
    .id = "id", .name = "name", .status = "status", .created = "created",
    .region = "region", .ready = "ACTIVE",  /* no tags: the name says */
  };
  char t[64], v[8];
  int i, n = json_len(j, "ipAddresses");

  for (i = 0; i < n; i++)
    if (json_text(j, t, sizeof(t), "ipAddresses.%d.type", i)
        && !strcmp(t, "public")
        && json_text(j, v, sizeof(v), "ipAddresses.%d.version", i)
        && !strcmp(v, "4"))
      json_text(j, c->addr, sizeof(c->addr), "ipAddresses.%d.ip", i);
  cloud_host_json(j, &f, c);
  /* mvm-ephemeral-LABEL-RUN-i: the driver's name follows the marker, and
   * the label is that name without its last two parts */
  if (!strncmp(c->name, PREFIX, strlen(PREFIX))) {
    char *e;
    memmove(c->name, c->name + strlen(PREFIX),
            strlen(c->name) - strlen(PREFIX) + 1);
    snprintf(c->label, sizeof(c->label), "%.63s", c->name);
    if ((e = strrchr(c->label, '-'))) *e = 0;
    if ((e = strrchr(c->label, '-'))) *e = 0;
    c->aux[0] = 'm';          /* marked */
  }
  if (c->state != CLOUD_READY && strcmp(c->status, "BUILD")
      && strcmp(c->status, "ACTIVE") && *c->status)
    c->state = CLOUD_FAILED;
}

static int ovh_create(struct http *h, const struct cloud_req *q,
                      struct cloud_host *c)
{
  struct row flavor, image;
  char name[128], *path, *body;
  struct http_resp r = { 0 };
  struct json *j = NULL;
  int rc;

  /* Lookups first: their failure made nothing (-2, not tried again). */
  if (region_ok(h, q->region)) return -2;
  path = xasprintf("/cloud/project/%s/flavor?region=%s", cred.project,
                   q->region);
  rc = find_row(h, "find flavor", path, q->type, NULL, &flavor);
  free(path);
  if (rc) return -2;
  /* The images the flavor boots: a metal flavor's osType is
   * baremetal-linux, and a linux (VM) image does not boot on it. */
  path = xasprintf("/cloud/project/%s/image?region=%s&osType=%s",
                   cred.project, q->region, *flavor.os ? flavor.os : "linux");
  rc = find_row(h, "find image", path, q->image && *q->image ? q->image
                : IMAGE, flavor.type, &image);
  free(path);
  if (rc) return -2;
  snprintf(name, sizeof(name), PREFIX "%s", q->name);
  body = json_build("{s:s, s:s, s:s, s:s, s:s%, s:b}", "name", name,
                    "flavorId", flavor.id, "imageId", image.id, "region",
                    q->region, "userData", q->user_data, q->ud_len,
                    "monthlyBilling", 0);
  path = xasprintf("/cloud/project/%s/instance", cred.project);
  rc = http_req(h, "create instance", "POST", path, body, q->http_flags, &r);
  if (!rc && !(rc = cloud_parse(&r, &j))) {
    host_from(j, c);
    snprintf(c->label, sizeof(c->label), "%s", q->label);
    if (!*c->id) rc = error("create instance: no id in the answer");
  }
  json_free(j);
  http_resp_release(&r);
  freezero(body, strlen(body));
  free(path);
  return rc;
}

static int ovh_get(struct http *h, struct cloud_host *c)
{
  char *path = xasprintf("/cloud/project/%s/instance/%s", cred.project,
                         c->id);
  struct http_resp r = { 0 };
  struct json *j = NULL;
  int rc = http_req(h, "get instance", "GET", path, NULL,
                    HTTP_RETRY | HTTP_404_OK, &r);

  if (!rc && r.status == 404) c->state = CLOUD_GONE;
  else if (!rc && !(rc = cloud_parse(&r, &j))) host_from(j, c);
  json_free(j);
  http_resp_release(&r);
  free(path);
  return rc;
}

static int ovh_list(struct http *h, const char *label, struct cloud_list *out)
{
  char *path = xasprintf("/cloud/project/%s/instance", cred.project);
  struct http_resp r = { 0 };
  struct json *j = NULL;
  struct cloud_host c, *slot;
  int i, rc = http_req(h, "list instances", "GET", path, NULL, HTTP_RETRY,
                       &r);

  if (!rc) rc = cloud_parse(&r, &j);
  for (i = 0; !rc && i < json_len(j, "%s", ""); i++) {
    memset(&c, 0, sizeof(c));
    host_from(json_get(j, "%d", i), &c);
    if (c.aux[0] != 'm') continue;      /* not ours: no marker */
    if (label && strcmp(c.label, label)) continue;
    if (!(slot = cloud_list_add(out)))
      rc = error("list instances: over %d", CLOUD_LIST_MAX);
    else *slot = c;
  }
  json_free(j);
  http_resp_release(&r);
  free(path);
  return rc;
}

static int ovh_destroy(struct http *h, const struct cloud_host *c)
{
  return cloud_delete(h, "delete instance", "/cloud/project/%s/instance/%s",
                      cred.project, c->id);
}

/* The API root comes with the credentials (OVH_ENDPOINT or ovh.conf), so
 * they are read before the driver makes its handle. */
static int ovh_at(const char *region)
{
  (void)region;
  ovh_cred_clear(&cred);
  if (ovh_cred_load(&cred) < 0) return -1;
  snprintf(ovh_base, sizeof(ovh_base), "%s", cred.base);
  return 0;
}

static const struct cloud_ops ovh_ops = {
  .name = "ovh",
  .base = ovh_base,
  .type = "bm-s1",
  .region = NULL,           /* the endpoint's: ovh_default_region() */
  .ud_max = 48 * 1024,
  .rate = 5, .burst = 10,
  .poll_s = 10,
  .ready_s = 1800,
  .default_region = ovh_default_region,
  .at = ovh_at,
  .init = ovh_init,
  .create = ovh_create,
  .list_polls = 1,
  .get = ovh_get,
  .list = ovh_list,
  .destroy = ovh_destroy,
};

CLOUD_PROVIDER(ovh, 0);
