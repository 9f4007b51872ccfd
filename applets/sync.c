/* applets/sync.c - mvm-sync: copy local trees to each host of the records,
 * incrementally, with only sh, tar and GNU find on the host. Per host and
 * per tree: one find command lists the remote tree (NUL-separated), the
 * comparison (lib/plan.c) picks what changed, and one tar stream (lib/tarz.c)
 * lands it in a staging dir next to the tree; a script shipped inside the
 * stream then renames it into place and deletes what vanished, so a dropped
 * connection never leaves a truncated file and a re-run converges. */
#include "mvm.h"
#include <getopt.h>

const char sync_usage[] =
"usage: mvm-sync [-nqvz] [--checksum] [--dry-run] [--exclude PATTERN] "
"[--io-timeout SECS] "
"[--no-compress] [--no-default-excludes] [--no-delete] [-d DESTDIR] "
"[-t TIMEOUT] [-i IDENTITY] [-u USER] [-j N] SRC[:DEST]...\n"
"\n"
"Copy each local directory SRC to DESTDIR/<basename of SRC> (or to DEST,\n"
"relative to DESTDIR or absolute) on every host of the records on stdin,\n"
"sending what changed (size or mtime differ) and deleting what vanished;\n"
"print each record with stage=sync synced=N (files sent).\n"
"\n"
"  -d DESTDIR        remote parent of the trees (default /home/mvm)\n"
"  -n, --dry-run     list what would be sent and deleted, change nothing\n"
"  -z                compress; --no-compress: never; default: only when\n"
"                    the first 8 MB show a link slower than 16 MB/s\n"
"  --checksum        compare file contents by SHA-256, not size and mtime\n"
"  --exclude PATTERN skip matching paths (gitignore-style: 'dir/' matches\n"
"                    dirs only, a '/' anchors at the tree root); repeatable\n"
"  --io-timeout SECS give up on a host whose remote command makes no\n"
"                    progress for SECS seconds (default 600)\n"
"  --no-default-excludes  also send target/ (excluded by default)\n"
"  --no-delete       keep remote files that vanished locally\n"
"  -t TIMEOUT        connect timeout per host, seconds (default 30)\n"
"  -i IDENTITY       key file (default MVM_SSH_KEY, agent, ~/.ssh/id_*)\n"
"  -u USER           login user for records without user= (default mvm)\n"
"  -j N              hosts at once (default 8); -q quiet; -v debug\n";

#define MANIFEST_MAX (512 << 20)
#define OUT_MAX (4 << 20)      /* remote tar and script output */
#define PROBE_BYTES (8 << 20)  /* auto compression judges this much */
#define SUMS_MAX (16 << 20)    /* sha256sum output per remote run */
#define HASH_RATE 20e6         /* bytes/s the slowest host hashes at least */

struct tree {
  char *src, *dest, *stage;
  struct manifest loc;
};

static struct {
  int dry, delete, checksum, compress;   /* compress: -1 auto, 0, 1 */
  double slow;           /* bytes/s: a slower link gets compression */
  char **excl;
  struct tree *t;
  int nexcl, nt, jobs, io;
  double since, due;     /* the current remote command's deadline */
  struct ssh_opts o;
} TT;

/* Per-stream state for the sink: the channel and the progress line. */
struct xfer {
  int broken;            /* a write failed (the link, or the remote) */
  int gone;              /* the remote command ended while we wrote */
  struct ssh *s;
  struct ssh_chan *c;
  struct tree *t;
  struct plan *p;
  size_t done;           /* entries written */
  uint64_t raw;          /* bytes written */
  double start, shown;
};

/* Every wait on s from now on fails secs from now: a hung remote command
 * (or a stalled stream: xfer_sink() moves it on) never blocks us forever. */
static void deadline(struct ssh *s, double secs)
{
  TT.since = now_s();
  TT.due = TT.since + secs;
  ssh_set_deadline(s, TT.due);
}

/* -1 with mvm.err "TREE: STEP: why" (no TREE for the listing of all, no
 * STEP for a TREE's own error). */
static int fail(const struct tree *t, const char *step)
{
  char why[sizeof(mvm.err)];

  if (TT.due && now_s() >= TT.due)
    snprintf(why, sizeof(why), "no progress for %.0fs (--io-timeout)",
             now_s() - TT.since);
  else snprintf(why, sizeof(why), "%s", mvm.err);
  if (!t) return error("%s: %s", step, why);
  if (!step) return error("%s: %s", t->dest, why);
  return error("%s: %s: %s", t->dest, step, why);
}

static int xfer_sink(void *arg, const void *buf, size_t n)
{
  struct xfer *x = arg;
  double now;

  deadline(x->s, TT.io);
  if (ssh_chan_write(x->c, buf, n)) {
    x->broken = 1;
    x->gone = ssh_chan_poll(x->c, 0) == 1;    /* its message says why */
    return -1;
  }
  x->raw += n;
  now = now_s();
  if (now - x->shown >= 0.5) {
    x->shown = now;
    status("sync %s: %zu/%zu files, %.1f/~%.1f MB, %.1f MB/s", x->t->dest,
           x->done, x->p->nsend, x->raw / 1e6,     /* ~: tar headers */
           (x->p->bytes + 1024.0 * x->p->nsend) / 1e6,
           x->raw / 1e6 / (now - x->start + 1e-9));
  }
  return 0;
}

/* Auto compression: when the stream has written PROBE_BYTES, judge the
 * link by how fast they went; 1 fast (go on plain), 0 slow (switch). */
static int judge(struct xfer *x, uint64_t raw, int *link)
{
  double dt = now_s() - x->start, rate = raw / (dt > 1e-6 ? dt : 1e-6);

  *link = rate >= TT.slow;
  debug("probe: %.1f MB plain in %.3fs: %.0f MB/s, %s", raw / 1e6, dt,
        rate / 1e6, *link ? "no compression" : "compressing the rest");
  return *link;
}

/* Add p->send[i] to the stream: a file read through manifest_open(). */
static int add(struct tarz *tz, struct tree *t, struct ment *e)
{
  char *name = *e->path ? xasprintf("t/%s", e->path) : xstrdup("t");
  int fd = -1, rc;

  if (e->type == 'f' && (fd = manifest_open(&t->loc, e)) < 0) rc = -1;
  else rc = tarz_add(tz, name, fd, e);
  if (fd >= 0) close(fd);
  free(name);
  return rc;
}

/* A later stream lands in directories the first one made and tar set the
 * mtimes of: send each such directory again before the first entry in it,
 * so this tar sets its time after the contents too. */
static int again(struct tarz *tz, struct tree *t, struct ment *e)
{
  const char *slash = strrchr(e->path, '/');
  char *parent = slash ? xstrndup(e->path, slash - e->path) : xstrdup("");
  struct ment *d = *e->path ? manifest_find(&t->loc, parent) : NULL;
  int rc = 0;

  free(parent);
  if (!d || !(d->flags & ME_SEND) || (d->flags & ME_AGAIN)) return 0;
  if (*d->path) rc = again(tz, t, d);
  d->flags |= ME_AGAIN;
  return rc ? rc : add(tz, t, d);
}

/* A local error (a file unreadable or replaced) mid-stream: cut the tar
 * short, so the remote tar fails and removes the staging dir, and wait
 * for that; then report the local error. -1. */
static int cut(struct xfer *x, struct tarz *tz)
{
  char why[sizeof(mvm.err)];

  snprintf(why, sizeof(why), "%s", mvm.err);
  tarz_abort(tz);
  deadline(x->s, TT.io);
  ssh_chan_finish(x->c, NULL, NULL, 0);
  return error("%s: sending: %s", x->t->dest, why);
}

/* What the host said, once the stream command has ended: rc > 0 an error
 * with its last line; the first stream's output starts with the staging
 * dir's name, NUL-ended, into *made. 0 or -1. */
static int landed(struct tree *t, int rc, char *out, size_t len, char **made)
{
  size_t n = out ? strlen(out) : 0;
  char *msg = out;

  if (out && !*made && n < len) {
    *made = xstrdup(out);
    msg = out + n + 1;
  }
  if (rc == 98) return error("no tar on the host");
  if (rc > 0 && *last_line(msg))
    return error("%s: sending: %s (exit %d)", t->dest, last_line(msg), rc);
  if (rc > 0)
    return error("%s: sending: remote tar failed (exit %d)", t->dest, rc);
  if (!rc && !*made)
    return error("%s: sending: no staging dir from the host", t->dest);
  return rc < 0 ? fail(t, "sending") : 0;
}

/* One tar stream with entries p->send[*i...]: to the end, or with *link
 * unknown (-1) until judge() says the link is slow. The first stream
 * makes the staging dir (its name into *made); the one that ends the plan
 * carries the script and runs it. 0 or -1. */
static int stream(struct ssh *s, struct tree *t, struct plan *p, size_t *i,
                  int level, int *link, char **made)
{
  struct xfer x = { .s = s, .t = t, .p = p };
  struct tarz_stats st;
  int rc = 0, later = *i > 0;
  char *cmd, *out = NULL;
  size_t len = 0;
  struct tarz *tz;

  cmd = plan_stream_cmd(t->stage, *made, level >= 0);
  deadline(s, TT.io);
  x.c = ssh_chan_open(s, cmd);
  free(cmd);
  if (!x.c) return fail(t, "sending");
  tz = tarz_open(xfer_sink, &x, level);
  x.start = now_s();
  for (; !rc && *i < p->nsend; (*i)++, x.done++) {
    struct ment *e = p->send[*i];

    tarz_stats(tz, &st);
    if (*link == -1 && st.raw >= PROBE_BYTES && !judge(&x, st.raw, link))
      break;
    if (later) rc = again(tz, t, e);
    if (!rc) rc = add(tz, t, e);
  }
  if (!rc && *i == p->nsend) rc = tarz_add_data(tz, "a", p->script, p->slen,
                                                0600);
  if (rc && !x.broken) return cut(&x, tz);
  if (tarz_close(tz, NULL)) rc = -1;
  if (rc && !x.gone) {
    rc = fail(t, "sending");
    ssh_chan_abort(x.c);
    return rc;
  }
  deadline(s, TT.io);    /* the rest lands, the script runs */
  rc = ssh_chan_finish(x.c, &out, &len, OUT_MAX);
  if (!rc && x.gone) rc = error("%s: sending: the host stopped reading",
                                t->dest);
  else rc = landed(t, rc, out, len, made);
  free(out);
  return rc;
}

/* Send the plan: compressed or not, or (auto) plain while the first
 * PROBE_BYTES show the link's speed (the 2 MB SSH window makes a slow link
 * block the writes well before that), then the rest plain, or compressed
 * in a second stream below TT.slow (16 MB/s); small plans compressed. Why
 * these numbers: BENCHMARKS.md, "sync". The verdict holds for the host. */
static int send_plan(struct ssh *s, struct tree *t, struct plan *p,
                     int *link)
{
  size_t i = 0;
  int fixed = 1, rc;
  char *made = NULL;

  if (TT.compress != -1 || *link != -1 || p->bytes <= 3 * PROBE_BYTES)
    rc = stream(s, t, p, &i, TT.compress == 0 || *link == 1 ? -1 : 1,
                &fixed, &made);
  else if (!(rc = stream(s, t, p, &i, -1, link, &made)) && i < p->nsend)
    rc = stream(s, t, p, &i, 1, link, &made);
  free(made);
  return rc;
}

/* One remote sha256sum run for cand[0..n): bytes of files to hash. */
static int hash_remote(struct ssh *s, struct tree *t, struct ment **cand,
                       size_t n, int64_t bytes)
{
  struct ssh_chan *c;
  char *q = sh_quote(t->dest), *cmd, *out = NULL;
  size_t i;
  int rc;

  cmd = xasprintf("cd %s && xargs -0 sha256sum --", q);
  free(q);
  deadline(s, TT.io + bytes / HASH_RATE);
  c = ssh_chan_open(s, cmd);
  free(cmd);
  if (!c) return fail(t, "checksum");
  for (i = 0; i < n; i++)
    if (ssh_chan_write(c, cand[i]->path, strlen(cand[i]->path) + 1)) {
      rc = fail(t, "checksum");
      ssh_chan_abort(c);
      return rc;
    }
  rc = ssh_chan_finish(c, &out, NULL, SUMS_MAX);
  if (rc > 0)
    rc = error("%s: checksum: remote sha256sum failed (exit %d)", t->dest,
               rc);
  else if (rc < 0) rc = fail(t, "checksum");
  else sums_parse(out, cand, n);
  free(out);
  return rc;
}

/* --checksum: hash, on both sides, the files whose sizes agree; the
 * remote side in runs whose output fits SUMS_MAX, however long the names. */
static int hash_both(struct ssh *s, struct tree *t, struct manifest *rem)
{
  struct ment **cand, *l;
  size_t n, i, k;
  int64_t bytes;
  int rc = 0, fd;

  cand = sums_cand(&t->loc, rem, &n);
  for (i = 0; !rc && i < n; i += k) {
    k = sums_batch(cand + i, n - i, SUMS_MAX, &bytes);
    rc = hash_remote(s, t, cand + i, k, bytes);
  }
  for (i = 0; !rc && i < n; i++) {
    l = manifest_find(&t->loc, cand[i]->path);
    if ((fd = manifest_open(&t->loc, l)) < 0) rc = -1;
    else if (!(rc = file_sha256(fd, l->path, l->sum))) l->flags |= ME_SUM;
    if (fd >= 0) close(fd);
  }
  free(cand);
  return rc;
}

static int sync_tree(struct ssh *s, struct tree *t, struct manifest *rem,
                     size_t *synced, int *link)
{
  struct plan_opts po = { .dest = t->dest, .delete = TT.delete, .checksum = TT.checksum,
                          .dry = TT.dry };
  struct plan p;
  size_t i;
  int rc = 0;

  if (TT.checksum && hash_both(s, t, rem)) return -1;
  plan_make(&p, &t->loc, rem, &po);
  debug("%s: %zu entries to send (%.1f MB), script %zu bytes", t->dest,
        p.nsend, p.bytes / 1e6, p.slen);
  if (TT.dry)
    for (i = 0; i < p.ndry; i++) info("%s: %s", t->dest, p.drylog[i]);
  else if (p.work)
    rc = send_plan(s, t, &p, link);
  if (!rc) *synced += p.files;
  plan_release(&p);
  return rc;
}

/* Every tree's remote manifest, from one command: *out holds the
 * sections, "@\0" before each. 0 or -1. */
static int fetch(struct ssh *s, char **out, size_t *len)
{
  char *cmd, *m;
  int i, rc;

  cmd = xstrdup("");
  for (i = 0; i < TT.nt; i++) {
    m = manifest_cmd(TT.t[i].dest, TT.excl, TT.nexcl, TT.delete);
    cmd = xrealloc(cmd, strlen(cmd) + strlen(m) + 1);
    strcat(cmd, m);
    free(m);
  }
  m = plan_fetch_cmd(cmd, TT.compress < 0 ? 1 : TT.compress * 6);
  free(cmd);
  deadline(s, TT.io);
  rc = ssh_run(s, m, out, len, MANIFEST_MAX);
  free(m);
  if (rc == 97) return error("remote find has no -printf (GNU find needed)");
  if (rc > 0) return error("listing the remote trees failed (exit %d)", rc);
  if (rc < 0) return fail(NULL, "listing the remote trees");
  if (*len < 2 || (unsigned char)(*out)[0] != 0x1f ||
      (unsigned char)(*out)[1] != 0x8b) {
    TT.compress = 0;   /* no gzip on this host (a worker: this host only) */
    return 0;
  }
  m = *out;
  rc = gunzip_buf(m, *len, out, len, MANIFEST_MAX);   /* mvm.err says why */
  free(m);
  if (rc) *out = NULL;
  return rc;
}

static int sync_one(struct rec *r, void *arg)
{
  struct manifest rem;
  struct ssh *s;
  char *out = NULL;
  size_t len = 0, used, synced = 0, off = 0;
  int i, rc, link = -1;

  (void)arg;
  if (!(s = ssh_open(r, &TT.o))) return -1;
  status("manifest");
  rc = fetch(s, &out, &len);
  for (i = 0; !rc && i < TT.nt; i++) {
    rc = manifest_parse(&rem, out + off, len - off, &used, TT.excl,
                        TT.nexcl);
    if (rc) rc = fail(TT.t + i, NULL);
    else {
      off += used;
      rc = sync_tree(s, TT.t + i, &rem, &synced, &link);
    }
    manifest_release(&rem);
  }
  free(out);
  ssh_close(s);
  if (rc) return -1;
  rec_set(r, "stage", "sync");
  rec_set(r, "synced", "%zu", synced);
  return 0;
}

static void add_tree(const char *arg, const char *destdir)
{
  struct tree *t;
  int rc;

  TT.t = xrealloc(TT.t, (TT.nt + 1) * sizeof(*TT.t));
  t = memset(TT.t + TT.nt++, 0, sizeof(*t));
  if ((rc = plan_tree(arg, destdir, &t->src, &t->dest, &t->stage)) > 0)
    help_exit("%s", mvm.err);
  if (rc || manifest_walk(&t->loc, t->src, TT.excl, TT.nexcl))
    die("%s", mvm.err);
}

int sync_main(int argc, char **argv)
{
  static const struct option longopts[] = {
    { "checksum", no_argument, NULL, 'C' },
    { "dry-run", no_argument, NULL, 'n' },
    { "exclude", required_argument, NULL, 'X' },
    { "io-timeout", required_argument, NULL, 'T' },
    { "no-compress", no_argument, NULL, 'Z' },
    { "no-default-excludes", no_argument, NULL, 'E' },
    { "no-delete", no_argument, NULL, 'D' },
    { NULL, 0, NULL, 0 }
  };
  struct run_opts ro = { .stage = "sync", .each = sync_one };
  const char *destdir = "/home/mvm";
  int c, defaults = 1, i;

  TT.delete = 1;
  TT.compress = -1;
  TT.slow = getenv("MVM_SYNC_SLOW_LINK") ?   /* for tests */
            xatoi_range(getenv("MVM_SYNC_SLOW_LINK"), 0, 1L << 40) : 16e6;
  TT.o.timeout = 30;
  TT.jobs = 8;
  TT.io = 600;
  TT.excl = xmalloc((argc + 1) * sizeof(char *));
  while ((c = getopt_long(argc, argv, "d:nqvz" SSH_OPTSTR, longopts, NULL))
         != -1) {
    if (ssh_common_opt(c, optarg, &TT.o, &TT.jobs)) continue;
    switch (c) {
    case 'd': destdir = optarg; break;
    case 'n': TT.dry = 1; break;
    case 'q': mvm.quiet = 1; break;
    case 'v': mvm.verbose = 1; break;
    case 'z': TT.compress = 1; break;
    case 'Z': TT.compress = 0; break;
    case 'C': TT.checksum = 1; break;
    case 'D': TT.delete = 0; break;
    case 'E': defaults = 0; break;
    case 'T': TT.io = xatoi_range(optarg, 1, 7 * 86400); break;
    case 'X':
      if (!*optarg) help_exit("empty --exclude");
      TT.excl[TT.nexcl++] = optarg;
      break;
    default: help_exit(NULL);
    }
  }
  if (defaults) TT.excl[TT.nexcl++] = "target/";
  if (optind == argc) help_exit("no SRC given");
  if (*destdir != '/') help_exit("DESTDIR must be absolute: '%s'", destdir);
  for (i = optind; i < argc; i++) add_tree(argv[i], destdir);
  ro.jobs = TT.jobs;
  return run_records(&ro);
}
