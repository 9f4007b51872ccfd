/* lib/runout.c - the runner's output (lib/run.c): records on stdout, one
 * write() each, the live status line on a terminal, the workers' stderr
 * relayed around it, and what an interrupted run leaves, on stderr. */
#include "mvm.h"
#include "runner.h"

/* Defined here, below run.c: runout.c needs only the state, run.c its
 * output functions. */
struct runner run_state;

/* The live status line, for a terminal only: one line at the bottom. */
void run_status_clear(void)
{
  if (R.drawn) writeall(2, "\r\033[K", 4);
  R.drawn = 0;
}

void run_status_draw(void)
{
  char line[512];
  size_t n;
  int i;

  if (!R.tty || !R.running) return;
  for (i = 0; i < R.nw; i++)          /* quick hosts draw nothing */
    if (R.w[i].pid && now_s() - R.w[i].start >= 1.0) break;
  if (i == R.nw) return;
  n = snprintf(line, sizeof(line), "\r\033[K%s: %d running:", mvm.applet,
               R.running);
  for (i = 0; i < R.nw && n < 200; i++)
    if (R.w[i].pid)
      n += snprintf(line + n, sizeof(line) - n, " %s %.0fs: %s;",
                    R.w[i].in.addr, now_s() - R.w[i].start, R.w[i].stage);
  if (n > 130) n = 130;     /* keep it on one line of a narrow terminal */
  writeall(2, line, n);
  R.drawn = 1;
}

/* Every record leaves through here: one write, never interleaved. */
void run_emit(const char *line, size_t len)
{
  run_status_clear();
  if (R.noout || !writeall(1, line, len)) return;
  if (R.o->finish) {          /* destroying goes on without a reader */
    errmsg(NULL, "cannot write records to stdout (destroying goes on): %s",
           strerror(errno));
    R.noout = 1;
    return;
  }
  if (errno == EPIPE) {
    hosts_hint();
    exit(EXIT_HOSTFAIL);
  }
  pdie("cannot write records to stdout");
}


void run_emit_rec(struct rec *r)
{
  char *s = rec_format(r);

  if (r->addr && rec_failed(r)) R.failed = 1;
  run_emit(s, strlen(s));
  free(s);
}

/* Relay a worker's stderr around the status line, whole lines at a time. */
void run_relay_stderr(struct worker *w)
{
  char buf[4096];
  ssize_t n = read(w->errfd, buf, sizeof(buf));

  if (n <= 0) {
    close(w->errfd);
    w->errfd = -1;
    return;
  }
  run_status_clear();
  writeall(2, buf, n);
  run_status_draw();
}


void run_name_left(const struct rec *r)
{
  const char *id = rec_get(r, "id");

  if (!id || !strcmp(id, "-") || R.left.len > 2000) return;
  if (R.nleft++) buf_add(&R.left, " ", 1);
  buf_add(&R.left, id, strlen(id));
}

/* How it ended, on stderr: what an interrupted stage leaves running. */
void run_report(void)
{
  if (!sig_caught()) return;
  if (R.aborted)
    errmsg(NULL, "aborted: %d host(s) not destroyed: %s", R.nleft,
           R.left.s ? R.left.s : "");
  else if (R.o->finish)
    errmsg(NULL, "interrupted: every host read was handed to its"
           " provider's destroy");
  else
    errmsg(NULL, "interrupted: every record read so far was written");
  hosts_hint();
}

/* A record's error=STAGE:reason, as errmsg() of its address. */
void rec_errmsg(const struct rec *r)
{
  const char *e = rec_get(r, "error"), *c = e ? strchr(e, ':') : NULL;

  const char *who = r->addr;

  /* A cloud host that failed before it had an address is "-": name it. */
  if (who && !strcmp(who, "-"))
    who = rec_get(r, "name") ? rec_get(r, "name") :
          rec_get(r, "id") ? rec_get(r, "id") : who;
  if (e) errmsg(who, "%s", c && c - e < 20 ? c + 1 : e);
}
