/* providers/qemu.c - local hosts as qemu-system-x86_64 VMs: the cached
 * rootfs's kernel+initrd and raw ext4 disk (tests/hosts/mkrootfs.sh), or a
 * user's cloud image (--image FILE), behind a qcow2 overlay per boot; a
 * `cidata` NoCloud seed disk; slirp with restrict=on and one loopback
 * hostfwd for SSH. KVM only when a real guest kernel boots under it, else
 * TCG. Clean poweroff through QMP. A struct local_ops for the local driver
 * (localdrv.c). Never writes stdout. */
#include "mvm.h"
#include "provider.h"
#include "local.h"

#include <sys/socket.h>
#include <sys/un.h>

#define QEMU_PROBE_S 20.0     /* the KVM probe boot */

/* Wait up to SECS for PID to exit; 0 if it did, -1 (killed) if not. */
static int wait_exit(pid_t pid, double secs)
{
  double t0 = now_s();
  int st;

  while (now_s() - t0 < secs) {
    if (waitpid(pid, &st, WNOHANG) == pid) return 0;
    usleep(50000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &st, 0);
  return -1;
}

/* Does a real guest kernel boot under KVM? Boot the image's kernel with no
 * root disk: it must reach the root-mount panic (TCG does in about 3 s).
 * A KVM_RUN probe is not enough: kvm_pvm runs it, yet no distro kernel
 * boots there (TESTHOSTS.md §3.6). */
static int kvm_boots(const char *kernel, const char *dir)
{
  char log[PATH_MAX + 16], ser[PATH_MAX + 32], buf[8192];
  char *argv[] = { "qemu-system-x86_64", "-accel", "kvm", "-cpu", "host",
    "-m", "256", "-nodefaults", "-display", "none", "-no-reboot",
    "-kernel", (char *)kernel, "-append", "console=ttyS0 panic=-1",
    "-serial", ser, NULL };
  struct local_host h;
  ssize_t n;
  pid_t pid;
  int fd, ok = 0;

  memset(&h, 0, sizeof(h));
  snprintf(h.id, sizeof(h.id), "kvm-probe");
  snprintf(h.dir, sizeof(h.dir), "%s", dir);
  snprintf(log, sizeof(log), "%s/kvm-probe.log", dir);
  snprintf(ser, sizeof(ser), "file:%s", log);
  if (local_spawn(&h, argv)) return 0;
  pid = h.pid;
  wait_exit(pid, QEMU_PROBE_S);
  if ((fd = open(log, O_RDONLY | O_CLOEXEC)) >= 0) {
    n = read(fd, buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = 0;
    ok = strstr(buf, "VFS: Unable to mount root") != NULL ||
         strstr(buf, "Kernel panic") != NULL;
    close(fd);
  }
  unlink(log);
  return ok;
}

/* "kvm" or "tcg", decided once per process and said on stderr. */
static const char *qemu_accel(const char *kernel, const char *dir)
{
  static const char *accel;
  const char *env = getenv("MVM_QEMU_ACCEL");
  int fd;

  if (accel) return accel;
  if (env && (!strcmp(env, "kvm") || !strcmp(env, "tcg"))) {
    accel = env;
    info("accelerator %s (MVM_QEMU_ACCEL)", accel);
  } else if ((fd = open("/dev/kvm", O_RDWR | O_CLOEXEC)) < 0) {
    accel = "tcg";
    info("accelerator tcg: no usable /dev/kvm");
  } else if (close(fd), !access("/sys/module/kvm_pvm", F_OK)) {
    accel = "tcg";
    info("accelerator tcg: /dev/kvm is kvm_pvm, stock kernels do not boot"
         " under it");
  } else if (!kernel) {
    accel = "kvm";
    info("accelerator kvm (not probed: no kernel to probe with)");
  } else if (kvm_boots(kernel, dir)) {
    accel = "kvm";
    info("accelerator kvm: a guest kernel boots under it");
  } else {
    accel = "tcg";
    info("accelerator tcg: a guest kernel does not boot under /dev/kvm");
  }
  return accel;
}

/* qcow2 or raw, by the magic. */
static const char *img_format(const char *path)
{
  char m[4];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, m, 4) : -1;

  if (fd >= 0) close(fd);
  return n == 4 && !memcmp(m, "QFI\xfb", 4) ? "qcow2" : "raw";
}

/* The cidata seed disk and the qcow2 overlay over the base. */
static int qemu_disks(const struct local_host *h, const char *ud,
                      const char *base)
{
  char ud_p[PATH_MAX + 16], md_p[PATH_MAX + 16], iso[PATH_MAX + 16];
  char ov[PATH_MAX + 16], bk[PATH_MAX + 8], *s;
  char *geniso[] = { "genisoimage", "-quiet", "-output", iso, "-volid",
    "cidata", "-joliet", "-rock", ud_p, md_p, NULL };
  char *img[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-b", bk,
    "-F", (char *)img_format(base), ov, NULL };
  int r;

  if (local_put(h, "user-data", ud, strlen(ud))) return -1;
  s = xasprintf("instance-id: %s\nlocal-hostname: %s\n", h->id, h->id);
  r = local_put(h, "meta-data", s, strlen(s));
  free(s);
  if (r) return -1;
  snprintf(ud_p, sizeof(ud_p), "%s/user-data", h->dir);
  snprintf(md_p, sizeof(md_p), "%s/meta-data", h->dir);
  snprintf(iso, sizeof(iso), "%s/seed.iso", h->dir);
  snprintf(ov, sizeof(ov), "%s/overlay.qcow2", h->dir);
  if (!realpath(base, bk)) return error("cannot find '%s'", base);
  if (local_run(h, geniso) || local_run(h, img)) return -1;
  return 0;
}

/* Append the NULL-terminated list of words to argv[*n]. */
static void add(char **argv, int *n, ...)
{
  va_list ap;
  char *w;

  va_start(ap, n);
  while ((w = va_arg(ap, char *))) argv[(*n)++] = w;
  va_end(ap);
}

static int qemu_launch(struct local_host *h, const char *accel,
                       const char *kernel, const char *initrd)
{
  char *argv[48], *drv, *seed, *nic, *qmp, *ser, *mem;
  const char *m = getenv("MVM_QEMU_MEM");
  int n = 0, r, kvm = !strcmp(accel, "kvm");

  drv = xasprintf("file=%s/overlay.qcow2,if=virtio,format=qcow2,"
                  "cache=unsafe", h->dir);
  seed = xasprintf("file=%s/seed.iso,if=virtio,format=raw,readonly=on",
                   h->dir);
  nic = xasprintf("user,model=virtio-net-pci,restrict=on,"
                  "hostfwd=tcp:127.0.0.1:%d-:22", h->port);
  qmp = xasprintf("unix:%s/qmp.sock,server=on,wait=off", h->dir);
  ser = xasprintf("file:%s/serial.log", h->dir);
  mem = xasprintf("%s", m && *m ? m : "1024");
  add(argv, &n, "qemu-system-x86_64", "-name", h->id, "-accel",
      kvm ? "kvm" : "tcg,thread=multi", "-cpu", kvm ? "host" : "max",
      "-m", mem, "-smp", "2", "-machine", "q35", (char *)NULL);
  if (kernel)
    add(argv, &n, "-kernel", kernel, "-initrd", initrd, "-append",
        "root=/dev/vda rw console=ttyS0 quiet", (char *)NULL);
  add(argv, &n, "-drive", drv, "-drive", seed, "-nic", nic, "-qmp", qmp,
      "-serial", ser, "-display", "none", "-monitor", "none", "-no-reboot",
      (char *)NULL);
  argv[n] = NULL;
  r = local_spawn(h, argv);
  free(drv);
  free(seed);
  free(nic);
  free(qmp);
  free(ser);
  free(mem);
  return r;
}

static int qmp_connect(const struct local_host *h)
{
  struct sockaddr_un sa;
  int fd;

  memset(&sa, 0, sizeof(sa));
  sa.sun_family = AF_UNIX;
  if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/qmp.sock", h->dir) >=
      (int)sizeof(sa.sun_path))
    return -1;
  if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) return -1;
  if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Read what QMP says within MS milliseconds (greeting, replies). */
static void qmp_drain(int fd, int ms)
{
  struct pollfd p = { .fd = fd, .events = POLLIN };
  char buf[1024];

  while (poll(&p, 1, ms) > 0 && read(fd, buf, sizeof(buf)) > 0)
    ms = 100;
}

/* Clean poweroff: the ACPI power button, which the guest's systemd
 * handles; SIGTERM to qemu if QMP does not answer. */
static void qemu_soft(struct local_host *h)
{
  static const char cmd[] = "{\"execute\":\"qmp_capabilities\"}\n"
                            "{\"execute\":\"system_powerdown\"}\n";
  int fd = qmp_connect(h);

  if (fd < 0) {
    kill(h->pid, SIGTERM);
    return;
  }
  qmp_drain(fd, 2000);
  if (writeall(fd, cmd, sizeof(cmd) - 1) < 0) kill(h->pid, SIGTERM);
  else qmp_drain(fd, 2000);
  close(fd);
}

/* A VM is up once its QMP socket answers. */
static int qemu_running(const struct local_host *h)
{
  int fd = qmp_connect(h);

  if (fd < 0) return 0;
  close(fd);
  return 1;
}

/* The disk to boot (--image, MVM_QEMU_IMAGE or the cache's) and the
 * kernel: the cache's (*k, NULL if a cloud image boots without one). */
static const char *qemu_base(const struct up_args *a, char *kernel,
                             char *initrd, char *base, const char **k)
{
  const char *image = a->image ? a->image : getenv("MVM_QEMU_IMAGE");

  *k = NULL;
  if (image && !*image) image = NULL;
  if (image) {
    if (access(image, R_OK)) {
      error("cannot read image '%s': %s", image, strerror(errno));
      return NULL;
    }
    snprintf(base, PATH_MAX, "%s", image);
    if (!local_image("vmlinuz", kernel, PATH_MAX)) *k = kernel;
    return image;
  }
  if (local_image("vmlinuz", kernel, PATH_MAX) ||
      local_image("initrd.img", initrd, PATH_MAX) ||
      local_image("base.ext4", base, PATH_MAX))
    return NULL;
  *k = kernel;
  return base;
}

static int qemu_check(const struct up_args *a)
{
  char kernel[PATH_MAX], initrd[PATH_MAX], base[PATH_MAX];
  const char *k;

  if (!qemu_base(a, kernel, initrd, base, &k)) return -1;
  return local_prog("qemu-system-x86_64") || local_prog("qemu-img") ||
         local_prog("genisoimage") ? -1 : 0;
}

/* One VM: its disks, then qemu. */
static int qemu_start(const struct up_args *a, int i, struct local_host *h)
{
  char kernel[PATH_MAX], initrd[PATH_MAX], base[PATH_MAX];
  const char *accel, *k, *image = qemu_base(a, kernel, initrd, base, &k);

  if (!image) return -1;
  accel = qemu_accel(k, h->dir);
  /* the cache's image boots its kernel; a cloud image its own */
  if (qemu_disks(h, a->user_data[i], base) ||
      qemu_launch(h, accel, image == base ? kernel : NULL, initrd))
    return -1;
  info("%s: vm started (%s) on 127.0.0.1:%d", h->id, accel, h->port);
  return 0;
}

static const struct local_ops qemu_ops = {
  .name = "qemu",
  .type = "vm",
  .region = "local",
  .start_s = 10.0,        /* launch -> QMP socket up */
  .stop_s = 60.0,         /* system_powerdown -> SIGKILL (TCG is slow) */
  .check = qemu_check,
  .launch = qemu_start,
  .ready = qemu_running,
  .soft = qemu_soft,
};

LOCAL_PROVIDER(qemu);
