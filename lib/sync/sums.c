/* lib/sync/sums.c - mvm-sync --checksum: which remote files to hash (the
 * same size as their local namesakes), in batches whose sha256sum output
 * fits one read, and that output parsed back into each entry's sum. */
#include "mvm.h"
#include "sync.h"

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
