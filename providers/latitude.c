/* providers/latitude.c - Latitude.sh bare metal (api.latitude.sh, raw token
 * in Authorization plus API-Version, JSON:API bodies). A host takes three
 * calls: its user-data object, the server, and tagging it with the team's
 * tag objects (mvm-ephemeral, mvm-label=L, mvm-expires=T), made on first
 * use. No published spec: the shapes are those of the recorded cassettes
 * in specs/latitude. API calls only: the driver does the rest. */
#include "mvm.h"
#include "provider.h"
#include "cloud.h"

/* Defaults. */
#define LA_TYPE "c2-small-x86"
#define LA_REGION "ASH"
#define LA_OS "ubuntu_24_04_x64_lts"
#define LA_VERSION "2023-06-01"

static char la_project[128];

/* Credentials: LATITUDE_API_TOKEN (the original tool), LATITUDESH_AUTH_
 * TOKEN (Terraform), LATITUDESH_BEARER (the SDKs); the project from
 * LATITUDE_PROJECT. The lsh CLI's own store is not read (its path is not
 * documented). */
static int latitude_init(struct http *h)
{
  static const char *const tenv[] = { "LATITUDE_API_TOKEN",
    "LATITUDESH_AUTH_TOKEN", "LATITUDESH_BEARER", NULL };
  static const char *const penv[] = { "LATITUDE_PROJECT", NULL };
  const char *tok = cloud_env(tenv), *proj = cloud_env(penv);

  if (!tok)
    return error("no Latitude.sh credentials: set LATITUDE_API_TOKEN (or"
                 " LATITUDESH_AUTH_TOKEN)");
  if (!proj)
    return error("no Latitude.sh project: set LATITUDE_PROJECT (proj_...)");
  http_header(h, "Authorization", tok, 1);
  http_header(h, "API-Version", LA_VERSION, 0);
  snprintf(la_project, sizeof(la_project), "%s", proj);
  return 0;
}

/* API calls. */
static int la_call(struct http *h, const char *what, const char *method,
                   const char *path, const char *body, int flags,
                   struct json **j)
{
  struct http_resp r;
  int rc = http_req(h, what, method, path, body, flags, &r);

  *j = NULL;
  if (!rc && r.status != 204 && r.status != 404) rc = cloud_parse(&r, j);
  if (!rc && r.status == 404) rc = 1;
  http_resp_release(&r);
  return rc;
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
  json_text(d, c->id, sizeof(c->id), "id");
  cloud_host_json(json_get(d, "attributes"), &la_fields, c);
  /* the provider's verdict on the deploy, in a listing too: get() says
   * why (a listed host not READY or PENDING is asked for) */
  if (!strcmp(c->status, "failed_deployment")) c->state = CLOUD_FAILED;
}

/* Every list is paged (page[size], 20 by default; page[number] from 1).
 * The answer says nothing of more pages in the cassettes, so a list ends
 * at the first empty page; a server that caps page[size] lower is still
 * read to the end. Page N of PATH into *J: 0, or -1 (a 404 too). */
#define LA_PAGE_SIZE 100
#define LA_PAGES_MAX 1000  /* a server ignoring page[number] must not loop */
static int la_page(struct http *h, const char *what, const char *path,
                   int page, struct json **j)
{
  char *p;
  int rc;

  *j = NULL;
  if (page > LA_PAGES_MAX)
    return error("%s: over %d pages", what, LA_PAGES_MAX);
  p = xasprintf("%s%cpage%%5Bsize%%5D=%d&page%%5Bnumber%%5D=%d", path,
                strchr(path, '?') ? '&' : '?', LA_PAGE_SIZE, page);
  rc = la_call(h, what, "GET", p, NULL, HTTP_RETRY, j);
  free(p);
  return rc ? -1 : 0;
}

/* The id of the team tag NAME from the tag list: 0 found, 1 not there,
 * -1 cannot list. */
static int la_tag_find(struct http *h, const char *name, char *id,
                       size_t len)
{
  struct json *j;
  char t[128];
  int i, n, page;

  for (page = 1; !la_page(h, "list tags", "/tags", page, &j); page++) {
    if (!(n = json_len(j, "data"))) {
      json_free(j);
      return 1;
    }
    for (i = 0; i < n; i++)
      if (json_text(j, t, sizeof(t), "data.%d.attributes.name", i) &&
          !strcmp(t, name) && json_text(j, id, len, "data.%d.id", i)) {
        json_free(j);
        return 0;
      }
    json_free(j);
  }
  json_free(j);
  return -1;
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

static int latitude_destroy(struct http *h, const struct cloud_host *c);

static int latitude_create(struct http *h, const struct cloud_req *q,
                           struct cloud_host *c)
{
  char tags[3][64], exp[40], lab[128], *body, *path, *ud;
  struct json *j;
  int rc;

  cloud_time(q->expires, exp, sizeof(exp), 1);
  snprintf(lab, sizeof(lab), "%s=%s", CLOUD_TAG_EXPIRES, exp);
  if (la_tag(h, q->tag_eph, tags[0], 64) ||
      la_tag(h, q->tag_label, tags[1], 64) || la_tag(h, lab, tags[2], 64))
    return -1;
  ud = b64_encode(q->user_data, q->ud_len);
  body = json_build("{s:{s:s, s:{s:s, s:s}}}", "data", "type", "user_data",
                    "attributes", "description", q->name, "content", ud);
  freezero(ud, strlen(ud) + 1);
  path = xasprintf("/projects/%s/user_data", la_project);
  rc = la_call(h, "create user data", "POST", path, body, HTTP_RETRY_429, &j);
  freezero(body, strlen(body) + 1);
  free(path);
  if (!rc && !json_text(j, c->aux, sizeof(c->aux), "data.id"))
    rc = error("create user data: no id");
  json_free(j);
  if (rc) return -1;
  /* Hourly: a project's default is monthly, and a monthly server deleted
   * after an hour is billed the month. */
  body = json_build("{s:{s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s}}}",
                    "data", "type", "servers", "attributes", "project",
                    la_project, "plan", q->type, "site", q->region,
                    "operating_system", q->image ? q->image : LA_OS,
                    "hostname", q->name, "user_data", c->aux,
                    "billing", "hourly");
  rc = la_call(h, "create server", "POST", "/servers", body, q->http_flags,
               &j);
  free(body);
  if (!rc) la_host(json_get(j, "data"), c);
  json_free(j);
  if (rc || !*c->id) return rc ? -1 : error("create server: no id");
  /* Tagged at once, or not kept: an untagged host is one teardown by tag
   * would never find. */
  body = json_build("{s:{s:s, s:s, s:{s:[s,s,s]}}}", "data", "id", c->id,
                    "type", "servers", "attributes", "tags", tags[0],
                    tags[1], tags[2]);
  path = xasprintf("/servers/%s", c->id);
  rc = la_call(h, "tag server", "PATCH", path, body, HTTP_RETRY, &j);
  free(body);
  free(path);
  json_free(j);
  if (rc) {
    char why[sizeof(mvm.err)];

    snprintf(why, sizeof(why), "%s", mvm.err);
    if (latitude_destroy(h, c) < 0)
      return error("%s; and the untagged server %s remains: %s", why,
                   c->id, mvm.err);
    return error("%s (server destroyed)", why);
  }
  snprintf(c->label, sizeof(c->label), "%s", q->label);
  snprintf(c->expires, sizeof(c->expires), "%s", q->expires);
  return 0;
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

/* Untagged, but named as the driver names LABEL's hosts (LABEL-xxxx-N):
 * one whose create answer, or whose tagging, was lost. */
static int ours(const struct json *a, const char *label)
{
  char name[80];
  size_t n = strlen(label);
  const char *p;

  if (!json_text(a, name, sizeof(name), "hostname") ||
      strncmp(name, label, n) || name[n] != '-')
    return 0;
  p = name + n + 1;
  return strspn(p, "0123456789abcdef") == 4 && p[4] == '-' && p[5] &&
         strspn(p + 5, "0123456789") == strlen(p + 5);
}

/* The project's servers, every page, filtered here by tag name (the
 * cassettes record filter[project] only). With LABEL, also its untagged
 * hosts (see ours()). */
static int latitude_list(struct http *h, const char *label,
                         struct cloud_list *out)
{
  char *path = xasprintf("/servers?filter%%5Bproject%%5D=%s", la_project);
  char want[128];
  struct cloud_host *c;
  struct json *j;
  int i, n = 1, page, rc = 0;

  snprintf(want, sizeof(want), "%s=%s", CLOUD_TAG_LABEL, label ? label : "");
  for (page = 1; !rc && n; page++) {
    if (la_page(h, "list servers", path, page, &j)) rc = -1;
    for (i = 0, n = json_len(j, "data"); !rc && i < n; i++) {
      const struct json *a = json_get(j, "data.%d.attributes", i);

      if (!has_tag(a, "mvm-ephemeral=true") || (label && !has_tag(a, want))) {
        if (!label || !ours(a, label)) continue;
      }
      if (!(c = cloud_list_add(out)))
        rc = error("list: over %d", CLOUD_LIST_MAX);
      else la_host(json_get(j, "data.%d", i), c);
    }
    json_free(j);
  }
  free(path);
  return rc ? -1 : 0;
}

static int latitude_destroy(struct http *h, const struct cloud_host *c)
{
  char *path = xasprintf("/servers/%s", c->id);
  struct json *j;
  int rc = la_call(h, "delete server", "DELETE", path, NULL,
                   HTTP_RETRY | HTTP_404_OK, &j);

  json_free(j);
  free(path);
  return rc;
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
};

CLOUD_PROVIDER(latitude, 0);
