/* tests/unit/test_manifest.c - lib/sync/manifest.c and lib/sync/plan.c: path
 * order, exclude patterns, the remote manifest parser (good and malformed
 * input), sha256sum output, and the plans made from two manifests. */
#include "unit.h"

static void order(void)
{
  static const struct {
    const char *a, *b;
    int sign;
  } t[] = {
    { "", "a", -1 }, { "a", "a/b", -1 }, { "a/b", "a b", -1 },
    { "a/z", "a.b", -1 }, { "a/b", "a/b", 0 }, { "b", "a/c", 1 },
    { "\xc3\xa9", "z", 1 }, { "a/b/c", "a/bc", -1 },
  };
  size_t i;
  int c;

  TEST_START("path_cmp: a subtree right after its root");
  for (i = 0; i < ARRAY_LEN(t); i++) {
    c = path_cmp(t[i].a, t[i].b);
    ASSERT_INT_EQ(c < 0 ? -1 : c > 0, t[i].sign);
  }
  TEST_DONE();
}

static void excludes(void)
{
  static char *pat[] = { "target/", "*.o", "/build", "docs/*.tmp" };
  static const struct {
    const char *path;
    int dir, want;
  } t[] = {
    { "target", 1, 1 }, { "target", 0, 0 }, { "a/b/target", 1, 1 },
    { "x.o", 0, 1 }, { "d/x.o", 0, 1 }, { "x.oo", 0, 0 },
    { "build", 1, 1 }, { "a/build", 1, 0 }, { "docs/a.tmp", 0, 1 },
    { "docs/a/b.tmp", 0, 0 }, { "src/main.c", 0, 0 },
  };
  size_t i;

  TEST_START("excl_match: gitignore-style globs");
  for (i = 0; i < ARRAY_LEN(t); i++)
    ASSERT_INT_EQ(excl_match(pat, 4, t[i].path, t[i].dir), t[i].want);
  TEST_DONE();
}

/* Parse a manifest written with '|' for NUL. */
static int parse(struct manifest *m, char **buf, const char *text,
                 size_t *used)
{
  size_t n = strlen(text), i, u;
  char *excl[] = { "target/" };

  *buf = xstrdup(text);
  for (i = 0; i < n; i++)
    if ((*buf)[i] == '|') (*buf)[i] = 0;
  return manifest_parse(m, *buf, n, used ? used : &u, excl, 1);
}

static void parser(void)
{
  struct manifest m;
  struct ment *e;
  char *buf;
  size_t used;

  TEST_START("manifest_parse: entries, sort, excludes, sections");
  ASSERT_INT_EQ(parse(&m, &buf,
    "@|d 4096 1700000000.5 755 ||"
    "f 3 1600000000.0000000000 644 a b|"
    "new\nline|"
    "l 5 1 777 lnk|a b|"
    "d 40 2 700 target||f 1 2 644 target/x||"
    "p 0 3 644 fifo||"
    "f 9 -5 4755 sub/x||@|f 1 1 1 next||", &used), 0);
  ASSERT_INT_EQ(m.n, 4);
  ASSERT_STR_EQ(m.e[0].path, "");
  ASSERT_INT_EQ(m.e[0].type, 'd');
  ASSERT_INT_EQ(m.e[0].mtime, 1700000000);
  ASSERT_INT_EQ(m.e[0].nsec, 500000000);
  e = manifest_find(&m, "a b");
  ASSERT_TRUE(e && e->nsec == 0 && e->mtime == 1600000000);
  ASSERT_NULL(manifest_find(&m, "target"));
  e = manifest_find(&m, "lnk");
  ASSERT_TRUE(e && e->type == 'l' && !strcmp(e->link, "a b"));
  e = manifest_find(&m, "sub/x");
  ASSERT_TRUE(e && e->mode == 04755 && e->mtime == -5 && e->size == 9);
  ASSERT_TRUE(buf[used] == '@');
  manifest_release(&m);
  free(buf);
  TEST_DONE();

  TEST_START("manifest_parse: the name with a newline is one entry");
  ASSERT_INT_EQ(parse(&m, &buf, "@|f 3 1 644 a\nb||", NULL), 0);
  ASSERT_INT_EQ(m.n, 1);
  ASSERT_STR_EQ(m.e[0].path, "a\nb");
  manifest_release(&m);
  free(buf);
  TEST_DONE();

  TEST_START("manifest_parse: malformed input is an error, not a crash");
  {
    static const char *bad[] = {
      "", "f 1 1 644 x||", "@|f x 1 644 a||", "@|f 1 1 644 a|",
      "@|f 1 1 644 a", "@|f 1 1|", "@|f 1 1x 644 a||", "@|f 1 1 64z a||",
      "@|!|",
    };
    size_t i;

    for (i = 0; i < ARRAY_LEN(bad); i++) {
      ASSERT_INT_EQ(parse(&m, &buf, bad[i], NULL), -1);
      manifest_release(&m);
      free(buf);
    }
  }
  TEST_DONE();
}

static void sums(void)
{
  struct ment a = { .path = "a" }, b = { .path = "b" }, c = { .path = "c" };
  struct ment *cand[] = { &a, &b, &c };
  const char *out =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff  a\n"
    "\\ffeeddccbbaa99887766554433221100ffeeddccbbaa9988776655443322110f"
    "  b\\nx\n"
    "zz  c\n";

  TEST_START("sums_parse: plain and escaped lines, junk ignored");
  sums_parse(out, cand, 3);
  ASSERT_INT_EQ(a.flags & ME_SUM, ME_SUM);
  ASSERT_INT_EQ(a.sum[1], 0x11);
  ASSERT_INT_EQ(b.flags & ME_SUM, ME_SUM);
  ASSERT_INT_EQ(b.sum[31], 0x0f);
  ASSERT_INT_EQ(c.flags & ME_SUM, 0);
  TEST_DONE();
}

/* plan for local L and remote R (both '|' manifests) */
static void plan_for(struct plan *p, const char *l, const char *r,
                     char **bl, char **br, struct manifest *ml,
                     struct manifest *mr)
{
  struct plan_opts o = { .dest = "/d/t", .delete = 1, .dry = 1 };

  parse(ml, bl, l, NULL);
  parse(mr, br, r, NULL);
  plan_make(p, ml, mr, &o);
}

static void plan_done(struct plan *p, char *bl, char *br,
                      struct manifest *ml, struct manifest *mr)
{
  plan_release(p);
  manifest_release(ml);
  manifest_release(mr);
  free(bl);
  free(br);
}

static void plans(void)
{
  static const char *L = "@|d 0 5 755 ||f 3 10 644 a||d 0 5 755 s||"
                         "f 4 10 600 s/it's||l 0 1 777 k|a|";
  struct manifest ml, mr;
  struct plan p;
  char *bl, *br;

  TEST_START("plan: no change, no work");
  plan_for(&p, L, L, &bl, &br, &ml, &mr);
  ASSERT_INT_EQ(p.work, 0);
  ASSERT_INT_EQ(p.nsend, 0);
  plan_done(&p, bl, br, &ml, &mr);
  TEST_DONE();

  TEST_START("plan: the whole tree is new: one mv of the root");
  plan_for(&p, L, "@|", &bl, &br, &ml, &mr);
  ASSERT_INT_EQ(p.nsend, 5);
  ASSERT_INT_EQ(p.files, 3);
  ASSERT_TRUE(strstr(p.script, "mv -- \"$S/t\" \"$D\"\n") != NULL);
  ASSERT_NULL(strstr(p.script, "mv -f"));
  plan_done(&p, bl, br, &ml, &mr);
  TEST_DONE();

  TEST_START("plan: changed, deleted, retyped, chmod, quoting");
  plan_for(&p, L, "@|d 0 5 755 ||f 3 9 644 a||d 0 5 700 s||"
           "d 0 1 755 s/it's||f 1 1 644 s/it's/in||f 1 1 644 gone||"
           "l 0 1 777 k|a|", &bl, &br, &ml, &mr);
  ASSERT_INT_EQ(p.nsend, 2);
  ASSERT_TRUE(strstr(p.script, "rm -rf -- 's/it'\\''s'\n") != NULL);
  ASSERT_TRUE(strstr(p.script, "mv -f -- \"$S\"/t/'a' './'\n") != NULL);
  ASSERT_TRUE(strstr(p.script,
                     "mv -f -- \"$S\"/t/'s/it'\\''s' 's/'\n") != NULL);
  ASSERT_TRUE(strstr(p.script, "rm -rf -- 'gone'\n") != NULL);
  ASSERT_TRUE(strstr(p.script, "chmod 0755 -- 's'\n") != NULL);
  ASSERT_TRUE(strstr(p.script, "touch -c -d @5.000000000 -- '.' 's'\n")
              != NULL);
  ASSERT_NULL(strstr(p.script, "s/it's/in"));
  ASSERT_INT_EQ(p.ndry, 4);
  ASSERT_TRUE(strstr(p.script, "if [ -L \"$D\" ]") != NULL);
  plan_done(&p, bl, br, &ml, &mr);
  TEST_DONE();

  TEST_START("plan: nanoseconds count: a file sent, a dir and a link too");
  plan_for(&p, "@|d 0 5.1 755 ||f 3 10.000000002 644 a||l 0 1 777 k|a|"
           "d 0 7 755 s||",
           "@|d 0 5.1000000000 755 ||f 3 10.0000000010 644 a||"
           "l 0 1.5 777 k|a|d 0 7.0000000010 755 s||", &bl, &br, &ml, &mr);
  ASSERT_INT_EQ(p.nsend, 2);
  ASSERT_TRUE(strstr(p.script, "touch -c -d @5.100000000 -- '.'\n") != NULL);
  ASSERT_TRUE(strstr(p.script, "touch -c -d @7.000000000 -- 's'\n") != NULL);
  plan_done(&p, bl, br, &ml, &mr);
  TEST_DONE();

  TEST_START("plan: a time before 1970 with nanoseconds");
  plan_for(&p, "@|d 0 -1.25 755 ||", "@|d 0 3 755 ||", &bl, &br, &ml, &mr);
  ASSERT_TRUE(strstr(p.script, "touch -c -d @-0.750000000 -- '.'\n")
              != NULL);
  plan_done(&p, bl, br, &ml, &mr);
  TEST_DONE();
}

static void test_manifest(void)
{
  order();
  excludes();
  parser();
  sums();
  plans();
}
UNIT_REGISTER(test_manifest)
