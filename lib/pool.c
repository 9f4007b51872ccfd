/* lib/pool.c - a pool of forked workers for jobs whose results are host
 * records: job I runs in a child that writes records (one per line) to a
 * pipe, the parent reads them back (lib/lines.c) and alone acts on them.
 * Children die with the parent and leave signals to it. Used by the cloud
 * driver's up (a worker per host) and down (a worker per destroy). */
#include "mvm.h"

#include <sys/prctl.h>

/* The worker pool: N jobs, at most JOBS at once, each a forked child that
 * writes records (one per line) to its pipe. The parent hands every record
 * to got(); a child that ends with none sent is reported to lost(). */
struct job {
  pid_t pid;
  int i, sent;
  struct lines l;
};

/* SIGUSR1 from the parent: stop waiting, finish what must be finished
 * (a create in flight) and report. */
static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
  (void)sig;
  stopping = 1;
}

int pool_stopping(void)
{
  return stopping;
}

static void job_start(const struct pool *p, struct job *j, int i)
{
  pid_t parent = getpid();
  sigset_t usr1, old;
  int fd[2];

  xpipe(fd);
  j->i = i;
  j->sent = 0;
  /* blocked across the fork: a stop sent before the child's handler is
   * set waits for it instead of killing the child */
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, &old);
  if (!(j->pid = xfork())) {
    struct sigaction sa = { .sa_handler = on_stop };   /* no SA_RESTART */

    /* Die with the parent: a worker left behind would create hosts that
     * nobody reports. The parent decides on signals. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_DFL);
    sigaction(SIGUSR1, &sa, NULL);
    sigprocmask(SIG_SETMASK, &old, NULL);
    close(fd[0]);
    xdup2(2, 1);              /* stdout is the parent's alone */
    p->child(i, fd[1], p->arg);
    _exit(0);
  }
  sigprocmask(SIG_SETMASK, &old, NULL);
  close(fd[1]);
  lines_init(&j->l, fd[0]);
}

static void job_read(const struct pool *p, struct job *j)
{
  struct rec r;
  char *line;
  size_t len;
  int toolong, n = lines_fill(&j->l);

  while (lines_next(&j->l, &line, &len, &toolong) == 1) {
    if (!rec_parse(&r, line, len, 0) && r.addr) {
      j->sent++;
      p->got(j->i, &r, p->arg);
    }
    rec_release(&r);
    free(line);
  }
  if (n > 0 || (n < 0 && errno == EINTR)) return;
  close(j->l.fd);
  lines_release(&j->l);
  if (!j->sent) p->lost(j->i, xwaitpid(j->pid), p->arg);
  else xwaitpid(j->pid);
  j->pid = 0;
}

void pool_run(const struct pool *p, int n, int jobs)
{
  struct job *w = xzalloc(jobs * sizeof(*w));
  struct pollfd *pf = xzalloc(jobs * sizeof(*pf));
  int next = 0, running = 0, told = 0, k, m;

  while (next < n || running) {
    /* ^C: the hosts being made are finished and reported, no new one
     * is started (lib/sig.c), and a worker that waits for its host's
     * address stops waiting: its record goes out now, with the id. */
    if (p->creates && sig_caught()) {
      n = next;
      for (k = 0; k < jobs && !told; k++)
        if (w[k].pid) kill(w[k].pid, SIGUSR1);
      told = 1;
    }
    for (k = 0; k < jobs && next < n; k++)
      if (!w[k].pid) job_start(p, &w[k], next++), running++;
    for (k = m = 0; k < jobs; k++)
      if (w[k].pid) pf[m].fd = w[k].l.fd, pf[m].events = POLLIN, m++;
    if (poll(pf, m, -1) < 0) continue;
    for (k = m = 0; k < jobs; k++) {
      if (!w[k].pid) continue;
      if (pf[m++].revents) {
        job_read(p, &w[k]);
        if (!w[k].pid) running--;
      }
    }
  }
  free(w);
  free(pf);
}

void pool_send(int fd, struct rec *r)
{
  char *s = rec_format(r);

  writeall(fd, s, strlen(s));
  free(s);
}

void sleep_unless_stopping(double s)
{
  struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };

  while (!stopping && nanosleep(&ts, &ts) && errno == EINTR);
}

