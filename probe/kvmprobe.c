/* probe/kvmprobe.c - mvm-kvmprobe, the KVM gate as a small static binary
 * (libc only) that mvm-kvmcheck sends to a host over SSH, runs there as the
 * SSH user and removes: the host needs nothing installed. It runs the same
 * checks as `mvm-kvmcheck --local` (lib/kvm*.c, lib/kvm/seccomp.c) and prints
 * the report as "ok|warn|fail NAME: detail" lines on stdout, which
 * mvm-kvmcheck reads back (lib/kvm/kvmreport.c). Honours the MVM_KVM_*
 * variables of lib/kvm/kvm.h. Exit 0 all passed, 1 a check failed, 2 the
 * report could not be written. Built by `make` with -static, embedded into
 * mvmbox by probe/embed.S. */
#include "mvm.h"
#include "kvm/kvm.h"

int main(void)
{
  struct kreport r;
  const char *kvm, *sec;

  msg_init("mvm-kvmprobe");
  kvm_gate(&r);
  if (kreport_write(&r, stdout)) return 2;
  return kreport_verdict(&r, &kvm, &sec) ? 1 : 0;
}
