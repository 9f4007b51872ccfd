/* lib/manifest.c - tree manifests for mvm-sync: the local walk (lstat, no
 * symlinks followed), the remote one (the output of one GNU find -printf
 * command, NUL-separated so any name but one with NUL survives), both
 * sorted by path_cmp so a subtree is contiguous after its root, and the
 * exclude patterns. The plan made from two manifests is in lib/plan.c. */
#include "mvm.h"
#include <dirent.h>
#include <fnmatch.h>
#include <limits.h>
#include <openssl/evp.h>

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

static struct ment *m_add(struct manifest *m)
{
  if (m->n == m->cap) {
    m->cap = m->cap ? m->cap * 2 : 256;
    m->e = xrealloc(m->e, m->cap * sizeof(*m->e));
  }
  memset(m->e + m->n, 0, sizeof(*m->e));
  return m->e + m->n++;
}

/* Local names live in one arena; entries hold offsets until the walk ends. */
static size_t m_name(struct manifest *m, const char *s, size_t len)
{
  size_t off = m->nlen;

  if (m->nlen + len + 1 > m->ncap) {
    m->ncap = (m->nlen + len + 1) * 2;
    m->names = xrealloc(m->names, m->ncap);
  }
  memcpy(m->names + off, s, len);
  m->names[off + len] = 0;
  m->nlen += len + 1;
  return off;
}

static int walk_dir(struct manifest *m, char *path, size_t plen, size_t rel,
                    char *const *excl, int nexcl);

/* Add path (rel is where the relative part starts) with its lstat. */
static int walk_one(struct manifest *m, char *path, size_t plen, size_t rel,
                    char *const *excl, int nexcl)
{
  struct stat st;
  struct ment *e;
  char target[PATH_MAX];
  ssize_t n;
  char type;

  /* the root may be a symlink to the tree; nothing below it is followed */
  if (plen < rel ? stat(path, &st) : lstat(path, &st)) {
    if (errno == ENOENT && plen > rel) return 0;    /* vanished: as rsync */
    return error("cannot stat '%s': %s", path, strerror(errno));
  }
  type = S_ISREG(st.st_mode) ? 'f' : S_ISDIR(st.st_mode) ? 'd' :
         S_ISLNK(st.st_mode) ? 'l' : 0;
  if (!type) return 0;            /* sockets, fifos, devices: as rsync -a */
  if (plen > rel && excl_match(excl, nexcl, path + rel, type == 'd'))
    return 0;
  e = m_add(m);
  e->path = plen > rel ? (const char *)(uintptr_t)m_name(m, path + rel,
                                                          plen - rel)
                       : (const char *)(uintptr_t)m_name(m, "", 0);
  e->type = type;
  e->size = type == 'f' ? st.st_size : 0;
  e->mtime = st.st_mtime;
  e->mode = st.st_mode & 07777;
  e->uid = st.st_uid;
  e->gid = st.st_gid;
  if (type == 'l') {
    n = readlink(path, target, sizeof(target) - 1);
    if (n < 0) return error("cannot readlink '%s': %s", path, strerror(errno));
    e->link = (const char *)(uintptr_t)m_name(m, target, n);
  }
  if (type == 'd') return walk_dir(m, path, plen, rel, excl, nexcl);
  return 0;
}

static int walk_dir(struct manifest *m, char *path, size_t plen, size_t rel,
                    char *const *excl, int nexcl)
{
  DIR *d = opendir(path);
  struct dirent *de;
  size_t len;
  int rc = 0;

  if (!d && errno == ENOENT && plen > rel) {
    m->n--;                                         /* vanished */
    return 0;
  }
  if (!d) return error("cannot open '%s': %s", path, strerror(errno));
  while (!rc && (de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    len = strlen(de->d_name);
    if (plen + len + 2 > PATH_MAX) {
      rc = error("path too long: '%s/%s'", path, de->d_name);
      break;
    }
    path[plen] = '/';
    memcpy(path + plen + 1, de->d_name, len + 1);
    rc = walk_one(m, path, plen + 1 + len, rel, excl, nexcl);
    path[plen] = 0;
  }
  closedir(d);
  return rc;
}

int manifest_walk(struct manifest *m, const char *root, char *const *excl,
                  int nexcl)
{
  char *path = xmalloc(PATH_MAX);
  size_t len = strlen(root), i;
  int rc;

  memset(m, 0, sizeof(*m));
  while (len > 1 && root[len - 1] == '/') len--;
  if (len >= PATH_MAX - 1) {
    free(path);
    return error("path too long: '%s'", root);
  }
  memcpy(path, root, len);
  path[len] = 0;
  /* the relative part starts after "root/" */
  rc = walk_one(m, path, len, len + 1, excl, nexcl);
  free(path);
  if (!rc && (!m->n || m->e[0].type != 'd'))
    rc = error("'%s' is not a directory", root);
  for (i = 0; i < m->n; i++) {
    m->e[i].path = m->names + (uintptr_t)m->e[i].path;
    if (m->e[i].link) m->e[i].link = m->names + (uintptr_t)m->e[i].link;
  }
  if (m->n) qsort(m->e, m->n, sizeof(*m->e), ment_cmp);
  return rc;
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

int manifest_parse(struct manifest *m, char *buf, size_t len, size_t *used,
                   char *const *excl, int nexcl)
{
  char *p = buf, *end = buf + len, *path, *link, *q;
  struct ment *e;

  memset(m, 0, sizeof(*m));
  if (len < 2 || memcmp(buf, "@", 2)) return error("bad remote manifest");
  p += 2;
  while (p < end && !(p[0] == '@' && end - p > 1 && !p[1])) {
    if (p[0] == '!' && end - p > 1 && !p[1])
      return error("cannot list the remote tree");
    path = memchr(p, 0, end - p);
    if (!path || path + 1 >= end) return error("bad remote manifest");
    link = memchr(path + 1, 0, end - path - 1);
    if (!link) return error("bad remote manifest");
    if (p[0] && p[1] == ' ' && strchr("fdl", p[0])) {
      e = m_add(m);
      e->type = p[0];
      errno = 0;
      e->size = strtoll(p + 2, &q, 10);
      if (*q != ' ') return error("bad remote manifest");
      e->mtime = strtoll(q + 1, &q, 10);
      if (*q == '.') while (*++q >= '0' && *q <= '9') {}
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
  if (m->n) qsort(m->e, m->n, sizeof(*m->e), ment_cmp);
  m_filter(m, excl, nexcl);
  return 0;
}

void manifest_release(struct manifest *m)
{
  free(m->e);
  free(m->names);
  memset(m, 0, sizeof(*m));
}

int file_sha256(const char *path, unsigned char sum[32])
{
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  char buf[65536];
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), rc = -1;
  ssize_t n;

  if (!c) die("out of memory");
  if (fd < 0) {
    error("cannot read '%s': %s", path, strerror(errno));
    goto out;
  }
  EVP_DigestInit_ex(c, EVP_sha256(), NULL);
  while ((n = read(fd, buf, sizeof(buf))) > 0) EVP_DigestUpdate(c, buf, n);
  if (n < 0) {
    error("cannot read '%s': %s", path, strerror(errno));
    goto out;
  }
  EVP_DigestFinal_ex(c, sum, NULL);
  rc = 0;
out:
  if (fd >= 0) close(fd);
  EVP_MD_CTX_free(c);
  return rc;
}

static int hexval(int c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void sums_parse(const char *out, struct ment **cand, size_t n)
{
  const char *p = out;
  size_t i, k;
  int hi, lo;

  for (i = 0; i < n && p && *p; i++) {
    p += *p == '\\';
    for (k = 0; k < 32; k++) {
      if ((hi = hexval(p[2 * k])) < 0 || (lo = hexval(p[2 * k + 1])) < 0)
        break;
      cand[i]->sum[k] = hi << 4 | lo;
    }
    if (k == 32 && p[64] == ' ') cand[i]->flags |= ME_SUM;
    p = strchr(p, '\n');
    if (p) p++;
  }
}

struct ment **sums_cand(const struct manifest *loc, const struct manifest *rem,
                        size_t *n)
{
  struct ment **cand = NULL, *l;
  size_t i;

  for (*n = i = 0; i < rem->n; i++) {
    l = manifest_find(loc, rem->e[i].path);
    if (rem->e[i].type != 'f' || !l || l->type != 'f' ||
        l->size != rem->e[i].size) continue;
    cand = xrealloc(cand, (*n + 1) * sizeof(*cand));
    cand[(*n)++] = rem->e + i;
  }
  return cand;
}

/* A line is "[\\]HEX  NAME\n": 64 hex digits, a name escaped at worst
 * to twice its length ("\\n" for a newline, "\\\\" for a backslash). */
size_t sums_batch(struct ment **cand, size_t n, size_t max, int64_t *bytes)
{
  size_t i, out = 0, line;

  *bytes = 0;
  for (i = 0; i < n; i++) {
    line = 2 * strlen(cand[i]->path) + 68;
    if (i && out + line > max) break;
    out += line;
    *bytes += cand[i]->size;
  }
  return i;
}

const char *last_line(char *out)
{
  char *p;
  size_t n;

  if (!out) return "";
  n = strlen(out);
  while (n && (out[n - 1] == '\n' || out[n - 1] == '\r')) out[--n] = 0;
  p = strrchr(out, '\n');
  p = p ? p + 1 : out;
  for (n = 0; p[n]; n++)
    if ((unsigned char)p[n] < 32) p[n] = '?';
  return p;
}
