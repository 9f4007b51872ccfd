/* tests/unit/test_ssh.c - lib/ssh*.c: quoting, fingerprints and options
 * always; against a real sshd (tests/ssh.test sets MVM_TEST_SSHD_ADDR,
 * _USER, _KEY, _FP) also sessions, exit codes, the no-deadlock write,
 * output limits and atomic uploads. */
#include "unit.h"
#include "ssh/sshint.h"   /* the session's internals under test */

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

static void put_file(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");

  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

/* Public keys given as -i, ~/.ssh/config, the server's KEXINIT. */
static void test_ssh_inputs(void)
{
  static const struct { const char *text; int pub; } k[] = {
    { "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA x@y\n", 1 },
    { "ecdsa-sha2-nistp256 AAAAE2VjZHNh\n", 1 },
    { "sk-ssh-ed25519@openssh.com AAAAGnNr\n", 1 },
    { "-----BEGIN PUBLIC KEY-----\nMCow\n", 1 },
    { "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n", 0 },
    { "ssh-ed25519 not base64\n", 0 }, { "", 0 },
  };
  char dir[] = "/tmp/mvm-test-ssh.XXXXXX", path[PATH_MAX], *home;
  const char *save = getenv("HOME");
  struct sshconf c;
  struct ssh s;
  unsigned char *p;
  size_t i;

  if (!mkdtemp(dir)) return;
  snprintf(path, sizeof(path), "%s/key", dir);
  TEST_START("ssh_pubkey_file tells a public key from a private one");
  for (i = 0; i < ARRAY_LEN(k); i++) {
    put_file(path, k[i].text);
    ASSERT_INT_EQ(ssh_pubkey_file(path), k[i].pub);
  }
  ASSERT_INT_EQ(ssh_pubkey_file("/nonexistent/key"), 0);
  TEST_DONE();

  home = xstrdup(save ? save : "");
  setenv("HOME", dir, 1);
  snprintf(path, sizeof(path), "%s/.ssh", dir);
  mkdir(path, 0700);
  snprintf(path, sizeof(path), "%s/.ssh/config", dir);
  TEST_START("sshconf_lookup: patterns, first value wins, tokens");
  ASSERT_INT_EQ(sshconf_lookup("web1", &c), 0);         /* no file */
  ASSERT_TRUE(!*c.hostname && !*c.user && !c.port && !*c.identity);
  put_file(path, "# comment\n"
           "Host web? !web9\n  HostName %h.example.com\n  Port=2222\n"
           "Host *.EXAMPLE.com web*\n  User alice\n  Port 1\n"
           "  IdentityFile ~/.ssh/id_%h\n"
           "Match host web1\n  User mallory\n"
           "Host *\n  User bob\n  HostName other\n");
  ASSERT_INT_EQ(sshconf_lookup("web1", &c), 0);
  ASSERT_STR_EQ(c.hostname, "web1.example.com");
  ASSERT_INT_EQ(c.port, 2222);
  ASSERT_STR_EQ(c.user, "alice");
  snprintf(path, sizeof(path), "%s/.ssh/id_web1.example.com", dir);
  ASSERT_STR_EQ(c.identity, path);
  ASSERT_INT_EQ(sshconf_lookup("web9", &c), 0);         /* negated */
  ASSERT_STR_EQ(c.hostname, "other");
  ASSERT_INT_EQ(c.port, 1);
  ASSERT_INT_EQ(sshconf_lookup("web12", &c), 0);        /* ? is one */
  ASSERT_STR_EQ(c.hostname, "other");
  ASSERT_INT_EQ(sshconf_lookup("db.example.com", &c), 0);
  ASSERT_STR_EQ(c.user, "alice");
  TEST_DONE();

  TEST_START("sshconf_lookup: a bad Port, a ProxyJump, a bad token fail");
  snprintf(path, sizeof(path), "%s/.ssh/config", dir);
  put_file(path, "Host a\n Port 0\nHost b\n ProxyJump j\n"
           "Host c\n ProxyJump none\n IdentityFile %r\nHost d\n User x\n");
  ASSERT_INT_EQ(sshconf_lookup("a", &c), -1);
  ASSERT_TRUE(strstr(mvm.err, "bad Port") != NULL);
  ASSERT_INT_EQ(sshconf_lookup("b", &c), -1);
  ASSERT_TRUE(strstr(mvm.err, "ProxyJump") != NULL);
  ASSERT_INT_EQ(sshconf_lookup("c", &c), -1);
  ASSERT_TRUE(strstr(mvm.err, "%r") != NULL);
  ASSERT_INT_EQ(sshconf_lookup("d", &c), 0);
  ASSERT_STR_EQ(c.user, "x");
  TEST_DONE();
  setenv("HOME", home, 1);
  free(home);
  unlink(path);
  snprintf(path, sizeof(path), "%s/.ssh", dir);
  rmdir(path);
  snprintf(path, sizeof(path), "%s/key", dir);
  unlink(path);
  rmdir(dir);

  /* banner, then one packet: length, padding length, KEXINIT (20),
   * cookie, kex_algorithms, server_host_key_algorithms, ... */
  TEST_START("ssh__server_hostkeys reads the server's KEXINIT");
  memset(&s, 0, sizeof(s));
  p = s.tap;
  p += sprintf((char *)p, "SSH-2.0-test\r\n");
  memcpy(p, "\0\0\0\x40\x04\x14", 6);
  p += 6 + 16;
  memcpy(p, "\0\0\0\x04kex1\0\0\0\x18rsa-sha2-512,ssh-ed25519", 36);
  s.taplen = 14 + 4 + 0x40;             /* banner + the whole packet */
  {
    char algs[64];

    ASSERT_INT_EQ(ssh__server_hostkeys(&s, algs, sizeof(algs)), 0);
    ASSERT_STR_EQ(algs, "rsa-sha2-512,ssh-ed25519");
    s.taplen = 30;                      /* cut short: not seen */
    ASSERT_INT_EQ(ssh__server_hostkeys(&s, algs, sizeof(algs)), -1);
  }
  TEST_DONE();
}
UNIT_REGISTER(test_ssh_inputs)

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
