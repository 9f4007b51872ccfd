/* lib/kvm/kvmnames.c - user and group names for the KVM gate's permission
 * messages, "?" when unknown. mvmbox asks NSS (LDAP and sssd users too).
 * The static probe (probe/kvmprobe.c, built with MVM_STATIC_PROBE) reads
 * /etc/passwd and /etc/group itself: NSS in a static glibc binary would
 * dlopen the libnss modules of the host at run time, which need not match
 * the glibc it was linked with. */
#include "mvm.h"
#include "kvm.h"

#include <grp.h>
#include <pwd.h>

#ifdef MVM_STATIC_PROBE
void kvm_user_name(uid_t uid, char *buf, size_t n)
{
  FILE *f = fopen("/etc/passwd", "re");
  struct passwd *p = NULL;

  while (f && (p = fgetpwent(f)) && p->pw_uid != uid) {}
  snprintf(buf, n, "%s", p ? p->pw_name : "?");
  if (f) fclose(f);
}

void kvm_group_name(gid_t gid, char *buf, size_t n)
{
  FILE *f = fopen("/etc/group", "re");
  struct group *g = NULL;

  while (f && (g = fgetgrent(f)) && g->gr_gid != gid) {}
  snprintf(buf, n, "%s", g ? g->gr_name : "?");
  if (f) fclose(f);
}
#else
void kvm_user_name(uid_t uid, char *buf, size_t n)
{
  struct passwd *p = getpwuid(uid);

  snprintf(buf, n, "%s", p ? p->pw_name : "?");
}

void kvm_group_name(gid_t gid, char *buf, size_t n)
{
  struct group *g = getgrgid(gid);

  snprintf(buf, n, "%s", g ? g->gr_name : "?");
}
#endif
