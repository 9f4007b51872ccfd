/* lib/kvm/kvmprobe.c - the VM half of the KVM gate: KVM_CREATE_VM with what
 * Firecracker sets up (MSR index list, XSAVE2, TSS, irqchip, PIT2), one
 * vCPU with the supported CPUID and the 11 boot MSRs, then the guest run of
 * lib/kvm/kvmguest.c. Never prints: results go to the struct kreport. */
#include "mvm.h"
#include "kvm.h"

#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/kvm.h>

#if defined(__x86_64__)

/* Firecracker's boot MSRs (arch/x86_64/msr.rs, boot-protocol.md). */
static const struct { uint32_t idx; uint64_t val; } boot_msrs[] = {
  { 0x174, 0 }, { 0x175, 0 }, { 0x176, 0 }, { 0xc0000081, 0 },
  { 0xc0000082, 0 }, { 0xc0000083, 0 }, { 0xc0000084, 0 },
  { 0xc0000102, 0 }, { 0x10, 0 }, { 0x1a0, 1 }, { 0x2ff, 0x806 },
};

/* KVM_CREATE_VM (EINTR retried as Firecracker does) and the VM-wide
 * set-up Firecracker performs before it creates vCPUs. */
static int setup_vm(struct kreport *r, int kfd, struct kvm_probe *p)
{
  struct { struct kvm_msr_list l; uint32_t idx[1024]; } ml;
  struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
  const char *what;
  int i, xs2;

  for (i = 0; i < 5; i++)
    if ((p->vm = ioctl(kfd, KVM_CREATE_VM, 0)) >= 0 || errno != EINTR)
      break;
  if (p->vm < 0) {
    kreport_add(r, "vm", KR_FAIL, "KVM_CREATE_VM: %s", strerror(errno));
    return -1;
  }
  ml.l.nmsrs = ARRAY_LEN(ml.idx);
  what = "KVM_GET_MSR_INDEX_LIST";
  if (ioctl(kfd, KVM_GET_MSR_INDEX_LIST, &ml) < 0) goto fail;
  what = "KVM_CHECK_EXTENSION(KVM_CAP_XSAVE2) on the VM";
  if ((xs2 = ioctl(p->vm, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2)) < 0)
    goto fail;
  what = "KVM_SET_TSS_ADDR";
  if (ioctl(p->vm, KVM_SET_TSS_ADDR, 0xfffbd000UL) < 0) goto fail;
  what = "KVM_CREATE_IRQCHIP";
  if (ioctl(p->vm, KVM_CREATE_IRQCHIP, 0) < 0) goto fail;
  what = "KVM_CREATE_PIT2";
  if (ioctl(p->vm, KVM_CREATE_PIT2, &pit) < 0) goto fail;
  kreport_add(r, "vm", KR_OK, "KVM_CREATE_VM, %u MSRs to save, XSAVE2 %d, "
              "TSS, irqchip, PIT2", ml.l.nmsrs, xs2);
  return 0;
fail:
  kreport_add(r, "vm", KR_FAIL, "KVM_CREATE_VM worked, %s failed: %s", what,
              strerror(errno));
  return -1;
}

/* Guest RAM, vCPU 0, its kvm_run, and the supported CPUID. */
static int setup_vcpu(struct kreport *r, int kfd, struct kvm_probe *p,
                      const struct kvm_cpuid2 *cpuid)
{
  struct kvm_userspace_memory_region mr = { .slot = 0,
    .guest_phys_addr = 0, .memory_size = KVM_PROBE_MEM };
  const char *what = "mmap of guest memory";
  long sz;

  p->mem = mmap(NULL, KVM_PROBE_MEM, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p->mem == MAP_FAILED) {
    p->mem = NULL;
    goto fail;
  }
  mr.userspace_addr = (uintptr_t)p->mem;
  what = "KVM_SET_USER_MEMORY_REGION";
  if (ioctl(p->vm, KVM_SET_USER_MEMORY_REGION, &mr) < 0) goto fail;
  what = "KVM_CREATE_VCPU";
  if ((p->vcpu = ioctl(p->vm, KVM_CREATE_VCPU, 0)) < 0) goto fail;
  what = "KVM_GET_VCPU_MMAP_SIZE";
  if ((sz = ioctl(kfd, KVM_GET_VCPU_MMAP_SIZE, 0)) <= 0) goto fail;
  p->runsz = sz;
  what = "mmap of kvm_run";
  p->run = mmap(NULL, p->runsz, PROT_READ | PROT_WRITE, MAP_SHARED, p->vcpu,
                0);
  if (p->run == MAP_FAILED) {
    p->run = NULL;
    goto fail;
  }
  what = "KVM_SET_CPUID2";
  if (cpuid && ioctl(p->vcpu, KVM_SET_CPUID2, cpuid) < 0) goto fail;
  return 0;
fail:
  kreport_add(r, "guest", KR_FAIL, "%s: %s", what, strerror(errno));
  return -1;
}

/* KVM_SET_MSRS must accept all 11 boot MSRs (Firecracker's
 * SetMsrsIncomplete otherwise). */
static int check_msrs(struct kreport *r, struct kvm_probe *p)
{
  struct { struct kvm_msrs m; struct kvm_msr_entry e[16]; } b;
  size_t i, n = ARRAY_LEN(boot_msrs);
  int got;

  memset(&b, 0, sizeof(b));
  b.m.nmsrs = n;
  for (i = 0; i < n; i++) {
    b.e[i].index = boot_msrs[i].idx;
    b.e[i].data = boot_msrs[i].val;
  }
  got = ioctl(p->vcpu, KVM_SET_MSRS, &b);
  if (got < 0) {
    kreport_add(r, "msrs", KR_FAIL, "KVM_SET_MSRS: %s", strerror(errno));
    return -1;
  }
  if ((size_t)got != n) {
    kreport_add(r, "msrs", KR_FAIL, "KVM_SET_MSRS accepted %d of the %zu "
                "boot MSRs; MSR 0x%x was refused", got, n,
                boot_msrs[got].idx);
    return -1;
  }
  kreport_add(r, "msrs", KR_OK, "KVM_SET_MSRS accepted all %zu boot MSRs",
              n);
  return 0;
}

void kvm_probe_vm(struct kreport *r, int kfd, const void *cpuid)
{
  struct kvm_probe p = { .vm = -1, .vcpu = -1 };

  if (setup_vm(r, kfd, &p) == 0 && setup_vcpu(r, kfd, &p, cpuid) == 0) {
    check_msrs(r, &p);
    kvm_guest_run(r, &p);
  }
  if (p.run) munmap(p.run, p.runsz);
  if (p.mem) munmap(p.mem, KVM_PROBE_MEM);
  if (p.vcpu >= 0) close(p.vcpu);
  if (p.vm >= 0) close(p.vm);
}

#else /* not x86_64 */

void kvm_probe_vm(struct kreport *r, int kfd, const void *cpuid)
{
  int vm = ioctl(kfd, KVM_CREATE_VM, 0);

  (void)cpuid;
  if (vm < 0) {
    kreport_add(r, "vm", KR_FAIL, "KVM_CREATE_VM: %s", strerror(errno));
    return;
  }
  close(vm);
  kreport_add(r, "vm", KR_OK, "KVM_CREATE_VM");
  kreport_add(r, "guest", KR_WARN, "no guest run on this architecture yet");
}

#endif
