/* tests/unit/test_rate.c - lib/http/rate.c's shared bucket: a new bucket
 * starts slow (a quarter of the ceiling, its burst too), doubles at most
 * once a second of successes, and the first 429 cuts to what the API
 * took; a large documented burst (hetzner's) still opens wide; ten
 * idle minutes and it starts slow again. */
#include "unit.h"

UNIT_REGISTER(test_rate)

static double since(double t0)
{
  return now_s() - t0;
}

/* Wait for the first half of a wall-clock second: the successes the test
 * counts then fall in one second, as the bucket counts them. */
static void second_start(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  if (ts.tv_nsec > 400000000L) sleep_s(1.0 - ts.tv_nsec / 1e9 + 0.01);
}

/* Make the bucket file NAME of DIR look SECS older, as if nothing had
 * used it since: every wall-clock time in it (the doubles past 2001)
 * moved back; rates and counts are far smaller. */
static void age_bucket(const char *dir, const char *name, double secs)
{
  char p[PATH_MAX];
  double v[32];
  ssize_t n;
  int fd, i;

  snprintf(p, sizeof(p), "%s/%s", dir, name);
  ASSERT_TRUE((fd = open(p, O_RDWR)) >= 0);
  n = pread(fd, v, sizeof(v), 0);
  ASSERT_TRUE(n > 0 && n % (ssize_t)sizeof(double) == 0);
  for (i = 0; i < n / (ssize_t)sizeof(double); i++)
    if (v[i] > 1e9) v[i] -= secs;
  ASSERT_TRUE(pwrite(fd, v, n, 0) == n);
  close(fd);
}

static void test_rate(void)
{
  char dir[] = "/tmp/mvm-unit-rate.XXXXXX";
  double t0, r;
  int i;

  ASSERT_TRUE(mkdtemp(dir) != NULL);
  setenv("MVM_STATE_DIR", dir, 1);

  TEST_START("rate: a new bucket starts at a quarter of its ceiling");
  second_start();
  rate_take("ut-vultr", 20, 30);
  ASSERT_TRUE(rate_now("ut-vultr", 20, 30) == 5);
  /* Its burst is a quarter too: 7 go at once, not the ceiling's 30. */
  t0 = now_s();
  for (i = 0; i < 10; i++) rate_take("ut-vultr", 20, 30);
  ASSERT_TRUE(since(t0) > 0.3);
  TEST_DONE();

  TEST_START("rate: slow start doubles once a second, not per success");
  second_start();
  for (i = 0; i < 10; i++) rate_ok("ut-vultr", 20, 30);
  r = rate_now("ut-vultr", 20, 30);
  ASSERT_TRUE(r == 5 || r == 10);   /* 10: a second passed since the start */
  sleep_s(1.05);
  rate_ok("ut-vultr", 20, 30);
  ASSERT_TRUE(rate_now("ut-vultr", 20, 30) == 2 * r);
  TEST_DONE();

  TEST_START("rate: idle ten minutes, a bucket starts slow again");
  age_bucket(dir, "rate-ut-vultr", 660);
  rate_take("ut-vultr", 20, 30);
  ASSERT_TRUE(rate_now("ut-vultr", 20, 30) == 5);
  TEST_DONE();

  TEST_START("rate: the first 429 cuts to what the API took in a second");
  /* Sent at 5/s plus a burst, the API took 10: the limit is 9-10/s, not
   * a quarter below the slow start's rate. */
  rate_take("ut-slow", 20, 30);
  second_start();
  for (i = 0; i < 10; i++) rate_ok("ut-slow", 20, 30);
  rate_429("ut-slow", 0, 20, 30);
  r = rate_now("ut-slow", 20, 30);
  ASSERT_TRUE(r > 8.9 && r < 9.1);
  TEST_DONE();

  TEST_START("rate: a documented burst of 3,600 still opens with 20 at once");
  t0 = now_s();
  for (i = 0; i < 20; i++) rate_take("ut-hetzner", 1, 3600);
  ASSERT_TRUE(since(t0) < 0.5);
  TEST_DONE();

  for (i = 0; i < 3; i++) {
    static const char *const f[] = { "rate-ut-vultr", "rate-ut-slow",
                                     "rate-ut-hetzner" };
    char p[PATH_MAX];

    snprintf(p, sizeof(p), "%s/%s", dir, f[i]);
    unlink(p);
  }
  rmdir(dir);
  unsetenv("MVM_STATE_DIR");
}
