/* providers/providers.c - THE provider table (curl's available_backends[]):
 * one line per provider, sorted, and the lookups. Only this file knows
 * which providers exist. Adding a cloud provider is one P() line here plus
 * its providers/<name>.c. */
#include "mvm.h"
#include "provider.h"

/* P(name): one provider, defined in providers/<name>.c. */
#define PROVIDERS \
  P(aws) \
  P(azure) \
  P(equinix) \
  P(gcp) \
  P(hetzner) \
  P(latitude) \
  P(nspawn) \
  P(ovh) \
  P(qemu) \
  P(script) \
  P(static) \
  P(vultr)

#define P(n) extern const struct provider provider_##n;
PROVIDERS
#undef P

static const struct provider *const table[] = {
#define P(n) &provider_##n,
  PROVIDERS
#undef P
  NULL
};

const struct provider *const *provider_list(void)
{
  return table;
}

int provider_pins(const char *name)
{
  const struct provider *const *l;

  for (l = provider_list(); *l; l++)
    if (!strcmp((*l)->name, name)) return !!((*l)->flags & PF_PINS);
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
