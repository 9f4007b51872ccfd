/* lib/sync/tarhdr.c - the header blocks of one tar entry, POSIX pax as GNU tar
 * and busybox tar read it: a ustar header, after a pax extended header
 * ('x') only where ustar falls short (a name or link target too long for
 * its fields, a size, id or mtime too big, and an mtime's nanoseconds,
 * which rsync -a keeps too). Names are bytes, written as they are, as
 * GNU tar reads them back. No uname/gname: the remote tar uses the ids.
 * (libarchive did this before issue 19; it maps 3 MB of libraries.) */
#include "mvm.h"
#include "sync.h"

#define USTAR_MAX 077777777777LL         /* 11 octal digits */
#define ID_MAX 07777777U                 /* 7 octal digits */

/* A pax record "LEN key=value\n", LEN counting its own digits. */
static void pax_rec(struct buf *x, const char *key, const char *val)
{
  size_t n = strlen(key) + strlen(val) + 3, d = 1;
  char num[24];

  while (snprintf(num, sizeof(num), "%zu", n + d) != (int)d) d++;
  snprintf(num, sizeof(num), "%zu ", n + d);
  buf_add(x, num, strlen(num));
  buf_add(x, key, strlen(key));
  buf_add(x, "=", 1);
  buf_add(x, val, strlen(val));
  buf_add(x, "\n", 1);
}

static int ascii(const char *s)
{
  while (*s && !(*s & 0x80)) s++;
  return !*s;
}

static void pax_num(struct buf *x, const char *key, long long v)
{
  char num[24];

  snprintf(num, sizeof(num), "%lld", v);
  pax_rec(x, key, num);
}

static void octal(char *f, size_t w, unsigned long long v)
{
  char tmp[24];

  snprintf(tmp, sizeof(tmp), "%0*llo", (int)w - 1, v);
  memcpy(f, tmp, w);                     /* w - 1 digits and the NUL */
}

/* Name into ustar's name (100) and prefix (155) split at a '/': 0, or -1
 * when it does not fit. */
static int ustar_name(char *h, const char *name)
{
  size_t n = strlen(name), i;

  if (n <= 100) {
    memcpy(h, name, n);
    return 0;
  }
  for (i = n - 1; i > 0; i--)            /* the longest prefix that fits */
    if (i <= 155 && name[i] == '/' && n - i - 1 <= 100 && n - i - 1 > 0) {
      memcpy(h + 345, name, i);
      memcpy(h, name + i + 1, n - i - 1);
      return 0;
    }
  return -1;
}

/* A complete 512-byte header: type, size, mtime and mode given, the
 * rest from the caller's fields already in h. */
static void finish(char *h, char type, unsigned long long size,
                   long long mtime, unsigned mode, unsigned uid, unsigned gid)
{
  unsigned sum = 0;
  int i;

  octal(h + 100, 8, mode & 07777);
  octal(h + 108, 8, uid <= ID_MAX ? uid : 0);
  octal(h + 116, 8, gid <= ID_MAX ? gid : 0);
  octal(h + 124, 12, size <= USTAR_MAX ? size : 0);
  octal(h + 136, 12, mtime >= 0 && mtime <= USTAR_MAX ? mtime : 0);
  h[156] = type;
  memcpy(h + 257, "ustar\0" "00", 8);
  octal(h + 329, 8, 0);
  octal(h + 337, 8, 0);
  memset(h + 148, ' ', 8);
  for (i = 0; i < 512; i++) sum += (unsigned char)h[i];
  snprintf(h + 148, 8, "%06o", sum);     /* six digits, NUL, the space */
}

void tar_header(struct buf *out, const char *name, const struct ment *e)
{
  char h[512] = { 0 }, v[48], *full;
  struct buf x = { 0 };
  char type = e->type == 'd' ? '5' : e->type == 'l' ? '2' : '0';
  long long size = e->type == 'f' ? e->size : 0;
  int npax, lpax;

  /* a directory's name ends in '/', as every tar writes it */
  full = xasprintf("%s%s", name, e->type == 'd' && *name &&
                   name[strlen(name) - 1] != '/' ? "/" : "");
  lpax = e->type == 'l' && strlen(e->link) > 100;
  npax = ustar_name(h, full) != 0;
  if (npax || lpax) {
    /* bytes, not UTF-8 text: readers must not convert them (libarchive
     * does, to the locale, unless told; GNU tar keeps bytes anyway) */
    if ((npax && !ascii(full)) || (lpax && !ascii(e->link)))
      pax_rec(&x, "hdrcharset", "BINARY");
    if (npax) pax_rec(&x, "path", full);
    if (lpax) pax_rec(&x, "linkpath", e->link);
  }
  if (e->type == 'l' && !lpax) memcpy(h + 157, e->link, strlen(e->link));
  if (size > USTAR_MAX) pax_num(&x, "size", size);
  if (e->uid > ID_MAX) pax_num(&x, "uid", e->uid);
  if (e->gid > ID_MAX) pax_num(&x, "gid", e->gid);
  if (e->nsec && e->mtime < 0) {   /* -2 s + 0.25 s is -1.75 s */
    snprintf(v, sizeof(v), "-%lld.%09ld", -(long long)e->mtime - 1,
             1000000000L - e->nsec);
    pax_rec(&x, "mtime", v);
  } else if (e->nsec) {
    snprintf(v, sizeof(v), "%lld.%09ld", (long long)e->mtime, e->nsec);
    pax_rec(&x, "mtime", v);
  } else if (e->mtime < 0 || e->mtime > USTAR_MAX) {
    pax_num(&x, "mtime", e->mtime);
  }
  if (x.len) {                           /* the extended header, padded */
    char xh[512] = { 0 };

    memcpy(xh, "PaxHeader", 9);
    finish(xh, 'x', x.len, e->mtime, 0644, 0, 0);
    buf_add(out, xh, 512);
    buf_add(out, x.s, x.len);
    memset(xh, 0, sizeof(xh));
    buf_add(out, xh, (512 - x.len % 512) % 512);
  }
  finish(h, type, size, e->mtime, e->mode, e->uid, e->gid);
  buf_add(out, h, 512);
  free(x.s);
  free(full);
}
