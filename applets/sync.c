/* applets/sync.c - mvm-sync: copy local trees to each host of the records,
 * incrementally, with only sh, tar and GNU find on the host. Per host and
 * per tree: one find command lists the remote tree (NUL-separated), the
 * comparison (lib/sync/plan.c) picks what changed, and one tar stream
 * (lib/sync/tarz.c) lands it in a staging dir next to the tree; a script
 * shipped inside the stream then renames it into place and deletes what
 * vanished, so a dropped connection never leaves a truncated file and a
 * re-run converges. The protocol lives in lib/sync/ (door: sync.h); this
 * file is its command line and the loop over hosts. */
#include "mvm.h"
#include "ssh/ssh.h"
#include "sync/sync.h"
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

static struct {
  int dry, delete, checksum, compress;   /* compress: -1 auto, 0, 1 */
  double slow;           /* bytes/s: a slower link gets compression */
  unsigned far_us;       /* a round trip (us) this long is a network */
  char **excl;
  struct tree *t;
  int nexcl, nt, jobs, io;
  struct ssh_opts o;
} TT;

static int sync_tree(struct sync_host *h, int idx, struct manifest *rem,
                     size_t *synced)
{
  struct tree *t = TT.t + idx;
  struct plan_opts po = { .dest = t->dest, .delete = TT.delete,
                          .checksum = TT.checksum, .dry = TT.dry };
  struct plan p;
  size_t i;
  int rc = 0;

  if (TT.checksum && sync_hash(h, t, rem)) return -1;
  plan_make(&p, &t->loc, rem, &po);
  debug("%s: %zu entries to send (%.1f MB), script %zu bytes", t->dest,
        p.nsend, p.bytes / 1e6, p.slen);
  if (TT.dry)
    for (i = 0; i < p.ndry; i++) info("%s: %s", t->dest, p.drylog[i]);
  else if (p.work)
    rc = sync_send(h, t, idx, &p);
  if (!rc) *synced += p.files;
  plan_release(&p);
  return rc;
}

/* The one command that lists every tree and then waits to run the first
 * stream (plain or gzip'd, of any tree) on the same channel. */
static char *fetch_cmd(int gz)
{
  struct buf sec = { 0 }, st = { 0 };
  char *m, n[16];
  int i, z;

  buf_add(&sec, "", 0);
  buf_add(&st, "", 0);
  for (i = 0; i < TT.nt; i++) {
    m = manifest_cmd(TT.t[i].dest, TT.excl, TT.nexcl, TT.delete);
    buf_add(&sec, m, strlen(m));
    free(m);
    for (z = 0; z < 2 && !TT.dry; z++) {
      snprintf(n, sizeof(n), "%d) ", 2 * i + 1 + z);
      buf_add(&st, n, strlen(n));
      m = plan_stream_cmd(TT.t[i].stage, NULL, z);
      buf_add(&st, m, strlen(m));
      buf_add(&st, " ;;\n", 4);
      free(m);
    }
  }
  m = plan_fetch_cmd(sec.s, gz, st.s);
  free(sec.s);
  free(st.s);
  return m;
}

/* Every tree's remote manifest: *out holds the sections, "@\0" before
 * each; the channel stays open in h->lc for the first stream. 0 or -1. */
static int fetch(struct sync_host *h, char **out, size_t *len)
{
  struct buf b = { 0 };
  unsigned rtt = ssh_min_rtt_us(h->s);
  /* auto: gzip -1, but not for a near host (loopback, a LAN): there its
   * CPU costs more than the bytes it saves (10% of a no-change sync) */
  int gz = TT.compress > 0 ? 6 : !TT.compress || (rtt && rtt < TT.far_us)
           ? 0 : 1;
  char *m = fetch_cmd(gz), chunk[65536];
  size_t n = 0;
  int rc = 0, end = 0, i;

  sync_deadline(h, TT.io);
  h->lc = ssh_chan_open(h->s, m);
  free(m);
  if (!h->lc) return sync_fail(h, NULL, "listing the remote trees");
  for (i = 0; i < TT.nt; i++)     /* while the host lists, walk ours */
    if (manifest_walk(&TT.t[i].loc, TT.t[i].src, TT.excl, TT.nexcl)) {
      ssh_chan_abort(h->lc);
      h->lc = NULL;
      return -1;
    }
  while (!end && b.len <= MANIFEST_MAX) {
    n = ssh_chan_read(h->lc, chunk, sizeof(chunk));
    if (!n || n == (size_t)-1) break;         /* it ended, or an error */
    buf_add(&b, chunk, n);
    end = b.len >= PLAN_LIST_ENDLEN &&
          !memcmp(b.s + b.len - PLAN_LIST_ENDLEN, PLAN_LIST_END,
                  PLAN_LIST_ENDLEN);
  }
  if (!end) {            /* it failed, or went on too long */
    if (n == (size_t)-1) rc = sync_fail(h, NULL, "listing the remote trees");
    else if (b.len > MANIFEST_MAX) rc = error("remote listing over %d bytes",
                                             MANIFEST_MAX);
    else if ((rc = ssh_chan_finish(h->lc, NULL, NULL, 0)) == 97)
      rc = error("remote find has no -printf (GNU find needed)");
    else if (rc >= 0)
      rc = error("listing the remote trees failed (exit %d)", rc);
    else rc = sync_fail(h, NULL, "listing the remote trees");
    if (n == (size_t)-1 || b.len > MANIFEST_MAX) ssh_chan_abort(h->lc);
    h->lc = NULL;
    free(b.s);
    return rc < 0 ? rc : -1;
  }
  b.len -= PLAN_LIST_ENDLEN;
  if (!gz) {             /* a plain list: "z" first if the host has gzip */
    if (b.len && b.s[0] == 'z') memmove(b.s, b.s + 1, --b.len);
    else h->compress = 0;
  }
  if (!gz || b.len < 2 || (unsigned char)b.s[0] != 0x1f ||
      (unsigned char)b.s[1] != 0x8b) {
    if (gz) h->compress = 0;   /* no gzip on this host */
    *out = b.s;
    *len = b.len;
    return 0;
  }
  rc = gunzip_buf(b.s, b.len, out, len, MANIFEST_MAX);  /* mvm.err: why */
  free(b.s);
  if (rc) *out = NULL;
  return rc;
}

static int sync_one(struct rec *r, void *arg)
{
  struct sync_host h = { .io = TT.io, .compress = TT.compress, .link = -1,
                         .slow = TT.slow, .far_us = TT.far_us };
  struct manifest rem;
  char *out = NULL;
  size_t len = 0, used, synced = 0, off = 0;
  int i, rc;

  (void)arg;
  if (!(h.s = ssh_open(r, &TT.o))) return -1;
  status("manifest");
  rc = fetch(&h, &out, &len);
  for (i = 0; !rc && i < TT.nt; i++) {
    rc = manifest_parse(&rem, out + off, len - off, &used, TT.excl,
                        TT.nexcl);
    if (rc) rc = sync_fail(&h, TT.t + i, NULL);
    else {
      off += used;
      rc = sync_tree(&h, i, &rem, &synced);
    }
    manifest_release(&rem);
  }
  if (h.lc) {            /* no stream took it: EOF ends it */
    sync_deadline(&h, TT.io);
    if (ssh_chan_finish(h.lc, NULL, NULL, 0) && !rc)
      rc = sync_fail(&h, NULL, "ending the listing");
  }
  free(out);
  ssh_close(h.s);
  if (rc) return -1;
  rec_set(r, "stage", "sync");
  rec_set(r, "synced", "%zu", synced);
  return 0;
}

static void add_tree(const char *arg, const char *destdir)
{
  struct stat st;
  struct tree *t;
  int rc;

  TT.t = xrealloc(TT.t, (TT.nt + 1) * sizeof(*TT.t));
  t = memset(TT.t + TT.nt++, 0, sizeof(*t));
  if ((rc = plan_tree(arg, destdir, &t->src, &t->dest, &t->stage)) > 0)
    help_exit("%s", mvm.err);
  if (rc) die("%s", mvm.err);
  /* each host's worker walks it, while that host lists its side */
  if (stat(t->src, &st)) die("cannot open '%s': %s", t->src, strerror(errno));
  if (!S_ISDIR(st.st_mode)) die("'%s' is not a directory", t->src);
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
  TT.far_us = getenv("MVM_SYNC_FAR_RTT") ?   /* for tests */
               xatoi_range(getenv("MVM_SYNC_FAR_RTT"), 0, 10000000) : 2000;
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
