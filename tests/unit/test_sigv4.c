/* tests/unit/test_sigv4.c - lib/http/sigv4.c against every case of the AWS
 * SigV4 test suite (tests/files/sigv4/, from aws-c-auth): for each case
 * both the header signing and the presigned query are computed from
 * request.txt + context.json and compared byte for byte with the canonical
 * request, string to sign, signature and signed request in the suite. */
#include "unit.h"
#include <dirent.h>
#include <jansson.h>

static char *slurp(const char *dir, const char *name)
{
  char *path = xasprintf("%s/%s", dir, name);
  char *s = xreadfile(path, 1 << 20, NULL);

  free(path);
  return s;
}

/* request.txt: "METHOD PATH[?QUERY] HTTP/1.1", headers (a line starting
 * with a space continues the previous one), blank line, body. */
struct req {
  char *method, *path, *query, *hdr[32], *body;
  int nh;
};

static void parse_request(char *t, struct req *r)
{
  char *line, *sp, *q, *end;

  memset(r, 0, sizeof(*r));
  end = strchr(t, '\n');
  if (end) *end = 0;
  r->method = t;
  sp = strchr(t, ' ');
  *sp = 0;
  r->path = sp + 1;
  *strrchr(r->path, ' ') = 0;
  if ((q = strchr(r->path, '?'))) { *q = 0; r->query = q + 1; }
  for (line = end ? end + 1 : NULL; line && *line && *line != '\n';) {
    end = strchr(line, '\n');
    while (end && end[1] == ' ') end = strchr(end + 1, '\n');
    if (end) *end = 0;
    r->hdr[r->nh++] = line;
    line = end ? end + 1 : NULL;
  }
  r->body = line && *line == '\n' ? line + 1 : NULL;
}

static void one(const char *dir, const char *name, int presign)
{
  char *ctx = slurp(dir, "context.json"), *rt = slurp(dir, "request.txt");
  const char *pfx = presign ? "query" : "header";
  char f[64], *want, *got;
  json_t *j = json_loads(ctx, 0, NULL), *cr;
  struct req r;
  struct sigv4 s = { 0 };
  struct tm tm = { 0 };
  int rc;

  snprintf(f, sizeof(f), "%s %s", name, pfx);
  TEST_START(f);
  parse_request(rt, &r);
  cr = json_object_get(j, "credentials");
  s.method = r.method;
  s.path = r.path;
  s.query = r.query;
  s.headers = (const char *const *)r.hdr;
  s.body = r.body;
  s.bodylen = r.body ? strlen(r.body) : 0;
  s.akid = json_string_value(json_object_get(cr, "access_key_id"));
  s.secret = json_string_value(json_object_get(cr, "secret_access_key"));
  s.token = json_string_value(json_object_get(cr, "token"));
  s.region = json_string_value(json_object_get(j, "region"));
  s.service = json_string_value(json_object_get(j, "service"));
  strptime(json_string_value(json_object_get(j, "timestamp")),
           "%Y-%m-%dT%H:%M:%SZ", &tm);
  s.when = timegm(&tm);
  s.expires = json_integer_value(json_object_get(j, "expiration_in_seconds"));
  s.flags = (json_is_true(json_object_get(j, "normalize")) ? SIGV4_NORMALIZE
             : 0) | (presign ? SIGV4_PRESIGN : 0)
            | (json_is_true(json_object_get(j, "omit_session_token"))
               ? SIGV4_TOKEN_AFTER : 0)
            | (!presign && json_is_true(json_object_get(j, "sign_body"))
               ? SIGV4_SIGN_BODY : 0);
  rc = sigv4_sign(&s);
  ASSERT_INT_EQ(rc, 0);
  snprintf(f, sizeof(f), "%s-canonical-request.txt", pfx);
  want = slurp(dir, f);
  ASSERT_STR_EQ(s.creq, want);
  free(want);
  snprintf(f, sizeof(f), "%s-string-to-sign.txt", pfx);
  want = slurp(dir, f);
  ASSERT_STR_EQ(s.sts, want);
  free(want);
  snprintf(f, sizeof(f), "%s-signature.txt", pfx);
  want = slurp(dir, f);
  ASSERT_STR_EQ(s.sig, want);
  free(want);
  /* The signed request: the request line (presign) or the
   * Authorization line (headers), exactly as the suite writes it. */
  snprintf(f, sizeof(f), "%s-signed-request.txt", pfx);
  want = slurp(dir, f);
  if (presign) {
    *strchr(want, '\n') = 0;
    got = xasprintf("%s %s?%s HTTP/1.1", r.method, r.path,
                    s.query_out ? s.query_out : "");
  } else {
    char *a = strstr(want, "\nAuthorization:");
    *strchr(a + 1, '\n') = 0;
    memmove(want, a + 1, strlen(a));
    got = xstrdup(s.add[0] ? s.add[0] : "");
    for (rc = 0; s.add[rc]; rc++)
      if (!strncmp(s.add[rc], "Authorization:", 14)) {
        free(got);
        got = xstrdup(s.add[rc]);
      }
  }
  ASSERT_STR_EQ(got, want);
  free(got);
  free(want);
  sigv4_release(&s);
  json_decref(j);
  free(ctx);
  free(rt);
  TEST_DONE();
}

static int cmp(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_sigv4(void)
{
  char *top = unit_file("sigv4"), *names[64];
  DIR *d = opendir(top);
  struct dirent *e;
  int n = 0, i;

  TEST_START("sigv4 suite present");
  ASSERT_TRUE(d != NULL);
  TEST_DONE();
  while (d && (e = readdir(d)) && n < (int)ARRAY_LEN(names)) {
    char *dir = xasprintf("%s/%s/request.txt", top, e->d_name);
    if (e->d_name[0] != '.' && !access(dir, R_OK))
      names[n++] = xstrdup(e->d_name);
    free(dir);
  }
  if (d) closedir(d);
  qsort(names, n, sizeof(names[0]), cmp);
  TEST_START("sigv4 suite has 38 cases");
  ASSERT_INT_EQ(n, 38);
  TEST_DONE();
  for (i = 0; i < n; i++) {
    char *dir = xasprintf("%s/%s", top, names[i]);
    one(dir, names[i], 0);
    one(dir, names[i], 1);
    free(dir);
    free(names[i]);
  }
  free(top);
}
UNIT_REGISTER(test_sigv4)
