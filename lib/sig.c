/* lib/sig.c - interrupts, the same in every applet. ^C on a terminal goes
 * to the whole pipeline, and a stage that created or read hosts must not
 * just vanish: the first INT, TERM or HUP is only noted (what runs
 * finishes and says what is left), a second one aborts. The exit status
 * after a signal is 128 + its number, as shells and coreutils report. */
#include "mvm.h"
#include <sys/prctl.h>
#include <sys/resource.h>

static volatile sig_atomic_t first, count;
static char abort_line[512], first_line[256];
static size_t abort_len, first_len;
/* What the abort line is followed by: the ids still left, swapped whole
 * (one pointer store) so that a signal sees the old text or the new. */
struct left {
  size_t len;
  char s[];
};
static struct left *volatile left;

static void on_signal(int sig)
{
  struct left *l = left;

  if (!first) first = sig;
  if (++count == 1 && first_len && write(2, first_line, first_len) < 0)
    first_len = 0;
  if (count > 1 && abort_len) {
    /* Only async-signal-safe calls here: the lines were made in advance. */
    if (write(2, abort_line, abort_len) < 0) _exit(128 + first);
    if (l && write(2, l->s, l->len) < 0) _exit(128 + first);
    _exit(128 + first);
  }
}

void sig_abort_left(const char *text)
{
  struct left *old = left, *l = NULL;
  size_t n = text ? strlen(text) : 0;

  if (n) {
    l = xmalloc(sizeof(*l) + n + 2);
    memcpy(l->s, text, n);
    if (l->s[n - 1] != '\n') l->s[n++] = '\n';
    l->len = n;
  }
  left = l;
  free(old);
}

void sig_catch(void)
{
  struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };

  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
}

/* What a second signal writes before it ends the process at once; NULL:
 * it only counts (the runner's loop handles it). */
void sig_abort_line(const char *fmt, ...)
{
  char line[sizeof(abort_line)] = "";
  va_list ap;
  int n = 0;

  if (fmt) {
    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if (n > (int)sizeof(line) - 2) n = sizeof(line) - 2;
    line[n++] = '\n';
  }
  abort_len = 0;              /* never half a line if a signal comes now */
  memcpy(abort_line, line, n);
  abort_len = n;
}

/* What the first signal writes (a fixed line, made now), NULL: nothing. */
void sig_first_line(const char *line)
{
  first_len = 0;
  if (!line) return;
  snprintf(first_line, sizeof(first_line), "%s\n", line);
  first_len = strlen(first_line);
}

int sig_caught(void)
{
  return first;
}

int sig_count(void)
{
  return count;
}

/* The exit status: 128 + the first signal once one came, else rc. */
int sig_status(int rc)
{
  return first ? 128 + first : rc;
}

/* Any process that holds private keys: no core file, no ptrace by other
 * processes of the same user, no /proc/PID/mem for them. */
void no_core_dumps(void)
{
  struct rlimit rl = { 0, 0 };

  if (setrlimit(RLIMIT_CORE, &rl)) pdie("setrlimit RLIMIT_CORE");
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)) pdie("prctl PR_SET_DUMPABLE");
}
