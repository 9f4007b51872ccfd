/* tests/unit/test_runout.c - the runner's output (lib/runout.c): a record
 * is one write to stdout and marks the run failed when it carries error=,
 * the ids an aborted teardown names are capped, the status line is drawn
 * only on a terminal, and an address-less record's error names the host;
 * and the hosts-left count (lib/hostsleft.c) that names the teardown. */
#include "unit.h"
#include "runner.h"      /* the runner's state, as run.c sees it */

/* FN() with fd FD going to a file; the file's text (malloc'd). */
static char *grab(int fd, void (*fn)(void *), void *arg)
{
  char path[] = "/tmp/mvmunit.XXXXXX";
  int t = mkstemp(path), saved = dup(fd);
  char *out;

  fflush(NULL);
  dup2(t, fd);
  fn(arg);
  fflush(NULL);
  dup2(saved, fd);
  close(saved);
  close(t);
  out = xreadfile(path, 1 << 20, NULL);
  unlink(path);
  return out;
}

static void emit(void *arg) { run_emit_rec(arg); }
static void draw(void *arg) { (void)arg; run_status_draw(); }
static void errm(void *arg) { rec_errmsg(arg); }
static void hint(void *arg) { *(int *)arg = hosts_hint(); }

static void test_runout(void)
{
  struct run_opts o = { .stage = "t" };
  struct runner saved = R;
  struct mvm_ctx keep = mvm;
  struct worker w = { .pid = 1 };
  struct rec r;
  char *out;
  int i, n;

  memset(&R, 0, sizeof(R));
  R.o = &o;
  msg_init("mvm-test");

  TEST_START("run_emit_rec: one line on stdout; error= fails the run");
  rec_parse(&r, "10.0.0.1 id=a", 13, 1);
  out = grab(1, emit, &r);
  ASSERT_STR_EQ(out, "10.0.0.1 id=a\n");
  ASSERT_INT_EQ(R.failed, 0);
  free(out);
  rec_set(&r, "error", "sync:boom");
  free(grab(1, emit, &r));
  ASSERT_INT_EQ(R.failed, 1);
  rec_release(&r);
  TEST_DONE();

  TEST_START("run_name_left: ids only, '-' skipped, capped near 2000 bytes");
  rec_new(&r, "-");
  rec_set(&r, "id", "-");
  run_name_left(&r);
  ASSERT_INT_EQ(R.nleft, 0);
  rec_set(&r, "id", "i-0123456789abcdef0");
  for (i = 0; i < 500; i++) run_name_left(&r);
  ASSERT_TRUE(R.nleft > 50 && R.nleft < 500);
  ASSERT_TRUE(R.left.len <= 2000 + 20);
  ASSERT_TRUE(!strncmp(R.left.s, "i-0123456789abcdef0 i-", 22));
  free(R.left.s);
  TEST_DONE();

  TEST_START("rec_errmsg: an address-less host is named by its name=");
  rec_set(&r, "name", "lab-1-x");
  rec_set(&r, "error", "provision:quota exceeded");
  out = grab(2, errm, &r);
  ASSERT_STR_EQ(out, "mvm-test: lab-1-x: error: quota exceeded\n");
  free(out);
  rec_release(&r);
  TEST_DONE();

  TEST_START("run_status_draw: nothing off a terminal, one clipped line on one");
  rec_new(&w.in, "10.0.0.2");
  snprintf(w.stage, sizeof(w.stage), "%s", "cloud-init running: modules");
  w.start = now_s() - 5;
  R.w = &w;
  R.nw = 1;
  R.running = 1;
  out = grab(2, draw, NULL);
  ASSERT_STR_EQ(out, "");
  free(out);
  R.tty = 1;
  out = grab(2, draw, NULL);
  ASSERT_TRUE(!strncmp(out, "\r\033[Kmvm-test: 1 running: 10.0.0.2 5s: cloud",
                       40));
  ASSERT_TRUE(strlen(out) <= 130 && !strchr(out, '\n'));
  ASSERT_INT_EQ(R.drawn, 1);
  free(out);
  rec_release(&w.in);
  TEST_DONE();

  R = saved;

  TEST_START("hosts_hint names each label's teardown, counts what is left");
  rec_parse(&r, "10.0.0.3 provider=hetzner id=7 label=lab", 40, 1);
  hosts_seen(&r, 1);
  hosts_seen(&r, 1);
  hosts_seen(&r, -1);
  out = grab(2, hint, &n);
  ASSERT_INT_EQ(n, 1);
  ASSERT_STR_EQ(out, "mvm-test: 1 host(s) may still be running: "
                "mvm-teardown hetzner lab\n");
  free(out);
  hosts_seen(&r, -1);
  out = grab(2, hint, &n);
  ASSERT_INT_EQ(n, 0);
  ASSERT_STR_EQ(out, "");
  free(out);
  rec_release(&r);
  TEST_DONE();

  TEST_START("hosts_seen: static and destroyed hosts are not left running");
  rec_parse(&r, "10.0.0.4 provider=static id=x label=lab", 39, 1);
  hosts_seen(&r, 1);
  rec_release(&r);
  rec_parse(&r, "10.0.0.5 provider=vultr id=y label=lab stage=down", 49, 1);
  hosts_seen(&r, 1);
  rec_release(&r);
  rec_parse(&r, "10.0.0.6 provider=vultr id=z label=a%20b", 40, 1);
  hosts_seen(&r, 1);
  out = grab(2, hint, &n);
  ASSERT_INT_EQ(n, 1);
  ASSERT_TRUE(strstr(out, "of vultr may still be running, without a label: "
                     "pipe their records to mvm-teardown") != NULL);
  free(out);
  hosts_seen(&r, -1);
  rec_release(&r);
  TEST_DONE();
  mvm = keep;
}
UNIT_REGISTER(test_runout)
