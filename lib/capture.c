/* lib/capture.c - children with clean fds: exec_child() (stdin
 * /dev/null, no fd of ours, a failed exec's errno reported), used by the
 * local hosts' spawn, and capture_run() for a credential helper (the az
 * CLI, an aws credential_process): argv only (a shell only if the caller
 * asks for one), its own process group, killed when late, stdout capped,
 * the start of stderr kept for the error. What a helper prints is a
 * secret: capture_release() wipes it. */
#include "mvm.h"

#include <poll.h>

/* fd moved above 2 (kept close-on-exec): a caller whose own stdio was
 * closed may hand us 0, 1 or 2, which the dup2()s below would clobber. */
static int above_stdio(int fd)
{
  return fd >= 0 && fd < 3 ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : fd;
}

void exec_child(char *const argv[], int out, int err, int report)
{
  int nul, i, e;

  out = above_stdio(out);
  err = above_stdio(err);
  report = above_stdio(report);
  if (out < 0 || err < 0 || report < 0) {   /* out of fds: say so */
    e = errno;
    if (report >= 0 && write(report, &e, sizeof(e)) < 0) _exit(127);
    _exit(127);
  }
  /* no O_CLOEXEC: if fd 0 was closed, open() returns 0 itself and
   * dup2(0, 0) would leave the flag on, the program with no stdin */
  nul = open("/dev/null", O_RDONLY);
  dup2(nul, 0);
  dup2(out, 1);
  dup2(err, 2);
  for (i = 3; i < 1024; i++)    /* never hold the pipeline's fds */
    if (i != report) close(i);
  execvp(argv[0], argv);
  e = errno;
  if (write(report, &e, sizeof(e)) < 0) _exit(127);
  _exit(127);
}

/* Read both pipes until they end or the deadline. 0, or -1 (mvm.err). */
static int capture_read(int out, int err, double secs, size_t max,
                        struct capture *c)
{
  struct pollfd p[2] = { { out, POLLIN, 0 }, { err, POLLIN, 0 } };
  double end = now_s() + secs;
  size_t en = 0;
  char chunk[4096];
  ssize_t n;
  int i, rc = 0;

  while (!rc && (p[0].fd >= 0 || p[1].fd >= 0)) {
    double left = end - now_s();

    if (left <= 0) {
      rc = error("no answer in %gs", secs);
      break;
    }
    if (poll(p, 2, (int)(left * 1000) + 1) < 0) {
      if (errno != EINTR) rc = error("poll: %s", strerror(errno));
      continue;
    }
    for (i = 0; i < 2 && !rc; i++) {
      if (p[i].fd < 0 || !p[i].revents) continue;
      if ((n = read(p[i].fd, chunk, sizeof(chunk))) < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        p[i].fd = -1;
      } else if (i == 1) {              /* stderr: its start is enough */
        size_t k = (size_t)n < sizeof(c->err) - 1 - en
                   ? (size_t)n : sizeof(c->err) - 1 - en;

        memcpy(c->err + en, chunk, k);
        c->err[en += k] = 0;
      } else if (c->out.len + (size_t)n > max) {
        rc = error("its answer is over %zu bytes", max);
      } else {
        buf_add(&c->out, chunk, (size_t)n);
      }
    }
  }
  explicit_bzero(chunk, sizeof(chunk));
  return rc;
}

int capture_run(char *const argv[], double secs, size_t max,
                struct capture *c, int *missing)
{
  int po[2], pe[2], px[2], en = 0, rc;
  sigset_t none;
  pid_t pid;

  memset(c, 0, sizeof(*c));
  *missing = 0;
  xpipe(po);
  xpipe(pe);
  xpipe(px);              /* the exec's errno, if it fails (O_CLOEXEC) */
  if (!(pid = xfork())) {
    setpgid(0, 0);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    exec_child(argv, po[1], pe[1], px[1]);
  }
  setpgid(pid, pid);
  close(po[1]);
  close(pe[1]);
  close(px[1]);
  while (read(px[0], &en, sizeof(en)) < 0 && errno == EINTR)
    ;
  close(px[0]);
  *missing = en == ENOENT;
  rc = en ? error("cannot run %s: %s", argv[0], strerror(en))
          : capture_read(po[0], pe[0], secs, max, c);
  if (rc) kill(-pid, SIGKILL);
  close(po[0]);
  close(pe[0]);
  c->err[strcspn(c->err, "\r\n")] = 0;
  en = xwaitpid(pid);
  return rc ? -1 : en;
}

void capture_release(struct capture *c)
{
  if (c->out.s) freezero(c->out.s, c->out.cap);
  memset(c, 0, sizeof(*c));
}
