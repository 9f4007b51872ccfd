/* lib/codec.c - encodings: base64 (RFC 4648, both alphabets, the one
 * encoder of mvmbox: user-data fields, JWTs, SSH fingerprints and keys),
 * hex, percent-encoding (RFC 3986: query strings, forms, SigV4), gzip
 * (zlib, the gzip wrapper cloud-init and tar recognise; the only file
 * that calls zlib) for user-data over a limit and mvm-sync's tar
 * streams, and its inverse for mvm-sync's compressed listings,
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

#define GZ_CHUNK (64 * 1024)   /* the most handed to the sink at once */

struct gz {
  z_stream z;
  gz_sink sink;
  void *arg;
  double secs;
  unsigned char out[GZ_CHUNK];
};

struct gz *gz_open(int level, gz_sink sink, void *arg)
{
  struct gz *g = xzalloc(sizeof(*g));

  g->sink = sink;
  g->arg = arg;
  /* windowBits 15 + 16: the gzip wrapper (`tar -xz`, cloud-init);
   * memLevel 8, zlib's default: 9 deflates level 1 a third slower, for
   * no smaller output (measured on 60 MB of C headers). */
  if (deflateInit2(&g->z, level, Z_DEFLATED, 15 + 16, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK)
    die("gzip: cannot start zlib");
  return g;
}

/* Deflate IN (FLUSH: Z_NO_FLUSH, or Z_FINISH to end the stream), each
 * full chunk of output to the sink; the time in deflate is counted, the
 * sink's not. */
static int gz_run(struct gz *g, const void *in, size_t n, int flush)
{
  double t0 = now_s();
  int rc;

  g->z.next_in = (unsigned char *)in;
  g->z.avail_in = (uInt)n;
  do {
    g->z.next_out = g->out;
    g->z.avail_out = sizeof(g->out);
    rc = deflate(&g->z, flush);
    if (rc == Z_STREAM_ERROR) return error("gzip: zlib error %d", rc);
    if (sizeof(g->out) - g->z.avail_out) {
      g->secs += now_s() - t0;
      if (g->sink(g->arg, g->out, sizeof(g->out) - g->z.avail_out))
        return -1;
      t0 = now_s();
    }
  } while (g->z.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
  g->secs += now_s() - t0;
  return 0;
}

int gz_write(struct gz *g, const void *p, size_t n)
{
  return gz_run(g, p, n, Z_NO_FLUSH);
}

int gz_finish(struct gz *g)
{
  return gz_run(g, "", 0, Z_FINISH);
}

double gz_secs(const struct gz *g)
{
  return g->secs;
}

void gz_free(struct gz *g)
{
  if (!g) return;
  deflateEnd(&g->z);
  free(g);
}

static int to_buf(void *arg, const void *p, size_t n)
{
  buf_add(arg, p, n);
  return 0;
}

int gzip_buf(const void *p, size_t n, struct buf *out)
{
  struct gz *g = gz_open(Z_BEST_COMPRESSION, to_buf, out);
  int rc = gz_write(g, p, n) || gz_finish(g) ? -1 : 0;

  gz_free(g);
  return rc;
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
