/* providers/localrec.c - the local providers' side of up(): waiting for
 * launched hosts and handing each to emit() as a record, with its console
 * log's tail when it died. Shares local.h with local.c. Never writes
 * stdout. */
#include "mvm.h"
#include "provider.h"
#include "local.h"

void local_rec(const struct local_host *h, const char *prov, struct rec *r)
{
  char addr[32];

  snprintf(addr, sizeof(addr), "127.0.0.1:%d", h->port);
  rec_new(r, addr);
  rec_set(r, "provider", "%s", prov);
  rec_set(r, "id", "%s", h->id);
  rec_set(r, "label", "%s", h->label);
  rec_set(r, "user", "%s", h->user);
}

/* A host's record goes out with the host key provision generated for it;
 * fail != NULL: the host exists but did not come up (never dropped). */
void local_emit(const struct up_args *a, int i, const struct local_host *h,
                const char *prov, const char *fail, emit_fn emit)
{
  struct rec r;

  local_rec(h, prov, &r);
  if (a->hostkey_fp && a->hostkey_fp[i])
    rec_set(&r, "hostkey", "%s", a->hostkey_fp[i]);
  if (fail) rec_fail(&r, "provision", "%s", fail);
  emit(&r);
  rec_release(&r);
}

/* Emit each launched host once ready() says it runs (or after start_s
 * anyway: sshd may still come up), or with an error once its process has
 * died; returns how many died. done[i] marks the hosts already emitted. */
int local_wait(const struct up_args *a, struct local_host *h, char *done,
               const char *prov, int (*ready)(const struct local_host *),
               double start_s, emit_fn emit)
{
  int i, left = 1, failed = 0;

  while (left) {
    left = 0;
    for (i = 0; i < a->count; i++) {
      if (done[i]) continue;
      if (!local_alive(&h[i])) {
        char *why = xasprintf("%s exited: %s", prov, local_logtail(&h[i]));

        local_emit(a, i, &h[i], prov, why, emit);
        free(why);
        local_rm(&h[i]);
        done[i] = 1;
        failed++;
      } else if (ready(&h[i]) || now_s() - h[i].t0 > start_s) {
        local_emit(a, i, &h[i], prov, NULL, emit);
        done[i] = 1;
      } else {
        left = 1;
      }
    }
    if (left) usleep(20000);
  }
  return failed;
}

const char *local_logtail(const struct local_host *h)
{
  static char out[300];
  char path[PATH_MAX + 16], buf[1024], *p;
  int fd, lines = 0;
  ssize_t n;
  off_t sz;

  snprintf(path, sizeof(path), "%s/console.log", h->dir);
  strcpy(out, "(no console output)");
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) return out;
  sz = lseek(fd, 0, SEEK_END);
  lseek(fd, sz > (off_t)sizeof(buf) - 1 ? sz - (off_t)sizeof(buf) + 1 : 0,
        SEEK_SET);
  n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return out;
  while (n > 0 && isspace((unsigned char)buf[n - 1])) n--;
  buf[n] = 0;
  for (p = buf + n; p > buf; p--)
    if (p[-1] == '\n' && ++lines == 2) break;
  n = strlen(p) < sizeof(out) ? (ssize_t)strlen(p) : (ssize_t)sizeof(out) - 1;
  memcpy(out, p, n);
  out[n] = 0;
  for (p = out; *p; p++)
    if (*p == '\n' || *p == '\r' || (unsigned char)*p < 32) *p = ' ';
  return out;
}

/* The end of a local up(): wait for and emit the hosts launched (the first
 * n; a failed launch was emitted already and counted in failed), free the
 * arrays, and say what went wrong: mvm.err still holds why the launch
 * loop stopped early, when it did. */
int local_finish(const struct up_args *a, struct local_host *h, char *done,
                 int n, int failed, const char *prov,
                 int (*ready)(const struct local_host *), double start_s,
                 emit_fn emit)
{
  char err[sizeof(mvm.err)];
  int i;

  memcpy(err, mvm.err, sizeof(err));
  for (i = n; i < a->count; i++) done[i] = 1;
  failed += local_wait(a, h, done, prov, ready, start_s, emit);
  free(h);
  free(done);
  if (n < a->count)
    return error("%s (%d of %d hosts created)", err, n, a->count);
  if (failed) return error("%d of %d %s hosts failed", failed, a->count, prov);
  return 0;
}

/* A local provider's list(): what local_down(label, NULL) would stop, each
 * host's record with created= the time its state was made (the label
 * file is written once, by local_new()). */
int local_ls(const char *prov, const char *label, emit_fn emit)
{
  struct local_host *h;
  int i, n;

  if (local_list(prov, label, NULL, &h, &n)) return -1;
  for (i = 0; i < n; i++) {
    char path[PATH_MAX + 8], when[32];
    struct stat st;
    struct tm tm;
    struct rec r;

    local_rec(&h[i], prov, &r);
    snprintf(path, sizeof(path), "%s/label", h[i].dir);
    if (!stat(path, &st) && gmtime_r(&st.st_mtime, &tm) &&
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
      rec_set(&r, "created", "%s", when);
    emit(&r);
    rec_release(&r);
  }
  free(h);
  return 0;
}
