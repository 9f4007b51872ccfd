/* lib/codec.c - encodings the cloud APIs want: base64 (OpenSSL's
 * EVP_EncodeBlock, no line breaks) for user-data fields, gzip (zlib, gzip
 * wrapper, which cloud-init recognises) for user-data over a limit, and
 * times as RFC 3339 or its compact, label-safe form. */
#include "mvm.h"

#include <openssl/evp.h>
#include <zlib.h>

char *b64_encode(const void *p, size_t n)
{
  char *out;

  if (n > (size_t)INT_MAX / 4 * 3 - 3) die("base64: input too long");
  out = xmalloc((n + 2) / 3 * 4 + 1);
  EVP_EncodeBlock((unsigned char *)out, p, (int)n);
  return out;
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
