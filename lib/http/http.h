/* lib/http/http.h - HTTPS for the cloud providers (lib/http/http.c, over
 * libcurl; the curl types stay inside http.c). One struct http per provider
 * and process: base URL (MVM_<PROVIDER>_ENDPOINT replaces scheme and host),
 * the provider's headers, its rate budget, retries. Returns codes, never
 * dies on the network, never logs a secret. */
#ifndef MVM_HTTP_H
#define MVM_HTTP_H

#define HTTP_BODY_MAX (8 << 20)   /* a longer answer is an error */

struct http;

struct http_resp {
  long status;            /* the HTTP status; 0: no answer (connection
                           * error, timeout, dropped, over the cap) */
  char *body;             /* NUL-terminated, or NULL */
  size_t len;
  struct buf hdrs;        /* the answer's header lines (HTTP_HDRS_MAX at
                           * most), for http_resp_header() */
  double retry_after;     /* its Retry-After in seconds, 0: none */
};
#define HTTP_HDRS_MAX (32 << 10)
/* The value of the answer's header NAME (case-insensitive; the last one,
 * blanks trimmed) in OUT: 0, or -1 when it has none or it is longer. */
int http_resp_header(const struct http_resp *r, const char *name, char *out,
                     size_t len);
double http_retry_after(const struct http_resp *r);   /* lib/http/httptext.c */
void http_resp_release(struct http_resp *r);

/* PROV names the provider: "hetzner" gives messages "hetzner: ...", env
 * MVM_HETZNER_ENDPOINT (scheme://host[:port] replacing BASE's; the paths
 * stay as documented) and MVM_HETZNER_RATE, and the token bucket that every
 * process of that provider shares. BASE: "https://api.hetzner.cloud". */
struct http *http_new(const char *prov, const char *base);
/* The same with the endpoint override read from ENV, for a second host of
 * one provider (a token service): http_new_env("gcp", "MVM_GCP_TOKEN_
 * ENDPOINT", "https://oauth2.googleapis.com"). Shares PROV's bucket.
 * ENV NULL: BASE as it is (the caller read its own override). */
struct http *http_new_env(const char *prov, const char *env,
                          const char *base);
void http_free(struct http *h);   /* wipes the secret headers */

/* A header sent with every request. SECRET: its value is never logged
 * (Authorization, X-Auth-Token, API keys) and is wiped on http_free(). */
void http_header(struct http *h, const char *name, const char *value,
                 int secret);
/* The request budget: RATE requests per second with bursts of BURST, one
 * bucket per provider shared by all workers and processes (a locked file
 * in the state directory). MVM_<PROVIDER>_RATE=R[/B] overrides. */
void http_rate(struct http *h, double rate, double burst);

/* Signing (SigV4, OVH): called before every attempt, retries included,
 * with the full URL and body; it adds per-attempt headers with
 * http_sign_header() (dropped after the attempt). 0 or -1 (mvm.err). */
typedef int (*http_sign_fn)(struct http *h, const char *method,
                            const char *url, const char *body, void *arg);
void http_signer(struct http *h, http_sign_fn fn, void *arg);
void http_sign_header(struct http *h, const char *name, const char *value,
                      int secret);
/* The provider's error text from an error answer's body, for messages
 * like "422 invalid_input: server_type cpx51 not found". The default
 * knows {"error":{"code","message"}}, {"error":"..."}, {"message":...},
 * {"errors":[{"title","detail"} or "..."]}; XML APIs set their own. */
typedef void (*http_errmsg_fn)(const char *body, size_t len, char *out,
                               size_t outlen);
void http_errmsg(struct http *h, http_errmsg_fn fn);
/* Content-Type of request bodies (default application/json). */
void http_ctype(struct http *h, const char *ctype);
/* A service next to us (a VM's metadata server): each attempt gets
 * TIMEOUT seconds, connecting included, and there are at most ATTEMPTS
 * (not MVM_HTTP_TIMEOUT, MVM_HTTP_ATTEMPTS). */
void http_local(struct http *h, double timeout, int attempts);

/* Until UNTIL (wall clock, http_wall(); 0: off) a request flagged
 * HTTP_RETRY is retried through 429, 5xx, 409, 423 and lost answers with
 * no count of attempts and no MVM_HTTP_RETRY_S: teardown's deletes, lists
 * and confirming polls end at its --deadline, not at the eighth 429. */
void http_deadline(struct http *h, double until);
double http_wall(void);   /* CLOCK_REALTIME in seconds: shared by processes */

/* Dry run: http_req() prints "# dry-run: METHOD URL" and the body (secret
 * JSON members redacted) on stdout and fails with mvm.err "dry run". */
void http_dry(struct http *h, int on);

enum {
  HTTP_RETRY = 1,         /* idempotent (GET, DELETE, a create carrying an
                           * idempotency token): retry 429, 5xx and
                           * connection errors */
  HTTP_RETRY_429 = 2,     /* not idempotent: retry only a 429, which
                           * proves nothing was done; a 5xx or a lost
                           * answer is the caller's to resolve */
  HTTP_404_OK = 4,        /* a 404 is an answer, not an error */
};

/* METHOD PATH (appended to the base: "/v1/servers?label_selector=...")
 * with BODY (NULL: none). Waits for the token bucket, retries as FLAGS
 * allow with exponential backoff and full jitter, honouring Retry-After,
 * within bounded attempts and total time (MVM_HTTP_TIMEOUT per request,
 * default 60 s), or until http_deadline(). A PATH with an empty part
 * ("//", a trailing "/") is refused unsent: a 404 for it would prove
 * nothing. 0 on a 2xx answer (or a 404 with HTTP_404_OK); else -1
 * with mvm.err "WHAT: STATUS provider message" or "WHAT: reason" and
 * r->status as above. r is always filled: release it. */
int http_req(struct http *h, const char *what, const char *method,
             const char *path, const char *body, int flags,
             struct http_resp *r);

/* lib/http/rate.c: the shared, adaptive token bucket behind http_rate(), RATE
 * and BURST its ceiling. rate_take() sleeps until this request may go;
 * rate_ok() says an answer was a success (the shared rate creeps back up);
 * rate_429() says the API refused one: the shared rate is cut for every
 * process, and every worker of PROV waits SECS (its Retry-After). */
void rate_take(const char *prov, double rate, double burst);
void rate_ok(const char *prov, double rate, double burst);
void rate_429(const char *prov, double secs, double rate, double burst);
/* The shared rate of PROV in force now (requests a second), unchanged. */
double rate_now(const char *prov, double rate, double burst);
/* A file NAME of the state directory every mvmbox process of the user
 * shares (MVM_STATE_DIR, else $XDG_RUNTIME_DIR/mvmbox, else
 * /tmp/mvmbox-UID; made 0700), opened read-write, created 0600, never
 * through a symlink: an fd to flock(), or -1. */
int shared_open(const char *name);

/* The status of the last answer http_req() got (0: none came), so a
 * caller can tell "refused" (4xx: nothing was done) from "unknown";
 * HTTP_UNSENT: nothing was sent (libcurl cannot load). */
long http_status(const struct http *h);
#define HTTP_UNSENT (-1L)

/* URL (one an answer names: a Location, an operation, a next page) as a
 * path for http_req() on H: 0 and the path with its query in OUT when URL
 * starts with H's base URL (the configured endpoint) followed by "/", "?"
 * or nothing; else -1 with mvm.err, so that a bad or hostile answer never
 * makes us send the provider's credentials to another host. */
int http_rel(const struct http *h, const char *url, char *out, size_t len);

/* lib/http/httptext.c, for lib/http/http.c: refuse a malformed PATH (WHAT names
 * the request), print a dry run's request, and http_rel() on a base URL. */
int http_path_ok(const char *what, const char *path);
int http_dry_print(const char *method, const char *url, const char *body,
                   struct http_resp *r);
int http_url_rel(const char *base, const char *url, char *out, size_t len);


/* lib/http/sigv4.c: AWS Signature Version 4 over one request. */
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


/* lib/http/xml.c: a small XML reader for EC2's Query API answers (over
 * expat; its types stay inside xml.c). The whole document is read into a
 * tree of elements with their trimmed text; lookups are by slash paths of
 * element names ("instancesSet/item/instanceId"). No DTDs, no entities
 * beyond XML's own, bounded size, depth and element count. */
#define XML_DOC_MAX (8 << 20)
#define XML_NODES_MAX 200000
#define XML_DEPTH_MAX 64

struct xml;     /* an element (a document is its root element) */

/* NULL with mvm.err ("malformed XML: ... at line N"). */
struct xml *xml_parse(const char *s, size_t len);
void xml_free(struct xml *doc);
const char *xml_name(const struct xml *n);
/* The first element at PATH below N ("" or NULL: N itself), or NULL. */
const struct xml *xml_find(const struct xml *n, const char *path);
/* Its trimmed text ("" for an empty element), or NULL if absent. */
const char *xml_text(const struct xml *n, const char *path);
/* Up to MAX elements at PATH below N, in document order; the count. */
int xml_all(const struct xml *n, const char *path, const struct xml **out,
            int max);

#endif
