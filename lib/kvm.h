/* lib/kvm.h - prototypes of lib/kvm.c (placeholder until the module lands). */
#ifndef MVM_KVM_H
#define MVM_KVM_H
#endif
