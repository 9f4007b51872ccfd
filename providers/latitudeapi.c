/* providers/latitudeapi.c - what latitude.c (hosts) and latitudeleft.c
 * (price, sweep) both stand on: the credentials, one call, a DELETE and
 * the paged lists of Latitude.sh's API. */
#include "mvm.h"
#include "http/http.h"
#include "json.h"
#include "provider.h"
#include "cloud.h"
#include "latitude.h"

#define LA_VERSION "2023-06-01"

char la_project[128];

/* Credentials: LATITUDE_API_TOKEN (the original tool), LATITUDESH_AUTH_
 * TOKEN (Terraform), LATITUDESH_BEARER (the SDKs); the project from
 * LATITUDE_PROJECT. The lsh CLI's own store is not read (its path is not
 * documented). */
int latitude_init(struct http *h)
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

/* One call: 0 with *J (none for a 204), 1 on a 404, -1 (mvm.err). */
int la_call(struct http *h, const char *what, const char *method,
            const char *path, const char *body, int flags, struct json **j)
{
  struct http_resp r;
  int rc = http_req(h, what, method, path, body, flags, &r);

  *j = NULL;
  if (!rc && r.status != 204 && r.status != 404) rc = cloud_parse(&r, j);
  if (!rc && r.status == 404) rc = 1;
  http_resp_release(&r);
  return rc;
}

int la_delete(struct http *h, const char *what, const char *path)
{
  return cloud_delete(h, what, "%s", path) < 0 ? -1 : 0;
}

/* Every list is paged (page[size], 20 by default; page[number] from 1).
 * The answer says nothing of more pages in the cassettes, so a list ends
 * at the first empty page; a server that caps page[size] lower is still
 * read to the end. */
#define LA_PAGE_SIZE 100
static const struct cloud_paging la_paging = {
  NULL, NULL, "page%5Bnumber%5D", "data"
};

int la_pages(struct http *h, const char *what, const char *path,
             cloud_page_fn each, void *arg)
{
  char *p = xasprintf("%s%cpage%%5Bsize%%5D=%d", path,
                      strchr(path, '?') ? '&' : '?', LA_PAGE_SIZE);
  int rc = cloud_pages(h, &la_paging, what, p, each, arg);

  free(p);
  return rc;
}
