/* providers/hetzner.c - Hetzner Cloud (api.hetzner.cloud/v1, bearer token,
 * labels). The no-KVM lane: shared-vCPU types have no /dev/kvm, so hosts
 * here run without the KVM gate's probe passing. The create answer already
 * carries the IPv4, so there is nothing to poll. API calls only: the
 * driver (providers/cloud.c) does the rest. Owns the Hetzner token. */
#include "mvm.h"
#include "http/http.h"
#include "json.h"
#include "provider.h"
#include "cloud.h"

/* Defaults. cpx51 is gone (removed end of 2025); cpx52 is its gen-2
 * successor in the Regular Performance line. */
#define HZ_TYPE "cpx52"
#define HZ_REGION "fsn1"
#define HZ_IMAGE "ubuntu-24.04"

/* Credentials, as hcloud reads them: HCLOUD_TOKEN, else the active
 * context of cli.toml (HCLOUD_CONFIG, HCLOUD_CONTEXT override). */
static int hetzner_init(struct http *h)
{
  static const char *const env[] = { "HCLOUD_TOKEN", NULL };
  const char *tok = cloud_env(env), *ctx = getenv("HCLOUD_CONTEXT");
  char *path, *active = NULL, *t = NULL, *auth;
  int rc = 1;

  path = conf_path("HCLOUD_CONFIG", ".config/hcloud/cli.toml");
  if (!tok) {
    if (ctx && *ctx) active = xstrdup(ctx);
    else rc = conf_toml(path, NULL, NULL, NULL, "active_context", &active);
    if (active)
      rc = conf_toml(path, "contexts", "name", active, "token", &t);
    if (rc < 0) {
      free(path);
      free(active);
      return -1;
    }
    if (rc)
      error("no Hetzner credentials: set HCLOUD_TOKEN or create a context"
            " in %s (hcloud context create)", path);
    tok = t;
  }
  if (tok) {
    auth = xasprintf("Bearer %s", tok);
    http_header(h, "Authorization", auth, 1);
    freezero(auth, strlen(auth) + 1);
  }
  if (t) freezero(t, strlen(t) + 1);
  free(active);
  free(path);
  return tok ? 0 : -1;
}

/* API calls. */
/* The create answer has the address while the server still starts:
 * that is ready enough, sshd comes up with it (.ready NULL). */
static const struct cloud_fields hz_fields = {
  .id = "id", .name = "name", .addr = "public_net.ipv4.ip",
  .created = "created", .region = "location.name", .status = "status",
};

static void hz_host(const struct json *s, struct cloud_host *c)
{
  char exp[40];

  cloud_host_json(s, &hz_fields, c);
  /* labels are an object, and their values allow no ':' */
  json_text(s, c->label, sizeof(c->label), "labels." CLOUD_TAG_LABEL);
  if (json_text(s, exp, sizeof(exp), "labels." CLOUD_TAG_EXPIRES))
    cloud_time(exp, c->expires, sizeof(c->expires), 0);
  if (!strcmp(c->status, "deleting")) c->state = CLOUD_GONE;
}

static int hetzner_create(struct http *h, const struct cloud_req *q,
                          struct cloud_host *c)
{
  struct http_resp r;
  struct json *j = NULL;
  char exp[40];
  char *body;
  int rc;

  cloud_time(q->expires, exp, sizeof(exp), 1);   /* labels allow no ':' */
  body = json_build("{s:s, s:s, s:s, s:s, s:s%, s:{s:s, s:s, s:s},"
                    " s:b, s:{s:b, s:b}}",
                    "name", q->name, "server_type", q->type,
                    "image", q->image ? q->image : HZ_IMAGE,
                    "location", q->region,
                    "user_data", q->user_data, q->ud_len,
                    "labels", CLOUD_TAG_EPH, "true", CLOUD_TAG_LABEL,
                    q->label, CLOUD_TAG_EXPIRES, exp,
                    "start_after_create", 1,
                    "public_net", "enable_ipv4", 1, "enable_ipv6", 1);
  rc = http_req(h, "create server", "POST", "/v1/servers", body,
                q->http_flags, &r);
  freezero(body, strlen(body) + 1);
  if (!rc && !(rc = cloud_parse(&r, &j))) {
    hz_host(json_get(j, "server"), c);
    if (!*c->id) rc = error("create server: no server id in the answer");
  }
  json_free(j);
  http_resp_release(&r);
  return rc;
}

static int hetzner_get(struct http *h, struct cloud_host *c)
{
  struct http_resp r;
  struct json *j = NULL;
  char *path = xasprintf("/v1/servers/%s", c->id);
  int rc = http_req(h, "get server", "GET", path, NULL,
                    HTTP_RETRY | HTTP_404_OK, &r);

  if (!rc && r.status == 404) c->state = CLOUD_GONE;
  else if (!rc && !(rc = cloud_parse(&r, &j))) hz_host(json_get(j, "server"), c);
  json_free(j);
  http_resp_release(&r);
  free(path);
  return rc;
}

/* Pages numbered from 1, 50 at most; meta.pagination.next_page is null
 * on the last. */
static const struct cloud_paging hz_pages = {
  "meta.pagination.next_page", NULL, "page", "servers"
};

static int hz_listed(const struct json *page, void *arg)
{
  struct cloud_list *out = arg;
  struct cloud_host *c;
  int i, n = json_len(page, "servers");

  for (i = 0; i < n; i++) {
    if (!(c = cloud_list_add(out)))
      return error("list servers: over %d", CLOUD_LIST_MAX);
    hz_host(json_get(page, "servers.%d", i), c);
  }
  return 0;
}

static int hetzner_list(struct http *h, const char *label,
                        struct cloud_list *out)
{
  char *sel, *esc, *path;
  int rc;

  sel = label ? xasprintf("%s==true,%s==%s", CLOUD_TAG_EPH, CLOUD_TAG_LABEL,
                          label)
              : xasprintf("%s==true", CLOUD_TAG_EPH);
  esc = uri_escape(sel);
  path = xasprintf("/v1/servers?label_selector=%s&per_page=50", esc);
  rc = cloud_pages(h, &hz_pages, "list servers", path, hz_listed, out);
  free(path);
  free(esc);
  free(sel);
  return rc;
}

static int hetzner_destroy(struct http *h, const struct cloud_host *c)
{
  return cloud_delete(h, "delete server", "/v1/servers/%s", c->id);
}

/* The hourly price of TYPE in REGION in a GET /pricing answer, net of
 * VAT, into NET: 0, or 1 if the answer has none. */
static int hz_net(const struct json *j, const char *type, const char *region,
                  char *net, size_t len)
{
  const struct json *t = NULL;
  char s[64];
  int i, n = json_len(j, "pricing.server_types");

  for (i = 0; i < n && !t; i++)
    if (json_text(j, s, sizeof(s), "pricing.server_types.%d.name", i) &&
        !strcmp(s, type))
      t = json_get(j, "pricing.server_types.%d", i);
  n = t ? json_len(t, "prices") : 0;
  for (i = 0; i < n; i++)
    if (json_text(t, s, sizeof(s), "prices.%d.location", i) &&
        !strcmp(s, region))
      return json_text(t, net, len, "prices.%d.price_hourly.net", i) ? 0 : 1;
  return 1;
}

/* GET /pricing (one unpaged answer): per type and location, net and gross
 * (VAT added) in the project owner's currency, which Hetzner names (EUR):
 * the net price, as every other provider's is without tax. */
static int hetzner_price(struct http *h, const char *type,
                         const char *region, struct cloud_price *p)
{
  struct http_resp r;
  struct json *j = NULL;
  char net[40], *end;
  int rc = http_req(h, "get pricing", "GET", "/v1/pricing", NULL, HTTP_RETRY,
                    &r);

  if (!rc && !(rc = cloud_parse(&r, &j)) &&
      !(rc = hz_net(j, type, region, net, sizeof(net)))) {
    p->hourly = strtod(net, &end);
    if (end == net || *end || p->hourly < 0 ||
        !json_text(j, p->currency, sizeof(p->currency), "pricing.currency"))
      rc = error("get pricing: a bad price '%s' or no currency", net);
    snprintf(p->basis, sizeof(p->basis), "net of VAT, GET /v1/pricing");
  }
  json_free(j);
  http_resp_release(&r);
  return rc;
}

/* The table. 32 KiB of plain-text user-data; 3600 requests an hour,
 * refilled at one a second. */
static const struct cloud_ops hetzner_ops = {
  .name = "hetzner",
  .base = "https://api.hetzner.cloud",
  .type = HZ_TYPE,
  .region = HZ_REGION,
  .note = "hetzner: the no-KVM lane: shared-vCPU types have no /dev/kvm"
          " (set MVM_KVM_GATE=optional)",
  .ud_max = 32768,
  .ud_gzip = 0,
  .idempotent = 0,
  .rate = 1, .burst = 3600,
  .poll_s = 2, .ready_s = 300,
  .init = hetzner_init,
  .create = hetzner_create,
  .list_polls = 1,
  .get = hetzner_get,
  .list = hetzner_list,
  .destroy = hetzner_destroy,
  .price = hetzner_price,
};

CLOUD_PROVIDER(hetzner, 0);
