/* lib/rate.c - one request budget per provider, shared by every worker and
 * every mvmbox process of the user: a token bucket kept as GCRA's single
 * "theoretical arrival time" in a small file under the state directory,
 * updated under flock(). Callers reserve a slot and sleep outside the lock,
 * so 1,000 workers queue at the rate instead of storming the API. A 429
 * pushes the whole bucket back by its Retry-After. Used by lib/http.c. */
#include "mvm.h"

#include <sys/file.h>

static double wall_s(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int bucket_open(const char *prov)
{
  const char *s = getenv("MVM_STATE_DIR"), *x = getenv("XDG_RUNTIME_DIR");
  char dir[PATH_MAX], path[PATH_MAX + 64];

  if (s && *s) snprintf(dir, sizeof(dir), "%s", s);
  else if (x && *x) snprintf(dir, sizeof(dir), "%s/mvmbox", x);
  else snprintf(dir, sizeof(dir), "/tmp/mvmbox-%u", (unsigned)geteuid());
  if (mkdir(dir, 0700) && errno != EEXIST) return -1;
  snprintf(path, sizeof(path), "%s/rate-%s", dir, prov);
  return open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
}

/* Under the lock: read the arrival time, let F move it, write it back. */
static double bucket_update(const char *prov, double (*f)(double *tat,
                            double now, double a, double b), double a,
                            double b)
{
  double tat = 0, now = wall_s(), wait;
  int fd = bucket_open(prov);

  if (fd < 0 || flock(fd, LOCK_EX)) {
    /* No shared state: pace this process alone rather than not at all. */
    static double local_tat;

    if (fd >= 0) close(fd);
    return f(&local_tat, now, a, b);
  }
  if (pread(fd, &tat, sizeof(tat), 0) != sizeof(tat) || tat != tat)
    tat = 0;
  wait = f(&tat, now, a, b);
  if (pwrite(fd, &tat, sizeof(tat), 0) != sizeof(tat))
    debug("rate: cannot write the %s bucket", prov);
  close(fd);                  /* drops the lock */
  return wait;
}

/* GCRA: a request at `now` conforms if tat - tau <= now; it reserves the
 * next slot either way and waits for its own. */
static double take(double *tat, double now, double rate, double burst)
{
  double t = *tat > now ? *tat : now, tau = (burst - 1) / rate;

  *tat = t + 1 / rate;
  return t - tau > now ? t - tau - now : 0;
}

/* Nobody may start before now + secs: tat past that by the burst. */
static double push_back(double *tat, double now, double secs, double tau)
{
  if (*tat < now + secs + tau) *tat = now + secs + tau;
  return 0;
}

void rate_take(const char *prov, double rate, double burst)
{
  double wait;

  if (rate <= 0) return;
  if (burst < 1) burst = 1;
  wait = bucket_update(prov, take, rate, burst);
  if (wait > 0) {
    debug("rate: %s budget: waiting %.2fs", prov, wait);
    sleep_s(wait);    /* all of it: a ^C's SIGUSR1 must not jump the queue */
  }
}

void rate_pause(const char *prov, double secs, double rate, double burst)
{
  if (secs > 0 && rate > 0)
    bucket_update(prov, push_back, secs, (burst < 1 ? 0 : burst - 1) / rate);
}
