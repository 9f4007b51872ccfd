/* tests/unit/test_cloud.c - the cloud driver's small parts: the CLIs'
 * config files (hcloud's cli.toml contexts, YAML keys), JSON paths and
 * redaction, the error text of each provider's error shape, times in
 * both forms, percent-encoding and base64, a host out of an answer by a
 * table of paths, paging, a create in steps. */
#include "unit.h"
#include "provider.h"
#include "cloud.h"

UNIT_REGISTER(test_cloud)

static char *tmpfile_with(const char *text)
{
  char *path = xstrdup("/tmp/mvm-unit-conf.XXXXXX");
  int fd = mkstemp(path);

  xwriteall(fd, text, strlen(text));
  xclose(fd);
  return path;
}

static void test_conf(void)
{
  char *p, *v = NULL;

  TEST_START("conf_toml: hcloud's active context among [[contexts]]");
  p = tmpfile_with("active_context = \"b\"  # mine\n\n[[contexts]]\n"
                   "name = \"a\"\ntoken = \"ta\"\n\n[[contexts]]\n"
                   "token = 'tb'\nname = \"b\"\n[other]\ntoken = \"x\"\n");
  ASSERT_INT_EQ(conf_toml(p, NULL, NULL, NULL, "active_context", &v), 0);
  ASSERT_STR_EQ(v, "b");
  free(v);
  ASSERT_INT_EQ(conf_toml(p, "contexts", "name", "b", "token", &v), 0);
  ASSERT_STR_EQ(v, "tb");
  free(v);
  ASSERT_INT_EQ(conf_toml(p, "contexts", "name", "a", "token", &v), 0);
  ASSERT_STR_EQ(v, "ta");
  free(v);
  ASSERT_INT_EQ(conf_toml(p, "contexts", "name", "c", "token", &v), 1);
  ASSERT_INT_EQ(conf_toml(p, "other", NULL, NULL, "token", &v), 0);
  ASSERT_STR_EQ(v, "x");
  free(v);
  unlink(p);
  free(p);
  ASSERT_INT_EQ(conf_toml("/nonexistent/cli.toml", NULL, NULL, NULL, "k",
                          &v), 1);
  TEST_DONE();

  TEST_START("conf_yaml: a top-level key, not a nested one");
  p = tmpfile_with("nested:\n  api-key: inner\n  list: [1, 2]\n"
                   "api-key: \"outer key\"\nproject-id: p1\n");
  ASSERT_INT_EQ(conf_yaml(p, "api-key", &v), 0);
  ASSERT_STR_EQ(v, "outer key");
  free(v);
  ASSERT_INT_EQ(conf_yaml(p, "project-id", &v), 0);
  ASSERT_STR_EQ(v, "p1");
  free(v);
  ASSERT_INT_EQ(conf_yaml(p, "token", &v), 1);
  unlink(p);
  free(p);
  p = tmpfile_with("api-key: [unclosed\n");
  ASSERT_INT_EQ(conf_yaml(p, "api-key", &v), -1);
  ASSERT_TRUE(strstr(mvm.err, "malformed YAML") != NULL);
  unlink(p);
  free(p);
  TEST_DONE();
}

static void test_json(void)
{
  static const struct { const char *body, *want; } errs[] = {
    { "{\"error\":{\"code\":\"invalid_input\",\"message\":\"server_type"
      " cpx51 not found\"}}", "invalid_input: server_type cpx51 not found" },
    { "{\"error\":\"Invalid plan chosen.\",\"status\":400}",
      "Invalid plan chosen." },
    { "{\"errors\":[\"is not a valid plan\"]}", "is not a valid plan" },
    { "{\"errors\":[{\"title\":\"Locked Server\",\"detail\":\"Server is"
      " locked\"}]}", "Locked Server: Server is locked" },
    { "<html>\nBad gateway</html>", "<html> Bad gateway</html>" },
  };
  struct json *j;
  char buf[64];
  char *s;
  size_t i;

  TEST_START("json: paths into objects and arrays, numbers as text");
  s = "{\"server\":{\"id\":42,\"public_net\":{\"ipv4\":{\"ip\":"
      "\"127.1.0.2\"}},\"tags\":[\"a\",\"b=c\"]}}";
  j = json_parse(s, strlen(s));
  ASSERT_TRUE(j != NULL);
  ASSERT_STR_EQ(json_text(j, buf, sizeof(buf), "server.id"), "42");
  ASSERT_STR_EQ(json_text(j, buf, sizeof(buf), "server.public_net.ipv4.ip"),
                "127.1.0.2");
  ASSERT_STR_EQ(json_text(j, buf, sizeof(buf), "server.tags.%d", 1), "b=c");
  ASSERT_INT_EQ(json_len(j, "server.tags"), 2);
  ASSERT_NULL(json_text(j, buf, sizeof(buf), "server.tags.2"));
  ASSERT_NULL(json_text(j, buf, sizeof(buf), "server.public_net"));
  json_free(j);
  ASSERT_NULL(json_parse("{\"a\":", 5));
  ASSERT_TRUE(strstr(mvm.err, "malformed JSON") != NULL);
  TEST_DONE();

  TEST_START("json_redact: user-data and tokens by size only");
  s = "{\"name\":\"h\",\"user_data\":\"#cloud-config\\nsecret\","
      "\"a\":[{\"token\":\"t0k\"}]}";
  s = json_redact(s, strlen(s));
  ASSERT_STR_EQ(s, "{\"name\":\"h\",\"user_data\":\"<20 bytes>\",\"a\":"
                   "[{\"token\":\"<3 bytes>\"}]}");
  free(s);
  TEST_DONE();

  TEST_START("body_redact: form bodies keep their shape, lose secrets");
  s = "Action=RunInstances&ClientToken=c1&UserData=I2Nsb3Vk&MaxCount=1";
  s = body_redact(s, strlen(s));
  ASSERT_STR_EQ(s, "Action=RunInstances&ClientToken=<2 bytes>&"
                   "UserData=<8 bytes>&MaxCount=1");
  free(s);
  s = "grant_type=refresh_token&refresh_token=1%2Fr&client_id=i&"
      "client_secret=cs&assertion=eyJ.x.y";
  s = body_redact(s, strlen(s));
  ASSERT_STR_EQ(s, "grant_type=refresh_token&refresh_token=<5 bytes>&"
                   "client_id=i&client_secret=<2 bytes>&"
                   "assertion=<7 bytes>");
  free(s);
  ASSERT_TRUE(body_redact("not a form", 10) == NULL);
  ASSERT_TRUE(body_redact("#cloud-config\na=b", 17) == NULL);
  TEST_DONE();

  TEST_START("json_errmsg: each provider's error shape, one line");
  for (i = 0; i < ARRAY_LEN(errs); i++) {
    json_errmsg(errs[i].body, strlen(errs[i].body), buf, sizeof(buf));
    ASSERT_STR_EQ(buf, errs[i].want);
  }
  TEST_DONE();
}

static void test_enc(void)
{
  char buf[40], *s;

  TEST_START("time_parse/time_fmt: RFC 3339 with offsets, compact form");
  ASSERT_INT_EQ(time_parse("2026-12-01T19:30:00Z"), 1796153400);
  ASSERT_INT_EQ(time_parse("2026-12-01T20:30:00+01:00"), 1796153400);
  ASSERT_INT_EQ(time_parse("2026-12-01T19:30:00.603Z"), 1796153400);
  ASSERT_INT_EQ(time_parse("20261201T193000Z"), 1796153400);
  ASSERT_INT_EQ(time_parse("yesterday"), -1);
  time_fmt(1796153400, buf, sizeof(buf), 1);
  ASSERT_STR_EQ(buf, "20261201T193000Z");
  time_fmt(1796153400, buf, sizeof(buf), 0);
  ASSERT_STR_EQ(buf, "2026-12-01T19:30:00Z");
  TEST_DONE();

  TEST_START("uri_escape and b64_encode");
  s = uri_escape("mvm-ephemeral==true,mvm-label==a b");
  ASSERT_STR_EQ(s, "mvm-ephemeral%3D%3Dtrue%2Cmvm-label%3D%3Da%20b");
  free(s);
  s = b64_encode("ab", 2);
  ASSERT_STR_EQ(s, "YWI=");
  free(s);
  TEST_DONE();
}

/* The headers of an answer, and which URLs it names are ours to follow. */
static void test_http_text(void)
{
  static char hdrs[] = "HTTP/1.1 201 Created\r\nLocation: /a\r\n"
    "azure-asyncoperation:  http://h/op?x=1 \r\nLocation: /b\r\n\r\n";
  struct http_resp r = { 0 };
  struct http *h = http_new_env("unit", "MVM_UNIT_NO_SUCH_ENDPOINT",
                                "https://api.example:8443/v1");
  char out[64];

  TEST_START("http_resp_header: case, blanks trimmed, the last one, caps");
  r.hdrs.s = hdrs;
  r.hdrs.len = strlen(hdrs);
  ASSERT_INT_EQ(http_resp_header(&r, "Azure-AsyncOperation", out,
                                 sizeof(out)), 0);
  ASSERT_STR_EQ(out, "http://h/op?x=1");
  ASSERT_INT_EQ(http_resp_header(&r, "location", out, sizeof(out)), 0);
  ASSERT_STR_EQ(out, "/b");
  ASSERT_INT_EQ(http_resp_header(&r, "Retry-After", out, sizeof(out)), -1);
  ASSERT_INT_EQ(http_resp_header(&r, "Loc", out, sizeof(out)), -1);
  ASSERT_INT_EQ(http_resp_header(&r, "Azure-AsyncOperation", out, 8), -1);
  TEST_DONE();

  TEST_START("http_rel: the base's own URLs only");
  ASSERT_INT_EQ(http_rel(h, "https://api.example:8443/v1/ops/1?a=b", out,
                         sizeof(out)), 0);
  ASSERT_STR_EQ(out, "/ops/1?a=b");
  ASSERT_INT_EQ(http_rel(h, "HTTPS://API.example:8443/v1?p", out,
                         sizeof(out)), 0);
  ASSERT_STR_EQ(out, "?p");
  ASSERT_INT_EQ(http_rel(h, "https://api.example:8443/v1.evil/x", out,
                         sizeof(out)), -1);
  ASSERT_INT_EQ(http_rel(h, "https://api.example:8443/v1@evil/x", out,
                         sizeof(out)), -1);
  ASSERT_INT_EQ(http_rel(h, "https://api.example:84430/v1/x", out,
                         sizeof(out)), -1);
  ASSERT_INT_EQ(http_rel(h, "http://api.example:8443/v1/x", out,
                         sizeof(out)), -1);
  ASSERT_INT_EQ(http_rel(h, "https://api.example:8443/v1/x\r\nHost: e",
                         out, sizeof(out)), -1);
  ASSERT_INT_EQ(http_rel(h, "https://api.example:8443/v1/a-path-longer-"
                         "than-the-sixty-four-bytes-of-out-for-sure-it-is-"
                         "it-is", out, sizeof(out)), -1);
  TEST_DONE();
  http_free(h);
}

static void test_fields(void)
{
  static const struct cloud_fields strtags = {
    .id = "id", .name = "label", .addr = "ip", .status = "status",
    .ready = "active", .tags = "tags",
  }, objtags = { .addr = "ip", .tags = "tags", .tag_name = "name" };
  struct cloud_host c;
  struct json *j;
  const char *a;

  TEST_START("cloud_host_json: fields, \"k=v\" tags, READY needs both");
  a = "{\"id\":\"i1\",\"label\":\"h-1\",\"ip\":\"127.0.0.9\","
      "\"status\":\"pending\",\"tags\":[\"mvm-label=lab\",\"x\","
      "\"mvm-expires=2026-12-01T20:30:00+01:00\"]}";
  j = json_parse(a, strlen(a));
  memset(&c, 0, sizeof(c));
  cloud_host_json(j, &strtags, &c);
  ASSERT_STR_EQ(c.id, "i1");
  ASSERT_STR_EQ(c.name, "h-1");
  ASSERT_STR_EQ(c.label, "lab");
  ASSERT_STR_EQ(c.expires, "2026-12-01T19:30:00Z");   /* as UTC */
  ASSERT_INT_EQ(c.state, CLOUD_PENDING);              /* not "active" */
  json_free(j);
  a = "{\"ip\":\"\",\"status\":\"active\"}";
  j = json_parse(a, strlen(a));
  memset(&c, 0, sizeof(c));
  cloud_host_json(j, &strtags, &c);
  ASSERT_INT_EQ(c.state, CLOUD_PENDING);              /* no address */
  json_free(j);
  TEST_DONE();

  TEST_START("cloud_host_json: tag objects, no .ready, a bad expiry");
  a = "{\"ip\":\"127.0.0.9\",\"tags\":[{\"name\":\"mvm-label=b\"},"
      "{\"name\":\"mvm-expires=soon\"}]}";
  j = json_parse(a, strlen(a));
  memset(&c, 0, sizeof(c));
  cloud_host_json(j, &objtags, &c);
  ASSERT_STR_EQ(c.label, "b");
  ASSERT_STR_EQ(c.expires, "");       /* not a time: no expiry, kept */
  ASSERT_INT_EQ(c.state, CLOUD_READY);
  json_free(j);
  TEST_DONE();
}

/* A list of pages for cloud_paged(): each page's cursor leads to the
 * next by the table; "stop" ends the walk early, "loop" leads back. */
struct pages_seen {
  const char *const *next;  /* the cursor page i leads to */
  char seen[256];
  int n;
};

static int page_next(const char *cur, char *next, size_t len, void *arg)
{
  struct pages_seen *p = arg;
  const char *to = p->next[p->n < 8 ? p->n : 7];

  snprintf(p->seen + strlen(p->seen), sizeof(p->seen) - strlen(p->seen),
           "[%s]", cur);
  p->n++;
  if (!strcmp(to, "stop")) return 1;
  snprintf(next, len, "%s", strcmp(to, "loop") ? to : cur);
  return 0;
}

static int page_forever(const char *cur, char *next, size_t len, void *arg)
{
  (*(int *)arg)++;
  snprintf(next, len, "%d", atoi(cur) + 1);
  return 0;
}

static void test_paged(void)
{
  static const char *const three[] = { "a", "b", "" };
  static const char *const stop[] = { "a", "stop" };
  static const char *const loop[] = { "a", "loop" };
  struct pages_seen p = { three, "", 0 };
  int n = 0;

  TEST_START("cloud_paged: every page once, in order, to the last");
  ASSERT_INT_EQ(cloud_paged("list", page_next, &p), 0);
  ASSERT_STR_EQ(p.seen, "[][a][b]");
  TEST_DONE();

  TEST_START("cloud_paged: a page can end the walk (found)");
  p = (struct pages_seen){ stop, "", 0 };
  ASSERT_INT_EQ(cloud_paged("list", page_next, &p), 1);
  ASSERT_STR_EQ(p.seen, "[][a]");
  TEST_DONE();

  TEST_START("cloud_paged: a page leading to itself is an error, not a loop");
  p = (struct pages_seen){ loop, "", 0 };
  ASSERT_INT_EQ(cloud_paged("list things", page_next, &p), -1);
  ASSERT_STR_EQ(mvm.err, "list things: page 2 links to itself");
  TEST_DONE();

  TEST_START("cloud_paged: at most 1000 pages");
  ASSERT_INT_EQ(cloud_paged("list", page_forever, &n), -1);
  ASSERT_INT_EQ(n, 1000);
  ASSERT_STR_EQ(mvm.err, "list: over 1000 pages");
  TEST_DONE();
}

/* A provider's side of a create in steps, scripted: each op() answer is
 * the next letter of ANSWERS (r running, d done, x failed retryable, f
 * failed, u cannot tell); step "b" is done in its call. */
static struct {
  const char *answers;
  int k;
  double after;
  char log[128];
} stub;

static int stub_step(struct http *h, const struct cloud_step *s,
                     struct cloud_op *op)
{
  (void)h;
  snprintf(stub.log + strlen(stub.log), sizeof(stub.log) - strlen(stub.log),
           "S%s ", s->what);
  if (!strcmp(s->what, "z")) return error("%s: 409 refused", s->what);
  if (strcmp(s->what, "b")) snprintf(op->url, sizeof(op->url), "%s", s->path);
  op->after = stub.after;
  return 0;
}

static int stub_op(struct http *h, struct cloud_op *op, struct cloud_host *c)
{
  char a = stub.answers[stub.k] ? stub.answers[stub.k++] : 'u';

  (void)h;
  snprintf(stub.log + strlen(stub.log), sizeof(stub.log) - strlen(stub.log),
           "O%s ", op->what);
  snprintf(c->status, sizeof(c->status), "%c", a);
  op->after = stub.after;
  if (a == 'r') return 1;
  if (a == 'd') return 0;
  op->retry = a == 'x';
  error("%s: %s", op->what, a == 'u' ? "503" : "Failed");
  return a == 'u' ? -1 : -2;
}

static const struct cloud_ops stub_ops = {
  .name = "stub", .step = stub_step, .op = stub_op,
};

/* Go at most N polls over steps WHAT (one letter each): the last answer. */
static int steps_run(const char *what, const char *answers, double after,
                     int n, struct cloud_host *c)
{
  static const char *const names[] = { "a", "b", "c", "z" };
  struct cloud_steps s = { 0 };
  int i, rc = 1;

  memset(&stub, 0, sizeof(stub));
  stub.answers = answers;
  stub.after = after;
  memset(c, 0, sizeof(*c));
  for (; *what; what++)
    cloud_step_add(&s, names[strchr("abcz", *what) - "abcz"],
                   xasprintf("/p/%c", *what), xstrdup("{}"));
  for (i = 0; i < n && rc == 1; i++)
    rc = cloud_steps_go(&stub_ops, NULL, &s, c);
  cloud_steps_release(&s);
  return rc;
}

static void test_steps(void)
{
  struct cloud_host c;

  TEST_START("cloud_steps_go: in order, each once the one before ended");
  ASSERT_INT_EQ(steps_run("abc", "rdxxd", 0, 10, &c), 0);
  ASSERT_STR_EQ(stub.log, "Sa Oa Oa Sb Sc Oc Sc Oc Sc Oc ");
  ASSERT_INT_EQ(c.state, CLOUD_PENDING);
  TEST_DONE();

  TEST_START("cloud_steps_go: a retryable failure sent three times, no more");
  ASSERT_INT_EQ(steps_run("ab", "xxxd", 0, 10, &c), -1);
  ASSERT_STR_EQ(stub.log, "Sa Oa Sa Oa Sa Oa ");
  ASSERT_INT_EQ(c.state, CLOUD_FAILED);
  ASSERT_STR_EQ(mvm.err, "a: Failed");
  TEST_DONE();

  TEST_START("cloud_steps_go: a failed operation fails the host at once");
  ASSERT_INT_EQ(steps_run("ac", "f", 0, 10, &c), -1);
  ASSERT_STR_EQ(stub.log, "Sa Oa ");
  ASSERT_INT_EQ(c.state, CLOUD_FAILED);
  TEST_DONE();

  TEST_START("cloud_steps_go: a refused send fails the host, nothing after");
  ASSERT_INT_EQ(steps_run("zc", "", 0, 10, &c), -1);
  ASSERT_STR_EQ(stub.log, "Sz ");
  ASSERT_INT_EQ(c.state, CLOUD_FAILED);
  ASSERT_STR_EQ(mvm.err, "z: 409 refused");
  TEST_DONE();

  TEST_START("cloud_steps_go: cannot tell is the poll's error, not the host's");
  ASSERT_INT_EQ(steps_run("a", "u", 0, 10, &c), -1);
  ASSERT_INT_EQ(c.state, CLOUD_PENDING);
  TEST_DONE();

  TEST_START("cloud_steps_go: never asked before its Retry-After");
  ASSERT_INT_EQ(steps_run("a", "d", 60, 5, &c), 1);
  ASSERT_STR_EQ(stub.log, "Sa ");
  TEST_DONE();

  TEST_START("cloud_steps_go: no steps, nothing to do");
  ASSERT_INT_EQ(steps_run("", "", 0, 1, &c), 0);
  ASSERT_STR_EQ(stub.log, "");
  TEST_DONE();
}

static void test_cloud(void)
{
  test_conf();
  test_json();
  test_enc();
  test_http_text();
  test_fields();
  test_paged();
  test_steps();
}
