/* lib/kvm/kvmguest.c - the guest run of the KVM gate: loads a tiny 64-bit
 * long-mode guest into the probe VM (identity paging, GDT, CS.L=1) that runs
 * lock cmpxchg16b, sets CR4.OSXSAVE, xsetbv, xsave, rdmsr's common MSRs and
 * reports each step with an OUT; KVM_RUN is bounded by a SIGALRM timer.
 * Failures name the step, rip and exit (INTERNAL_ERROR, SHUTDOWN...). */
#include "mvm.h"
#include "kvm.h"

#include <sys/ioctl.h>
#include <linux/kvm.h>

#if defined(__x86_64__)

#define GDT_ADDR   0x500
#define PML4_ADDR  0x1000         /* then PDPT, PD */
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

static struct kvm_run *volatile alarm_run;
static volatile sig_atomic_t alarm_fired;

static void on_alarm(int sig)
{
  (void)sig;
  alarm_fired = 1;
  if (alarm_run) alarm_run->immediate_exit = 1;
}


/* Identity-mapped page tables, a GDT, the MSR list, the code, and the
 * register state of 64-bit long mode (CS.L=1, EFER.LME|LMA, CR0.PG). */
static int load_guest(struct kvm_probe *p, const char *mode)
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
  s.idt.base = 0, s.idt.limit = 0;              /* any fault: shutdown */
  s.cr3 = PML4_ADDR;
  s.cr4 = 0x20 | 0x200 | 0x400;                  /* PAE OSFXSR OSXMMEXCPT */
  s.cr0 = 0x80050033ULL;                         /* PG AM WP NE ET MP PE */
  s.efer = 0x500 | 1;                            /* LMA LME SCE */
  if (ioctl(p->vcpu, KVM_SET_SREGS, &s) < 0) return -1;
  memset(&fpu, 0, sizeof(fpu));
  fpu.fcw = 0x37f, fpu.mxcsr = 0x1f80;
  if (ioctl(p->vcpu, KVM_SET_FPU, &fpu) < 0) return -1;
  memset(&regs, 0, sizeof(regs));
  regs.rip = CODE_ADDR, regs.rsp = KVM_PROBE_MEM - 0x1000, regs.rflags = 2;
  return ioctl(p->vcpu, KVM_SET_REGS, &regs);
}

static void step_name(const struct kvm_probe *p, int step, char *buf, size_t n)
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
static int run_loop(struct kvm_probe *p, int secs, int *last, char *why,
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
static int verify(const struct kvm_probe *p, char *why, size_t n)
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

void kvm_guest_run(struct kreport *r, struct kvm_probe *p)
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
                "with KVM_EXIT_IO on port 0x%x%s%s%s", p->nmsrs, DONE_PORT,
                *p->mode ? " (MVM_KVM_GUEST=" : "", p->mode,
                *p->mode ? ")" : "");
    return;
  }
  step_name(p, last, step, sizeof(step));
  if (ioctl(p->vcpu, KVM_GET_REGS, &regs) < 0) regs.rip = 0;
  kreport_add(r, "guest", KR_FAIL, "at %s (rip 0x%llx): %s", step,
              (unsigned long long)regs.rip, why);
}

#endif
