/* tests/unit/test_kvm.c - the KVM gate's report, the seccomp probe, and
 * the device checks through MVM_KVM_DEV. */
#include "unit.h"

static void test_kvm(void)
{
  struct kreport r;
  char big[1000];
  int i;

  TEST_START("kreport_add keeps one line");
  memset(&r, 0, sizeof(r));
  kreport_add(&r, "open", KR_FAIL, "a\nb\rc %d", 7);
  ASSERT_INT_EQ(r.n, 1);
  ASSERT_STR_EQ(r.c[0].detail, "a b c 7");
  ASSERT_STR_EQ(kreport_word(r.c[0].res), "fail");
  TEST_DONE();

  TEST_START("kreport_add cuts long details and stops when full");
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = 0;
  for (i = 0; i < KCHECK_MAX + 3; i++)
    kreport_add(&r, "api", KR_OK, "%s", big);
  ASSERT_INT_EQ(r.n, KCHECK_MAX);
  ASSERT_INT_EQ(strlen(r.c[1].detail), sizeof(r.c[1].detail) - 1);
  TEST_DONE();

  TEST_START("kreport_kvm ignores seccomp and warnings");
  memset(&r, 0, sizeof(r));
  kreport_add(&r, "nested", KR_WARN, "off");
  kreport_add(&r, "seccomp", KR_FAIL, "no");
  ASSERT_INT_EQ(kreport_kvm(&r), KR_OK);
  ASSERT_STR_EQ(kreport_word(KR_WARN), "warn");
  kreport_add(&r, "guest", KR_FAIL, "shutdown");
  ASSERT_INT_EQ(kreport_kvm(&r), KR_FAIL);
  TEST_DONE();

  TEST_START("seccomp_probe passes");
  ASSERT_INT_EQ(seccomp_probe(), 0);
  TEST_DONE();

  TEST_START("kvm_check_all on /dev/null: device fails, no ioctls");
  memset(&r, 0, sizeof(r));
  setenv("MVM_KVM_DEV", "/dev/null", 1);
  kvm_check_all(&r);
  unsetenv("MVM_KVM_DEV");
  ASSERT_TRUE(r.n >= 3);
  ASSERT_STR_EQ(r.c[0].name, "device");
  ASSERT_INT_EQ(r.c[0].res, KR_FAIL);
  ASSERT_STR_EQ(r.c[1].name, "module");
  ASSERT_STR_EQ(r.c[2].name, "nested");
  ASSERT_INT_EQ(kreport_kvm(&r), KR_FAIL);
  TEST_DONE();
}
UNIT_REGISTER(test_kvm)
