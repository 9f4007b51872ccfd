/* tests/unit/test_auth.c - the credential readers of providers/auth.h in a
 * scratch HOME: the aws CLI's order (environment, ~/.aws/credentials,
 * ~/.aws/config with region and credential_process), and one clear error
 * naming the variable or file when something is missing or bad. */
#include "unit.h"
#include "auth.h"

static char home[] = "/tmp/mvm-auth-XXXXXX";

static void put(const char *rel, const char *text, mode_t mode)
{
  char *p = xasprintf("%s/%s", home, rel), *d = xstrdup(p);
  int fd;

  *strrchr(d, '/') = 0;
  mkdir(d, 0700);
  fd = xopen(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
  xwriteall(fd, text, strlen(text));
  xclose(fd);
  free(p);
  free(d);
}

static void clean_env(void)
{
  static const char *const v[] = { "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
    "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE" };
  size_t i;

  for (i = 0; i < ARRAY_LEN(v); i++) unsetenv(v[i]);
  setenv("HOME", home, 1);
}

static void aws_ok(const char *name, const char *akid, const char *secret,
                   const char *token, const char *region)
{
  struct aws_cred c;
  int rc;

  TEST_START(name);
  rc = aws_cred_load(&c);
  if (rc) UNIT_FAIL("aws_cred_load: %s", mvm.err);
  else {
    ASSERT_STR_EQ(c.akid, akid);
    ASSERT_STR_EQ(c.secret, secret);
    if (token) ASSERT_STR_EQ(c.token, token);
    else ASSERT_NULL(c.token);
    if (region) ASSERT_STR_EQ(c.region, region);
    else ASSERT_NULL(c.region);
  }
  aws_cred_clear(&c);
  TEST_DONE();
}

static void aws_bad(const char *name, const char *want)
{
  struct aws_cred c;

  TEST_START(name);
  ASSERT_INT_EQ(aws_cred_load(&c), -1);
  if (!strstr(mvm.err, want))
    UNIT_FAIL("mvm.err \"%s\", want \"%s\"", mvm.err, want);
  ASSERT_TRUE(!strchr(mvm.err, '\n'));
  TEST_DONE();
}

static void test_aws(void)
{
  char *p;

  clean_env();
  aws_bad("aws: nothing set", "no credentials: set AWS_ACCESS_KEY_ID and "
          "AWS_SECRET_ACCESS_KEY, or give profile 'default' keys in '");
  setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
  aws_bad("aws: half the env", "AWS_ACCESS_KEY_ID is set but "
          "AWS_SECRET_ACCESS_KEY is not");
  setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
  setenv("AWS_SESSION_TOKEN", "envtoken", 1);
  setenv("AWS_REGION", "eu-west-1", 1);
  put(".aws/credentials", "[default]\naws_access_key_id = AKIDFILE\n"
      "aws_secret_access_key = filesecret\n", 0600);
  aws_ok("aws: env wins over files", "AKIDENV", "envsecret", "envtoken",
         "eu-west-1");
  clean_env();
  aws_ok("aws: default profile", "AKIDFILE", "filesecret", NULL, NULL);
  put(".aws/credentials", "[default]\naws_access_key_id = AKIDFILE\n"
      "aws_secret_access_key = filesecret\n\n[dev]\n"
      "aws_access_key_id=AKIDDEV\naws_secret_access_key=devsecret\n"
      "aws_session_token=devtoken\n", 0600);
  put(".aws/config", "[default]\nregion = us-west-2\n\n[profile dev]\n"
      "region = ap-south-1\n", 0600);
  setenv("AWS_PROFILE", "dev", 1);
  aws_ok("aws: AWS_PROFILE and its region", "AKIDDEV", "devsecret",
         "devtoken", "ap-south-1");
  {
    /* provision keeps the default region's pointer while the credentials
     * are read again: it must stay valid (ASan saw it freed) */
    const char *r = aws_cred_region();
    struct aws_cred c;
    TEST_START("aws: the region pointer outlives a credential load");
    ASSERT_INT_EQ(aws_cred_load(&c), 0);
    ASSERT_STR_EQ(r, "ap-south-1");
    aws_cred_clear(&c);
    TEST_DONE();
  }
  setenv("AWS_DEFAULT_REGION", "ca-central-1", 1);
  aws_ok("aws: AWS_DEFAULT_REGION over the profile", "AKIDDEV", "devsecret",
         "devtoken", "ca-central-1");
  unsetenv("AWS_DEFAULT_REGION");

  p = xasprintf("[profile proc]\nregion = sa-east-1\ncredential_process = "
                "sh %s/proc.sh arg\n[profile bad]\ncredential_process = "
                "false\n[profile half]\naws_access_key_id = X\n[profile says]\n"
                "credential_process = echo run aws sso login >&2; exit 2\n",
                home);
  put(".aws/config", p, 0600);
  free(p);
  /* stdin is /dev/null (ours may be the record stream): cat ends */
  put("proc.sh", "[ \"$1\" = arg ] || exit 3\nx=$(cat) || exit 5\n"
      "[ -z \"$x\" ] || exit 4\nprintf '{\"Version\": 1, "
      "\"AccessKeyId\": \"AKIDPROC\", \"SecretAccessKey\": \"procsecret\", "
      "\"SessionToken\": \"proctoken\", \"Expiration\": "
      "\"2030-01-01T00:00:00Z\"}'\n", 0700);
  setenv("AWS_PROFILE", "proc", 1);
  aws_ok("aws: credential_process", "AKIDPROC", "procsecret", "proctoken",
         "sa-east-1");
  {
    /* with our stdin closed (capture_run's pipes then take fd 0), the
     * helper still reads /dev/null, not a closed or foreign stdin; the
     * fd-0 case itself: test_local.c's closed-stdin spawn */
    int keep = dup(0);

    close(0);
    aws_ok("aws: credential_process, our stdin closed", "AKIDPROC",
           "procsecret", "proctoken", "sa-east-1");
    dup2(keep, 0);
    close(keep);
  }
  setenv("AWS_PROFILE", "bad", 1);
  aws_bad("aws: credential_process fails",
          "credential_process of profile 'bad' in '");
  setenv("AWS_PROFILE", "says", 1);
  aws_bad("aws: credential_process fails: its stderr's first line told",
          "failed (status 2): run aws sso login");
  setenv("AWS_PROFILE", "half", 1);
  aws_bad("aws: key without secret", "profile 'half' in '");
  setenv("AWS_PROFILE", "nosuch", 1);
  aws_bad("aws: unknown profile", "profile 'nosuch' keys in '");
  clean_env();
}

static void bad(const char *name, int rc, const char *want)
{
  TEST_START(name);
  ASSERT_INT_EQ(rc, -1);
  if (!strstr(mvm.err, want))
    UNIT_FAIL("mvm.err \"%s\", want \"%s\"", mvm.err, want);
  TEST_DONE();
}

static void test_gcp(void)
{
  struct gcp_cred g;
  char *p = xasprintf("%s/sa.json", home);
  int rc;

  unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
  unsetenv("CLOUDSDK_CORE_PROJECT");
  unsetenv("GOOGLE_CLOUD_PROJECT");
  unsetenv("CLOUDSDK_CONFIG");
  /* Never a real metadata server, even on a GCE VM: a closed port. */
  setenv("GCE_METADATA_HOST", "127.0.0.1:9", 1);
  setenv("MVM_HTTP_BACKOFF", "0.01", 1);
  rc = gcp_cred_load(&g);
  unsetenv("MVM_HTTP_BACKOFF");
  bad("gcp: nothing", rc, "no credentials: set "
      "GOOGLE_APPLICATION_CREDENTIALS to a service account key file, or run "
      "gcloud auth application-default login (no '");
  bad("gcp: nothing, no metadata server", rc,
      "application_default_credentials.json'; no metadata server at "
      "127.0.0.1:9)");
  gcp_cred_clear(&g);
  setenv("GCE_METADATA_HOST", "http://x/", 1);
  bad("gcp: GCE_METADATA_HOST not a host", gcp_cred_load(&g),
      "GCE_METADATA_HOST is not a host[:port])");
  gcp_cred_clear(&g);
  setenv("GCE_METADATA_HOST", "127.0.0.1:9", 1);
  setenv("GOOGLE_APPLICATION_CREDENTIALS", p, 1);
  put("sa.json", "{\"type\": \"service_account\", \"private_key\": \"k\"}",
      0600);
  bad("gcp: service account without its email", gcp_cred_load(&g),
      "sa.json': service_account credentials without \"client_email\"");
  gcp_cred_clear(&g);
  put("sa.json", "{\"type\": \"external_account\"}", 0600);
  bad("gcp: unsupported type", gcp_cred_load(&g), "credentials of type "
      "'external_account' are not supported");
  gcp_cred_clear(&g);
  put("sa.json", "{\"type\": \"service_account\", \"private_key\": \"k\", "
      "\"client_email\": \"a@b\"}", 0600);
  bad("gcp: no project", gcp_cred_load(&g), "no project: set "
      "CLOUDSDK_CORE_PROJECT (none in '");
  gcp_cred_clear(&g);
  put("sa.json", "{\"type\": \"service_account\", \"private_key\": \"k\", "
      "\"client_email\": \"a@b\", \"project_id\": \"p1\"}", 0600);
  TEST_START("gcp: project from the key file, default token_uri");
  ASSERT_INT_EQ(gcp_cred_load(&g), 0);
  ASSERT_STR_EQ(g.project, "p1");
  ASSERT_STR_EQ(g.token_uri, "https://oauth2.googleapis.com/token");
  gcp_cred_clear(&g);
  TEST_DONE();
  put("sa.json", "{\"type\": ", 0600);
  bad("gcp: malformed file", gcp_cred_load(&g), "sa.json': malformed JSON");
  gcp_cred_clear(&g);
  unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
  free(p);
  p = xasprintf("%s/gc", home);
  setenv("CLOUDSDK_CONFIG", p, 1);
  setenv("CLOUDSDK_CORE_PROJECT", "p2", 1);
  put("gc/application_default_credentials.json", "{\"type\": "
      "\"authorized_user\", \"client_id\": \"c\", \"client_secret\": \"s\", "
      "\"refresh_token\": \"r\", \"quota_project_id\": \"q\"}", 0600);
  TEST_START("gcp: ADC under CLOUDSDK_CONFIG, CLOUDSDK_CORE_PROJECT wins");
  ASSERT_INT_EQ(gcp_cred_load(&g), 0);
  ASSERT_STR_EQ(g.type, "authorized_user");
  ASSERT_STR_EQ(g.refresh, "r");
  ASSERT_STR_EQ(g.project, "p2");
  gcp_cred_clear(&g);
  TEST_DONE();
  unsetenv("CLOUDSDK_CONFIG");
  unsetenv("CLOUDSDK_CORE_PROJECT");
  free(p);
}

static void test_azure_ovh(void)
{
  struct azure_cred a;
  struct ovh_cred o;
  char *old;

  setenv("AZURE_CLIENT_ID", "c", 1);
  setenv("AZURE_CLIENT_SECRET", "s", 1);
  unsetenv("AZURE_TENANT_ID");
  setenv("AZURE_SUBSCRIPTION_ID", "sub", 1);
  /* A service principal short of a variable, and no az on PATH. */
  old = getenv("PATH") ? xstrdup(getenv("PATH")) : NULL;
  setenv("PATH", home, 1);
  ASSERT_INT_EQ(azure_cred_load(&a), 0);
  bad("azure: a variable missing, no az", azure_token(&a),
      "no credentials: AZURE_TENANT_ID is not set");
  azure_cred_clear(&a);
  if (old) setenv("PATH", old, 1);
  free(old);
  setenv("AZURE_TENANT_ID", "t/../x", 1);
  bad("azure: a tenant that is not one", azure_cred_load(&a),
      "AZURE_TENANT_ID: not a tenant id");
  azure_cred_clear(&a);
  unsetenv("AZURE_CLIENT_ID");
  unsetenv("AZURE_CLIENT_SECRET");
  unsetenv("AZURE_TENANT_ID");
  unsetenv("AZURE_SUBSCRIPTION_ID");

  setenv("OVH_ENDPOINT", "ovh-ca", 1);
  setenv("OVH_APPLICATION_KEY", "ak", 1);
  setenv("OVH_APPLICATION_SECRET", "as", 1);
  setenv("OVH_CLOUD_PROJECT_SERVICE", "p", 1);
  put(".ovh.conf", "[ovh-ca]\napplication_key=other\n", 0600);
  bad("ovh: consumer key in neither env nor file", ovh_cred_load(&o),
      "no credentials: OVH_CONSUMER_KEY is not set and '");
  put(".ovh.conf", "[ovh-ca]\nconsumer_key = ck\n", 0600);
  TEST_START("ovh: env keys, the file's consumer key, ca endpoint");
  ASSERT_INT_EQ(ovh_cred_load(&o), 0);
  ASSERT_STR_EQ(o.ak, "ak");
  ASSERT_STR_EQ(o.ck, "ck");
  ASSERT_STR_EQ(o.base, "https://ca.api.ovh.com/1.0");
  ovh_cred_clear(&o);
  TEST_DONE();
  setenv("OVH_ENDPOINT", "ovh-mars", 1);
  bad("ovh: unknown endpoint", ovh_cred_load(&o),
      "OVH_ENDPOINT: unknown endpoint 'ovh-mars'");
  unsetenv("OVH_ENDPOINT");
  unsetenv("OVH_APPLICATION_KEY");
  unsetenv("OVH_APPLICATION_SECRET");
  unsetenv("OVH_CLOUD_PROJECT_SERVICE");
}

static void test_auth(void)
{
  char *old = getenv("HOME") ? xstrdup(getenv("HOME")) : NULL;
  char *cmd;

  if (!mkdtemp(home)) return;
  test_aws();
  test_gcp();
  test_azure_ovh();
  cmd = xasprintf("rm -rf '%s'", home);
  if (system(cmd)) warn("cannot remove %s", home);
  free(cmd);
  if (old) setenv("HOME", old, 1);
  free(old);
}
UNIT_REGISTER(test_auth)
