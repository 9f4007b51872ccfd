/* providers/cloudsteps.c - a create in steps, the driver's: for an API
 * whose host takes more calls than one, each of which may be sent only
 * once the long-running operation of the one before has ended (ARM
 * answers a reference to a resource still provisioning with 400
 * ReferencedResourceNotProvisioned). The provider says what the calls
 * are (ops->steps), how to send one (ops->step) and how to ask once after
 * its operation (ops->op); the order, the waiting, Retry-After and the
 * second try of a step the API calls retryable are here, once. One worker
 * process per host: its steps live in that worker's struct cloud_steps.
 * Nothing here sleeps: the driver calls cloud_steps_go() at each poll. */
#include "mvm.h"
#include "http/http.h"
#include "provider.h"
#include "cloud.h"

#define STEP_TRIES 3      /* sends of one step whose operation failed
                           * with an error the API calls retryable */

void cloud_step_add(struct cloud_steps *s, const char *what, char *path,
                    char *body)
{
  if (s->n >= CLOUD_STEPS_MAX) die("cloud_step_add: over %d steps",
                                   CLOUD_STEPS_MAX);
  s->s[s->n++] = (struct cloud_step){ what, path, body, 0 };
}

static void step_release(struct cloud_step *st)
{
  if (st->body) freezero(st->body, strlen(st->body));
  free(st->path);
  st->body = st->path = NULL;
}

void cloud_steps_release(struct cloud_steps *s)
{
  int i;

  for (i = 0; i < s->n; i++) step_release(&s->s[i]);
  memset(s, 0, sizeof(*s));
}

const char *cloud_steps_doing(const struct cloud_steps *s)
{
  return s->at < s->n ? s->s[s->at].what : NULL;
}

/* Send step s->at: 0 its operation is followed (or, with nothing to
 * follow, the next is up), -1 with mvm.err. */
static int send_step(const struct cloud_ops *o, struct http *h,
                     struct cloud_steps *s)
{
  struct cloud_step *st = &s->s[s->at];

  memset(&s->op, 0, sizeof(s->op));
  s->op.what = st->what;
  st->tries++;
  if (o->step(h, st, &s->op)) return -1;
  if (!*s->op.url) {              /* done in its call */
    step_release(st);
    s->at++;
    return 0;
  }
  s->running = 1;
  s->next = now_s() + s->op.after;
  return 0;
}

int cloud_steps_go(const struct cloud_ops *o, struct http *h,
                   struct cloud_steps *s, struct cloud_host *c)
{
  int rc;

  while (s->at < s->n) {
    if (!s->running) {
      if (send_step(o, h, s)) {
        c->state = CLOUD_FAILED;
        return -1;
      }
      if (s->running) return 1;     /* asked after at the next poll */
      continue;
    }
    if (now_s() < s->next) return 1;       /* its Retry-After */
    rc = o->op(h, &s->op, c);
    s->next = now_s() + s->op.after;
    if (rc == 1) return 1;
    if (rc == -1) return -1;        /* the driver's poll counts it */
    s->running = 0;
    if (rc == -2 && s->op.retry && s->s[s->at].tries < STEP_TRIES) {
      info("%s: %s; sending it again", o->name, mvm.err);
      continue;
    }
    if (rc == -2) {
      c->state = CLOUD_FAILED;
      return -1;
    }
    step_release(&s->s[s->at]);
    s->at++;
  }
  return 0;
}
