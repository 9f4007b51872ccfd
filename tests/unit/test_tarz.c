/* tests/unit/test_tarz.c - lib/sync/tarz.c: write a tar stream (plain and
 * gzip) into memory and read it back with libarchive's reader: names (long,
 * UTF-8, with a newline), types, modes, mtimes, link targets and contents;
 * a failing sink fails the stream; gunzip_buf both ways and its cap. */
#include "unit.h"
#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

struct mem {
  char *buf;
  size_t len;
  int fail_after;        /* sink fails on this call (0: never) */
  int calls;
};

static int mem_sink(void *arg, const void *p, size_t n)
{
  struct mem *m = arg;

  if (m->fail_after && ++m->calls >= m->fail_after)
    return error("sink failed");
  m->buf = xrealloc(m->buf, m->len + n);
  memcpy(m->buf + m->len, p, n);
  m->len += n;
  return 0;
}

static char *tmpfile_with(const char *data, size_t n)
{
  char *path = xstrdup("/tmp/mvm-test-tarz.XXXXXX");
  int fd = mkstemp(path);

  xwriteall(fd, data, n);
  close(fd);
  return path;
}

static void roundtrip(int level)
{
  static char big[300000];
  char longname[400], *path, got[16];
  struct ment f = { .type = 'f', .mode = 0751, .mtime = 1600000000,
                    .nsec = 123456789 };
  struct ment d = { .type = 'd', .mode = 0700, .mtime = 1500000000 };
  struct ment l = { .type = 'l', .mode = 0777, .mtime = 1, .link = "../x y" };
  struct mem m = { 0 };
  struct tarz_stats st;
  struct archive *a;
  struct archive_entry *e;
  struct tarz *t;
  size_t i;
  la_ssize_t n;
  int fd;

  for (i = 0; i < sizeof(big); i++) big[i] = "abcdefgh"[i % 7 % 8];
  memset(longname, 'n', sizeof(longname));
  memcpy(longname, "t/\xc3\xa9\xe6\x97\xa5 dir/", 12);
  longname[sizeof(longname) - 1] = 0;
  path = tmpfile_with(big, sizeof(big));
  f.size = sizeof(big);
  t = tarz_open(mem_sink, &m, level);
  fd = open(path, O_RDONLY);
  ASSERT_INT_EQ(tarz_add(t, "t", -1, &d), 0);
  ASSERT_INT_EQ(tarz_add(t, longname, fd, &f), 0);
  ASSERT_INT_EQ(tarz_add(t, "t/new\nline", -1, &l), 0);
  close(fd);
  ASSERT_INT_EQ(tarz_add_data(t, "a", "echo hi\n", 8, 0600), 0);
  ASSERT_INT_EQ(tarz_close(t, &st), 0);
  ASSERT_INT_EQ(st.wire, m.len);
  ASSERT_TRUE(level < 0 ? st.raw == st.wire : st.wire < st.raw / 4);

  a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_all(a);
  ASSERT_INT_EQ(archive_read_open_memory(a, m.buf, m.len), ARCHIVE_OK);
  ASSERT_INT_EQ(archive_read_next_header(a, &e), ARCHIVE_OK);
  ASSERT_STR_EQ(archive_entry_pathname(e), "t/");
  ASSERT_INT_EQ(archive_entry_filetype(e), AE_IFDIR);
  ASSERT_INT_EQ(archive_entry_perm(e), 0700);
  ASSERT_INT_EQ(archive_read_next_header(a, &e), ARCHIVE_OK);
  ASSERT_STR_EQ(archive_entry_pathname(e), longname);
  ASSERT_INT_EQ(archive_entry_size(e), sizeof(big));
  ASSERT_INT_EQ(archive_entry_mtime(e), 1600000000);
  ASSERT_INT_EQ(archive_entry_mtime_nsec(e), 123456789);
  ASSERT_INT_EQ(archive_entry_perm(e), 0751);
  n = archive_read_data(a, got, sizeof(got));
  ASSERT_INT_EQ(n, sizeof(got));
  ASSERT_INT_EQ(memcmp(got, big, sizeof(got)), 0);
  ASSERT_INT_EQ(archive_read_next_header(a, &e), ARCHIVE_OK);
  ASSERT_STR_EQ(archive_entry_pathname(e), "t/new\nline");
  ASSERT_STR_EQ(archive_entry_symlink(e), "../x y");
  ASSERT_INT_EQ(archive_entry_mtime_nsec(e), 0);
  ASSERT_INT_EQ(archive_read_next_header(a, &e), ARCHIVE_OK);
  ASSERT_STR_EQ(archive_entry_pathname(e), "a");
  ASSERT_INT_EQ(archive_read_next_header(a, &e), ARCHIVE_EOF);
  archive_read_free(a);
  unlink(path);
  free(path);
  free(m.buf);
}

static void failures(void)
{
  struct ment f = { .type = 'f', .mode = 0644, .size = 5 };
  struct mem m = { .fail_after = 1 };
  struct tarz *t;
  char big[200000] = { 0 };
  char *path = tmpfile_with(big, sizeof(big));
  int fd;

  TEST_START("tarz: a failing sink fails the stream");
  memset(&m, 0, sizeof(m));
  m.fail_after = 2;
  f.size = sizeof(big);
  t = tarz_open(mem_sink, &m, -1);
  fd = open(path, O_RDONLY);
  ASSERT_INT_EQ(tarz_add(t, "x", fd, &f), -1);
  close(fd);
  ASSERT_INT_EQ(tarz_close(t, NULL), -1);
  ASSERT_STR_EQ(mvm.err, "sink failed");
  free(m.buf);
  unlink(path);
  free(path);
  TEST_DONE();
}

static void gunzip(void)
{
  static const char text[] = "hello hello hello hello\0with NUL";
  unsigned char gz[256];
  z_stream z = { 0 };
  char *out;
  size_t len;

  deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
  z.next_in = (unsigned char *)text;
  z.avail_in = sizeof(text);
  z.next_out = gz;
  z.avail_out = sizeof(gz);
  deflate(&z, Z_FINISH);
  deflateEnd(&z);

  TEST_START("gunzip_buf: round trip, cap, garbage");
  ASSERT_INT_EQ(gunzip_buf((char *)gz, z.total_out, &out, &len, 1024), 0);
  ASSERT_INT_EQ(len, sizeof(text));
  ASSERT_INT_EQ(memcmp(out, text, len), 0);
  free(out);
  ASSERT_INT_EQ(gunzip_buf((char *)gz, z.total_out, &out, &len, 10), -1);
  ASSERT_INT_EQ(gunzip_buf((char *)gz, z.total_out - 4, &out, &len, 1024),
                -1);
  ASSERT_INT_EQ(gunzip_buf("\x1f\x8bxxxxxxxxxx", 12, &out, &len, 1024), -1);
  TEST_DONE();
}

struct chunks {
  struct buf b;
  size_t most;
  int n, fail_at;
};

static int chunk_sink(void *arg, const void *p, size_t n)
{
  struct chunks *c = arg;

  if (++c->n == c->fail_at) return error("sink failed");
  if (n > c->most) c->most = n;
  buf_add(&c->b, p, n);
  return 0;
}

static void gz_stream(void)
{
  size_t i, n = 3 * 1024 * 1024, len;
  unsigned char *in = xmalloc(n);
  unsigned x = 1;
  struct chunks c = { { 0 }, 0, 0, 0 };
  struct gz *g;
  char *out;

  for (i = 0; i < n; i++) {     /* an LCG's high bytes: deflate cannot */
    x = x * 1103515245 + 12345;  /* shrink it much, so many chunks */
    in[i] = (unsigned char)(x >> 24);
  }
  TEST_START("gz stream: random 3 MB in pieces reads back, 64 KB at most");
  g = gz_open(1, chunk_sink, &c);
  for (i = 0; i < n; i += 100000)
    ASSERT_INT_EQ(gz_write(g, in + i, n - i < 100000 ? n - i : 100000), 0);
  ASSERT_INT_EQ(gz_finish(g), 0);
  ASSERT_INT_EQ(gz_secs(g) > 0, 1);
  gz_free(g);
  ASSERT_INT_EQ(c.most <= 64 * 1024, 1);
  ASSERT_INT_EQ(c.n > 1, 1);
  ASSERT_INT_EQ(gunzip_buf(c.b.s, c.b.len, &out, &len, n), 0);
  ASSERT_INT_EQ(len, n);
  ASSERT_INT_EQ(memcmp(out, in, n), 0);
  free(out);
  free(c.b.s);
  TEST_DONE();

  TEST_START("gz stream: a failing sink fails the write, mvm.err its");
  c = (struct chunks){ { 0 }, 0, 0, 2 };
  g = gz_open(1, chunk_sink, &c);
  for (i = 0, x = 0; i < n && !x; i += 100000)
    x = gz_write(g, in + i, n - i < 100000 ? n - i : 100000) != 0;
  ASSERT_INT_EQ(x, 1);
  ASSERT_STR_EQ(mvm.err, "sink failed");
  gz_free(g);
  free(c.b.s);
  free(in);
  TEST_DONE();
}

static void test_tarz(void)
{
  TEST_START("tarz: plain stream reads back exactly");
  roundtrip(-1);
  TEST_DONE();
  TEST_START("tarz: gzip stream reads back exactly");
  roundtrip(1);
  TEST_DONE();
  failures();
  gunzip();
  gz_stream();
}
UNIT_REGISTER(test_tarz)
