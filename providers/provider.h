/* providers/provider.h - the provider vtable: the original adapters' four
 * functions (default_instance_type, default_region, up, down) in C.
 * Providers use lib/ only and never write stdout: up() hands each host to
 * emit() the moment its id is known, and the applet writes the record. */
#ifndef MVM_PROVIDER_H
#define MVM_PROVIDER_H

struct up_args {
  const char *label;      /* mvm-eph-<date>-<random> unless given */
  const char *region;
  const char *type;       /* instance type */
  int count;              /* hosts to create */
  /* Per host, in creation order: the composed, validated user-data (it
   * carries the host key generated for that host) and that key's
   * fingerprint for the record's hostkey=. */
  char **user_data;
  char **hostkey_fp;
  const char *pubkey;     /* the operator's SSH public key (one line) */
  const char *user;       /* login user for the records (default "mvm") */
  const char *image;      /* provider-specific image override, or NULL */
  char **args;            /* the arguments after PROVIDER, NULL-terminated
                           * (static: the hosts); never NULL */
};

/* emit(): called once per host as soon as the provider knows its id (and
 * again with the address, if that came later: same id, more fields). A
 * host that failed after creation is emitted with rec_fail() set, never
 * dropped. */
typedef void (*emit_fn)(struct rec *r);

struct provider {
  const char *name;
  const char *(*default_instance_type)(void);
  const char *(*default_region)(void);
  int (*up)(const struct up_args *a, emit_fn emit);       /* 0 or -1 */
  /* label NULL: every host tagged mvm-ephemeral=true; only != NULL: just
   * that record's id=. emit() each destroyed host. 0 or -1 (mvm.err). */
  int (*down)(const char *label, const struct rec *only, emit_fn emit);
};

/* Found by name; a name with a '/' or ending in ".sh" is an original-style
 * adapter file: MVM_ADAPTER is set to it and "script" is returned. Dies,
 * listing the known names, if there is no such provider. */
const struct provider *provider_find(const char *name);
const struct provider *const *provider_list(void);        /* NULL-terminated */

/* What the applets must know about a provider beyond its four functions;
 * kept in the table of providers/providers.c, one line per provider. */
enum {
  PF_LOCAL = 1,           /* a host on this machine: local.yaml instead of
                           * the toolchain part (no internet), KVM gate
                           * optional */
  PF_NOCREATE = 2,        /* creates nothing (static): no user-data, no key */
};
unsigned provider_flags(const struct provider *p);

#endif
