/* tests/unit/test_providers.c - the provider table (the C form of the
 * original up.sh's declare -F check): every entry has a name, all four
 * functions and list, names are unique, provider_find finds each, adapter paths
 * select "script". Weak entries not linked in are simply absent. */
#include "unit.h"
#include "provider.h"

static void test_providers(void)
{
  const struct provider *const *l = provider_list(), *const *m;
  int n = 0, have_static = 0, have_script = 0;

  TEST_START("providers: every entry has a name, four functions and list");
  for (; *l; l++, n++) {
    if (!(*l)->name || !*(*l)->name || !(*l)->default_instance_type
        || !(*l)->default_region || !(*l)->up || !(*l)->down
        || !(*l)->list)
      UNIT_FAIL("provider %d (%s) lacks a function", n,
                (*l)->name ? (*l)->name : "?");
    for (m = provider_list(); m < l; m++)
      if (!strcmp((*m)->name, (*l)->name))
        UNIT_FAIL("provider '%s' twice", (*l)->name);
    if (provider_find((*l)->name) != *l)
      UNIT_FAIL("provider_find('%s')", (*l)->name);
    have_static |= !strcmp((*l)->name, "static");
    have_script |= !strcmp((*l)->name, "script");
  }
  ASSERT_TRUE(n >= 2);
  ASSERT_TRUE(have_static && have_script);
  TEST_DONE();

  TEST_START("providers: flags: static creates nothing, script is a cloud");
  ASSERT_INT_EQ(provider_find("static")->flags, PF_NOCREATE);
  ASSERT_INT_EQ(provider_find("script")->flags, 0);
  TEST_DONE();

  TEST_START("providers: the local ones are local and pin host keys");
  ASSERT_INT_EQ(provider_find("nspawn")->flags, PF_LOCAL | PF_PINS);
  ASSERT_INT_EQ(provider_find("qemu")->flags, PF_LOCAL | PF_PINS);
  TEST_DONE();

  TEST_START("providers: an adapter path selects script, sets MVM_ADAPTER");
  ASSERT_STR_EQ(provider_find("./providers/hetzner.sh")->name, "script");
  ASSERT_STR_EQ(getenv("MVM_ADAPTER"), "./providers/hetzner.sh");
  ASSERT_STR_EQ(provider_find("x.sh")->name, "script");
  unsetenv("MVM_ADAPTER");
  TEST_DONE();

  TEST_START("providers: static defaults are '-'");
  ASSERT_STR_EQ(provider_find("static")->default_region(), "-");
  ASSERT_STR_EQ(provider_find("static")->default_instance_type(), "-");
  TEST_DONE();
}
UNIT_REGISTER(test_providers)
