/* lib/crypto/sign.c - the two small signatures the cloud providers need:
 * OVH's "$1$" SHA-1 and RS256 JWTs for Google service accounts. SigV4 is
 * lib/http/sigv4.c's. Keys are parsed from memory and freed here; nothing
 * is printed. */
#include "mvm.h"
#include "crypto.h"
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

void ovh_signature(const char *secret, const char *ck, const char *method,
                   const char *url, const char *body, long ts, char *out)
{
  unsigned char md[SHA_DIGEST_LENGTH];
  char tsbuf[24];
  const char *part[6];
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  size_t i;

  if (!c) die("out of memory");
  snprintf(tsbuf, sizeof(tsbuf), "%ld", ts);
  part[0] = secret; part[1] = ck; part[2] = method;
  part[3] = url; part[4] = body ? body : ""; part[5] = tsbuf;
  EVP_DigestInit_ex(c, EVP_sha1(), NULL);
  for (i = 0; i < ARRAY_LEN(part); i++) {
    if (i) EVP_DigestUpdate(c, "+", 1);
    EVP_DigestUpdate(c, part[i], strlen(part[i]));
  }
  EVP_DigestFinal_ex(c, md, NULL);
  EVP_MD_CTX_free(c);
  memcpy(out, "$1$", 3);
  hex_encode(md, sizeof(md), out + 3);
}

/* The first OpenSSL error as text, for mvm.err (never key material). */
static int ossl_error(const char *what)
{
  char e[120];

  ERR_error_string_n(ERR_get_error(), e, sizeof(e));
  ERR_clear_error();
  return error("%s: %s", what, e);
}

char *jwt_rs256(const char *pem, const char *header, const char *claims)
{
  BIO *bio = BIO_new_mem_buf(pem, -1);
  EVP_PKEY *pk = NULL;
  EVP_MD_CTX *c = NULL;
  unsigned char *sig = NULL;
  size_t siglen = 0;
  char *h = NULL, *cl = NULL, *s = NULL, *in = NULL, *out = NULL;

  if (!bio) die("out of memory");
  pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
  if (!pk) { ossl_error("cannot read the private key"); goto out; }
  if (EVP_PKEY_base_id(pk) != EVP_PKEY_RSA) {
    error("private key is not an RSA key");
    goto out;
  }
  h = b64url_encode(header, strlen(header));
  cl = b64url_encode(claims, strlen(claims));
  in = xasprintf("%s.%s", h, cl);
  if (!(c = EVP_MD_CTX_new())) die("out of memory");
  if (EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, pk) != 1
      || EVP_DigestSign(c, NULL, &siglen, (unsigned char *)in,
                        strlen(in)) != 1) {
    ossl_error("cannot sign the token");
    goto out;
  }
  sig = xmalloc(siglen);
  if (EVP_DigestSign(c, sig, &siglen, (unsigned char *)in,
                     strlen(in)) != 1) {
    ossl_error("cannot sign the token");
    goto out;
  }
  s = b64url_encode(sig, siglen);
  out = xasprintf("%s.%s", in, s);
out:
  EVP_MD_CTX_free(c);
  EVP_PKEY_free(pk);
  BIO_free(bio);
  free(sig);
  free(h);
  free(cl);
  free(s);
  free(in);
  return out;
}
