/* lib/kvm/kvm.c - the host side of the KVM gate: /dev/kvm is the right
 * device, opens read-write (else which permission is missing), API version
 * 12, Firecracker's required capabilities, the supported CPUID, the vendor
 * module (kvm_pvm is a failure) and the nested parameter; and the whole
 * gate, kvm_gate(): these, the VM and guest run of kvmprobe.c, then the
 * seccomp probe. Never prints: results go to a struct kreport. */
#include "mvm.h"
#include "kvm.h"

#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <linux/kvm.h>

#define KVM_MAJOR 10
#define KVM_MINOR 232

/* Firecracker's DEFAULT_CAPABILITIES (src/vmm/src/arch/.../kvm.rs). */
#define CAP(x) { KVM_CAP_##x, #x }
static const struct { int cap; const char *name; } fc_caps[] = {
#if defined(__x86_64__)
  CAP(IRQCHIP), CAP(USER_MEMORY), CAP(SET_TSS_ADDR), CAP(EXT_CPUID),
  CAP(MP_STATE), CAP(IRQFD), CAP(PIT2), CAP(PIT_STATE2), CAP(IOEVENTFD),
  CAP(ADJUST_CLOCK), CAP(VCPU_EVENTS), CAP(DEBUGREGS), CAP(XSAVE),
  CAP(XCRS),
#elif defined(__aarch64__)
  CAP(USER_MEMORY), CAP(MP_STATE), CAP(IRQFD), CAP(IOEVENTFD), CAP(ONE_REG),
  CAP(DEVICE_CTRL), CAP(ARM_PSCI_0_2),
#endif
};

static const char *env_or(const char *name, const char *dflt)
{
  const char *v = getenv(name);

  return v && *v ? v : dflt;
}

/* Read the first line of a small sysfs file into buf; 0 or -1. */
static int read_line(const char *path, char *buf, size_t len)
{
  FILE *f = fopen(path, "r");
  int ok;

  if (!f) return -1;
  ok = fgets(buf, len, f) != NULL;
  fclose(f);
  if (!ok) return -1;
  buf[strcspn(buf, "\n")] = 0;
  return 0;
}

static int module_loaded(const char *name)
{
  char path[PATH_MAX];
  struct stat st;

  snprintf(path, sizeof(path), "%s/%s", env_or("MVM_KVM_SYSFS",
           "/sys/module"), name);
  return stat(path, &st) == 0;
}

static int check_device(struct kreport *r, const char *dev)
{
  struct stat st;

  if (stat(dev, &st)) {
    if (errno == ENOENT) {
      kreport_add(r, "device", KR_FAIL, "no %s: KVM is not available here "
                  "(no kvm_intel/kvm_amd module, no VT-x/AMD-V, or a VM "
                  "without nested virtualization)", dev);
    } else {
      kreport_add(r, "device", KR_FAIL, "cannot stat %s: %s", dev,
                  strerror(errno));
    }
    return -1;
  }
  if (!S_ISCHR(st.st_mode)) {
    kreport_add(r, "device", KR_FAIL, "%s is not a character device", dev);
    return -1;
  }
  if (major(st.st_rdev) != KVM_MAJOR || minor(st.st_rdev) != KVM_MINOR) {
    kreport_add(r, "device", KR_FAIL, "%s is character device %u:%u, not "
                "KVM's %d:%d", dev, major(st.st_rdev), minor(st.st_rdev),
                KVM_MAJOR, KVM_MINOR);
    return -1;
  }
  kreport_add(r, "device", KR_OK, "%s is character device %d:%d", dev,
              KVM_MAJOR, KVM_MINOR);
  return 0;
}

static int in_group(gid_t gid)
{
  gid_t g[256];
  int i, n;

  if (getegid() == gid) return 1;
  n = getgroups(ARRAY_LEN(g), g);
  for (i = 0; i < n; i++)
    if (g[i] == gid) return 1;
  return 0;
}

/* Say which permission is missing for an EACCES/EPERM open. */
static void explain_perm(struct kreport *r, const char *dev)
{
  struct stat st;
  char user[64], owner[64], group[64];

  kvm_user_name(geteuid(), user, sizeof(user));
  if (stat(dev, &st)) {
    kreport_add(r, "open", KR_FAIL, "cannot open %s: permission denied",
                dev);
    return;
  }
  kvm_user_name(st.st_uid, owner, sizeof(owner));
  kvm_group_name(st.st_gid, group, sizeof(group));
  if ((st.st_mode & 06) == 06) {
    kreport_add(r, "open", KR_FAIL, "permission denied: %s is %s:%s %04o, "
                "open to everyone, yet the open was refused (ACL or security "
                "module?)", dev, owner, group, st.st_mode & 07777);
  } else if ((st.st_mode & 060) == 060 && !in_group(st.st_gid)) {
    kreport_add(r, "open", KR_FAIL, "permission denied: %s is %s:%s %04o "
                "and user %s is not in group %s (usermod -aG %s %s, then "
                "log in again)", dev, owner, group, st.st_mode & 07777, user,
                group, group, user);
  } else if ((st.st_mode & 060) == 060) {
    kreport_add(r, "open", KR_FAIL, "permission denied: %s is %s:%s %04o "
                "and user %s is in group %s, yet the open was refused (ACL "
                "or security module?)", dev, owner, group, st.st_mode & 07777,
                user, group);
  } else {
    kreport_add(r, "open", KR_FAIL, "permission denied: %s is %s:%s %04o, "
                "no group read-write: only %s may open it (chgrp kvm %s && "
                "chmod 0660 %s, or setfacl -m u:%s:rw %s)", dev, owner, group,
                st.st_mode & 07777, owner, dev, dev, user, dev);
  }
}

static int check_open(struct kreport *r, const char *dev)
{
  int fd = open(dev, O_RDWR | O_CLOEXEC);

  if (fd >= 0) {
    kreport_add(r, "open", KR_OK, "opened read-write as uid %u",
                (unsigned)geteuid());
    return fd;
  }
  if (errno == EACCES || errno == EPERM)
    explain_perm(r, dev);
  else if (errno == EBUSY)
    kreport_add(r, "open", KR_FAIL, "cannot open %s: busy (another "
                "hypervisor holds VT-x/AMD-V?)", dev);
  else if (errno == ENXIO || errno == ENODEV)
    kreport_add(r, "open", KR_FAIL, "cannot open %s: no KVM driver behind "
                "the device node (%s)", dev, strerror(errno));
  else
    kreport_add(r, "open", KR_FAIL, "cannot open %s: %s", dev,
                strerror(errno));
  return -1;
}

static int check_api(struct kreport *r, int fd)
{
  int v = ioctl(fd, KVM_GET_API_VERSION, 0);

  if (v < 0) {
    kreport_add(r, "api", KR_FAIL, "KVM_GET_API_VERSION: %s",
                strerror(errno));
    return -1;
  }
  if (v != KVM_API_VERSION) {
    kreport_add(r, "api", KR_FAIL, "KVM_GET_API_VERSION is %d, want %d", v,
                KVM_API_VERSION);
    return -1;
  }
  kreport_add(r, "api", KR_OK, "KVM_GET_API_VERSION %d", v);
  return 0;
}

static int check_caps(struct kreport *r, int fd)
{
  char miss[256] = "";
  size_t i, n = 0, len = 0;

  for (i = 0; i < ARRAY_LEN(fc_caps); i++) {
    if (ioctl(fd, KVM_CHECK_EXTENSION, fc_caps[i].cap) > 0) continue;
    n++;
    if (len < sizeof(miss))
      len += snprintf(miss + len, sizeof(miss) - len, "%sKVM_CAP_%s (%d)",
                      len ? ", " : "", fc_caps[i].name, fc_caps[i].cap);
  }
  if (n) {
    kreport_add(r, "caps", KR_FAIL, "missing %zu of the %zu capabilities "
                "Firecracker requires: %s", n, ARRAY_LEN(fc_caps), miss);
    return -1;
  }
  kreport_add(r, "caps", KR_OK, "all %zu capabilities Firecracker requires",
              ARRAY_LEN(fc_caps));
  return 0;
}

#if defined(__x86_64__)
static int has_leaf(const struct kvm_cpuid2 *c, uint32_t fn)
{
  uint32_t i;

  for (i = 0; i < c->nent; i++)
    if (c->entries[i].function == fn) return 1;
  return 0;
}

/* KVM_GET_SUPPORTED_CPUID, the vendor, and the leaves Firecracker's
 * normalisation needs. Returns the table (malloc'd) or NULL. */
static struct kvm_cpuid2 *check_cpuid(struct kreport *r, int fd)
{
  static const uint32_t all[] = { 0, 1, 0x80000002, 0x80000003, 0x80000004,
    0x80000005, 0x80000006 }, intel[] = { 6, 7, 0xa },
    amd[] = { 7, 0x80000000, 0x80000001, 0x80000008, 0x8000001d,
    0x8000001e };
  const uint32_t *more = NULL;
  size_t i, nmore = 0;
  struct kvm_cpuid2 *c;
  char vendor[13] = "";
  int nent = 256;

  c = xzalloc(sizeof(*c) + nent * sizeof(c->entries[0]));
  c->nent = nent;
  if (ioctl(fd, KVM_GET_SUPPORTED_CPUID, c)) {
    kreport_add(r, "cpuid", KR_FAIL, "KVM_GET_SUPPORTED_CPUID (%d entries): "
                "%s", nent, strerror(errno));
    free(c);
    return NULL;
  }
  for (i = 0; i < c->nent; i++)
    if (c->entries[i].function == 0) {
      memcpy(vendor, &c->entries[i].ebx, 4);
      memcpy(vendor + 4, &c->entries[i].edx, 4);
      memcpy(vendor + 8, &c->entries[i].ecx, 4);
    }
  if (!strcmp(vendor, "GenuineIntel"))
    more = intel, nmore = ARRAY_LEN(intel);
  else if (!strcmp(vendor, "AuthenticAMD"))
    more = amd, nmore = ARRAY_LEN(amd);
  else {
    kreport_add(r, "cpuid", KR_FAIL, "vendor '%s' is neither GenuineIntel "
                "nor AuthenticAMD", vendor);
    return c;
  }
  for (i = 0; i < ARRAY_LEN(all) + nmore; i++) {
    uint32_t fn = i < ARRAY_LEN(all) ? all[i] : more[i - ARRAY_LEN(all)];

    if (!has_leaf(c, fn)) {
      kreport_add(r, "cpuid", KR_FAIL, "%s, but CPUID leaf 0x%x is missing "
                  "(Firecracker needs it)", vendor, fn);
      return c;
    }
  }
  kreport_add(r, "cpuid", KR_OK, "%s, %u supported CPUID entries", vendor,
              c->nent);
  return c;
}
#endif

static void check_module(struct kreport *r)
{
  if (module_loaded("kvm_pvm")) {
    kreport_add(r, "module", KR_FAIL, "PVM detected: /dev/kvm is kvm_pvm "
                "(pagetable-based virtualization), not kvm_intel/kvm_amd; "
                "only guest kernels built for PVM (CONFIG_PVM_GUEST) boot, a "
                "stock kernel stops with a KVM internal error (instruction "
                "emulation failure) on cmpxchg16b/xsave");
  } else if (module_loaded("kvm_intel")) {
    kreport_add(r, "module", KR_OK, "kvm_intel");
  } else if (module_loaded("kvm_amd")) {
    kreport_add(r, "module", KR_OK, "kvm_amd");
  } else {
    kreport_add(r, "module", KR_WARN, "none of kvm_intel, kvm_amd, kvm_pvm "
                "is loaded");
  }
}

static int under_hypervisor(void)
{
  char line[4096];
  FILE *f = fopen("/proc/cpuinfo", "r");
  int yes = 0;

  if (!f) return 0;
  while (!yes && fgets(line, sizeof(line), f))
    if (!strncmp(line, "flags", 5) && strstr(line, " hypervisor"))
      yes = 1;
  fclose(f);
  return yes;
}

static void check_nested(struct kreport *r)
{
  static const char *const mods[] = { "kvm_intel", "kvm_amd" };
  const char *vm = under_hypervisor() ? "; this host itself runs under a "
    "hypervisor (Firecracker is not tested nested)" : "";
  char path[PATH_MAX], val[32];
  size_t i;

  for (i = 0; i < ARRAY_LEN(mods); i++) {
    snprintf(path, sizeof(path), "%s/%s/parameters/nested",
             env_or("MVM_KVM_SYSFS", "/sys/module"), mods[i]);
    if (read_line(path, val, sizeof(val))) continue;
    if (strchr("Yy1", val[0]))
      kreport_add(r, "nested", *vm ? KR_WARN : KR_OK, "%s nested=%s%s",
                  mods[i], val, vm);
    else
      kreport_add(r, "nested", KR_WARN, "%s nested=%s: guests cannot run "
                  "KVM themselves%s", mods[i], val, vm);
    return;
  }
  kreport_add(r, "nested", KR_WARN, "no nested parameter (kvm_intel/kvm_amd "
              "not loaded)%s", vm);
}

void kvm_check_all(struct kreport *r)
{
  const char *dev = env_or("MVM_KVM_DEV", "/dev/kvm");
  void *cpuid = NULL;
  int fd = -1;

  if (check_device(r, dev) == 0 && (fd = check_open(r, dev)) >= 0 &&
      check_api(r, fd) == 0 && check_caps(r, fd) == 0) {
#if defined(__x86_64__)
    cpuid = check_cpuid(r, fd);
#endif
    kvm_probe_vm(r, fd, cpuid);
  }
  if (fd >= 0) close(fd);
  free(cpuid);
  check_module(r);
  check_nested(r);
}

void kvm_gate(struct kreport *r)
{
  memset(r, 0, sizeof(*r));
  kvm_check_all(r);
  if (seccomp_probe() == 0)
    kreport_add(r, "seccomp", KR_OK, "socket() fails with EPERM under a "
                "BPF filter (no_new_privs) in a child, works in the parent");
  else
    kreport_add(r, "seccomp", KR_FAIL, "%s", mvm.err);
}
