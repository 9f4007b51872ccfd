/* applets/sync.c - mvm-sync: not implemented yet. Until its issue lands it
 * passes error records through and fails every other record honestly. */
#include "mvm.h"

const char sync_usage[] =
"usage: mvm-sync [-n] [-d DESTDIR] SRC...\n"
"\n"
"Not implemented yet: every host record is passed on with\n"
"error=sync:not%20implemented%20yet and the exit status is 2.\n";

int sync_main(int argc, char **argv)
{
  (void)argc;
  (void)argv;
  return run_unimplemented("sync");
}
