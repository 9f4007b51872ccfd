/* lib/runner.h - the state lib/run.c (reading records, the workers) and
 * lib/runout.c (writing records and messages) share; nothing else
 * includes it but their unit test (tests/unit/test_runout.c). */
#ifndef MVM_RUNNER_H
#define MVM_RUNNER_H

struct worker {
  pid_t pid;
  int fd, errfd;          /* records+status pipe; stderr pipe on a tty */
  struct rec in;          /* the input record, for a worker that dies */
  char *buf;              /* what the worker sent so far */
  size_t len;
  char *result;           /* "R..." or "F..." record line, once sent */
  char stage[80];         /* its last status() */
  double start;
};

struct runner {
  const struct run_opts *o;
  struct worker *w;
  int nw, running, failed, badinput;
  int tty, drawn;
  int stopped;            /* workers were told to end (interrupted) */
  int aborted;            /* o->finish, second signal: workers killed */
  int noout;              /* stdout is gone (o->finish goes on anyway) */
  struct buf left;        /* aborted: the ids not destroyed */
  int nleft;
  sigset_t mask;          /* the signal mask outside ppoll() */
  struct lines in;
  char **arg;             /* next host argument, or NULL: stdin */
  int done_input;
};
extern struct runner run_state;
#define R run_state     /* short, in the two files that include this */

void run_status_clear(void);
void run_status_draw(void);
void run_emit(const char *line, size_t len);  /* one record line, one write */
void run_emit_rec(struct rec *r);
void run_relay_stderr(struct worker *w);
void run_name_left(const struct rec *r);      /* aborted: an id not destroyed */
void run_report(void);                        /* how an interrupted run ended */

#endif
