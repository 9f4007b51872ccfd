/* providers/vultr.c - Vultr bare metal (api.vultr.com/v2, bearer API key,
 * tag strings). Bare metal has /dev/kvm without nested virtualisation; it
 * takes 10-20 minutes to come up, so the driver polls until the host is
 * active with a main IP. API calls only: the driver does the rest. Owns
 * the Vultr API key. */
#include "mvm.h"
#include "http/http.h"
#include "json.h"
#include "provider.h"
#include "cloud.h"

/* Defaults. os_id 2284 is Ubuntu 24.04 LTS x64 in GET /os (--image takes
 * another os_id). */
#define VU_TYPE "vbm-4c-32gb"
#define VU_REGION "ewr"
#define VU_OS "2284"

/* Credentials, as vultr-cli reads them: VULTR_API_KEY, else api-key in
 * ~/.vultr-cli.yaml (VULTR_CLI_CONFIG overrides the path). */
static int vultr_init(struct http *h)
{
  static const char *const env[] = { "VULTR_API_KEY", NULL };
  const char *key = cloud_env(env);
  char *path = conf_path("VULTR_CLI_CONFIG", ".vultr-cli.yaml");
  char *k = NULL, *auth;
  int rc = 0;

  if (!key && (rc = conf_yaml(path, "api-key", &k)) == 0 && *k) key = k;
  if (!key && rc >= 0)
    rc = error("no Vultr credentials: set VULTR_API_KEY or api-key in %s",
               path);
  if (key) {
    auth = xasprintf("Bearer %s", key);
    http_header(h, "Authorization", auth, 1);
    freezero(auth, strlen(auth) + 1);
    rc = 0;
  }
  if (k) freezero(k, strlen(k) + 1);
  free(path);
  return rc;
}

/* API calls. */
static int has_tag(const struct json *b, const char *tag)
{
  char t[128];
  int i, n = json_len(b, "tags");

  for (i = 0; i < n; i++)
    if (json_text(b, t, sizeof(t), "tags.%d", i) && !strcmp(t, tag))
      return 1;
  return 0;
}

static const struct cloud_fields vu_fields = {
  .id = "id", .name = "label", .addr = "main_ip", .created = "date_created",
  .region = "region", .status = "status", .ready = "active", .tags = "tags",
};

static void vu_host(const struct json *b, struct cloud_host *c)
{
  cloud_host_json(b, &vu_fields, c);
  /* a machine still being set up answers main_ip "0.0.0.0" */
  if (!strcmp(c->addr, "0.0.0.0")) {
    *c->addr = 0;
    c->state = CLOUD_PENDING;
  }
}

/* The spec names the member "baremetal", the API (and libcloud's
 * recordings) "bare_metal": take either. */
static const struct json *vu_one(const struct json *j)
{
  const struct json *b = json_get(j, "bare_metal");

  return b ? b : json_get(j, "baremetal");
}

static int vultr_create(struct http *h, const struct cloud_req *q,
                        struct cloud_host *c)
{
  struct http_resp r;
  struct json *j = NULL;
  char *ud = b64_encode(q->user_data, q->ud_len), *body;
  long os = strtol(q->image ? q->image : VU_OS, NULL, 10);
  int rc;

  if (os <= 0) return error("--image: give a Vultr os_id (GET /os)");
  body = json_build("{s:s, s:s, s:I, s:s, s:s, s:s, s:[s,s,s], s:b, s:b}",
                    "region", q->region, "plan", q->type,
                    "os_id", (long long)os, "label", q->name,
                    "hostname", q->name, "user_data", ud,
                    "tags", q->tag_eph, q->tag_label, q->tag_expires,
                    "enable_ipv6", 1, "activation_email", 0);
  freezero(ud, strlen(ud) + 1);
  rc = http_req(h, "create bare metal", "POST", "/v2/bare-metals", body,
                q->http_flags, &r);
  freezero(body, strlen(body) + 1);
  if (!rc && !(rc = cloud_parse(&r, &j))) {
    vu_host(vu_one(j), c);
    if (!*c->id) rc = error("create bare metal: no id in the answer");
  }
  json_free(j);
  http_resp_release(&r);
  return rc;
}

static int vultr_get(struct http *h, struct cloud_host *c)
{
  struct http_resp r;
  struct json *j = NULL;
  char *path = xasprintf("/v2/bare-metals/%s", c->id);
  int rc = http_req(h, "get bare metal", "GET", path, NULL,
                    HTTP_RETRY | HTTP_404_OK, &r);

  if (!rc && r.status == 404) c->state = CLOUD_GONE;
  else if (!rc && !(rc = cloud_parse(&r, &j))) vu_host(vu_one(j), c);
  json_free(j);
  http_resp_release(&r);
  free(path);
  return rc;
}

/* Every list is cursor-paged (meta.links.next, "" on the last page), 500
 * a page at most. */
static const struct cloud_paging vu_paging = {
  "meta.links.next", "cursor", NULL, NULL
};

struct vu_want {
  const char *label;      /* vultr_list(): NULL, every label */
  struct cloud_list *out;
};

static int vu_listed(const struct json *page, void *arg)
{
  const struct vu_want *w = arg;
  char want[128];
  int i, n = json_len(page, "bare_metals");

  snprintf(want, sizeof(want), "%s=%s", CLOUD_TAG_LABEL,
           w->label ? w->label : "");
  for (i = 0; i < n; i++) {
    const struct json *b = json_get(page, "bare_metals.%d", i);
    struct cloud_host *c;

    if (!has_tag(b, "mvm-ephemeral=true") || (w->label && !has_tag(b, want)))
      continue;
    if (!(c = cloud_list_add(w->out)))
      return error("list bare metal: over %d", CLOUD_LIST_MAX);
    vu_host(b, c);
  }
  return 0;
}

/* No tag filter on this list: every page, filtered here. */
static int vultr_list(struct http *h, const char *label,
                      struct cloud_list *out)
{
  struct vu_want w = { label, out };

  return cloud_pages(h, &vu_paging, "list bare metal",
                     "/v2/bare-metals?per_page=500", vu_listed, &w);
}

static int vultr_destroy(struct http *h, const struct cloud_host *c)
{
  return cloud_delete(h, "delete bare metal", "/v2/bare-metals/%s", c->id);
}

struct vu_plan {
  const char *type;
  struct cloud_price *p;
};

/* The bare metal plan's monthly_cost (US dollars) in one page of GET
 * /plans-metal: 1 found (p filled), 0 not on this page. The spec names
 * the list "plans", its example and the API "plans_metal": take either. */
static int vu_priced(const struct json *page, void *arg)
{
  const struct vu_plan *w = arg;
  const char *list = json_len(page, "plans_metal") ? "plans_metal" : "plans";
  char id[64], cost[40], *end;
  int i, n = json_len(page, "%s", list);

  for (i = 0; i < n; i++) {
    if (!json_text(page, id, sizeof(id), "%s.%d.id", list, i) ||
        strcmp(id, w->type)) continue;
    if (!json_text(page, cost, sizeof(cost), "%s.%d.monthly_cost", list, i)
        || (w->p->hourly = strtod(cost, &end)) < 0 || end == cost || *end)
      return error("list plans: %s: no monthly_cost", w->type);
    w->p->hourly = cloud_monthly_hourly(w->p->hourly);
    snprintf(w->p->currency, sizeof(w->p->currency), "USD");
    snprintf(w->p->basis, sizeof(w->p->basis), "monthly_cost %s / 730"
             " hours, GET /v2/plans-metal", cost);
    return 1;
  }
  return 0;
}

/* Bare metal is priced by the plan (not the region), by the month. */
static int vultr_price(struct http *h, const char *type, const char *region,
                       struct cloud_price *p)
{
  struct vu_plan w = { type, p };
  int rc = cloud_pages(h, &vu_paging, "list plans",
                       "/v2/plans-metal?per_page=500", vu_priced, &w);

  (void)region;
  return rc < 0 ? -1 : !rc;
}

/* The table. user_data is base64, so gzip'd bytes travel; its limit is
 * not documented (64 KiB assumed). 30 requests a second per address. */
static const struct cloud_ops vultr_ops = {
  .name = "vultr",
  .base = "https://api.vultr.com",
  .type = VU_TYPE,
  .region = VU_REGION,
  .ud_max = 65536,
  .ud_gzip = 1,
  .idempotent = 0,
  .rate = 20, .burst = 30,
  .poll_s = 15, .ready_s = 1800,
  .init = vultr_init,
  .create = vultr_create,
  .list_polls = 1,
  .get = vultr_get,
  .list = vultr_list,
  .destroy = vultr_destroy,
  .price = vultr_price,
};

CLOUD_PROVIDER(vultr, 0);
