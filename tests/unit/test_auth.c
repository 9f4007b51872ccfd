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
  setenv("AWS_DEFAULT_REGION", "ca-central-1", 1);
  aws_ok("aws: AWS_DEFAULT_REGION over the profile", "AKIDDEV", "devsecret",
         "devtoken", "ca-central-1");
  unsetenv("AWS_DEFAULT_REGION");

  p = xasprintf("[profile proc]\nregion = sa-east-1\ncredential_process = "
                "sh %s/proc.sh arg\n[profile bad]\ncredential_process = "
                "false\n[profile half]\naws_access_key_id = X\n", home);
  put(".aws/config", p, 0600);
  free(p);
  put("proc.sh", "[ \"$1\" = arg ] || exit 3\nprintf '{\"Version\": 1, "
      "\"AccessKeyId\": \"AKIDPROC\", \"SecretAccessKey\": \"procsecret\", "
      "\"SessionToken\": \"proctoken\", \"Expiration\": "
      "\"2030-01-01T00:00:00Z\"}'\n", 0700);
  setenv("AWS_PROFILE", "proc", 1);
  aws_ok("aws: credential_process", "AKIDPROC", "procsecret", "proctoken",
         "sa-east-1");
  setenv("AWS_PROFILE", "bad", 1);
  aws_bad("aws: credential_process fails",
          "credential_process of profile 'bad' in '");
  setenv("AWS_PROFILE", "half", 1);
  aws_bad("aws: key without secret", "profile 'half' in '");
  setenv("AWS_PROFILE", "nosuch", 1);
  aws_bad("aws: unknown profile", "profile 'nosuch' keys in '");
  clean_env();
}

static void test_auth(void)
{
  char *old = getenv("HOME") ? xstrdup(getenv("HOME")) : NULL;
  char *cmd;

  if (!mkdtemp(home)) return;
  test_aws();
  cmd = xasprintf("rm -rf '%s'", home);
  if (system(cmd)) warn("cannot remove %s", home);
  free(cmd);
  if (old) setenv("HOME", old, 1);
  free(old);
}
UNIT_REGISTER(test_auth)
