/* lib/kvmprobe.c - the VM half of the KVM gate: KVM_CREATE_VM with what
 * Firecracker sets up (MSR index list, XSAVE2, TSS, irqchip, PIT2), one
 * vCPU with the supported CPUID and the 11 boot MSRs, then a real guest run:
 * 64-bit long mode, lock cmpxchg16b, CR4.OSXSAVE, xsetbv, xsave, rdmsr of
 * common MSRs, OUT to a port. A SIGALRM timer bounds KVM_RUN. Never prints:
 * results go to the struct kreport. */
#include "mvm.h"

#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/kvm.h>

#if defined(__x86_64__)

#define MEM_SIZE   0x200000      /* 2 MiB of guest RAM at GPA 0 */
#define GDT_ADDR   0x500
#define PML4_ADDR  0x1000
#define XSAVE_ADDR 0x4000
#define CX16_ADDR  0x6000
#define MSRS_ADDR  0x7000
#define CODE_ADDR  0x8000
#define STEP_PORT  0xe8          /* the guest reports each step done */
#define DONE_PORT  0xe9          /* 'K': all done, 'X': cmpxchg16b wrong */

/* The guest, 64-bit code at CODE_ADDR (assembled by hand, see objdump -D
 * -b binary -m i386:x86-64). Each "out 0xe8" reports step N done. */
static const unsigned char guest[] = {
  0xb0, 0x01, 0xe6, 0xe8,               /* mov al,1; out 0xe8,al */
  0xbf, 0x00, 0x60, 0x00, 0x00,         /* mov edi,CX16_ADDR */
  0x48, 0x8b, 0x07,                     /* mov rax,[rdi] */
  0x48, 0x8b, 0x57, 0x08,               /* mov rdx,[rdi+8] */
  0x48, 0xbb, 0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01,
                                        /* movabs rbx,0x0123456789abcdef */
  0x48, 0xb9, 0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,
                                        /* movabs rcx,0xfedcba9876543210 */
  0xf0, 0x48, 0x0f, 0xc7, 0x0f,         /* lock cmpxchg16b [rdi] */
  0x75, 0x58,                           /* jnz bad */
  0xb0, 0x02, 0xe6, 0xe8,               /* mov al,2; out 0xe8,al */
  0x0f, 0x20, 0xe0,                     /* mov rax,cr4 */
  0x48, 0x0f, 0xba, 0xe8, 0x12,         /* bts rax,18 (OSXSAVE) */
  0x0f, 0x22, 0xe0,                     /* mov cr4,rax */
  0xb0, 0x03, 0xe6, 0xe8,               /* mov al,3; out 0xe8,al */
  0x31, 0xc9,                           /* xor ecx,ecx */
  0xb8, 0x03, 0x00, 0x00, 0x00,         /* mov eax,3 (x87|SSE) */
  0x31, 0xd2,                           /* xor edx,edx */
  0x0f, 0x01, 0xd1,                     /* xsetbv */
  0xb0, 0x04, 0xe6, 0xe8,               /* mov al,4; out 0xe8,al */
  0xbf, 0x00, 0x40, 0x00, 0x00,         /* mov edi,XSAVE_ADDR */
  0xb8, 0x03, 0x00, 0x00, 0x00,         /* mov eax,3 */
  0x31, 0xd2,                           /* xor edx,edx */
  0x0f, 0xae, 0x27,                     /* xsave [rdi] */
  0xb0, 0x05, 0xe6, 0xe8,               /* mov al,5; out 0xe8,al */
  0xbe, 0x00, 0x70, 0x00, 0x00,         /* mov esi,MSRS_ADDR */
  0xb3, 0x06,                           /* mov bl,6 */
  0x8b, 0x0e,                           /* loop: mov ecx,[rsi] */
  0x85, 0xc9,                           /* test ecx,ecx */
  0x74, 0x0e,                           /* jz done */
  0x0f, 0x32,                           /* rdmsr */
  0x88, 0xd8, 0xe6, 0xe8,               /* mov al,bl; out 0xe8,al */
  0xfe, 0xc3,                           /* inc bl */
  0x48, 0x83, 0xc6, 0x04,               /* add rsi,4 */
  0xeb, 0xec,                           /* jmp loop */
  0xb0, 0x4b, 0xe6, 0xe9,               /* done: mov al,'K'; out 0xe9,al */
  0xf4, 0xeb, 0xf9,                     /* hlt; jmp done */
  0xb0, 0x58, 0xe6, 0xe9,               /* bad: mov al,'X'; out 0xe9,al */
  0xf4, 0xeb, 0xf9,                     /* hlt; jmp bad */
};

static const char *const steps[] = { "entering 64-bit long mode",
  "lock cmpxchg16b", "mov to cr4 (OSXSAVE)", "xsetbv", "xsave" };

/* MSRs a Linux kernel reads early; the guest rdmsr's each in turn. */
static const uint32_t read_msrs[] = { 0xc0000080, 0x1b, 0x277, 0x10, 0x1a0,
  0x2ff, 0x174, 0xc0000081, 0xc0000082, 0xc0000100, 0xc0000101,
  0xc0000102 };

/* Firecracker's boot MSRs (arch/x86_64/msr.rs, boot-protocol.md). */
static const struct { uint32_t idx; uint64_t val; } boot_msrs[] = {
  { 0x174, 0 }, { 0x175, 0 }, { 0x176, 0 }, { 0xc0000081, 0 },
  { 0xc0000082, 0 }, { 0xc0000083, 0 }, { 0xc0000084, 0 },
  { 0xc0000102, 0 }, { 0x10, 0 }, { 0x1a0, 1 }, { 0x2ff, 0x806 },
};

struct probe {
  int vm, vcpu;
  unsigned char *mem;
  struct kvm_run *run;
  size_t runsz;
  int nmsrs;                    /* rdmsr steps in the guest's list */
  const char *mode;             /* MVM_KVM_GUEST: test-only misbehaviour */
};

static struct kvm_run *volatile alarm_run;
static volatile sig_atomic_t alarm_fired;

static void on_alarm(int sig)
{
  (void)sig;
  alarm_fired = 1;
  if (alarm_run) alarm_run->immediate_exit = 1;
}

/* KVM_CREATE_VM (EINTR retried as Firecracker does) and the VM-wide
 * set-up Firecracker performs before it creates vCPUs. */
static int setup_vm(struct kreport *r, int kfd, struct probe *p)
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
static int setup_vcpu(struct kreport *r, int kfd, struct probe *p,
                      const struct kvm_cpuid2 *cpuid)
{
  struct kvm_userspace_memory_region mr = { .slot = 0,
    .guest_phys_addr = 0, .memory_size = MEM_SIZE };
  const char *what = "mmap of guest memory";
  long sz;

  p->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
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
static int check_msrs(struct kreport *r, struct probe *p)
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

/* Identity-mapped page tables, a GDT, the MSR list, the code, and the
 * register state of 64-bit long mode (CS.L=1, EFER.LME|LMA, CR0.PG). */
static int load_guest(struct probe *p, const char *mode)
{
  uint64_t *pml4 = (uint64_t *)(p->mem + PML4_ADDR);
  uint64_t *pdpt = (uint64_t *)(p->mem + PML4_ADDR + 0x1000);
  uint64_t *pd = (uint64_t *)(p->mem + PML4_ADDR + 0x2000);
  uint64_t *gdt = (uint64_t *)(p->mem + GDT_ADDR);
  uint32_t *msrs = (uint32_t *)(p->mem + MSRS_ADDR);
  struct kvm_segment seg;
  struct kvm_sregs s;
  struct kvm_regs regs;
  struct kvm_fpu fpu;
  size_t i;

  pml4[0] = (PML4_ADDR + 0x1000) | 3;
  pdpt[0] = (PML4_ADDR + 0x2000) | 3;
  pd[0] = 0x83;                                  /* 2 MiB page at 0 */
  gdt[1] = 0x00af9b000000ffffULL;                /* code: L=1, DPL 0 */
  gdt[2] = 0x00cf93000000ffffULL;                /* data */
  for (i = 0; i < ARRAY_LEN(read_msrs); i++)
    msrs[i] = read_msrs[i];
  if (strstr(mode, "badmsr"))
    msrs[i++] = 0x4d564d00;                      /* no such MSR: #GP */
  msrs[i] = 0;
  p->nmsrs = i;
  memcpy(p->mem + CODE_ADDR, guest, sizeof(guest));
  if (strstr(mode, "hang"))
    memcpy(p->mem + CODE_ADDR, "\xeb\xfe", 2);   /* jmp . */
  if (strstr(mode, "nocx16"))                    /* nop out cmpxchg16b+jnz */
    memset(p->mem + CODE_ADDR + 0x24, 0x90, 7);
  if (strstr(mode, "noxsave"))                   /* nop out xsave */
    memset(p->mem + CODE_ADDR + 0x5a, 0x90, 3);
  memset(p->mem + XSAVE_ADDR, 0xff, 1024);
  memcpy(p->mem + CX16_ADDR, "mvm-kvmcheck-16b", 16);

  if (ioctl(p->vcpu, KVM_GET_SREGS, &s) < 0) return -1;
  memset(&seg, 0, sizeof(seg));
  seg.limit = 0xffffffff;
  seg.present = seg.s = seg.g = 1;
  seg.type = 11, seg.selector = 8, seg.l = 1;
  s.cs = seg;
  seg.type = 3, seg.selector = 16, seg.l = 0, seg.db = 1;
  s.ds = s.es = s.fs = s.gs = s.ss = seg;
  s.gdt.base = GDT_ADDR, s.gdt.limit = 3 * 8 - 1;
  s.cr3 = PML4_ADDR;
  s.cr4 = 0x20 | 0x200 | 0x400;                  /* PAE OSFXSR OSXMMEXCPT */
  s.cr0 = 0x80050033ULL;                         /* PG AM WP NE ET MP PE */
  s.efer = 0x500 | 1;                            /* LMA LME SCE */
  if (ioctl(p->vcpu, KVM_SET_SREGS, &s) < 0) return -1;
  memset(&fpu, 0, sizeof(fpu));
  fpu.fcw = 0x37f, fpu.mxcsr = 0x1f80;
  if (ioctl(p->vcpu, KVM_SET_FPU, &fpu) < 0) return -1;
  memset(&regs, 0, sizeof(regs));
  regs.rip = CODE_ADDR, regs.rsp = MEM_SIZE - 0x1000, regs.rflags = 2;
  return ioctl(p->vcpu, KVM_SET_REGS, &regs);
}

static void step_name(const struct probe *p, int step, char *buf, size_t n)
{
  if (step < (int)ARRAY_LEN(steps))
    snprintf(buf, n, "%s", steps[step]);
  else if (step < (int)ARRAY_LEN(steps) + p->nmsrs)
    snprintf(buf, n, "rdmsr 0x%x", ((uint32_t *)(p->mem + MSRS_ADDR))
             [step - ARRAY_LEN(steps)]);
  else
    snprintf(buf, n, "the final OUT to port 0x%x", DONE_PORT);
}

/* The instruction KVM failed to emulate, when it says: 1, else 0. */
static int emulation_bytes(const struct kvm_run *run, char *buf, size_t n)
{
  size_t len = 0;
  uint32_t i;

  if (run->emulation_failure.suberror != KVM_INTERNAL_ERROR_EMULATION ||
      run->emulation_failure.ndata < 3 || !(run->emulation_failure.flags &
      KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES))
    return 0;
  len = snprintf(buf, n, ", instruction bytes");
  for (i = 0; i < run->emulation_failure.insn_size && i < 15 && len < n; i++)
    len += snprintf(buf + len, n - len, " %02x",
                    run->emulation_failure.insn_bytes[i]);
  return 1;
}

/* Why the vCPU stopped, for an exit that is not one of our ports. */
static void exit_reason(const struct kvm_run *run, char *why, size_t n)
{
  uint32_t i;
  size_t len;

  switch (run->exit_reason) {
  case KVM_EXIT_SHUTDOWN:
    snprintf(why, n, "KVM_EXIT_SHUTDOWN (triple fault)");
    break;
  case KVM_EXIT_FAIL_ENTRY:
    snprintf(why, n, "KVM_EXIT_FAIL_ENTRY, hardware entry failure reason "
             "0x%llx", (unsigned long long)
             run->fail_entry.hardware_entry_failure_reason);
    break;
  case KVM_EXIT_INTERNAL_ERROR:
    len = snprintf(why, n, "KVM_EXIT_INTERNAL_ERROR suberror %u%s",
                   run->internal.suberror, run->internal.suberror ==
                   KVM_INTERNAL_ERROR_EMULATION ? " (instruction emulation "
                   "failure)" : "");
    if (emulation_bytes(run, why + len, n - len)) break;
    for (i = 0; i < run->internal.ndata && i < 4 && len < n; i++)
      len += snprintf(why + len, n - len, "%s0x%llx", i ? " " : ", data ",
                      (unsigned long long)run->internal.data[i]);
    break;
  case KVM_EXIT_MMIO:
    snprintf(why, n, "stray MMIO %s at 0x%llx", run->mmio.is_write ?
             "write" : "read", (unsigned long long)run->mmio.phys_addr);
    break;
  case KVM_EXIT_HLT:
    snprintf(why, n, "KVM_EXIT_HLT before the guest reported");
    break;
  case KVM_EXIT_IO:
    snprintf(why, n, "unexpected %s of port 0x%x", run->io.direction ==
             KVM_EXIT_IO_OUT ? "OUT" : "IN", run->io.port);
    break;
  default:
    snprintf(why, n, "unexpected exit reason %u", run->exit_reason);
  }
}

/* KVM_RUN until the guest's final OUT. Returns 0, or -1 with why set and
 * *last the last step the guest reported done. */
static int run_loop(struct probe *p, int secs, int *last, char *why,
                    size_t n)
{
  const unsigned char *data;
  int outs = 0;

  for (;;) {
    if (ioctl(p->vcpu, KVM_RUN, 0) < 0) {
      if (errno == EINTR && alarm_fired) {
        snprintf(why, n, "no exit within %d s (KVM_RUN hung, stopped by "
                 "SIGALRM)", secs);
        return -1;
      }
      if (errno == EINTR) {
        p->run->immediate_exit = 0;
        continue;
      }
      snprintf(why, n, "KVM_RUN: %s%s", strerror(errno), errno == ENOSYS ?
               " (KVM failed to emulate an instruction)" : "");
      return -1;
    }
    if (p->run->exit_reason != KVM_EXIT_IO ||
        p->run->io.direction != KVM_EXIT_IO_OUT || p->run->io.size != 1) {
      exit_reason(p->run, why, n);
      return -1;
    }
    data = (const unsigned char *)p->run + p->run->io.data_offset;
    if (p->run->io.port == STEP_PORT && ++outs < 256) {
      *last = *data;
      continue;
    }
    if (p->run->io.port == DONE_PORT && *data == 'K') return 0;
    if (p->run->io.port == DONE_PORT && *data == 'X')
      snprintf(why, n, "lock cmpxchg16b did not compare equal");
    else
      exit_reason(p->run, why, n);
    return -1;
  }
}

/* The guest said it is done: check its work really landed in memory. */
static int verify(const struct probe *p, char *why, size_t n)
{
  static const uint64_t want[2] = { 0x0123456789abcdefULL,
    0xfedcba9876543210ULL };
  uint16_t fcw;
  uint32_t mxcsr;

  memcpy(&fcw, p->mem + XSAVE_ADDR, 2);
  memcpy(&mxcsr, p->mem + XSAVE_ADDR + 24, 4);
  if (!strstr(p->mode, "nocx16") && memcmp(p->mem + CX16_ADDR, want, 16)) {
    snprintf(why, n, "lock cmpxchg16b did not store its operand");
    return -1;
  }
  if (!strstr(p->mode, "noxsave") && (fcw != 0x37f || mxcsr != 0x1f80)) {
    snprintf(why, n, "xsave stored fcw 0x%x mxcsr 0x%x, want 0x37f 0x1f80",
             fcw, mxcsr);
    return -1;
  }
  return 0;
}

static void run_guest(struct kreport *r, struct probe *p)
{
  const char *e = getenv("MVM_KVM_TIMEOUT");
  struct itimerval it, off;
  struct sigaction sa, old;
  struct kvm_regs regs;
  char why[256], step[64];
  int secs = e ? atoi(e) : 0, last = 0, rc;

  if (secs <= 0 || secs > 600) secs = 10;
  p->mode = (e = getenv("MVM_KVM_GUEST")) ? e : "";
  if (load_guest(p, p->mode) < 0) {
    kreport_add(r, "guest", KR_FAIL, "setting 64-bit long-mode registers: "
                "%s", strerror(errno));
    return;
  }
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_alarm;               /* no SA_RESTART: EINTR */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, &old);
  memset(&it, 0, sizeof(it));
  memset(&off, 0, sizeof(off));
  it.it_value.tv_sec = secs;
  alarm_fired = 0;
  alarm_run = p->run;
  setitimer(ITIMER_REAL, &it, NULL);
  rc = run_loop(p, secs, &last, why, sizeof(why));
  setitimer(ITIMER_REAL, &off, NULL);
  alarm_run = NULL;
  sigaction(SIGALRM, &old, NULL);
  if (rc == 0 && verify(p, why, sizeof(why)) == 0) {
    kreport_add(r, "guest", KR_OK, "64-bit long-mode guest ran lock "
                "cmpxchg16b, xsetbv, xsave and rdmsr of %d MSRs, then exited "
                "with KVM_EXIT_IO on port 0x%x", p->nmsrs, DONE_PORT);
    return;
  }
  step_name(p, last, step, sizeof(step));
  if (ioctl(p->vcpu, KVM_GET_REGS, &regs) < 0) regs.rip = 0;
  kreport_add(r, "guest", KR_FAIL, "at %s (rip 0x%llx): %s", step,
              (unsigned long long)regs.rip, why);
}

void kvm_probe_vm(struct kreport *r, int kfd, const void *cpuid)
{
  struct probe p = { .vm = -1, .vcpu = -1 };

  if (setup_vm(r, kfd, &p) == 0 && setup_vcpu(r, kfd, &p, cpuid) == 0) {
    check_msrs(r, &p);
    run_guest(r, &p);
  }
  if (p.run) munmap(p.run, p.runsz);
  if (p.mem) munmap(p.mem, MEM_SIZE);
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
