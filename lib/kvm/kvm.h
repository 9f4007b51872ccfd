/* lib/kvm/kvm.h - the KVM gate of mvm-kvmcheck: /dev/kvm and capability
 * probes (lib/kvm/kvm.c), the VM, boot-MSR and 64-bit guest run
 * (lib/kvm/kvmprobe.c) and the seccomp functional probe (lib/kvm/seccomp.c).
 * The probes collect results in a struct kreport and never print; the applet
 * decides what to show. */
#ifndef MVM_KVM_H
#define MVM_KVM_H

#include <stdarg.h>

enum { KR_OK, KR_WARN, KR_FAIL };

#define KCHECK_MAX 16
struct kcheck {
  char name[16];        /* "device", "open", ... */
  int res;              /* KR_OK, KR_WARN or KR_FAIL */
  char detail[384];     /* one line, no newline */
};
struct kreport {
  struct kcheck c[KCHECK_MAX];
  int n;
};

/* lib/kvm/kvmreport.c. Add a check result; details are cut to one line of
 * detail[]. */
void kreport_add(struct kreport *r, const char *name, int res,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "ok", "warn" or "fail". */
const char *kreport_word(int res);
/* KR_FAIL if any check other than "seccomp" failed, else KR_OK. */
int kreport_kvm(const struct kreport *r);
/* kvm= and seccomp= of a report ("ok"/"fail"; no seccomp check is a
 * fail): 0 when both are ok, else -1. */
int kreport_verdict(const struct kreport *r, const char **kvm,
                    const char **sec);
/* The report as "ok|warn|fail NAME: detail" lines (the static probe's
 * output), and read back from them: 0, or -1 with why in mvm.err. */
int kreport_write(const struct kreport *r, FILE *f);
int kreport_read(struct kreport *r, const char *text, size_t len);

/* lib/kvm/kvmnames.c: user and group names for messages, "?" if unknown. */
void kvm_user_name(uid_t uid, char *buf, size_t n);
void kvm_group_name(gid_t gid, char *buf, size_t n);

/* The static probe, embedded in mvmbox by probe/embed.S: mvm-kvmcheck
 * sends it to each host. PROBE_ARCH is `uname -m` of the hosts it runs
 * on (the architecture it was built for), "" if there is none. */
extern const unsigned char kvmprobe_start[];
extern const uint64_t kvmprobe_size;
#if defined(__x86_64__)
#define PROBE_ARCH "x86_64"
#elif defined(__aarch64__)
#define PROBE_ARCH "aarch64"
#else
#define PROBE_ARCH ""
#endif

/* Run every KVM check on this machine, in the order Firecracker fails:
 * device, open, api, caps, cpuid, vm, msrs, guest, module, nested.
 * Environment (for tests): MVM_KVM_DEV (default /dev/kvm), MVM_KVM_SYSFS
 * (default /sys/module), MVM_KVM_TIMEOUT (guest run seconds, default 10),
 * MVM_KVM_GUEST=hang|badmsr (make the probe guest misbehave). */
void kvm_check_all(struct kreport *r);
/* The whole gate on this machine, into a cleared R: kvm_check_all(),
 * then the "seccomp" check (seccomp_probe()). */
void kvm_gate(struct kreport *r);

/* lib/kvm/kvmprobe.c: KVM_CREATE_VM and friends, a vCPU with the supported
 * CPUID, the 11 boot MSRs and a 64-bit long-mode guest run on the open
 * /dev/kvm fd. cpuid is a struct kvm_cpuid2 * or NULL. */
void kvm_probe_vm(struct kreport *r, int kvmfd, const void *cpuid);

/* Shared by lib/kvm/kvmprobe.c (VM, vCPU) and lib/kvm/kvmguest.c (the run). */
#define KVM_PROBE_MEM 0x200000  /* 2 MiB of guest RAM at GPA 0 */
struct kvm_probe {
  int vm, vcpu;
  unsigned char *mem;           /* KVM_PROBE_MEM bytes */
  struct kvm_run *run;
  size_t runsz;
  int nmsrs;                    /* rdmsr steps in the guest's list */
  const char *mode;             /* MVM_KVM_GUEST: test-only misbehaviour */
};
/* Load the 64-bit guest and KVM_RUN it (SIGALRM-bounded); adds "guest". */
void kvm_guest_run(struct kreport *r, struct kvm_probe *p);

/* lib/kvm/seccomp.c: fork; the child sets no_new_privs and a BPF filter that
 * fails socket() with EPERM and checks it does; the parent checks socket()
 * still works. 0, or -1 with the reason in mvm.err. */
int seccomp_probe(void);

#endif
