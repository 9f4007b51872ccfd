/* lib/sync/syncsend.c - what mvm-sync does on one host once it has the remote
 * listing: the tar streams of a plan (lib/sync/tarz.c) on exec channels, with
 * the automatic compression probe, and the remote hashing of --checksum.
 * Every remote command runs under a deadline that progress moves on
 * (--io-timeout), and every failure names the tree and the step. */
#include "mvm.h"
#include "sync.h"
#include "ssh/ssh.h"

#define OUT_MAX (4 << 20)      /* remote tar and script output */
#define PROBE_BYTES (8 << 20)  /* auto compression judges this much */
#define SUMS_MAX (16 << 20)    /* sha256sum output per remote run */
#define HASH_RATE 20e6         /* bytes/s the slowest host hashes at least */

/* Per-stream state for the sink: the channel and the progress line. */
struct xfer {
  int broken;            /* a write failed (the link, or the remote) */
  int gone;              /* the remote command ended while we wrote */
  struct sync_host *h;
  struct ssh_chan *c;
  struct tree *t;
  struct plan *p;
  size_t done;           /* entries written */
  uint64_t raw;          /* bytes written */
  double start, shown;
};

/* Every wait on s from now on fails secs from now: a hung remote command
 * (or a stalled stream: xfer_sink() moves it on) never blocks us forever. */
void sync_deadline(struct sync_host *h, double secs)
{
  h->since = now_s();
  h->due = h->since + secs;
  ssh_set_deadline(h->s, h->due);
}

/* -1 with mvm.err "TREE: STEP: why" (no TREE for the listing of all, no
 * STEP for a TREE's own error). */
int sync_fail(struct sync_host *h, const struct tree *t, const char *step)
{
  char why[sizeof(mvm.err)];

  if (h->due && now_s() >= h->due)
    snprintf(why, sizeof(why), "no progress for %.0fs (--io-timeout)",
             now_s() - h->since);
  else snprintf(why, sizeof(why), "%s", mvm.err);
  if (!t) return error("%s: %s", step, why);
  if (!step) return error("%s: %s", t->dest, why);
  return error("%s: %s: %s", t->dest, step, why);
}

static int xfer_sink(void *arg, const void *buf, size_t n)
{
  struct xfer *x = arg;
  double now;

  sync_deadline(x->h, x->h->io);
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
 * link by how fast they went; 1 fast (go on plain), 0 slow (switch). Slow
 * needs a network to blame as well: a round trip of h->far_us or more
 * (the least the kernel has seen: on loopback tens of us, on a loaded
 * machine too, where the smoothed one grows past a ms), or
 * writes that waited on a full socket more than on the host's window. A
 * near host that unpacks slower than we send (a loaded machine, small
 * files, loopback) would gain nothing: compression costs both ends CPU
 * for the same files. */
static int judge(struct xfer *x, uint64_t raw, int *link)
{
  double dt = now_s() - x->start, rate = raw / (dt > 1e-6 ? dt : 1e-6);
  double net, win;
  unsigned rtt = ssh_min_rtt_us(x->h->s);

  ssh_chan_waits(x->c, &net, &win);
  *link = rate >= x->h->slow || (rtt < x->h->far_us && net <= win);
  debug("probe: %.1f MB plain in %.3fs: %.0f MB/s, round trip %uus, "
        "waited %.3fs on the socket, %.3fs on the host: %s", raw / 1e6, dt,
        rate / 1e6, rtt, net, win,
        *link ? "no compression" : "compressing the rest");
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
  sync_deadline(x->h, x->h->io);
  ssh_chan_finish(x->c, NULL, NULL, 0);
  return error("%s: sending: %s", x->t->dest, why);
}

/* What the host said, once the stream command has ended: rc > 0 an error
 * with its last line; the first stream's output starts with the staging
 * dir's name, NUL-ended, into *made. 0 or -1. */
static int landed(struct sync_host *h, struct tree *t, int rc, char *out,
                  size_t len, char **made)
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
  return rc < 0 ? sync_fail(h, t, "sending") : 0;
}

/* One tar stream with entries p->send[*i...]: to the end, or with *link
 * unknown (-1) until judge() says the link is slow. The first stream
 * makes the staging dir (its name into *made); the one that ends the plan
 * carries the script and runs it. 0 or -1. */
/* The channel for a stream: the listing's, which waits for a line naming
 * the stream it is to run (so the host starts one shell, not two: as root
 * that is a login's ~/.bashrc, seconds on some hosts), or a new one. */
static struct ssh_chan *chan(struct sync_host *h, struct tree *t, int idx,
                             int gz, const char *made)
{
  struct ssh_chan *c = h->lc;
  char *cmd, go[32];
  int n;

  if (c && !made) {
    h->lc = NULL;
    n = snprintf(go, sizeof(go), "%d\n", 2 * idx + 1 + gz);
    if (ssh_chan_write(c, go, n)) {
      ssh_chan_abort(c);
      return NULL;
    }
    return c;
  }
  cmd = plan_stream_cmd(t->stage, made, gz);
  c = ssh_chan_open(h->s, cmd);
  free(cmd);
  return c;
}

static int stream(struct sync_host *h, struct tree *t, int idx,
                  struct plan *p, size_t *i, int level, int *link,
                  char **made)
{
  struct xfer x = { .h = h, .t = t, .p = p };
  struct tarz_stats st;
  int rc = 0, later = *i > 0;
  char *out = NULL;
  size_t len = 0;
  struct tarz *tz;

  sync_deadline(h, h->io);
  if (!(x.c = chan(h, t, idx, level >= 0, *made)))
    return sync_fail(h, t, "sending");
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
    rc = sync_fail(h, t, "sending");
    ssh_chan_abort(x.c);
    return rc;
  }
  sync_deadline(h, h->io);    /* the rest lands, the script runs */
  rc = ssh_chan_finish(x.c, &out, &len, OUT_MAX);
  if (!rc && x.gone) rc = error("%s: sending: the host stopped reading",
                                t->dest);
  else rc = landed(h, t, rc, out, len, made);
  free(out);
  return rc;
}

/* Send the plan: compressed or not, or (auto) plain while the first
 * PROBE_BYTES show the link's speed (the 2 MB SSH window makes a slow link
 * block the writes well before that), then the rest plain, or compressed
 * in a second stream below h->slow (16 MB/s); small plans compressed. Why
 * these numbers: BENCHMARKS.md, "sync". The verdict holds for the host. */
int sync_send(struct sync_host *h, struct tree *t, int idx, struct plan *p)
{
  size_t i = 0;
  int fixed = 1, rc, *link = &h->link;
  char *made = NULL;

  if (h->compress != -1 || *link != -1 || p->bytes <= 3 * PROBE_BYTES)
    rc = stream(h, t, idx, p, &i, h->compress == 0 || *link == 1 ? -1 : 1,
                &fixed, &made);
  else if (!(rc = stream(h, t, idx, p, &i, -1, link, &made)) &&
           i < p->nsend)
    rc = stream(h, t, idx, p, &i, 1, link, &made);
  free(made);
  return rc;
}

/* One remote sha256sum run for cand[0..n): bytes of files to hash. */
static int hash_remote(struct sync_host *h, struct tree *t, struct ment **cand,
                       size_t n, int64_t bytes)
{
  struct ssh_chan *c;
  char *q = sh_quote(t->dest), *cmd, *out = NULL;
  size_t i;
  int rc;

  cmd = xasprintf("cd %s && xargs -0 sha256sum --", q);
  free(q);
  sync_deadline(h, h->io + bytes / HASH_RATE);
  c = ssh_chan_open(h->s, cmd);
  free(cmd);
  if (!c) return sync_fail(h, t, "checksum");
  for (i = 0; i < n; i++)
    if (ssh_chan_write(c, cand[i]->path, strlen(cand[i]->path) + 1)) {
      rc = sync_fail(h, t, "checksum");
      ssh_chan_abort(c);
      return rc;
    }
  rc = ssh_chan_finish(c, &out, NULL, SUMS_MAX);
  if (rc > 0)
    rc = error("%s: checksum: remote sha256sum failed (exit %d)", t->dest,
               rc);
  else if (rc < 0) rc = sync_fail(h, t, "checksum");
  else sums_parse(out, cand, n);
  free(out);
  return rc;
}

/* --checksum: hash, on both sides, the files whose sizes agree; the
 * remote side in runs whose output fits SUMS_MAX, however long the names. */
int sync_hash(struct sync_host *h, struct tree *t, struct manifest *rem)
{
  struct ment **cand, *l;
  size_t n, i, k;
  int64_t bytes;
  int rc = 0, fd;

  cand = sums_cand(&t->loc, rem, &n);
  for (i = 0; !rc && i < n; i += k) {
    k = sums_batch(cand + i, n - i, SUMS_MAX, &bytes);
    rc = hash_remote(h, t, cand + i, k, bytes);
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

