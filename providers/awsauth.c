/* providers/awsauth.c - AWS credentials as the aws CLI finds them: the
 * environment, then the profile in ~/.aws/credentials and ~/.aws/config
 * (keys, region, credential_process). Assume-role and SSO profiles are
 * left to `aws configure export-credentials`, which a credential_process
 * line can run. Secrets are wiped by aws_cred_clear(). */
#include "mvm.h"
#include "http/http.h"
#include "json.h"
#include "auth.h"

#define AWS_PROCESS_MAX (64 * 1024)
#define AWS_PROCESS_SECS 60     /* botocore has none; a hung helper would
                                 * hang the whole pipeline */

void auth_wipe(char **s)
{
  if (*s) freezero(*s, strlen(*s));
  *s = NULL;
}

void aws_cred_clear(struct aws_cred *c)
{
  auth_wipe(&c->akid);
  auth_wipe(&c->secret);
  auth_wipe(&c->token);
  free(c->region);
  c->region = NULL;
}

static const char *profile(void)
{
  const char *p = getenv("AWS_PROFILE");

  if (!p || !*p) p = getenv("AWS_DEFAULT_PROFILE");
  return p && *p ? p : "default";
}

/* KEY of the profile in the config file: [default] or [profile NAME]. */
static int config_get(const char *path, const char *key, char **out)
{
  char *sect;
  int rc;

  if (!strcmp(profile(), "default"))
    return conf_toml(path, "default", NULL, NULL, key, out);
  sect = xasprintf("profile %s", profile());
  rc = conf_toml(path, sect, NULL, NULL, key, out);
  free(sect);
  return rc;
}

/* In a static buffer, never freed: callers keep the pointer (the region
 * of up_args) while the credentials are read again. */
const char *aws_cred_region(void)
{
  static char buf[64];
  const char *e = getenv("AWS_REGION");
  char *cfg, *r = NULL;
  int found;

  if (!e || !*e) e = getenv("AWS_DEFAULT_REGION");
  if (e && *e) return e;
  cfg = conf_path("AWS_CONFIG_FILE", ".aws/config");
  found = config_get(cfg, "region", &r) == 0;
  if (found) snprintf(buf, sizeof(buf), "%s", r);
  free(cfg);
  free(r);
  return found ? buf : NULL;
}

/* credential_process: run it with sh -c (stdin /dev/null: ours may be
 * the record stream; a deadline: it may wait for a login), read its JSON
 * (Version 1). */
static int run_process(struct aws_cred *c, const char *cmd, const char *cfg)
{
  char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL }, t[4096];
  struct capture b;
  struct json *j = NULL;
  int gone, st, rc = -1;

  st = capture_run(argv, AWS_PROCESS_SECS, AWS_PROCESS_MAX, &b, &gone);
  if (st < 0) {
    snprintf(t, sizeof(t), "%s", mvm.err);
    error("credential_process of profile '%s' in '%s': %s", profile(), cfg,
          t);
    goto out;
  }
  if (st != 0) {
    error("credential_process of profile '%s' in '%s' failed (status %d)%s%s",
          profile(), cfg, st, *b.err ? ": " : "", b.err);
    goto out;
  }
  if (!b.out.s || !(j = json_parse(b.out.s, b.out.len))) {
    error("credential_process of profile '%s' in '%s': not JSON",
          profile(), cfg);
    goto out;
  }
  if (!json_text(j, t, sizeof(t), "Version") || strcmp(t, "1")) {
    error("credential_process of profile '%s' in '%s': Version is not 1",
          profile(), cfg);
    goto out;
  }
  if (json_text(j, t, sizeof(t), "AccessKeyId")) c->akid = xstrdup(t);
  if (json_text(j, t, sizeof(t), "SecretAccessKey")) c->secret = xstrdup(t);
  if (json_text(j, t, sizeof(t), "SessionToken")) c->token = xstrdup(t);
  explicit_bzero(t, sizeof(t));
  if (!c->akid || !c->secret) {
    error("credential_process of profile '%s' in '%s': no AccessKeyId or "
          "SecretAccessKey", profile(), cfg);
    goto out;
  }
  rc = 0;
out:
  json_free(j);
  capture_release(&b);
  return rc;
}

/* Keys from one file's section; 1 if that file has none. */
static int file_keys(struct aws_cred *c, const char *path, int config)
{
  int rc;

  rc = config ? config_get(path, "aws_access_key_id", &c->akid)
              : conf_toml(path, profile(), NULL, NULL, "aws_access_key_id",
                          &c->akid);
  if (rc) return rc;
  rc = config ? config_get(path, "aws_secret_access_key", &c->secret)
              : conf_toml(path, profile(), NULL, NULL,
                          "aws_secret_access_key", &c->secret);
  if (rc < 0) return -1;
  if (rc) return error("profile '%s' in '%s' has aws_access_key_id but no "
                       "aws_secret_access_key", profile(), path);
  if (config) config_get(path, "aws_session_token", &c->token);
  else conf_toml(path, profile(), NULL, NULL, "aws_session_token", &c->token);
  return 0;
}

static int from_files(struct aws_cred *c)
{
  char *cred = conf_path("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
  char *cfg = conf_path("AWS_CONFIG_FILE", ".aws/config"), *proc = NULL;
  int rc;

  if ((rc = file_keys(c, cred, 0)) == 1 && (rc = file_keys(c, cfg, 1)) == 1) {
    rc = config_get(cfg, "credential_process", &proc);
    if (rc == 0) rc = run_process(c, proc, cfg);
    else if (rc == 1)
      rc = error("no credentials: set AWS_ACCESS_KEY_ID and "
                 "AWS_SECRET_ACCESS_KEY, or give profile '%s' keys in '%s' "
                 "or a credential_process in '%s'", profile(), cred, cfg);
  }
  auth_wipe(&proc);
  free(cred);
  free(cfg);
  return rc;
}

int aws_cred_load(struct aws_cred *c)
{
  const char *id = getenv("AWS_ACCESS_KEY_ID");
  const char *sec = getenv("AWS_SECRET_ACCESS_KEY");
  const char *tok = getenv("AWS_SESSION_TOKEN"), *r;

  memset(c, 0, sizeof(*c));
  if ((id && *id) || (sec && *sec)) {
    if (!id || !*id)
      return error("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID "
                   "is not");
    if (!sec || !*sec)
      return error("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY "
                   "is not");
    c->akid = xstrdup(id);
    c->secret = xstrdup(sec);
    if (tok && *tok) c->token = xstrdup(tok);
  } else if (from_files(c) < 0) {
    aws_cred_clear(c);
    return -1;
  }
  if ((r = aws_cred_region())) c->region = xstrdup(r);
  return 0;
}

/* SigV4 for one attempt: host, content-type and x-amz-date signed. */
int aws_sign_req(const struct aws_cred *cred, struct http *h,
                 const char *method, const char *url, const char *body,
                 const char *region)
{
  const char *hs = strstr(url, "://"), *pe;
  char *hdr[3], *path, *query;
  struct sigv4 s = { 0 };
  int i, rc;

  if (!hs) return error("bad URL");
  hs += 3;
  pe = hs + strcspn(hs, "/?");
  hdr[0] = xasprintf("host:%.*s", (int)(pe - hs), hs);
  hdr[1] = xstrdup("content-type:application/x-www-form-urlencoded; "
                   "charset=utf-8");
  hdr[2] = NULL;
  path = xstrndup(*pe == '/' ? pe : "/", strcspn(*pe == '/' ? pe : "/", "?"));
  query = strchr(pe, '?') ? xstrdup(strchr(pe, '?') + 1) : NULL;
  s.method = method;
  s.path = path;
  s.query = query;
  s.headers = (const char *const *)hdr;
  s.body = body;
  s.bodylen = body ? strlen(body) : 0;
  s.akid = cred->akid;
  s.secret = cred->secret;
  s.token = cred->token;
  s.region = region;
  s.service = "ec2";
  s.when = time(NULL);
  s.flags = SIGV4_NORMALIZE;
  rc = sigv4_sign(&s);
  for (i = 0; rc == 0 && s.add[i]; i++) {
    char *c = strchr(s.add[i], ':');
    *c = 0;
    http_sign_header(h, s.add[i], c + 1, !strcmp(s.add[i], "Authorization")
                     || !strcmp(s.add[i], "X-Amz-Security-Token"));
  }
  sigv4_release(&s);
  free(hdr[0]);
  free(hdr[1]);
  free(path);
  free(query);
  return rc;
}
