/* providers/providers.c - THE provider table (curl's available_backends[]):
 * one line per provider, sorted, and the lookups. Only this file knows
 * which providers exist. Adding a cloud provider is one P() line here plus
 * its providers/<name>.c. */
#include "mvm.h"
#include "provider.h"

/* P(name, flags): one provider, defined in providers/<name>.c. */
#define PROVIDERS \
  P(nspawn, PF_LOCAL | PF_PINS) \
  P(qemu,   PF_LOCAL | PF_PINS) \
  P(script, 0) \
  P(static, PF_NOCREATE)

#define P(n, f) extern const struct provider provider_##n;
PROVIDERS
#undef P

static const struct entry {
  const struct provider *p;
  unsigned flags;
} table[] = {
#define P(n, f) { &provider_##n, f },
  PROVIDERS
#undef P
};

const struct provider *const *provider_list(void)
{
  static const struct provider *list[ARRAY_LEN(table) + 1];
  size_t i, n = 0;

  if (!list[0])
    for (i = 0; i < ARRAY_LEN(table); i++) list[n++] = table[i].p;
  return list;
}

unsigned provider_flags(const struct provider *p)
{
  size_t i;

  for (i = 0; i < ARRAY_LEN(table); i++)
    if (table[i].p == p) return table[i].flags;
  return 0;
}

int provider_pins(const char *name)
{
  const struct provider *const *l;

  for (l = provider_list(); *l; l++)
    if (!strcmp((*l)->name, name)) return !!(provider_flags(*l) & PF_PINS);
  return 0;
}

const struct provider *provider_find(const char *name)
{
  const struct provider *const *l = provider_list();
  char known[256] = "";
  size_t n = strlen(name);

  if (strchr(name, '/') || (n > 3 && !strcmp(name + n - 3, ".sh"))) {
    xsetenv("MVM_ADAPTER", name);
    name = "script";
  }
  for (; *l; l++) {
    if (!strcmp((*l)->name, name)) return *l;
    snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
             *known ? " " : "", (*l)->name);
  }
  die("unknown provider '%s' (known: %s)", name, known);
}
