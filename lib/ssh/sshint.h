/* lib/ssh/sshint.h - private to lib/ssh/: the session as libssh2 sees
 * it and the helpers the ssh*.c files share (OpenSSH keeps such parts
 * behind SSHBUF_INTERNAL, curl behind vtls_int.h). Nothing outside
 * lib/ssh/ includes this or libssh2's header. */
#ifndef MVM_SSHINT_H
#define MVM_SSHINT_H

#include <libssh2.h>
#include "ssh.h"

struct ssh {
  LIBSSH2_SESSION *sess;
  int fd;
  char *addr;            /* the record's address, for messages */
  char host[256];        /* without port or brackets */
  int port;
  double deadline;       /* 0 or now_s() limit of every wait */
  double io_end;         /* the attempt's limit while connecting, or 0 */
  char pref[128];        /* host key types still to ask for */
  char seen[256];        /* keys shown that did not match the pin */
  char offered[160];     /* the keys offered, for "auth failed" */
  int banner;            /* bytes of the peer's first line so far; -1 done */
  char ioerr[96];        /* why ssh__recv() failed a read, or "" */
  unsigned char tap[4096];  /* the first bytes read: banner, KEXINIT */
  size_t taplen;
  size_t nread;          /* bytes read in this attempt */
};
#define SSH_KEEPALIVE 30        /* seconds, as ServerAliveInterval=30 */
int ssh__wait(struct ssh *s);                  /* socket ready, or -1 */
int ssh__fail(struct ssh *s, const char *what); /* -1, libssh2's reason */
int ssh__hostkey(struct ssh *s, struct rec *r, char *fp, size_t fplen);
int ssh__refuse(struct ssh *s, const char *want, const char *where);
int ssh__no_type(struct ssh *s, const char *want);
int ssh__auth(struct ssh *s, const char *user, const struct ssh_opts *o);
void ssh__fingerprint(const unsigned char *hash, char *fp, size_t fplen);
int ssh__by_name(struct ssh *s, struct sshconf *c, struct ssh_opts *o);
LIBSSH2_RECV_FUNC(ssh__recv);  /* lib/ssh/sshio.c: bounded, checked reads */
int ssh__server_hostkeys(const struct ssh *s, char *out, size_t outlen);

#endif
