/* lib/sync/sync.h - the door of lib/sync/, the rsync-like protocol of
 * mvm-sync (applets/sync.c is its command line and per-host loop): a
 * local tree walked (walk.c) and a remote one listed by one GNU find
 * -printf (manifest.c), the two compared into a plan (plan.c), and the
 * plan sent over one SSH exec channel as a tar stream (syncsend.c) that
 * tarz.c writes (pax headers: tarhdr.c), through zlib when the link is
 * slow. The tar and manifest parts know nothing of SSH. */
#ifndef MVM_SYNC_H
#define MVM_SYNC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One tree entry, local or remote. Paths are relative to the tree's root
 * ("" is the root itself), never start with "./" and hold any byte but NUL. */
struct ment {
  const char *path;
  const char *link;      /* symlink target, else NULL */
  int64_t size;
  int64_t mtime;         /* seconds */
  long nsec;             /* and nanoseconds */
  unsigned mode;         /* permission bits, 07777 */
  char type;             /* 'f' file, 'd' dir, 'l' symlink */
  unsigned char flags;   /* ME_* below */
  unsigned uid, gid;     /* local entries only */
  dev_t dev;             /* local: what manifest_open() must find again */
  ino_t ino;
  unsigned char sum[32]; /* SHA-256 when ME_SUM */
};
enum { ME_SUM = 1, ME_TOUCH = 2, ME_SEND = 4, ME_AGAIN = 8, ME_OPEN = 16 };

struct manifest {
  struct ment *e;
  size_t n, cap;
  char *buf;             /* owns the remote paths (parsed in place) */
  char *names;           /* owns the local paths: one arena */
  size_t nlen, ncap;
  int fd;                /* local: the root, open (-1: none) */
};

/* Patterns are gitignore-like: "dir/" matches directories only, a pattern
 * with a '/' elsewhere is anchored at the root (fnmatch FNM_PATHNAME),
 * otherwise it matches the last path component at any depth. */
int excl_match(char *const *pat, int npat, const char *path, int isdir);

/* Walk root (lib/sync/walk.c: through directory fds, no symlink below the root
 * followed) into m, sorted by path_cmp, keeping root open in m->fd.
 * Excluded entries and their subtrees are left out, as are sockets, fifos
 * and devices. 0, or -1 with mvm.err naming the path. */
int manifest_walk(struct manifest *m, const char *root, char *const *excl,
                  int nexcl);
/* Open the local file e of m again, relative to the root and following no
 * symlink, and check it is the inode the walk saw: an fd, or -1 with
 * mvm.err naming the path. */
int manifest_open(const struct manifest *m, const struct ment *e);
void manifest_sort(struct manifest *m);
struct ment *manifest_add(struct manifest *m);   /* zeroed, appended */
/* Parse a remote manifest section: "@\0", then records
 * "T SIZE SECS.FRACTION MODE PATH\0LINK\0"
 * (find -printf '%y %s %T@ %m %P\0%l\0') up to the next "@\0" section
 * marker or len; *used says how far. Points into buf (the caller keeps it
 * until manifest_release); sorts; drops excluded entries. 0 or -1. */
int manifest_parse(struct manifest *m, char *buf, size_t len, size_t *used,
                   char *const *excl, int nexcl);
void manifest_release(struct manifest *m);
struct ment *manifest_find(const struct manifest *m, const char *path);
int path_cmp(const char *a, const char *b);   /* '/' sorts before all */
/* SHA-256 of the open file fd (named name in messages) into sum. 0 or -1
 * with mvm.err. */
int file_sha256(int fd, const char *name, unsigned char sum[32]);
/* sha256sum's output for the files cand[0..n) in order ("[\\]HEX  NAME"
 * lines, names escaped): set each sum and ME_SUM; lines that do not parse
 * leave the entry without ME_SUM, so it is sent. */
void sums_parse(const char *out, struct ment **cand, size_t n);
/* --checksum candidates: remote files whose local namesake is a file of
 * the same size (malloc'd; *n of them). */
struct ment **sums_cand(const struct manifest *loc, const struct manifest *rem,
                        size_t *n);
/* How many of cand[0..n) one sha256sum run may take so that its output
 * stays within max bytes, at least 1; *bytes: their file bytes. */
size_t sums_batch(struct ment **cand, size_t n, size_t max, int64_t *bytes);

/* The remote commands for one tree: the find command that lists it (with
 * nolink, a symlink there lists as "L\0"), and a plan made by comparing
 * both manifests. */
char *manifest_cmd(const char *dest, char *const *excl, int nexcl,
                   int nolink);
/* The whole listing command around the manifest_cmd() sections: exit 97
 * without GNU find; the output gzip'd (gz 1: -1, 6: -6) if gzip is there,
 * then PLAN_LIST_END; then it reads a line N from stdin and runs the Nth
 * of the streams ("N) COMMAND ;;" lines of a case), or ends at EOF. */
char *plan_fetch_cmd(const char *sections, int gz, const char *streams);
#define PLAN_LIST_END "\0@\0#\0"   /* cannot occur in a listing: no %y is # */
#define PLAN_LIST_ENDLEN 5
/* The command that unpacks one tar stream into a staging dir and, when
 * the stream carried the script "a", runs it; output (stderr too) goes to
 * stdout; exit 98 without tar. The first stream (made NULL) creates the
 * dir with mktemp -d from the template prefix stage and prints its name
 * first, NUL-ended; a later one is given that name in made. On failure
 * (and after the script) the dir is removed. */
char *plan_stream_cmd(const char *stage, const char *made, int gz);
/* SRC or SRC:DEST (split at the last ':' unless SRC exists as given)
 * under destdir: *src, the remote tree *dest (absolute, DESTDIR/<basename
 * of SRC> by default) and the prefix of its staging dir's name *stage
 * (DIR/.mvm-sync.NAME, for mktemp), all malloc'd. 0; 1 for a
 * usage error or -1 for a SRC that does not exist, with mvm.err. */
int plan_tree(const char *arg, const char *destdir, char **src, char **dest,
              char **stage);

struct plan {
  struct ment **send;    /* local entries for the tar stream, in order */
  size_t nsend, files;   /* entries; of which non-directories */
  int64_t bytes;         /* file bytes to send */
  char *script;          /* sh script applied after the stream landed */
  size_t slen, scap;
  int work;              /* anything to do at all */
  char **drylog;         /* "send PATH", "delete PATH" for -n */
  size_t ndry;
};
struct plan_opts {
  const char *dest;      /* remote tree, absolute */
  int delete;            /* remove what vanished locally; refuse a DEST
                          * that is a symlink on the host */
  int checksum;          /* compare contents by SHA-256 (needs ME_SUM) */
  int dry;               /* fill drylog */
};
void plan_make(struct plan *p, struct manifest *loc, struct manifest *rem,
               const struct plan_opts *o);
void plan_release(struct plan *p);

/* lib/sync/syncsend.c: one host of mvm-sync, once its listing is in. */
struct tree {            /* one SRC[:DEST] */
  char *src, *dest, *stage;
  struct manifest loc;
};
struct sync_host {
  struct ssh *s;
  int io;                /* --io-timeout */
  int compress;          /* -1 auto, 0 never, 1 always */
  int link;              /* the probe's verdict: -1 not yet, 0 slow, 1 fast */
  double slow;           /* bytes/s: a slower link gets compression */
  unsigned far_us;       /* a round trip this long is a network link */
  double since, due;     /* the current remote command's deadline */
  struct ssh_chan *lc;   /* the listing's channel, waiting for a stream */
};
/* Every wait on h->s from now on fails secs from now: a hung remote
 * command (or a stalled stream: its sink moves it on) never blocks us. */
void sync_deadline(struct sync_host *h, double secs);
/* -1 with mvm.err "TREE: STEP: why" (no TREE for the listing of all, no
 * STEP for a TREE's own error), "no progress ..." past the deadline. */
int sync_fail(struct sync_host *h, const struct tree *t, const char *step);
/* Send plan p of tree t (number idx): one tar stream, two when the
 * automatic compression switches. 0 or -1 (mvm.err). */
int sync_send(struct sync_host *h, struct tree *t, int idx, struct plan *p);
/* --checksum: SHA-256 of the files whose sizes agree, on both sides. */
int sync_hash(struct sync_host *h, struct tree *t, struct manifest *rem);

/* tar writer: gzip level 1..9 through zlib, or level < 0 for plain tar.
 * The sink returns 0 or -1 (with mvm.err): the stream then fails. */
typedef int (*tarz_sink)(void *arg, const void *buf, size_t n);
struct tarz;
struct tarz_stats {
  uint64_t raw;          /* tar bytes */
  uint64_t wire;         /* bytes handed to the sink */
  double zsecs;          /* seconds spent in deflate */
};
struct tarz *tarz_open(tarz_sink sink, void *arg, int level);
/* Add e under name; a regular file's contents are read from fd (from
 * manifest_open(); not closed here), else fd is -1. */
int tarz_add(struct tarz *t, const char *name, int fd, const struct ment *e);
int tarz_add_data(struct tarz *t, const char *name, const void *data,
                  size_t n, unsigned mode);
/* lib/sync/tarhdr.c: append to out the header block(s) of entry e named name
 * (a pax extended header first when ustar cannot hold it all). */
void tar_header(struct buf *out, const char *name, const struct ment *e);
/* Finish the stream (0/-1) and free t; stats may be NULL. */
int tarz_close(struct tarz *t, struct tarz_stats *stats);
void tarz_stats(const struct tarz *t, struct tarz_stats *stats);
/* Free t without ending the stream: the reader sees it cut short. */
void tarz_abort(struct tarz *t);

#endif
