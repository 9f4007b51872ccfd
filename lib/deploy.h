/* lib/deploy.h - what mvm-postdeploy puts on a host and the remote
 * commands that check, install and verify it: lib/deploy.c (the desired
 * state: templates rendered per host, hashes, which units restart) and
 * lib/deploysh.c (the remote sh scripts, which never carry a secret: that
 * goes up on a channel's stdin). */
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

/* lib/deploysh.c: the remote commands (run as the login user; root parts
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

#endif
