/* tests/unit/test_run.c - the per-host runner: records come out once each,
 * a crashing worker still yields its record, error records pass through,
 * and an interrupt lets running hosts end and fails the ones not started. */
#include "unit.h"

static int each_ok(struct rec *r, void *arg)
{
  (void)arg;
  if (rec_get(r, "crash")) raise(SIGSEGV);
  if (rec_get(r, "fail")) return error("boom %s", r->addr);
  if (rec_get(r, "sleep")) usleep(atoi(rec_get(r, "sleep")) * 1000);
  if (rec_get(r, "inject")) status("x\nR10.9.9.9 id=forged\nF");
  rec_set(r, "stage", "t");
  return 0;
}

/* Run the runner on hosts with stdout captured; returns the output. */
static char *capture(char **hosts, int jobs, int *rc, pid_t interrupter,
                     int finish)
{
  struct run_opts o = { .stage = "t", .jobs = jobs, .hosts = hosts,
                        .each = each_ok, .finish = finish };
  char path[] = "/tmp/mvmunit.XXXXXX";
  int fd = mkstemp(path), saved = dup(1);
  char *out;

  fflush(stdout);
  dup2(fd, 1);
  *rc = run_records(&o);
  dup2(saved, 1);
  close(saved);
  close(fd);
  if (interrupter) waitpid(interrupter, NULL, 0);
  out = xreadfile(path, 1 << 20, NULL);
  unlink(path);
  signal(SIGINT, SIG_DFL);
  return out;
}

/* In a child (the signal state is the process's): the runner on HOSTS,
 * SIGINT once the first worker runs; its output, *rc its exit status. */
static char *interrupted(char **hosts, int jobs, int finish, int *rc)
{
  char path[] = "/tmp/mvmunit.XXXXXX";
  int fd = mkstemp(path), st;
  char *out;
  pid_t pid = fork();

  if (!pid) {
    pid_t k = fork();

    if (!k) {         /* wait for a worker: a second child of our parent */
      char f[64];

      snprintf(f, sizeof(f), "/proc/%d/task/%d/children", (int)getppid(),
               (int)getppid());
      for (;;) {
        char *c = xreadfile(f, 4096, NULL);
        char *sp = strchr(c, ' ');
        int any = sp && strchr(sp + 1, ' ');    /* we are one of them */

        free(c);
        if (any) break;
        usleep(10000);
      }
      kill(getppid(), SIGINT);
      _exit(0);
    }
    dup2(fd, 1);
    _exit(run_records(&(struct run_opts){ .stage = "t", .jobs = jobs,
                                          .hosts = hosts, .each = each_ok,
                                          .finish = finish }));
  }
  waitpid(pid, &st, 0);
  *rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  close(fd);
  out = xreadfile(path, 1 << 20, NULL);
  unlink(path);
  return out;
}

static int count_lines(const char *s, const char *needle)
{
  int n = 0;
  const char *p = s;

  while ((p = strstr(p, needle))) n++, p++;
  return n;
}

/* Remove every " t_s=N.N" (the stage's time, lib/run.c) from S, so the
 * lines compare exactly; returns how many there were. */
static int untime(char *s)
{
  char *p = s, *e;
  int n = 0;

  while ((p = strstr(p, " t_s="))) {
    e = p + 5 + strspn(p + 5, "0123456789.");
    memmove(p, e, strlen(e) + 1);
    n++;
  }
  return n;
}

static void test_run(void)
{
  char *h1[] = { "a sleep=200", "b", "c fail=1", "d crash=1",
                 "e error=x:y", "# note", "g inject=1", NULL };
  char *h2[] = { "s1 sleep=4000", "s2 sleep=400", "s3 sleep=400", NULL };
  char *h3[] = { "f1 sleep=1500", "f2 sleep=10", "f3", NULL };
  char *out;
  int rc, saved_err = dup(2), devnull = open("/dev/null", O_WRONLY);

  dup2(devnull, 2);       /* the runner's warnings are not test output */
  TEST_START("runner: every record once, crash and failure reported");
  out = capture(h1, 4, &rc, 0, 0);
  ASSERT_INT_EQ(rc, 1);
  /* a's 200 ms are in its record, as every worker's time is */
  ASSERT_TRUE(strstr(out, "a sleep=200 stage=t t_s=") != NULL &&
              atof(strstr(out, "a sleep=200 stage=t t_s=") + 24) >= 0.2);
  ASSERT_INT_EQ(untime(out), 4);      /* a b c g: d died, e passed */
  ASSERT_INT_EQ(count_lines(out, "\n"), 7);
  /* text from a host in a status line cannot forge a record */
  ASSERT_TRUE(strstr(out, "g inject=1 stage=t\n") != NULL);
  ASSERT_TRUE(strstr(out, "forged") == NULL);
  ASSERT_TRUE(strstr(out, "a sleep=200 stage=t\n") != NULL);
  ASSERT_TRUE(strstr(out, "b stage=t\n") != NULL);
  ASSERT_TRUE(strstr(out, "c fail=1 error=t:boom%20c\n") != NULL);
  ASSERT_TRUE(strstr(out, "d crash=1 error=t:worker%20died%20(status%20")
              != NULL);
  ASSERT_TRUE(strstr(out, "e error=x:y\n") != NULL);
  ASSERT_TRUE(strstr(out, "# note\n") != NULL);
  /* b finishes before a although it started later: completion order */
  ASSERT_TRUE(strstr(out, "b stage") < strstr(out, "a sleep"));
  free(out);
  TEST_DONE();

  TEST_START("runner: interrupt stops the running host, fails the rest");
  out = interrupted(h2, 1, 0, &rc);
  ASSERT_INT_EQ(rc, 130);
  ASSERT_TRUE(strstr(out, "s1 sleep=4000 error=t:interrupted\n") != NULL);
  ASSERT_TRUE(strstr(out, "s2 sleep=400 error=t:interrupted\n") != NULL);
  ASSERT_TRUE(strstr(out, "s3 sleep=400 error=t:interrupted\n") != NULL);
  free(out);
  TEST_DONE();

  /* mvm-teardown's mode: what was read is finished, ^C or not. */
  TEST_START("runner: finish mode runs every record to its end after ^C");
  out = interrupted(h3, 1, 1, &rc);
  ASSERT_INT_EQ(rc, 130);
  ASSERT_INT_EQ(untime(out), 3);
  ASSERT_TRUE(strstr(out, "f1 sleep=1500 stage=t\n") != NULL);
  ASSERT_TRUE(strstr(out, "f2 sleep=10 stage=t\n") != NULL);
  ASSERT_TRUE(strstr(out, "f3 stage=t\n") != NULL);
  free(out);
  TEST_DONE();
  dup2(saved_err, 2);
  close(saved_err);
  close(devnull);
}
UNIT_REGISTER(test_run)
