/* applets/provision.c - mvm-provision: not implemented yet. Until its issue lands it
 * passes error records through and fails every other record honestly. */
#include "mvm.h"

const char provision_usage[] =
"usage: mvm-provision [-n N] [-l LABEL] [-t TYPE] [-r REGION] PROVIDER\n"
"\n"
"Not implemented yet: every host record is passed on with\n"
"error=provision:not%20implemented%20yet and the exit status is 2.\n";

int provision_main(int argc, char **argv)
{
  (void)argc;
  (void)argv;
  return run_unimplemented("provision");
}
