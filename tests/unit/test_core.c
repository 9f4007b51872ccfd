/* tests/unit/test_core.c - the core modules no applet test reaches alone:
 * the bounded line reader (lib/lines.c) fed in pieces through a pipe, the
 * journal (lib/journal.c) on a scratch path, and the worker pool
 * (lib/pool.c) with children that send, send twice, or die silently. */
#include "unit.h"

/* Feed CHUNKS through a pipe one write at a time, reading lines between
 * writes as the runner's poll loop does; the lines read, joined by '|'
 * ("+" after a line that was cut), go to OUT. */
static void read_pieces(const char **chunks, int n, struct buf *out)
{
  struct lines l;
  char *line;
  size_t len;
  int fd[2], toolong, i, rc = 0;

  xpipe(fd);
  if (!xfork()) {             /* the writer: a chunk may outgrow the pipe */
    close(fd[0]);
    for (i = 0; i < n; i++) {
      writeall(fd[1], chunks[i], strlen(chunks[i]));
      usleep(1000);           /* each its own read(), most of the time */
    }
    _exit(0);
  }
  close(fd[1]);
  lines_init(&l, fd[0]);
  do {
    lines_fill(&l);
    while ((rc = lines_next(&l, &line, &len, &toolong)) == 1) {
      buf_add(out, line, len);
      buf_add(out, toolong ? "+|" : "|", toolong ? 2 : 1);
      free(line);
    }
  } while (rc == 0);
  buf_add(out, "", 1);
  close(fd[0]);
  lines_release(&l);
  wait(NULL);
}

static void lines_cases(void)
{
  static const char *split[] = { "a b", "=1\nsecond", " line\n", "last" };
  struct buf out = { 0 };

  TEST_START("lines: a line split across reads, a last line without \\n");
  read_pieces(split, 4, &out);
  ASSERT_STR_EQ(out.s, "a b=1|second line|last|");
  TEST_DONE();
  free(out.s);
}

/* A line longer than REC_LINE_MAX is cut there, flagged once, and the
 * rest of it skipped, however many reads it spans; the next line is
 * whole. */
static void lines_overlong(void)
{
  size_t big = REC_LINE_MAX + 10000;
  char *a = xmalloc(big + 1), *b = xmalloc(big + 1);
  const char *chunks[4];
  struct buf out = { 0 };
  char *want;

  memset(a, 'x', big);
  a[big] = 0;
  memset(b, 'y', big);
  b[big] = 0;
  chunks[0] = a;
  chunks[1] = b;
  chunks[2] = "\nnext\n";
  chunks[3] = "";
  TEST_START("lines: an overlong line is cut at REC_LINE_MAX, its tail skipped");
  read_pieces(chunks, 4, &out);
  want = xmalloc(REC_LINE_MAX + 16);
  memset(want, 'x', REC_LINE_MAX);
  strcpy(want + REC_LINE_MAX, "+|next|");
  ASSERT_INT_EQ(strlen(out.s), strlen(want));
  ASSERT_TRUE(!strcmp(out.s, want));
  TEST_DONE();
  free(a);
  free(b);
  free(want);
  free(out.s);
}

/* The journal makes its directories 0700 and itself 0600, appends one
 * record per line, and each line parses back as the record written. */
static void journal_appends(void)
{
  char dir[] = "/tmp/mvmunit.XXXXXX", *path, *sub, line[256];
  const char *old = getenv("MVM_JOURNAL");
  char *saved = old ? xstrdup(old) : NULL;
  struct stat st;
  struct rec r, back;
  FILE *f;
  int n = 0;

  TEST_START("journal: 0700 directories, a 0600 file, records parse back");
  ASSERT_TRUE(mkdtemp(dir) != NULL);
  path = xasprintf("%s/a/b/journal", dir);
  setenv("MVM_JOURNAL", path, 1);
  ASSERT_STR_EQ(journal_path(), path);
  rec_new(&r, "-");
  rec_set(&r, "provider", "vultr");
  rec_set(&r, "intent", "%s", "mvm-x y");
  ASSERT_INT_EQ(journal_add(&r), 0);
  rec_set(&r, "id", "i-1");
  ASSERT_INT_EQ(journal_add(&r), 0);
  sub = xasprintf("%s/a", dir);
  ASSERT_INT_EQ(stat(sub, &st), 0);
  ASSERT_INT_EQ(st.st_mode & 0777, 0700);
  ASSERT_INT_EQ(stat(path, &st), 0);
  ASSERT_INT_EQ(st.st_mode & 0777, 0600);
  if ((f = fopen(path, "r"))) {
    while (fgets(line, sizeof(line), f)) {
      ASSERT_INT_EQ(rec_parse(&back, line, strcspn(line, "\n"), ++n), 0);
      ASSERT_STR_EQ(rec_get(&back, "intent"), "mvm-x y");
      if (n == 2) ASSERT_STR_EQ(rec_get(&back, "id"), "i-1");
      rec_release(&back);
    }
    fclose(f);
  }
  ASSERT_INT_EQ(n, 2);
  TEST_DONE();
  rec_release(&r);
  unlink(path);
  *strrchr(path, '/') = 0;
  rmdir(path);
  rmdir(sub);
  rmdir(dir);
  free(path);
  free(sub);
  if (saved) setenv("MVM_JOURNAL", saved, 1);
  else unsetenv("MVM_JOURNAL");
  free(saved);
}

/* Pool jobs: job i sends i records (job 0 none: it exits 3, lost). */
struct tally {
  int got[6], lost[6], lost_status[6];
};

static void child_sends(int i, int fd, void *arg)
{
  struct rec r;
  int k;

  (void)arg;
  if (i == 0) _exit(3);
  for (k = 0; k < i; k++) {
    rec_new(&r, "h");
    rec_set(&r, "job", "%d", i);
    pool_send(fd, &r);
    rec_release(&r);
  }
}

static void got(int i, struct rec *r, void *arg)
{
  struct tally *t = arg;

  if (atoi(rec_get(r, "job") ? rec_get(r, "job") : "-1") == i) t->got[i]++;
}

static void lost(int i, int status, void *arg)
{
  struct tally *t = arg;

  t->lost[i]++;
  t->lost_status[i] = status;
}

static void pool_jobs(void)
{
  struct tally t;
  struct pool p = { child_sends, got, lost, &t, 0 };
  int i;

  memset(&t, 0, sizeof(t));
  TEST_START("pool: 6 jobs, 2 at a time: every record got, a silent job lost");
  pool_run(&p, 6, 2);
  for (i = 1; i < 6; i++) {
    ASSERT_INT_EQ(t.got[i], i);
    ASSERT_INT_EQ(t.lost[i], 0);
  }
  ASSERT_INT_EQ(t.got[0], 0);
  ASSERT_INT_EQ(t.lost[0], 1);
  ASSERT_INT_EQ(t.lost_status[0], 3);   /* xwaitpid: the exit code */
  TEST_DONE();
}

UNIT_REGISTER(test_core)
static void test_core(void)
{
  lines_cases();
  lines_overlong();
  journal_appends();
  pool_jobs();
}

/* lib/json.c's builder in steps and its string walk (mvm-kvmcheck --json
 * and mvm-waitinit's cloud-init errors). */
UNIT_REGISTER(test_json_steps)
static void test_json_steps(void)
{
  struct json *a = json_make("[]"), *doc, *j;
  char *s, *lines = NULL;

  TEST_START("json_make, json_push and json_dump build a document");
  json_push(a, json_make("{s:s}", "name", "a\"b"));
  json_push(a, json_make("{s:i}", "n", 2));
  doc = json_make("{s:s, s:o}", "host", "h", "checks", a);
  s = json_dump(doc, 0);
  ASSERT_STR_EQ(s, "{\"host\":\"h\",\"checks\":[{\"name\":\"a\\\"b\"},{\"n\":2}]}");
  free(s);
  s = json_dump(doc, 1);
  ASSERT_TRUE(strstr(s, "\n  \"host\": \"h\"") != NULL);
  free(s);
  json_free(doc);
  TEST_DONE();

  TEST_START("json_strings gathers every string below a value, in order");
  j = json_parse("{\"e\":[\"x\",{\"k\":\"y\",\"n\":1},[\"z\"]]}", 33);
  ASSERT_TRUE(j != NULL);
  json_strings(json_get(j, "e"), &lines);
  ASSERT_STR_EQ(lines, "x\ny\nz\n");
  json_strings(json_get(j, "absent"), &lines);
  ASSERT_STR_EQ(lines, "x\ny\nz\n");
  free(lines);
  json_free(j);
  TEST_DONE();
}
