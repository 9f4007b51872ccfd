/* tests/bench/runstat.c - `runstat N CMD [ARG...]`: run CMD N times
 * (stdout, stderr to /dev/null; each must exit 0) and print "MEDIAN_MS
 * MAX_RSS_KB": the median wall time of one run and the largest peak RSS,
 * as wait4()'s ru_maxrss reports it for the child. For startup.sh. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
  int n = argc > 2 ? atoi(argv[1]) : 0, i;
  long maxrss = 0;
  double *ms;

  if (n < 1) {
    fprintf(stderr, "usage: runstat N CMD [ARG...]\n");
    return 2;
  }
  ms = calloc(n, sizeof(*ms));
  for (i = 0; i < n; i++) {
    struct timespec t0, t1;
    struct rusage ru;
    int st;
    pid_t pid;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((pid = fork()) == 0) {
      int fd = open("/dev/null", O_WRONLY);
      dup2(fd, 1);
      dup2(fd, 2);
      execvp(argv[2], argv + 2);
      _exit(127);
    }
    if (pid < 0 || wait4(pid, &st, 0, &ru) < 0) {
      perror("runstat");
      return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!WIFEXITED(st) || WEXITSTATUS(st)) {   /* time only what worked */
      fprintf(stderr, "runstat: %s failed (status %d)\n", argv[2], st);
      return 1;
    }
    ms[i] = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    if (ru.ru_maxrss > maxrss) maxrss = ru.ru_maxrss;
  }
  qsort(ms, n, sizeof(*ms), cmp);
  printf("%.2f %ld\n", ms[n / 2], maxrss);
  free(ms);
  return 0;
}
