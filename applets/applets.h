/* applets/applets.h - THE applet table: one APPLET() line per applet, sorted.
 * Included twice by applets/mvmbox.c (prototypes, then the table) and by the
 * unit test that checks every applet has a file, a man page and a synopsis.
 * Flags: AF_RECORDS reads host records on stdin; AF_RECORDS_OPTIONAL reads
 * them when stdin is not a terminal. */
/*     name              stem        flags */
APPLET("mvm-kvmcheck",   kvmcheck,   AF_RECORDS_OPTIONAL)
APPLET("mvm-postdeploy", postdeploy, AF_RECORDS)
APPLET("mvm-provision",  provision,  0)
APPLET("mvm-report",     report,     0)
APPLET("mvm-run",        run,        AF_RECORDS)
APPLET("mvm-sync",       sync,       AF_RECORDS)
APPLET("mvm-teardown",   teardown,   AF_RECORDS_OPTIONAL)
APPLET("mvm-waitinit",   waitinit,   AF_RECORDS)
