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
