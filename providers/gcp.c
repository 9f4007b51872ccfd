/* providers/gcp.c - Compute Engine v1 (compute.googleapis.com/compute/v1):
 * instances.insert with nested virtualization on an Intel family (N2 by
 * default), a 50 GB pd-balanced Ubuntu 24.04 disk, labels, user-data and
 * root's ssh-keys in the metadata, an external NAT address. Hosts are
 * named and found by name in their zone (record id=ZONE/NAME). Owns the
 * Google credentials (providers/gcpauth.c); never writes stdout. */
#include "mvm.h"
#include "http/http.h"
#include "json.h"
#include "provider.h"
#include "cloud.h"
#include "auth.h"

#define IMAGE "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64"

static struct gcp_cred cred;

/* A bearer token per attempt: refreshed here when it is about to lapse. */
static int refresh(void *c)
{
  return gcp_token(c);
}

static struct auth_bearer bearer = { refresh, &cred, &cred.token };

static int gcp_init(struct http *h)
{
  gcp_cred_clear(&cred);
  if (gcp_cred_load(&cred) < 0 || gcp_token(&cred) < 0) return -1;
  http_signer(h, auth_bearer_sign, &bearer);
  return 0;
}

/* Families that can run KVM inside (Intel, GCE's nested-virtualization
 * list); E2, N2D and the other AMD and Arm families cannot. */
static int nest_ok(const char *type)
{
  static const char *const ok[] = { "n1-", "n2-", "c2-", "c3-", "m1-",
                                    "m2-", "m3-", "n4-", "c4-" };
  size_t i;

  for (i = 0; i < ARRAY_LEN(ok); i++)
    if (!strncmp(type, ok[i], strlen(ok[i]))) return 0;
  return error("machine type %s cannot run nested KVM (E2, AMD and Arm "
               "families cannot): use an Intel N1, N2, C2, C3, C4, N4 or M "
               "type such as n2-standard-4", type);
}

/* GCE names and label values: lowercase letters, digits, '-' (and '_'
 * in labels), at most 63; a name starts with a letter. */
static void gce_word(char *out, size_t n, const char *in, int name)
{
  size_t i = 0;

  if (name && !islower((unsigned char)tolower((unsigned char)*in)))
    i = (size_t)snprintf(out, n, "mvm-");
  for (; *in && i + 1 < n && i < 63; in++) {
    int c = tolower((unsigned char)*in);
    out[i++] = (char)(isalnum(c) || c == '-' || (!name && c == '_') ? c
                                                                    : '-');
  }
  while (name && i && out[i - 1] == '-') i--;
  out[i] = 0;
}

/* id= is ZONE/NAME, both non-empty: anything else is an error naming it
 * (a path with an empty zone would be answered 404: "gone"). */
static int split(const char *id, char *zone, size_t zn, const char **name)
{
  const char *s = strchr(id, '/');

  if (!s || s == id || !s[1] || strchr(s + 1, '/') || (size_t)(s - id) >= zn)
    return error("not a gcp id ZONE/NAME: '%.80s'", id);
  snprintf(zone, zn, "%.*s", (int)(s - id), id);
  *name = s + 1;
  return 0;
}

static int gcp_create(struct http *h, const struct cloud_req *q,
                      struct cloud_host *c)
{
  char name[64], label[64], exp[40], *keys, *body, *path, *p;
  struct http_resp r = { 0 };
  struct json *j = NULL;
  char dtype[96], mtype[128], buf[128];
  int rc;

  if (nest_ok(q->type) < 0) return -1;
  gce_word(name, sizeof(name), q->name, 1);
  gce_word(label, sizeof(label), q->label, 0);
  cloud_time(q->expires, buf, sizeof(buf), 1);
  gce_word(exp, sizeof(exp), buf, 0);
  snprintf(mtype, sizeof(mtype), "zones/%s/machineTypes/%s", q->region,
           q->type);
  snprintf(dtype, sizeof(dtype), "zones/%s/diskTypes/pd-balanced",
           q->region);
  keys = xasprintf("root:%s", q->pubkey ? q->pubkey : "");
  body = json_build(
      "{s:s, s:s, s:{s:s, s:s, s:s}, s:{s:b}, "
      "s:[{s:b, s:b, s:{s:s, s:s, s:s}}], "
      "s:[{s:s, s:[{s:s, s:s}]}], "
      "s:{s:[{s:s, s:s%}, {s:s, s:s}]}, s:{s:b, s:s}}",
      "name", name, "machineType", mtype,
      "labels", CLOUD_TAG_EPH, "true", CLOUD_TAG_LABEL, label,
      CLOUD_TAG_EXPIRES, exp,
      "advancedMachineFeatures", "enableNestedVirtualization", 1,
      "disks", "boot", 1, "autoDelete", 1, "initializeParams",
      "sourceImage", q->image && *q->image ? q->image : IMAGE,
      "diskSizeGb", "50", "diskType", dtype,
      "networkInterfaces", "network", "global/networks/default",
      "accessConfigs", "type", "ONE_TO_ONE_NAT", "name", "External NAT",
      "metadata", "items", "key", "user-data", "value", q->user_data,
      q->ud_len, "key", "ssh-keys", "value", keys,
      "scheduling", "automaticRestart", 0, "onHostMaintenance", "TERMINATE");
  path = xasprintf("/compute/v1/projects/%s/zones/%s/instances?requestId=%s",
                   cred.project, q->region, q->token);
  rc = http_req(h, "insert instance", "POST", path, body, q->http_flags, &r);
  if (!rc && (j = json_parse(r.body, r.len))) {
    snprintf(c->id, sizeof(c->id), "%s/%s", q->region, name);
    snprintf(c->name, sizeof(c->name), "%s", name);
    snprintf(c->label, sizeof(c->label), "%s", q->label);
    snprintf(c->region, sizeof(c->region), "%s", q->region);
    p = json_text(j, buf, sizeof(buf), "name");
    snprintf(c->aux, sizeof(c->aux), "%s", p ? p : "");
    c->state = CLOUD_PENDING;
  } else if (!rc) {
    rc = error("insert instance: %s", mvm.err);
  }
  json_free(j);
  http_resp_release(&r);
  freezero(body, strlen(body));
  free(keys);
  free(path);
  return rc;
}

static void host_from(const struct json *j, struct cloud_host *c)
{
  static const struct cloud_fields f = {   /* the labels are an object */
    .name = "name", .addr = "networkInterfaces.0.accessConfigs.0.natIP",
    .created = "creationTimestamp", .status = "status", .ready = "RUNNING",
  };
  char t[256], *z;

  cloud_host_json(j, &f, c);
  /* zone: a URL ".../zones/us-central1-a" or the bare name. */
  if ((z = json_text(j, t, sizeof(t), "zone")))
    snprintf(c->region, sizeof(c->region), "%.39s",
             strrchr(z, '/') ? strrchr(z, '/') + 1 : z);
  if (json_text(j, t, sizeof(t), "name"))
    snprintf(c->id, sizeof(c->id), "%.40s/%.79s", c->region, c->name);
  json_text(j, c->label, sizeof(c->label), "labels.%s", CLOUD_TAG_LABEL);
  if (json_text(j, t, sizeof(t), "labels.%s", CLOUD_TAG_EXPIRES)) {
    for (z = t; *z; z++) *z = (char)toupper((unsigned char)*z);
    cloud_time(t, c->expires, sizeof(c->expires), 0);
  }
  if (*c->status && strcmp(c->status, "PROVISIONING") &&
      strcmp(c->status, "STAGING") && strcmp(c->status, "RUNNING"))
    c->state = CLOUD_FAILED;
}

/* A failed insert shows in its zone operation, not in the POST answer. */
static int op_error(struct http *h, const struct cloud_host *c)
{
  char zone[64], t[256], *path;
  const char *name;
  struct http_resp r = { 0 };
  struct json *j = NULL;
  int rc = 0;

  if (!*c->aux || split(c->id, zone, sizeof(zone), &name)) return 0;
  path = xasprintf("/compute/v1/projects/%s/zones/%s/operations/%s",
                   cred.project, zone, c->aux);
  if (!http_req(h, "get operation", "GET", path, NULL, HTTP_RETRY, &r)
      && (j = json_parse(r.body, r.len))
      && json_text(j, t, sizeof(t), "error.errors.0.message"))
    rc = error("insert instance %s: %s", name, t);
  json_free(j);
  http_resp_release(&r);
  free(path);
  return rc;
}

static int gcp_get(struct http *h, struct cloud_host *c)
{
  char zone[64], *path;
  const char *name;
  struct http_resp r = { 0 };
  struct json *j = NULL;
  int rc;

  if (split(c->id, zone, sizeof(zone), &name)) return -1;
  path = xasprintf("/compute/v1/projects/%s/zones/%s/instances/%s",
                   cred.project, zone, name);
  rc = http_req(h, "get instance", "GET", path, NULL,
                HTTP_RETRY | HTTP_404_OK, &r);
  if (!rc && r.status == 404) {
    c->state = CLOUD_GONE;
    rc = op_error(h, c);
  } else if (!rc && (j = json_parse(r.body, r.len))) {
    host_from(j, c);
  } else if (!rc) {
    rc = error("get instance: %s", mvm.err);
  }
  json_free(j);
  http_resp_release(&r);
  free(path);
  return rc;
}

/* Lists are paged by nextPageToken, sent back as pageToken. */
static const struct cloud_paging gce_pages = {
  "nextPageToken", "pageToken", NULL, NULL
};

/* One page of aggregated/instances: its items, an object of zones, each
 * with its instances. */
static int gce_listed(const struct json *page, void *arg)
{
  struct cloud_list *out = arg;
  struct cloud_host *c;
  int i, k, n;

  for (i = 0; i < json_len(page, "items"); i++) {
    const char *zone = json_key(json_get(page, "items"), i);

    n = json_len(page, "items.%s.instances", zone);
    for (k = 0; k < n; k++) {
      if (!(c = cloud_list_add(out)))
        return error("list instances: over %d", CLOUD_LIST_MAX);
      host_from(json_get(page, "items.%s.instances.%d", zone, k), c);
    }
  }
  return 0;
}

/* Every zone at once: aggregated/instances, filtered by label. */
static int gcp_list(struct http *h, const char *label, struct cloud_list *out)
{
  char lab[64], *filter, *path, *f;
  int rc;

  if (label) gce_word(lab, sizeof(lab), label, 0);
  filter = label ? xasprintf("labels.%s=true AND labels.%s=%s",
                             CLOUD_TAG_EPH, CLOUD_TAG_LABEL, lab)
                 : xasprintf("labels.%s=true", CLOUD_TAG_EPH);
  f = uri_escape(filter);
  free(filter);
  path = xasprintf("/compute/v1/projects/%s/aggregated/instances?filter=%s",
                   cred.project, f);
  rc = cloud_pages(h, &gce_pages, "list instances", path, gce_listed, out);
  free(path);
  free(f);
  return rc;
}

static int gcp_destroy(struct http *h, const struct cloud_host *c)
{
  char zone[64];
  const char *name;

  if (split(c->id, zone, sizeof(zone), &name)) return -1;
  return cloud_delete(h, "delete instance",
                      "/compute/v1/projects/%s/zones/%s/instances/%s",
                      cred.project, zone, name);
}

static const struct cloud_ops gcp_ops = {
  .name = "gcp",
  .base = "https://compute.googleapis.com",
  .type = "n2-standard-4",
  .region = "us-central1-a",
  .ud_max = 256 * 1024,
  .idempotent = 1,
  .rate = 10, .burst = 20,
  .poll_s = 5,
  .ready_s = 600,
  .init = gcp_init,
  .create = gcp_create,
  .list_polls = 1,
  .get = gcp_get,
  .list = gcp_list,
  .destroy = gcp_destroy,
};

CLOUD_PROVIDER(gcp, 0);
