/* providers/latitudeleft.c - Latitude.sh around its hosts (latitude.c):
 * a plan's price per hour and stock at a site from the plan list, before
 * anything is bought; and the sweep after a teardown, which deletes what
 * creates leave besides servers: user_data objects (each a host's private
 * key, readable back through the API) and tag objects no server carries
 * any more. Shapes of the recorded cassettes (GET /plans, GET and DELETE
 * /projects/P/user_data, DELETE /tags/T). */
#include "mvm.h"
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

int latitude_price(struct http *h, const char *type, const char *region,
                   struct cloud_price *p)
{
  struct json *j;
  int page, found = 0;

  for (page = 1; !found; page++) {
    if (la_page(h, "list plans", "/plans", page, &j)) return -1;
    if (!json_len(j, "data")) {
      snprintf(p->note, sizeof(p->note), "no plan %s in the plan list",
               type);
      found = 1;
    } else {
      found = plan_price(j, type, region, p);
    }
    json_free(j);
  }
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
static int carried(struct http *h, struct buf *ids)
{
  struct json *j;
  char id[128];
  int i, k, n = 1, page;

  buf_add(ids, " ", 1);
  for (page = 1; n; page++) {
    if (la_page(h, "list servers", "/servers", page, &j)) return -1;
    for (i = 0, n = json_len(j, "data"); i < n; i++)
      for (k = 0; json_text(j, id, sizeof(id),
                            "data.%d.attributes.tags.%d.id", i, k); k++) {
        buf_add(ids, id, strlen(id));
        buf_add(ids, " ", 1);
      }
    json_free(j);
  }
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
static int sweep_tags(struct http *h)
{
  struct buf ids = { 0 }, gone = { 0 };
  struct json *j;
  char id[128], name[160], pat[136];
  int i, n = 1, page, rc = carried(h, &ids);

  /* All pages first: deleting shifts them. */
  for (page = 1; !rc && n; page++) {
    if (la_page(h, "list tags", "/tags", page, &j)) rc = -1;
    for (i = 0, n = json_len(j, "data"); !rc && i < n; i++) {
      if (!json_text(j, id, sizeof(id), "data.%d.id", i) ||
          !json_text(j, name, sizeof(name), "data.%d.attributes.name", i) ||
          !mvm_tag(name))
        continue;
      snprintf(pat, sizeof(pat), " %s ", id);
      if (strstr(ids.s, pat)) continue;
      buf_add(&gone, pat, strlen(pat));
    }
    json_free(j);
  }
  buf_add(&gone, "", 1);
  if (delete_all(h, "delete tag", "/tags", gone.s)) rc = -1;
  free(ids.s);
  free(gone.s);
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

static int sweep_userdata(struct http *h, const char *label,
                          const struct rec *r, int nr)
{
  char *list = xasprintf("/projects/%s/user_data", la_project);
  char id[64], desc[200];
  const char *uid;
  struct buf gone = { 0 };
  struct json *j;
  int i, n = 1, page, rc = 0;

  for (i = 0; i < nr; i++)
    if ((uid = rec_get(&r[i], "user_data"))) {
      buf_add(&gone, " ", 1);
      buf_add(&gone, uid, strlen(uid));
    }
  for (page = 1; !rc && n; page++) {
    if (la_page(h, "list user data", list, page, &j)) rc = -1;
    for (i = 0, n = json_len(j, "data"); !rc && i < n; i++)
      if (json_text(j, id, sizeof(id), "data.%d.id", i) &&
          json_text(j, desc, sizeof(desc), "data.%d.attributes.description",
                    i) && ud_any(desc, label, r, nr) && !ud_noted(id, r, nr)) {
        buf_add(&gone, " ", 1);
        buf_add(&gone, id, strlen(id));
      }
    json_free(j);
  }
  buf_add(&gone, " ", 1);
  if (delete_all(h, "delete user data", list, gone.s)) rc = -1;
  free(gone.s);
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
