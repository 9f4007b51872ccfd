/* lib/http/rate.c - one request budget per provider, shared by every worker and
 * every mvmbox process of the user: a token bucket kept as GCRA's single
 * "theoretical arrival time" in a small file under the state directory,
 * updated under flock(). Callers reserve a slot and sleep outside the lock,
 * so 1,000 workers queue at the rate instead of storming the API.
 *
 * The rate adapts, as TCP's congestion window and the AWS SDKs' "adaptive"
 * retry mode do: the configured rate (MVM_<PROVIDER>_RATE or the
 * provider's) is only the ceiling; a 429 cuts the shared rate (at most
 * once per second: the answers to one burst are one signal, not fifty) to
 * TOOK of the successes the API gave in a second (a per-second limit
 * says itself so), else by BETA; every success adds a little back (RAMP
 * of the ceiling per second of saturated sending, SLOW times that near
 * the rate of the last cut: CUBIC's plateau), there is no burst below the
 * ceiling, and the 429's Retry-After pushes the whole bucket back.
 * A bucket that has never seen a 429 (or was idle for FORGET) starts
 * slow, as TCP does: at SS_START of the ceiling, rate and burst alike,
 * doubling each second that has a success, until the ceiling or the
 * first 429 (which then cuts to what the API took): 64 workers do not
 * open with the ceiling's burst against a lower limit, and a large
 * documented burst (hetzner's 3,600) still opens with a large share.
 * Nobody has to know their account's limit. Used by lib/http/http.c. */
#include "mvm.h"
#include "http.h"

#include <sys/file.h>

#define BETA 0.75           /* multiplicative decrease on a 429 */
#define RAMP 0.01           /* additive increase: ceiling share per second */
#define FLOOR 0.02          /* never below this share of the ceiling */
#define DEC_EVERY 1.0       /* seconds between two decreases */
#define FORGET 600.0        /* a cut this old is forgotten: the ceiling */
#define REGROWN 1.25        /* the rate grew this much: requeue everyone */
#define NAP 1.0             /* a waiter looks at the bucket this often */
#define TOOK 0.9            /* a cut goes to this share of what the API
                             * took in a second, when that is known */
#define NEAR 0.95           /* growth within this of the last cut's rate */
#define SLOW 0.1            /* ... is this much slower */
#define COLLAPSE 0.25       /* a measure below this share of the rate is
                             * not taken (a trickle was sent) */
#define SS_START 0.25       /* slow start: the share of the ceiling first */
#define SS_EVERY 1.0        /* ... doubled at most this often */

/* The file: the arrival time, the current rate (0: the ceiling), when it
 * was last cut, how many times the queue was voided (gen) and the rate
 * then. A waiter holds a slot of the rate in force when it queued: when
 * the rate moves (a cut, a Retry-After, a regrowth) the queue is voided
 * and every waiter, looking every NAP, queues again at the new rate. A
 * file of an older mvmbox (the time alone) reads as "at the ceiling". */
struct bucket {
  double tat, cur, cut_at, gen, gen_rate;
  /* Successes of the wall-clock second ok_sec (ok_n) and of the second
   * before it (ok_prev): what the API took, the measure a cut goes to;
   * cut_from: the rate the last cut came down from (growth slows near
   * it, as CUBIC's does near its last loss). */
  double ok_sec, ok_n, ok_prev, cut_from;
  /* ss: 1 while cur is a slow start's rate; ss_at: its last doubling. */
  double ss, ss_at;
};

static double wall_s(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int shared_open(const char *name)
{
  const char *s = getenv("MVM_STATE_DIR"), *x = getenv("XDG_RUNTIME_DIR");
  char dir[PATH_MAX], path[PATH_MAX + 128];

  if (s && *s) snprintf(dir, sizeof(dir), "%s", s);
  else if (x && *x) snprintf(dir, sizeof(dir), "%s/mvmbox", x);
  else snprintf(dir, sizeof(dir), "/tmp/mvmbox-%u", (unsigned)geteuid());
  if (mkdir(dir, 0700) && errno != EEXIST) return -1;
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  return open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
}

static int bucket_open(const char *prov)
{
  char name[96];

  snprintf(name, sizeof(name), "rate-%s", prov);
  return shared_open(name);
}

/* What a step of the bucket is given: the configured rate and burst (the
 * ceiling), and a step's own argument; gen: the bucket's, after the step. */
struct step {
  double rate, burst, arg, gen;
};

static int sane(double v)
{
  return v == v && v >= 0 && v < 1e12;
}

/* Under the lock: read the bucket, let F move it, write it back. */
static double bucket_update(const char *prov, double (*f)(struct bucket *b,
                            double now, const struct step *s),
                            struct step *s)
{
  struct bucket b = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
  double now = wall_s(), wait;
  ssize_t n;
  int fd = bucket_open(prov);

  if (fd < 0 || flock(fd, LOCK_EX)) {
    /* No shared state: pace this process alone rather than not at all. */
    static struct bucket local;

    if (fd >= 0) close(fd);
    wait = f(&local, now, s);
    s->gen = local.gen;
    return wait;
  }
  n = pread(fd, &b, sizeof(b), 0);
  if (n < (ssize_t)sizeof(b.tat) || !sane(b.tat)) b.tat = 0;
  if (n < (ssize_t)sizeof(b) || !sane(b.cur) || !sane(b.cut_at) ||
      !sane(b.gen) || !sane(b.gen_rate) || !sane(b.ok_sec) ||
      !sane(b.ok_n) || !sane(b.ok_prev) || !sane(b.cut_from) ||
      !sane(b.ss) || !sane(b.ss_at))
    b.cur = b.cut_at = b.gen = b.gen_rate = b.ok_sec = b.ok_n =
      b.ok_prev = b.cut_from = b.ss = b.ss_at = 0;
  wait = f(&b, now, s);
  s->gen = b.gen;
  if (pwrite(fd, &b, sizeof(b), 0) != sizeof(b))
    debug("rate: cannot write the %s bucket", prov);
  close(fd);                  /* drops the lock */
  return wait;
}

/* The rate in force: the current one, within [FLOOR, 1] of the ceiling
 * (yesterday's limit is not today's: an old cut is forgotten). */
static double current(const struct bucket *b, double now, double ceiling)
{
  double lo = ceiling * FLOOR;

  if (b->ss && b->cur > 0) return b->cur < ceiling ? b->cur : ceiling;
  if (b->cur <= 0 || b->cur > ceiling || now - b->cut_at > FORGET)
    return ceiling;
  return b->cur < lo ? lo : b->cur;
}

/* The burst is the ceiling's only: once a 429 cut the rate (until the
 * cut is regrown or forgotten) requests go at the rate itself, so that a
 * Retry-After holds every one back (a burst allowance larger than it
 * would let them through at once) and a burst is never refused again. */
static double tau_of(const struct bucket *b, double now, double rate,
                     const struct step *s)
{
  if (b->ss) {                /* slow start: the burst's share too */
    double burst = s->burst * rate / s->rate;

    return (burst < 1 ? 0 : burst - 1) / rate;
  }
  if (rate < s->rate && b->cur > 0 && now - b->cut_at <= FORGET) return 0;
  return (s->burst < 1 ? 0 : s->burst - 1) / rate;
}

/* GCRA: a request at `now` conforms if tat - tau <= now; it reserves the
 * next slot either way and waits for its own. */
static double take(struct bucket *b, double now, const struct step *s)
{
  double r, t, tau;

  if ((b->tat <= 0 || now - b->tat > FORGET) && now - b->cut_at > FORGET) {
    /* New, or idle long enough to know nothing: slow start. */
    b->cur = s->rate * SS_START;
    b->ss = 1;
    b->ss_at = now;
    b->cut_from = 0;
  }
  r = current(b, now, s->rate);
  t = b->tat > now ? b->tat : now;
  tau = tau_of(b, now, r, s);

  b->tat = t + 1 / r;
  return t - tau > now ? t - tau - now : 0;
}

/* The slots reserved past the next NAP are void (their waiters queue
 * again; those within it go, unaware): the next new slot is after them,
 * and at least SECS from now, at rate R, with no burst. */
static void requeue(struct bucket *b, double now, double r, double secs)
{
  double kept = b->tat < now ? now : b->tat > now + NAP ? now + NAP : b->tat;

  if (secs > 0 && kept < now + secs) kept = now + secs;
  b->tat = kept + 1 / r;
  b->gen++;
  b->gen_rate = r;
}

/* What the API took in a second: the most successes of this wall-clock
 * second and the one before (0: none counted). */
static double took(const struct bucket *b, double now)
{
  double sec = (double)(long long)now;

  if (b->ok_sec == sec) return b->ok_n > b->ok_prev ? b->ok_n : b->ok_prev;
  return b->ok_sec == sec - 1 ? b->ok_n : 0;
}

/* A success: counted in its second; the rate grows by RAMP of the
 * ceiling per second while sending at the current rate, i.e. RAMP *
 * ceiling / current per answer, SLOW times that near the last cut's. */
static double grow(struct bucket *b, double now, const struct step *s)
{
  double r = current(b, now, s->rate), sec = (double)(long long)now, step;

  if (b->ok_sec != sec) {
    b->ok_prev = b->ok_sec == sec - 1 ? b->ok_n : 0;
    b->ok_sec = sec;
    b->ok_n = 0;
  }
  b->ok_n++;
  if (b->ss) {
    /* Slow start: double once a second that has a success; the slots
     * taken at the old rate are voided, as on any regrowth. */
    if (now - b->ss_at < SS_EVERY && now >= b->ss_at) return 0;
    r *= 2;
    b->ss_at = now;
    if (r >= s->rate) r = s->rate, b->ss = 0;
    b->cur = r >= s->rate ? 0 : r;
    requeue(b, now, r, 0);
    return 0;
  }
  step = RAMP * s->rate / r;
  if (b->cur > 0 && r >= b->cut_from * NEAR) step *= SLOW;
  r += step;
  if (r > s->rate) r = s->rate;
  b->cur = r >= s->rate ? 0 : r;
  if (b->gen_rate > 0 && r >= b->gen_rate * REGROWN) requeue(b, now, r, 0);
  return 0;
}

/* A 429: the rate cut by BETA (once per DEC_EVERY), and nobody starts
 * before now + its Retry-After (arg): tat past that by the burst. */
static double cut(struct bucket *b, double now, const struct step *s)
{
  double r = current(b, now, s->rate);

  int was_cut = now - b->cut_at >= DEC_EVERY || now < b->cut_at;

  if (was_cut) {
    /* To TOOK of what the API took in a second, if that is a cut but not
     * a collapse (a 429 to a trickle says little), else by BETA. */
    double t = took(b, now) * TOOK;

    b->cut_from = r;
    if (b->ss && t >= r) {
      /* The end of a slow start: the burst let more through than its
       * rate; the limit is what the API took, below the ceiling. */
      b->cut_from = t / TOOK;
      r = t < s->rate * BETA ? t : s->rate * BETA;
    } else {
      r = t < r && t >= r * COLLAPSE ? t : r * BETA;
    }
    b->ss = 0;
    if (r < s->rate * FLOOR) r = s->rate * FLOOR;
    b->cur = r;
    b->cut_at = now;
    debug("rate: a 429: the shared rate is now %.2f/s", r);
  }
  if (was_cut || (s->arg > 0 && b->tat < now + s->arg))
    requeue(b, now, r, s->arg);
  return 0;
}

static int step_of(struct step *s, double rate, double burst, double arg)
{
  if (rate <= 0) return -1;
  s->rate = rate;
  s->burst = burst < 1 ? 1 : burst;
  s->arg = arg;
  s->gen = 0;
  return 0;
}

/* Nothing changes: what the bucket's gen is now. */
static double peek(struct bucket *b, double now, const struct step *s)
{
  (void)b, (void)now, (void)s;
  return 0;
}

/* A slot reserved at the old rate is wrong once the rate moved while its
 * worker slept: 300 workers queued at 20/s would all still go at 20/s
 * into a 10/s limit, or, queued at 2/s, idle an API that takes 10/s. So a
 * waiter looks every NAP, and queues again if the queue was voided. */
void rate_take(const char *prov, double rate, double burst)
{
  struct step s;
  double wait, gen, nap;
  int again;

  if (step_of(&s, rate, burst, 0)) return;
  for (again = 0; again < 64; again++) {
    wait = bucket_update(prov, take, &s);
    if (wait <= 0) return;
    gen = s.gen;
    debug("rate: %s budget: waiting %.2fs", prov, wait);
    do {
      nap = wait < NAP ? wait : NAP;
      sleep_s(nap);   /* all of it: a ^C's SIGUSR1 must not jump the queue */
      wait -= nap;
      bucket_update(prov, peek, &s);
    } while (wait > 0 && s.gen == gen);
    if (s.gen == gen) return;
  }
}

/* The rate in force, moving nothing: for a look from outside (tests). */
static double in_force(struct bucket *b, double now, const struct step *s)
{
  return b->tat > 0 ? current(b, now, s->rate) : s->rate * SS_START;
}

double rate_now(const char *prov, double rate, double burst)
{
  struct step s;

  return step_of(&s, rate, burst, 0) ? 0 : bucket_update(prov, in_force, &s);
}

void rate_ok(const char *prov, double rate, double burst)
{
  struct step s;

  if (!step_of(&s, rate, burst, 0)) bucket_update(prov, grow, &s);
}

void rate_429(const char *prov, double secs, double rate, double burst)
{
  struct step s;

  if (!step_of(&s, rate, burst, secs)) bucket_update(prov, cut, &s);
}

