/* providers/latitude.c - Latitude.sh bare metal (api.latitude.sh, raw token
 * in Authorization plus API-Version, JSON:API bodies). A host takes three
 * calls: its user_data object (the cloud-init, with the host's private
 * key), the server (whose create takes no tags), and tagging it with the
 * team's tag objects (mvm-ephemeral, mvm-label=L, mvm-expires=T), made on
 * first use; once its create is over the user_data object is deleted.
 * latitudeleft.c has the plan's price and the sweep of what creates leave,
 * latitudeapi.c the credentials and calls both use.
 * No published spec: the shapes are those of the recorded cassettes in
 * specs/latitude. API calls only: the driver does the rest. */
#include "mvm.h"
#include "http/http.h"
#include "json.h"
#include "provider.h"
#include "cloud.h"
#include "latitude.h"

/* Defaults: the cheapest plan of the recorded plan list (c2-small-x86) at
 * a site where it was in stock and deployed Ubuntu 24.04 at once (SAO,
 * USD 0.22/h; no US site had it in stock). */
#define LA_TYPE "c2-small-x86"
#define LA_REGION "SAO"
#define LA_OS "ubuntu_24_04_x64_lts"


/* A dry run: each call fails "dry run" once printed; a create goes on
 * with stand-in ids, so the whole sequence is shown. */
static int dry(void)
{
  return strstr(mvm.err, "dry run") != NULL;
}

static int has_tag(const struct json *a, const char *name)
{
  char t[128];
  int i, n = json_len(a, "tags");

  for (i = 0; i < n; i++)
    if (json_text(a, t, sizeof(t), "tags.%d.name", i) && !strcmp(t, name))
      return 1;
  return 0;
}

static const struct cloud_fields la_fields = {  /* of "attributes" */
  .name = "hostname", .addr = "primary_ipv4", .created = "created_at",
  .region = "region.site.slug", .status = "status", .ready = "on",
  .tags = "tags", .tag_name = "name",
};

static void la_host(const struct json *d, struct cloud_host *c)
{
  const struct json *a = json_get(d, "attributes");
  char bill[16];

  json_text(d, c->id, sizeof(c->id), "id");
  cloud_host_json(a, &la_fields, c);
  /* "price" is per the plan's billing period (the cassette's yearly
   * server says 1349.0): per hour only when billed hourly. */
  if (json_text(a, bill, sizeof(bill), "plan.billing") &&
      !strcmp(bill, "hourly"))
    json_text(a, c->price, sizeof(c->price), "price");
  /* the provider's verdict on the deploy, in a listing too: get() says
   * why (a listed host not READY or PENDING is asked for) */
  if (!strcmp(c->status, "failed_deployment")) c->state = CLOUD_FAILED;
}

/* The id of the team tag NAME from the tag list: 0 found, 1 not there,
 * -1 cannot list. */
struct la_find {
  const char *name;
  char *id;
  size_t len;
};

static int la_tag_found(const struct json *page, void *arg)
{
  const struct la_find *f = arg;
  char t[128];
  int i, n = json_len(page, "data");

  for (i = 0; i < n; i++)
    if (json_text(page, t, sizeof(t), "data.%d.attributes.name", i) &&
        !strcmp(t, f->name) &&
        json_text(page, f->id, f->len, "data.%d.id", i))
      return 1;
  return 0;
}

static int la_tag_find(struct http *h, const char *name, char *id,
                       size_t len)
{
  struct la_find f = { name, id, len };
  int rc = la_pages(h, "list tags", "/tags", la_tag_found, &f);

  return rc < 0 ? -1 : !rc;
}

/* The id of the team tag NAME, made if there is none. The workers of one
 * run race for the same names: a 422 to the create (NAME_ALREADY_TAKEN)
 * means another made it meanwhile, so it is listed again and taken. */
static int la_tag(struct http *h, const char *name, char *id, size_t len)
{
  struct json *j;
  char *body;
  int rc = la_tag_find(h, name, id, len);

  if (rc <= 0) return rc;
  body = json_build("{s:{s:s, s:{s:s, s:s, s:s}}}", "data", "type", "tags",
                    "attributes", "name", name, "description",
                    "mvm-provision", "color", "#ff0000");
  rc = la_call(h, "create tag", "POST", "/tags", body, HTTP_RETRY_429, &j);
  free(body);
  if (!rc && !json_text(j, id, len, "data.id")) rc = error("create tag: no id");
  json_free(j);
  if (rc && http_status(h) == 422 && la_tag_find(h, name, id, len) == 0)
    return 0;
  return rc ? -1 : 0;
}

/* The ids of Q's three tag objects (stand-ins in a dry run). */
static int la_tags(struct http *h, const struct cloud_req *q,
                   char tags[3][64])
{
  char exp[40], lab[128];
  const char *names[3] = { q->tag_eph, q->tag_label, lab };
  int i;

  cloud_time(q->expires, exp, sizeof(exp), 1);
  snprintf(lab, sizeof(lab), "%s=%s", CLOUD_TAG_EXPIRES, exp);
  for (i = 0; i < 3; i++)
    if (la_tag(h, names[i], tags[i], 64)) {
      if (!dry()) return -1;
      snprintf(tags[i], 64, "tag_DRYRUN%d", i);
    }
  return 0;
}

/* The user_data object of Q's host: made once per host (a retried create
 * takes it again) and journaled at once, so the private key it holds is
 * deleted even after a kill (its description names the host, for a kill
 * before the journal line). Forked per host: one object per process. */
static struct {
  char token[40], id[64];
} la_ud;

static int la_userdata(struct http *h, const struct cloud_req *q, char *id,
                       size_t len)
{
  char desc[200], *body, *path, *ud;
  struct json *j;
  int rc;

  if (*la_ud.id && !strcmp(la_ud.token, q->token)) {
    snprintf(id, len, "%s", la_ud.id);
    return 0;
  }
  ud = b64_encode(q->user_data, q->ud_len);
  snprintf(desc, sizeof(desc), LA_UD_DESC, q->label, q->name);
  body = json_build("{s:{s:s, s:{s:s, s:s}}}", "data", "type", "user_data",
                    "attributes", "description", desc, "content", ud);
  freezero(ud, strlen(ud) + 1);
  path = xasprintf("/projects/%s/user_data", la_project);
  rc = la_call(h, "create user data", "POST", path, body, HTTP_RETRY_429, &j);
  freezero(body, strlen(body) + 1);
  free(path);
  if (!rc && !json_text(j, id, len, "data.id"))
    rc = error("create user data: no id");
  json_free(j);
  if (rc && dry()) {
    snprintf(id, len, "ud_DRYRUN");
    return 0;
  }
  if (rc) return -1;
  snprintf(la_ud.token, sizeof(la_ud.token), "%s", q->token);
  snprintf(la_ud.id, sizeof(la_ud.id), "%s", id);
  return cloud_journal("latitude", q, "user_data", id);
}

/* Tag the server C with TAGS. A 422 means a tag object went meanwhile (a
 * teardown's sweep found no server carrying it): made again, once. */
static int la_tag_server(struct http *h, const struct cloud_req *q,
                         struct cloud_host *c, char tags[3][64])
{
  char *body, *path = xasprintf("/servers/%s", c->id);
  struct json *j;
  int rc, try;

  for (try = 0;; try++) {
    body = json_build("{s:{s:s, s:s, s:{s:[s,s,s]}}}", "data", "id", c->id,
                      "type", "servers", "attributes", "tags", tags[0],
                      tags[1], tags[2]);
    rc = la_call(h, "tag server", "PATCH", path, body, HTTP_RETRY, &j);
    free(body);
    json_free(j);
    if (!rc || try || http_status(h) != 422 || la_tags(h, q, tags)) break;
  }
  free(path);
  if (rc) return -1;
  snprintf(c->label, sizeof(c->label), "%s", q->label);
  snprintf(c->expires, sizeof(c->expires), "%s", q->expires);
  return 0;
}

static int latitude_destroy(struct http *h, const struct cloud_host *c);

static int latitude_create(struct http *h, const struct cloud_req *q,
                           struct cloud_host *c)
{
  char tags[3][64], ud[64], why[sizeof(mvm.err)], *body;
  struct json *j;
  int rc;

  if (la_tags(h, q, tags) || la_userdata(h, q, ud, sizeof(ud))) return -1;
  /* Hourly: a project's default is monthly, and a monthly server deleted
   * after an hour is billed the month. No tags: the create takes none. */
  body = json_build("{s:{s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s}}}",
                    "data", "type", "servers", "attributes", "project",
                    la_project, "plan", q->type, "site", q->region,
                    "operating_system", q->image ? q->image : LA_OS,
                    "hostname", q->name, "user_data", ud,
                    "billing", "hourly");
  rc = la_call(h, "create server", "POST", "/servers", body, q->http_flags,
               &j);
  free(body);
  if (!rc) la_host(json_get(j, "data"), c);
  json_free(j);
  if (rc && dry()) snprintf(c->id, sizeof(c->id), "sv_DRYRUN");
  else if (rc || !*c->id) return rc ? -1 : error("create server: no id");
  /* Tagged at once, or not kept: an untagged host is one teardown by tag
   * would never find. */
  if (!(rc = la_tag_server(h, q, c, tags)) || dry()) return rc;
  snprintf(why, sizeof(why), "%s", mvm.err);
  if (latitude_destroy(h, c) < 0)
    return error("%s; and the untagged server %s remains: %s", why, c->id,
                 mvm.err);
  return error("%s (server destroyed)", why);
}

/* A host found by name after a lost create answer: tag it as create()
 * would have. */
static int latitude_adopt(struct http *h, const struct cloud_req *q,
                          struct cloud_host *c)
{
  char tags[3][64];

  return la_tags(h, q, tags) || la_tag_server(h, q, c, tags) ? -1 : 0;
}

/* The create is over: the server's deploy has read its user_data, and
 * the object (the host's private key, readable through the API) goes. */
static int latitude_settle(struct http *h, const struct cloud_req *q,
                           const struct cloud_host *c)
{
  char *path;
  int rc;

  (void)c;
  if (!*la_ud.id || strcmp(la_ud.token, q->token)) return 0;
  path = xasprintf("/projects/%s/user_data/%s", la_project, la_ud.id);
  rc = la_delete(h, "delete user data", path);
  free(path);
  if (!rc) *la_ud.id = 0;
  return rc;
}

static int latitude_get(struct http *h, struct cloud_host *c)
{
  char *path = xasprintf("/servers/%s", c->id);
  struct json *j;
  int rc = la_call(h, "get server", "GET", path, NULL,
                   HTTP_RETRY | HTTP_404_OK, &j);

  if (rc == 1) c->state = CLOUD_GONE;
  else if (!rc) la_host(json_get(j, "data"), c);
  json_free(j);
  free(path);
  /* The provider's verdict on the deploy: fail now, not at the deadline. */
  if (!rc && c->state == CLOUD_FAILED) {
    return error("deploy failed: status %s", c->status);
  }
  return rc < 0 ? -1 : 0;
}

/* Untagged, but named as a host mvmbox meant to make (of LABEL; NULL:
 * any): one whose create answer, or whose tagging, was lost or killed.
 * Never by the name's pattern alone: a hand-made edge-2024-1 is not
 * label edge's. */
static int ours(const struct json *a, const char *label)
{
  char name[80];

  return json_text(a, name, sizeof(name), "hostname") &&
         cloud_intended(name, label);
}

/* The project's servers, every page, filtered here by tag name (the
 * cassettes record filter[project] only), and the untagged ones of
 * ours(). */
struct la_want {
  const char *label;      /* NULL: every label */
  struct cloud_list *out;
};

static int la_listed(const struct json *page, void *arg)
{
  const struct la_want *w = arg;
  char want[128];
  struct cloud_host *c;
  int i, n = json_len(page, "data");

  snprintf(want, sizeof(want), "%s=%s", CLOUD_TAG_LABEL,
           w->label ? w->label : "");
  for (i = 0; i < n; i++) {
    const struct json *a = json_get(page, "data.%d.attributes", i);

    if ((!has_tag(a, "mvm-ephemeral=true") ||
         (w->label && !has_tag(a, want))) && !ours(a, w->label))
      continue;
    if (!(c = cloud_list_add(w->out)))
      return error("list: over %d", CLOUD_LIST_MAX);
    la_host(json_get(page, "data.%d", i), c);
  }
  return 0;
}

static int latitude_list(struct http *h, const char *label,
                         struct cloud_list *out)
{
  char *path = xasprintf("/servers?filter%%5Bproject%%5D=%s", la_project);
  struct la_want w = { label, out };
  int rc = la_pages(h, "list servers", path, la_listed, &w);

  free(path);
  return rc;
}

static int latitude_destroy(struct http *h, const struct cloud_host *c)
{
  return cloud_delete(h, "delete server", "/servers/%s", c->id);
}

/* The table. user_data content is base64 (gzip not known to be taken);
 * no documented limits. */
static const struct cloud_ops latitude_ops = {
  .name = "latitude",
  .base = "https://api.latitude.sh",
  .type = LA_TYPE,
  .region = LA_REGION,
  .ud_max = 65536,
  .ud_gzip = 0,
  .idempotent = 0,
  .rate = 5, .burst = 20,
  .poll_s = 15, .ready_s = 1800,
  .init = latitude_init,
  .create = latitude_create,
  .list_polls = 1,
  .get = latitude_get,
  .list = latitude_list,
  .destroy = latitude_destroy,
  .price = latitude_price,
  .adopt = latitude_adopt,
  .settle = latitude_settle,
  .sweep = latitude_sweep,
};

CLOUD_PROVIDER(latitude, 0);
