/* providers/cloud.c - the cloud driver: everything a cloud provider does
 * that is not an API call. One forked worker per host (lib/lines.c reads
 * their records back; the parent alone calls emit()), names and tags, the
 * journal before and after each create, create retries that never make a
 * second host, polling for the address, teardown by tag or record, the
 * listing, dry runs. Once a host may exist nothing here exits: every
 * failure becomes an error record carrying what is known of the host. */
#include "mvm.h"
#include "http/http.h"
#include "json.h"
#include "provider.h"
#include "cloud.h"

#define TTL_DEFAULT (4 * 3600)
#define GONE_GRACE 10       /* 404s tolerated right after a create */
#define GET_FAILS 5         /* failed polls in a row before giving up */

/* --- up ------------------------------------------------------------- */

struct up {
  const struct cloud_ops *o;
  const struct up_args *a;
  struct http *h;
  emit_fn emit;
  char expires[40];
  char run[8];            /* random per run: names stay unique */
  char (*token)[40];      /* per host UUID */
  struct buf *ud;         /* per host user-data as sent */
  int *gz;
  char price[32];         /* the API's price an hour, "" if unknown */
  char currency[8];
};

/* --- price ---------------------------------------------------------- */

/* The API's price of an hour of the hosts this run makes, into U: asked
 * once, before any create, in a dry run too. Not knowing it costs the
 * records their price=, never a host. */
static void up_price(struct up *u)
{
  const struct up_args *a = u->a;
  struct cloud_price p = { 0 };
  int rc = u->o->price ? u->o->price(u->h, a->type, a->region, &p) : 1;

  if (rc >= 0 && *p.note) warn("%s: %s", u->o->name, p.note);
  if (rc < 0) warn("%s: price unknown (no price= in the records): %s",
                   u->o->name, mvm.err);
  if (rc) {
    if (a->dry_run) printf("# dry-run: %s: price unknown: %s (give --price)\n",
                           u->o->name, rc < 0 ? "the API did not answer"
                           : u->o->price ? "the API lists none for it"
                           : "its API is not asked");
    return;
  }
  snprintf(u->price, sizeof(u->price), "%.6g", p.hourly);
  snprintf(u->currency, sizeof(u->currency), "%s", p.currency);
  if (a->dry_run)
    printf("# dry-run: %s: price=%s %s an hour (%s in %s: %s)\n", u->o->name,
           u->price, u->currency, a->type, a->region, p.basis);
  else info("%s: %s in %s: %s %s an hour (%s)", u->o->name, a->type,
            a->region, u->price, u->currency, p.basis);
}

/* The price on a host's record: USD unless price_currency= says. */
static void rec_price(const struct up *u, struct rec *r)
{
  if (!*u->price) return;
  rec_set(r, "price", "%s", u->price);
  if (strcmp(u->currency, "USD"))
    rec_set(r, "price_currency", "%s", u->currency);
}

static void uuid(char *out, size_t len)
{
  unsigned char b[16];

  if (getentropy(b, sizeof(b))) die("getentropy: %s", strerror(errno));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  snprintf(out, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
           "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
           b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* The user-data as sent: plain if it fits, else gzip where the provider
 * takes it; an error (before anything exists) if neither fits. */
static int ud_prep(const struct cloud_ops *o, const char *ud, struct buf *b,
                   int *gz)
{
  size_t len = strlen(ud);

  *gz = 0;
  if (!o->ud_max || len <= o->ud_max) {
    buf_add(b, ud, len);
    return 0;
  }
  if (!o->ud_gzip)
    return error("user-data is %zu bytes, over %s's limit of %zu (and %s"
                 " takes no gzip)", len, o->name, o->ud_max, o->name);
  if (gzip_buf(ud, len, b)) return -1;
  if (b->len > o->ud_max)
    return error("user-data is %zu bytes, %zu gzip'd: over %s's limit of"
                 " %zu", len, b->len, o->name, o->ud_max);
  *gz = 1;
  return 0;
}

static void req_fill(const struct up *u, int i, struct cloud_req *q,
                     char *name, size_t nlen, char tags[3][128])
{
  const struct up_args *a = u->a;

  snprintf(name, nlen, "%.48s-%s%d", a->label, u->run, i + 1);
  snprintf(tags[0], 128, "%s=true", CLOUD_TAG_EPH);
  snprintf(tags[1], 128, "%s=%s", CLOUD_TAG_LABEL, a->label);
  snprintf(tags[2], 128, "%s=%s", CLOUD_TAG_EXPIRES, u->expires);
  memset(q, 0, sizeof(*q));
  q->name = name;
  q->label = a->label;
  q->type = a->type;
  q->region = a->region;
  q->image = a->image;
  q->pubkey = a->pubkey;
  q->user_data = u->ud[i].s;
  q->ud_len = u->ud[i].len;
  q->ud_gzip = u->gz[i];
  q->expires = u->expires;
  q->tag_eph = tags[0];
  q->tag_label = tags[1];
  q->tag_expires = tags[2];
  q->token = u->token[i];
  q->http_flags = u->o->idempotent ? HTTP_RETRY : HTTP_RETRY_429;
}

/* Is the host NAME there (a create whose answer was lost)? 1 found (*c
 * filled), 0 not there, -1 cannot tell. */
static int find_name(const struct up *u, const char *name,
                     struct cloud_host *c)
{
  struct cloud_list l = { 0 };
  int i, rc;

  cloud_intend(name, u->a->label);      /* the lost create's host is ours */
  if (u->o->list(u->h, u->a->label, &l)) return -1;
  for (i = 0, rc = 0; i < l.n && !rc; i++)
    if (!strcmp(l.h[i].name, name)) *c = l.h[i], rc = 1;
  cloud_list_release(&l);
  return rc;
}

/* Create one host: 0 it exists (c filled), -1 it does not or may (mvm.err
 * says "may exist" then): never a blind second create. */
static int create_host(const struct up *u, const struct cloud_req *q,
                       struct cloud_host *c)
{
  char why[sizeof(mvm.err)];
  int try, f, rc;
  long st;

  for (try = 1;; try++) {
    memset(c, 0, sizeof(*c));
    if (!(rc = u->o->create(u->h, q, c))) return 0;
    if (rc == -2) return -1;        /* nothing was asked to make a host */
    st = http_status(u->h);
    if ((st >= 400 && st < 500 && st != 409) || st == HTTP_UNSENT ||
        u->o->idempotent) return -1;
    snprintf(why, sizeof(why), "%s", mvm.err);
    /* No answer, a 5xx or a conflict: the host may have been made. Ask
     * twice, a poll apart: lists lag behind creates. */
    info("%s: %s: looking for %s before trying again", u->o->name, why,
         q->name);
    if ((f = find_name(u, q->name, c)) == 0) {
      sleep_s(cloud_env_s("MVM_CLOUD_POLL_S", u->o->poll_s));
      f = find_name(u, q->name, c);
    }
    if (f == 1) {
      info("%s: found %s as %s: its create went through", u->o->name,
           q->name, c->id);
      /* Found by name, it still lacks what create() does after its call
       * (latitude's tags): without them no teardown by tag sees it. */
      if (u->o->adopt && u->o->adopt(u->h, q, c))
        return error("found %s after a lost create answer, but: %s",
                     c->id, mvm.err);
      return 0;
    }
    if (f < 0 || try >= 3 || st == 409)
      return error("%s%s", why, f < 0 ? " (and it may exist: cannot list)"
                                      : "");
  }
}

/* One poll of host C: the steps of its create while any is left, then
 * its state. 0, or -1 (mvm.err; C FAILED if it did). */
static int poll_once(const struct up *u, struct cloud_steps *st,
                     double since, struct cloud_host *c)
{
  int rc = cloud_steps_go(u->o, u->h, st, c);

  if (rc) return rc < 0 ? -1 : 0;     /* 1: a step is under way */
  return cloud_poll(u->o, u->h, since, c);
}

/* Poll until the host (created at wall clock SINCE) has its address,
 * fails, or the deadline passes; the first step of a create in steps
 * (ST) is sent at once. */
static int wait_ready(const struct up *u, struct cloud_steps *st,
                      double since, struct cloud_host *c)
{
  double t0 = now_s(), poll = cloud_env_s("MVM_CLOUD_POLL_S", u->o->poll_s);
  double limit = cloud_env_s("MVM_CLOUD_READY_S", u->o->ready_s);
  int gone = 0, fails = 0, first = 1;

  while (c->state == CLOUD_PENDING) {
    const char *doing = cloud_steps_doing(st);

    if (pool_stopping())
      return error("%s: interrupted while waiting for an address (status "
                   "%s): the host exists", u->o->name,
                   *c->status ? c->status : "unknown");
    if (now_s() - t0 > limit)
      return error("%s: no address after %.0fs (%s%sstatus %s)",
                   u->o->name, limit, doing ? doing : "",
                   doing ? ": " : "", *c->status ? c->status : "unknown");
    if (doing) status("%s (%s)", doing, *c->status ? c->status : "starting");
    else status("waiting for an address (%s)", c->status);
    if (!first || !doing) sleep_unless_stopping(poll);
    first = 0;
    if (poll_once(u, st, since, c)) {
      if (c->state == CLOUD_FAILED || ++fails >= GET_FAILS)
        return cloud_err_pfx(u->o->name, NULL);
      continue;
    }
    fails = 0;
    if (c->state == CLOUD_GONE && ++gone <= GONE_GRACE)
      c->state = CLOUD_PENDING;     /* eventual consistency */
  }
  if (c->state == CLOUD_READY) return 0;
  return error("%s: %s %s", u->o->name, c->state == CLOUD_GONE ?
               "vanished:" : "failed: status", c->status);
}

static void up_child(int i, int fd, void *arg)
{
  const struct up *u = arg;
  struct cloud_req q;
  struct cloud_host c;
  struct cloud_steps st = { 0 };
  char name[80], tags[3][128];
  struct rec r;
  double since;
  int rc;

  req_fill(u, i, &q, name, sizeof(name), tags);
  mvm.host = name;
  memset(&c, 0, sizeof(c));
  snprintf(c.name, sizeof(c.name), "%s", name);
  snprintf(c.label, sizeof(c.label), "%s", u->a->label);
  snprintf(c.expires, sizeof(c.expires), "%s", u->expires);
  cloud_rec(u->o, &c, &r);
  rec_set(&r, "intent", "create");
  if (journal_add(&r)) {
    rec_unset(&r, "intent");
    rec_fail(&r, "provision", "%s", mvm.err);
    pool_send(fd, &r);
    rec_release(&r);
    return;
  }
  rec_release(&r);
  status("creating");
  rc = create_host(u, &q, &c);
  since = http_wall();
  if (!*c.name) snprintf(c.name, sizeof(c.name), "%s", name);
  if (!*c.label) snprintf(c.label, sizeof(c.label), "%s", u->a->label);
  if (!*c.expires) snprintf(c.expires, sizeof(c.expires), "%s", u->expires);
  if (!rc) {
    cloud_rec(u->o, &c, &r);
    if (journal_add(&r)) warn("%s (host %s exists)", mvm.err, c.id);
    rec_release(&r);
    if (u->o->steps && u->o->steps(&q, &c, &st)) {
      c.state = CLOUD_FAILED;
      rc = cloud_err_pfx(u->o->name, NULL);
    } else {
      rc = wait_ready(u, &st, since, &c);
    }
    cloud_steps_release(&st);
  } else if (strstr(mvm.err, "may exist")) {
    char tail[160];

    snprintf(tail, sizeof(tail), "; run mvm-teardown %s %s", u->o->name,
             u->a->label);
    rc = cloud_err_pfx(u->o->name, tail);
  } else {
    rc = cloud_err_pfx(u->o->name, NULL);
  }
  /* Ready or not, the create is over: what only it needed goes now. */
  if (u->o->settle && u->o->settle(u->h, &q, &c))
    warn("%s: %s (mvm-teardown %s deletes it)", u->o->name, mvm.err,
         u->o->name);
  cloud_rec(u->o, &c, &r);
  rec_set(&r, "user", "%s", u->a->user ? u->a->user : "mvm");
  if (u->a->hostkey_fp && u->a->hostkey_fp[i])
    rec_set(&r, "hostkey", "%s", u->a->hostkey_fp[i]);
  if (!*c.price) rec_price(u, &r);    /* the host's own bill comes first */
  if (rc) {
    rec_fail(&r, "provision", "%s", mvm.err);
  }
  pool_send(fd, &r);
  rec_release(&r);
}

/* Did the call fail because it was only printed (a dry run)? */
static int dry_said(void)
{
  return !strcmp(mvm.err, "dry run") || strstr(mvm.err, ": dry run");
}

/* A dry run of a create in steps prints each step's call too. */
static int up_dry_steps(const struct up *u, const struct cloud_req *q,
                        const struct cloud_host *c)
{
  struct cloud_steps st = { 0 };
  struct cloud_op op;
  int i, rc = u->o->steps(q, c, &st);

  for (i = 0; !rc && i < st.n; i++) {
    memset(&op, 0, sizeof(op));
    op.what = st.s[i].what;
    if (u->o->step(u->h, &st.s[i], &op) && !dry_said()) rc = -1;
  }
  cloud_steps_release(&st);
  return rc;
}

static int up_dry(const struct up *u)
{
  struct cloud_req q;
  struct cloud_host c;
  char name[80], tags[3][128];

  req_fill(u, 0, &q, name, sizeof(name), tags);
  printf("# dry-run: %s: user-data of host 1: %zu bytes%s (limit %zu)\n",
         u->o->name, u->ud[0].len, u->gz[0] ? " gzip'd" : "",
         u->o->ud_max);
  http_dry(u->h, 1);
  memset(&c, 0, sizeof(c));
  if (u->o->create(u->h, &q, &c) && !dry_said())
    return -1;
  /* A create in steps prints the calls of its steps too, as of a host
   * whose id is its name (nothing was made to give it another). */
  snprintf(c.id, sizeof(c.id), "%s", name);
  if (u->o->steps && up_dry_steps(u, &q, &c)) return -1;
  printf("# dry-run: and so on for %d host(s); tagged %s %s %s\n",
         u->a->count, tags[0], tags[1], tags[2]);
  return 0;
}

int cloud_up(const struct cloud_ops *o, const struct up_args *a,
             emit_fn emit)
{
  struct up u = { o, a, NULL, emit, "", "", NULL, NULL, NULL, "", "" };
  unsigned char rnd[2];
  char note[160];
  int i, rc = 0;

  if (o->note) info("%s", o->note);
  if (o->type_note && o->type_note(a->type, note, sizeof(note)))
    info("%s: %s", o->name, note);
  time_fmt(time(NULL) + (a->ttl > 0 ? a->ttl : TTL_DEFAULT), u.expires,
           sizeof(u.expires), 0);
  if (getentropy(rnd, sizeof(rnd))) return error("getentropy failed");
  snprintf(u.run, sizeof(u.run), "%02x%02x-", rnd[0], rnd[1]);
  u.token = xzalloc(a->count * sizeof(*u.token));
  u.ud = xzalloc(a->count * sizeof(*u.ud));
  u.gz = xzalloc(a->count * sizeof(*u.gz));
  for (i = 0; i < a->count && !rc; i++) {
    uuid(u.token[i], sizeof(u.token[i]));
    rc = ud_prep(o, a->user_data[i], &u.ud[i], &u.gz[i]);
  }
  if (!rc && !(u.h = cloud_connect(o, a->region))) rc = -1;
  if (!rc && !a->price) up_price(&u);   /* the operator's word wins */
  if (!rc && a->dry_run) rc = up_dry(&u);
  else if (!rc) {
    struct cloud_pool cp = { o, emit, 1, a->label, NULL, NULL, NULL,
                             up_child, &u };

    cloud_pool_run(&cp, a->count);
  }
  for (i = 0; i < a->count; i++)
    if (u.ud[i].s) freezero(u.ud[i].s, u.ud[i].cap);
  free(u.ud);
  free(u.gz);
  free(u.token);
  http_free(u.h);
  return rc;
}
