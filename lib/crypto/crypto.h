/* lib/crypto/crypto.h - the door of lib/crypto/, the only place OpenSSL
 * is called (lazycrypto.c loads libcrypto at the first call): digests,
 * OVH's "$1$" signature and RS256 JWTs (sign.c). Secrets handed in are
 * never copied into logs or messages; derived keys are wiped before they
 * are freed. */
#ifndef MVM_CRYPTO_H
#define MVM_CRYPTO_H

void sha256_hex(const void *p, size_t n, char out[65]);
/* (b64_encode(): lib/codec.c) */
char *b64url_encode(const void *p, size_t n);   /* no padding (JWT) */
/* Percent-encode everything but RFC 3986 unreserved (and '/' when
 * keep_slash) onto b: the SigV4 and form encoding ("a b" -> "a%20b"). */
void uri_encode(struct buf *b, const char *s, size_t n, int keep_slash);

/* OVH: "$1$" + hex SHA-1 of secret+ck+method+url+body+timestamp joined
 * with '+'. Into out (at least 44 bytes). */
void ovh_signature(const char *secret, const char *ck, const char *method,
                   const char *url, const char *body, long ts, char *out);

/* A compact RS256 JWT: base64url(header).base64url(claims).base64url(sig)
 * signed with the PEM private key (PKCS#8 or PKCS#1). NULL + mvm.err. */
char *jwt_rs256(const char *pem, const char *header, const char *claims);

#endif
