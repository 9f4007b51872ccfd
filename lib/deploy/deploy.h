/* lib/deploy/deploy.h - the door of lib/deploy/: what goes onto a host.
 * At boot, the user-data mvm-provision composes (userdata.c); after it,
 * what mvm-postdeploy installs and the remote commands that check,
 * install and verify it: deploy.c (the desired state: templates rendered
 * per host by tmpl.c, hashes, which units restart) and deploysh.c (the
 * remote sh scripts, which never carry a secret: that goes up on a
 * channel's stdin). */
#ifndef MVM_DEPLOY_H
#define MVM_DEPLOY_H

#include <stddef.h>

#define DEPLOY_MAX 24            /* items per host */

enum { DK_FILE, DK_TOML, DK_UNIT, DK_BIN, DK_SECRET };

/* One thing installed on the host. Paths "~mvm/NAME" are in the home of
 * user mvm. */
struct ditem {
  char *path;
  unsigned mode;
  const char *owner, *group;
  int kind;
  const char *tmpl;      /* DK_FILE/TOML/UNIT: template file name */
  char *data;            /* rendered content (not DK_BIN) */
  size_t len;
  char sum[65];          /* SHA-256 hex of the content */
  const char *pkg, *bin; /* DK_BIN: cargo package and binary */
  char have[160];        /* the host's "MODE:OWNER:GROUP SUM", or "-" */
  int changed;           /* content, mode or owner differ on the host */
  int restart;           /* DK_UNIT: its file, binary or config changed */
};

struct deploy {
  struct ditem it[DEPLOY_MAX];
  int n;
  char secret[65];       /* hex; wiped by deploy_release() */
  int rotate;            /* --rotate-secret: a new one even if the host has one */
  int fresh;             /* the secret was made here, not read */
  int users_ok;          /* users mvmd, mvm and groups exist on the host */
  int units_ok;          /* every unit enabled and active */
  char status[128];      /* the host's /etc/mvm-deploy-status, one line */
  char want[80];         /* what it should say: "ready sha256:..." */
};

/* The templates, read once before the workers fork. */
struct dtmpl {
  const char *name;
  char *text;
  size_t len;
};

/* Read every template of the deploy from dir: 0 or -1 (mvm.err). */
int deploy_templates(const char *dir);
/* The item list for the binaries bins[0..n) ("PKG:BIN" strings). */
void deploy_init(struct deploy *d, char *const *bins, int nbins);
/* Record what the host has (deploy_probe_cmd's output); 0 or -1. Takes
 * the host's secret unless d->rotate. */
int deploy_parse(struct deploy *d, char *out);
/* Render every template for host r (secret: the host's, else new), hash,
 * compare with what the host has, mark the units to restart. 0 or -1. */
int deploy_render(struct deploy *d, const struct rec *r);
/* Anything to install, create, enable or start? */
int deploy_pending(const struct deploy *d);
void deploy_release(struct deploy *d);
/* Every binary's SHA-256, given by the build (hex). */
void deploy_set_bin(struct deploy *d, const char *bin, const char *sum);

/* lib/deploy/deploysh.c: the remote commands (run as the login user; root parts
 * through sudo -n). */
char *deploy_build_cmd(const struct deploy *d, const char *src);
char *deploy_probe_cmd(const struct deploy *d);
/* Installs the changed items: their content comes as a tar stream on
 * stdin (deploy_apply_send). */
char *deploy_apply_cmd(const struct deploy *d, const char *src);
int deploy_apply_send(const struct deploy *d,
                      int (*sink)(void *, const void *, size_t), void *arg);
char *deploy_verify_cmd(const struct deploy *d, int settle, int limit);
/* The units in start order, space-separated ("a.service b.service"). */
char *deploy_units(const struct deploy *d, int restart_only);


/* lib/deploy/tmpl.c: "{{name}}" placeholders replaced by values, with the
 * quoting rules of the file's language enforced, and templates/ found. */
#define TMPL_MAX (1 << 20)       /* template and rendered output, bytes */
#define TMPL_VALUE_MAX 4096      /* one value, bytes */

struct tmpl_var {
  const char *name;              /* [A-Za-z0-9_]+ */
  const char *val;               /* NULL: known but missing for this host */
};

enum tmpl_lang {
  TMPL_PLAIN,   /* units, scripts: a value must be one safe word */
  TMPL_TOML     /* escaped in "basic" strings, checked elsewhere */
};

/* Render text[0..len) from file name (for messages) with vars[0..n).
 * "{{name}}" and "{{ name }}" are placeholders; any other "{{" is an
 * error. TOML: a value inside "..." (or """...""") is escaped; inside
 * '...' it must not hold a quote or control character; anywhere else it
 * must be a bare word (number, boolean, key: [A-Za-z0-9_.+-]). PLAIN: a
 * value must match [A-Za-z0-9_.:/@+-]+. Returns the malloc'd,
 * NUL-terminated output (*outlen set when outlen is not NULL), or NULL
 * with mvm.err "NAME:LINE: why" (unknown or missing variable, a value
 * that would break the quoting, input or output over TMPL_MAX). Values
 * are never quoted in messages: they may be secret. */
char *tmpl_render(const char *name, const char *text, size_t len,
                  const struct tmpl_var *vars, size_t n, enum tmpl_lang lang,
                  size_t *outlen);

/* The templates directory: dir if not NULL (must exist), else
 * $MVM_TEMPLATES_DIR, else "templates" beside the mvmbox binary (the
 * source tree), else ../share/mvmbox/templates from it (make install).
 * NULL with mvm.err set. */
const char *tmpl_dir(const char *dir);

/* lib/deploy/userdata.c: what a new host boots with, the composed and
 * validated #cloud-config user-data (mvm-provision). Private keys in it
 * are cleared with explicit_bzero; nothing here prints them. */
/* lib/deploy/userdata.c: one #cloud-config document from YAML parts. */
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
