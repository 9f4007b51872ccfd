/* lib/http/sigv4.c - AWS Signature Version 4 (HMAC-SHA256): canonical
 * request, string to sign, signature, and the Authorization header or the
 * presigned query. Written against the aws-c-auth test suite (all 38 cases
 * in tests/files/sigv4/), not libcurl's CURLOPT_AWS_SIGV4. The signing key
 * is derived here and wiped; the secret is never copied elsewhere. */
#include "mvm.h"
#include "http.h"
#include "crypto/crypto.h"

#define SIGV4_MAX_PARTS 256     /* headers or query parameters */
#define SIGV4_MAX (1024 * 1024)     /* canonical request */

struct kv {
  char *k, *v;
};

static void hmac(const void *key, size_t klen, const char *msg,
                 unsigned char out[32])
{
  hmac_sha256(key, klen, msg, strlen(msg), out);
}

static int kv_cmp(const void *a, const void *b)
{
  const struct kv *x = a, *y = b;
  int c = strcmp(x->k, y->k);

  return c ? c : strcmp(x->v, y->v);
}

static void kv_free(struct kv *p, int n)
{
  while (n--) {
    free(p[n].k);
    free(p[n].v);
  }
}

static char *decode(const char *s, size_t n)
{
  char *o = xmalloc(n + 1), *p = o;
  size_t i;

  for (i = 0; i < n; i++) {
    if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1])
        && isxdigit((unsigned char)s[i + 2])) {
      char h[3] = { s[i + 1], s[i + 2], 0 };
      *p++ = (char)strtol(h, NULL, 16);
      i += 2;
    } else {
      *p++ = s[i];
    }
  }
  *p = 0;
  return o;
}

static char *encoded(const char *s, size_t n)
{
  struct buf b = { 0 };

  uri_encode(&b, s, n, 0);
  if (!b.s) return xstrdup("");
  return b.s;
}

/* Query "a=1&b" -> each name and value decoded, then encoded. */
static int parse_query(const char *q, struct kv *p, int *n)
{
  while (q && *q) {
    const char *amp = strchr(q, '&'), *end = amp ? amp : q + strlen(q);
    const char *eq = memchr(q, '=', end - q);
    char *k, *v;

    if (end > q) {
      if (*n == SIGV4_MAX_PARTS) return error("too many query parameters");
      k = decode(q, (eq ? eq : end) - q);
      v = eq ? decode(eq + 1, end - eq - 1) : xstrdup("");
      p[*n].k = encoded(k, strlen(k));
      p[(*n)++].v = encoded(v, strlen(v));
      free(k);
      free(v);
    }
    q = amp ? amp + 1 : NULL;
  }
  return 0;
}

/* Lowercase name; value trimmed with every run of whitespace (folded
 * lines too) made one space. */
static void add_header(struct kv *h, const char *name, size_t nl,
                       const char *val)
{
  struct buf b = { 0 };
  size_t i;

  h->k = xstrndup(name, nl);
  for (i = 0; i < nl; i++) h->k[i] = (char)tolower((unsigned char)h->k[i]);
  while (*val) {
    const char *w = val;
    while (*w && isspace((unsigned char)*w)) w++;
    if (!*w) break;
    if (b.len) buf_add(&b, " ", 1);
    val = w;
    while (*val && !isspace((unsigned char)*val)) val++;
    buf_add(&b, w, val - w);
  }
  h->v = b.s ? b.s : xstrdup("");
}

/* Sort by name (stable: values of one name keep their order), then merge
 * repeated names into "v1,v2". Returns the new count. */
static int merge_headers(struct kv *h, int n)
{
  int i, j, out = 0;

  for (i = 1; i < n; i++)
    for (j = i; j > 0 && strcmp(h[j - 1].k, h[j].k) > 0; j--) {
      struct kv t = h[j];
      h[j] = h[j - 1];
      h[j - 1] = t;
    }
  for (i = 0; i < n; i++) {
    if (out && !strcmp(h[out - 1].k, h[i].k)) {
      char *v = xasprintf("%s,%s", h[out - 1].v, h[i].v);
      free(h[out - 1].v);
      h[out - 1].v = v;
      free(h[i].k);
      free(h[i].v);
    } else {
      h[out++] = h[i];
    }
  }
  return out;
}

/* The canonical URI: with SIGV4_NORMALIZE, "." and ".." resolved and empty
 * segments dropped (a trailing slash kept), then each segment encoded. */
static void canon_path(struct buf *b, const char *path, int normalize)
{
  const char *seg[SIGV4_MAX_PARTS];
  size_t len[SIGV4_MAX_PARTS];
  int n = 0, i, trail;
  const char *p = path;

  if (!normalize || !*path) {
    if (!*path) buf_add(b, "/", 1);
    else uri_encode(b, path, strlen(path), 1);
    return;
  }
  trail = path[strlen(path) - 1] == '/';
  while (*p) {
    const char *e = strchr(p, '/');
    size_t l = e ? (size_t)(e - p) : strlen(p);
    if (l == 2 && !strncmp(p, "..", 2)) {
      if (n) n--;
      trail = !e ? 1 : trail;
    } else if (l == 1 && *p == '.') {
      trail = !e ? 1 : trail;
    } else if (l && n < SIGV4_MAX_PARTS) {
      seg[n] = p;
      len[n++] = l;
    }
    p += l + (e ? 1 : 0);
  }
  for (i = 0; i < n; i++) {
    buf_add(b, "/", 1);
    uri_encode(b, seg[i], len[i], 0);
  }
  if (!n || trail) buf_add(b, "/", 1);
}

static void derive_sign(const struct sigv4 *s, const char *date,
                        char sig[65])
{
  unsigned char k[32], k2[32];
  char *start = xasprintf("AWS4%s", s->secret);
  int i;

  hmac(start, strlen(start), date, k);
  freezero(start, strlen(start));
  hmac(k, 32, s->region, k2);
  hmac(k2, 32, s->service, k);
  hmac(k, 32, "aws4_request", k2);
  hmac(k2, 32, s->sts, k);
  for (i = 0; i < 32; i++) snprintf(sig + 2 * i, 3, "%02x", k[i]);
  explicit_bzero(k, sizeof(k));
  explicit_bzero(k2, sizeof(k2));
}

static void add_x(struct kv *q, int *nq, const char *k, const char *v)
{
  q[*nq].k = xstrdup(k);
  q[(*nq)++].v = encoded(v, strlen(v));
}

static void cat4(struct buf *b, const char *s1, const char *s2,
                 const char *s3, const char *s4)
{
  buf_add(b, s1, strlen(s1));
  buf_add(b, s2, strlen(s2));
  buf_add(b, s3, strlen(s3));
  buf_add(b, s4, strlen(s4));
}

/* The canonical headers and their names ("host;x-amz-date") into *sh. */
static int canon_headers(const struct sigv4 *s, const char *amz,
                         const char *body, struct buf *c, struct buf *sh)
{
  struct kv h[SIGV4_MAX_PARTS + 4];
  int nh = 0, i;

  for (i = 0; s->headers && s->headers[i]; i++) {
    const char *colon = strchr(s->headers[i], ':');
    if (!colon || nh == SIGV4_MAX_PARTS) {
      kv_free(h, nh);
      return error("bad or too many headers to sign");
    }
    add_header(&h[nh++], s->headers[i], colon - s->headers[i], colon + 1);
  }
  if (!(s->flags & SIGV4_PRESIGN)) {
    add_header(&h[nh++], "x-amz-date", 10, amz);
    if (s->token && !(s->flags & SIGV4_TOKEN_AFTER))
      add_header(&h[nh++], "x-amz-security-token", 20, s->token);
    if (s->flags & SIGV4_SIGN_BODY)
      add_header(&h[nh++], "x-amz-content-sha256", 20, body);
  }
  nh = merge_headers(h, nh);
  for (i = 0; i < nh; i++) {
    cat4(c, h[i].k, ":", h[i].v, "\n");
    if (i) buf_add(sh, ";", 1);
    buf_add(sh, h[i].k, strlen(h[i].k));
  }
  buf_add(sh, "", 0);
  buf_add(c, "", 0);
  kv_free(h, nh);
  return 0;
}

/* The canonical query: the request's parameters (and with SIGV4_PRESIGN
 * the X-Amz-* ones), encoded and sorted. */
static int canon_query(const struct sigv4 *s, const char *amz,
                       const char *cred, const char *sh, struct buf *c)
{
  struct kv q[SIGV4_MAX_PARTS + 7];
  int nq = 0, i;

  if (parse_query(s->query, q, &nq) < 0) {
    kv_free(q, nq);
    return -1;
  }
  if (s->flags & SIGV4_PRESIGN) {
    char exp[24];
    snprintf(exp, sizeof(exp), "%ld", s->expires);
    add_x(q, &nq, "X-Amz-Algorithm", "AWS4-HMAC-SHA256");
    add_x(q, &nq, "X-Amz-Credential", cred);
    add_x(q, &nq, "X-Amz-Date", amz);
    add_x(q, &nq, "X-Amz-Expires", exp);
    if (s->token && !(s->flags & SIGV4_TOKEN_AFTER))
      add_x(q, &nq, "X-Amz-Security-Token", s->token);
    add_x(q, &nq, "X-Amz-SignedHeaders", sh);
  }
  qsort(q, nq, sizeof(q[0]), kv_cmp);
  for (i = 0; i < nq; i++) cat4(c, i ? "&" : "", q[i].k, "=", q[i].v);
  kv_free(q, nq);
  return 0;
}

/* What goes on the wire: the query to send (presign), in the suite's
 * order, or the headers to add. */
static void finish(struct sigv4 *s, const char *amz, const char *cred,
                   const char *sh, const char *body)
{
  struct buf o = { 0 };
  char exp[24];
  int na = 0;

  if (!(s->flags & SIGV4_PRESIGN)) {
    s->add[na++] = xasprintf("X-Amz-Date:%s", amz);
    if (s->token)
      s->add[na++] = xasprintf("X-Amz-Security-Token:%s", s->token);
    if (s->flags & SIGV4_SIGN_BODY)
      s->add[na++] = xasprintf("x-amz-content-sha256:%s", body);
    s->add[na++] = xasprintf("Authorization:AWS4-HMAC-SHA256 Credential=%s,"
                             " SignedHeaders=%s, Signature=%s", cred, sh,
                             s->sig);
    return;
  }
  if (s->query && *s->query) cat4(&o, s->query, "", "", "&");
  cat4(&o, "X-Amz-Algorithm=AWS4-HMAC-SHA256", "", "", "&X-Amz-Credential=");
  uri_encode(&o, cred, strlen(cred), 0);
  cat4(&o, "&X-Amz-Date=", amz, "", "&X-Amz-SignedHeaders=");
  uri_encode(&o, sh, strlen(sh), 0);
  buf_add(&o, "&X-Amz-Expires=", 15);
  snprintf(exp, sizeof(exp), "%ld", s->expires);
  buf_add(&o, exp, strlen(exp));
  if (s->token) {
    buf_add(&o, "&X-Amz-Security-Token=", 22);
    uri_encode(&o, s->token, strlen(s->token), 0);
  }
  cat4(&o, "&X-Amz-Signature=", s->sig, "", "");
  s->query_out = o.s;
}

int sigv4_sign(struct sigv4 *s)
{
  struct buf c = { 0 }, sh = { 0 }, hd = { 0 };
  char amz[17], date[9], body[65], hs[65], *scope, *cred;
  struct tm tm;
  int rc = -1;

  memset(s->add, 0, sizeof(s->add));
  s->creq = s->sts = s->query_out = NULL;
  gmtime_r(&s->when, &tm);
  strftime(amz, sizeof(amz), "%Y%m%dT%H%M%SZ", &tm);
  memcpy(date, amz, 8);
  date[8] = 0;
  sha256_hex(s->body ? s->body : "", s->body ? s->bodylen : 0, body);
  scope = xasprintf("%s/%s/%s/aws4_request", date, s->region, s->service);
  cred = xasprintf("%s/%s", s->akid, scope);

  cat4(&c, s->method, "", "", "\n");
  canon_path(&c, s->path, s->flags & SIGV4_NORMALIZE);
  buf_add(&c, "\n", 1);
  if (canon_headers(s, amz, body, &hd, &sh) < 0
      || canon_query(s, amz, cred, sh.s, &c) < 0)
    goto out;
  cat4(&c, "\n", hd.s, "\n", sh.s);
  cat4(&c, "\n", body, "", "");
  if (c.len > SIGV4_MAX) {
    error("request too large to sign");
    goto out;
  }
  s->creq = c.s;
  c.s = NULL;
  sha256_hex(s->creq, strlen(s->creq), hs);
  s->sts = xasprintf("AWS4-HMAC-SHA256\n%s\n%s\n%s", amz, scope, hs);
  derive_sign(s, date, s->sig);
  finish(s, amz, cred, sh.s, body);
  rc = 0;
out:
  free(c.s);
  free(sh.s);
  free(hd.s);
  free(scope);
  free(cred);
  return rc;
}

void sigv4_release(struct sigv4 *s)
{
  size_t i;

  for (i = 0; i < ARRAY_LEN(s->add); i++) {
    free(s->add[i]);
    s->add[i] = NULL;
  }
  free(s->creq);
  free(s->sts);
  free(s->query_out);
  s->creq = s->sts = s->query_out = NULL;
}
