/* tests/unit/test_hostkey.c - lib/ssh/hostkey.c against OpenSSH itself: the
 * private key we write must load in ssh-keygen, give back our public line
 * (-y) and our fingerprint (-l). */
#include "unit.h"

/* First line of a shell command's stdout, or "" (static buffer). */
static const char *sh1(const char *cmd)
{
  static char out[1024];
  FILE *f = popen(cmd, "r");

  out[0] = 0;
  if (!f) return out;
  if (!fgets(out, sizeof(out), f)) out[0] = 0;
  pclose(f);
  out[strcspn(out, "\n")] = 0;
  return out;
}

static void check_with_ssh_keygen(const char *comment)
{
  char dir[] = "/tmp/hostkey.XXXXXX", path[64], cmd[256], want[128];
  struct hostkey k;
  int fd;

  ASSERT_INT_EQ(hostkey_generate(&k, comment), 0);
  ASSERT_TRUE(mkdtemp(dir) != NULL);
  snprintf(path, sizeof(path), "%s/key", dir);
  fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
  ASSERT_TRUE(fd >= 0);
  ASSERT_INT_EQ(writeall(fd, k.priv, k.privlen), 0);
  close(fd);
  snprintf(cmd, sizeof(cmd), "ssh-keygen -y -f %s 2>&1", path);
  ASSERT_STR_EQ(sh1(cmd), k.pub);
  snprintf(cmd, sizeof(cmd), "ssh-keygen -l -f %s 2>&1", path);
  /* ssh-keygen prints an empty comment as an empty field */
  snprintf(want, sizeof(want), "256 %s %s (ED25519)", k.fp, comment);
  ASSERT_STR_EQ(sh1(cmd), want);
  unlink(path);
  rmdir(dir);
  hostkey_clear(&k);
  ASSERT_NULL(k.priv);
}

static void test_hostkey(void)
{
  static const char *const bad[] = {
    "", "ssh-ed25519", "ssh-ed25519 !!!!", "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAA",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5", "-----BEGIN OPENSSH PRIVATE KEY-----",
  };
  struct hostkey k, k2;
  char fp[64];
  size_t i;

  if (system("command -v ssh-keygen >/dev/null 2>&1")) {
    printf("SKIP hostkey: no ssh-keygen\n");
    return;
  }
  TEST_START("hostkey: ssh-keygen loads our key, same public line and fp");
  check_with_ssh_keygen("mvm-eph-20261122-abc123");
  TEST_DONE();

  TEST_START("hostkey: empty comment");
  check_with_ssh_keygen("");
  TEST_DONE();

  TEST_START("hostkey: fingerprint of the public line matches");
  ASSERT_INT_EQ(hostkey_generate(&k, "x"), 0);
  ASSERT_INT_EQ(hostkey_pub_fingerprint(k.pub, fp, sizeof(fp)), 0);
  ASSERT_STR_EQ(fp, k.fp);
  ASSERT_INT_EQ(strncmp(k.priv, "-----BEGIN OPENSSH PRIVATE KEY-----\n", 36),
                0);
  ASSERT_INT_EQ(hostkey_generate(&k2, "x"), 0);
  ASSERT_TRUE(strcmp(k.fp, k2.fp) != 0);       /* a new key each time */
  hostkey_clear(&k);
  hostkey_clear(&k2);
  TEST_DONE();

  TEST_START("hostkey: a known key's fingerprint (ssh-keygen -l)");
  ASSERT_INT_EQ(hostkey_pub_fingerprint("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA"
      "IOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl", fp, sizeof(fp)), 0);
  ASSERT_STR_EQ(fp, "SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU");
  TEST_DONE();

  TEST_START("hostkey: malformed public lines are refused");
  for (i = 0; i < ARRAY_LEN(bad); i++)
    if (hostkey_pub_fingerprint(bad[i], fp, sizeof(fp)) != -1)
      UNIT_FAIL("accepted '%s'", bad[i]);
  ASSERT_INT_EQ(hostkey_generate(&k, "x"), 0);
  k.pub[4] = 'X';                   /* type no longer matches the blob */
  ASSERT_INT_EQ(hostkey_pub_fingerprint(k.pub, fp, sizeof(fp)), -1);
  hostkey_clear(&k);
  TEST_DONE();
}
UNIT_REGISTER(test_hostkey)
