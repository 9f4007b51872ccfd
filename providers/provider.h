/* providers/provider.h - the provider vtable: the original adapters' four
 * functions (default_instance_type, default_region, up, down) in C, the
 * listing teardown's dry run prints, and what the applets must know about
 * a provider (flags).
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
  long ttl;               /* --ttl seconds: cloud hosts are tagged
                           * mvm-expires=now+ttl (0: the default, 4 h) */
  int dry_run;            /* PF_DRYUP providers: print the API calls,
                           * create nothing */
  const char *price;      /* --price: the operator's price an hour, or
                           * NULL; given, the API's is not asked */
};

/* emit(): called once per host as soon as the provider knows its id (and
 * again with the address, if that came later: same id, more fields). A
 * host that failed after creation is emitted with rec_fail() set, never
 * dropped. */
typedef void (*emit_fn)(struct rec *r);

/* What the applets must know about a provider beyond its functions. */
enum {
  PF_LOCAL = 1,           /* a host on this machine: local.yaml instead of
                           * the toolchain part (no internet), KVM gate
                           * optional */
  PF_NOCREATE = 2,        /* creates nothing (static): no user-data, no key */
  PF_PINS = 4,            /* always hands the host its SSH host key (records
                           * carry hostkey=): trust on first use is refused
                           * for its records */
  PF_DRYUP = 8,           /* up() honours up_args.dry_run (cloud
                           * providers: the API calls it would make) */
  PF_CONFIRMS = 16,       /* down() confirms by listing and says how many
                           * are left (the cloud driver) */
};

struct provider {
  const char *name;
  unsigned flags;         /* PF_* */
  const char *(*default_instance_type)(void);
  const char *(*default_region)(void);
  int (*up)(const struct up_args *a, emit_fn emit);       /* 0 or -1 */
  /* label NULL: every host tagged mvm-ephemeral=true; only != NULL: just
   * that record's id=. emit() each destroyed host. 0 or -1 (mvm.err). */
  int (*down)(const char *label, const struct rec *only, emit_fn emit);
  /* Every host down(label, NULL) would destroy, emitted as a record
   * (address, provider=, id=, label=, created= when known); touches
   * nothing. mvm-teardown --dry-run prints these. 0 or -1 (mvm.err). */
  int (*list)(const char *label, emit_fn emit);
  /* What up(a) needs before it creates anything (root, programs, the
   * image, the adapter's functions), checked creating nothing: the dry run
   * and the real run call it first. NULL: nothing beyond the applet's
   * checks. 0 or -1 (mvm.err: the first real cause). */
  int (*check)(const struct up_args *a);
  /* After a teardown by records (mvm-teardown < records, --expired):
   * once, what creates left besides the hosts of RECS (N of them, this
   * provider's, each destroyed or gone), as a teardown by label does
   * after its deletes: one sweep per run, not one per record running in
   * parallel. NULL: nothing to do. 0 or -1 (mvm.err). */
  int (*down_end)(const struct rec *recs, int n);
};

/* Found by name; a name with a '/' or ending in ".sh" is an original-style
 * adapter file: MVM_ADAPTER is set to it and "script" is returned. Dies,
 * listing the known names, if there is no such provider. */
const struct provider *provider_find(const char *name);
const struct provider *const *provider_list(void);        /* NULL-terminated */
/* Does the provider of this name have PF_PINS? 0 for an unknown name (a
 * record's provider= is input: never dies). For ssh_opts.pins. */
int provider_pins(const char *name);

#endif
