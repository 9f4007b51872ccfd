/* lib/ssh/sshauth.c - public-key authentication for lib/ssh/ssh.c: the -i file,
 * else MVM_SSH_KEY, else ssh-agent (SSH_AUTH_SOCK) and ~/.ssh/id_ed25519,
 * id_ecdsa, id_rsa (OpenSSH key format). Runs on the non-blocking session
 * of an attempt, waiting in ssh__wait() until the attempt's end. Never
 * prints or copies key material. */
#include "mvm.h"
#include "sshint.h"

/* Name a key we offer, for the message if all are refused. */
static void offer(struct ssh *s, const char *what)
{
  size_t n = strlen(s->offered);

  snprintf(s->offered + n, sizeof(s->offered) - n, "%s%s", n ? ", " : "",
           what);
}

static int refused(struct ssh *s, const char *user)
{
  return error("auth failed for user %s (offered %s)", user,
               *s->offered ? s->offered : "no key");
}

/* -1: retry later (keys may not be installed yet); -2: give up. */
static int auth_fail(struct ssh *s, const char *user, int rc,
                     const char *what)
{
  if (rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED ||
      rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED)
  {
    debug("key %s refused", what);
    return refused(s, user);
  }
  if (rc == LIBSSH2_ERROR_FILE) {
    if (ssh_pubkey_file(what))
      error("key %s is a public key: give the private key", what);
    else
      error("cannot use key %s (unreadable, encrypted or unsupported)", what);
    return -2;
  }
  return ssh__fail(s, "authentication");
}

static int try_agent(struct ssh *s, const char *user, int *tried)
{
  struct libssh2_agent_publickey *id = NULL, *prev = NULL;
  LIBSSH2_AGENT *a;
  int rc = -1, e;

  if (!getenv("SSH_AUTH_SOCK")) return -1;
  if (!(a = libssh2_agent_init(s->sess))) return -1;
  if (libssh2_agent_connect(a) || libssh2_agent_list_identities(a))
    goto out;
  while (libssh2_agent_get_identity(a, &id, prev) == 0) {
    char what[80];

    (*tried)++;
    snprintf(what, sizeof(what), "agent:%s", id->comment && *id->comment ?
             id->comment : "key");
    offer(s, what);
    while ((e = libssh2_agent_userauth(a, user, id)) == LIBSSH2_ERROR_EAGAIN)
      if (ssh__wait(s)) break;
    if (!e) {
      rc = 0;
      break;
    }
    if (e == LIBSSH2_ERROR_EAGAIN) {
      error("authentication: timeout");
      rc = -1;
      goto timeout;
    }
    e = libssh2_session_last_errno(s->sess);
    if (e != LIBSSH2_ERROR_AUTHENTICATION_FAILED &&
        e != LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED &&
        e != LIBSSH2_ERROR_AGENT_PROTOCOL)
      break;
    prev = id;
  }
  if (rc) refused(s, user);
timeout:
  libssh2_agent_disconnect(a);
out:
  libssh2_agent_free(a);
  return rc;
}

static int try_file(struct ssh *s, const char *user, const char *path)
{
  int rc;

  offer(s, path);
  while ((rc = libssh2_userauth_publickey_fromfile_ex(s->sess, user,
                 strlen(user), NULL, path, NULL)) == LIBSSH2_ERROR_EAGAIN)
    if (ssh__wait(s)) return error("authentication: timeout");
  if (!rc) return 0;
  return auth_fail(s, user, rc, path);
}

int ssh__auth(struct ssh *s, const char *user, const struct ssh_opts *o)
{
  static const char *const def[] = { "id_ed25519", "id_ecdsa", "id_rsa" };
  const char *file = o->identity, *home = getenv("HOME"), *list;
  char path[PATH_MAX];
  int tried = 0, rc = -1;
  size_t i;

  *s->offered = 0;
  if (!file) file = getenv("MVM_SSH_KEY");
  if (file && *file) return try_file(s, user, file);
  while (!(list = libssh2_userauth_list(s->sess, user, strlen(user))) &&
         libssh2_session_last_errno(s->sess) == LIBSSH2_ERROR_EAGAIN)
    if (ssh__wait(s)) return error("authentication: timeout");
  if (!list) {
    if (libssh2_userauth_authenticated(s->sess)) return 0;
    return ssh__fail(s, "authentication");
  }
  if (!strstr(list, "publickey")) {
    error("server offers no public-key authentication (%s)", list);
    return -2;
  }
  if (!try_agent(s, user, &tried)) return 0;
  for (i = 0; home && i < ARRAY_LEN(def); i++) {
    snprintf(path, sizeof(path), "%s/.ssh/%s", home, def[i]);
    if (access(path, R_OK)) continue;
    tried++;
    if (!(rc = try_file(s, user, path))) return 0;
    if (rc == -1 && !strncmp(mvm.err, "auth failed", 11)) continue;
    return rc;
  }
  if (!tried) {
    error("no identity: use -i FILE, MVM_SSH_KEY or ssh-agent");
    return -2;
  }
  return refused(s, user);
}

int ssh_pubkey_file(const char *path)
{
  static const char *const pem[] = { "-----BEGIN PUBLIC KEY-----",
                                     "---- BEGIN SSH2 PUBLIC KEY ----" };
  char buf[64], *sp;
  ssize_t n;
  size_t i;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

  if (fd < 0) return 0;
  n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  for (i = 0; i < ARRAY_LEN(pem); i++)
    if (!strncmp(buf, pem[i], strlen(pem[i]))) return 1;
  /* "ssh-ed25519 AAAA...", "ecdsa-sha2-nistp256 AAAA...", "sk-...": a
   * type of [a-z0-9@.-], a space, then base64 of the blob ("AAAA") */
  sp = buf + strspn(buf, "abcdefghijklmnopqrstuvwxyz0123456789@.-");
  return sp > buf && *sp == ' ' && !strncmp(sp + 1, "AAAA", 4);
}
