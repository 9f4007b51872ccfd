/* providers/cloudjson.c - a cloud host out of a provider's JSON answer,
 * by a table of where that provider keeps each field (struct
 * cloud_fields), so the JSON providers do not each repeat the same run of
 * json_text() calls and tag scans. */
#include "mvm.h"
#include "http/http.h"
#include "json.h"
#include "provider.h"
#include "cloud.h"

/* The value of "KEY=VALUE" in F's tag list, into OUT (left as it is if the
 * key is not there). */
static void tag_value(const struct json *j, const struct cloud_fields *f,
                      const char *key, char *out, size_t len)
{
  char t[128];
  size_t kl = strlen(key);
  int i, n = json_len(j, "%s", f->tags);

  for (i = 0; i < n; i++)
    if ((f->tag_name ? json_text(j, t, sizeof(t), "%s.%d.%s", f->tags, i,
                                 f->tag_name)
                     : json_text(j, t, sizeof(t), "%s.%d", f->tags, i)) &&
        !strncmp(t, key, kl) && t[kl] == '=')
      snprintf(out, len, "%s", t + kl + 1);
}

static void field(const struct json *j, const char *path, char *out,
                  size_t len)
{
  if (path) json_text(j, out, len, "%s", path);
}

/* The destroy() of most providers: DELETE the host's path; a 404 means
 * someone (or an earlier try whose answer was lost) deleted it already. */
int cloud_delete(struct http *h, const char *what, const char *fmt, ...)
{
  struct http_resp r;
  va_list ap;
  char *path;
  int rc;

  va_start(ap, fmt);
  if (vasprintf(&path, fmt, ap) < 0) die("out of memory");
  va_end(ap);
  rc = http_req(h, what, "DELETE", path, NULL, HTTP_RETRY | HTTP_404_OK, &r);
  if (!rc && r.status == 404) rc = 1;
  http_resp_release(&r);
  free(path);
  return rc;
}

void cloud_host_json(const struct json *j, const struct cloud_fields *f,
                     struct cloud_host *c)
{
  char exp[40] = "";

  field(j, f->id, c->id, sizeof(c->id));
  field(j, f->name, c->name, sizeof(c->name));
  field(j, f->addr, c->addr, sizeof(c->addr));
  field(j, f->created, c->created, sizeof(c->created));
  field(j, f->region, c->region, sizeof(c->region));
  field(j, f->status, c->status, sizeof(c->status));
  if (f->tags) {
    tag_value(j, f, CLOUD_TAG_LABEL, c->label, sizeof(c->label));
    tag_value(j, f, CLOUD_TAG_EXPIRES, exp, sizeof(exp));
    if (*exp) cloud_time(exp, c->expires, sizeof(c->expires), 0);
  }
  c->state = *c->addr && (!f->ready || !strcmp(c->status, f->ready))
             ? CLOUD_READY : CLOUD_PENDING;
}
