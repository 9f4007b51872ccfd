/* lib/lines.c - a bounded line reader over a file descriptor, for the
 * runner's poll loop (stdio would block or buffer past what poll sees).
 * A line longer than REC_LINE_MAX is cut there and flagged, and the rest
 * of it is skipped, so no input can make the buffer grow without bound.
 * And last_line(): a command output's last line, for a one-line error. */
#include "mvm.h"

void lines_init(struct lines *l, int fd)
{
  memset(l, 0, sizeof(*l));
  l->fd = fd;
  l->cap = REC_LINE_MAX + 4096;
  l->buf = xmalloc(l->cap);
}

void lines_release(struct lines *l)
{
  free(l->buf);
  l->buf = NULL;
}

int lines_fill(struct lines *l)
{
  ssize_t r;

  if (l->eof) return 0;
  do r = read(l->fd, l->buf + l->len, l->cap - l->len);
  while (r < 0 && errno == EINTR);
  if (r < 0) return -1;
  if (r == 0) l->eof = 1;
  l->len += r;
  return r;
}

/* Drop the first n bytes, which the caller has finished with. */
static void consume(struct lines *l, size_t n)
{
  memmove(l->buf, l->buf + n, l->len - n);
  l->len -= n;
}

int lines_next(struct lines *l, char **line, size_t *len, int *toolong)
{
  char *nl;

  nl = memchr(l->buf, '\n', l->len);
  if (l->overlong) {          /* skipping the tail of a long line */
    if (!nl) {
      l->len = 0;
      return l->eof ? -1 : 0;
    }
    consume(l, nl + 1 - l->buf);
    l->overlong = 0;
    nl = memchr(l->buf, '\n', l->len);
  }
  *toolong = 0;
  if (!nl && l->len > REC_LINE_MAX) {
    *toolong = 1;
    l->overlong = 1;
    nl = l->buf + REC_LINE_MAX;
  } else if (!nl) {
    if (!l->eof) return 0;
    if (!l->len) return -1;
    nl = l->buf + l->len;     /* last line without '\n' */
  }
  *line = xstrndup(l->buf, nl - l->buf);
  *len = nl - l->buf;
  l->lineno++;
  if (*toolong) l->len = 0;
  else consume(l, nl < l->buf + l->len ? (size_t)(nl + 1 - l->buf) : l->len);
  return 1;
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
