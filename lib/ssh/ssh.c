/* lib/ssh/ssh.c - SSH sessions over libssh2: TCP connect with a timeout,
 * retries with backoff and jitter while a host boots, handshake, host-key
 * check (lib/ssh/sshkey.c), authentication (lib/ssh/sshauth.c), keepalives,
 * and the options every SSH applet shares. Channels are in
 * lib/ssh/sshchan.c. Per-host code: returns -1 with mvm.err, never dies,
 * never prints key material. */
#include "mvm.h"
#include "sshint.h"
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#define SSH_ATTEMPT_MAX 30.0    /* one connect + handshake + auth attempt */
#define SSH_ATTEMPT_MIN 0.3     /* no attempt starts with less time left */

int (*ssh_pins)(const char *provider);

void ssh_set_deadline(struct ssh *s, double at)
{
  s->deadline = at;
}

/* One TCP connection with a timeout; -1 with the cause in mvm.err. */
static int tcp_connect(const char *host, int port, double deadline)
{
  struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
                            .ai_flags = AI_NUMERICSERV }, *res, *ai;
  char serv[16];
  int fd = -1, rc, e = 0, one = 1;
  unsigned user_timeout = 3 * SSH_KEEPALIVE * 1000;

  snprintf(serv, sizeof(serv), "%d", port);
  if ((rc = getaddrinfo(host, serv, &hints, &res)))
    return error("cannot resolve %s: %s", host, gai_strerror(rc));
  for (ai = res; ai; ai = ai->ai_next) {
    struct pollfd p = { .events = POLLOUT };
    socklen_t len = sizeof(e);
    double left = deadline - now_s();

    if (left <= 0) { e = ETIMEDOUT; break; }
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                ai->ai_protocol);
    if (fd < 0) { e = errno; continue; }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS) {
      e = errno;
    } else {
      p.fd = fd;
      rc = poll(&p, 1, (int)(left * 1000) + 1);
      if (rc == 0) e = ETIMEDOUT;
      else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len)) e = errno;
    }
    if (!e) break;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    if (e == ECONNREFUSED) return error("connection refused");
    if (e == ETIMEDOUT) return error("connect timeout");
    return error("connect: %s", strerror(e ? e : EHOSTUNREACH));
  }
  /* libssh2 waits on the socket itself; keep it plain. */
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
  /* A peer that vanished (NAT drop, host off) fails the connection once
   * our keepalives go unacknowledged this long, instead of ~15 min. */
  setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout,
             sizeof(user_timeout));
  return fd;
}

static void session_drop(struct ssh *s, const char *why)
{
  if (s->sess) {
    libssh2_session_set_blocking(s->sess, 1);
    libssh2_session_set_timeout(s->sess, 2000);
    libssh2_session_disconnect(s->sess, why);
    libssh2_session_free(s->sess);
  }
  if (s->fd >= 0) close(s->fd);
  s->sess = NULL;
  s->fd = -1;
}

/* One attempt: connect, handshake, host key, auth. 0, -1 (retry), -2
 * (do not retry: host key refused, no identity), or -3 (the server's key
 * of one type does not match the pin: ask for its other types at once). */
static int attempt(struct ssh *s, struct rec *r, const char *user,
                   const struct ssh_opts *o, double deadline)
{
  char fp[128];
  double end = now_s() + SSH_ATTEMPT_MAX;
  int rc;

  if (end > deadline) end = deadline;
  status("connecting");
  if ((s->fd = tcp_connect(s->host, s->port, end)) < 0) return -1;
  if (!(s->sess = libssh2_session_init_ex(NULL, NULL, NULL, s)))
    return error("out of memory");
  /* every read bounded by the attempt's end: lib/ssh/sshio.c */
  s->io_end = end;
  s->banner = 0;
  s->taplen = s->nread = 0;
  *s->ioerr = 0;
  libssh2_session_callback_set(s->sess, LIBSSH2_CALLBACK_RECV,
                               (void *)ssh__recv);
  /* Non-blocking, waits in ssh__wait() to io_end: libssh2's own timeout
   * counts whole seconds of time() and ends up to 1 s early. */
  libssh2_session_set_blocking(s->sess, 0);
  libssh2_session_method_pref(s->sess, LIBSSH2_METHOD_HOSTKEY, s->pref);
  while ((rc = libssh2_session_handshake(s->sess, s->fd)) ==
         LIBSSH2_ERROR_EAGAIN)
    if (ssh__wait(s)) return error("ssh handshake: %s", "timeout");
  if (rc) {
    /* no host key type both sides know (any more) */
    if (rc == LIBSSH2_ERROR_KEX_FAILURE)
      return ssh__no_type(s, rec_get(r, "hostkey"));
    return ssh__fail(s, "ssh handshake");
  }
  if ((rc = ssh__hostkey(s, r, fp, sizeof(fp)))) return rc;
  status("authenticating");
  if ((rc = ssh__auth(s, user, o))) return rc;
  if (!rec_get(r, "hostkey")) {
    const char *type = libssh2_session_methods(s->sess,
                                               LIBSSH2_METHOD_HOSTKEY);

    info("no hostkey= in the record: trusting %s (%s) on first use", fp,
         type ? type : "?");
    rec_set(r, "hostkey", "%s", fp);
  }
  /* Not before the handshake: libssh2 1.10 then fails the key exchange. */
  libssh2_keepalive_config(s->sess, 1, SSH_KEEPALIVE);
  s->io_end = 0;
  return 0;
}

/* -1 (mvm.err) if ssh_open() must give up before any connection. */
static int refuse_early(const struct rec *r)
{
  const char *pin = rec_get(r, "hostkey"), *prov = rec_get(r, "provider");

  /* An empty hostkey= is a pin gone wrong upstream (a provider that lost
   * the key, a hand-edited record), not "no pin": trusting on first use
   * here would hide that, so refuse rather than connect unpinned. */
  if (pin && !*pin)
    return error("empty hostkey pin in the record: refusing to connect "
                 "unpinned");
  /* The same for a provider that always hands out the host key. */
  if (!pin && prov && ssh_pins && ssh_pins(prov))
    return error("no hostkey= in a record of provider %s, which always "
                 "pins: refusing to trust on first use", prov);
  return 0;
}

struct ssh *ssh_open(struct rec *r, const struct ssh_opts *o)
{
  struct ssh *s = xzalloc(sizeof(*s));
  const char *user = rec_get(r, "user"), *stage = rec_get(r, "stage");
  double start = now_s(), deadline, delay = 0.25, left;
  static int inited;
  int rc, tries = 0, told = 0;
  char last[sizeof(mvm.err)] = "";
  struct sshconf conf;
  struct ssh_opts lo;

  lo = *o;
  deadline = o->deadline > 0 ? o->deadline
                             : start + (o->timeout > 0 ? o->timeout : 10);
  s->fd = -1;
  s->addr = xstrdup(r->addr ? r->addr : "");
  snprintf(s->pref, sizeof(s->pref), "%s", SSH_HOSTKEY_TYPES);
  if (refuse_early(r)) goto fail;
  if (rec_hostport(r, s->host, sizeof(s->host), &s->port, 0)) goto fail;
  if (ssh__by_name(s, &conf, &lo)) goto fail;
  if (!s->port) s->port = 22;
  if (!user || !*user) user = o->user ? o->user : *conf.user ? conf.user
                                                             : "mvm";
  mvm.err[0] = 0;      /* a libssh2 that cannot load says so (lazyssh2.c) */
  if (!inited && libssh2_init(0)) {
    if (!*mvm.err) error("cannot initialise libssh2");
    goto fail;
  }
  if (!inited) srandom(getpid() ^ (unsigned)(start * 1e6));  /* jitter */
  inited = 1;
  for (;;) {
    tries++;
    if (!(rc = attempt(s, r, user, &lo, deadline))) break;
    session_drop(s, "retry");
    if (rc == -3) continue;
    if (rc == -2 || o->timeout <= 0) goto fail;
    /* A host past stage init has its keys: a refusal will not change. */
    if (stage && *stage && !strncmp(mvm.err, "auth failed", 11)) {
      snprintf(last, sizeof(last), "%s", mvm.err);
      error("%s; not retried: the record is at stage=%s", last, stage);
      goto fail;
    }
    /* An attempt the deadline cut short says only "timeout": the cause
     * is what the last complete attempt failed of. */
    if (now_s() < deadline - 0.01 || !*last)
      snprintf(last, sizeof(last), "%s", mvm.err);
    /* Leave the last attempt a fair chance, or its cause would be a
     * meaningless "connect timeout". */
    left = deadline - now_s() - SSH_ATTEMPT_MIN;
    if (left <= 0) {
      error("timeout after %.0fs: %s", now_s() - start, last);
      goto fail;
    }
    if (!told && !strncmp(mvm.err, "auth failed", 11)) {
      info("%s: retrying until the timeout (keys may not be installed yet)",
           mvm.err);
      told = 1;
    }
    status("waiting for ssh (%s) %.0fs", mvm.err, now_s() - start);
    debug("attempt %d: %s", tries, mvm.err);
    delay *= 1.0 + (double)(random() % 1000) / 2000.0;   /* jitter */
    if (delay > left) delay = left;
    usleep((useconds_t)(delay * 1e6));
    delay = delay * 2 > 5 ? 5 : delay * 2;
  }
  debug("connected as %s after %d attempt(s), %.2fs", user, tries,
        now_s() - start);
  return s;
fail:
  ssh_close(s);
  return NULL;
}

void ssh_close(struct ssh *s)
{
  if (!s) return;
  session_drop(s, "bye");
  free(s->addr);
  free(s);
}

int ssh_common_opt(int c, const char *arg, struct ssh_opts *o, int *jobs)
{
  switch (c) {
  case 'i': {
    size_t n = strlen(arg);

    if (access(arg, R_OK)) pdie("cannot read identity '%s'", arg);
    if (ssh_pubkey_file(arg) && n > 4 && !strcmp(arg + n - 4, ".pub"))
      die("identity '%s' is a public key: give the private key (-i %.*s)",
          arg, (int)n - 4, arg);
    if (ssh_pubkey_file(arg))
      die("identity '%s' is a public key: give the private key", arg);
    o->identity = arg;
    return 1;
  }
  case 'u':
    if (!*arg || strpbrk(arg, " \t\n:@/")) die("bad user '%s'", arg);
    o->user = arg;
    return 1;
  case 'j':
    if (!jobs) return 0;
    *jobs = xatoi_range(arg, 1, 1000);
    return 1;
  case 't': {
    char num[32];
    size_t n = strlen(arg);
    int mul = 1;

    if (n && n < sizeof(num) && strchr("smh", arg[n - 1])) {
      mul = arg[n - 1] == 'h' ? 3600 : arg[n - 1] == 'm' ? 60 : 1;
      n--;
    }
    snprintf(num, sizeof(num), "%.*s", (int)n, arg);
    o->timeout = xatoi_range(num, 1, 7 * 24 * 3600 / mul) * mul;
    return 1;
  }
  }
  return 0;
}

char *sh_quote(const char *s)
{
  size_t n = 3;
  const char *p;
  char *q, *out;

  for (p = s; *p; p++) n += *p == '\'' ? 4 : 1;
  q = out = xmalloc(n);
  *q++ = '\'';
  for (p = s; *p; p++) {
    if (*p == '\'') {
      memcpy(q, "'\\''", 4);
      q += 4;
    } else {
      *q++ = *p;
    }
  }
  *q++ = '\'';
  *q = 0;
  return out;
}
