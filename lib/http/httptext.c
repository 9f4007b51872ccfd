/* lib/http/httptext.c - the text around a transfer of lib/http/http.c: the
 * headers of an answer, percent-encoding for the URLs of requests, the paths
 * and URLs it refuses, and what a dry run prints. */
#include "mvm.h"
#include "http.h"
#include "json.h"

int http_resp_header(const struct http_resp *r, const char *name, char *out,
                     size_t len)
{
  size_t n = strlen(name), vlen;
  const char *p, *v;
  int found = -1;

  for (p = r->hdrs.s; p && *p; p += strcspn(p, "\n"), p += !!*p) {
    if (strncasecmp(p, name, n) || p[n] != ':') continue;
    v = p + n + 1;
    v += strspn(v, " \t");
    vlen = strcspn(v, "\r\n");
    while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t')) vlen--;
    if (vlen >= len) found = -1;
    else snprintf(out, len, "%.*s", (int)vlen, v), found = 0;
  }
  return found;
}

/* Retry-After: seconds, or an HTTP date; 0 without one (or in the past). */
double http_retry_after(const struct http_resp *r)
{
  char v[64];
  struct tm tm = { 0 };
  double s = 0;

  if (http_resp_header(r, "Retry-After", v, sizeof(v))) return 0;
  if (isdigit((unsigned char)*v)) s = strtod(v, NULL);
  else if (strptime(v, "%a, %d %b %Y %H:%M:%S", &tm))
    s = difftime(timegm(&tm), time(NULL));
  return s > 0 ? s : 0;
}

/* A path with an empty part ("/zones//instances/x", "/servers/") is an
 * id that did not parse: its 404 would read as "gone". Never sent. */
int http_path_ok(const char *what, const char *path)
{
  size_t n = strcspn(path, "?#");

  if (n && path[0] != '/')
    return error("%s: refusing the path '%.*s': not absolute", what, (int)n,
                 path);
  if (memmem(path, n, "//", 2) || (n > 1 && path[n - 1] == '/'))
    return error("%s: refusing the path '%.*s': an empty part (an id that "
                 "did not parse)", what, (int)n, path);
  return 0;
}

/* A dry run prints what would be sent (the body with its secrets left
 * out) and sends nothing. */
int http_dry_print(const char *method, const char *url, const char *body,
                   struct http_resp *r)
{
  char *red = body ? body_redact(body, strlen(body)) : NULL;

  printf("# dry-run: %s %s\n", method, url);
  if (body && red) printf("# dry-run: body: %s\n", red);
  else if (body) printf("# dry-run: body: (%zu bytes, not shown)\n",
                        strlen(body));
  fflush(stdout);
  free(red);
  r->status = 0;
  return error("dry run");
}

int http_url_rel(const char *base, const char *url, char *out, size_t len)
{
  size_t n = strlen(base);
  const char *p;

  for (p = url; *p; p++)
    if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 127)
      return error("a URL with a blank or control character");
  if (strncasecmp(url, base, n) || !strchr("/?", url[n]))
    return error("not on %s: '%.80s'", base, url);
  if (strlen(url + n) >= len) return error("a URL over %zu bytes", len);
  snprintf(out, len, "%s", url + n);
  return 0;
}

/* A deadline every process of a teardown shares: the wall clock. */
double http_wall(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}
