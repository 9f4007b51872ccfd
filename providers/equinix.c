/* providers/equinix.c - Equinix Metal (api.equinix.com/metal/v1,
 * X-Auth-Token, tag strings, termination_time as a second safety net).
 * Equinix Metal ended on 30 June 2026: mvm-provision refuses unless
 * MVM_EQUINIX_ENDPOINT names another API (providers/cloudend.c); teardown
 * still tries. Bare metal: polled until active with a public
 * IPv4. API calls only: the driver does the rest. Owns the Metal token. */
#include "mvm.h"
#include "http/http.h"
#include "json.h"
#include "provider.h"
#include "cloud.h"

/* Defaults. */
#define EQ_TYPE "c3.small.x86"
#define EQ_REGION "da"
#define EQ_OS "ubuntu_24_04"

static char eq_project[128];

/* Credentials, as the metal CLI reads them: METAL_AUTH_TOKEN (legacy
 * PACKET_AUTH_TOKEN) and METAL_PROJECT_ID, else token: and project-id: in
 * ~/.config/equinix/metal.yaml (METAL_CONFIG overrides the path). */
static int equinix_init(struct http *h)
{
  static const char *const tenv[] = { "METAL_AUTH_TOKEN",
                                      "PACKET_AUTH_TOKEN", NULL };
  static const char *const penv[] = { "METAL_PROJECT_ID", NULL };
  const char *tok = cloud_env(tenv), *proj = cloud_env(penv);
  char *path = conf_path("METAL_CONFIG", ".config/equinix/metal.yaml");
  char *t = NULL, *p = NULL;
  int rc = 0;

  if (!tok && conf_yaml(path, "token", &t) < 0) rc = -1;
  if (!proj && !rc && conf_yaml(path, "project-id", &p) < 0) rc = -1;
  if (!tok) tok = t;
  if (!proj) proj = p;
  if (!rc && (!tok || !*tok))
    rc = error("no Equinix Metal credentials: set METAL_AUTH_TOKEN or"
               " token: in %s (metal init)", path);
  else if (!rc && (!proj || !*proj))
    rc = error("no Equinix Metal project: set METAL_PROJECT_ID or"
               " project-id: in %s", path);
  if (!rc) {
    http_header(h, "X-Auth-Token", tok, 1);
    snprintf(eq_project, sizeof(eq_project), "%s", proj);
  }
  if (t) freezero(t, strlen(t) + 1);
  free(p);
  free(path);
  return rc;
}

/* API calls. */
static const struct cloud_fields eq_fields = {
  .id = "id", .name = "hostname", .created = "created_at",
  .region = "metro.code", .status = "state", .ready = "active",
  .tags = "tags",
};

static void eq_host(const struct json *d, struct cloud_host *c)
{
  char fam[8], pub[8];
  int i, n = json_len(d, "ip_addresses");

  for (i = 0; i < n && !*c->addr; i++)
    if (json_text(d, fam, sizeof(fam), "ip_addresses.%d.address_family", i)
        && !strcmp(fam, "4") &&
        json_text(d, pub, sizeof(pub), "ip_addresses.%d.public", i) &&
        !strcmp(pub, "true"))
      json_text(d, c->addr, sizeof(c->addr), "ip_addresses.%d.address", i);
  cloud_host_json(d, &eq_fields, c);
  if (!strcmp(c->status, "failed")) c->state = CLOUD_FAILED;
  else if (!strcmp(c->status, "deleted")) c->state = CLOUD_GONE;
}

static int equinix_create(struct http *h, const struct cloud_req *q,
                          struct cloud_host *c)
{
  struct http_resp r;
  struct json *j = NULL;
  char *path = xasprintf("/metal/v1/projects/%s/devices", eq_project);
  char *body;
  int rc;

  /* no_ssh_keys: else Metal adds every project and organisation member's
   * key to root; the host's access is the user-data's key alone. */
  body = json_build("{s:s, s:s, s:s, s:s, s:s, s:s%, s:[s,s,s], s:s, s:b}",
                    "metro", q->region, "plan", q->type,
                    "operating_system", q->image ? q->image : EQ_OS,
                    "hostname", q->name, "billing_cycle", "hourly",
                    "userdata", q->user_data, q->ud_len,
                    "tags", q->tag_eph, q->tag_label, q->tag_expires,
                    "termination_time", q->expires, "no_ssh_keys", 1);
  rc = http_req(h, "create device", "POST", path, body, q->http_flags, &r);
  freezero(body, strlen(body) + 1);
  if (!rc && !(rc = cloud_parse(&r, &j))) {
    eq_host(j, c);
    if (!*c->id) rc = error("create device: no id in the answer");
  }
  json_free(j);
  http_resp_release(&r);
  free(path);
  return rc;
}

static int equinix_get(struct http *h, struct cloud_host *c)
{
  struct http_resp r;
  struct json *j = NULL;
  char *path = xasprintf("/metal/v1/devices/%s", c->id);
  int rc = http_req(h, "get device", "GET", path, NULL,
                    HTTP_RETRY | HTTP_404_OK, &r);

  if (!rc && r.status == 404) c->state = CLOUD_GONE;
  else if (!rc && !(rc = cloud_parse(&r, &j))) eq_host(j, c);
  json_free(j);
  http_resp_release(&r);
  free(path);
  return rc;
}

/* One tag per query: the marker; the label is checked here. */
/* Pages numbered from 1; the last says "next": null (json_text: NULL for
 * null). Its href drops the tag filter, so the number is counted here. */
static const struct cloud_paging eq_pages = {
  "meta.next.href", NULL, "page", "devices"
};

struct eq_want {
  const char *label;      /* NULL: every label */
  struct cloud_list *out;
};

static int eq_listed(const struct json *page, void *arg)
{
  const struct eq_want *w = arg;
  struct cloud_host *c;
  int i, n = json_len(page, "devices");

  for (i = 0; i < n; i++) {
    if (!(c = cloud_list_add(w->out)))
      return error("list devices: over %d", CLOUD_LIST_MAX);
    eq_host(json_get(page, "devices.%d", i), c);
    if (w->label && strcmp(c->label, w->label)) w->out->n--;
  }
  return 0;
}

static int equinix_list(struct http *h, const char *label,
                        struct cloud_list *out)
{
  struct eq_want w = { label, out };
  char *tag = uri_escape("mvm-ephemeral=true"), *path;
  int rc;

  path = xasprintf("/metal/v1/projects/%s/devices?tag=%s&per_page=100",
                   eq_project, tag);
  rc = cloud_pages(h, &eq_pages, "list devices", path, eq_listed, &w);
  free(path);
  free(tag);
  return rc;
}

static int equinix_destroy(struct http *h, const struct cloud_host *c)
{
  return cloud_delete(h, "delete device",
                      "/metal/v1/devices/%s?force_delete=true", c->id);
}

/* The table. userdata is plain text (no gzip); its limit is not
 * documented (64 KiB assumed); no documented rate limit. */
static const struct cloud_ops equinix_ops = {
  .name = "equinix",
  .base = "https://api.equinix.com",
  .type = EQ_TYPE,
  .region = EQ_REGION,
  .ended = "2026-06-30", .service = "Equinix Metal",
  .ud_max = 65536,
  .ud_gzip = 0,
  .idempotent = 0,
  .rate = 5, .burst = 20,
  .poll_s = 15, .ready_s = 1800,
  .init = equinix_init,
  .create = equinix_create,
  .list_polls = 1,
  .get = equinix_get,
  .list = equinix_list,
  .destroy = equinix_destroy,
};

CLOUD_PROVIDER(equinix, 0);
