/* lib/msg.c - every human word goes to stderr as one line,
 * "mvm-APPLET: HOST: message" (HOST only inside a per-host worker), in git's
 * style: lowercase, no full stop. die/pdie end the process; warn sets the
 * exit status to 1; error() stores the reason in mvm.err for the caller. */
#include "mvm.h"

struct mvm_ctx mvm = { .applet = "mvmbox", .status_fd = -1 };

void msg_init(const char *applet)
{
  const char *d = getenv("MVM_DEBUG");

  mvm.applet = applet;
  if (d && *d && strcmp(d, "0")) mvm.verbose = 1;
}

/* Text from a host (its stderr, cloud-init's words, a record's values) can
 * hold newlines or terminal escapes: one message stays one harmless line. */
static void sanitize(char *s, size_t n)
{
  for (; n && *s; s++, n--)
    if ((unsigned char)*s < ' ' || *s == 0x7f) *s = '?';
}

/* One write per line so concurrent writers do not interleave mid-line. */
static void vmsg(const char *level, const char *fmt, va_list ap, int err)
{
  char body[1024], line[1400];

  vsnprintf(body, sizeof(body), fmt, ap);
  sanitize(body, sizeof(body));
  snprintf(line, sizeof(line), "%s: %s%s%s%s%s%s\n", mvm.applet,
           mvm.host ? mvm.host : "", mvm.host ? ": " : "", level, body,
           err ? ": " : "", err ? strerror(err) : "");
  writeall(2, line, strlen(line));
}

void die(const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vmsg("", fmt, ap, 0);
  va_end(ap);
  xexit(mvm.exitval > 1 ? mvm.exitval : EXIT_USAGE);
}

void pdie(const char *fmt, ...)
{
  int e = errno;
  va_list ap;

  va_start(ap, fmt);
  vmsg("", fmt, ap, e);
  va_end(ap);
  xexit(mvm.exitval > 1 ? mvm.exitval : EXIT_USAGE);
}

void warn(const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vmsg("warning: ", fmt, ap, 0);
  va_end(ap);
}

void info(const char *fmt, ...)
{
  va_list ap;

  if (mvm.quiet) return;
  va_start(ap, fmt);
  vmsg("", fmt, ap, 0);
  va_end(ap);
}

void debug(const char *fmt, ...)
{
  va_list ap;

  if (!mvm.verbose) return;
  va_start(ap, fmt);
  vmsg("debug: ", fmt, ap, 0);
  va_end(ap);
}

/* A caller may pass mvm.err itself ("%s (more)", mvm.err): format into
 * a copy, never into the buffer being read. */
int error(const char *fmt, ...)
{
  char e[sizeof(mvm.err)];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(e, sizeof(e), fmt, ap);
  va_end(ap);
  memcpy(mvm.err, e, sizeof(e));
  debug("%s", mvm.err);
  return -1;
}

/* What fails a host (and so the exit status): one line on stderr,
 * "mvm-APPLET: HOST: error: reason", terminal or not; host NULL: the
 * worker's (mvm.host). */
void errmsg(const char *host, const char *fmt, ...)
{
  const char *keep = mvm.host;
  va_list ap;

  if (host) mvm.host = host;
  va_start(ap, fmt);
  vmsg("error: ", fmt, ap, 0);
  va_end(ap);
  mvm.host = keep;
  if (!mvm.exitval) mvm.exitval = EXIT_HOSTFAIL;
}

void help_exit(const char *fmt, ...)
{
  va_list ap;

  if (fmt) {
    va_start(ap, fmt);
    vmsg("", fmt, ap, 0);
    va_end(ap);
  }
  fprintf(stderr, "Try '%s --help' for more information.\n", mvm.applet);
  exit(EXIT_USAGE);
}

/* A worker's current stage, for the runner's live status line. Only sent
 * when the runner draws one (stderr is a terminal); always in debug. */
void status(const char *fmt, ...)
{
  char line[256];
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(line + 1, sizeof(line) - 2, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (n > (int)sizeof(line) - 3) n = sizeof(line) - 3;
  sanitize(line + 1, n);      /* a newline here would forge a pipe message */
  if (mvm.status_fd >= 0) {
    line[0] = 'S';
    line[n + 1] = '\n';
    writeall(mvm.status_fd, line, n + 2);
  }
  debug("%.*s", n, line + 1);
}

/* The one write loop: every message and record goes out through it. */
int writeall(int fd, const void *buf, size_t n)
{
  const char *p = buf;

  while (n) {
    ssize_t w = write(fd, p, n);

    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= w;
  }
  return 0;
}

/* The process's one way out: stdout flushed and its failure reported. */
void xexit(int code)
{
  if (fflush(stdout) || ferror(stdout)) {
    if (errno != EPIPE) fprintf(stderr, "%s: write error: %s\n",
                                mvm.applet, strerror(errno));
    if (!code) code = 1;
  }
  exit(code);
}
