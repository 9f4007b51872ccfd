/* providers/static.c - hosts you already have, given as arguments:
 * `mvm-provision static HOST...` emits one record per host and creates
 * nothing, so there is no user-data and no generated host key (later
 * stages pin the key on first use). down() destroys nothing, and says so. */
#include "mvm.h"
#include "provider.h"

static const char *static_none(void)
{
  return "-";
}

/* Bad input, before anything exists: a bad address ends the process. */
static int static_check(const struct up_args *a)
{
  char **h;

  if (!a->args[0])
    return error("static: give the hosts: mvm-provision static HOST...");
  for (h = a->args; *h; h++)
    if (!rec_addr_ok(*h)) die("static: bad address '%s'", *h);
  return 0;
}

static int static_up(const struct up_args *a, emit_fn emit)
{
  struct rec r;
  char **h;

  if (static_check(a)) return -1;
  for (h = a->args; *h; h++) {
    rec_new(&r, *h);
    rec_set(&r, "provider", "static");
    rec_set(&r, "id", "%s", *h);
    emit(&r);
    rec_release(&r);
  }
  return 0;
}

static int static_down(const char *label, const struct rec *only,
                       emit_fn emit)
{
  struct rec r;
  int i;

  if (!only) {
    info("static: nothing to destroy (label %s): static hosts are yours,"
         " not created by mvm-provision", label ? label : "any");
    return 0;
  }
  info("%s: static host kept: not created by mvm-provision", only->addr);
  rec_new(&r, only->addr);
  for (i = 0; i < only->n; i++)
    rec_set(&r, only->f[i].key, "%s", only->f[i].val);
  rec_set(&r, "kept", "static");
  emit(&r);
  rec_release(&r);
  return 0;
}

/* Nothing of static's is destroyed, so there is nothing to list. */
static int static_list(const char *label, emit_fn emit)
{
  (void)emit;
  info("static: nothing to list (label %s): static hosts are yours, not"
       " created by mvm-provision", label ? label : "any");
  return 0;
}

const struct provider provider_static = {
  .name = "static",
  .flags = PF_NOCREATE,
  .default_instance_type = static_none,
  .default_region = static_none,
  .up = static_up,
  .down = static_down,
  .list = static_list,
  .check = static_check,
};
