/* providers/gcpauth.c - Google credentials as the client libraries find
 * them (Application Default Credentials): GOOGLE_APPLICATION_CREDENTIALS,
 * else gcloud's ADC file. A service account signs an RS256 JWT
 * (lib/sign.c) and trades it at its token_uri; an authorized_user trades
 * its refresh token. The access token is kept until a minute before it
 * expires. The metadata server and external accounts are not read. */
#include "mvm.h"
#include "auth.h"

#define GCP_FILE_MAX (64 * 1024)
#define GCP_SCOPE "https://www.googleapis.com/auth/cloud-platform"
#define GCP_TOKEN_URI "https://oauth2.googleapis.com/token"

void gcp_cred_clear(struct gcp_cred *c)
{
  auth_wipe(&c->key);
  auth_wipe(&c->client_secret);
  auth_wipe(&c->refresh);
  auth_wipe(&c->token);
  free(c->type);
  free(c->file);
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

int gcp_cred_load(struct gcp_cred *c)
{
  const char *env = getenv("GOOGLE_APPLICATION_CREDENTIALS");
  const char *p = getenv("CLOUDSDK_CORE_PROJECT");
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
  if (access(c->file, F_OK))
    return error("no credentials: set GOOGLE_APPLICATION_CREDENTIALS to a "
                 "service account key file, or run gcloud auth "
                 "application-default login (no '%s')", c->file);
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
  if (!p || !*p) p = getenv("GOOGLE_CLOUD_PROJECT");
  if (p && *p) {
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
    a = http_escape(c->client_id);
    b = http_escape(c->client_secret);
    d = http_escape(c->refresh);
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
  struct json *j = NULL;
  char t[8192];
  int rc = -1;

  http_ctype(h, "application/x-www-form-urlencoded");
  http_errmsg(h, auth_oauth_errmsg);
  if (http_req(h, "get an access token", "POST", path, body, HTTP_RETRY, &r))
    goto out;
  if (!(j = json_parse(r.body, r.len))
      || !json_text(j, t, sizeof(t), "access_token")) {
    error("get an access token: no access_token in the answer");
    goto out;
  }
  *token = xstrdup(t);
  explicit_bzero(t, sizeof(t));
  *expires = time(NULL) + (json_text(j, t, sizeof(t), "expires_in")
                           ? atol(t) : 3600);
  rc = 0;
out:
  json_free(j);
  if (r.body) explicit_bzero(r.body, r.len);
  http_resp_release(&r);
  http_free(h);
  return rc;
}

int gcp_token(struct gcp_cred *c)
{
  char *body;
  int rc;

  if (c->token && time(NULL) < c->expires - 60) return 0;
  auth_wipe(&c->token);
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
