/* applets/applets.h - THE applet table: one APPLET() line per applet, sorted.
 * Included twice by applets/mvmbox.c: the prototypes, then the table. */
/*     name              stem */
APPLET("mvm-kvmcheck",   kvmcheck)
APPLET("mvm-postdeploy", postdeploy)
APPLET("mvm-provision",  provision)
APPLET("mvm-report",     report)
APPLET("mvm-run",        run)
APPLET("mvm-sync",       sync)
APPLET("mvm-teardown",   teardown)
APPLET("mvm-waitinit",   waitinit)
