/* lib/ssh/hostkey.c - SSH host keys for new hosts: an ed25519 key made with
 * lib/crypto/, its private half in OpenSSH's own format (openssh-key-v1,
 * unencrypted) for cloud-init's ssh_keys, its public line, and the
 * SHA256 fingerprint exactly as `ssh-keygen -l` prints it. The private
 * text lives only in memory until hostkey_clear(); never log it. */
#include "mvm.h"
#include "sshint.h"
#include "crypto/crypto.h"

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

/* "SHA256:" + unpadded base64 of the 32-byte hash, as ssh-keygen -l. */
void ssh__fingerprint(const unsigned char *hash, char *fp, size_t fplen)
{
  char *enc = b64_encode_as(hash, SHA256_LEN, B64_NOPAD);

  snprintf(fp, fplen, "SHA256:%s", enc);
  free(enc);
}

int hostkey_fingerprint(const void *blob, size_t len, char *out,
                        size_t outlen)
{
  unsigned char md[SHA256_LEN];

  sha256(blob, len, md);
  if (outlen < 7 + 43 + 1) return error("fingerprint buffer too small");
  ssh__fingerprint(md, out, outlen);
  return 0;
}

int hostkey_pub_fingerprint(const char *line, char *out, size_t outlen)
{
  const char *sp, *b, *e;
  unsigned char *blob = NULL;
  size_t tlen, blen;
  long n;
  int r = -1;
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
  if ((n = b64_decode(b, blen, blob, blen)) < 0) {
    error("bad base64 in public key");
    goto out;
  }
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
  char *enc = b64_encode(d, n), *s;
  size_t elen = strlen(enc), i, o;
  size_t cap = sizeof(head) + elen + elen / 70 + 2 + sizeof(tail);

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
  size_t clen, pad;
  char *enc = NULL;
  int r = -1;

  memset(k, 0, sizeof(*k));
  if (!comment) comment = "";
  if ((clen = strlen(comment)) > COMMENT_MAX)
    return error("host key comment too long");
  if (ed25519_keygen(pub, priv) || random_bytes(ck, 4)) {
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
  if (!pb.ok || !sb.ok || !fb.ok) {
    error("host key encoding overflow");
    goto out;
  }
  if (hostkey_fingerprint(blob, pb.len, k->fp, sizeof(k->fp))) goto out;
  k->priv = armor(file, fb.len);
  k->privlen = strlen(k->priv);
  enc = b64_encode(blob, pb.len);
  k->pub = clen ? xasprintf("%s %s %s", KEYTYPE, enc, comment)
                : xasprintf("%s %s", KEYTYPE, enc);
  r = 0;
out:
  explicit_bzero(priv, sizeof(priv));
  explicit_bzero(sec, sizeof(sec));
  explicit_bzero(file, sizeof(file));
  free(enc);
  return r;
}

void hostkey_clear(struct hostkey *k)
{
  if (k->priv) freezero(k->priv, k->privlen + 1);
  free(k->pub);
  memset(k, 0, sizeof(*k));
}
