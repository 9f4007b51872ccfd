/* providers/localcg.c - each local host in a cgroup of its own. Without
 * systemd as the host's PID 1, systemd-nspawn splits the cgroup it starts
 * in into supervisor/ and payload/, so containers started from the same
 * cgroup all share one payload/: each container's systemd creates, kills
 * and removes the same unit cgroups there, and now and then a unit of one
 * failed because another removed its cgroup (219/CGROUP, "Failed to attach
 * to cgroup /system.slice/...: No such file or directory"; e2e.test's
 * is-system-running said "degraded"). A cgroup mvmbox-ID under ours in
 * every hierarchy systemd uses (cgroup2, v1 name=systemd) ends that; the
 * list is kept in the host's state as "cgroups" for its removal. */
#include "mvm.h"
#include "localcg.h"

#include <ftw.h>

#define CG_MAX 4

static char cg[CG_MAX][PATH_MAX];
static int ncg;

/* Our own path in the hierarchy KEY of /proc/self/cgroup ("" for
 * cgroup2, "name=systemd"), or NULL. */
static const char *own_path(const char *key, char *out, size_t len)
{
  char line[PATH_MAX + 64], *a, *b;
  FILE *f = fopen("/proc/self/cgroup", "re");
  const char *r = NULL;

  if (!f) return NULL;
  while (!r && fgets(line, sizeof(line), f)) {
    line[strcspn(line, "\n")] = 0;
    if (!(a = strchr(line, ':')) || !(b = strchr(a + 1, ':'))) continue;
    *b = 0;
    if (strcmp(a + 1, key)) continue;
    snprintf(out, len, "%s", b + 1);
    r = out;
  }
  fclose(f);
  return r;
}

void local_cgroup_make(const char *id, struct buf *list)
{
  char line[2 * PATH_MAX], mnt[PATH_MAX], type[64], opts[512], own[PATH_MAX];
  FILE *f = fopen("/proc/self/mountinfo", "re");
  const char *key, *sep;

  ncg = 0;
  if (!f) return;
  while (ncg < CG_MAX && fgets(line, sizeof(line), f)) {
    /* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS... - TYPE SOURCE SUPEROPTS */
    if (!(sep = strstr(line, " - ")) ||
        sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
        sscanf(sep + 3, "%63s %*s %511s", type, opts) != 2)
      continue;
    if (!strcmp(type, "cgroup2")) key = "";
    else if (!strcmp(type, "cgroup") && strstr(opts, "name=systemd"))
      key = "name=systemd";
    else continue;
    if (!own_path(key, own, sizeof(own))) continue;
    if (snprintf(cg[ncg], sizeof(cg[ncg]), "%s%s/mvmbox-%s", mnt,
                 strcmp(own, "/") ? own : "", id) >= (int)sizeof(cg[0]))
      continue;
    if (mkdir(cg[ncg], 0755) && errno != EEXIST) {
      debug("no cgroup of its own for %s in %s: %s", id, mnt,
            strerror(errno));
      continue;
    }
    buf_add(list, cg[ncg], strlen(cg[ncg]));
    buf_add(list, "\n", 1);
    ncg++;
  }
  fclose(f);
}

/* In the child, before exec: into the cgroups local_cgroup_make() made. */
void local_cgroup_enter(void)
{
  char path[PATH_MAX + 16];
  int i, fd;

  for (i = 0; i < ncg; i++) {
    if (snprintf(path, sizeof(path), "%s/cgroup.procs", cg[i]) >=
        (int)sizeof(path) || (fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
      continue;
    if (write(fd, "0\n", 2) < 0) {
      /* not fatal: the host still runs, only shares its parent's cgroup */
    }
    close(fd);
  }
}

/* Kill whatever is still in one cgroup directory, then try to remove it
 * (innermost first, so it is called depth-first). */
static int rm_dir(const char *path, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
  char procs[PATH_MAX + 16], *list, *p;

  (void)sb;
  (void)ftw;
  if (flag != FTW_DP) return 0;
  snprintf(procs, sizeof(procs), "%s/cgroup.procs", path);
  if (!access(procs, R_OK)) {
    list = xreadfile(procs, 1 << 20, NULL);
    for (p = list; *p; p += strcspn(p, "\n"), p += !!*p)
      if (atoi(p) > 1) kill(atoi(p), SIGKILL);
    free(list);
  }
  rmdir(path);
  return 0;
}

/* Once the host is being removed: nothing of it may outlive that. A
 * container's init can outlive a killed systemd-nspawn (seen: systemd
 * reparented to PID 1 after the SIGKILL of a host that would not power
 * off), so every process left in its cgroups is killed, and the cgroups
 * removed once empty (a few seconds at most: SIGKILL is not ignored). */
void local_cgroup_rm(const char *id, const char *dir)
{
  char path[PATH_MAX + 16], *list, *s, *e;
  int tries;

  snprintf(path, sizeof(path), "%s/cgroups", dir);
  if (access(path, R_OK)) return;
  list = xreadfile(path, 4 * PATH_MAX, NULL);
  for (s = list; *s; s = e) {
    e = s + strcspn(s, "\n");
    if (*e) *e++ = 0;
    /* only what local_cgroup_make() can have written */
    if (strncmp(s, "/sys/fs/cgroup/", 15) || !strstr(s, "/mvmbox-mvm-"))
      continue;
    for (tries = 0; tries < 100 && !access(s, F_OK); tries++) {
      nftw(s, rm_dir, 16, FTW_DEPTH | FTW_PHYS);
      if (!access(s, F_OK)) usleep(50000);
    }
    if (!access(s, F_OK)) errmsg(NULL, "%s: cannot remove its cgroup %s", id, s);
  }
  free(list);
}
