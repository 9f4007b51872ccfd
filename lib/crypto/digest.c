/* lib/crypto/digest.c - SHA-256, HMAC-SHA256, random bytes and ed25519
 * keys for the rest of mvmbox, so that no file outside lib/crypto/ calls
 * OpenSSL: the sync engine's --checksum, the deploy's content hashes,
 * SigV4 and new hosts' SSH keys all come here. */
#include "mvm.h"
#include "crypto.h"
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

void sha256(const void *p, size_t n, unsigned char md[SHA256_LEN])
{
  SHA256(p, n, md);
}

void sha256_hex(const void *p, size_t n, char out[2 * SHA256_LEN + 1])
{
  unsigned char md[SHA256_LEN];

  SHA256(p, n, md);
  hex_encode(md, sizeof(md), out);
}

int sha256_fd(int fd, unsigned char md[SHA256_LEN])
{
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  char buf[65536];
  ssize_t n;
  int e;

  if (!c) die("out of memory");
  EVP_DigestInit_ex(c, EVP_sha256(), NULL);
  while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) EVP_DigestUpdate(c, buf, n);
  e = errno;
  if (!n) EVP_DigestFinal_ex(c, md, NULL);
  EVP_MD_CTX_free(c);
  errno = e;
  return n ? -1 : 0;
}

void hmac_sha256(const void *key, size_t klen, const void *msg, size_t n,
                 unsigned char out[SHA256_LEN])
{
  unsigned len = SHA256_LEN;

  if (klen > INT_MAX || !HMAC(EVP_sha256(), key, (int)klen, msg, n, out,
                              &len))
    die("HMAC-SHA256 failed");
}

int random_bytes(void *p, size_t n)
{
  return n <= INT_MAX && RAND_bytes(p, (int)n) == 1 ? 0 : -1;
}

int ed25519_keygen(unsigned char pub[32], unsigned char seed[32])
{
  EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
  size_t plen = 32, slen = 32;
  int ok = pk && EVP_PKEY_get_raw_public_key(pk, pub, &plen) == 1
           && EVP_PKEY_get_raw_private_key(pk, seed, &slen) == 1
           && plen == 32 && slen == 32;

  EVP_PKEY_free(pk);
  if (!ok) explicit_bzero(seed, 32);
  return ok ? 0 : -1;
}
