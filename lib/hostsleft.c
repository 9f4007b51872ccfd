/* lib/hostsleft.c - the hosts a stage has seen records of and not
 * destroyed, counted by provider and label, so that a stage that is
 * interrupted or fails can name the command that tears them down: every
 * cloud hour costs, and the operator must never be left guessing what
 * still runs. */
#include "mvm.h"

#define GROUPS_MAX 64
static struct group {
  char *prov, *label;
  int n;
} G[GROUPS_MAX];
static int ngroups;

/* A record of a host that exists: it has an id, and is not one that
 * creates nothing (static) or was destroyed already (stage=down). */
static int exists(const struct rec *r)
{
  const char *p = rec_get(r, "provider"), *id = rec_get(r, "id");
  const char *st = rec_get(r, "stage");

  return r->addr && !r->bad && p && strcmp(p, "static") && id && *id &&
         strcmp(id, "-") && !(st && !strcmp(st, "down"));
}

/* delta +1: a record of a host was seen; -1: that host was destroyed. */
void hosts_seen(const struct rec *r, int delta)
{
  const char *p, *a = rec_get(r, "adapter"), *l = rec_get(r, "label");
  int i;

  if (!exists(r)) return;
  p = rec_get(r, "provider");
  if (!p) return;
  if (a && *a && !strcmp(p, "script")) p = a;  /* teardown takes the path */
  if (!l) l = "";
  for (i = 0; i < ngroups; i++)
    if (!strcmp(G[i].prov, p) && !strcmp(G[i].label, l)) break;
  if (i == ngroups) {
    if (delta < 0) return;
    if (ngroups == GROUPS_MAX) i = GROUPS_MAX - 1;  /* lumped, still counted */
    else {
      G[i].prov = xstrdup(p);
      G[i].label = xstrdup(l);
      ngroups++;
    }
  }
  G[i].n += delta;
}

/* Printed into a command line: only what needs no quoting. */
static int plain(const char *s)
{
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && !strchr("._-+/:@=,", *s)) return 0;
  return 1;
}

/* One stderr line per provider and label with hosts left; 0 if none. */
int hosts_hint(void)
{
  int i, total = 0;

  for (i = 0; i < ngroups; i++) {
    if (G[i].n <= 0) continue;
    total += G[i].n;
    if (*G[i].label && plain(G[i].label) && plain(G[i].prov))
      fprintf(stderr, "%s: %d host(s) may still be running: mvm-teardown"
              " %s %s\n", mvm.applet, G[i].n, G[i].prov, G[i].label);
    else
      fprintf(stderr, "%s: %d host(s) of %s may still be running, without a"
              " label: pipe their records to mvm-teardown\n", mvm.applet,
              G[i].n, G[i].prov);
  }
  return total;
}
