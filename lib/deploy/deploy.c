/* lib/deploy/deploy.c - the desired state of a deployed host
 * (lib/deploy/deploy.h): the HMAC secret, the binaries, the templates
 * rendered for this host, each with its path, mode, owner and SHA-256;
 * compared with what the host has, it says what to install and which units
 * to restart. The secret is kept only in memory here and wiped on release;
 * nothing here prints. */
#include "mvm.h"
#include "deploy.h"
#include "crypto/crypto.h"
#include <sys/random.h>

/* Units in start order; a unit restarts when its own file, or a binary or
 * config its text names, changed. */
static const struct {
  const char *tmpl, *path;
  unsigned mode;
  const char *owner, *group;
  int kind;
} table[] = {
  { "coordinator.toml", "/etc/mvmd/coordinator.toml", 0640, "root", "mvmd",
    DK_TOML },
  { "gateway.toml", "/etc/mvmd/gateway.toml", 0640, "root", "mvmd", DK_TOML },
  { "mvm-hostd.service", "/etc/systemd/system/mvm-hostd.service", 0644,
    "root", "root", DK_UNIT },
  { "mvmd-coordinator.service", "/etc/systemd/system/mvmd-coordinator.service",
    0644, "root", "root", DK_UNIT },
  { "mvmd-agent.service", "/etc/systemd/system/mvmd-agent.service", 0644,
    "root", "root", DK_UNIT },
  { "mvmd-gateway.service", "/etc/systemd/system/mvmd-gateway.service", 0644,
    "root", "root", DK_UNIT },
  { "run-tests.sh", "~mvm/run-tests.sh", 0755, "mvm", "mvm", DK_FILE },
  { "smoke-mvmd.sh", "~mvm/smoke-mvmd.sh", 0755, "mvm", "mvm", DK_FILE },
};
static struct dtmpl T[ARRAY_LEN(table)];

int deploy_templates(const char *dir)
{
  char *path;
  size_t i;

  for (i = 0; i < ARRAY_LEN(table); i++) {
    struct stat st;
    int fd;

    path = xasprintf("%s/%s", dir, table[i].tmpl);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) ||
        st.st_size > TMPL_MAX) {
      error("cannot read template '%s'%s", path,
            fd >= 0 && st.st_size > TMPL_MAX ? ": too large" : "");
      if (fd >= 0) close(fd);
      free(path);
      return -1;
    }
    close(fd);
    T[i].name = table[i].tmpl;
    T[i].text = xreadfile(path, TMPL_MAX, &T[i].len);
    free(path);
  }
  return 0;
}

static struct ditem *add(struct deploy *d, const char *path, unsigned mode,
                         const char *owner, const char *group, int kind)
{
  struct ditem *it = d->it + d->n++;

  memset(it, 0, sizeof(*it));
  it->path = xstrdup(path);
  it->mode = mode;
  it->owner = owner;
  it->group = group;
  it->kind = kind;
  snprintf(it->have, sizeof(it->have), "-");
  return it;
}

void deploy_init(struct deploy *d, char *const *bins, int nbins)
{
  struct ditem *it;
  size_t i;
  int b;

  memset(d, 0, sizeof(*d));
  add(d, "/etc/mvmd/hmac.secret", 0600, "root", "root", DK_SECRET);
  for (b = 0; b < nbins && d->n < DEPLOY_MAX - (int)ARRAY_LEN(table); b++) {
    char *p = xasprintf("/usr/local/bin/%s", strchr(bins[b], ':') + 1);

    it = add(d, p, 0755, "root", "root", DK_BIN);
    it->bin = strchr(bins[b], ':') + 1;
    it->pkg = xstrndup(bins[b], it->bin - 1 - bins[b]);
    free(p);
  }
  for (i = 0; i < ARRAY_LEN(table); i++) {
    it = add(d, table[i].path, table[i].mode, table[i].owner, table[i].group,
             table[i].kind);
    it->tmpl = table[i].tmpl;
  }
}

void deploy_set_bin(struct deploy *d, const char *bin, const char *sum)
{
  int i;

  for (i = 0; i < d->n; i++)
    if (d->it[i].kind == DK_BIN && !strcmp(d->it[i].bin, bin))
      snprintf(d->it[i].sum, sizeof(d->it[i].sum), "%s", sum);
}

/* s starts with n lowercase hex digits (is_hex: and has no more). */
static int is_hex_n(const char *s, size_t n)
{
  return strspn(s, "0123456789abcdef") >= n;
}

static int is_hex(const char *s, size_t n)
{
  return strlen(s) == n && is_hex_n(s, n);
}

/* The item whose host path is path ("~mvm/" items under home). */
static struct ditem *by_path(struct deploy *d, const char *home,
                             const char *path)
{
  size_t hl = strlen(home);
  int i;

  for (i = 0; i < d->n; i++) {
    const char *p = d->it[i].path;

    if (!strncmp(p, "~mvm/", 5) && *home) {
      if (!strncmp(path, home, hl) && path[hl] == '/' &&
          !strcmp(path + hl + 1, p + 5))
        return d->it + i;
    } else if (!strcmp(p, path)) {
      return d->it + i;
    }
  }
  return NULL;
}

/* deploy_probe_cmd's answer: "home DIR", "s PATH MODE:OWNER:GROUP",
 * "HEX  PATH" (sha256sum), "secret HEX", "users ok", "units ok", "end".
 * An item's have becomes "MODE:OWNER:GROUP HEX" when both came. */
int deploy_parse(struct deploy *d, char *out)
{
  char *line, *save = NULL, *sp, home[256] = "";
  char mog[DEPLOY_MAX][64];
  struct ditem *it;
  int i, seen = 0;

  memset(mog, 0, sizeof(mog));
  for (line = strtok_r(out, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    if (!strncmp(line, "home ", 5)) {
      snprintf(home, sizeof(home), "%s", line + 5);
    } else if (!strncmp(line, "s ", 2) && (sp = strrchr(line, ' ')) &&
               sp > line + 2) {
      *sp = 0;
      if ((it = by_path(d, home, line + 2)))
        snprintf(mog[it - d->it], sizeof(mog[0]), "%s", sp + 1);
    } else if (strlen(line) > 66 && is_hex_n(line, 64) &&
               !strncmp(line + 64, "  ", 2)) {
      line[64] = 0;
      if ((it = by_path(d, home, line + 66)) && *mog[it - d->it])
        snprintf(it->have, sizeof(it->have), "%s %s", mog[it - d->it], line);
    } else if (!strncmp(line, "secret ", 7)) {
      if (!d->rotate && is_hex(line + 7, 64))
        memcpy(d->secret, line + 7, 65);
    } else if (!strcmp(line, "users ok")) {
      d->users_ok = 1;
    } else if (!strcmp(line, "units ok")) {
      d->units_ok = 1;
    } else if (!strcmp(line, "end")) {
      seen = 1;
    }
  }
  for (i = 0; i < d->n; i++)
    if (!strchr(d->it[i].have, ' ')) snprintf(d->it[i].have, 2, "-");
  return seen ? 0 : error("the host's answer was cut short");
}

/* Does text name path as a whole word (a path ends at space or newline)? */
static int names(const char *text, const char *path)
{
  const char *p = text;
  size_t n = strlen(path);

  while ((p = strstr(p, path))) {
    if (!p[n] || strchr(" \n\t\"", p[n])) return 1;
    p += n;
  }
  return 0;
}

static void compare(struct deploy *d)
{
  char want[sizeof(d->it[0].have)];
  struct buf b = { 0 };
  int i, j;

  for (i = 0; i < d->n; i++) {
    struct ditem *it = d->it + i;

    snprintf(want, sizeof(want), "%o:%s:%s %s", it->mode, it->owner,
             it->group, it->sum);
    it->changed = strcmp(want, it->have) != 0;
    buf_add(&b, want, strlen(want));
    buf_add(&b, " ", 1);
    buf_add(&b, it->path, strlen(it->path));
    buf_add(&b, "\n", 1);
  }
  for (i = 0; i < d->n; i++) {
    if (d->it[i].kind != DK_UNIT) continue;
    d->it[i].restart = d->it[i].changed;
    for (j = 0; j < d->n; j++)
      if (d->it[j].changed && (d->it[j].kind == DK_BIN ||
                               d->it[j].kind == DK_TOML) &&
          names(d->it[i].data, d->it[j].path))
        d->it[i].restart = 1;
  }
  sha256_hex(b.s, b.len, want);
  snprintf(d->want, sizeof(d->want), "sha256:%s", want);
  free(b.s);
}

int deploy_render(struct deploy *d, const struct rec *r)
{
  char host[256], hex[65];
  unsigned char raw[32];
  struct tmpl_var v[3];
  int i, port;
  size_t k;

  if (rec_hostport(r, host, sizeof(host), &port, 22)) return -1;
  if (!*d->secret) {
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
      return error("getrandom: %s", strerror(errno));
    for (k = 0; k < sizeof(raw); k++)
      sprintf(d->secret + 2 * k, "%02x", raw[k]);
    explicit_bzero(raw, sizeof(raw));
    d->fresh = 1;
  }
  v[0] = (struct tmpl_var){ "hmac_secret", d->secret };
  v[1] = (struct tmpl_var){ "host", host };
  v[2] = (struct tmpl_var){ "node_id", rec_get(r, "id") ? rec_get(r, "id")
                                                        : host };
  for (i = 0; i < d->n; i++) {
    struct ditem *it = d->it + i;

    if (it->kind == DK_SECRET) {
      it->data = xasprintf("%s\n", d->secret);
      it->len = strlen(it->data);
    } else if (it->tmpl) {
      for (k = 0; strcmp(T[k].name, it->tmpl); k++)
        ;
      it->data = tmpl_render(it->tmpl, T[k].text, T[k].len, v, ARRAY_LEN(v),
                             it->kind == DK_TOML ? TMPL_TOML : TMPL_PLAIN,
                             &it->len);
      if (!it->data) return -1;
    }
    if (it->data) sha256_hex(it->data, it->len, hex);
    if (it->data) memcpy(it->sum, hex, sizeof(hex));
    if (!*it->sum) return error("no hash for %s", it->path);
  }
  explicit_bzero(hex, sizeof(hex));
  compare(d);
  return 0;
}

int deploy_pending(const struct deploy *d)
{
  int i;

  if (!d->users_ok || !d->units_ok) return 1;
  for (i = 0; i < d->n; i++)
    if (d->it[i].changed) return 1;
  return 0;
}

char *deploy_units(const struct deploy *d, int restart_only)
{
  struct buf b = { 0 };
  const char *base;
  int i;

  buf_add(&b, "", 0);
  for (i = 0; i < d->n; i++) {
    if (d->it[i].kind != DK_UNIT || (restart_only && !d->it[i].restart))
      continue;
    base = strrchr(d->it[i].path, '/') + 1;
    if (b.len) buf_add(&b, " ", 1);
    buf_add(&b, base, strlen(base));
  }
  return b.s;
}

void deploy_release(struct deploy *d)
{
  int i;

  for (i = 0; i < d->n; i++) {
    free(d->it[i].path);
    if (d->it[i].kind == DK_BIN) free((char *)d->it[i].pkg);
    if (d->it[i].data) freezero(d->it[i].data, d->it[i].len);
  }
  explicit_bzero(d->secret, sizeof(d->secret));
  d->n = 0;
}
