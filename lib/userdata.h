/* lib/userdata.h - what a new host boots with: its SSH host key
 * (lib/hostkey.c) and the composed, validated #cloud-config user-data
 * (lib/userdata.c). Private keys stay in memory and are cleared with
 * explicit_bzero; nothing here prints them. */
#ifndef MVM_USERDATA_H
#define MVM_USERDATA_H

/* lib/hostkey.c: an ed25519 host key. */
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

/* lib/userdata.c: one #cloud-config document from YAML parts. */
#define USERDATA_MAX (1024 * 1024)
#define DEPLOY_USER "mvm"     /* the users entry that gets the operator key */
struct ud_part {
  const char *name;     /* for messages: "cloud-init/base.yaml" */
  const char *text;
  size_t len;
};
struct ud_opts {
  const struct ud_part *parts;  /* merged in order (see userdata.c) */
  int nparts;
  const char *pubkey;   /* operator's key: user DEPLOY_USER (userdata.c) */
  int kvm_optional;     /* write /etc/mvm-kvm-gate = optional */
  const struct hostkey *key;    /* ssh_keys for the host, or NULL */
};
/* The composed document ("#cloud-config\n..."), validated with libyaml;
 * NULL with the reason (file and line for bad YAML) in mvm.err. When a
 * key is given the result is SECRET: release it with freezero(p, *len). */
char *userdata_compose(const struct ud_opts *o, size_t *len);
/* Parse a whole user-data text: exactly one YAML document whose top level
 * is a mapping, first line #cloud-config. 0, or -1 with the line. Scalars
 * are wiped from libyaml's buffers, so it is safe on secret text. */
int userdata_check(const char *text, size_t len, const char *name);
/* The project's cloud-init/ directory: $MVM_CLOUD_INIT_DIR, else next to
 * the mvmbox binary (source tree), else ../share/mvmbox/cloud-init from
 * it. NULL with mvm.err set if none exists. */
const char *userdata_dir(void);

#endif
