/* providers/latitudeleft.c - Latitude.sh around its hosts (latitude.c):
 * a plan's price per hour and stock at a site from the plan list, before
 * anything is bought; and the sweep after a teardown, which deletes what
 * creates leave besides servers: user_data objects (each a host's private
 * key, readable back through the API) and tag objects no server carries
 * any more. Shapes of the recorded cassettes (GET /plans, GET and DELETE
 * /projects/P/user_data, DELETE /tags/T). */
#include "mvm.h"
#include "json.h"
#include "provider.h"
#include "cloud.h"
#include "latitude.h"

/* Is SITE in the array at PATH of region R (locations.available ...)? */
static int has_site(const struct json *r, const char *path, const char *site)
{
  char s[32];
  int i, n = json_len(r, "%s", path);

  for (i = 0; i < n; i++)
    if (json_text(r, s, sizeof(s), "%s.%d", path, i) && !strcmp(s, site))
      return 1;
  return 0;
}

/* The plan TYPE of one page of /plans: its region holding SITE. 1 found
 * (P's price, if the region has one, and its note filled), 0 not on this
 * page. */
static int plan_price(const struct json *page, const char *type,
                      const char *site, struct cloud_price *p)
{
  const struct json *a, *r;
  char slug[64], price[32] = "";
  int i, k, n = json_len(page, "data");

  for (i = 0; i < n; i++) {
    a = json_get(page, "data.%d.attributes", i);
    if (!json_text(a, slug, sizeof(slug), "slug") || strcmp(slug, type))
      continue;
    for (k = 0; (r = json_get(a, "regions.%d", k)); k++) {
      if (!has_site(r, "locations.available", site)) continue;
      if (json_text(r, price, sizeof(price), "pricing.USD.hour") && *price) {
        p->hourly = strtod(price, NULL);
        snprintf(p->currency, sizeof(p->currency), "USD");
        snprintf(p->basis, sizeof(p->basis), "pricing.USD.hour, GET /plans");
      }
      if (!has_site(r, "locations.in_stock", site))
        snprintf(p->note, sizeof(p->note), "%s is not in stock at %s in "
                 "the plan list (the create may be refused; -r another "
                 "site)", type, site);
      return 1;
    }
    snprintf(p->note, sizeof(p->note), "plan %s is not offered at %s", type,
             site);
    return 1;
  }
  return 0;
}

struct plan_want {
  const char *type, *region;
  struct cloud_price *p;
};

static int plan_page(const struct json *page, void *arg)
{
  const struct plan_want *w = arg;

  return plan_price(page, w->type, w->region, w->p);
}

int latitude_price(struct http *h, const char *type, const char *region,
                   struct cloud_price *p)
{
  struct plan_want w = { type, region, p };
  int rc = la_pages(h, "list plans", "/plans", plan_page, &w);

  if (rc < 0) return -1;
  if (!rc)
    snprintf(p->note, sizeof(p->note), "no plan %s in the plan list", type);
  return *p->currency ? 0 : 1;
}

/* Names of the tag objects mvmbox makes. */
static int mvm_tag(const char *name)
{
  return !strcmp(name, CLOUD_TAG_EPH "=true") ||
         !strncmp(name, CLOUD_TAG_LABEL "=", sizeof(CLOUD_TAG_LABEL)) ||
         !strncmp(name, CLOUD_TAG_EXPIRES "=", sizeof(CLOUD_TAG_EXPIRES));
}

/* Every tag id some server of the team carries, as " id id ... ". */
static int carried_page(const struct json *page, void *arg)
{
  struct buf *ids = arg;
  char id[128];
  int i, k, n = json_len(page, "data");

  for (i = 0; i < n; i++)
    for (k = 0; json_text(page, id, sizeof(id),
                          "data.%d.attributes.tags.%d.id", i, k); k++) {
      buf_add(ids, id, strlen(id));
      buf_add(ids, " ", 1);
    }
  return 0;
}

static int carried(struct http *h, struct buf *ids)
{
  buf_add(ids, " ", 1);
  if (la_pages(h, "list servers", "/servers", carried_page, ids)) return -1;
  buf_add(ids, "", 1);
  return 0;
}

/* Delete each id of IDS (" id id ... ") under PATH: 0, or -1 with the
 * first error (the rest are still tried). */
static int delete_all(struct http *h, const char *what, const char *path,
                      char *ids)
{
  char *id, *save = NULL, *p;
  int rc = 0;

  for (id = strtok_r(ids, " ", &save); id; id = strtok_r(NULL, " ", &save)) {
    p = xasprintf("%s/%s", path, id);
    if (la_delete(h, what, p) && !rc) rc = -1;
    free(p);
  }
  return rc;
}

/* Delete mvmbox's tag objects no server carries. Another run may be
 * about to tag with one: its PATCH's 422 makes the tag again. */
struct tags_left {
  const struct buf *carried;  /* " id id ... " */
  struct buf gone;
};

static int tags_page(const struct json *page, void *arg)
{
  struct tags_left *t = arg;
  char id[128], name[160], pat[136];
  int i, n = json_len(page, "data");

  for (i = 0; i < n; i++) {
    if (!json_text(page, id, sizeof(id), "data.%d.id", i) ||
        !json_text(page, name, sizeof(name), "data.%d.attributes.name", i) ||
        !mvm_tag(name))
      continue;
    snprintf(pat, sizeof(pat), " %s ", id);
    if (strstr(t->carried->s, pat)) continue;
    buf_add(&t->gone, pat, strlen(pat));
  }
  return 0;
}

static int sweep_tags(struct http *h)
{
  struct buf ids = { 0 };
  struct tags_left t = { &ids, { 0 } };
  int rc = carried(h, &ids);

  /* All pages first: deleting shifts them. */
  if (!rc && la_pages(h, "list tags", "/tags", tags_page, &t)) rc = -1;
  buf_add(&t.gone, "", 1);
  if (delete_all(h, "delete tag", "/tags", t.gone.s)) rc = -1;
  free(ids.s);
  free(t.gone.s);
  return rc;
}

/* Is the user_data object described DESC one to delete? By record R: the
 * one naming R's host; after a teardown of LABEL (NULL: all): ours of
 * that label. An old-style description (the bare host name) only if the
 * journal meant to make a host of that name. */
static int ud_ours(const char *desc, const char *label, const struct rec *r)
{
  const char *name = r ? rec_get(r, "name") : NULL, *p;
  char pre[128];

  if (r) {
    if (!name) return 0;
    p = strstr(desc, " name=");
    return !strcmp(desc, name) || (!strncmp(desc, "mvm-label=", 10) && p &&
                                   !strcmp(p + 6, name));
  }
  snprintf(pre, sizeof(pre), "mvm-label=%s name=", label ? label : "");
  if (!strncmp(desc, pre, label ? strlen(pre) : 10)) return 1;
  return cloud_intended(desc, label);
}

/* Is ID one of the records' user_data= (the journal's note of a killed
 * create's object)? */
static int ud_noted(const char *id, const struct rec *r, int nr)
{
  const char *uid;
  int k;

  for (k = 0; k < nr; k++)
    if ((uid = rec_get(&r[k], "user_data")) && !strcmp(id, uid)) return 1;
  return 0;
}

/* Ours, by one of the NR records R, or after a teardown of LABEL (NR 0). */
static int ud_any(const char *desc, const char *label, const struct rec *r,
                  int nr)
{
  int k;

  for (k = 0; k < nr; k++)
    if (ud_ours(desc, NULL, &r[k])) return 1;
  return !nr && ud_ours(desc, label, NULL);
}

struct ud_left {
  const char *label;
  const struct rec *r;
  int nr;
  struct buf gone;
};

static int ud_page(const struct json *page, void *arg)
{
  struct ud_left *u = arg;
  char id[64], desc[200];
  int i, n = json_len(page, "data");

  for (i = 0; i < n; i++)
    if (json_text(page, id, sizeof(id), "data.%d.id", i) &&
        json_text(page, desc, sizeof(desc), "data.%d.attributes.description",
                  i) && ud_any(desc, u->label, u->r, u->nr) &&
        !ud_noted(id, u->r, u->nr)) {
      buf_add(&u->gone, " ", 1);
      buf_add(&u->gone, id, strlen(id));
    }
  return 0;
}

static int sweep_userdata(struct http *h, const char *label,
                          const struct rec *r, int nr)
{
  char *list = xasprintf("/projects/%s/user_data", la_project);
  struct ud_left u = { label, r, nr, { 0 } };
  const char *uid;
  int i, rc = 0;

  for (i = 0; i < nr; i++)
    if ((uid = rec_get(&r[i], "user_data"))) {
      buf_add(&u.gone, " ", 1);
      buf_add(&u.gone, uid, strlen(uid));
    }
  if (la_pages(h, "list user data", list, ud_page, &u)) rc = -1;
  buf_add(&u.gone, " ", 1);
  if (delete_all(h, "delete user data", list, u.gone.s)) rc = -1;
  free(u.gone.s);
  free(list);
  return rc;
}

int latitude_sweep(struct http *h, const char *label, const struct rec *r,
                   int n)
{
  int rc = sweep_userdata(h, label, r, n);

  if (sweep_tags(h) || rc) return -1;
  return 0;
}
