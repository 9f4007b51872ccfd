/* applets/teardown.c - mvm-teardown: not implemented yet. Until its issue lands it
 * passes error records through and fails every other record honestly. */
#include "mvm.h"

const char teardown_usage[] =
"usage: mvm-teardown [--dry-run] [PROVIDER [LABEL]]\n"
"\n"
"Not implemented yet: every host record is passed on with\n"
"error=teardown:not%20implemented%20yet and the exit status is 2.\n";

int teardown_main(int argc, char **argv)
{
  (void)argc;
  (void)argv;
  return run_unimplemented("teardown");
}
