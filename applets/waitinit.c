/* applets/waitinit.c - mvm-waitinit: not implemented yet. Until its issue lands it
 * passes error records through and fails every other record honestly. */
#include "mvm.h"

const char waitinit_usage[] =
"usage: mvm-waitinit [-t TIMEOUT] [-i IDENTITY] [-u USER] [-j N] [HOST...]\n"
"\n"
"Not implemented yet: every host record is passed on with\n"
"error=init:not%20implemented%20yet and the exit status is 2.\n";

int waitinit_main(int argc, char **argv)
{
  (void)argc;
  (void)argv;
  return run_unimplemented("init");
}
