/* lib/httptext.c - the text around a transfer of lib/http.c: the headers
 * of an answer, and percent-encoding for the URLs of requests. */
#include "mvm.h"

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

char *http_escape(const char *s)
{
  char *out = xmalloc(strlen(s) * 3 + 1), *o = out;

  for (; *s; s++) {
    if (isalnum((unsigned char)*s) || strchr("-._~", *s)) *o++ = *s;
    else o += sprintf(o, "%%%02X", (unsigned char)*s);
  }
  *o = 0;
  return out;
}
