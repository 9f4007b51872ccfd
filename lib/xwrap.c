/* lib/xwrap.c - x functions either succeed or end the process with a
 * message; the caller never checks (toybox lib/xwrap.c). In a per-host
 * worker a dying x function ends that host's worker only. Keep it small. */
#include "mvm.h"

void *xmalloc(size_t n)
{
  void *p = malloc(n ? n : 1);

  if (!p) die("out of memory");
  return p;
}

void *xzalloc(size_t n)
{
  void *p = calloc(1, n ? n : 1);

  if (!p) die("out of memory");
  return p;
}

void *xrealloc(void *p, size_t n)
{
  p = realloc(p, n ? n : 1);
  if (!p) die("out of memory");
  return p;
}

char *xstrdup(const char *s)
{
  return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
  char *p = xmalloc(n + 1);

  memcpy(p, s, n);
  p[n] = 0;
  return p;
}

char *xasprintf(const char *fmt, ...)
{
  va_list ap;
  char *s;

  va_start(ap, fmt);
  if (vasprintf(&s, fmt, ap) < 0) die("out of memory");
  va_end(ap);
  return s;
}

int xopen(const char *path, int flags, mode_t mode)
{
  int fd = open(path, flags | O_CLOEXEC, mode);

  if (fd < 0) pdie("cannot open '%s'", path);
  return fd;
}

void xclose(int fd)
{
  if (close(fd) && errno != EINTR) pdie("close");
}

static ssize_t xread(int fd, void *buf, size_t n)
{
  ssize_t r;

  do r = read(fd, buf, n); while (r < 0 && errno == EINTR);
  if (r < 0) pdie("read");
  return r;
}

void xwriteall(int fd, const void *buf, size_t n)
{
  if (writeall(fd, buf, n)) pdie("write");
}

/* The whole file, NUL-terminated; more than max bytes is an error, since
 * every caller reads something that should be small. */
char *xreadfile(const char *path, size_t max, size_t *len)
{
  int fd = xopen(path, O_RDONLY, 0);
  size_t n = 0, cap = 4096;
  char *buf = xmalloc(cap);
  ssize_t r;

  while ((r = xread(fd, buf + n, cap - n - 1)) > 0) {
    n += r;
    if (n > max) die("'%s' is larger than %zu bytes", path, max);
    if (cap - n < 2) buf = xrealloc(buf, cap *= 2);
  }
  xclose(fd);
  buf[n] = 0;
  if (len) *len = n;
  return buf;
}

void xpipe(int fd[2])
{
  if (pipe2(fd, O_CLOEXEC)) pdie("pipe");
}

void xdup2(int from, int to)
{
  if (from != to && dup2(from, to) < 0) pdie("dup2");
}

pid_t xfork(void)
{
  pid_t pid;

  fflush(NULL);
  pid = fork();
  if (pid < 0) pdie("fork");
  return pid;
}

void xexec(char **argv)
{
  execvp(argv[0], argv);
  pdie("cannot run '%s'", argv[0]);
}

/* The exit status, or 128+signal like the shell. */
int xwaitpid(pid_t pid)
{
  int st;

  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) pdie("waitpid");
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return WEXITSTATUS(st);
}

void xsetenv(const char *name, const char *val)
{
  if (setenv(name, val, 1)) pdie("setenv %s", name);
}

long xatoi_range(const char *s, long lo, long hi)
{
  char *end;
  long v;

  errno = 0;
  v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi)
    help_exit("'%s' is not a number from %ld to %ld", s, lo, hi);
  return v;
}

/* stdout is the record stream: a write error there means records were
 * lost, which is a failure (toybox xexit). */
void buf_add(struct buf *b, const void *p, size_t n)
{
  if (b->len + n + 1 > b->cap) {
    b->cap = (b->len + n + 1) * 2;
    b->s = xrealloc(b->s, b->cap);
  }
  memcpy(b->s + b->len, p, n);
  b->len += n;
  b->s[b->len] = 0;
}

double now_s(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

void sleep_s(double s)
{
  struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };

  while (nanosleep(&ts, &ts) && errno == EINTR);
}

void freezero(void *p, size_t n)
{
  if (!p) return;
  explicit_bzero(p, n);
  free(p);
}
