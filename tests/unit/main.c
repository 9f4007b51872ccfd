/* tests/unit/main.c - runs every registered unit test group, or those named
 * on the command line; the last line is "unit: N passed, N failed". */
#include "unit.h"

int unit_pass, unit_fail, unit_cur_failed;
const char *unit_cur;
static struct { const char *name; void (*fn)(void); } groups[64];
static int ngroups;

void unit_register(const char *name, void (*fn)(void))
{
  if (ngroups < (int)ARRAY_LEN(groups)) {
    groups[ngroups].name = name;
    groups[ngroups++].fn = fn;
  }
}

/* tests/files/NAME next to this binary (tests/unit/unit). */
char *unit_file(const char *name)
{
  char exe[PATH_MAX], *p;
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

  if (n < 0) return xasprintf("tests/files/%s", name);
  exe[n] = 0;
  if ((p = strrchr(exe, '/'))) *p = 0;
  if ((p = strrchr(exe, '/'))) *p = 0;
  return xasprintf("%s/files/%s", exe, name);
}

int main(int argc, char **argv)
{
  int i, j;

  msg_init("unit");
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (i = 0; i < ngroups; i++) {
    int want = argc < 2;
    for (j = 1; j < argc; j++)
      if (!strcmp(argv[j], groups[i].name)) want = 1;
    if (want) groups[i].fn();
  }
  printf("unit: %d passed, %d failed\n", unit_pass, unit_fail);
  return unit_fail ? 1 : 0;
}
