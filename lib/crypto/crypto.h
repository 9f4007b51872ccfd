/* lib/crypto/crypto.h - the door of lib/crypto/, the only place OpenSSL
 * is called (lazycrypto.c loads libcrypto at the first call): digests,
 * OVH's "$1$" signature and RS256 JWTs (sign.c). Secrets handed in are
 * never copied into logs or messages; derived keys are wiped before they
 * are freed. */
#ifndef MVM_CRYPTO_H
#define MVM_CRYPTO_H

/* lib/crypto/digest.c. Digests cannot fail but by a libcrypto that does
 * not load, which ends the applet (lazycrypto.c). */
#define SHA256_LEN 32
void sha256(const void *p, size_t n, unsigned char md[SHA256_LEN]);
void sha256_hex(const void *p, size_t n, char out[2 * SHA256_LEN + 1]);
/* Of FD's contents to its end: 0, or -1 with errno (a read failed). */
int sha256_fd(int fd, unsigned char md[SHA256_LEN]);
void hmac_sha256(const void *key, size_t klen, const void *msg, size_t n,
                 unsigned char out[SHA256_LEN]);
/* N bytes of the system's CSPRNG: 0 or -1. */
int random_bytes(void *p, size_t n);
/* A new ed25519 key: its public half and its 32-byte seed (the private
 * half: SECRET, the caller wipes it). 0 or -1. */
int ed25519_keygen(unsigned char pub[32], unsigned char seed[32]);

/* OVH: "$1$" + hex SHA-1 of secret+ck+method+url+body+timestamp joined
 * with '+'. Into out (at least 44 bytes). */
void ovh_signature(const char *secret, const char *ck, const char *method,
                   const char *url, const char *body, long ts, char *out);

/* A compact RS256 JWT: base64url(header).base64url(claims).base64url(sig)
 * signed with the PEM private key (PKCS#8 or PKCS#1). NULL + mvm.err. */
char *jwt_rs256(const char *pem, const char *header, const char *claims);

#endif
