/* lib/sync/tarz.c - a tar stream (pax: ustar headers, with a pax extended
 * header only where ustar falls short, lib/sync/tarhdr.c) written to a sink
 * callback in 64 KB blocks, optionally gzip-compressed (lib/codec.c).
 * Entries are built from struct ment, not read back from disk metadata,
 * so no xattrs or ACL records reach the remote tar. Owns no file
 * descriptors beyond the one file it is copying. */
#include "mvm.h"
#include "sync.h"

#define TARZ_BLOCK (64 * 1024)   /* what each write to the sink is */

struct tarz {
  tarz_sink sink;
  void *arg;
  int level, failed;
  struct gz *gz;          /* NULL: level < 0, no compression */
  char *blk;             /* the block being filled */
  size_t nblk;
  struct tarz_stats st;
};

static int tz_sink(struct tarz *t, const void *p, size_t n)
{
  if (t->failed) return -1;
  t->st.wire += n;
  if (t->sink(t->arg, p, n)) t->failed = 1;
  return t->failed ? -1 : 0;
}

static int tz_gz_sink(void *arg, const void *p, size_t n)
{
  return tz_sink(arg, p, n);
}

/* The filled part of the block to the sink (through gzip). */
static int tz_flush(struct tarz *t)
{
  size_t n = t->nblk;

  t->nblk = 0;
  if (!n) return t->failed ? -1 : 0;
  t->st.raw += n;
  return t->gz ? gz_write(t->gz, t->blk, n) : tz_sink(t, t->blk, n);
}

/* N bytes of p (NULL: zeros) into the stream. */
static int tz_put(struct tarz *t, const void *p, size_t n)
{
  while (n) {
    size_t k = TARZ_BLOCK - t->nblk < n ? TARZ_BLOCK - t->nblk : n;

    if (p) memcpy(t->blk + t->nblk, p, k);
    else memset(t->blk + t->nblk, 0, k);
    t->nblk += k;
    n -= k;
    if (p) p = (const char *)p + k;
    if (t->nblk == TARZ_BLOCK && tz_flush(t)) return -1;
  }
  return t->failed ? -1 : 0;
}

struct tarz *tarz_open(tarz_sink sink, void *arg, int level)
{
  struct tarz *t = xzalloc(sizeof(*t));

  t->sink = sink;
  t->arg = arg;
  t->level = level;
  t->blk = xmalloc(TARZ_BLOCK);
  if (level >= 0) t->gz = gz_open(level, tz_gz_sink, t);
  return t;
}

static int tz_head(struct tarz *t, const char *name, const struct ment *e)
{
  struct buf h = { 0 };
  int rc;

  tar_header(&h, name, e);
  rc = tz_put(t, h.s, h.len);
  free(h.s);
  return rc;
}

/* A file's contents, read into the block itself, then its padding. A file
 * that grew is cut at the size in the header; one that shrank is padded
 * with zeros. The next run sends it again. */
static int tz_copy(struct tarz *t, int fd, const char *path, int64_t size)
{
  int64_t left = size;
  ssize_t n;

  while (left > 0) {
    size_t room = TARZ_BLOCK - t->nblk;

    n = read(fd, t->blk + t->nblk, (int64_t)room < left ? room : (size_t)left);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      return error("cannot read '%s': %s", path, strerror(errno));
    }
    t->nblk += n;
    left -= n;
    if (t->nblk == TARZ_BLOCK && tz_flush(t)) return -1;
  }
  return tz_put(t, NULL, left + (512 - size % 512) % 512);
}

int tarz_add(struct tarz *t, const char *name, int fd, const struct ment *e)
{
  if (tz_head(t, name, e)) return -1;
  return e->type == 'f' ? tz_copy(t, fd, e->path ? e->path : name, e->size)
                        : 0;
}

int tarz_add_data(struct tarz *t, const char *name, const void *data,
                  size_t n, unsigned mode)
{
  struct ment e = { .type = 'f', .size = (int64_t)n, .mode = mode,
                    .mtime = time(NULL) };

  if (tz_head(t, name, &e) || tz_put(t, data, n)) return -1;
  return tz_put(t, NULL, (512 - n % 512) % 512);
}

void tarz_abort(struct tarz *t)
{
  t->failed = 1;         /* nothing more reaches the sink: no trailer */
  tarz_close(t, NULL);
}

void tarz_stats(const struct tarz *t, struct tarz_stats *st)
{
  *st = t->st;
  if (t->gz) st->zsecs = gz_secs(t->gz);
}

int tarz_close(struct tarz *t, struct tarz_stats *st)
{
  /* the end: two zero blocks, the last 64 KB block not padded */
  int rc = t->failed || tz_put(t, NULL, 1024) || tz_flush(t) ? -1 : 0;

  if (!rc && t->gz) rc = gz_finish(t->gz);
  if (st) tarz_stats(t, st);
  gz_free(t->gz);
  free(t->blk);
  free(t);
  return rc;
}

