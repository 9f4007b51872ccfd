/* tests/bench/runstat.c - `runstat N CMD [ARG...] [-- CMD [ARG...]]...`:
 * run the commands in turn (A B C A B C ...) N times each, after one
 * warm-up round, stdout and stderr to /dev/null (each run must exit 0),
 * and print a line per command: "MEDIAN_MS MAX_RSS_KB RATIO", the median
 * wall time of one run, the largest peak RSS (wait4()'s ru_maxrss for the
 * child) and the median of each round's time over the first command's.
 * Runs in turn, so a change in the machine's load hits every command
 * alike. A regular file on stdin is read from its start by every run (a
 * record file for an applet). For startup.sh. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n)
{
  qsort(v, n, sizeof(*v), cmp);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One run of ARGV: its wall time in ms, its peak RSS into *rss; -1 if it
 * could not run or did not exit 0. */
static double run(char **argv, long *rss)
{
  struct timespec t0, t1;
  struct rusage ru;
  int st;
  pid_t pid;

  clock_gettime(CLOCK_MONOTONIC, &t0);
  if ((pid = fork()) == 0) {
    int fd = open("/dev/null", O_WRONLY);
    dup2(fd, 1);
    dup2(fd, 2);
    lseek(0, 0, SEEK_SET);            /* fails harmlessly on a tty, pipe */
    execvp(argv[0], argv);
    _exit(127);
  }
  if (pid < 0 || wait4(pid, &st, 0, &ru) < 0) {
    perror("runstat");
    return -1;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (!WIFEXITED(st) || WEXITSTATUS(st)) {     /* time only what worked */
    fprintf(stderr, "runstat: %s failed (status %d)\n", argv[0], st);
    return -1;
  }
  if (ru.ru_maxrss > *rss) *rss = ru.ru_maxrss;
  return (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
}

int main(int argc, char **argv)
{
  int n = argc > 2 ? atoi(argv[1]) : 0, ncmd = 0, i, c;
  char **cmd[32];
  long rss[32] = { 0 };
  double *ms, *ratio;

  if (n < 1) {
    fprintf(stderr, "usage: runstat N CMD [ARG...] [-- CMD [ARG...]]...\n");
    return 2;
  }
  for (i = 2; i < argc && ncmd < 32; i++) {  /* split argv at each "--" */
    cmd[ncmd++] = argv + i;
    while (i < argc && strcmp(argv[i], "--")) i++;
    if (i < argc) argv[i] = NULL;
  }
  ms = calloc((size_t)n * ncmd, sizeof(*ms));
  ratio = calloc((size_t)n * ncmd, sizeof(*ratio));
  for (i = -1; i < n; i++)                       /* round -1: the warm-up */
    for (c = 0; c < ncmd; c++) {
      long ignored = 0;
      double t = run(cmd[c], i < 0 ? &ignored : &rss[c]);

      if (t < 0) return 1;
      if (i >= 0) ms[c * n + i] = t;
    }
  for (c = 0; c < ncmd; c++)           /* before median() sorts the times */
    for (i = 0; i < n; i++) ratio[c * n + i] = ms[c * n + i] / ms[i];
  for (c = 0; c < ncmd; c++)
    printf("%.2f %ld %.2f\n", median(ms + c * n, n), rss[c],
           median(ratio + c * n, n));
  free(ms);
  free(ratio);
  return 0;
}
