/* tests/unit/test_lazylib.c - lib/lazylib.c: a library loaded at first use
 * gives its symbols; a missing one gives NULL and one error naming the
 * library and the Debian package, and the process goes on. */
#include "unit.h"
#include "lazylib.h"

static void test_lazylib(void)
{
  struct lazylib z = { .soname = "libz.so.1", .package = "zlib1g" };
  struct lazylib none = { .soname = "libmvm-nosuch.so.9",
                          .package = "mvm-nosuch9" };

  TEST_START("lazy_sym: a present library gives its function");
  ASSERT_TRUE(lazy_sym(&z, "zlibVersion") != NULL);
  ASSERT_TRUE(z.handle != NULL);
  TEST_DONE();

  TEST_START("lazy_sym: an absent symbol is NULL and says which");
  mvm.err[0] = 0;
  ASSERT_NULL(lazy_sym(&z, "mvm_no_such_function"));
  ASSERT_TRUE(strstr(mvm.err, "libz.so.1 has no mvm_no_such_function") != NULL);
  TEST_DONE();

  TEST_START("lazy_sym: a missing library names it and its package");
  mvm.err[0] = 0;
  ASSERT_NULL(lazy_sym(&none, "f"));
  ASSERT_TRUE(strstr(mvm.err, "cannot load libmvm-nosuch.so.9 (install the "
                      "Debian package mvm-nosuch9)") != NULL);
  ASSERT_INT_EQ(none.failed, 1);
  mvm.err[0] = 0;                    /* no second dlopen, the same reason */
  ASSERT_NULL(lazy_sym(&none, "g"));
  ASSERT_TRUE(strstr(mvm.err, "mvm-nosuch9") != NULL);
  TEST_DONE();
}

UNIT_REGISTER(test_lazylib)
