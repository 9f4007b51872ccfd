/* lib/run.c - the per-host runner of every record-driven applet. Reads
 * records (stdin, or hosts given as arguments), runs each() in a forked
 * worker for up to o->jobs hosts at once, and is the only writer of stdout:
 * each finished record goes out with one write() as soon as its worker is
 * done, so lines never interleave. Error records, comments and blank lines
 * pass through untouched; a worker that dies still yields its record.
 * Interrupted, a stage ends its workers and says which hosts it has seen
 * (they may still run); mvm-teardown (o->finish) instead destroys every
 * host it reads, and only a second signal stops it. */
#include "mvm.h"
#include "runner.h"


static void child(struct worker *w, int fd, int errfd)
{
  /* ^C reaches the whole process group, workers too: a destroy must not
   * stop half-way (the runner kills the worker on a second signal). */
  void (*h)(int) = R.o->finish ? SIG_IGN : SIG_DFL;
  struct rec *r = &w->in;
  char *s, *key;
  double t0;
  int rc, null;

  signal(SIGINT, h);
  signal(SIGTERM, h);
  signal(SIGHUP, h);
  signal(SIGPIPE, SIG_DFL);
  sigprocmask(SIG_SETMASK, &R.mask, NULL);
  if (errfd >= 0) xdup2(errfd, 2);
  /* The parent alone reads records and writes them: a worker gets neither
   * stream, so a stray printf cannot corrupt the record stream and a
   * worker left behind cannot hold a pipeline open. */
  null = xopen("/dev/null", O_RDONLY, 0);
  xdup2(null, 0);
  close(null);
  xdup2(2, 1);
  mvm.host = r->addr;
  mvm.status_fd = fd;
  mvm.err[0] = 0;
  t0 = now_s();
  rc = R.o->each(r, R.o->arg);
  /* STAGE_s: the time this stage spent on the host, for mvm-report;
   * before error=, which stays last */
  key = xasprintf("%s_s", R.o->stage);
  rec_set(r, key, "%.1f", now_s() - t0);
  free(key);
  if (rc) {
    rec_fail(r, R.o->stage, "%s", *mvm.err ? mvm.err : "failed");
    errmsg(NULL, "%s", *mvm.err ? mvm.err : "failed");
  }
  s = rec_format(r);
  writeall(fd, rc ? "F" : "R", 1);
  writeall(fd, s, strlen(s));
  _exit(0);
}

static void start(struct rec *r)
{
  struct worker *w = R.w;
  int p[2], e[2] = { -1, -1 };

  while (w->pid) w++;         /* feed() starts one only when a slot is free */
  memset(w, 0, sizeof(*w));
  w->in = *r;
  w->start = now_s();
  snprintf(w->stage, sizeof(w->stage), "starting");
  xpipe(p);
  if (R.tty) xpipe(e);
  if (!(w->pid = xfork())) {
    close(p[0]);
    if (e[0] >= 0) close(e[0]);
    child(w, p[1], e[1]);
  }
  close(p[1]);
  w->fd = p[0];
  w->errfd = e[0];
  if (e[1] >= 0) close(e[1]);
  R.running++;
}

/* A record read from input: pass it through, fail it, or start a worker. */
static void dispatch(struct rec *r)
{
  if (!r->addr || (!r->bad && rec_failed(r) && !R.o->all)) {
    char *s = xasprintf("%s\n", r->line ? r->line : "");

    if (r->addr) R.failed = 1;
    hosts_seen(r, 1);         /* a failed host may still exist */
    run_emit(s, strlen(s));       /* the line as read, in one write */
    free(s);
    rec_release(r);
    return;
  }
  if (r->bad) {
    errmsg(NULL, "%s", r->bad);
    R.badinput = 1;
    rec_fail(r, R.o->stage, "malformed record (%s)", r->bad);
  } else if (sig_caught() && !R.o->finish) {
    hosts_seen(r, 1);
    rec_fail(r, R.o->stage, "interrupted");
  } else {
    hosts_seen(r, 1);
    return start(r);
  }
  run_emit_rec(r);
  rec_release(r);
}

/* Parse one line of input into a record and dispatch it. */
static void take_line(char *line, size_t len, long lineno, int toolong)
{
  struct rec r;

  rec_parse(&r, line, len, lineno);
  if (toolong && !r.bad) {
    r.bad = xasprintf("line %ld: longer than %d bytes", lineno, REC_LINE_MAX);
    if (!r.addr) r.addr = xstrdup("-");
  }
  dispatch(&r);
}

/* Feed records while a worker slot is free; 1 if stdin must be polled. */
static int feed(void)
{
  char *line;
  size_t len;
  int toolong, rc;

  while (R.running < R.nw && !R.done_input) {
    if (R.arg) {
      if (!*R.arg) R.done_input = 1;
      else take_line(*R.arg, strlen(*R.arg), 0, 0), R.arg++;
      continue;
    }
    rc = lines_next(&R.in, &line, &len, &toolong);
    if (rc < 0) R.done_input = 1;
    if (rc <= 0) return !R.done_input;
    take_line(line, len, R.in.lineno, toolong);
    free(line);
  }
  return 0;
}

/* Keep the status lines, hold the final record line. */
static void take_output(struct worker *w)
{
  char *nl;

  while ((nl = memchr(w->buf, '\n', w->len))) {
    size_t n = nl + 1 - w->buf;

    /* 'S' status, 'R'/'F' the record (ok/failed); anything else cannot
     * come from child() and is dropped rather than taken as a record. */
    if (w->buf[0] == 'S') {
      snprintf(w->stage, sizeof(w->stage), "%.*s", (int)(n - 2), w->buf + 1);
    } else if ((w->buf[0] == 'R' || w->buf[0] == 'F') && !w->result) {
      w->result = xstrndup(w->buf, n);
    }
    memmove(w->buf, w->buf + n, w->len - n);
    w->len -= n;
  }
}

static void finish(struct worker *w)
{
  int st = xwaitpid(w->pid);

  if (w->errfd >= 0) {
    while (w->errfd >= 0) run_relay_stderr(w);
  }
  if (w->result) {
    if (w->result[0] == 'F') R.failed = 1;
    else if (R.o->finish) hosts_seen(&w->in, -1);    /* destroyed */
    if (w->result[0] != 'F' && R.o->done) R.o->done(&w->in, R.o->arg);
    run_emit(w->result + 1, strlen(w->result + 1));
  } else {
    rec_unset(&w->in, "error");
    if (R.aborted) rec_fail(&w->in, R.o->stage, "aborted");
    else if (sig_caught() || st == 128 + SIGINT || st == 128 + SIGTERM ||
             st == 128 + SIGHUP)     /* the group's ^C, ours still pending */
      rec_fail(&w->in, R.o->stage, "interrupted");
    else {
      rec_fail(&w->in, R.o->stage, "worker died (status %d)", st);
      rec_errmsg(&w->in);
    }
    run_emit_rec(&w->in);
  }
  close(w->fd);
  free(w->buf);
  free(w->result);
  rec_release(&w->in);
  w->pid = 0;
  R.running--;
}

/* A worker's pipe is readable: take what it sent, reap it at EOF. */
static void drain(struct worker *w)
{
  char buf[8192];
  ssize_t n;

  do n = read(w->fd, buf, sizeof(buf)); while (n < 0 && errno == EINTR);
  if (n <= 0) return finish(w);
  if (w->len + n > 2 * REC_LINE_MAX + 8192) {   /* a runaway worker */
    kill(w->pid, SIGKILL);
    return;
  }
  w->buf = xrealloc(w->buf, w->len + n);
  memcpy(w->buf + w->len, buf, n);
  w->len += n;
  take_output(w);
}

/* On the first signal: end the running workers (their records come out as
 * error=STAGE:interrupted) rather than wait out a 20-minute stage; but
 * never a destroy (o->finish). */
static void stop_workers(void)
{
  int i;

  for (i = 0; i < R.nw && !R.o->finish; i++)
    if (R.w[i].pid) kill(R.w[i].pid, SIGTERM);
  if (R.o->finish)
    info("interrupted: finishing the %d destroy(s) running and every record"
         " still to come (again to abort)", R.running);
  R.stopped = 1;
}
/* o->finish, a second signal: kill the destroys in flight and name them
 * and every record already waiting on stdin; nothing more is read. */
static void abort_all(void)
{
  struct pollfd p = { .fd = R.in.fd, .events = POLLIN };
  char *line;
  size_t len;
  int i, toolong, rc, lines = 0;

  R.aborted = 1;
  for (i = 0; i < R.nw; i++)
    if (R.w[i].pid) {
      kill(R.w[i].pid, SIGKILL);
      run_name_left(&R.w[i].in);
    }
  while (!R.arg && !R.done_input && lines < 10000) {
    rc = lines_next(&R.in, &line, &len, &toolong);
    if (rc > 0) {
      struct rec r;

      rec_parse(&r, line, len, R.in.lineno);
      hosts_seen(&r, 1);
      if (r.addr && !r.bad) run_name_left(&r);
      rec_release(&r);
      free(line);
      lines++;
    } else if (rc < 0 || poll(&p, 1, 0) != 1 || lines_fill(&R.in) <= 0) {
      break;
    }
  }
  R.done_input = 1;
}

static void loop(void)
{
  struct pollfd *pfd = xmalloc((2 * R.nw + 1) * sizeof(*pfd));
  int n, i, want_in;

  for (;;) {
    if (sig_caught() && !R.stopped) stop_workers();
    if (sig_count() > 1 && R.o->finish && !R.aborted) abort_all();
    want_in = feed();
    if (!R.running && R.done_input) break;
    n = 0;
    if (want_in) pfd[n++] = (struct pollfd){ .fd = R.in.fd, .events = POLLIN };
    for (i = 0; i < R.nw; i++) {
      if (!R.w[i].pid) continue;
      pfd[n++] = (struct pollfd){ .fd = R.w[i].fd, .events = POLLIN };
      if (R.w[i].errfd >= 0)
        pfd[n++] = (struct pollfd){ .fd = R.w[i].errfd, .events = POLLIN };
    }
    run_status_draw();
    /* Signals are blocked but inside ppoll(): none is missed between the
     * checks above and the wait. */
    if (ppoll(pfd, n, R.tty ? &(struct timespec){ 1, 0 } : NULL,
              &R.mask) < 0) {
      if (errno != EINTR) pdie("poll");
      if (sig_count() > 1 && !R.o->finish)
        R.done_input = 1;      /* second ^C: stop reading */
      continue;
    }
    for (i = 0; i < n; i++) {
      int j, fd = pfd[i].fd;

      if (!pfd[i].revents) continue;
      if (want_in && fd == R.in.fd) {
        if (lines_fill(&R.in) < 0) pdie("cannot read records");
        continue;
      }
      for (j = 0; j < R.nw; j++) {
        if (!R.w[j].pid) continue;
        if (R.w[j].errfd == fd) run_relay_stderr(R.w + j);
        else if (R.w[j].fd == fd) drain(R.w + j);
      }
    }
  }
  free(pfd);
}

int run_records(const struct run_opts *o)
{
  sigset_t block;

  memset(&R, 0, sizeof(R));
  R.o = o;
  R.nw = o->jobs > 0 ? o->jobs : 8;
  R.w = xzalloc(R.nw * sizeof(*R.w));
  R.tty = isatty(2) && !mvm.quiet;
  R.arg = o->hosts && *o->hosts ? o->hosts : NULL;
  lines_init(&R.in, 0);
  /* ^C, a closed terminal or a polite kill: finish what runs, write
   * every record read; a second signal stops reading input. */
  sig_catch();
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGHUP);
  sigprocmask(SIG_BLOCK, &block, &R.mask);
  signal(SIGPIPE, SIG_IGN);
  loop();
  sigprocmask(SIG_SETMASK, &R.mask, NULL);
  run_status_clear();
  run_report();
  lines_release(&R.in);
  free(R.w);
  free(R.left.s);
  if (sig_caught()) return sig_status(EXIT_HOSTFAIL);
  if (R.badinput) return EXIT_USAGE;
  return R.failed ? EXIT_HOSTFAIL : EXIT_OK;
}
