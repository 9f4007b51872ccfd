/* providers/auth.h - credentials of the aws, gcp, azure and ovh providers,
 * read as each vendor's CLI reads them (providers/{aws,gcp,azure,ovh}auth.c).
 * Only those provider files include this. Every field is a secret unless
 * said otherwise: *_clear() wipes them. Errors name the variable or file. */
#ifndef MVM_AUTH_H
#define MVM_AUTH_H

#include "http/http.h"

/* AWS: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, else
 * profile AWS_PROFILE (AWS_DEFAULT_PROFILE, "default") of
 * AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials) and AWS_CONFIG_FILE
 * (~/.aws/config), whose credential_process is run if it has no keys. */
struct aws_cred {
  char *akid, *secret, *token;
  char *region;           /* AWS_REGION, AWS_DEFAULT_REGION, the profile's
                           * region, or NULL (not secret) */
};
int aws_cred_load(struct aws_cred *c);        /* 0 or -1 (mvm.err) */
/* The region alone (no secret read), or NULL; a static buffer. */
const char *aws_cred_region(void);
void aws_cred_clear(struct aws_cred *c);
/* The http_sign_fn of EC2: SigV4 over host, content-type, x-amz-date. */
int aws_sign_req(const struct aws_cred *cred, struct http *h,
                 const char *method, const char *url, const char *body,
                 const char *region);

/* GCP: GOOGLE_APPLICATION_CREDENTIALS, else the gcloud ADC file
 * ($CLOUDSDK_CONFIG or ~/.config/gcloud)/application_default_credentials
 * .json; service_account (RS256 JWT to token_uri) or authorized_user
 * (refresh token); else, on GCE (or with GCE_METADATA_HOST), the metadata
 * server's token of the VM's service account. The project:
 * CLOUDSDK_CORE_PROJECT, GOOGLE_CLOUD_PROJECT, then project_id /
 * quota_project_id / the metadata server's project-id. */
struct gcp_cred {
  char *type;             /* "service_account" | "authorized_user" |
                           * "gce_metadata" */
  char *file;             /* where it came from (for messages) */
  char *mds;              /* gce_metadata: its host[:port] (not secret) */
  char *email, *key, *key_id;       /* service account */
  char *client_id, *client_secret, *refresh;   /* authorized_user */
  char *token_uri;        /* default https://oauth2.googleapis.com/token */
  char *project;          /* not secret */
  char *token;            /* the access token, once fetched */
  time_t expires;         /* token valid until (wall clock) */
};
int gcp_cred_load(struct gcp_cred *c);
/* A valid access token in c->token: cached until a minute before it
 * expires, else fetched at token_uri (or the metadata server). 0 or -1
 * (mvm.err). */
int gcp_token(struct gcp_cred *c);
void gcp_cred_clear(struct gcp_cred *c);

/* Azure: AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_TENANT_ID,
 * AZURE_SUBSCRIPTION_ID; client-credentials token from MVM_AZURE_AUTHORITY
 * (default https://login.microsoftonline.com), scope
 * https://management.azure.com/.default. Else `az account get-access-token`
 * (the az CLI's login) on PATH; sub: AZURE_SUBSCRIPTION_ID or az's. */
struct azure_cred {
  char *client_id, *secret, *tenant, *sub;
  char *token;
  time_t expires;
  const char *cli;        /* az's token: the variable that is not set
                           * (for messages), else NULL (not secret) */
};
int azure_cred_load(struct azure_cred *c);
int azure_token(struct azure_cred *c);
void azure_cred_clear(struct azure_cred *c);

/* OVH: OVH_ENDPOINT (ovh-eu, ovh-ca, ovh-us or a URL; MVM_OVH_ENDPOINT
 * wins), OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET, OVH_CONSUMER_KEY,
 * else ./ovh.conf, ~/.ovh.conf, /etc/ovh.conf; OVH_CLOUD_PROJECT_SERVICE
 * names the Public Cloud project. delta = server clock - ours. */
struct ovh_cred {
  char *base;             /* API root URL with /1.0 (not secret) */
  char *ak, *as, *ck;
  char *project;          /* not secret */
  long delta;
};
int ovh_cred_load(struct ovh_cred *c);
void ovh_cred_clear(struct ovh_cred *c);
/* The default region of the endpoint's accounts (ovh-eu GRA7, ovh-ca
 * BHS5, ovh-us US-EAST-VA-1; an unknown URL: GRA7). No request. */
const char *ovh_default_region(void);

/* Shared: wipe and free a secret string, NULL it. */
void auth_wipe(char **s);
/* An http_errmsg_fn for OAuth2 token endpoints ("error: description"). */
void auth_oauth_errmsg(const char *body, size_t len, char *out, size_t n);
/* An http_sign_fn for OAuth2 bearer tokens (ARG: a struct auth_bearer):
 * refresh() keeps *token valid, then it is sent as Authorization. */
struct auth_bearer {
  int (*refresh)(void *cred);
  void *cred;
  char **token;
};
int auth_bearer_sign(struct http *h, const char *method, const char *url,
                     const char *body, void *arg);
/* POST an OAuth2 form BODY to BASE+PATH (ENV may replace BASE's scheme and
 * host; PROV's rate bucket); the access token and when it expires. */
int auth_token_post(const char *prov, const char *env, const char *base,
                    const char *path, const char *body, char **token,
                    time_t *expires);
/* The access token and when it expires from an OAuth2 token answer
 * ({"access_token", "expires_in"}); WHAT starts the error message. */
int auth_token_parse(const char *what, const char *body, size_t len,
                     char **token, time_t *expires);

#endif
