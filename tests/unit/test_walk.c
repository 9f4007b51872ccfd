/* tests/unit/test_walk.c - lib/sync/walk.c: the local walk keeps nanoseconds
 * and the root open; manifest_open() refuses a file whose directory became a
 * symlink after the walk, and one replaced by another inode. */
#include "unit.h"

static char dir[] = "/tmp/mvm-test-walk.XXXXXX";

static void mk(const char *rel, const char *data)
{
  char *p = xasprintf("%s/%s", dir, rel);
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);

  xwriteall(fd, data, strlen(data));
  close(fd);
  free(p);
}

static char *at(const char *rel)
{
  static char p[512];

  snprintf(p, sizeof(p), "%s/%s", dir, rel);
  return p;
}

/* a second buffer, for the other argument of rename() */
static char *at2(const char *rel)
{
  static char p[512];

  snprintf(p, sizeof(p), "%s/%s", dir, rel);
  return p;
}

static void test_walk(void)
{
  struct timespec ts[2] = { { 0, UTIME_OMIT }, { 1600000000, 987654321 } };
  struct manifest m;
  struct ment *e;
  char buf[16], *cmd;
  int fd;

  TEST_START("manifest_walk: nanoseconds, links not followed, root kept");
  ASSERT_TRUE(mkdtemp(dir) != NULL);
  mkdir(at("t"), 0755);
  mkdir(at("t/a"), 0700);
  mkdir(at("secret"), 0700);
  mk("t/a/f", "mine");
  mk("t/g", "gee");
  mk("secret/f", "theirs");
  symlink("../secret", at("t/l"));
  utimensat(AT_FDCWD, at("t/a/f"), ts, 0);
  ASSERT_INT_EQ(manifest_walk(&m, at("t"), NULL, 0), 0);
  ASSERT_INT_EQ(m.n, 5);
  ASSERT_TRUE(m.fd >= 0);
  e = manifest_find(&m, "a/f");
  ASSERT_TRUE(e && e->mtime == 1600000000 && e->nsec == 987654321);
  e = manifest_find(&m, "l");
  ASSERT_TRUE(e && e->type == 'l' && !strcmp(e->link, "../secret"));
  ASSERT_NULL(manifest_find(&m, "l/f"));
  e = manifest_find(&m, "a/f");
  fd = manifest_open(&m, e);
  ASSERT_TRUE(fd >= 0 && read(fd, buf, 4) == 4 && !memcmp(buf, "mine", 4));
  if (fd >= 0) close(fd);
  TEST_DONE();

  TEST_START("manifest_open: a dir swapped for a symlink is refused");
  ASSERT_INT_EQ(rename(at("t/a"), at2("t/a.old")), 0);
  symlink("../secret", at("t/a"));
  ASSERT_INT_EQ(manifest_open(&m, e), -1);
  ASSERT_TRUE(strstr(mvm.err, "'a/f'") && strstr(mvm.err, "symlink"));
  TEST_DONE();

  TEST_START("manifest_open: a file replaced since the walk is refused");
  e = manifest_find(&m, "g");
  mk("t/g2", "new");          /* both exist at once: another inode */
  ASSERT_INT_EQ(rename(at("t/g2"), at2("t/g")), 0);
  ASSERT_INT_EQ(manifest_open(&m, e), -1);
  ASSERT_TRUE(strstr(mvm.err, "'g' was replaced") != NULL);
  manifest_release(&m);
  TEST_DONE();

  TEST_START("manifest_walk: a root that is no directory");
  ASSERT_INT_EQ(manifest_walk(&m, at("t/g"), NULL, 0), -1);
  ASSERT_TRUE(strstr(mvm.err, "is not a directory") != NULL);
  manifest_release(&m);
  cmd = xasprintf("rm -rf '%s'", dir);
  ASSERT_INT_EQ(system(cmd), 0);
  free(cmd);
  TEST_DONE();
}
UNIT_REGISTER(test_walk)
