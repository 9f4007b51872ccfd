/* lib/tarz.c - a tar stream (libarchive, pax: ustar headers, with a pax
 * extended header only where ustar falls short: long or non-ASCII names,
 * big values, and an mtime with nanoseconds, which rsync -a keeps too)
 * written to a sink callback, optionally gzip-compressed with zlib.
 * Entries are built from struct ment, not read back from disk metadata,
 * so no xattrs or ACL records reach the remote tar. Owns no file
 * descriptors beyond the one file it is copying. */
#include "mvm.h"
#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#define TARZ_BUF (256 * 1024)

struct tarz {
  struct archive *a;
  tarz_sink sink;
  void *arg;
  int level, failed;
  z_stream z;
  unsigned char *zout;
  char *buf;
  struct tarz_stats st;
};

static int tz_sink(struct tarz *t, const void *p, size_t n)
{
  if (t->failed) return -1;
  t->st.wire += n;
  if (t->sink(t->arg, p, n)) t->failed = 1;
  return t->failed ? -1 : 0;
}

/* Run deflate over in (flush: Z_NO_FLUSH or Z_FINISH), sinking output. */
static int tz_deflate(struct tarz *t, const void *in, size_t n, int flush)
{
  double t0 = now_s();
  int rc;

  t->z.next_in = (unsigned char *)in;
  t->z.avail_in = n;
  do {
    t->z.next_out = t->zout;
    t->z.avail_out = TARZ_BUF;
    rc = deflate(&t->z, flush);
    if (rc == Z_STREAM_ERROR) return error("deflate failed");
    if (TARZ_BUF - t->z.avail_out) {
      t->st.zsecs += now_s() - t0;
      if (tz_sink(t, t->zout, TARZ_BUF - t->z.avail_out)) return -1;
      t0 = now_s();
    }
  } while (t->z.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
  t->st.zsecs += now_s() - t0;
  return 0;
}

static la_ssize_t tz_write(struct archive *a, void *arg, const void *p,
                           size_t n)
{
  struct tarz *t = arg;

  (void)a;
  t->st.raw += n;
  if (t->level < 0 ? tz_sink(t, p, n) : tz_deflate(t, p, n, Z_NO_FLUSH))
    return -1;
  return n;
}

struct tarz *tarz_open(tarz_sink sink, void *arg, int level)
{
  struct tarz *t = xzalloc(sizeof(*t));

  t->sink = sink;
  t->arg = arg;
  t->level = level;
  t->buf = xmalloc(TARZ_BUF);
  if (level >= 0) {
    t->zout = xmalloc(TARZ_BUF);
    /* windowBits 15 + 16: a gzip wrapper, what `tar -xz` expects */
    if (deflateInit2(&t->z, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY))
      die("out of memory");
  }
  mvm.err[0] = 0;                        /* lazyarchive.c says why */
  t->a = archive_write_new();
  if (!t->a) die("tar: %s", *mvm.err ? mvm.err : "cannot start libarchive");
  /* not "restricted": that drops the nanoseconds of an mtime unless the
   * entry needs a pax header anyway; full pax adds one only for them
   * (no atime, ctime or xattrs: entries are built from struct ment) */
  archive_write_set_format_pax(t->a);
  /* big blocks for the pipe, and no padding of the last one */
  archive_write_set_bytes_per_block(t->a, 64 * 1024);
  archive_write_set_bytes_in_last_block(t->a, 1);
  if (archive_write_open(t->a, t, NULL, tz_write, NULL) != ARCHIVE_OK)
    die("tar: %s", archive_error_string(t->a));
  return t;
}

static int tz_err(struct tarz *t, const char *what)
{
  if (t->failed && *mvm.err) return -1;
  return error("%s: %s", what, archive_error_string(t->a));
}

static int tz_copy(struct tarz *t, int fd, const char *path, int64_t size)
{
  ssize_t n;

  /* A file that grew is cut at the size in the header; one that shrank is
   * padded with zeros by libarchive. The next run sends it again. */
  while (size > 0 && (n = read(fd, t->buf, TARZ_BUF)) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      return error("cannot read '%s': %s", path, strerror(errno));
    }
    if (n > size) n = size;
    if (archive_write_data(t->a, t->buf, n) < 0) return tz_err(t, path);
    size -= n;
  }
  return 0;
}

int tarz_add(struct tarz *t, const char *name, int fd, const struct ment *e)
{
  struct archive_entry *ae = archive_entry_new();
  int rc = -1, r;

  if (!ae) die("out of memory");
  archive_entry_copy_pathname(ae, name);
  archive_entry_set_mtime(ae, e->mtime, e->nsec);
  archive_entry_set_perm(ae, e->mode & 07777);
  archive_entry_set_uid(ae, e->uid);
  archive_entry_set_gid(ae, e->gid);
  if (e->type == 'd') {
    archive_entry_set_filetype(ae, AE_IFDIR);
  } else if (e->type == 'l') {
    archive_entry_set_filetype(ae, AE_IFLNK);
    archive_entry_copy_symlink(ae, e->link);
  } else {
    archive_entry_set_filetype(ae, AE_IFREG);
    archive_entry_set_size(ae, e->size);
  }
  r = archive_write_header(t->a, ae);
  if (r < ARCHIVE_WARN) {
    tz_err(t, name);
    goto out;
  }
  if (e->type == 'f' && tz_copy(t, fd, e->path ? e->path : name, e->size))
    goto out;
  if (archive_write_finish_entry(t->a) < ARCHIVE_WARN) {
    tz_err(t, name);
    goto out;
  }
  rc = 0;
out:
  archive_entry_free(ae);
  return rc;
}

int tarz_add_data(struct tarz *t, const char *name, const void *data,
                  size_t n, unsigned mode)
{
  struct archive_entry *ae = archive_entry_new();
  int rc = -1;

  if (!ae) die("out of memory");
  archive_entry_copy_pathname(ae, name);
  archive_entry_set_filetype(ae, AE_IFREG);
  archive_entry_set_perm(ae, mode);
  archive_entry_set_size(ae, n);
  archive_entry_set_mtime(ae, time(NULL), 0);
  if (archive_write_header(t->a, ae) < ARCHIVE_WARN ||
      (n && archive_write_data(t->a, data, n) < 0) ||
      archive_write_finish_entry(t->a) < ARCHIVE_WARN)
    tz_err(t, name);
  else
    rc = 0;
  archive_entry_free(ae);
  return rc;
}

void tarz_abort(struct tarz *t)
{
  t->failed = 1;         /* nothing more reaches the sink: no trailer */
  tarz_close(t, NULL);
}

void tarz_stats(const struct tarz *t, struct tarz_stats *st)
{
  *st = t->st;
}

int tarz_close(struct tarz *t, struct tarz_stats *st)
{
  int rc = 0;

  if (!t->failed && archive_write_close(t->a) != ARCHIVE_OK)
    rc = tz_err(t, "tar");
  if (t->failed) rc = -1;
  if (!rc && t->level >= 0) rc = tz_deflate(t, "", 0, Z_FINISH);
  archive_write_free(t->a);
  if (t->level >= 0) {
    deflateEnd(&t->z);
    free(t->zout);
  }
  if (st) *st = t->st;
  free(t->buf);
  free(t);
  return rc;
}

int gunzip_buf(const char *in, size_t n, char **out, size_t *outlen,
               size_t max)
{
  z_stream z = { 0 };
  size_t cap = n * 4 + 4096, len = 0;
  char *buf;
  int rc;

  if (cap > max) cap = max;
  if (inflateInit2(&z, 31) != Z_OK) die("out of memory");
  buf = xmalloc(cap + 1);
  z.next_in = (unsigned char *)in;
  z.avail_in = n;
  do {
    if (len == cap) {
      if (cap >= max) {
        rc = Z_MEM_ERROR;
        break;
      }
      cap = cap * 2 > max ? max : cap * 2;
      buf = xrealloc(buf, cap + 1);
    }
    z.next_out = (unsigned char *)buf + len;
    z.avail_out = cap - len;
    rc = inflate(&z, Z_NO_FLUSH);
    len = cap - z.avail_out;
  } while (rc == Z_OK || (rc == Z_BUF_ERROR && len == cap));
  inflateEnd(&z);
  if (rc != Z_STREAM_END) {
    free(buf);
    if (rc == Z_MEM_ERROR) return error("gzip data over %zu bytes", max);
    return error("bad gzip data");
  }
  buf[len] = 0;
  *out = buf;
  *outlen = len;
  return 0;
}
