/* lib/userdata.h - prototypes of lib/userdata.c (placeholder until the module lands). */
#ifndef MVM_USERDATA_H
#define MVM_USERDATA_H
#endif
