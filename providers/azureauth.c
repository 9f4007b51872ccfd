/* providers/azureauth.c - Azure credentials, in azure-identity's order:
 * a service principal as EnvironmentCredential reads it (AZURE_CLIENT_ID,
 * AZURE_CLIENT_SECRET, AZURE_TENANT_ID; AZURE_SUBSCRIPTION_ID for ARM) and
 * its client-credentials token for management.azure.com (login host:
 * MVM_AZURE_AUTHORITY); else, as AzureCliCredential does, the token of
 * `az login` from `az account get-access-token` (run with no shell, a
 * deadline and a cap on what it prints), with its subscription when
 * AZURE_SUBSCRIPTION_ID is not set. Either token is kept until a minute
 * before it expires, then fetched again. */
#include "mvm.h"
#include "http/http.h"
#include "json.h"
#include "auth.h"
#include "provider.h"
#include "cloud.h"

#define AZURE_LOGIN "https://login.microsoftonline.com"
#define CLI_OUT_MAX (64 * 1024)
#define CLI_TIMEOUT 60      /* s: az is a Python program on a busy box;
                             * MVM_AZURE_CLI_TIMEOUT overrides */
#define CLI_CMD "az account get-access-token"

void azure_cred_clear(struct azure_cred *c)
{
  auth_wipe(&c->secret);
  auth_wipe(&c->token);
  free(c->client_id);
  free(c->tenant);
  free(c->sub);
  memset(c, 0, sizeof(*c));
}

int azure_cred_load(struct azure_cred *c)
{
  static const char *const var[] = { "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_SUBSCRIPTION_ID" };
  char **dst[] = { &c->client_id, &c->secret, &c->tenant, &c->sub };
  const char *v;
  size_t i;

  memset(c, 0, sizeof(*c));
  for (i = 0; i < ARRAY_LEN(var); i++) {
    if (!(v = getenv(var[i])) || !*v) {
      /* No service principal: `az login`'s token, if az is there. */
      azure_cred_clear(c);
      c->cli = var[i];
      if ((v = getenv("AZURE_SUBSCRIPTION_ID")) && *v) c->sub = xstrdup(v);
      return 0;
    }
    *dst[i] = xstrdup(v);
  }
  if (strspn(c->tenant, "abcdefghijklmnopqrstuvwxyz0123456789-.")
      != strlen(c->tenant))
    return error("AZURE_TENANT_ID: not a tenant id or domain");
  return 0;
}

/* When az's token expires: expires_on (POSIX time, az 2.54 on), else
 * expiresOn (local time, "2023-10-31 21:59:10.000000"); -1 if neither. */
static time_t cli_expiry(const struct json *j)
{
  char t[64], *end;
  struct tm tm;
  long long v;

  if (json_text(j, t, sizeof(t), "expires_on")) {
    v = strtoll(t, &end, 10);
    return *end || v <= 0 ? -1 : (time_t)v;
  }
  memset(&tm, 0, sizeof(tm));
  if (!json_text(j, t, sizeof(t), "expiresOn") ||
      !(end = strptime(t, "%Y-%m-%d %H:%M:%S", &tm)) ||
      (*end && *end != '.'))
    return -1;
  tm.tm_isdst = -1;
  return mktime(&tm);
}

static int cli_token(struct azure_cred *c)
{
  char *argv[] = { "az", "account", "get-access-token", "--output", "json",
                   "--resource", "https://management.azure.com/", NULL };
  struct capture o;
  struct json *j = NULL;
  char t[16384];
  int st, gone, rc = -1;

  /* Said once: a typo in a service principal's variable would otherwise
   * go unnoticed, with az's account in its place. */
  if (c->expires) debug("azure: " CLI_CMD " again");
  else info("azure: %s is not set: az login's token (" CLI_CMD ")", c->cli);
  st = capture_run(argv, cloud_env_s("MVM_AZURE_CLI_TIMEOUT", CLI_TIMEOUT),
                   CLI_OUT_MAX, &o, &gone);
  if (st < 0) {
    snprintf(t, sizeof(t), "%s", mvm.err);
    if (gone)
      error("no credentials: %s is not set (a service principal needs "
            "AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_TENANT_ID and "
            "AZURE_SUBSCRIPTION_ID), and no az on PATH for 'az login'",
            c->cli);
    else
      error(CLI_CMD ": %s", t);
    goto out;
  }
  if (st) {
    error(CLI_CMD ": exit status %d%s%s", st, *o.err ? ": " : "", o.err);
    goto out;
  }
  if (!o.out.s || !(j = json_parse(o.out.s, o.out.len)) ||
      !json_text(j, t, sizeof(t), "accessToken") || !*t ||
      strlen(t) >= sizeof(t) - 1 || (c->expires = cli_expiry(j)) < 0) {
    error(CLI_CMD ": not a token in its answer (JSON with accessToken and "
          "expires_on or expiresOn)");
    goto out;
  }
  c->token = xstrdup(t);
  if (!c->sub && json_text(j, t, sizeof(t), "subscription") && *t &&
      strspn(t, "0123456789abcdefABCDEF-") == strlen(t))
    c->sub = xstrdup(t);
  rc = c->sub ? 0 : error(CLI_CMD ": no subscription in its answer (set "
                          "AZURE_SUBSCRIPTION_ID)");
out:
  explicit_bzero(t, sizeof(t));
  json_free(j);
  capture_release(&o);
  return rc;
}

int azure_token(struct azure_cred *c)
{
  char *id, *sec, *body, *path;
  int rc;

  if (c->token && time(NULL) < c->expires - 60) return 0;
  auth_wipe(&c->token);
  if (c->cli) return cli_token(c);
  id = uri_escape(c->client_id);
  sec = uri_escape(c->secret);
  body = xasprintf("grant_type=client_credentials&client_id=%s&"
                   "client_secret=%s&scope=https%%3A%%2F%%2Fmanagement."
                   "azure.com%%2F.default", id, sec);
  free(id);
  auth_wipe(&sec);
  path = xasprintf("/%s/oauth2/v2.0/token", c->tenant);
  rc = auth_token_post("azure", "MVM_AZURE_AUTHORITY", AZURE_LOGIN, path,
                       body, &c->token, &c->expires);
  auth_wipe(&body);
  free(path);
  return rc;
}
