/* providers/cloudpoll.c - the driver's polls for an address, many hosts to
 * one listing: a get() per waiting host per poll interval spent two thirds
 * of the API's budget at 1,000 hosts. The workers of every mvmbox process
 * of one provider and endpoint share the last listing of all mvm-ephemeral
 * hosts, kept in a file of the state directory (flock'd, sorted by id and
 * looked up by binary search), and list again only when it is older than
 * the poll interval or than the asking host's create: about one listing
 * (its pages) per poll interval in all, whatever the number of hosts.
 * A host listed READY or PENDING takes the listing's word; any other (not
 * listed yet, FAILED, GONE) is asked for with get(), whose answer the
 * driver's rules need (a 404's grace, a failure's reason). A provider
 * whose list lacks status or address (ops->list_polls 0) is always asked
 * with get(). */
#include "mvm.h"
#include "http/http.h"
#include "provider.h"
#include "cloud.h"

#include <sys/file.h>

#define POLL_MAGIC 0x6d766d70u    /* "mvmp" */

/* What the listing says of one host, fixed size, in the file after the
 * header, sorted by id. */
struct ent {
  char id[128];
  char addr[64];
  char status[40];
  char created[40];
  int state;
};

struct head {
  unsigned magic, size;   /* POLL_MAGIC, sizeof(struct ent): another
                           * mvmbox's file reads as stale */
  double at;              /* wall clock when the listing began */
  int n;
};

static int by_id(const void *a, const void *b)
{
  return strcmp(((const struct ent *)a)->id, ((const struct ent *)b)->id);
}

/* The file of O's listing: named by provider and endpoint, so that two
 * APIs (a test's fakes) never read each other's hosts. */
static int poll_open(const struct cloud_ops *o)
{
  char env[64], name[128];
  const char *ep;
  unsigned long long hsh = 1469598103934665603ull;
  size_t i;

  snprintf(env, sizeof(env), "MVM_%s_ENDPOINT", o->name);
  for (i = 4; env[i]; i++) env[i] = (char)toupper((unsigned char)env[i]);
  ep = getenv(env) && *getenv(env) ? getenv(env) : o->base;
  for (; *ep; ep++) hsh = (hsh ^ (unsigned char)*ep) * 1099511628211ull;
  snprintf(name, sizeof(name), "poll-%s-%016llx", o->name, hsh);
  return shared_open(name);
}

/* List every host (all labels: one listing serves every process) into
 * the file FD holds locked: 0, or -1 (the file is left as it was). */
static int relist(const struct cloud_ops *o, struct http *h, int fd)
{
  struct cloud_list l = { 0 };
  struct head hd = { POLL_MAGIC, sizeof(struct ent), http_wall(), 0 };
  struct ent *e;
  size_t len;
  int i, rc = 0;

  if (o->list(h, NULL, &l)) {
    cloud_list_release(&l);
    return -1;
  }
  e = xzalloc((l.n + 1) * sizeof(*e));
  for (i = 0; i < l.n; i++) {
    snprintf(e[i].id, sizeof(e[i].id), "%s", l.h[i].id);
    snprintf(e[i].addr, sizeof(e[i].addr), "%s", l.h[i].addr);
    snprintf(e[i].status, sizeof(e[i].status), "%s", l.h[i].status);
    snprintf(e[i].created, sizeof(e[i].created), "%s", l.h[i].created);
    e[i].state = l.h[i].state;
  }
  hd.n = l.n;
  qsort(e, l.n, sizeof(*e), by_id);
  len = l.n * sizeof(*e);
  if (pwrite(fd, e, len, sizeof(hd)) != (ssize_t)len ||
      pwrite(fd, &hd, sizeof(hd), 0) != sizeof(hd) ||
      ftruncate(fd, sizeof(hd) + len))
    rc = -1;
  free(e);
  cloud_list_release(&l);
  return rc;
}

/* ID in the listing of FD (N entries): 1 and *E, 0 not there, -1. */
static int lookup(int fd, int n, const char *id, struct ent *e)
{
  int lo = 0, hi = n - 1, mid, c;

  while (lo <= hi) {
    mid = lo + (hi - lo) / 2;
    if (pread(fd, e, sizeof(*e), sizeof(struct head) + (off_t)mid *
              sizeof(*e)) != sizeof(*e))
      return -1;
    e->id[sizeof(e->id) - 1] = 0;
    if (!(c = strcmp(id, e->id))) return 1;
    if (c < 0) hi = mid - 1;
    else lo = mid + 1;
  }
  return 0;
}

/* The listing's word on C (created at wall clock SINCE): 1 taken, 0 ask
 * get(). */
static int from_listing(const struct cloud_ops *o, struct http *h,
                        double since, double poll, struct cloud_host *c)
{
  struct head hd = { 0, 0, 0, 0 };
  struct ent e = { .state = CLOUD_GONE };
  int fd = poll_open(o), found = 0;

  if (fd < 0) return 0;
  if (!flock(fd, LOCK_EX)) {
    if (pread(fd, &hd, sizeof(hd), 0) != sizeof(hd) ||
        hd.magic != POLL_MAGIC || hd.size != sizeof(struct ent) ||
        hd.n < 0 || hd.n > CLOUD_LIST_MAX || hd.at < since ||
        http_wall() - hd.at >= poll) {
      hd.n = -1;
      if (!relist(o, h, fd) && pread(fd, &hd, sizeof(hd), 0) != sizeof(hd))
        hd.n = -1;
    }
    if (hd.n >= 0) found = lookup(fd, hd.n, c->id, &e) == 1;
  }
  close(fd);                  /* drops the lock */
  if (!found || (e.state != CLOUD_READY && e.state != CLOUD_PENDING))
    return 0;
  e.addr[sizeof(e.addr) - 1] = e.status[sizeof(e.status) - 1] = 0;
  e.created[sizeof(e.created) - 1] = 0;
  snprintf(c->addr, sizeof(c->addr), "%s", e.addr);
  snprintf(c->status, sizeof(c->status), "%s", e.status);
  if (!*c->created) snprintf(c->created, sizeof(c->created), "%s",
                             e.created);
  c->state = e.state;
  return 1;
}

int cloud_poll(const struct cloud_ops *o, struct http *h, double since,
               struct cloud_host *c)
{
  double poll = cloud_env_s("MVM_CLOUD_POLL_S", o->poll_s);

  if (o->list_polls && *c->id && from_listing(o, h, since, poll, c))
    return 0;
  return o->get(h, c);
}
