/* lib/crypto/lazycrypto.c - every libcrypto (OpenSSL) function mvmbox calls,
 * loading libcrypto.so.3 at the first one (lazylib.h). Linked, its 17,000
 * relocations cost every applet a libc-only start again (issue 19); only
 * hashing, signing and host-key generation use it. Fatal: callers
 * take SHA-256 as infallible, so a libcrypto that cannot load
 * ends the applet at its first call, before it makes anything (libcurl
 * and libssh2 need libcrypto too: none of their calls can come first). */
#include <stdarg.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include "mvm.h"
#include "crypto.h"
#include "lazylib.h"

static struct lazylib libcrypto = { .soname = "libcrypto.so.3",
                                    .package = "libssl3", .fatal = 1 };
#define L libcrypto
#define UC unsigned char
#define PK const EVP_PKEY *pk

LAZY_FN(L, const EVP_MD *, EVP_sha1, (void), (), NULL)
LAZY_FN(L, const EVP_MD *, EVP_sha256, (void), (), NULL)
LAZY_FN(L, UC *, SHA256, (const UC *d, size_t n, UC *md), (d, n, md), NULL)
LAZY_FN(L, UC *, HMAC, (const EVP_MD *md, const void *key, int kn,
        const UC *d, size_t n, UC *out, unsigned *on),
        (md, key, kn, d, n, out, on), NULL)
LAZY_FN(L, EVP_MD_CTX *, EVP_MD_CTX_new, (void), (), NULL)
LAZY_VOID(L, EVP_MD_CTX_free, (EVP_MD_CTX *c), (c))
LAZY_FN(L, int, EVP_DigestInit_ex, (EVP_MD_CTX *c, const EVP_MD *md,
        ENGINE *e), (c, md, e), 0)
LAZY_FN(L, int, EVP_DigestUpdate, (EVP_MD_CTX *c, const void *d, size_t n),
        (c, d, n), 0)
LAZY_FN(L, int, EVP_DigestFinal_ex, (EVP_MD_CTX *c, UC *md, unsigned *n),
        (c, md, n), 0)
LAZY_FN(L, int, EVP_DigestSignInit, (EVP_MD_CTX *c, EVP_PKEY_CTX **pc,
        const EVP_MD *md, ENGINE *e, EVP_PKEY *pkey), (c, pc, md, e, pkey), 0)
LAZY_FN(L, int, EVP_DigestSign, (EVP_MD_CTX *c, UC *sig, size_t *sn,
        const UC *d, size_t n), (c, sig, sn, d, n), 0)

LAZY_FN(L, BIO *, BIO_new_mem_buf, (const void *p, int n), (p, n), NULL)
LAZY_FN(L, int, BIO_free, (BIO *b), (b), 0)
LAZY_FN(L, EVP_PKEY *, PEM_read_bio_PrivateKey, (BIO *b, EVP_PKEY **x,
        pem_password_cb *cb, void *u), (b, x, cb, u), NULL)
LAZY_VOID(L, EVP_PKEY_free, (EVP_PKEY *pkey), (pkey))
LAZY_FN(L, int, EVP_PKEY_get_base_id, (PK), (pk), EVP_PKEY_NONE)
LAZY_FN(L, int, EVP_PKEY_get_raw_public_key, (PK, UC *pub, size_t *n),
        (pk, pub, n), 0)
LAZY_FN(L, int, EVP_PKEY_get_raw_private_key, (PK, UC *priv, size_t *n),
        (pk, priv, n), 0)
LAZY_FN(L, int, RAND_bytes, (UC *buf, int n), (buf, n), 0)
LAZY_FN(L, unsigned long, ERR_get_error, (void), (), 0)
LAZY_VOID(L, ERR_clear_error, (void), ())
LAZY_VOID(L, ERR_error_string_n, (unsigned long e, char *buf, size_t n),
          (e, buf, n))

/* The type says what follows it (EVP_PKEY_Q_keygen(3)): "RSA" a size_t of
 * bits, "EC" a curve name, the others (ED25519, X25519...) nothing. */
EVP_PKEY *EVP_PKEY_Q_keygen(OSSL_LIB_CTX *ctx, const char *propq,
                            const char *type, ...)
{
  static EVP_PKEY *(*real)(OSSL_LIB_CTX *, const char *, const char *, ...);
  EVP_PKEY *pk;
  va_list ap;

  if (!real && !(real = (EVP_PKEY *(*)(OSSL_LIB_CTX *, const char *,
                                       const char *, ...))
                 lazy_sym(&L, "EVP_PKEY_Q_keygen")))
    return NULL;
  va_start(ap, type);
  if (!strcmp(type, "RSA"))
    pk = real(ctx, propq, type, va_arg(ap, size_t));
  else if (!strcmp(type, "EC"))
    pk = real(ctx, propq, type, va_arg(ap, const char *));
  else
    pk = real(ctx, propq, type);
  va_end(ap);
  return pk;
}
