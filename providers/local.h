/* providers/local.h - what the local providers (nspawn.c, qemu.c) share,
 * implemented in providers/local.c: the state directory that labels hosts
 * like cloud tags, race-free loopback ports, spawning a detached host
 * process and stopping it. Only the local providers include this. */
#ifndef MVM_LOCAL_H
#define MVM_LOCAL_H

/* One local host: $MVM_STATE_DIR (default /run/mvmbox as root, else
 * $XDG_RUNTIME_DIR/mvmbox) / PROVIDER / ID / holds the files label, port,
 * user, pid (and whatever the provider adds: seed, overlay, console.log). */
struct local_host {
  char id[32];
  char dir[PATH_MAX];
  char label[128];
  char user[64];
  int port;
  pid_t pid;              /* 0 until spawned */
  double t0;              /* when it was spawned (now_s()) */
};

/* The image the local providers boot: ${MVM_CACHE:-/var/cache/mvmbox}/
 * current/NAME ("rootfs", "vmlinuz", ...); error() when it is missing. */
int local_image(const char *name, char *out, size_t len);

/* Is program NAME on PATH? error() naming it when it is not. */
int local_prog(const char *name);
/* Create the host's state: a fresh id (PREFIX-xxxxxxxx), its directory,
 * a free 127.0.0.1 port that no other local host holds, and the files. */
int local_new(struct local_host *h, const char *prov, const char *label,
              const char *user);
/* Write a file into the host's state directory (mode 0600). */
int local_put(const struct local_host *h, const char *name, const char *data,
              size_t len);
/* The hosts of PROV: all (label and id NULL), one label, or one id. The
 * array is malloc'd (free it); *n is set. -1 only if the directory cannot
 * be read. */
int local_list(const char *prov, const char *label, const char *id,
               struct local_host **out, int *n);
/* fork + setsid + exec ARGV detached, stdin /dev/null, stdout and stderr
 * to the host's console.log, no other fd inherited; writes pid. */
int local_spawn(struct local_host *h, char **argv);
/* Is the host's process alive (and still the one we started)? */
int local_alive(const struct local_host *h);
/* Run ARGV, wait, 0 if it exited 0; its output goes to the host's log. */
int local_run(const struct local_host *h, char **argv);
/* Stop hosts: soft(h) asks each for a clean poweroff (NULL: SIGTERM);
 * after TIMEOUT seconds the rest get SIGKILL. Then the state is removed. */
void local_stop(struct local_host *h, int n, void (*soft)(struct local_host *),
                double timeout);
/* Tail of the host's console.log, for an error message (static buffer). */
const char *local_logtail(const struct local_host *h);
/* Remove the host's state directory (recursively). */
void local_rm(const struct local_host *h);

/* The local driver. What a local provider gives it: how to start one host
 * and tell that it runs. */
struct local_ops {
  const char *name;       /* "nspawn": provider=, the state subdirectory */
  const char *type;       /* default instance type */
  const char *region;     /* default region */
  double start_s;         /* launch -> ready(); emitted anyway after it */
  double stop_s;          /* soft() -> SIGKILL */
  /* What up() needs (root, programs, the image), touching nothing. */
  int (*check)(const struct up_args *a);
  /* Host i's files in h->dir (made by local_new()) and its process
   * (local_spawn()); error() if it could not be started. */
  int (*launch)(const struct up_args *a, int i, struct local_host *h);
  int (*ready)(const struct local_host *h);  /* it runs */
  void (*soft)(struct local_host *h);        /* clean poweroff; NULL:
                                              * SIGTERM */
};

/* up(): check, launch every host, then emit each once it runs (or with
 * error= if it died); -1 if any failed. down(): stop the hosts of LABEL
 * (NULL: all) or the id= of ONLY; emit() each one that is gone. list():
 * the record of each host down(label, NULL) would stop, with created=
 * (UTC, RFC 3339). */
int local_up(const struct local_ops *o, const struct up_args *a,
             emit_fn emit);
int local_down(const struct local_ops *o, const char *label,
               const struct rec *only, emit_fn emit);
int local_ls(const struct local_ops *o, const char *label, emit_fn emit);
/* The host's record: "127.0.0.1:PORT provider=P id= label= user=". */
void local_rec(const struct local_host *h, const char *prov, struct rec *r);

/* A local provider file ends with LOCAL_PROVIDER(nspawn): its struct
 * provider, provider_nspawn, built from `static const struct local_ops
 * nspawn_ops`. */
#define LOCAL_PROVIDER(p)                                                 \
  static const char *p##_vt_type(void) { return p##_ops.type; }           \
  static const char *p##_vt_region(void) { return p##_ops.region; }       \
  static int p##_vt_up(const struct up_args *a, emit_fn e)                \
  { return local_up(&p##_ops, a, e); }                                    \
  static int p##_vt_down(const char *l, const struct rec *r, emit_fn e)   \
  { return local_down(&p##_ops, l, r, e); }                               \
  static int p##_vt_list(const char *l, emit_fn e)                        \
  { return local_ls(&p##_ops, l, e); }                                    \
  static int p##_vt_check(const struct up_args *a)                        \
  { return p##_ops.check(a); }                                            \
  const struct provider provider_##p = {                                  \
    .name = #p, .flags = PF_LOCAL | PF_PINS,                              \
    .default_instance_type = p##_vt_type,                                 \
    .default_region = p##_vt_region,                                      \
    .up = p##_vt_up, .down = p##_vt_down, .list = p##_vt_list,            \
    .check = p##_vt_check,                                                \
  }

#endif
