/* lib/http/http.c - HTTPS for the cloud providers over libcurl (lib/http/
 * alone includes curl): TLS verified, timeouts, proxies from the
 * environment, a cap on the answer, the provider's rate budget (rate.c),
 * retries with backoff and full jitter, one-line errors with the
 * provider's message, -v logs without a secret header. */
#include "mvm.h"
#include "http.h"
#include "json.h"
#include <curl/curl.h>

#define HDR_MAX 16

struct hdr {
  char *name, *value;
  int secret;
};

struct http {
  char prov[32];
  char *base;
  struct hdr h[HDR_MAX], sig[HDR_MAX];
  int nh, nsig;
  http_sign_fn sign;
  void *sign_arg;
  http_errmsg_fn errmsg;
  char ctype[96];
  double rate, burst;
  double timeout;         /* http_local(); 0: MVM_HTTP_TIMEOUT */
  int attempts;           /* http_local(); 0: MVM_HTTP_ATTEMPTS */
  double until;           /* http_deadline(): wall clock; 0: none */
  int dry;
  long last;              /* status of the last answer, 0: none */
  CURL *c;
  pid_t owner;            /* the process the curl handle belongs to */
};

/* What one attempt brought back. */
struct answer {
  struct http_resp *r;
  size_t cap;
  int toobig;
};

static double env_num(const char *name, double def, double lo, double hi)
{
  const char *s = getenv(name);
  char *end;
  double v;

  if (!s || !*s) return def;
  v = strtod(s, &end);
  return *end || v < lo || v > hi ? def : v;
}

struct http *http_new_env(const char *prov, const char *env, const char *base)
{
  struct http *h = xzalloc(sizeof(*h));
  const char *ep = env ? getenv(env) : NULL, *path;
  char rname[64], *p;

  snprintf(h->prov, sizeof(h->prov), "%s", prov);
  /* The override replaces scheme://host[:port]; BASE's path stays. */
  path = strstr(base, "://");
  path = path ? strchr(path + 3, '/') : NULL;
  if (ep && *ep) {
    size_t n = strlen(ep);

    while (n && ep[n - 1] == '/') n--;
    h->base = xasprintf("%.*s%s", (int)n, ep, path ? path : "");
  } else {
    h->base = xstrdup(base);
  }
  snprintf(h->ctype, sizeof(h->ctype), "application/json");
  snprintf(rname, sizeof(rname), "MVM_%s_RATE", prov);
  for (p = rname; *p; p++) *p = toupper((unsigned char)*p);
  if ((p = getenv(rname)) && *p) {
    h->rate = strtod(p, &p);
    h->burst = *p == '/' ? strtod(p + 1, NULL) : h->rate;
  }
  return h;
}

struct http *http_new(const char *prov, const char *base)
{
  char env[64], *p;

  snprintf(env, sizeof(env), "MVM_%s_ENDPOINT", prov);
  for (p = env; *p; p++) *p = toupper((unsigned char)*p);
  return http_new_env(prov, env, base);
}

static void hdr_clear(struct hdr *h, int *n)
{
  int i;

  for (i = 0; i < *n; i++) {
    freezero(h[i].value, strlen(h[i].value) + 1);
    free(h[i].name);
  }
  *n = 0;
}

void http_free(struct http *h)
{
  if (!h) return;
  hdr_clear(h->h, &h->nh);
  hdr_clear(h->sig, &h->nsig);
  if (h->c && h->owner == getpid()) curl_easy_cleanup(h->c);
  free(h->base);
  free(h);
}

static void hdr_add(struct hdr *h, int *n, const char *name,
                    const char *value, int secret)
{
  if (*n >= HDR_MAX) die("http: too many headers");
  h[*n].name = xstrdup(name);
  h[*n].value = xstrdup(value);
  h[*n].secret = secret;
  (*n)++;
}

void http_header(struct http *h, const char *name, const char *value,
                 int secret)
{
  hdr_add(h->h, &h->nh, name, value, secret);
}

void http_sign_header(struct http *h, const char *name, const char *value,
                      int secret)
{
  hdr_add(h->sig, &h->nsig, name, value, secret);
}

void http_rate(struct http *h, double rate, double burst)
{
  if (h->rate > 0) return;            /* MVM_<PROVIDER>_RATE won */
  h->rate = rate;
  h->burst = burst;
}

void http_signer(struct http *h, http_sign_fn fn, void *arg)
{
  h->sign = fn;
  h->sign_arg = arg;
}

void http_errmsg(struct http *h, http_errmsg_fn fn)
{
  h->errmsg = fn;
}

void http_ctype(struct http *h, const char *ctype)
{
  snprintf(h->ctype, sizeof(h->ctype), "%s", ctype);
}

void http_local(struct http *h, double timeout, int attempts)
{
  h->timeout = timeout;
  h->attempts = attempts;
}

void http_deadline(struct http *h, double until)
{
  h->until = until;
}

void http_dry(struct http *h, int on)
{
  h->dry = on;
}

void http_resp_release(struct http_resp *r)
{
  free(r->body);
  free(r->hdrs.s);
  memset(r, 0, sizeof(*r));
}

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
  struct answer *a = arg;
  struct http_resp *r = a->r;

  n *= sz;
  if (r->len + n > HTTP_BODY_MAX) {
    a->toobig = 1;
    return 0;                 /* curl ends the transfer */
  }
  if (r->len + n + 1 > a->cap) {
    a->cap = (r->len + n + 1) * 2;
    r->body = xrealloc(r->body, a->cap);
  }
  memcpy(r->body + r->len, p, n);
  r->len += n;
  r->body[r->len] = 0;
  return n;
}

/* Every header line kept for http_resp_header() (an interim answer's
 * dropped at the next status line, a long tail dropped at the cap). */
static size_t on_header(char *p, size_t sz, size_t n, void *arg)
{
  struct http_resp *r = ((struct answer *)arg)->r;
  size_t len = sz * n;

  if (len >= 5 && !strncmp(p, "HTTP/", 5)) r->hdrs.len = 0;
  if (r->hdrs.len + len < HTTP_HDRS_MAX) buf_add(&r->hdrs, p, len);
  return len;
}

/* -v: the request line and headers, secrets left out. */
static void log_request(const struct http *h, const char *method,
                        const char *url, const char *body)
{
  char *red;
  int i;

  if (!mvm.verbose) return;
  debug("%s: > %s %s", h->prov, method, url);
  for (i = 0; i < h->nh + h->nsig; i++) {
    const struct hdr *x = i < h->nh ? &h->h[i] : &h->sig[i - h->nh];

    debug("%s: > %s: %s", h->prov, x->name, x->secret ? "<redacted>"
                                                       : x->value);
  }
  if (body && (red = body_redact(body, strlen(body)))) {
    debug("%s: > %.600s", h->prov, red);
    free(red);
  } else if (body) {
    debug("%s: > (%zu bytes of body, not shown)", h->prov, strlen(body));
  }
}

/* This process's libcurl handle (a forked worker makes its own); -1 if
 * libcurl cannot load (lazycurl.c says why): then nothing can be sent. */
static int handle(struct http *h)
{
  if (h->c && h->owner == getpid()) return 0;
  mvm.err[0] = 0;
  if ((h->c = curl_easy_init())) h->owner = getpid();
  return h->c ? 0 : *mvm.err ? -1 : error("cannot start libcurl");
}

/* One attempt: 0 with r->status set (any status), -1 no answer. */
static int attempt(struct http *h, const char *method, const char *url,
                   const char *body, int flags, struct answer *a)
{
  struct curl_slist *sl = NULL;
  char line[8192], ua[64];
  CURLcode cc;
  int i;

  curl_easy_reset(h->c);
  hdr_clear(h->sig, &h->nsig);
  if (h->sign && h->sign(h, method, url, body, h->sign_arg)) return -1;
  for (i = 0; i < h->nh + h->nsig; i++) {
    const struct hdr *x = i < h->nh ? &h->h[i] : &h->sig[i - h->nh];

    snprintf(line, sizeof(line), "%s: %s", x->name, x->value);
    sl = curl_slist_append(sl, line);
  }
  explicit_bzero(line, sizeof(line));
  if (body) {
    snprintf(line, sizeof(line), "Content-Type: %s", h->ctype);
    sl = curl_slist_append(sl, line);
  }
  sl = curl_slist_append(sl, "Accept: application/json");
  sl = curl_slist_append(sl, "Expect:");
  log_request(h, method, url, body);
  snprintf(ua, sizeof(ua), "mvmbox/%s", MVM_VERSION);
  curl_easy_setopt(h->c, CURLOPT_URL, url);
  curl_easy_setopt(h->c, CURLOPT_CUSTOMREQUEST, method);
  if (body) curl_easy_setopt(h->c, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(h->c, CURLOPT_HTTPHEADER, sl);
  curl_easy_setopt(h->c, CURLOPT_USERAGENT, ua);
  curl_easy_setopt(h->c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h->c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h->c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(h->c, CURLOPT_NOSIGNAL, 1L);
  /* libcurl silently resends a request whose reused connection died
   * before an answer: a second create. Not idempotent: a new connection. */
  if (!(flags & HTTP_RETRY))
    curl_easy_setopt(h->c, CURLOPT_FRESH_CONNECT, 1L);
  curl_easy_setopt(h->c, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(h->c, CURLOPT_TIMEOUT_MS, (long)(1000 * (h->timeout > 0
                   ? h->timeout : env_num("MVM_HTTP_TIMEOUT", 60, 0.1, 3600))));
  curl_easy_setopt(h->c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h->c, CURLOPT_WRITEDATA, a);
  curl_easy_setopt(h->c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h->c, CURLOPT_HEADERDATA, a);
  cc = curl_easy_perform(h->c);
  curl_slist_free_all(sl);      /* the secret lines go with the slist */
  if (cc != CURLE_OK) {
    a->r->status = 0;
    return error("%s", a->toobig ? "answer over the size cap"
                                 : curl_easy_strerror(cc));
  }
  curl_easy_getinfo(h->c, CURLINFO_RESPONSE_CODE, &a->r->status);
  a->r->retry_after = http_retry_after(a->r);
  return 0;
}

static double jitter(double cap)
{
  unsigned int v;

  if (getentropy(&v, sizeof(v))) v = (unsigned int)rand();
  return cap * (v / 4294967296.0);
}

/* Until a deadline (teardown), an idempotent request is retried through
 * whatever is not a refusal: 429, 5xx, no answer, and a 409 or 423 (busy,
 * locked: a host still being made or changed). */
static int retry_until(const struct http *h, long st, int flags)
{
  return h->until > 0 && (flags & HTTP_RETRY) &&
         (st == 0 || st == 409 || st == 423 || st == 429 || st >= 500);
}

int http_req(struct http *h, const char *what, const char *method,
             const char *path, const char *body, int flags,
             struct http_resp *r)
{
  int n, attempts = h->attempts > 0 ? h->attempts
                  : (int)env_num("MVM_HTTP_ATTEMPTS", 8, 1, 100);
  double t0 = now_s(), base = env_num("MVM_HTTP_BACKOFF", 1, 0.001, 60);
  double budget = env_num("MVM_HTTP_RETRY_S", 300, 0, 86400), wait;
  char *url = xasprintf("%s%s", h->base, path), msg[300];
  struct answer a;
  int rc = -1, retry;

  memset(r, 0, sizeof(*r));
  if (http_path_ok(what, path)) {
    h->last = 0;
    free(url);
    return -1;
  }
  if (h->dry || handle(h)) {   /* no libcurl: not sent, no use retrying */
    rc = h->dry ? http_dry_print(method, url, body, r) : -1;
    h->last = h->dry ? h->last : HTTP_UNSENT;
    free(url);
    return rc;
  }
  for (n = 1;; n++) {
    http_resp_release(r);
    memset(&a, 0, sizeof(a));
    a.r = r;
    rate_take(h->prov, h->rate, h->burst);
    if (attempt(h, method, url, body, flags, &a)) {
      snprintf(msg, sizeof(msg), "%s", mvm.err);
      retry = flags & HTTP_RETRY;
    } else if ((r->status >= 200 && r->status < 300) ||
               (r->status == 404 && (flags & HTTP_404_OK))) {
      debug("%s: < %ld (%.2fs)", h->prov, r->status, now_s() - t0);
      rate_ok(h->prov, h->rate, h->burst);
      rc = 0;
      break;
    } else {
      (h->errmsg ? h->errmsg : json_errmsg)(r->body ? r->body : "",
                                                r->len, msg, sizeof(msg));
      retry = (r->status == 429 && (flags & (HTTP_RETRY | HTTP_RETRY_429)))
              || (r->status >= 500 && (flags & HTTP_RETRY));
      debug("%s: < %ld %s", h->prov, r->status, msg);
    }
    wait = base * (1 << (n < 16 ? n - 1 : 15));
    wait = r->retry_after > 0 ? r->retry_after
                              : jitter(wait < 30 ? wait : 30);
    if (r->status == 429) rate_429(h->prov, wait, h->rate, h->burst);
    if (retry_until(h, r->status, flags)) {
      /* No count: the deadline ends it, the last try at the deadline. */
      double left = h->until - http_wall();

      if (left <= 0) break;
      if (wait > left) wait = left;
    } else if (!retry || n >= attempts || now_s() - t0 + wait > budget) {
      break;
    }
    debug("%s: %s: retry %d in %.2fs", h->prov, what, n, wait);
    sleep_s(wait);
  }
  h->last = r->status;
  if (rc) {
    if (r->status) error("%s: %ld%s%s", what, r->status, *msg ? " " : "", msg);
    else error("%s: %s", what, msg);
  }
  free(url);
  return rc;
}

long http_status(const struct http *h)
{
  return h->last;
}

int http_rel(const struct http *h, const char *url, char *out, size_t len)
{
  return http_url_rel(h->base, url, out, len);
}
