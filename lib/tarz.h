/* lib/tarz.h - prototypes of lib/tarz.c (placeholder until the module lands). */
#ifndef MVM_TARZ_H
#define MVM_TARZ_H
#endif
