/* tests/unit/test_sign.c - lib/crypto/sign.c: base64 (RFC 4648 vectors), the
 * percent-encoding, OVH's "$1$" signature against python3's hashlib run at
 * test time, and an RS256 JWT verified with `openssl dgst -verify` and the
 * public half of a key generated with `openssl genpkey` for the test. */
#include "unit.h"
#include <openssl/evp.h>

/* Run argv (no shell, stderr dropped), return its stdout without the trailing newline. */
static char *run_out(char *const argv[])
{
  int fd[2], st;
  char buf[4096];
  size_t n = 0;
  ssize_t r;
  pid_t pid;

  xpipe(fd);
  if (!(pid = xfork())) {
    int null = open("/dev/null", O_WRONLY);
    xdup2(fd[1], 1);
    if (null >= 0) xdup2(null, 2);
    close(fd[0]);
    execvp(argv[0], argv);
    _exit(127);
  }
  close(fd[1]);
  while (n < sizeof(buf) - 1 && (r = read(fd[0], buf + n,
                                          sizeof(buf) - 1 - n)) > 0)
    n += r;
  close(fd[0]);
  st = xwaitpid(pid);
  buf[n] = 0;
  while (n && buf[n - 1] == '\n') buf[--n] = 0;
  return st == 0 ? xstrdup(buf) : NULL;
}

static void test_b64(void)
{
  static const char *const v[][3] = {
    { "", "", "" }, { "f", "Zg==", "Zg" }, { "fo", "Zm8=", "Zm8" },
    { "foo", "Zm9v", "Zm9v" }, { "foob", "Zm9vYg==", "Zm9vYg" },
    { "fooba", "Zm9vYmE=", "Zm9vYmE" }, { "foobar", "Zm9vYmFy", "Zm9vYmFy" },
    { "\xfb\xff\xbf", "+/+/", "-_-_" },
  };
  size_t i;

  for (i = 0; i < ARRAY_LEN(v); i++) {
    char *a = b64_encode(v[i][0], strlen(v[i][0]));
    char *b = b64url_encode(v[i][0], strlen(v[i][0]));
    unsigned char back[8];
    long n = b64_decode(a, strlen(a), back, sizeof(back));
    TEST_START("base64");
    ASSERT_STR_EQ(a, v[i][1]);
    ASSERT_STR_EQ(b, v[i][2]);
    ASSERT_TRUE(n == (long)strlen(v[i][0]) && !memcmp(back, v[i][0], n));
    TEST_DONE();
    free(a);
    free(b);
  }
  TEST_START("base64 decoding refuses what is not base64");
  {
    static const char *const bad[] = { "Zg=", "Z===", "Zg=a", "Zm9v!A==",
                                       "-_-_", "Zm9vYg" };
    unsigned char out[16];
    for (i = 0; i < ARRAY_LEN(bad); i++)
      ASSERT_TRUE(b64_decode(bad[i], strlen(bad[i]), out, sizeof(out)) == -1);
    ASSERT_TRUE(b64_decode("Zm9vYmFy", 8, out, 5) == -1);   /* OUT too small */
  }
  TEST_DONE();
}

static void test_uri(void)
{
  struct buf b = { 0 };

  TEST_START("uri_encode");
  uri_encode(&b, "a b/c~d+e=f&\xe1\x88\xb4", 15, 0);
  ASSERT_STR_EQ(b.s, "a%20b%2Fc~d%2Be%3Df%26%E1%88%B4");
  free(b.s);
  b = (struct buf){ 0 };
  uri_encode(&b, "/x y/", 5, 1);
  ASSERT_STR_EQ(b.s, "/x%20y/");
  free(b.s);
  TEST_DONE();
}

static void test_ovh(void)
{
  static const char *const v[][5] = {
    { "EXAMPLESECRET", "MtSwSrPpNjqfVSmJhLbPyr2i45lSwPU1", "GET",
      "https://eu.api.ovh.com/1.0/cloud/project/abc/instance", "" },
    { "s3cr3t+with=odd/chars", "ck", "POST",
      "http://127.0.0.1:8080/1.0/cloud/project/p/instance?region=GRA7",
      "{\"name\":\"mvm-ephemeral-x-1\",\"flavorId\":\"f\"}" },
    { "a", "b", "DELETE", "http://127.0.0.1/1.0/cloud/project/p/instance/1",
      "" },
  };
  static const char py[] =
    "import hashlib,sys\n"
    "a=sys.argv[1:]\n"
    "print('$1$'+hashlib.sha1('+'.join(a).encode()).hexdigest())\n";
  size_t i;

  for (i = 0; i < ARRAY_LEN(v); i++) {
    char got[48], ts[] = "1457018875";
    char *argv[] = { "python3", "-c", (char *)py, (char *)v[i][0],
                     (char *)v[i][1], (char *)v[i][2], (char *)v[i][3],
                     (char *)v[i][4], ts, NULL };
    char *want = run_out(argv);

    TEST_START("ovh signature vs python3 hashlib");
    ovh_signature(v[i][0], v[i][1], v[i][2], v[i][3], v[i][4], 1457018875,
                  got);
    ASSERT_TRUE(want != NULL);
    ASSERT_STR_EQ(got, want);
    ASSERT_INT_EQ(strlen(got), 43);
    TEST_DONE();
    free(want);
  }
}

static char *b64url_decode(const char *s, size_t *len)
{
  size_t n = strlen(s), i;
  char *t = xmalloc(n + 4), *o = xmalloc(n + 4);
  long r;

  for (i = 0; i < n; i++)
    t[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
  while (i % 4) t[i++] = '=';
  t[i] = 0;
  r = b64_decode(t, i, (unsigned char *)o, n + 4);
  free(t);
  if (r < 0) { free(o); return NULL; }
  *len = r;
  o[r] = 0;
  return o;
}

static void test_jwt(void)
{
  char dir[] = "/tmp/mvm-jwt-XXXXXX", *key, *pub, *sigf, *inf, *pem, *jwt;
  char *gen[] = { "openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                  "rsa_keygen_bits:2048", "-out", NULL, NULL };
  const char *hdr = "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}";
  const char *cl = "{\"iss\":\"sa@p.iam.gserviceaccount.com\",\"iat\":1}";
  char *dot1, *dot2, *raw, *ok;
  size_t n;

  TEST_START("jwt rs256 verified by openssl");
  if (!mkdtemp(dir)) { UNIT_FAIL("mkdtemp: %s", strerror(errno)); return; }
  key = xasprintf("%s/k.pem", dir);
  pub = xasprintf("%s/pub.pem", dir);
  sigf = xasprintf("%s/sig", dir);
  inf = xasprintf("%s/in", dir);
  gen[7] = key;
  free(run_out(gen));
  pem = xreadfile(key, 1 << 16, NULL);
  {
    char *p[] = { "openssl", "pkey", "-in", key, "-pubout", "-out", pub,
                  NULL };
    free(run_out(p));
  }
  jwt = jwt_rs256(pem, hdr, cl);
  ASSERT_TRUE(jwt != NULL);
  dot1 = jwt ? strchr(jwt, '.') : NULL;
  dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
  ASSERT_TRUE(dot2 != NULL);
  if (dot2) {
    int fd;
    raw = b64url_decode(dot2 + 1, &n);
    fd = xopen(sigf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    xwriteall(fd, raw, n);
    xclose(fd);
    free(raw);
    fd = xopen(inf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    xwriteall(fd, jwt, dot2 - jwt);
    xclose(fd);
    *dot1 = 0;
    raw = b64url_decode(jwt, &n);
    ASSERT_STR_EQ(raw, hdr);
    free(raw);
    *dot2 = 0;
    raw = b64url_decode(dot1 + 1, &n);
    ASSERT_STR_EQ(raw, cl);
    free(raw);
    {
      char *v[] = { "openssl", "dgst", "-sha256", "-verify", pub,
                    "-signature", sigf, inf, NULL };
      ok = run_out(v);
      ASSERT_STR_EQ(ok, "Verified OK");
      free(ok);
      /* and a tampered input must not verify */
      fd = xopen(inf, O_WRONLY | O_APPEND, 0600);
      xwriteall(fd, "x", 1);
      xclose(fd);
      ok = run_out(v);
      ASSERT_NULL(ok);
      free(ok);
    }
  }
  free(jwt);
  ASSERT_NULL(jwt_rs256("not a key", hdr, cl));
  ASSERT_TRUE(strstr(mvm.err, "cannot read the private key") != NULL);
  TEST_DONE();
  freezero(pem, strlen(pem));
  unlink(key); unlink(pub); unlink(sigf); unlink(inf);
  rmdir(dir);
  free(key); free(pub); free(sigf); free(inf);
}

/* error() may be given mvm.err itself: "aws: describe images: 403 ..."
 * came out as "aws: aws: ibe images: ..." before it formatted via a copy. */
static void test_error_context(void)
{
  TEST_START("error() adding context to mvm.err");
  error("describe images: 403 SignatureDoesNotMatch");
  error("%s: %s", "aws", mvm.err);
  ASSERT_STR_EQ(mvm.err, "aws: describe images: 403 SignatureDoesNotMatch");
  TEST_DONE();
}

static void test_sign(void)
{
  test_error_context();
  test_b64();
  test_uri();
  test_ovh();
  test_jwt();
}
UNIT_REGISTER(test_sign)
