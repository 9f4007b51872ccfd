/* tests/unit/test_kvm.c - the KVM gate's report (and its text form, the
 * static probe's output, read back), the seccomp probe, and the device
 * checks through MVM_KVM_DEV. */
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

  TEST_START("kreport: written and read back, the same verdict");
  {
    static const struct { const char *text, *err; } bad[] = {
      { "", "empty report" },
      { "ok device: x", "report line 1 does not end" },
      { "ok device: x\nmaybe api: y\n", "report line 2 is not" },
      { "ok Device: x\n", "report line 1 is not" },
      { "ok device x\n", "report line 1 is not" },
      { "ok averyveryverylongname: x\n", "report line 1 is not" },
    };
    const char *kvm, *sec;
    struct kreport k;
    char *text = NULL;
    size_t len = 0, j;
    FILE *f = open_memstream(&text, &len);

    memset(&r, 0, sizeof(r));
    kreport_add(&r, "device", KR_OK, "/dev/kvm is character device 10:232");
    kreport_add(&r, "nested", KR_WARN, "a: b: c");
    kreport_add(&r, "seccomp", KR_OK, "socket() fails");
    ASSERT_INT_EQ(kreport_write(&r, f), 0);
    fclose(f);
    ASSERT_STR_EQ(text, "ok device: /dev/kvm is character device 10:232\n"
                  "warn nested: a: b: c\nok seccomp: socket() fails\n");
    ASSERT_INT_EQ(kreport_read(&k, text, len), 0);
    ASSERT_INT_EQ(k.n, 3);
    ASSERT_STR_EQ(k.c[1].name, "nested");
    ASSERT_INT_EQ(k.c[1].res, KR_WARN);
    ASSERT_STR_EQ(k.c[1].detail, "a: b: c");
    ASSERT_INT_EQ(kreport_verdict(&k, &kvm, &sec), 0);
    ASSERT_STR_EQ(kvm, "ok");
    ASSERT_STR_EQ(sec, "ok");
    free(text);
    ASSERT_INT_EQ(kreport_read(&k, "fail device: no\n", 16), 0);
    ASSERT_INT_EQ(kreport_verdict(&k, &kvm, &sec), -1);
    ASSERT_STR_EQ(kvm, "fail");
    ASSERT_STR_EQ(sec, "fail");      /* no seccomp check: not a pass */
    for (j = 0; j < ARRAY_LEN(bad); j++) {
      mvm.err[0] = 0;
      if (!kreport_read(&k, bad[j].text, strlen(bad[j].text)))
        UNIT_FAIL("accepted case %zu", j);
      else if (strncmp(mvm.err, bad[j].err, strlen(bad[j].err)))
        UNIT_FAIL("case %zu: '%s', want '%s...'", j, mvm.err, bad[j].err);
    }
  }
  TEST_DONE();

  TEST_START("kreport_read: at most KCHECK_MAX lines");
  {
    char many[40 * (KCHECK_MAX + 1)] = "";
    struct kreport k;

    for (i = 0; i <= KCHECK_MAX; i++) strcat(many, "ok api: 12\n");
    ASSERT_INT_EQ(kreport_read(&k, many, strlen(many)), -1);
    ASSERT_INT_EQ(strncmp(mvm.err, "report has over", 15), 0);
  }
  TEST_DONE();

  TEST_START("the embedded probe is a static ELF");
  ASSERT_TRUE(kvmprobe_size > 1024);
  ASSERT_INT_EQ(memcmp(kvmprobe_start, "\177ELF", 4), 0);
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

  /* lib/kvm/kvmprobe.c on its own: a descriptor that is not /dev/kvm
   * fails at KVM_CREATE_VM, says why, and leaves no descriptor open; a
   * real /dev/kvm (absent on most test machines) makes a VM. */
  TEST_START("kvm_probe_vm: not a KVM fd fails at KVM_CREATE_VM, leaks no fd");
  {
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC), next;

    memset(&r, 0, sizeof(r));
    kvm_probe_vm(&r, fd, NULL);
    ASSERT_INT_EQ(r.n, 1);
    ASSERT_STR_EQ(r.c[0].name, "vm");
    ASSERT_INT_EQ(r.c[0].res, KR_FAIL);
    ASSERT_TRUE(strstr(r.c[0].detail, "KVM_CREATE_VM: ") != NULL);
    next = dup(fd);
    ASSERT_INT_EQ(next, fd + 1);    /* nothing opened above it stayed */
    close(next);
    close(fd);
  }
  TEST_DONE();
  if (access("/dev/kvm", R_OK | W_OK) == 0) {
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

    TEST_START("kvm_probe_vm on /dev/kvm makes a VM");
    memset(&r, 0, sizeof(r));
    kvm_probe_vm(&r, fd, NULL);
    ASSERT_TRUE(r.n >= 1);
    ASSERT_STR_EQ(r.c[0].name, "vm");
    ASSERT_INT_EQ(r.c[0].res, KR_OK);
    close(fd);
    TEST_DONE();
  }
}
UNIT_REGISTER(test_kvm)
