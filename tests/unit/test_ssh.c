/* tests/unit/test_ssh.c - lib/ssh*.c: quoting, fingerprints and options
 * always; against a real sshd (tests/ssh.test sets MVM_TEST_SSHD_ADDR,
 * _USER, _KEY, _FP) also sessions, exit codes, the no-deadlock write,
 * output limits and atomic uploads. */
#include "unit.h"

static void test_ssh_offline(void)
{
  static const struct { const char *in, *want; } q[] = {
    { "", "''" }, { "abc", "'abc'" }, { "a b", "'a b'" },
    { "it's", "'it'\\''s'" }, { "'", "''\\'''" }, { "$(x)`y`", "'$(x)`y`'" },
  };
  unsigned char h[32];
  char fp[64], *s;
  struct ssh_opts o = { 0 };
  int jobs = 0;
  size_t i;

  TEST_START("sh_quote");
  for (i = 0; i < ARRAY_LEN(q); i++) {
    s = sh_quote(q[i].in);
    ASSERT_STR_EQ(s, q[i].want);
    free(s);
  }
  TEST_DONE();

  TEST_START("fingerprint as ssh-keygen -l");
  for (i = 0; i < 32; i++) h[i] = i;
  ssh__fingerprint(h, fp, sizeof(fp));
  ASSERT_STR_EQ(fp, "SHA256:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8");
  memset(h, 255, sizeof(h));
  ssh__fingerprint(h, fp, sizeof(fp));
  ASSERT_STR_EQ(fp, "SHA256://////////////////////////////////////////8");
  TEST_DONE();

  TEST_START("ssh_common_opt");
  ASSERT_INT_EQ(ssh_common_opt('t', "90", &o, &jobs), 1);
  ASSERT_INT_EQ(o.timeout, 90);
  ssh_common_opt('t', "20m", &o, &jobs);
  ASSERT_INT_EQ(o.timeout, 1200);
  ssh_common_opt('t', "2h", &o, &jobs);
  ASSERT_INT_EQ(o.timeout, 7200);
  ASSERT_INT_EQ(ssh_common_opt('j', "5", &o, &jobs), 1);
  ASSERT_INT_EQ(jobs, 5);
  ASSERT_INT_EQ(ssh_common_opt('j', "5", &o, NULL), 0);
  ASSERT_INT_EQ(ssh_common_opt('u', "alice", &o, &jobs), 1);
  ASSERT_STR_EQ(o.user, "alice");
  ASSERT_INT_EQ(ssh_common_opt('x', "y", &o, &jobs), 0);
  TEST_DONE();
}
UNIT_REGISTER(test_ssh_offline)

/* A command that reads n bytes and writes them back on stdout and
 * stderr: with a full window both ways a blocking writer deadlocks. */
static void live_echo(struct ssh *s, size_t n)
{
  struct ssh_chan *c;
  char *buf = xmalloc(n), *out = NULL;
  size_t len = 0, i;
  int save = mvm.quiet;

  for (i = 0; i < n; i++) buf[i] = 'a' + i % 26;
  mvm.quiet = 1;      /* the stderr copy is relayed: keep it quiet */
  c = ssh_chan_open(s, "tee /dev/stderr");
  ASSERT_TRUE(c != NULL);
  if (c) {
    ASSERT_INT_EQ(ssh_chan_write(c, buf, n), 0);
    ASSERT_INT_EQ(ssh_chan_finish(c, &out, &len, n), 0);
    ASSERT_INT_EQ(len, n);
    ASSERT_TRUE(out && !memcmp(out, buf, n));
  }
  mvm.quiet = save;
  free(out);
  free(buf);
}

static void test_ssh_live(void)
{
  const char *addr = getenv("MVM_TEST_SSHD_ADDR");
  const char *fp = getenv("MVM_TEST_SSHD_FP");
  struct ssh_opts o = { .identity = getenv("MVM_TEST_SSHD_KEY"),
                        .user = getenv("MVM_TEST_SSHD_USER"), .timeout = 5 };
  struct ssh *s;
  struct rec r;
  char *out = NULL, path[PATH_MAX], *cmd;
  size_t len;

  if (!addr || !fp || !o.identity || !o.user) return;
  rec_new(&r, addr);
  TEST_START("ssh_open: TOFU sets hostkey=");
  s = ssh_open(&r, &o);
  ASSERT_TRUE(s != NULL);
  ASSERT_STR_EQ(rec_get(&r, "hostkey"), fp);
  TEST_DONE();
  if (!s) return;

  TEST_START("ssh_run: output and exit status");
  ASSERT_INT_EQ(ssh_run(s, "printf 'a\\nb'; exit 3", &out, &len, 100), 3);
  ASSERT_STR_EQ(out, "a\nb");
  ASSERT_INT_EQ(len, 3);
  free(out);
  ASSERT_INT_EQ(ssh_run(s, "true", NULL, NULL, 0), 0);
  ASSERT_INT_EQ(ssh_run(s, "kill -9 $$", NULL, NULL, 0), 255);
  ASSERT_INT_EQ(ssh_run(s, "head -c 1000 /dev/zero", &out, &len, 999), -1);
  ASSERT_NULL(out);
  ASSERT_TRUE(strstr(mvm.err, "larger") != NULL);
  TEST_DONE();

  TEST_START("ssh_chan_write: 8 MiB both ways, no deadlock");
  live_echo(s, 8u << 20);
  TEST_DONE();

  TEST_START("ssh_put: atomic, with mode");
  snprintf(path, sizeof(path), "/tmp/mvm-put-test.%d", (int)getpid());
  ASSERT_INT_EQ(ssh_put(s, path, "hello\n", 6, 0640), 0);
  cmd = xasprintf("stat -c %%a:%%s %s; cat %s; rm -f %s", path, path, path);
  ASSERT_INT_EQ(ssh_run(s, cmd, &out, &len, 100), 0);
  ASSERT_STR_EQ(out, "640:6\nhello\n");
  free(out);
  free(cmd);
  ASSERT_INT_EQ(ssh_put(s, "/nonexistent-dir/x", "x", 1, 0644), -1);
  TEST_DONE();

  ssh_close(s);
  TEST_START("ssh_open: a pinned key that differs is refused");
  rec_set(&r, "hostkey", "SHA256:AAAA");
  mvm.quiet = 1;
  ASSERT_NULL(ssh_open(&r, &o));
  ASSERT_STR_EQ(mvm.err, "host key mismatch");
  TEST_DONE();

  TEST_START("ssh_open: an empty hostkey= is refused, not trusted");
  rec_set(&r, "hostkey", "%s", "");
  s = ssh_open(&r, &o);
  ASSERT_NULL(s);
  ssh_close(s);
  ASSERT_TRUE(!strncmp(mvm.err, "empty hostkey pin", 17));
  ASSERT_STR_EQ(rec_get(&r, "hostkey"), "");
  TEST_DONE();
  rec_release(&r);
}
UNIT_REGISTER(test_ssh_live)
