/* lib/sync/manifest.c - tree manifests for mvm-sync: the remote one (the
 * output of one GNU find -printf command, NUL-separated so any name but one
 * with NUL survives; the local walk is lib/sync/walk.c), both sorted by
 * path_cmp so a subtree is contiguous after its root, and the exclude
 * patterns. The plan made from two manifests is in lib/sync/plan.c. */
#include "mvm.h"
#include "sync.h"
#include <fnmatch.h>

/* '/' sorts right after the end of a string: "a", "a/b", "a/c", "a b". */
int path_cmp(const char *a, const char *b)
{
  const unsigned char *x = (const unsigned char *)a;
  const unsigned char *y = (const unsigned char *)b;
  int cx, cy;

  for (;; x++, y++) {
    cx = *x == '/' ? 1 : *x ? *x + 1 : 0;
    cy = *y == '/' ? 1 : *y ? *y + 1 : 0;
    if (cx != cy || !cx) return cx - cy;
  }
}

static int ment_cmp(const void *a, const void *b)
{
  return path_cmp(((const struct ment *)a)->path,
                  ((const struct ment *)b)->path);
}

struct ment *manifest_find(const struct manifest *m, const char *path)
{
  struct ment key = { .path = path };

  if (!m->n) return NULL;
  return bsearch(&key, m->e, m->n, sizeof(*m->e), ment_cmp);
}

int excl_match(char *const *pat, int npat, const char *path, int isdir)
{
  const char *base = strrchr(path, '/');
  char p[1024];
  size_t len;
  int i;

  base = base ? base + 1 : path;
  for (i = 0; i < npat; i++) {
    len = strlen(pat[i]);
    if (!len || len >= sizeof(p)) continue;
    memcpy(p, pat[i], len + 1);
    if (p[len - 1] == '/') {
      if (!isdir) continue;
      p[--len] = 0;
    }
    if (strchr(p, '/')) {
      if (!fnmatch(p + (*p == '/'), path, FNM_PATHNAME)) return 1;
    } else if (!fnmatch(p, base, 0)) {
      return 1;
    }
  }
  return 0;
}

struct ment *manifest_add(struct manifest *m)
{
  if (m->n == m->cap) {
    m->cap = m->cap ? m->cap * 2 : 256;
    m->e = xrealloc(m->e, m->cap * sizeof(*m->e));
  }
  memset(m->e + m->n, 0, sizeof(*m->e));
  return m->e + m->n++;
}

void manifest_sort(struct manifest *m)
{
  if (m->n) qsort(m->e, m->n, sizeof(*m->e), ment_cmp);
}

/* Drop excluded entries and everything below an excluded directory. */
static void m_filter(struct manifest *m, char *const *excl, int nexcl)
{
  const char *cut = NULL;
  size_t i, j = 0, cl = 0;

  for (i = 0; i < m->n; i++) {
    struct ment *e = m->e + i;

    if (cut && !strncmp(e->path, cut, cl) && e->path[cl] == '/') continue;
    cut = NULL;
    if (*e->path && excl_match(excl, nexcl, e->path, e->type == 'd')) {
      if (e->type == 'd') cut = e->path, cl = strlen(cut);
      continue;
    }
    m->e[j++] = *e;
  }
  m->n = j;
}

/* The digits after *q's '.' as nanoseconds (%T@ prints 10: "5.2500000000"
 * is 5 s 250 ms; "-1.25" is tv_sec -1, tv_nsec 250 ms, as in a timespec). */
static long frac_ns(char **q)
{
  long ns = 0;
  int i = 0;

  for ((*q)++; **q >= '0' && **q <= '9'; (*q)++)
    if (i++ < 9) ns = ns * 10 + (**q - '0');
  for (; i < 9; i++) ns *= 10;
  return ns;
}

int manifest_parse(struct manifest *m, char *buf, size_t len, size_t *used,
                   char *const *excl, int nexcl)
{
  char *p = buf, *end = buf + len, *path, *link, *q;
  struct ment *e;

  memset(m, 0, sizeof(*m));
  m->fd = -1;
  if (len < 2 || memcmp(buf, "@", 2)) return error("bad remote manifest");
  p += 2;
  while (p < end && !(p[0] == '@' && end - p > 1 && !p[1])) {
    if (p[0] == '!' && end - p > 1 && !p[1])
      return error("cannot list the remote tree");
    if (p[0] == 'L' && end - p > 1 && !p[1])
      return error("a symlink on the host, refused (--delete would work "
                   "outside it; --no-delete follows it)");
    path = memchr(p, 0, end - p);
    if (!path || path + 1 >= end) return error("bad remote manifest");
    link = memchr(path + 1, 0, end - path - 1);
    if (!link) return error("bad remote manifest");
    if (p[0] && p[1] == ' ' && strchr("fdl", p[0])) {
      e = manifest_add(m);
      e->type = p[0];
      errno = 0;
      e->size = strtoll(p + 2, &q, 10);
      if (*q != ' ') return error("bad remote manifest");
      e->mtime = strtoll(q + 1, &q, 10);
      if (*q == '.') e->nsec = frac_ns(&q);
      if (*q != ' ') return error("bad remote manifest");
      e->mode = strtoul(q + 1, &q, 8) & 07777;
      if (*q != ' ' || errno) return error("bad remote manifest");
      e->path = q + 1;
      e->link = e->type == 'l' ? path + 1 : NULL;
      if (e->type != 'f') e->size = 0;
    }
    p = link + 1;
  }
  *used = p - buf;
  manifest_sort(m);
  m_filter(m, excl, nexcl);
  return 0;
}

void manifest_release(struct manifest *m)
{
  if (m->fd >= 0) close(m->fd);
  free(m->e);
  free(m->names);
  memset(m, 0, sizeof(*m));
}

