/* tests/unit/test_record.c - the record format both ways: table-driven
 * parse cases, malformed lines, address splitting, and a property test
 * that random keys and values (any byte but NUL) survive format+parse. */
#include "unit.h"

static void parse_cases(void)
{
  static const struct {
    const char *line, *addr, *key, *val;
    int rc;
  } t[] = {
    { "203.0.113.7", "203.0.113.7", NULL, NULL, 0 },
    { "h id=i-1 user=mvm", "h", "user", "mvm", 0 },
    { "h name=a%20b%25c%3Dd", "h", "name", "a b%c=d", 0 },
    { "h e=%C3%A9", "h", "e", "\xc3\xa9", 0 },
    { "h v=raw=equals", "h", "v", "raw=equals", 0 },
    { "[::1]:22 a=", "[::1]:22", "a", "", 0 },
    { "h  a=1  b=2", "h", "b", "2", 0 },
    { "h a=1\r", "h", "a", "1", 0 },
    { "# comment", NULL, NULL, NULL, 0 },
    { "", NULL, NULL, NULL, 0 },
    { "   ", NULL, NULL, NULL, 0 },
    { "h Bad=1", "h", NULL, NULL, -1 },
    { "h a=%4", "h", NULL, NULL, -1 },
    { "h a=%zz", "h", NULL, NULL, -1 },
    { "h a=%00", "h", NULL, NULL, -1 },
    { "h novalue", "h", NULL, NULL, -1 },
    { "h =1", "h", NULL, NULL, -1 },
    { "a=b", "-", NULL, NULL, -1 },
    { "h\xff a=1", "-", NULL, NULL, -1 },
  };
  size_t i;

  for (i = 0; i < ARRAY_LEN(t); i++) {
    struct rec r;
    char name[64];

    snprintf(name, sizeof(name), "record parse case %zu", i);
    TEST_START(name);
    ASSERT_INT_EQ(rec_parse(&r, t[i].line, strlen(t[i].line), 3), t[i].rc);
    if (t[i].addr) ASSERT_STR_EQ(r.addr, t[i].addr);
    else ASSERT_NULL(r.addr);
    if (t[i].key) ASSERT_STR_EQ(rec_get(&r, t[i].key), t[i].val);
    if (t[i].rc) ASSERT_TRUE(r.bad && !strncmp(r.bad, "line 3: ", 8));
    rec_release(&r);
    TEST_DONE();
  }
}

static void nul_and_passthrough(void)
{
  struct rec r;
  char *s;

  TEST_START("record with a NUL byte is malformed");
  ASSERT_INT_EQ(rec_parse(&r, "h a\0=1", 6, 9), -1);
  ASSERT_TRUE(r.bad && strstr(r.bad, "NUL"));
  rec_release(&r);
  TEST_DONE();

  TEST_START("comment lines pass through byte for byte");
  rec_parse(&r, "#  x=%zz", 8, 1);
  s = rec_format(&r);
  ASSERT_STR_EQ(s, "#  x=%zz\n");
  free(s);
  rec_release(&r);
  TEST_DONE();
}

static void set_unset_fail(void)
{
  struct rec r;
  char *s;

  TEST_START("rec_set replaces in place, rec_unset removes, rec_fail");
  rec_parse(&r, "h a=1 b=2 c=3", 13, 1);
  rec_set(&r, "b", "x y");
  rec_unset(&r, "a");
  rec_fail(&r, "init", "cloud-init %s", "failed");
  s = rec_format(&r);
  ASSERT_STR_EQ(s, "h b=x%20y c=3 error=init:cloud-init%20failed\n");
  ASSERT_TRUE(rec_failed(&r));
  free(s);
  rec_release(&r);
  TEST_DONE();
}

static void hostport(void)
{
  static const struct { const char *a, *host; int port, rc; } t[] = {
    { "10.0.0.1", "10.0.0.1", 22, 0 }, { "h:2222", "h", 2222, 0 },
    { "[::1]:2200", "::1", 2200, 0 }, { "[::1]", "::1", 22, 0 },
    { "fe80::1", "fe80::1", 22, 0 }, { "h:0", NULL, 0, -1 },
    { "h:99999", NULL, 0, -1 }, { "[::1", NULL, 0, -1 },
    { "[::1]x", NULL, 0, -1 }, { "h:", NULL, 0, -1 },
  };
  size_t i;

  TEST_START("rec_hostport splits host and port");
  for (i = 0; i < ARRAY_LEN(t); i++) {
    struct rec r;
    char host[256];
    int port;

    rec_new(&r, t[i].a);
    ASSERT_INT_EQ(rec_hostport(&r, host, sizeof(host), &port, 22), t[i].rc);
    if (!t[i].rc) {
      ASSERT_STR_EQ(host, t[i].host);
      ASSERT_INT_EQ(port, t[i].port);
    }
    rec_release(&r);
  }
  TEST_DONE();
}

/* Random values of any non-NUL byte, random keys: format then parse must
 * give back the same fields in the same order, on one line, no spaces. */
static void roundtrip(void)
{
  int iter, i, j;

  TEST_START("record round-trip, 2000 random records");
  srand(12345);
  for (iter = 0; iter < 2000; iter++) {
    struct rec a, b;
    char key[8], val[40], *s;
    int n = rand() % 6;

    rec_new(&a, "127.0.0.1:22");
    for (i = 0; i < n; i++) {
      int kl = 1 + rand() % 6, vl = rand() % 39;

      for (j = 0; j < kl; j++) key[j] = "abcxyz019_"[rand() % 10];
      key[kl] = 0;
      for (j = 0; j < vl; j++) val[j] = 1 + rand() % 255;
      val[vl] = 0;
      rec_set(&a, key, "%s", val);
    }
    s = rec_format(&a);
    ASSERT_TRUE(!strchr(s, '\n') || strchr(s, '\n') == s + strlen(s) - 1);
    ASSERT_INT_EQ(rec_parse(&b, s, strlen(s) - 1, 1), 0);
    ASSERT_INT_EQ(b.n, a.n);
    for (i = 0; i < a.n && i < b.n; i++) {
      ASSERT_STR_EQ(b.f[i].key, a.f[i].key);
      ASSERT_STR_EQ(b.f[i].val, a.f[i].val);
    }
    free(s);
    rec_release(&a);
    rec_release(&b);
    if (unit_cur_failed) break;
  }
  TEST_DONE();
}

/* Key comparisons the parser made (lib/record.c counts them). */
extern unsigned long rec_work;

/* A line of n distinct fields "kN=v". */
static char *many_fields(int n)
{
  char *line = xmalloc(16 + (size_t)n * 12), *p = line;
  int i;

  p += sprintf(p, "h");
  for (i = 0; i < n; i++) p += sprintf(p, " k%d=v", i);
  return line;
}

static void raw_bytes_and_caps(void)
{
  static const char *const bad[] = {
    "h a=x\ty", "h a=\x01", "h a=x\x7f", "h a=\xff", "h a=\xc3",
    "h a=\xc3(", "h a=\xed\xa0\x80", "h a=\xf8\x88\x80\x80\x80",
  };
  struct rec r;
  unsigned long w100, w1000;
  char *line;
  size_t i;

  TEST_START("raw control and non-UTF-8 bytes are refused, not re-encoded");
  for (i = 0; i < ARRAY_LEN(bad); i++) {
    ASSERT_INT_EQ(rec_parse(&r, bad[i], strlen(bad[i]), 4), -1);
    ASSERT_TRUE(r.bad && strstr(r.bad, "%-encoded"));
    rec_release(&r);
  }
  line = "h a=\xc3\xa9\xe2\x82\xac";
  ASSERT_INT_EQ(rec_parse(&r, line, strlen(line), 4), 0);
  ASSERT_STR_EQ(rec_get(&r, "a"), "\xc3\xa9\xe2\x82\xac");
  rec_release(&r);
  TEST_DONE();

  TEST_START("the number of fields is capped");
  line = many_fields(REC_FIELDS_MAX + 1);
  ASSERT_INT_EQ(rec_parse(&r, line, strlen(line), 1), -1);
  ASSERT_TRUE(r.bad && strstr(r.bad, "fields"));
  rec_release(&r);
  free(line);
  line = many_fields(REC_FIELDS_MAX);
  ASSERT_INT_EQ(rec_parse(&r, line, strlen(line), 1), 0);
  ASSERT_INT_EQ(r.n, REC_FIELDS_MAX);
  rec_release(&r);
  free(line);
  TEST_DONE();

  /* Work, not time: 10x the fields must cost about 10x the comparisons
   * (a quadratic parser makes it 100x). */
  TEST_START("parsing is linear in the number of fields");
  line = many_fields(100);
  rec_work = 0;
  ASSERT_INT_EQ(rec_parse(&r, line, strlen(line), 1), 0);
  w100 = rec_work;
  rec_release(&r);
  free(line);
  line = many_fields(1000);
  rec_work = 0;
  ASSERT_INT_EQ(rec_parse(&r, line, strlen(line), 1), 0);
  w1000 = rec_work;
  ASSERT_STR_EQ(rec_get(&r, "k999"), "v");
  rec_release(&r);
  free(line);
  ASSERT_TRUE(w100 > 0 && w1000 < 20 * w100);
  ASSERT_INT_EQ(rec_parse(&r, "h a=1 b=2 a=3", 13, 1), 0);  /* last wins */
  ASSERT_INT_EQ(r.n, 2);
  ASSERT_STR_EQ(rec_get(&r, "a"), "3");
  rec_release(&r);
  TEST_DONE();
}

static void test_record(void)
{
  raw_bytes_and_caps();
  parse_cases();
  nul_and_passthrough();
  set_unset_fail();
  hostport();
  roundtrip();
}
UNIT_REGISTER(test_record)
