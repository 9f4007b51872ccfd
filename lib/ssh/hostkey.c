/* lib/ssh/hostkey.c - SSH host keys for new hosts: an ed25519 key made with
 * OpenSSL, its private half in OpenSSH's own format (openssh-key-v1,
 * unencrypted) for cloud-init's ssh_keys, its public line, and the
 * SHA256 fingerprint exactly as `ssh-keygen -l` prints it. The private
 * text lives only in memory until hostkey_clear(); never log it. */
#include "mvm.h"
#include "ssh.h"
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#define KEYTYPE "ssh-ed25519"
#define COMMENT_MAX 128

/* A fixed buffer for SSH wire encoding; ok goes 0 on overflow. */
struct wbuf {
  unsigned char *p;
  size_t len, cap;
  int ok;
};

static void put(struct wbuf *b, const void *d, size_t n)
{
  if (!b->ok || n > b->cap - b->len) {
    b->ok = 0;
    return;
  }
  memcpy(b->p + b->len, d, n);
  b->len += n;
}

static void put_u32(struct wbuf *b, uint32_t v)
{
  unsigned char c[4] = { v >> 24, v >> 16, v >> 8, v };

  put(b, c, 4);
}

static void put_str(struct wbuf *b, const void *d, size_t n)
{
  put_u32(b, n);
  put(b, d, n);
}

/* Base64 of in[0..n) into out (no newlines), or -1 if out is too small. */
static int b64(const unsigned char *in, size_t n, char *out, size_t outlen)
{
  if (outlen < 4 * ((n + 2) / 3) + 1) return -1;
  EVP_EncodeBlock((unsigned char *)out, in, n);
  return 0;
}

int hostkey_fingerprint(const void *blob, size_t len, char *out,
                        size_t outlen)
{
  unsigned char md[SHA256_DIGEST_LENGTH];
  char enc[64];
  size_t n;

  SHA256(blob, len, md);
  if (b64(md, sizeof(md), enc, sizeof(enc))) return error("fingerprint");
  n = strlen(enc);
  while (n && enc[n - 1] == '=') enc[--n] = 0;
  if (snprintf(out, outlen, "SHA256:%s", enc) >= (int)outlen)
    return error("fingerprint buffer too small");
  return 0;
}

int hostkey_pub_fingerprint(const char *line, char *out, size_t outlen)
{
  const char *sp, *b, *e;
  unsigned char *blob = NULL;
  size_t tlen, blen, pad = 0;
  int n, r = -1;
  uint32_t slen;

  if (!(sp = strchr(line, ' ')) || sp == line)
    return error("not an ssh public key line");
  tlen = sp - line;
  for (b = sp; *b == ' '; b++);
  for (e = b; *e && *e != ' ' && *e != '\n'; e++);
  blen = e - b;
  if (blen < 8 || blen % 4 || blen > 16384)
    return error("bad base64 in public key");
  blob = xmalloc(blen);
  if ((n = EVP_DecodeBlock(blob, (const unsigned char *)b, blen)) < 0) {
    error("bad base64 in public key");
    goto out;
  }
  if (b[blen - 1] == '=') pad = 1 + (b[blen - 2] == '=');
  n -= pad;
  slen = n >= 4 ? (uint32_t)blob[0] << 24 | blob[1] << 16 | blob[2] << 8
                  | blob[3] : 0;
  if (n < 4 || slen != tlen || slen > (uint32_t)n - 4
      || memcmp(blob + 4, line, tlen)
      || (tlen == strlen(KEYTYPE) && !memcmp(line, KEYTYPE, tlen)
          && n != 4 + (int)tlen + 4 + 32)) {
    error("public key type does not match its blob");
    goto out;
  }
  r = hostkey_fingerprint(blob, n, out, outlen);
out:
  free(blob);
  return r;
}

/* The private-key file body, wrapped at 70 columns like ssh-keygen. */
static char *armor(const unsigned char *d, size_t n)
{
  static const char head[] = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
  static const char tail[] = "-----END OPENSSH PRIVATE KEY-----\n";
  size_t elen = 4 * ((n + 2) / 3), i, o;
  char *enc = xmalloc(elen + 1), *s;
  size_t cap = sizeof(head) + elen + elen / 70 + 2 + sizeof(tail);

  EVP_EncodeBlock((unsigned char *)enc, d, n);
  s = xmalloc(cap);
  memcpy(s, head, sizeof(head) - 1);
  o = sizeof(head) - 1;
  for (i = 0; i < elen; i += 70) {
    size_t k = elen - i < 70 ? elen - i : 70;
    memcpy(s + o, enc + i, k);
    o += k;
    s[o++] = '\n';
  }
  memcpy(s + o, tail, sizeof(tail));
  freezero(enc, elen + 1);
  return s;
}

int hostkey_generate(struct hostkey *k, const char *comment)
{
  unsigned char pub[32], priv[64], blob[64], sec[512], file[1024], ck[4];
  struct wbuf pb = { blob, 0, sizeof(blob), 1 };
  struct wbuf sb = { sec, 0, sizeof(sec), 1 };
  struct wbuf fb = { file, 0, sizeof(file), 1 };
  EVP_PKEY *pk = NULL;
  size_t plen = 32, slen = 32, clen, pad;
  char enc[128];
  int r = -1;

  memset(k, 0, sizeof(*k));
  if (!comment) comment = "";
  if ((clen = strlen(comment)) > COMMENT_MAX)
    return error("host key comment too long");
  if (!(pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"))
      || EVP_PKEY_get_raw_public_key(pk, pub, &plen) != 1
      || EVP_PKEY_get_raw_private_key(pk, priv, &slen) != 1
      || plen != 32 || slen != 32 || RAND_bytes(ck, 4) != 1) {
    error("cannot generate an ed25519 key");
    goto out;
  }
  memcpy(priv + 32, pub, 32);    /* OpenSSH keeps seed || public */
  put_str(&pb, KEYTYPE, strlen(KEYTYPE));
  put_str(&pb, pub, 32);
  put(&sb, ck, 4);
  put(&sb, ck, 4);
  put_str(&sb, KEYTYPE, strlen(KEYTYPE));
  put_str(&sb, pub, 32);
  put_str(&sb, priv, 64);
  put_str(&sb, comment, clen);
  for (pad = 1; sb.len % 8; pad++) put(&sb, (unsigned char[]){ pad }, 1);
  put(&fb, "openssh-key-v1", 15);   /* with its NUL */
  put_str(&fb, "none", 4);
  put_str(&fb, "none", 4);
  put_str(&fb, "", 0);
  put_u32(&fb, 1);
  put_str(&fb, blob, pb.len);
  put_str(&fb, sec, sb.len);
  if (!pb.ok || !sb.ok || !fb.ok || b64(blob, pb.len, enc, sizeof(enc))) {
    error("host key encoding overflow");
    goto out;
  }
  if (hostkey_fingerprint(blob, pb.len, k->fp, sizeof(k->fp))) goto out;
  k->priv = armor(file, fb.len);
  k->privlen = strlen(k->priv);
  k->pub = clen ? xasprintf("%s %s %s", KEYTYPE, enc, comment)
                : xasprintf("%s %s", KEYTYPE, enc);
  r = 0;
out:
  explicit_bzero(priv, sizeof(priv));
  explicit_bzero(sec, sizeof(sec));
  explicit_bzero(file, sizeof(file));
  EVP_PKEY_free(pk);
  return r;
}

void hostkey_clear(struct hostkey *k)
{
  if (k->priv) freezero(k->priv, k->privlen + 1);
  free(k->pub);
  memset(k, 0, sizeof(*k));
}
