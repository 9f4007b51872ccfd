/* providers/nspawn.c - local hosts as systemd-nspawn containers of the
 * cached Debian rootfs (tests/hosts/mkrootfs.sh): real systemd, sshd and
 * cloud-init (NoCloud seed directory), --volatile=overlay so the base stays
 * untouched, each sshd on its own 127.0.0.1 port, /dev/kvm bound in when
 * present. A struct local_ops for the local driver (localdrv.c). Needs
 * root. Never writes stdout. */
#include "mvm.h"
#include <sys/statvfs.h>
#include "provider.h"
#include "local.h"

/* The NoCloud seed directory and the sshd port drop-in. */
static int nspawn_seed(const struct local_host *h, const char *ud)
{
  char path[PATH_MAX + 16], *s;
  int r;

  snprintf(path, sizeof(path), "%s/nocloud", h->dir);
  if (mkdir(path, 0700))
    return error("cannot create '%s': %s", path, strerror(errno));
  if (local_put(h, "nocloud/user-data", ud, strlen(ud))) return -1;
  s = xasprintf("instance-id: %s\nlocal-hostname: %s\n", h->id, h->id);
  r = local_put(h, "nocloud/meta-data", s, strlen(s));
  free(s);
  if (r) return -1;
  s = xasprintf("Port %d\nListenAddress 127.0.0.1\n", h->port);
  r = local_put(h, "sshd-port.conf", s, strlen(s));
  free(s);
  return r;
}

/* The container's systemd-tmpfiles sets /dev/kvm to mode 0660 and its own
 * "kvm" group. Bound from the host, that would change the host's node to
 * whatever group has that GID here (seen: "postgres"). So each container
 * gets its own node for the same device, in its state dir. NULL: none. */
static char *nspawn_kvm_bind(const struct local_host *h)
{
  struct statvfs vfs;
  struct stat st;
  char *node, *bind = NULL;

  if (stat("/dev/kvm", &st) || !S_ISCHR(st.st_mode)) return NULL;
  node = xasprintf("%s/kvm", h->dir);
  if (statvfs(h->dir, &vfs) || (vfs.f_flag & ST_NODEV) ||
      mknod(node, S_IFCHR | (st.st_mode & 0777), st.st_rdev) ||
      chown(node, st.st_uid, st.st_gid))
    info("no /dev/kvm in the container: cannot make a device node in '%s'",
         h->dir);
  else bind = xasprintf("--bind=%s:/dev/kvm", node);
  free(node);
  return bind;
}

static int nspawn_launch(struct local_host *h, const char *rootfs)
{
  char *argv[20], *seed, *port, *kvm = nspawn_kvm_bind(h);
  int n = 0, r;

  seed = xasprintf("--bind-ro=%s/nocloud:/var/lib/cloud/seed/nocloud",
                   h->dir);
  port = xasprintf("--bind-ro=%s/sshd-port.conf:"
                   "/etc/ssh/sshd_config.d/10-mvm-port.conf", h->dir);
  argv[n++] = "systemd-nspawn";
  argv[n++] = "-q";
  argv[n++] = "-D";
  argv[n++] = (char *)rootfs;
  argv[n++] = "--volatile=overlay";
  /* Without systemd as PID 1 on the host, both are needed (no bus). */
  argv[n++] = "--register=no";
  argv[n++] = "--keep-unit";
  argv[n++] = "--console=passive";
  argv[n++] = "-b";
  argv[n++] = "-M";
  argv[n++] = h->id;
  argv[n++] = seed;
  argv[n++] = port;
  if (kvm) argv[n++] = kvm;
  argv[n] = NULL;
  r = local_spawn(h, argv);
  free(kvm);
  free(seed);
  free(port);
  return r;
}

/* The container's init exists once nspawn has a child process. */
static int nspawn_running(const struct local_host *h)
{
  char path[64], buf[64];
  ssize_t n;
  int fd;

  snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)h->pid,
           (int)h->pid);
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) return 0;
  n = read(fd, buf, sizeof(buf));
  close(fd);
  return n > 0;
}

static int nspawn_check(const struct up_args *a)
{
  char rootfs[PATH_MAX];

  (void)a;
  if (geteuid()) return error("nspawn needs root");
  if (local_image("rootfs", rootfs, sizeof(rootfs))) return -1;
  return local_prog("systemd-nspawn");
}

/* One container: its seed, then nspawn (each takes milliseconds). */
static int nspawn_start(const struct up_args *a, int i, struct local_host *h)
{
  char rootfs[PATH_MAX];

  if (local_image("rootfs", rootfs, sizeof(rootfs)) ||
      nspawn_seed(h, a->user_data[i]) || nspawn_launch(h, rootfs))
    return -1;
  info("%s: container started on 127.0.0.1:%d", h->id, h->port);
  return 0;
}

/* SIGTERM (soft NULL): nspawn asks the container's systemd for a clean
 * poweroff. */
static const struct local_ops nspawn_ops = {
  .name = "nspawn",
  .type = "container",
  .region = "local",
  .start_s = 10.0,        /* launch -> container init running */
  .stop_s = 30.0,         /* SIGTERM (clean poweroff) -> SIGKILL */
  .check = nspawn_check,
  .launch = nspawn_start,
  .ready = nspawn_running,
};

LOCAL_PROVIDER(nspawn);
