/* providers/azureauth.c - Azure service-principal credentials as
 * azure-identity's EnvironmentCredential reads them (AZURE_CLIENT_ID,
 * AZURE_CLIENT_SECRET, AZURE_TENANT_ID; AZURE_SUBSCRIPTION_ID for ARM) and
 * the client-credentials token for management.azure.com, kept until a
 * minute before it expires. Login host: MVM_AZURE_AUTHORITY. */
#include "mvm.h"
#include "auth.h"

#define AZURE_LOGIN "https://login.microsoftonline.com"

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
  size_t i;

  memset(c, 0, sizeof(*c));
  for (i = 0; i < ARRAY_LEN(var); i++) {
    const char *v = getenv(var[i]);
    if (!v || !*v) {
      azure_cred_clear(c);
      return error("no credentials: %s is not set (a service principal "
                   "needs AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, "
                   "AZURE_TENANT_ID and AZURE_SUBSCRIPTION_ID)", var[i]);
    }
    *dst[i] = xstrdup(v);
  }
  if (strspn(c->tenant, "abcdefghijklmnopqrstuvwxyz0123456789-.")
      != strlen(c->tenant))
    return error("AZURE_TENANT_ID: not a tenant id or domain");
  return 0;
}

int azure_token(struct azure_cred *c)
{
  char *id, *sec, *body, *path;
  int rc;

  if (c->token && time(NULL) < c->expires - 60) return 0;
  auth_wipe(&c->token);
  id = http_escape(c->client_id);
  sec = http_escape(c->secret);
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
