/* tests/unit/test_local.c - providers/local.c: state directory, ports,
 * listing by label and id, spawn/alive/stop (clean and forced), log tail;
 * the local driver's down and list (providers/localdrv.c).
 * Runs as any user: MVM_STATE_DIR points at a scratch directory. */
#include "unit.h"
#include "provider.h"
#include "local.h"

static int emitted, created_ok;
static char last_kvm[16];

static void count_emit(struct rec *r)
{
  const char *k = rec_get(r, "kvm"), *c = rec_get(r, "created");
  struct tm tm = { 0 };

  snprintf(last_kvm, sizeof(last_kvm), "%s", k ? k : "");
  emitted++;
  /* created= is this run's time in UTC (ISO 8601), within an hour */
  if (c && strptime(c, "%Y-%m-%dT%H:%M:%SZ", &tm) && !c[20] &&
      labs((long)(timegm(&tm) - time(NULL))) < 3600)
    created_ok++;
}

/* Provider "t" for the driver: SIGTERM, SIGKILL after 1 s. */
static const struct local_ops t_ops = { .name = "t", .stop_s = 1 };
static const struct local_ops none_ops = { .name = "none" };

/* sh with the host id as $0, so local_alive() recognises it. */
static void spawn_sh(struct local_host *h, const char *script)
{
  char *argv[] = { "sh", "-c", (char *)script, h->id, NULL };

  ASSERT_INT_EQ(local_spawn(h, argv), 0);
}

/* Provider "u" for local_up(): host 0 starts and says so with a file,
 * host 1 cannot be launched, host 2's process dies at once. */
static char u_fail[256];
static int u_emitted, u_failed;

static void u_emit(struct rec *r)
{
  const char *e = rec_get(r, "error");

  u_emitted++;
  if (e) {
    u_failed++;
    snprintf(u_fail + strlen(u_fail), sizeof(u_fail) - strlen(u_fail),
             "%s;", e);
  }
}

static int u_check(const struct up_args *a)
{
  return a->count > 3 ? error("too many for u") : 0;
}

static int u_launch(const struct up_args *a, int i, struct local_host *h)
{
  char *up = xasprintf("touch '%s/up'; while :; do sleep 0.05; done",
                       h->dir);
  char *argv[] = { "sh", "-c", i == 2 ? "echo died; exit 3" : up, h->id,
                   NULL };
  int r = i == 1 ? error("boom") : local_spawn(h, argv);

  (void)a;
  free(up);
  return r;
}

static int u_ready(const struct local_host *h)
{
  char path[PATH_MAX + 8];

  snprintf(path, sizeof(path), "%s/up", h->dir);
  return !access(path, F_OK);
}

static const struct local_ops u_ops = {
  .name = "u", .start_s = 60, .stop_s = 5, .check = u_check,
  .launch = u_launch, .ready = u_ready,
};

static void test_local_up(void)
{
  char tmpl[] = "/tmp/mvmunit.XXXXXX", *dir = mkdtemp(tmpl);
  char *ud[] = { "a", "b", "c", NULL };
  struct up_args a = { .label = "l", .count = 3, .user_data = ud,
                       .user = "mvm" };
  struct local_host *l, top;
  int n;

  setenv("MVM_STATE_DIR", dir, 1);
  TEST_START("local_up: a failed check creates nothing");
  a.count = 4;
  ASSERT_INT_EQ(local_up(&u_ops, &a, u_emit), -1);
  ASSERT_STR_EQ(mvm.err, "too many for u");
  ASSERT_INT_EQ(local_list("u", NULL, NULL, &l, &n), 0);
  ASSERT_INT_EQ(n, 0);
  free(l);
  ASSERT_INT_EQ(u_emitted, 0);
  TEST_DONE();

  TEST_START("local_up: every host emitted, failed ones with error=");
  a.count = 3;
  ASSERT_INT_EQ(local_up(&u_ops, &a, u_emit), -1);
  ASSERT_STR_EQ(mvm.err, "2 of 3 u hosts failed");
  ASSERT_INT_EQ(u_emitted, 3);
  ASSERT_INT_EQ(u_failed, 2);
  ASSERT_STR_EQ(u_fail, "provision:boom;provision:u exited: died;");
  ASSERT_INT_EQ(local_list("u", "l", NULL, &l, &n), 0);
  ASSERT_INT_EQ(n, 1);                   /* the failed ones are gone */
  free(l);
  TEST_DONE();

  TEST_START("local_down: the running one stops, its state goes");
  u_emitted = 0;
  ASSERT_INT_EQ(local_down(&u_ops, "l", NULL, u_emit), 0);
  ASSERT_INT_EQ(u_emitted, 1);
  ASSERT_INT_EQ(local_list("u", NULL, NULL, &l, &n), 0);
  ASSERT_INT_EQ(n, 0);
  free(l);
  TEST_DONE();

  unsetenv("MVM_STATE_DIR");
  memset(&top, 0, sizeof(top));
  snprintf(top.dir, sizeof(top.dir), "%s", dir);
  local_rm(&top);
}

static void test_local(void)
{
  char tmpl[] = "/tmp/mvmunit.XXXXXX", *dir = mkdtemp(tmpl);
  struct local_host h[8], *l;
  int i, j, n, ports_ok = 1;
  struct rec only;

  setenv("MVM_STATE_DIR", dir, 1);

  TEST_START("local_new: ids, dirs and distinct free ports");
  for (i = 0; i < 8; i++)
    ASSERT_INT_EQ(local_new(&h[i], "t", i < 5 ? "a" : "b", NULL), 0);
  for (i = 0; i < 8; i++)
    for (j = i + 1; j < 8; j++)
      if (h[i].port == h[j].port || !strcmp(h[i].id, h[j].id)) ports_ok = 0;
  ASSERT_TRUE(ports_ok);
  ASSERT_TRUE(h[0].port > 0 && h[0].port < 65536);
  ASSERT_STR_EQ(h[0].user, "mvm");
  ASSERT_INT_EQ(strncmp(h[0].id, "mvm-", 4), 0);
  ASSERT_INT_EQ(access(h[7].dir, F_OK), 0);
  TEST_DONE();

  TEST_START("local_list: by provider, label and id");
  ASSERT_INT_EQ(local_list("t", NULL, NULL, &l, &n), 0);
  ASSERT_INT_EQ(n, 8);
  free(l);
  ASSERT_INT_EQ(local_list("t", "b", NULL, &l, &n), 0);
  ASSERT_INT_EQ(n, 3);
  free(l);
  ASSERT_INT_EQ(local_list("t", NULL, h[2].id, &l, &n), 0);
  ASSERT_INT_EQ(n, 1);
  if (n == 1) {
    ASSERT_INT_EQ(l[0].port, h[2].port);
    ASSERT_STR_EQ(l[0].label, "a");
  }
  free(l);
  ASSERT_INT_EQ(local_list("none", NULL, NULL, &l, &n), 0);
  ASSERT_INT_EQ(n, 0);
  TEST_DONE();

  TEST_START("local_ls: the hosts of a label, with created=");
  emitted = created_ok = 0;
  ASSERT_INT_EQ(local_ls(&t_ops, "b", count_emit), 0);
  ASSERT_INT_EQ(emitted, 3);
  ASSERT_INT_EQ(created_ok, 3);
  emitted = 0;
  ASSERT_INT_EQ(local_ls(&t_ops, NULL, count_emit), 0);
  ASSERT_INT_EQ(emitted, 8);
  ASSERT_INT_EQ(local_list("t", NULL, NULL, &l, &n), 0);
  ASSERT_INT_EQ(n, 8);                   /* listing touched nothing */
  free(l);
  emitted = 0;
  ASSERT_INT_EQ(local_ls(&none_ops, NULL, count_emit), 0);
  ASSERT_INT_EQ(emitted, 0);
  TEST_DONE();

  TEST_START("local_rec: the host's record");
  local_rec(&h[0], "t", &only);
  ASSERT_STR_EQ(rec_get(&only, "provider"), "t");
  ASSERT_STR_EQ(rec_get(&only, "id"), h[0].id);
  ASSERT_STR_EQ(rec_get(&only, "label"), "a");
  ASSERT_TRUE(!strncmp(only.addr, "127.0.0.1:", 10) &&
              atoi(only.addr + 10) == h[0].port);
  rec_release(&only);
  TEST_DONE();

  TEST_START("local_spawn/alive/stop: SIGTERM, then state removed");
  spawn_sh(&h[0], "echo booting; trap 'exit 0' TERM;"
           " while :; do sleep 0.05; done");
  ASSERT_TRUE(local_alive(&h[0]));
  usleep(200000);
  ASSERT_TRUE(strstr(local_logtail(&h[0]), "booting") != NULL);
  local_stop(&h[0], 1, NULL, 5);
  ASSERT_INT_EQ(local_alive(&h[0]), 0);
  ASSERT_TRUE(access(h[0].dir, F_OK) != 0);
  TEST_DONE();

  TEST_START("local_stop: SIGKILL after the timeout");
  spawn_sh(&h[1], "trap '' TERM; while :; do sleep 0.05; done");
  local_stop(&h[1], 1, NULL, 0.3);
  ASSERT_INT_EQ(local_alive(&h[1]), 0);
  ASSERT_TRUE(access(h[1].dir, F_OK) != 0);
  TEST_DONE();

  TEST_START("local_spawn: our stdin closed, the host still gets its fds");
  {
    /* the console log then opens as fd 0: exec_child() must not put
     * /dev/null over it, nor leave the program without a stdin */
    int keep = dup(0);

    close(0);
    spawn_sh(&h[3], "cat && echo in-ok");
    dup2(keep, 0);
    close(keep);
    for (i = 0; i < 100 && local_alive(&h[3]); i++) usleep(20000);
    ASSERT_TRUE(strstr(local_logtail(&h[3]), "in-ok") != NULL);
  }
  TEST_DONE();

  TEST_START("local_spawn: a missing program is an error");
  {
    char *argv[] = { "/nonexistent/mvm-qemu", NULL };

    ASSERT_INT_EQ(local_spawn(&h[2], argv), -1);
    ASSERT_TRUE(strstr(mvm.err, "cannot run") != NULL);
  }
  TEST_DONE();

  TEST_START("local_down: one record's id, then a label");
  rec_new(&only, "127.0.0.1");
  rec_set(&only, "id", "%s", h[5].id);
  rec_set(&only, "kvm", "ok");
  emitted = 0;
  ASSERT_INT_EQ(local_down(&t_ops, NULL, &only, count_emit), 0);
  ASSERT_INT_EQ(emitted, 1);
  ASSERT_STR_EQ(last_kvm, "ok");           /* the record's fields kept */
  emitted = 0;                           /* gone: nothing to emit */
  ASSERT_INT_EQ(local_down(&t_ops, NULL, &only, count_emit), 0);
  ASSERT_INT_EQ(emitted, 0);
  rec_release(&only);
  emitted = 0;
  ASSERT_INT_EQ(local_down(&t_ops, "b", NULL, count_emit), 0);
  ASSERT_INT_EQ(emitted, 2);
  emitted = 0;
  ASSERT_INT_EQ(local_down(&t_ops, NULL, NULL, count_emit), 0);
  ASSERT_INT_EQ(emitted, 3);
  ASSERT_INT_EQ(local_list("t", NULL, NULL, &l, &n), 0);
  ASSERT_INT_EQ(n, 0);
  free(l);
  TEST_DONE();

  unsetenv("MVM_STATE_DIR");
  memset(&h[0], 0, sizeof(h[0]));
  snprintf(h[0].dir, sizeof(h[0].dir), "%s", dir);
  local_rm(&h[0]);                       /* the scratch directory itself */
}

UNIT_REGISTER(test_local)
UNIT_REGISTER(test_local_up)
