/* providers/gcpauth.c - Google credentials as the client libraries find them
 * (Application Default Credentials): GOOGLE_APPLICATION_CREDENTIALS, else
 * gcloud's ADC file, else on GCE the metadata server. A service account
 * signs an RS256 JWT (lib/crypto/sign.c) and trades it at its token_uri; an
 * authorized_user trades its refresh token; a VM asks its metadata server
 * for its service account's token. The access token is kept until a minute
 * before it expires. External accounts are not read. */
#include "mvm.h"
#include "http/http.h"
#include "crypto/crypto.h"
#include "json.h"
#include "auth.h"

#define GCP_FILE_MAX (64 * 1024)
#define GCP_SCOPE "https://www.googleapis.com/auth/cloud-platform"
#define GCP_TOKEN_URI "https://oauth2.googleapis.com/token"
#define GCE_HOST "metadata.google.internal"
#define GCE_DMI "/sys/class/dmi/id/product_name"
#define NO_CRED "no credentials: set GOOGLE_APPLICATION_CREDENTIALS to a " \
  "service account key file, or run gcloud auth application-default login"

void gcp_cred_clear(struct gcp_cred *c)
{
  auth_wipe(&c->key);
  auth_wipe(&c->client_secret);
  auth_wipe(&c->refresh);
  auth_wipe(&c->token);
  free(c->type);
  free(c->file);
  free(c->mds);
  free(c->email);
  free(c->key_id);
  free(c->client_id);
  free(c->token_uri);
  free(c->project);
  memset(c, 0, sizeof(*c));
}

static char *get(const struct json *j, const char *key)
{
  char t[8192], *s = json_text(j, t, sizeof(t), "%s", key);

  s = s && *s ? xstrdup(s) : NULL;
  explicit_bzero(t, sizeof(t));
  return s;
}

static int need(const struct gcp_cred *c, const char *v, const char *key)
{
  return v ? 0 : error("'%s': %s credentials without \"%s\"", c->file,
                       c->type, key);
}

/* The project the environment names, or NULL. */
static const char *env_project(void)
{
  const char *p = getenv("CLOUDSDK_CORE_PROJECT");

  if (!p || !*p) p = getenv("GOOGLE_CLOUD_PROJECT");
  return p && *p ? p : NULL;
}

/* The metadata server's host[:port] as google-auth finds it, or NULL with
 * the reason in WHY: GCE_METADATA_HOST (or its old name
 * GCE_METADATA_ROOT), else GCE_HOST on a machine whose DMI product name
 * says Google (a GCE VM); elsewhere nothing is sent. NO_GCE_CHECK=true:
 * never. */
static const char *mds_host(char *why, size_t n)
{
  const char *var = "GCE_METADATA_HOST", *h = getenv(var);
  const char *no = getenv("NO_GCE_CHECK");
  char dmi[16] = "";
  FILE *f;

  if (no && !strcmp(no, "true")) {
    snprintf(why, n, "NO_GCE_CHECK=true: no metadata server");
    return NULL;
  }
  if (!h || !*h) h = getenv(var = "GCE_METADATA_ROOT");
  if (h && *h) {
    if (strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
               "0123456789.-:[]") == strlen(h) && strlen(h) < 256)
      return h;
    snprintf(why, n, "%s is not a host[:port]", var);
    return NULL;
  }
  if ((f = fopen(GCE_DMI, "re"))) {
    if (!fgets(dmi, sizeof(dmi), f)) *dmi = 0;
    fclose(f);
  }
  if (!strncmp(dmi, "Google", 6)) return GCE_HOST;
  snprintf(why, n, "not on GCE: no metadata server");
  return NULL;
}

/* The metadata server's errors are a line of text or an HTML page: the
 * line, or nothing but the status. */
static void mds_errmsg(const char *body, size_t len, char *out, size_t n)
{
  size_t k = 0;

  while (k < len && k < 200 && (unsigned char)body[k] >= ' ') k++;
  snprintf(out, n, "%.*s", len && *body == '<' ? 0 : (int)k, body);
}

/* GET PATH of the metadata server, HTTP_RETRY with google-auth's short
 * timeout (GCE_METADATA_TIMEOUT, 3 s) since it is local to the VM; the
 * answer must say Metadata-Flavor: Google, as the real one does. */
static int mds_get(const struct gcp_cred *c, const char *what,
                   const char *path, struct http_resp *r)
{
  char *base = xasprintf("http://%s/computeMetadata/v1", c->mds), *end;
  struct http *h = http_new_env("gcp", NULL, base);
  const char *t = getenv("GCE_METADATA_TIMEOUT");
  double secs = t && *t ? strtod(t, &end) : 3;
  char flavor[16];
  int rc;

  if (!t || !*t || *end || secs < 0.1 || secs > 3600) secs = 3;
  http_header(h, "Metadata-Flavor", "Google", 0);
  http_errmsg(h, mds_errmsg);
  http_local(h, secs, 3);
  rc = http_req(h, what, "GET", path, NULL, HTTP_RETRY, r);
  /* the answer's Metadata-Flavor: Google is proof of who answered */
  if (!rc && (http_resp_header(r, "Metadata-Flavor", flavor, sizeof(flavor))
              || strcmp(flavor, "Google")))
    rc = error("%s: the answer has no Metadata-Flavor: Google (not a "
               "metadata server)", what);
  if (rc) error("metadata server %s: %s", c->mds, mvm.err);
  http_free(h);
  free(base);
  return rc;
}

/* The VM's default service account's token; *STATUS: the HTTP status
 * (0: nothing answered). */
static int mds_token(struct gcp_cred *c, long *status)
{
  struct http_resp r;
  int rc;

  rc = mds_get(c, "get an access token",
               "/instance/service-accounts/default/token", &r);
  *status = r.status;
  if (!rc && auth_token_parse("get an access token", r.body, r.len,
                              &c->token, &c->expires))
    rc = error("metadata server %s: %s", c->mds, mvm.err);
  if (r.body) explicit_bzero(r.body, r.len);
  http_resp_release(&r);
  return rc;
}

/* Neither file: the metadata server, if there is one. Its token request
 * is the probe (google-auth pings first): no answer at all means no
 * metadata server, so no credentials. The project, unless the
 * environment names it: project/project-id, plain text. */
static int mds_load(struct gcp_cred *c)
{
  char why[160], *p;
  const char *host = mds_host(why, sizeof(why));
  struct http_resp r;
  long st;

  if (!host) return error(NO_CRED " (no '%s'; %s)", c->file, why);
  c->mds = xstrdup(host);
  c->type = xstrdup("gce_metadata");
  if (mds_token(c, &st) < 0)
    return st ? -1 : error(NO_CRED " (no '%s'; no metadata server at %s)",
                           c->file, host);
  if (env_project()) {
    c->project = xstrdup(env_project());
    return 0;
  }
  if (mds_get(c, "get the project id", "/project/project-id", &r) < 0) {
    http_resp_release(&r);
    return error("no project: set CLOUDSDK_CORE_PROJECT (%s)", mvm.err);
  }
  p = r.body ? r.body : "";
  p[strcspn(p, "\r\n")] = 0;
  if (*p && strlen(p) < 100 && strspn(p, "abcdefghijklmnopqrstuvwxyz"
                                      "0123456789-.:") == strlen(p))
    c->project = xstrdup(p);
  http_resp_release(&r);
  if (!c->project)
    return error("no project: set CLOUDSDK_CORE_PROJECT (the metadata "
                 "server %s gave no project id)", host);
  return 0;
}

int gcp_cred_load(struct gcp_cred *c)
{
  const char *env = getenv("GOOGLE_APPLICATION_CREDENTIALS");
  const char *p = env_project();
  char *text;
  size_t len;
  struct json *j;
  int rc = -1;

  memset(c, 0, sizeof(*c));
  if (env && *env) {
    c->file = xstrdup(env);
  } else {
    char *dir = conf_path("CLOUDSDK_CONFIG", ".config/gcloud");
    c->file = xasprintf("%s/application_default_credentials.json", dir);
    free(dir);
  }
  if (access(c->file, F_OK) && (!env || !*env)) return mds_load(c);
  if (access(c->file, F_OK)) return error(NO_CRED " (no '%s')", c->file);
  if (access(c->file, R_OK)
      || !(text = xreadfile(c->file, GCP_FILE_MAX, &len)))
    return error("cannot read '%s'", c->file);
  j = json_parse(text, len);
  freezero(text, len);
  if (!j) return error("'%s': %s", c->file, mvm.err);
  c->type = get(j, "type");
  if (c->type && !strcmp(c->type, "service_account")) {
    c->email = get(j, "client_email");
    c->key = get(j, "private_key");
    c->key_id = get(j, "private_key_id");
    c->project = get(j, "project_id");
    if (need(c, c->email, "client_email") || need(c, c->key, "private_key"))
      goto out;
  } else if (c->type && !strcmp(c->type, "authorized_user")) {
    c->client_id = get(j, "client_id");
    c->client_secret = get(j, "client_secret");
    c->refresh = get(j, "refresh_token");
    c->project = get(j, "quota_project_id");
    if (need(c, c->client_id, "client_id") ||
        need(c, c->client_secret, "client_secret") ||
        need(c, c->refresh, "refresh_token"))
      goto out;
  } else {
    error("'%s': credentials of type '%s' are not supported (only "
          "service_account and authorized_user)", c->file,
          c->type ? c->type : "(none)");
    goto out;
  }
  c->token_uri = get(j, "token_uri");
  if (!c->token_uri) c->token_uri = xstrdup(GCP_TOKEN_URI);
  if (p) {
    free(c->project);
    c->project = xstrdup(p);
  }
  if (!c->project) {
    error("no project: set CLOUDSDK_CORE_PROJECT (none in '%s')", c->file);
    goto out;
  }
  rc = 0;
out:
  json_free(j);
  return rc;
}

/* The form body that asks token_uri for an access token. */
static char *grant(const struct gcp_cred *c)
{
  char *a, *b, *d, *out, *jwt, *claims;
  time_t now = time(NULL);

  if (!c->email) {
    a = uri_escape(c->client_id);
    b = uri_escape(c->client_secret);
    d = uri_escape(c->refresh);
    out = xasprintf("grant_type=refresh_token&client_id=%s&client_secret=%s"
                    "&refresh_token=%s", a, b, d);
    free(a);
    auth_wipe(&b);
    auth_wipe(&d);
    return out;
  }
  a = json_build("{s:s, s:s, s:s*}", "alg", "RS256", "typ", "JWT", "kid",
                 c->key_id);
  claims = json_build("{s:s, s:s, s:s, s:I, s:I}", "iss", c->email, "scope",
                      GCP_SCOPE, "aud", c->token_uri, "iat", (long long)now,
                      "exp", (long long)now + 3600);
  jwt = jwt_rs256(c->key, a, claims);
  free(a);
  free(claims);
  if (!jwt) return NULL;
  out = xasprintf("grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type"
                  "%%3Ajwt-bearer&assertion=%s", jwt);
  auth_wipe(&jwt);
  return out;
}

/* OAuth2 errors: {"error": "invalid_grant", "error_description": ...} */
void auth_oauth_errmsg(const char *body, size_t len, char *out, size_t n)
{
  struct json *j = json_parse(body, len);
  char e[64], d[200];

  if (j && json_text(j, e, sizeof(e), "error"))
    snprintf(out, n, "%s%s%s", e, json_text(j, d, sizeof(d),
             "error_description") ? ": " : "", json_text(j, d, sizeof(d),
             "error_description") ? d : "");
  else
    snprintf(out, n, "%.*s", (int)(len < 200 ? len : 200), body);
  json_free(j);
}

int auth_token_post(const char *prov, const char *env, const char *base,
                    const char *path, const char *body, char **token,
                    time_t *expires)
{
  struct http *h = http_new_env(prov, env, base);
  struct http_resp r = { 0 };
  int rc;

  http_ctype(h, "application/x-www-form-urlencoded");
  http_errmsg(h, auth_oauth_errmsg);
  rc = http_req(h, "get an access token", "POST", path, body, HTTP_RETRY, &r);
  if (!rc)
    rc = auth_token_parse("get an access token", r.body, r.len, token,
                          expires);
  if (r.body) explicit_bzero(r.body, r.len);
  http_resp_release(&r);
  http_free(h);
  return rc;
}

int auth_token_parse(const char *what, const char *body, size_t len,
                     char **token, time_t *expires)
{
  struct json *j = json_parse(body ? body : "", len);
  char t[8192];

  /* Not jansson's message: it quotes the text near the fault, a token. */
  if (!j) return error("%s: the answer is not JSON", what);
  if (!json_text(j, t, sizeof(t), "access_token") || !*t) {
    json_free(j);
    return error("%s: no access_token in the answer", what);
  }
  *token = xstrdup(t);
  explicit_bzero(t, sizeof(t));
  *expires = time(NULL) + (json_text(j, t, sizeof(t), "expires_in")
                           ? atol(t) : 3600);
  json_free(j);
  return 0;
}

int gcp_token(struct gcp_cred *c)
{
  char *body;
  long st;
  int rc;

  if (c->token && time(NULL) < c->expires - 60) return 0;
  auth_wipe(&c->token);
  if (c->mds) return mds_token(c, &st);
  if (!(body = grant(c))) return error("'%s': %s", c->file, mvm.err);
  rc = auth_token_post("gcp", "MVM_GCP_TOKEN_ENDPOINT", c->token_uri, "", body,
                       &c->token, &c->expires);
  auth_wipe(&body);
  return rc;
}

int auth_bearer_sign(struct http *h, const char *method, const char *url,
                     const char *body, void *arg)
{
  struct auth_bearer *b = arg;
  char *v;

  (void)method; (void)url; (void)body;
  if (b->refresh(b->cred) < 0) return -1;
  v = xasprintf("Bearer %s", *b->token);
  http_sign_header(h, "Authorization", v, 1);
  freezero(v, strlen(v));
  return 0;
}
