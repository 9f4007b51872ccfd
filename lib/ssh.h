/* lib/ssh.h - prototypes of lib/ssh.c (placeholder until the module lands). */
#ifndef MVM_SSH_H
#define MVM_SSH_H
#endif
