/* lib/ssh/sshchan.c - exec channels on a lib/ssh/ssh.c session: run a command,
 * feed its stdin, collect its stdout, relay its stderr line by line
 * (prefixed with the host), get its exit status; upload a file atomically.
 * Non-blocking throughout: while we write stdin, stdout and stderr are
 * drained into buffers, so a chatty command cannot deadlock us. */
#include "mvm.h"
#include "sshint.h"
#include <linux/tcp.h>   /* tcpi_min_rtt: not in glibc 2.36's */
#include <netinet/in.h>
#include <sys/socket.h>

#define CHAN_OUT_MAX (64u << 20)    /* stdout buffered before finish() */
#define CHAN_LINE_MAX 1024          /* a relayed stderr line is cut here */
#define QUEUE_MIN (256u << 10)      /* stdin left unread on the host, at least */
#define QUEUE_RATE 1000             /* bytes per us of round trip: 1 GB/s */

struct ssh_chan {
  struct ssh *s;
  LIBSSH2_CHANNEL *ch;
  char *out;
  size_t len, cap;
  int toobig;
  char line[CHAN_LINE_MAX];         /* partial stderr line */
  size_t llen;
  double wait_net, wait_win;        /* ssh_chan_waits() */
  unsigned long win_max;            /* the window the host grants */
  unsigned long queue_max;          /* stdin we let wait on the host */
  int half_sent;                    /* libssh2 holds part of a packet */
};

/* Relay one stderr line, made safe for a terminal. */
static void relay(struct ssh_chan *c)
{
  size_t i;

  for (i = 0; i < c->llen; i++) {
    unsigned char ch = c->line[i];

    if ((ch < 32 && ch != '\t') || ch == 127) c->line[i] = '?';
  }
  c->line[c->llen] = 0;
  info("%s", c->line);
  c->llen = 0;
}

static void take_err(struct ssh_chan *c, const char *p, size_t n)
{
  for (; n; p++, n--) {
    if (*p == '\n') {
      relay(c);
      continue;
    }
    if (*p == '\r') continue;
    if (c->llen < CHAN_LINE_MAX - 1) c->line[c->llen++] = *p;
  }
}

static void take_out(struct ssh_chan *c, const char *p, size_t n)
{
  if (c->toobig || c->len + n > CHAN_OUT_MAX) {
    c->toobig = 1;
    return;
  }
  if (c->len + n + 1 > c->cap) {
    c->cap = (c->len + n + 1) * 2;
    if (c->cap > CHAN_OUT_MAX + 1) c->cap = CHAN_OUT_MAX + 1;
    c->out = xrealloc(c->out, c->cap);
  }
  memcpy(c->out + c->len, p, n);
  c->len += n;
}

/* Read whatever is there: 1 if anything came, 0 if nothing, -1 error. */
static int drain(struct ssh_chan *c)
{
  char buf[32768];
  ssize_t n;
  int got = 0, more = 1, i;

  /* Reading one stream can queue packets of the other: loop until a whole
   * pass finds nothing, or we would sleep on data libssh2 already holds. */
  while (more) {
    more = 0;
    for (i = 0; i < 2; i++) {
      for (;;) {
        n = i ? libssh2_channel_read_stderr(c->ch, buf, sizeof(buf))
              : libssh2_channel_read(c->ch, buf, sizeof(buf));
        if (n == LIBSSH2_ERROR_EAGAIN || n == 0) break;
        if (n < 0) return ssh__fail(c->s, "read");
        got = more = 1;
        if (i) take_err(c, buf, n);
        else take_out(c, buf, n);
      }
    }
  }
  return got;
}

unsigned ssh_min_rtt_us(const struct ssh *s)
{
  struct tcp_info ti = { 0 };
  socklen_t len = sizeof(ti);

  if (getsockopt(s->fd, IPPROTO_TCP, TCP_INFO, &ti, &len)) return 0;
  return ti.tcpi_min_rtt;
}

/* How much of a command's stdin may wait on the host, sent and not yet
 * read by the command. OpenSSH's sshd keeps it in one buffer that it
 * grows, by copying it whole, for every packet that arrives before the
 * command has read half of it: with its 2 MB window full (a host that
 * unpacks slower than we send: loopback, a LAN) that copying was 40% of
 * sshd's CPU and half the time of an initial mvm-sync. A far host's queue
 * is the network's: enough to move 1 GB/s over the round trip (2 MB, the
 * whole window, at 2 ms) is never less than it needs. */
static unsigned long queue_max(const struct ssh *s)
{
  unsigned long q = (unsigned long)ssh_min_rtt_us(s) * QUEUE_RATE;

  if (!q) return ULONG_MAX;     /* not TCP (a proxy command): no limit */
  return q < QUEUE_MIN ? QUEUE_MIN : q;
}

struct ssh_chan *ssh_chan_open(struct ssh *s, const char *cmd)
{
  struct ssh_chan *c;
  LIBSSH2_CHANNEL *ch;
  int rc;

  debug("run: %s", cmd);
  while (!(ch = libssh2_channel_open_session(s->sess))) {
    if (libssh2_session_last_errno(s->sess) != LIBSSH2_ERROR_EAGAIN) {
      ssh__fail(s, "open channel");
      return NULL;
    }
    if (ssh__wait(s)) return NULL;
  }
  while ((rc = libssh2_channel_exec(ch, cmd)) == LIBSSH2_ERROR_EAGAIN)
    if (ssh__wait(s)) break;
  if (rc) {
    if (rc != LIBSSH2_ERROR_EAGAIN) ssh__fail(s, "exec");
    libssh2_channel_free(ch);
    return NULL;
  }
  c = xzalloc(sizeof(*c));
  c->s = s;
  c->ch = ch;
  c->queue_max = queue_max(s);
  return c;
}

int ssh_chan_write(struct ssh_chan *c, const void *buf, size_t n)
{
  const char *p = buf;
  unsigned long win;
  double t0;
  ssize_t w;
  int got, queued;

  while (n) {
    win = libssh2_channel_window_write(c->ch);
    if (win > c->win_max) c->win_max = win;
    /* Queued on the host past queue_max(): wait as for a full window. Not
     * while libssh2 holds a packet half sent (our last write's EAGAIN):
     * only this call finishes it, and the host would wait for it. */
    queued = !c->half_sent && c->win_max - win > c->queue_max;
    w = queued ? LIBSSH2_ERROR_EAGAIN : libssh2_channel_write(c->ch, p, n);
    if (!queued) c->half_sent = w == LIBSSH2_ERROR_EAGAIN;
    if (w > 0) {
      p += w;
      n -= w;
      continue;
    }
    if (w != LIBSSH2_ERROR_EAGAIN) return ssh__fail(c->s, "write");
    /* Window full: the remote may be blocked writing to us. Reading can
     * also bring the window adjust we wait for: then write at once, as
     * nothing more will arrive until we do. */
    if ((got = drain(c)) < 0) return -1;
    if (got || libssh2_channel_window_write(c->ch) > win) continue;
    /* It ended (a failed step before the one that reads): no window
     * adjust will come. ssh_chan_finish() then gets its status. */
    if (libssh2_channel_eof(c->ch))
      return error("the remote command ended before reading its input");
    t0 = now_s();
    if (ssh__wait(c->s)) return -1;
    *(win && !queued ? &c->wait_net : &c->wait_win) += now_s() - t0;
  }
  return 0;
}

void ssh_chan_waits(const struct ssh_chan *c, double *net, double *window)
{
  *net = c->wait_net;
  *window = c->wait_win;
}

int ssh_chan_poll(struct ssh_chan *c, double secs)
{
  double end = now_s() + secs, save = c->s->deadline;
  int rc = 0;

  if (!save || save > end) c->s->deadline = end;
  for (;;) {
    if (drain(c) < 0) { rc = -1; break; }
    if (libssh2_channel_eof(c->ch)) { rc = 1; break; }
    if (now_s() >= end && (!save || now_s() < save)) break;  /* quietly */
    if (ssh__wait(c->s)) {
      if (save && now_s() >= save) rc = -1;    /* the real deadline */
      break;
    }
  }
  c->s->deadline = save;
  return rc;
}

size_t ssh_chan_read(struct ssh_chan *c, char *buf, size_t n)
{
  size_t k;
  int got;

  while (!c->len) {
    if ((got = drain(c)) < 0) return (size_t)-1;
    if (got) continue;
    if (libssh2_channel_eof(c->ch)) return 0;
    if (ssh__wait(c->s)) return (size_t)-1;
  }
  k = c->len < n ? c->len : n;
  memcpy(buf, c->out, k);
  memmove(c->out, c->out + k, c->len - k);
  c->len -= k;
  return k;
}

static void chan_free(struct ssh_chan *c)
{
  if (c->ch) {
    libssh2_channel_free(c->ch);
  }
  free(c->out);
  free(c);
}

void ssh_chan_abort(struct ssh_chan *c)
{
  if (!c) return;
  libssh2_channel_close(c->ch);
  chan_free(c);
}

int ssh_chan_finish(struct ssh_chan *c, char **out, size_t *outlen,
                    size_t max)
{
  char *sig = NULL;
  int rc;

  if (out) *out = NULL;
  if (outlen) *outlen = 0;
  while ((rc = libssh2_channel_send_eof(c->ch)) == LIBSSH2_ERROR_EAGAIN) {
    if (drain(c) < 0 || ssh__wait(c->s)) goto fail;
  }
  if (rc && rc != LIBSSH2_ERROR_SOCKET_SEND) {
    ssh__fail(c->s, "send eof");
    goto fail;
  }
  while ((rc = ssh_chan_poll(c, 3600)) == 0)
    ;
  if (rc < 0) goto fail;
  while ((rc = libssh2_channel_close(c->ch)) == LIBSSH2_ERROR_EAGAIN)
    if (ssh__wait(c->s)) goto fail;
  while ((rc = libssh2_channel_wait_closed(c->ch)) == LIBSSH2_ERROR_EAGAIN)
    if (ssh__wait(c->s)) goto fail;
  if (c->llen) relay(c);
  rc = libssh2_channel_get_exit_status(c->ch);
  libssh2_channel_get_exit_signal(c->ch, &sig, NULL, NULL, NULL, NULL, NULL);
  if (sig) {
    debug("remote command killed by SIG%s", sig);
    libssh2_free(c->s->sess, sig);
    rc = 255;
  }
  if (out && (c->toobig || c->len > max)) {
    error("remote output larger than %zu bytes", max);
    goto fail;
  }
  if (out) {
    *out = c->out ? c->out : xstrdup("");
    if (c->out) c->out[c->len] = 0;
    if (outlen) *outlen = c->len;
    c->out = NULL;
  }
  chan_free(c);
  return rc;
fail:
  if (c->llen) relay(c);
  chan_free(c);
  return -1;
}

int ssh_run(struct ssh *s, const char *cmd, char **out, size_t *outlen,
            size_t max)
{
  struct ssh_chan *c = ssh_chan_open(s, cmd);

  if (!c) return -1;
  return ssh_chan_finish(c, out, outlen, max);
}

/* Upload: write a temp file next to path, check its size, chmod, rename. */
int ssh_put(struct ssh *s, const char *path, const void *data, size_t len,
            mode_t mode)
{
  const char *slash = strrchr(path, '/');
  char *dir = slash ? xstrndup(path, slash == path ? 1 : slash - path)
                    : xstrdup(".");
  char *qdir = sh_quote(dir), *qpath = sh_quote(path), *cmd;
  struct ssh_chan *c;
  int rc = -1;

  cmd = xasprintf("t=$(mktemp %s/.mvm-put.XXXXXX) || exit 1; "
                  "if cat > \"$t\" && [ \"$(wc -c < \"$t\")\" -eq %zu ] && "
                  "chmod %o \"$t\" && mv -f \"$t\" %s; then exit 0; fi; "
                  "rm -f \"$t\"; exit 1", qdir, len,
                  (unsigned)(mode & 07777), qpath);
  if ((c = ssh_chan_open(s, cmd))) {
    if (ssh_chan_write(c, data, len)) ssh_chan_abort(c);
    else if ((rc = ssh_chan_finish(c, NULL, NULL, 0)) > 0)
      rc = error("cannot upload %s (remote exit %d)", path, rc);
    else if (rc < 0) rc = -1;
  }
  free(dir);
  free(qdir);
  free(qpath);
  free(cmd);
  return rc;
}
