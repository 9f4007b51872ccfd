/* lib/sign.h - request signing for the cloud APIs (OpenSSL): digests and
 * base64 (lib/sign.c), AWS SigV4 (lib/sigv4.c), OVH's "$1$" signature and
 * RS256 JWTs (lib/sign.c). Secrets handed in are never copied into logs or
 * messages; derived keys are wiped before they are freed. */
#ifndef MVM_SIGN_H
#define MVM_SIGN_H

void sha256_hex(const void *p, size_t n, char out[65]);
/* (b64_encode(): lib/codec.c) */
char *b64url_encode(const void *p, size_t n);   /* no padding (JWT) */
/* Percent-encode everything but RFC 3986 unreserved (and '/' when
 * keep_slash) onto b: the SigV4 and form encoding ("a b" -> "a%20b"). */
void uri_encode(struct buf *b, const char *s, size_t n, int keep_slash);

/* AWS Signature Version 4 over one request. */
enum {
  SIGV4_NORMALIZE = 1,    /* remove dot segments and empty segments */
  SIGV4_PRESIGN = 2,      /* sign in the query string (X-Amz-*) */
  SIGV4_TOKEN_AFTER = 4,  /* session token sent but not signed (STS) */
  SIGV4_SIGN_BODY = 8,    /* add and sign x-amz-content-sha256 */
};
struct sigv4 {
  /* in */
  const char *method;     /* "POST" */
  const char *path;       /* as sent, not encoded: "/" */
  const char *query;      /* as sent without '?', or NULL */
  const char *const *headers;  /* "Name:value" as sent, NULL-terminated;
                                * must include Host */
  const void *body;
  size_t bodylen;
  const char *akid, *secret, *token;   /* token may be NULL */
  const char *region, *service;
  time_t when;
  unsigned flags;
  long expires;           /* SIGV4_PRESIGN: X-Amz-Expires */
  /* out (sigv4_release frees them) */
  char *creq;             /* canonical request */
  char *sts;              /* string to sign */
  char sig[65];           /* hex signature */
  char *add[5];           /* headers to send besides the caller's
                           * ("X-Amz-Date:...", "Authorization:..."),
                           * NULL-terminated; none with SIGV4_PRESIGN */
  char *query_out;        /* SIGV4_PRESIGN: the query string to send */
};
int sigv4_sign(struct sigv4 *s);        /* 0, or -1 with mvm.err */
void sigv4_release(struct sigv4 *s);

/* OVH: "$1$" + hex SHA-1 of secret+ck+method+url+body+timestamp joined
 * with '+'. Into out (at least 44 bytes). */
void ovh_signature(const char *secret, const char *ck, const char *method,
                   const char *url, const char *body, long ts, char *out);

/* A compact RS256 JWT: base64url(header).base64url(claims).base64url(sig)
 * signed with the PEM private key (PKCS#8 or PKCS#1). NULL + mvm.err. */
char *jwt_rs256(const char *pem, const char *header, const char *claims);

#endif
