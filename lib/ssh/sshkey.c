/* lib/ssh/sshkey.c - host-key checks for lib/ssh/ssh.c: the server's key
 * must match the record's hostkey=SHA256:... (and MVM_KNOWN_HOSTS when set),
 * else the connection is refused with a MITM warning; never "accept anyway".
 * A record without hostkey= is trusted on first use by ssh_open(). Never
 * writes ~/.ssh/known_hosts: providers reuse IP addresses. */
#include "mvm.h"
#include "sshint.h"

/* Is fp one of the comma-separated fingerprints in list? */
static int pinned(const char *list, const char *fp)
{
  size_t n = strlen(fp);
  const char *p = list;

  while (p && *p) {
    if (!strncmp(p, fp, n) && (p[n] == ',' || !p[n])) return 1;
    p = strchr(p, ',');
    if (p) p++;
  }
  return 0;
}

/* The refusal: loud, final, never "accept anyway". -2. */
int ssh__refuse(struct ssh *s, const char *want, const char *where)
{
  warn("WARNING: HOST KEY MISMATCH for %s: someone may be intercepting "
       "the connection (man-in-the-middle), or the host was replaced",
       s->addr);
  warn("%s pins %s, the server shows %s; refusing to connect", where,
       want ? want : "another key", s->seen);
  error("host key mismatch");
  return -2;
}

/* The handshake found no host key type left that both sides know. If the
 * server (its KEXINIT) offers types libssh2 cannot verify, say so rather
 * than cry MITM: the pin may well be of that key. Else, with keys shown
 * and refused, it is the mismatch. -2, or -1 (retry) when nothing was
 * shown and the server's offer is unknown. */
int ssh__no_type(struct ssh *s, const char *want)
{
  char algs[512], other[256] = "", pat[128], *a, *save = NULL;
  size_t n;

  if (!ssh__server_hostkeys(s, algs, sizeof(algs)))
    for (a = strtok_r(algs, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
      snprintf(pat, sizeof(pat), ",%s,", a);
      if (!strstr("," SSH_HOSTKEY_TYPES ",", pat)) {
        n = strlen(other);
        snprintf(other + n, sizeof(other) - n, "%s%s", n ? "/" : "", a);
      }
    }
  if (*other) {
    if (*s->seen)
      warn("the server's %s did not match the pin %s", s->seen,
           want ? want : "");
    error("host key cannot be verified here: the server's %s key is of a "
          "type libssh2 %s cannot check; it checks ssh-ed25519, "
          "ecdsa-sha2-*, ssh-rsa (SHA-1)", other, LIBSSH2_VERSION);
    return -2;
  }
  if (*s->seen) return ssh__refuse(s, want, "the record");
  return ssh__fail(s, "ssh handshake");
}

/* Note a key that is not the pinned one and drop its type from the types
 * to ask for; -3 to ask again for another type, -2 (refused) when the
 * server has shown all it has. */
static int mismatch(struct ssh *s, const char *fp, const char *want,
                    const char *where)
{
  const char *type = libssh2_session_methods(s->sess, LIBSSH2_METHOD_HOSTKEY);
  char *p, *next;
  size_t n = strlen(s->seen);

  snprintf(s->seen + n, sizeof(s->seen) - n, "%s%s (%s)", n ? ", " : "", fp,
           type ? type : "?");
  if (!type || !where || !(p = strstr(s->pref, type)))
    return ssh__refuse(s, want, where ? where : "MVM_KNOWN_HOSTS");
  next = p + strlen(type);
  memmove(p, *next == ',' ? next + 1 : next, strlen(next) + 1);
  n = strlen(s->pref);
  if (n && s->pref[n - 1] == ',') s->pref[n - 1] = 0;
  if (!*s->pref) return ssh__refuse(s, want, where);
  debug("%s key %s is not the pinned one: asking for %s", type, fp, s->pref);
  return -3;
}

/* MVM_KNOWN_HOSTS: 0 matched or not listed, -2 listed with another key. */
static int known_hosts(struct ssh *s, const char *key, size_t len, int type,
                       const char *fp)
{
  const char *file = getenv("MVM_KNOWN_HOSTS");
  LIBSSH2_KNOWNHOSTS *kh;
  struct libssh2_knownhost *found = NULL;
  int rc, mask;

  if (!file || !*file) return 0;
  if (!(kh = libssh2_knownhost_init(s->sess))) return error("out of memory");
  if (libssh2_knownhost_readfile(kh, file, LIBSSH2_KNOWNHOST_FILE_OPENSSH)
      < 0) {
    libssh2_knownhost_free(kh);
    error("cannot read MVM_KNOWN_HOSTS '%s'", file);
    return -2;
  }
  mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW;
  switch (type) {
  case LIBSSH2_HOSTKEY_TYPE_RSA: mask |= LIBSSH2_KNOWNHOST_KEY_SSHRSA; break;
  case LIBSSH2_HOSTKEY_TYPE_ED25519:
    mask |= LIBSSH2_KNOWNHOST_KEY_ED25519; break;
  case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:
    mask |= LIBSSH2_KNOWNHOST_KEY_ECDSA_256; break;
  case LIBSSH2_HOSTKEY_TYPE_ECDSA_384:
    mask |= LIBSSH2_KNOWNHOST_KEY_ECDSA_384; break;
  case LIBSSH2_HOSTKEY_TYPE_ECDSA_521:
    mask |= LIBSSH2_KNOWNHOST_KEY_ECDSA_521; break;
  default: mask |= LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
  }
  rc = libssh2_knownhost_checkp(kh, s->host, s->port, key, len, mask, &found);
  libssh2_knownhost_free(kh);
  if (rc == LIBSSH2_KNOWNHOST_CHECK_MISMATCH)
    return mismatch(s, fp, NULL, NULL);
  return 0;
}

/* Check the server's key; fp gets its fingerprint. 0, -3 (ask for another
 * key type), or -2 refused. */
int ssh__hostkey(struct ssh *s, struct rec *r, char *fp, size_t fplen)
{
  const unsigned char *hash;
  const char *key, *want = rec_get(r, "hostkey");
  size_t len;
  int type;

  key = libssh2_session_hostkey(s->sess, &len, &type);
  hash = (const unsigned char *)libssh2_hostkey_hash(s->sess,
                                               LIBSSH2_HOSTKEY_HASH_SHA256);
  if (!key || !hash) {
    error("no host key from the server");
    return -2;
  }
  ssh__fingerprint(hash, fp, fplen);
  debug("host key %s", fp);
  if (known_hosts(s, key, len, type, fp)) return -2;
  /* an empty want matches nothing: refused (ssh_open refuses it first) */
  if (want && !pinned(want, fp))
    return mismatch(s, fp, want, "the record");
  return 0;
}
