/* providers/cloud.h - the cloud driver (providers/cloud.c) and what a cloud
 * provider file gives it: a struct cloud_ops of small API calls. The driver
 * owns everything else once: the worker per host, names and tags, the
 * journal, create retries that never duplicate a host, polling for the
 * address, emitting records, teardown by tag or record, listing and its
 * pages. A provider file has no loops over hosts or pages, no retries of
 * its own and prints nothing; it waits for nothing: the driver calls get()
 * at each poll, and follows the long-running operations of a create made
 * in steps (azure's PUTs). Only cloud provider files include this. */
#ifndef MVM_CLOUD_H
#define MVM_CLOUD_H

#include "http/http.h"
#include "json.h"

enum {                    /* cloud_host.state */
  CLOUD_PENDING = 0,      /* exists, no usable address yet */
  CLOUD_READY,            /* has its public address: emit it */
  CLOUD_FAILED,           /* the provider says it failed (status) */
  CLOUD_GONE,             /* not found (404, deleted) */
};

/* One instance as the provider describes it. Fixed sizes: everything
 * comes off the network, json_text() truncates. */
struct cloud_host {
  char id[128];           /* the provider's id: record id= */
  char name[80];          /* the name/hostname we gave it */
  char addr[64];          /* public IPv4, "" until known */
  char label[64];         /* its mvm-label tag */
  char created[40];       /* RFC 3339, from the provider, or "" */
  char expires[40];       /* its mvm-expires tag, or "" */
  char status[40];        /* the provider's status word, for messages */
  char region[40];
  int state;              /* CLOUD_* */
  char price[16];         /* USD per hour as the provider bills this host,
                           * or "" (then the quote's, if any) */
  char aux[128];          /* provider-private (an action id, a user_data
                           * id to delete with the server) */
};

/* A growable list of hosts (cloud_list_add caps it at CLOUD_LIST_MAX). */
#define CLOUD_LIST_MAX 100000
struct cloud_list {
  struct cloud_host *h;
  int n, cap;
};
struct cloud_host *cloud_list_add(struct cloud_list *l);  /* zeroed slot */
void cloud_list_release(struct cloud_list *l);

/* What create() sends for one host; the driver fills it. */
struct cloud_req {
  const char *name;       /* "<label>-<i>-<rand>", a valid hostname */
  const char *label, *type, *region;
  const char *image;      /* --image, or NULL: the provider's default */
  const char *pubkey;     /* the operator's SSH public key, one line */
  const char *user_data;  /* bytes to send: plain text, or gzip when */
  size_t ud_len;          /* ud_gzip (only if ops->ud_gzip) */
  int ud_gzip;
  const char *expires;    /* RFC 3339 UTC, now + --ttl */
  /* The three tags as "k=v" strings (vultr, equinix tag lists); a
   * key/value API uses CLOUD_TAG_EPH etc. and label / expires. */
  const char *tag_eph, *tag_label, *tag_expires;
  const char *token;      /* idempotency token: unique per host, the same
                           * on every retry of its create (a UUID) */
  int http_flags;         /* for the create call's http_req(): the driver
                           * says what may be retried */
};
/* What an hour of one host costs, as the provider's API says it. */
struct cloud_price {
  double hourly;          /* per hour, in currency; excluding tax */
  char currency[8];       /* ISO 4217, as the API says: "USD", "EUR" */
  char basis[96];         /* where the number came from, for --dry-run */
  char note[160];         /* what the operator should know, or "": a
                           * plan not in stock at the site */
};

/* A create in steps (ops->steps, providers/cloudsteps.c): one call of it,
 * and the long-running operation the call started, which the driver
 * follows until it ends before it sends the next. */
struct cloud_step {
  const char *what;       /* "create virtual network": for messages */
  char *path, *body;      /* owned; the body is freezero'd (user data) */
  int tries;
};
struct cloud_op {
  const char *what;       /* its step's */
  char url[2048];         /* the path to ask how it goes; "": nothing to
                           * follow, the step's call is done */
  int res;                /* the provider's own: url is the resource
                           * itself (its provisioning state), not an
                           * operation */
  int retry;              /* op() of one that failed: the API says its
                           * step may be sent again */
  double after;           /* step()/op(): the answer's Retry-After, s */
};
#define CLOUD_STEPS_MAX 4
struct cloud_steps {
  struct cloud_step s[CLOUD_STEPS_MAX];
  int n, at;              /* how many; the one sent (or to send) */
  int running;            /* s[at]'s operation is followed */
  struct cloud_op op;
  double next;            /* op is not asked before (monotonic) */
};

#define CLOUD_TAG_EPH "mvm-ephemeral"
#define CLOUD_TAG_LABEL "mvm-label"
#define CLOUD_TAG_EXPIRES "mvm-expires"

struct cloud_ops {
  const char *name;       /* "hetzner": provider=, MVM_HETZNER_* */
  const char *base;       /* scheme://host of the API; paths in the calls
                           * (see at()) */
  const char *type;       /* default instance type */
  const char *region;     /* default region */
  const char *note;       /* said on stderr by up() (the no-KVM lane), or
                           * NULL */
  const char *ended;      /* "YYYY-MM-DD" the service ended (or ends), or
                           * NULL; then mvm-provision refuses unless
                           * MVM_<NAME>_ENDPOINT names another API */
  const char *service;    /* its name in that sentence: "Equinix Metal" */
  size_t ud_max;          /* user-data limit in bytes (after gzip, before
                           * any base64); 0: none known */
  int ud_gzip;            /* the field carries bytes and the provider's
                           * cloud-init inflates gzip */
  int idempotent;         /* create() sends req->token as the provider's
                           * idempotency key: retried like a GET */
  double rate, burst;     /* request budget per second (token bucket) */
  double poll_s;          /* how often a pending host is polled */
  int list_polls;         /* list() gives each host's state, status and
                           * address as get() does: pending hosts are
                           * polled by one shared listing (cloudpoll.c) */
  double ready_s;         /* deadline for an address (bare metal: long) */

  /* Optional (NULL: the region is .region, the root .base): the default
   * region the CLI's configuration names (the AWS profile's, the OVH
   * endpoint's), else NULL. */
  const char *(*default_region)(void);
  /* Optional, for an API whose root is not one constant (EC2: one per
   * region; OVH: the endpoint the credentials name): before the driver's
   * handle is made, the region the command works in (up()'s, else the
   * default); it writes the root where .base points. 0, or -1 with
   * mvm.err, as init()'s. */
  int (*at)(const char *region);
  /* Optional: what up() says on stderr of a host of TYPE (the lane that
   * gives it /dev/kvm), into BUF; 0 if nothing. */
  int (*type_note)(const char *type, char *buf, size_t len);
  /* Credentials (env first, then the CLI's config file) into headers of
   * H; error() naming the missing variable and file. No host exists yet. */
  int (*init)(struct http *h);
  /* One create call (or the few one host needs). On 0, c->id is set, and
   * c->addr/state/created if the answer has them. On -1, mvm.err; the
   * driver looks at the answer status to know if a host may exist. -2:
   * it failed before any call that could make one (a lookup found no
   * such region or flavor): nothing exists, nothing is tried again. */
  int (*create)(struct http *h, const struct cloud_req *q,
                struct cloud_host *c);
  /* Refresh c (by c->id): state, status, addr. CLOUD_GONE on a 404.
   * -1 with CLOUD_FAILED: it failed, and mvm.err says why (an operation's
   * error), which the host's record carries. */
  int (*get)(struct http *h, struct cloud_host *c);
  /* Every host tagged mvm-ephemeral=true (only LABEL's if not NULL),
   * with id, name, label, addr, created, expires as far as known. */
  int (*list)(struct http *h, const char *label, struct cloud_list *out);
  /* Destroy c->id: 0 deleted or its delete accepted (ARM's 202: no wait
   * here, the driver confirms it is gone through get() and list(), where
   * a host still being deleted is PENDING or still listed), 1 already
   * gone (404), -1 error. */
  int (*destroy)(struct http *h, const struct cloud_host *c);
  /* Optional (NULL: the price is unknown): what an hour of TYPE in
   * REGION costs, by read-only calls (made in a dry run too): 0 with P
   * filled, 1 the API has no price for it, -1 (mvm.err). */
  int (*price)(struct http *h, const char *type, const char *region,
               struct cloud_price *p);

  /* Optional calls (NULL: nothing to do), for an API that needs more than
   * one object per host (latitude: a user_data object, tag objects). */
  /* A host found by name after a lost create answer: do to it what
   * create() does after its create call (tag it). 0, or -1 with mvm.err
   * (the host is reported failed, with its id). */
  int (*adopt)(struct http *h, const struct cloud_req *q,
               struct cloud_host *c);
  /* The create of Q is over (ready, failed, or found): delete what only
   * the create needed (the user_data object with the host's private
   * key). 0, or -1 with mvm.err (a warning: teardown sweeps it). */
  int (*settle)(struct http *h, const struct cloud_req *q,
                const struct cloud_host *c);
  /* After a teardown: delete what creates left besides hosts (user_data
   * objects, tag objects no host carries), once a run. R: the N records
   * or journal lines torn down (name=, label=, what cloud_journal()
   * added), or N 0 after a teardown of LABEL (NULL: all). 0, or -1 with
   * mvm.err. */
  int (*sweep)(struct http *h, const char *label, const struct rec *r,
               int n);

  /* Optional, for a host made by more calls than one, each sent once the
   * long-running operation of the one before has ended (ARM refuses a
   * reference to a resource still provisioning). The driver sends them
   * one at a time, follows each operation (never before its Retry-After)
   * and sends again a step the API calls retryable, all before it asks
   * get(). steps(): after create() made host C (c->id set), the calls
   * that follow, by cloud_step_add(); 0, or -1 with mvm.err. */
  int (*steps)(const struct cloud_req *q, const struct cloud_host *c,
               struct cloud_steps *s);
  /* Send step S: 0 with what to follow in OP (url, res, after), -1 with
   * mvm.err. */
  int (*step)(struct http *h, const struct cloud_step *s,
              struct cloud_op *op);
  /* Ask once how OP goes (its status word into C->status, op->after
   * set): 1 still running, 0 ended well, -1 cannot tell now, -2 it
   * failed (op->retry: send its step again); mvm.err says why. */
  int (*op)(struct http *h, struct cloud_op *op, struct cloud_host *c);
};

/* The driver. up(): one worker per host (at most MVM_CLOUD_JOBS, default
 * 32, at once), never exits once a host may exist, returns -1 only when
 * nothing was created (credentials, bad input). down(): by record (only)
 * or by tag; every delete, list and poll retried until the deadline
 * (MVM_TEARDOWN_UNTIL, wall clock, set by mvm-teardown --deadline; else
 * 20 minutes), then confirmed: by tag, listed again until none is left;
 * by record, asked for until it is gone. A host still there is an error
 * record naming the command to run again. list(): what down(label, NULL)
 * would destroy. */
int cloud_up(const struct cloud_ops *o, const struct up_args *a,
             emit_fn emit);
int cloud_down(const struct cloud_ops *o, const char *label,
               const struct rec *only, emit_fn emit);
int cloud_list(const struct cloud_ops *o, const char *label, emit_fn emit);
/* struct provider .down_end: O's sweep of the N records torn down. */
int cloud_down_end(const struct cloud_ops *o, const struct rec *r, int n);
/* Before anything is composed (struct provider .check): a service past its
 * .ended is refused, -1 with mvm.err counting the days, unless
 * MVM_<NAME>_ENDPOINT names another API (providers/cloudend.c); a
 * teardown says it ended and tries (cloud_end_note). */
int cloud_check(const struct cloud_ops *o);
void cloud_end_note(const struct cloud_ops *o);

/* Poll C (created at wall clock SINCE) once, as get() does: from the
 * listing every process of O's API shares, re-listed at most once per
 * poll interval, when O->list_polls and C is listed READY or PENDING;
 * else by get() (providers/cloudpoll.c). */
int cloud_poll(const struct cloud_ops *o, struct http *h, double since,
               struct cloud_host *c);

/* The driver's side of a create in steps (providers/cloudsteps.c).
 * cloud_step_add(): ops->steps() adds a call (WHAT, and PATH and BODY it
 * hands over). cloud_steps_go(): at each poll, follow the operation
 * running and send the next step once it ended: 1 still going, 0 every
 * step ended (no steps: 0 at once), -1 with mvm.err (and C FAILED when
 * the host's create failed; else it could not tell this time).
 * cloud_steps_doing(): the step under way, or NULL. */
void cloud_step_add(struct cloud_steps *s, const char *what, char *path,
                    char *body);
int cloud_steps_go(const struct cloud_ops *o, struct http *h,
                   struct cloud_steps *s, struct cloud_host *c);
const char *cloud_steps_doing(const struct cloud_steps *s);
void cloud_steps_release(struct cloud_steps *s);

/* The region of a command that names none: o->default_region()'s, else
 * o->region. */
const char *cloud_region(const struct cloud_ops *o);
/* Shared by the driver's files only (providers/cloudbase.c): the API
 * handle for REGION (NULL: the default) with the provider's credentials
 * (NULL, mvm.err), a host as a record, and mvm.err with PROV: in front
 * (and TAIL after it): -1. */
int cloud_err_pfx(const char *prov, const char *tail);
struct http *cloud_connect(const struct cloud_ops *o, const char *region);
void cloud_rec(const struct cloud_ops *o, const struct cloud_host *c,
               struct rec *r);
/* And their workers (providers/cloudpool.c): CHILD(i, fd, JOB) for each
 * of N hosts, at most MVM_CLOUD_JOBS (32) at once, each sending its
 * host's record; the parent emits it as it comes, or holds it in HELD[i]
 * (then ON_HELD(JOB)) until a listing confirms it. A worker that died
 * leaves a failed record: of a create (CREATES: it may exist, label
 * LABEL), or of host HOSTS->h[i]. */
struct cloud_pool {
  const struct cloud_ops *o;
  emit_fn emit;
  int creates;
  const char *label;
  const struct cloud_list *hosts;
  struct rec *held;
  void (*on_held)(void *job);
  void (*child)(int i, int fd, void *job);
  void *job;
};
void cloud_pool_run(const struct cloud_pool *cp, int n);

/* The journal beyond the driver's lines before and after each create
 * (providers/cloudjournal.c). cloud_journal(): a provider notes what its
 * create made besides the host (KEY=VAL, latitude's user_data=ud_...) as
 * an intent line of host Q->name, so mvm-teardown < journal deletes it
 * though the process is killed; 0 or -1 (mvm.err). cloud_intended(): is
 * NAME a host mvmbox meant to make (of LABEL; NULL: any label)? That is,
 * named by an intent line of this provider in the journal (read by
 * cloud_intents_load), or by the lost create or intent line at hand
 * (cloud_intend). An API whose create takes no tags finds its untagged
 * hosts by these names only, never by a name's pattern: a hand-made
 * server named like ours is not ours. cloud_intents_found(): how many
 * hosts of L carry no label but an intended name; -1 if the provider
 * never asked. */
int cloud_journal(const char *prov, const struct cloud_req *q,
                  const char *key, const char *val);
int cloud_intended(const char *name, const char *label);
void cloud_intend(const char *name, const char *label);
int cloud_intents_load(const char *prov);
int cloud_intents_found(const struct cloud_list *l, const char *label);

/* Helpers for provider files. */
/* A time in RFC 3339 ("2026-12-01T19:30:00Z", offsets, fractions) or the
 * compact label-safe form ("20261201T193000Z") rewritten as RFC 3339 UTC,
 * or COMPACT; -1 if IN is neither. */
int cloud_time(const char *in, char *out, size_t len, int compact);
/* The answer's JSON document, or -1 with mvm.err "bad answer: ...". */
int cloud_parse(const struct http_resp *r, struct json **j);
/* A destroy() that is one DELETE: of the path FMT formats, retried; 0
 * deleted (or its delete accepted), 1 already gone (404), -1 mvm.err
 * "WHAT: ..." (providers/cloudjson.c). */
int cloud_delete(struct http *h, const char *what, const char *fmt, ...)
  PRINTF(3, 4);
/* Credentials: the first set of the NULL-terminated env names, else NULL. */
const char *cloud_env(const char *const *names);
/* A positive number from env NAME (MVM_CLOUD_POLL_S ...), else DEF. */
double cloud_env_s(const char *name, double def);
/* Where a provider's JSON answer keeps a host's fields: json_text() paths
 * from the host's object, NULL for what the answer lacks. */
struct cloud_fields {
  const char *id, *name, *addr, *created, *region, *status;
  const char *ready;      /* the status of a running host; NULL: any */
  const char *tags;       /* the array of "k=v" tags (label, expires) */
  const char *tag_name;   /* the member of a tag entry holding "k=v";
                           * NULL: the entry is the string */
};
/* Fill C from J by F (providers/cloudjson.c): state READY once it has an
 * address and its status is F->ready, else PENDING; the caller adds its
 * provider's FAILED and GONE words. */
void cloud_host_json(const struct json *j, const struct cloud_fields *f,
                     struct cloud_host *c);

/* A monthly price as an hourly one: the month of 730 hours the providers
 * bill by (vultr's and latitude's plans are priced by the month). */
double cloud_monthly_hourly(double monthly);

/* Paging, the driver's (providers/cloudpage.c). cloud_paged() is the
 * loop: FETCH one page, CUR leading to it ("" the first), setting NEXT to
 * what leads to the next ("" none); 0, 1 to stop early (found), or -1
 * with mvm.err. It ends at the last page, after 1000 pages, or at a page
 * leading to itself (an error, not a loop). */
typedef int (*cloud_fetch_fn)(const char *cur, char *next, size_t len,
                              void *arg);
int cloud_paged(const char *what, cloud_fetch_fn fetch, void *arg);
/* How a JSON API links its pages (a provider file's static const). */
struct cloud_paging {
  const char *next;       /* json_text() path of the next page's cursor,
                           * or of its URL on the API's own host (ARM's
                           * nextLink) when PARAM is NULL; with NUMBER:
                           * present (not null) while there are more */
  const char *param;      /* the query parameter taking the cursor */
  const char *number;     /* or: pages numbered from 1 in this parameter,
                           * sent with every page; the list ends at a page
                           * whose ITEMS is empty or that lacks NEXT */
  const char *items;
};
/* GET PATH and every page after it as PG says, EACH on each page's
 * document (0 to go on, 1 to stop, -1 with mvm.err): 0 at the end, 1
 * stopped, -1 with mvm.err. */
typedef int (*cloud_page_fn)(const struct json *page, void *arg);
int cloud_pages(struct http *h, const struct cloud_paging *pg,
                const char *what, const char *path, cloud_page_fn each,
                void *arg);

/* A provider file ends with CLOUD_PROVIDER(hetzner, 0): its struct
 * provider, named provider_hetzner, built from `static const struct
 * cloud_ops hetzner_ops`. FLAGS adds to PF_PINS | PF_DRYUP | PF_CONFIRMS. */
#define CLOUD_PROVIDER(p, fl)                                             \
  static const char *p##_vt_type(void) { return p##_ops.type; }           \
  static const char *p##_vt_region(void) { return cloud_region(&p##_ops); }\
  static int p##_vt_up(const struct up_args *a, emit_fn e)                \
  { return cloud_up(&p##_ops, a, e); }                                    \
  static int p##_vt_down(const char *l, const struct rec *r, emit_fn e)   \
  { return cloud_down(&p##_ops, l, r, e); }                               \
  static int p##_vt_list(const char *l, emit_fn e)                        \
  { return cloud_list(&p##_ops, l, e); }                                  \
  static int p##_vt_check(const struct up_args *a)                        \
  { (void)a; return cloud_check(&p##_ops); }                              \
  static int p##_vt_down_end(const struct rec *r, int n)                  \
  { return cloud_down_end(&p##_ops, r, n); }                              \
  const struct provider provider_##p = {                                  \
    .name = #p, .flags = PF_PINS | PF_DRYUP | PF_CONFIRMS | (fl),                       \
    .default_instance_type = p##_vt_type,                                 \
    .default_region = p##_vt_region,                                      \
    .up = p##_vt_up, .down = p##_vt_down, .list = p##_vt_list,            \
    .check = p##_vt_check, .down_end = p##_vt_down_end,                   \
  }

#endif
