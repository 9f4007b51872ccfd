/* lib/ssh/sshio.c - the bottom of lib/ssh/: waiting on a session's socket
 * (with keepalives, to its deadline), libssh2's failures in our words,
 * and the reader libssh2 uses for every session (LIBSSH2_CALLBACK_RECV).
 * libssh2 1.10 waits (and times out) only when the socket would block,
 * so a peer that keeps sending would hold it
 * forever at full CPU; here every read checks the deadline, the peer's
 * first line must be an SSH banner of at most 255 bytes (RFC 4253 4.2), at
 * most 256 KiB may come before login, and the first bytes are kept to
 * read the server's KEXINIT. */
#include "mvm.h"
#include "sshint.h"
#include <sys/socket.h>

#define BANNER_MAX 255
/* What a peer may send before we are logged in: a handshake and a login
 * take a few KiB, so more is a peer keeping us busy, not a server. */
#define PRELOGIN_MAX (256 * 1024)

/* Fail the read: the reason goes to s->ioerr for ssh__fail(). */
static ssize_t io_fail(struct ssh *s, int e, const char *fmt, const char *a)
{
  snprintf(s->ioerr, sizeof(s->ioerr), fmt, a);
  errno = e;              /* for any code that looks at errno, not -e */
  return -e;
}

/* What the peer sent instead of a banner (what was read and what waits),
 * printable, for the message. */
static const char *shown(const struct ssh *s, int fd, char *buf, size_t len)
{
  unsigned char more[24];
  size_t i, n = s->taplen < len - 1 ? s->taplen : len - 1;
  ssize_t k = recv(fd, more, sizeof(more), MSG_PEEK | MSG_DONTWAIT);

  memcpy(buf, s->tap, n);
  for (i = 0; k > 0 && n < len - 1 && i < (size_t)k; i++) buf[n++] = more[i];
  for (i = 0; i < n && buf[i] != '\n' && buf[i] != '\r'; i++)
    if ((unsigned char)buf[i] < 32 || (unsigned char)buf[i] >= 127)
      buf[i] = '?';
  buf[i] = 0;
  return buf;
}

/* Check the bytes of the peer's first line as they arrive. */
static ssize_t banner_check(struct ssh *s, int fd, const unsigned char *p,
                            size_t n)
{
  static const char want[] = "SSH-";
  char what[24];
  size_t i;

  for (i = 0; i < n && s->banner >= 0; i++) {
    if (s->banner < 4 && p[i] != (unsigned char)want[s->banner])
      return io_fail(s, EPROTO, "no SSH banner (the peer sent '%s')",
                     shown(s, fd, what, sizeof(what)));
    if (p[i] == '\n') {
      s->banner = -1;
      break;
    }
    if (++s->banner > BANNER_MAX)
      return io_fail(s, EPROTO, "SSH banner longer than %s bytes", "255");
  }
  return 0;
}

LIBSSH2_RECV_FUNC(ssh__recv)
{
  struct ssh *s = *abstract;
  ssize_t n;
  size_t k;

  /* Only while connecting: an open session's waits are ssh__wait()'s. */
  if (s->io_end > 0 && now_s() >= s->io_end)
    return io_fail(s, ETIMEDOUT, "%s", "timeout");
  n = recv(socket, buffer, length, flags);
  if (n < 0) return -errno;
  if (s->io_end > 0 && (s->nread += n) > PRELOGIN_MAX)
    return io_fail(s, EPROTO, "%s", "more than 256 KiB from the peer "
                   "before login");
  if (s->taplen < sizeof(s->tap)) {
    k = sizeof(s->tap) - s->taplen < (size_t)n ? sizeof(s->tap) - s->taplen
                                                : (size_t)n;
    memcpy(s->tap + s->taplen, buffer, k);
    s->taplen += k;
  }
  if (n > 0 && s->banner >= 0 && banner_check(s, socket, buffer, n)) return -EPROTO;
  return n;
}

static uint32_t get32(const unsigned char *p)
{
  return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/* The server's host key algorithms from its KEXINIT (the first packet
 * after the banner, unencrypted), into out; 0, or -1 if not seen. */
int ssh__server_hostkeys(const struct ssh *s, char *out, size_t outlen)
{
  const unsigned char *p = s->tap, *end = s->tap + s->taplen, *nl;
  uint32_t plen, len;

  if (!(nl = memchr(p, '\n', s->taplen))) return -1;
  p = nl + 1;
  /* length, padding length, SSH_MSG_KEXINIT (20), 16-byte cookie */
  if (end - p < 4 + 1 + 1 + 16 + 4) return -1;
  plen = get32(p);
  if (p[5] != 20 || plen > (size_t)(end - p) - 4) return -1;
  end = p + 4 + plen;
  p += 4 + 1 + 1 + 16;
  len = get32(p);                       /* kex_algorithms: skip */
  if (len > (size_t)(end - p) - 4) return -1;
  p += 4 + len;
  if (end - p < 4) return -1;
  len = get32(p);                       /* server_host_key_algorithms */
  if (len > (size_t)(end - p) - 4 || len >= outlen) return -1;
  memcpy(out, p + 4, len);
  out[len] = 0;
  return 0;
}

/* libssh2's reason for the last failure, in our words. */
int ssh__fail(struct ssh *s, const char *what)
{
  char *msg = NULL;
  int rc = libssh2_session_last_error(s->sess, &msg, NULL, 0);

  if (*s->ioerr) return error("%s: %s", what, s->ioerr);   /* ours */
  switch (rc) {
  case LIBSSH2_ERROR_SOCKET_DISCONNECT:
  case LIBSSH2_ERROR_SOCKET_RECV:
  case LIBSSH2_ERROR_SOCKET_SEND:
  case LIBSSH2_ERROR_BANNER_RECV:
  case LIBSSH2_ERROR_BANNER_SEND:
    return error("%s: disconnected", what);
  case LIBSSH2_ERROR_TIMEOUT:
    return error("%s: timeout", what);
  }
  return error("%s: %s", what, msg && *msg ? msg : "ssh error");
}

/* Wait until the socket is ready the way libssh2 needs it, sending
 * keepalives; -1 "timeout" at the deadline. */
int ssh__wait(struct ssh *s)
{
  struct pollfd p = { .fd = s->fd };
  int dir = libssh2_session_block_directions(s->sess), next = SSH_KEEPALIVE;
  double ms = next * 1000.0, end = s->io_end > 0 ? s->io_end : s->deadline;

  if (libssh2_keepalive_send(s->sess, &next) == 0 && next > 0)
    ms = next * 1000.0;
  if (end > 0) {
    double left = (end - now_s()) * 1000.0;

    if (left <= 0) return error("timeout");
    if (left < ms) ms = left;
  }
  if (dir & LIBSSH2_SESSION_BLOCK_INBOUND) p.events |= POLLIN;
  if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND) p.events |= POLLOUT;
  if (!p.events) p.events = POLLIN;
  if (poll(&p, 1, (int)ms + 1) < 0 && errno != EINTR)
    return error("poll: %s", strerror(errno));
  return 0;
}
