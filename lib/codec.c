/* lib/codec.c - byte encodings the cloud APIs want: base64 (OpenSSL's
 * EVP_EncodeBlock, no line breaks) for user-data fields, and gzip (zlib,
 * gzip wrapper, which cloud-init recognises) for user-data over a limit. */
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
