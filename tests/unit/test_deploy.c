/* tests/unit/test_deploy.c - lib/deploy/deploy.c without a host: a probe answer
 * that matches everything changes nothing; one changed binary restarts
 * only the units whose file names it; a changed secret restarts every
 * reader of the configs; the host's secret is kept unless rotating; a cut
 * answer is refused; and no remote command carries the secret. */
#include "unit.h"

static const char sec[] =
  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
static char *bins[] = { "mvmd:mvmd", "mvmd-runtime:mvm-hostd" };

/* A probe answer saying the host has exactly what d wants, except that
 * the item at path odd (if any) has another hash. */
static char *answer(const struct deploy *d, const char *odd)
{
  struct buf b = { 0 };
  char *l, *path;
  int i;

  l = xasprintf("home /home/mvm\nsecret %s\nusers ok\nunits ok\n", sec);
  buf_add(&b, l, strlen(l));
  free(l);
  for (i = 0; i < d->n; i++) {
    const struct ditem *it = d->it + i;
    int bad = odd && !strcmp(it->path, odd);

    path = !strncmp(it->path, "~mvm/", 5)
           ? xasprintf("/home/mvm/%s", it->path + 5) : xstrdup(it->path);
    l = xasprintf("s %s %o:%s:%s\n", path, it->mode, it->owner, it->group);
    buf_add(&b, l, strlen(l));
    free(l);
    l = xasprintf("%s  %s\n", bad ? "ff" "000000000000000000000000000000"
                  "00000000000000000000000000000000" : it->sum, path);
    buf_add(&b, l, strlen(l));
    free(l);
    free(path);
  }
  buf_add(&b, "end\n", 4);
  return b.s;
}

static int setup(struct deploy *d, const char *ans, int rotate)
{
  struct rec r;
  char *a = xstrdup(ans);
  int rc;

  deploy_init(d, bins, 2);
  d->rotate = rotate;
  deploy_set_bin(d, "mvmd", "11111111111111111111111111111111"
                            "11111111111111111111111111111111");
  deploy_set_bin(d, "mvm-hostd", "22222222222222222222222222222222"
                                 "22222222222222222222222222222222");
  rec_new(&r, "127.0.0.1:2222");
  rc = deploy_parse(d, a);
  if (!rc) rc = deploy_render(d, &r);
  rec_release(&r);
  free(a);
  return rc;
}

static void test_deploy(void)
{
  struct deploy d, e;
  char *top = xasprintf("%s/templates", getenv("TOP") ? getenv("TOP") : ".");
  char *ans, *u, *cmd;

  TEST_START("deploy: the templates load");
  ASSERT_INT_EQ(deploy_templates(top), 0);
  TEST_DONE();
  free(top);

  TEST_START("deploy: a fresh host: everything to install, all restart");
  ASSERT_INT_EQ(setup(&d, "end\n", 0), 0);
  ASSERT_TRUE(d.fresh && strlen(d.secret) == 64 && strcmp(d.secret, sec));
  ASSERT_TRUE(deploy_pending(&d));
  u = deploy_units(&d, 1);
  ASSERT_STR_EQ(u, "mvm-hostd.service mvmd-coordinator.service "
                "mvmd-agent.service mvmd-gateway.service");
  free(u);
  TEST_DONE();
  deploy_release(&d);

  /* The host's secret, so the wants match the answer built from them. */
  setup(&d, "secret 0123456789abcdef0123456789abcdef0123456789abcdef"
            "0123456789abcdef\nend\n", 0);
  ans = answer(&d, NULL);
  TEST_START("deploy: the host has it all: nothing pending, secret kept");
  ASSERT_INT_EQ(setup(&e, ans, 0), 0);
  ASSERT_STR_EQ(e.secret, sec);
  ASSERT_TRUE(!e.fresh && !deploy_pending(&e));
  u = deploy_units(&e, 1);
  ASSERT_STR_EQ(u, "");
  free(u);
  TEST_DONE();
  deploy_release(&e);
  free(ans);

  TEST_START("deploy: a new mvm-hostd restarts only its unit");
  ans = answer(&d, "/usr/local/bin/mvm-hostd");
  ASSERT_INT_EQ(setup(&e, ans, 0), 0);
  u = deploy_units(&e, 1);
  ASSERT_STR_EQ(u, "mvm-hostd.service");
  free(u);
  deploy_release(&e);
  free(ans);
  TEST_DONE();

  TEST_START("deploy: a new mvmd restarts the three mvmd units");
  ans = answer(&d, "/usr/local/bin/mvmd");
  ASSERT_INT_EQ(setup(&e, ans, 0), 0);
  u = deploy_units(&e, 1);
  ASSERT_STR_EQ(u, "mvmd-coordinator.service mvmd-agent.service "
                "mvmd-gateway.service");
  free(u);
  deploy_release(&e);
  free(ans);
  TEST_DONE();

  TEST_START("deploy: a changed gateway.toml restarts the gateway only");
  ans = answer(&d, "/etc/mvmd/gateway.toml");
  ASSERT_INT_EQ(setup(&e, ans, 0), 0);
  u = deploy_units(&e, 1);
  ASSERT_STR_EQ(u, "mvmd-gateway.service");
  free(u);
  deploy_release(&e);
  TEST_DONE();

  TEST_START("deploy: --rotate-secret: a new secret, every unit restarts");
  ASSERT_INT_EQ(setup(&e, ans, 1), 0);
  ASSERT_TRUE(e.fresh && strcmp(e.secret, sec));
  u = deploy_units(&e, 1);
  ASSERT_STR_EQ(u, "mvm-hostd.service mvmd-coordinator.service "
                "mvmd-agent.service mvmd-gateway.service");
  free(u);
  TEST_DONE();

  TEST_START("deploy: no remote command carries the secret");
  cmd = deploy_probe_cmd(&e);
  ASSERT_TRUE(!strstr(cmd, e.secret));
  free(cmd);
  cmd = deploy_apply_cmd(&e, "/home/mvm/mvmd");
  ASSERT_TRUE(!strstr(cmd, e.secret) && strstr(cmd, "hmac.secret"));
  free(cmd);
  cmd = deploy_verify_cmd(&e, 2, 90);
  ASSERT_TRUE(!strstr(cmd, e.secret) && strstr(cmd, e.want));
  free(cmd);
  TEST_DONE();
  deploy_release(&e);
  free(ans);

  TEST_START("deploy: an answer cut short is refused");
  ASSERT_INT_EQ(setup(&e, "secret x\nusers ok\n", 0), -1);
  ASSERT_STR_EQ(mvm.err, "the host's answer was cut short");
  TEST_DONE();
  deploy_release(&e);
  deploy_release(&d);
}

UNIT_REGISTER(test_deploy)
