/* providers/cloudpage.c - paging, once for every cloud API: a provider
 * file says how its API links one page of a list to the next (struct
 * cloud_paging) and reads one page's items; the loop over pages, its
 * bounds and the guard against a page that leads back to itself are
 * here. */
#include "mvm.h"
#include "http/http.h"
#include "json.h"
#include "provider.h"
#include "cloud.h"

#define PAGES_MAX 1000    /* a server ignoring the page asked for must not
                           * keep a teardown listing forever */

int cloud_paged(const char *what, cloud_fetch_fn fetch, void *arg)
{
  char cur[4096] = "", next[4096];
  int rc, pages;

  for (pages = 1;; pages++) {
    if (pages > PAGES_MAX) return error("%s: over %d pages", what, PAGES_MAX);
    *next = 0;
    if ((rc = fetch(cur, next, sizeof(next), arg)) || !*next) return rc;
    if (!strcmp(next, cur))
      return error("%s: page %d links to itself", what, pages);
    snprintf(cur, sizeof(cur), "%s", next);
  }
}

struct pages {
  struct http *h;
  const struct cloud_paging *pg;
  const char *what, *path;
  cloud_page_fn each;
  void *arg;
};

/* The path of the page CUR leads to ("": the first). */
static char *page_path(const struct pages *p, const char *cur)
{
  char sep = strchr(p->path, '?') ? '&' : '?', url[4096], *esc, *s;

  if (p->pg->number)
    return xasprintf("%s%c%s=%d", p->path, sep, p->pg->number,
                     *cur ? atoi(cur) : 1);
  if (!*cur) return xstrdup(p->path);
  if (!p->pg->param) {    /* a URL: on the API's own host only, where the
                           * credentials may go */
    if (http_rel(p->h, cur, url, sizeof(url)) < 0) return NULL;
    return xstrdup(url);
  }
  esc = uri_escape(cur);
  s = xasprintf("%s%c%s=%s", p->path, sep, p->pg->param, esc);
  free(esc);
  return s;
}

static int page_fetch(const char *cur, char *next, size_t len, void *arg)
{
  const struct pages *p = arg;
  const struct cloud_paging *pg = p->pg;
  struct http_resp r;
  struct json *j = NULL;
  char *path = page_path(p, cur);
  int rc, more;

  if (!path) return -1;
  rc = http_req(p->h, p->what, "GET", path, NULL, HTTP_RETRY, &r);
  free(path);
  if (!rc) rc = cloud_parse(&r, &j);
  http_resp_release(&r);
  if (!rc) rc = p->each(j, p->arg);
  if (!rc && pg->number) {
    more = json_len(j, "%s", pg->items) > 0 &&
           (!pg->next || json_text(j, next, len, "%s", pg->next));
    if (more) snprintf(next, len, "%d", (*cur ? atoi(cur) : 1) + 1);
    else *next = 0;
  } else if (!rc && !json_text(j, next, len, "%s", pg->next)) {
    *next = 0;
  }
  json_free(j);
  return rc;
}

int cloud_pages(struct http *h, const struct cloud_paging *pg,
                const char *what, const char *path, cloud_page_fn each,
                void *arg)
{
  struct pages p = { h, pg, what, path, each, arg };

  return cloud_paged(what, page_fetch, &p);
}
