/* lib/ssh/ssh.h - the SSH layer (libssh2): one authenticated session per host,
 * pinned host keys, exec channels, atomic uploads. Used by mvm-waitinit,
 * mvm-sync, mvm-postdeploy and remote mvm-kvmcheck. */
#ifndef MVM_SSH_H
#define MVM_SSH_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

struct rec;
struct ssh;             /* one session: lib/ssh/sshint.h */
struct ssh_chan;

struct ssh_opts {
  const char *identity;  /* -i FILE, or NULL: MVM_SSH_KEY, agent,
                          * ~/.ssh/id_{ed25519,ecdsa,rsa} */
  const char *user;      /* -u USER: default for records without user=
                          * (else "mvm") */
  int timeout;           /* seconds for connect + retries while the host
                          * boots; <= 0: one attempt, 10 s connect */
  double deadline;       /* > 0: the now_s() limit instead of timeout */
};

/* Does the named provider always hand its hosts their host key (its
 * PF_PINS flag)? Then a record of it without hostkey= is refused, not
 * trusted on first use. lib/ knows no providers: applets/mvmbox.c sets it
 * to provider_pins for every applet; NULL (unit tests): never. */
extern int (*ssh_pins)(const char *provider);

/* The host key types libssh2 1.10 can verify, in the order asked for:
 * the ones OpenSSH generates first, so a pinned ed25519 key (what
 * mvm-provision hands out) is the one the server shows. Only names libssh2
 * 1.10 knows: it removes unknown ones with an overlapping memcpy. It has
 * no rsa-sha2-256/512, so an RSA key of an OpenSSH >= 8.8 server (which
 * refuses ssh-rsa, SHA-1) cannot be verified. */
#define SSH_HOSTKEY_TYPES "ssh-ed25519,ecdsa-sha2-nistp256," \
  "ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,ssh-rsa"

/* The getopt letters ssh_common_opt() handles, for an applet's optstring. */
#define SSH_OPTSTR "i:u:j:t:"

struct ssh;              /* one authenticated session to one host */
struct ssh_chan;         /* one exec channel on it */

/* Connect to r's address (host, host:port, [v6]:port) as r's user= (else
 * o->user, else "mvm"), retry with backoff+jitter until o->timeout, check
 * the host key against r's hostkey= (refuse on mismatch: MITM warning) or
 * trust on first use and rec_set(r, "hostkey", "SHA256:..."), authenticate.
 * An empty hostkey= is a malformed pin: refused before connecting.
 * Refused/timed-out connects, failed handshakes and failed auth (keys not
 * installed yet) are retried; a host key mismatch or no identity at all is
 * not. NULL with mvm.err set: "host key mismatch", "no identity: ...",
 * "empty hostkey pin ...", or
 * "timeout after Ns: CAUSE" (connection refused, auth failed for user U,
 * ssh handshake: disconnected, ...). Keepalives every 30 s once open; the
 * session fails if they go unacknowledged for 90 s. */
struct ssh *ssh_open(struct rec *r, const struct ssh_opts *o);
void ssh_close(struct ssh *s);

/* A command on an exec channel. Remote stderr is relayed to our stderr
 * line by line, prefixed by the host (info(): hidden by -q), control
 * characters made '?'. To show a command's stdout live, run "cmd 1>&2". */
struct ssh_chan *ssh_chan_open(struct ssh *s, const char *cmd);  /* NULL+err */
int ssh_chan_write(struct ssh_chan *c, const void *buf, size_t n); /* 0/-1 */
/* Send EOF, collect remote stdout into *out (malloc'd, NUL-terminated; error
 * if it passes max bytes; out may be NULL to discard), wait for exit, free
 * c. Returns the remote exit status (>= 0) or -1 on transport error
 * (mvm.err). A command killed by a signal returns 255, as ssh(1) does. */
int ssh_chan_finish(struct ssh_chan *c, char **out, size_t *outlen,
                    size_t max);
/* ssh_chan_open + ssh_chan_finish. */
int ssh_run(struct ssh *s, const char *cmd, char **out, size_t *outlen,
            size_t max);
/* Upload atomically: temp file in the same dir + rename, with mode. 0/-1. */
int ssh_put(struct ssh *s, const char *path, const void *data, size_t len,
            mode_t mode);
/* Parse the options every SSH applet shares (-i -u -j -t): returns 1 if c
 * was one of them. jobs may be NULL. */
int ssh_common_opt(int c, const char *arg, struct ssh_opts *o, int *jobs);
/* Is path an SSH public key (a "TYPE BASE64" line or a PEM/RFC 4716
 * public key) rather than a private one? For "give the private key". */
int ssh_pubkey_file(const char *path);
/* lib/ssh/sshconfig.c: what ~/.ssh/config says of a host given by name
 * (HostName, User, Port, IdentityFile; "" and 0 when it says nothing).
 * 0, or -1 (mvm.err) for a bad file or a ProxyJump/ProxyCommand. */
struct sshconf {
  char hostname[256];
  char user[64];
  int port;
  char identity[PATH_MAX];
};
int sshconf_lookup(const char *host, struct sshconf *c);
/* Quote a string for the remote sh (single quotes). malloc'd. */
char *sh_quote(const char *s);

/* Pump c for up to secs seconds (relaying stderr, buffering stdout): 1 when
 * the remote side has finished (call ssh_chan_finish), 0 when it still
 * runs, -1 on transport error (mvm.err). For progress lines while a long
 * command runs. */
int ssh_chan_poll(struct ssh_chan *c, double secs);
/* Read what the command wrote to stdout so far, waiting for some: up to n
 * bytes into buf; 0 at EOF; (size_t)-1 on transport error or deadline
 * (mvm.err). For a command that answers in steps on one channel. */
size_t ssh_chan_read(struct ssh_chan *c, char *buf, size_t n);
/* Seconds ssh_chan_write() has waited so far: with the peer's window open
 * (the socket was full) and with it shut (the remote command did not read
 * as fast as we wrote). */
void ssh_chan_waits(const struct ssh_chan *c, double *net, double *window);
/* The least round trip the kernel has seen on s's connection, in us; 0
 * if unknown (not TCP: a proxy command). Near hosts have tens of us. */
unsigned ssh_min_rtt_us(const struct ssh *s);
/* Free c without waiting for the command (it is closed on the remote). */
void ssh_chan_abort(struct ssh_chan *c);
/* Every later wait on s fails with "timeout" at now_s() >= at (0: never). */
void ssh_set_deadline(struct ssh *s, double at);

/* lib/ssh/hostkey.c: an ed25519 host key for a new host (its private
 * text goes to its cloud-init, its fingerprint is pinned in the record). */
struct hostkey {
  char *priv;           /* OpenSSH private key file text: SECRET */
  size_t privlen;
  char *pub;            /* "ssh-ed25519 AAAA... COMMENT" */
  char fp[64];          /* "SHA256:..." exactly as ssh-keygen -l prints */
};
int hostkey_generate(struct hostkey *k, const char *comment);  /* 0 or -1 */
void hostkey_clear(struct hostkey *k);     /* zeroes the private text */
/* SHA256 fingerprint of a key blob, or of an "TYPE BASE64 [COMMENT]" line
 * (also checks that the line is a well-formed public key). 0 or -1. */
int hostkey_fingerprint(const void *blob, size_t len, char *out,
                        size_t outlen);
int hostkey_pub_fingerprint(const char *line, char *out, size_t outlen);

#endif
