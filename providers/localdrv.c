/* providers/localdrv.c - the local driver: what nspawn and qemu share
 * above the host mechanics of providers/local.c. A local provider is a
 * struct local_ops (how to start one host, how to tell it runs); this
 * file owns the rest once: the launch loop, waiting, records and emit(),
 * teardown and the listing. Uses local.c, never the other way round.
 * Never writes stdout. */
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

/* Host i's record goes out with the host key provision generated for it;
 * fail != NULL: the host exists but did not come up (never dropped). */
static void emit_host(const struct local_ops *o, const struct up_args *a,
                      int i, const struct local_host *h, const char *fail,
                      emit_fn emit)
{
  struct rec r;

  local_rec(h, o->name, &r);
  if (a->hostkey_fp && a->hostkey_fp[i])
    rec_set(&r, "hostkey", "%s", a->hostkey_fp[i]);
  if (fail) rec_fail(&r, "provision", "%s", fail);
  emit(&r);
  rec_release(&r);
}

/* Emit each launched host once ready() says it runs (or after start_s
 * anyway: sshd may still come up), or with an error once its process has
 * died; returns how many died. done[i] marks the hosts already emitted. */
static int wait_hosts(const struct local_ops *o, const struct up_args *a,
                      struct local_host *h, char *done, emit_fn emit)
{
  int i, left = 1, failed = 0;

  while (left) {
    left = 0;
    for (i = 0; i < a->count; i++) {
      if (done[i]) continue;
      if (!local_alive(&h[i])) {
        char *why = xasprintf("%s exited: %s", o->name, local_logtail(&h[i]));

        emit_host(o, a, i, &h[i], why, emit);
        free(why);
        local_rm(&h[i]);
        done[i] = 1;
        failed++;
      } else if (o->ready(&h[i]) || now_s() - h[i].t0 > o->start_s) {
        emit_host(o, a, i, &h[i], NULL, emit);
        done[i] = 1;
      } else {
        left = 1;
      }
    }
    if (left) usleep(20000);
  }
  return failed;
}

int local_up(const struct local_ops *o, const struct up_args *a,
             emit_fn emit)
{
  char err[sizeof(mvm.err)] = "", *done;
  struct local_host *h;
  int i, n = 0, failed = 0;

  if (o->check(a)) return -1;
  h = xzalloc(a->count * sizeof(*h));
  done = xzalloc(a->count);
  /* Launch all first (each takes milliseconds), then wait for all. */
  for (i = 0; i < a->count; i++, n++) {
    if (local_new(&h[i], o->name, a->label, a->user)) {
      memcpy(err, mvm.err, sizeof(err));  /* why the loop stopped early */
      break;
    }
    if (o->launch(a, i, &h[i])) {
      emit_host(o, a, i, &h[i], mvm.err, emit);
      local_rm(&h[i]);
      done[i] = 1;
      failed++;
    }
  }
  for (i = n; i < a->count; i++) done[i] = 1;
  failed += wait_hosts(o, a, h, done, emit);
  free(h);
  free(done);
  if (n < a->count)
    return error("%s (%d of %d hosts created)", err, n, a->count);
  if (failed)
    return error("%d of %d %s hosts failed", failed, a->count, o->name);
  return 0;
}

int local_down(const struct local_ops *o, const char *label,
               const struct rec *only, emit_fn emit)
{
  struct local_host *h;
  const char *id = only ? rec_get(only, "id") : NULL;
  int i, n, failed = 0;

  if (only && !id) return error("record has no id=");
  if (local_list(o->name, only ? NULL : label, id, &h, &n)) return -1;
  /* None: already gone, which the caller reports; not an error. */
  local_stop(h, n, o->soft, o->stop_s);
  for (i = 0; i < n; i++) {
    struct rec r;

    if (!access(h[i].dir, F_OK)) {
      failed++;
      continue;
    }
    if (only) {                 /* keep the record's fields (kvm=, ...) */
      char *line = rec_format(only);

      rec_parse(&r, line, strlen(line) - 1, 0);
      free(line);
    } else {
      local_rec(&h[i], o->name, &r);
    }
    emit(&r);
    rec_release(&r);
  }
  free(h);
  if (failed) return error("%d %s hosts would not stop", failed, o->name);
  return 0;
}

/* What local_down(label, NULL) would stop, each host's record with
 * created= the time its state was made (the label file is written once,
 * by local_new()). */
int local_ls(const struct local_ops *o, const char *label, emit_fn emit)
{
  struct local_host *h;
  int i, n;

  if (local_list(o->name, label, NULL, &h, &n)) return -1;
  for (i = 0; i < n; i++) {
    char path[PATH_MAX + 8], when[32];
    struct stat st;
    struct tm tm;
    struct rec r;

    local_rec(&h[i], o->name, &r);
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
