/* lib/codec.c - encodings: base64 (RFC 4648, both alphabets, the one
 * encoder of mvmbox: user-data fields, JWTs, SSH fingerprints and keys),
 * hex, percent-encoding (RFC 3986: query strings, forms, SigV4), gzip
 * (zlib, the gzip wrapper cloud-init recognises) for user-data over a
 * limit and its inverse for mvm-sync's compressed listings,
 * and times as RFC 3339 or its compact, label-safe form. */
#include "mvm.h"

#include <zlib.h>

static const char b64_std[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *b64_encode_as(const void *in, size_t n, unsigned flags)
{
  const unsigned char *p = in;
  const char *a = flags & B64_URL ? b64_url : b64_std;
  char *out, *o;
  size_t i;

  if (n > (SIZE_MAX - 1) / 4 * 3 - 3) die("base64: input too long");
  o = out = xmalloc((n + 2) / 3 * 4 + 1);
  for (i = 0; i + 2 < n; i += 3) {
    unsigned v = (unsigned)p[i] << 16 | p[i + 1] << 8 | p[i + 2];
    *o++ = a[v >> 18];
    *o++ = a[v >> 12 & 63];
    *o++ = a[v >> 6 & 63];
    *o++ = a[v & 63];
  }
  if (i < n) {                    /* one or two bytes left */
    unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? p[i + 1] << 8 : 0);
    *o++ = a[v >> 18];
    *o++ = a[v >> 12 & 63];
    if (i + 1 < n) *o++ = a[v >> 6 & 63];
    else if (!(flags & B64_NOPAD)) *o++ = '=';
    if (!(flags & B64_NOPAD)) *o++ = '=';
  }
  *o = 0;
  return out;
}

char *b64_encode(const void *p, size_t n)
{
  return b64_encode_as(p, n, 0);
}

char *b64url_encode(const void *p, size_t n)
{
  return b64_encode_as(p, n, B64_URL | B64_NOPAD);
}

long b64_decode(const char *s, size_t n, unsigned char *out, size_t cap)
{
  size_t i, o = 0, pad = 0;
  unsigned v = 0;

  if (n % 4) return -1;
  if (n && s[n - 1] == '=') pad = 1 + (n > 1 && s[n - 2] == '=');
  if (n / 4 * 3 - pad > cap) return -1;
  for (i = 0; i < n - pad; i++) {
    const char *c = s[i] ? strchr(b64_std, s[i]) : NULL;

    if (!c) return -1;            /* '=' inside, or not base64 */
    v = v << 6 | (unsigned)(c - b64_std);
    if (i % 4 == 3) {
      out[o++] = v >> 16;
      out[o++] = v >> 8;
      out[o++] = v;
    }
  }
  if (pad == 2) out[o++] = v >> 4;
  else if (pad == 1) {
    out[o++] = v >> 10;
    out[o++] = v >> 2;
  }
  return (long)o;
}

void hex_encode(const void *in, size_t n, char *out)
{
  static const char d[] = "0123456789abcdef";
  const unsigned char *p = in;
  size_t i;

  for (i = 0; i < n; i++) {
    out[2 * i] = d[p[i] >> 4];
    out[2 * i + 1] = d[p[i] & 15];
  }
  out[2 * n] = 0;
}

void uri_encode(struct buf *b, const char *s, size_t n, int keep_slash)
{
  static const char d[] = "0123456789ABCDEF";
  char esc[3] = { '%' };
  size_t i;

  for (i = 0; i < n; i++) {
    unsigned char c = s[i];
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~'
        || (keep_slash && c == '/')) {
      buf_add(b, &s[i], 1);
      continue;
    }
    esc[1] = d[c >> 4];
    esc[2] = d[c & 15];
    buf_add(b, esc, 3);
  }
}

char *uri_escape(const char *s)
{
  struct buf b = { 0 };

  buf_add(&b, "", 0);
  uri_encode(&b, s, strlen(s), 0);
  return b.s;
}

int gzip_buf(const void *p, size_t n, struct buf *out)
{
  z_stream z;
  unsigned char chunk[16384];
  int rc;

  memset(&z, 0, sizeof(z));
  if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9,
                   Z_DEFAULT_STRATEGY) != Z_OK)
    return error("gzip: cannot start zlib");
  z.next_in = (unsigned char *)p;
  z.avail_in = (uInt)n;
  do {
    z.next_out = chunk;
    z.avail_out = sizeof(chunk);
    rc = deflate(&z, Z_FINISH);
    buf_add(out, chunk, sizeof(chunk) - z.avail_out);
  } while (rc == Z_OK);
  deflateEnd(&z);
  return rc == Z_STREAM_END ? 0 : error("gzip: zlib error %d", rc);
}

int gunzip_buf(const char *in, size_t n, char **out, size_t *outlen,
               size_t max)
{
  z_stream z = { 0 };
  size_t cap = n * 4 + 4096, len = 0;
  char *buf;
  int rc;

  if (cap > max) cap = max;
  if (inflateInit2(&z, 31) != Z_OK) die("out of memory");
  buf = xmalloc(cap + 1);
  z.next_in = (unsigned char *)in;
  z.avail_in = n;
  do {
    if (len == cap) {
      if (cap >= max) {
        rc = Z_MEM_ERROR;
        break;
      }
      cap = cap * 2 > max ? max : cap * 2;
      buf = xrealloc(buf, cap + 1);
    }
    z.next_out = (unsigned char *)buf + len;
    z.avail_out = cap - len;
    rc = inflate(&z, Z_NO_FLUSH);
    len = cap - z.avail_out;
  } while (rc == Z_OK || (rc == Z_BUF_ERROR && len == cap));
  inflateEnd(&z);
  if (rc != Z_STREAM_END) {
    free(buf);
    if (rc == Z_MEM_ERROR) return error("gzip data over %zu bytes", max);
    return error("bad gzip data");
  }
  buf[len] = 0;
  *out = buf;
  *outlen = len;
  return 0;
}

/* "2026-12-01T19:30:00Z", "...+01:00", "....123Z", "20261201T193000Z":
 * seconds since the epoch, -1 if none of these. */
time_t time_parse(const char *s)
{
  struct tm tm;
  const char *p;
  int sign, hh, mm;
  time_t t;

  memset(&tm, 0, sizeof(tm));
  if (!s || (!(p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) &&
             !(p = strptime(s, "%Y%m%dT%H%M%S", &tm))))
    return -1;
  t = timegm(&tm);
  if (*p == '.') p += 1 + strspn(p + 1, "0123456789");
  if (*p == 'Z' || !*p) return t;
  sign = *p == '-' ? -1 : 1;
  if (sscanf(p + 1, "%d:%d", &hh, &mm) != 2) return -1;
  return t - sign * (hh * 3600 + mm * 60);
}

void time_fmt(time_t t, char *buf, size_t len, int compact)
{
  strftime(buf, len, compact ? "%Y%m%dT%H%M%SZ" : "%Y-%m-%dT%H:%M:%SZ",
           gmtime(&t));
}

long secs_parse(const char *s, long max)
{
  static const char units[] = "smhd";
  static const long mult[] = { 1, 60, 3600, 86400 };
  char *end;
  double v = strtod(s, &end);
  const char *u = *end ? strchr(units, *end) : units;

  if (end == s || !u || (*end && end[1]) || !(v > 0)) return -1;
  v *= mult[u - units];
  if (v > max) return -1;
  return v < 1 ? 1 : (long)v;
}
