/* tests/unit/test_sums.c - lib/sync/manifest.c sums_batch(): a sha256sum run's
 * output is bounded by its names (escaped, at worst doubled), not by a
 * guess per file; and lib/sync/plan.c plan_tree(): SRC[:DEST] to the remote. */
#include "unit.h"

static void batch(void)
{
  struct ment e[4] = { { .path = "a", .size = 10 },
                       { .path = "b\nc", .size = 20 },
                       { .path = "", .size = 1 }, { .path = "d", .size = 2 } };
  struct ment *c[4] = { e, e + 1, e + 2, e + 3 };
  char longname[4001];
  int64_t bytes;

  TEST_START("sums_batch: runs sized by the names");
  /* lines at worst: 2*1+68 = 70, 2*3+68 = 74, 68, 70 */
  ASSERT_INT_EQ(sums_batch(c, 4, 1000, &bytes), 4);
  ASSERT_INT_EQ(bytes, 33);
  ASSERT_INT_EQ(sums_batch(c, 4, 144, &bytes), 2);
  ASSERT_INT_EQ(bytes, 30);
  ASSERT_INT_EQ(sums_batch(c, 4, 143, &bytes), 1);
  memset(longname, 'x', 4000);
  longname[4000] = 0;
  e[0].path = longname;       /* too long for max alone: still one */
  ASSERT_INT_EQ(sums_batch(c, 4, 100, &bytes), 1);
  ASSERT_INT_EQ(bytes, 10);
  TEST_DONE();
}

static void tree(void)
{
  char *src, *dest, *stage;

  TEST_START("plan_tree: SRC:DEST, the staging dir, bad input");
  ASSERT_INT_EQ(plan_tree("/nonexistent-x:app/", "/d", &src, &dest, &stage),
                0);
  ASSERT_STR_EQ(src, "/nonexistent-x");
  ASSERT_STR_EQ(dest, "/d/app");
  ASSERT_STR_EQ(stage, "/d/.mvm-sync.app");
  free(src), free(dest), free(stage);
  ASSERT_INT_EQ(plan_tree("/:/abs/t", "/d", &src, &dest, &stage), 0);
  ASSERT_STR_EQ(dest, "/abs/t");
  ASSERT_STR_EQ(stage, "/abs/.mvm-sync.t");
  free(src), free(dest), free(stage);
  ASSERT_INT_EQ(plan_tree("x:", "/d", &src, &dest, &stage), 1);
  free(src);
  ASSERT_INT_EQ(plan_tree("/nonexistent-x", "/d", &src, &dest, &stage), -1);
  free(src);
  ASSERT_INT_EQ(plan_tree("/:/", "/d", &src, &dest, &stage), 1);
  free(src), free(dest);
  ASSERT_INT_EQ(plan_tree("/:0123456789012345678901234567890123456789", "/d",
                          &src, &dest, &stage), 0);
  ASSERT_STR_EQ(stage, "/d/.mvm-sync.01234567890123456789012345678901");
  free(src), free(dest), free(stage);
  TEST_DONE();
}

static void test_sums(void)
{
  batch();
  tree();
}
UNIT_REGISTER(test_sums)
