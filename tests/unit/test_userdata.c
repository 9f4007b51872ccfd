/* tests/unit/test_userdata.c - lib/deploy/userdata.c: the merge rule, the
 * operator's key (to user mvm), the KVM gate switch, the host key block,
 * and bad input rejected with file and line (table-driven). */
#include "unit.h"

static char *compose(const char *a, const char *b, const char *pub,
                     int gate, const struct hostkey *k)
{
  struct ud_part p[2] = { { "a.yaml", a, strlen(a) },
                          { "b.yaml", b ? b : "", b ? strlen(b) : 0 } };
  struct ud_opts o = { p, b ? 2 : 1, pub, gate, k };
  size_t len;
  char *s = userdata_compose(&o, &len);

  if (s) ASSERT_INT_EQ(strlen(s), len);
  return s;
}

static void ok(const char *name, const char *a, const char *b,
               const char *pub, int gate, const char *want)
{
  char *s;

  TEST_START(name);
  s = compose(a, b, pub, gate, NULL);
  if (!s) UNIT_FAIL("compose failed: %s", mvm.err);
  else ASSERT_STR_EQ(s, want);
  free(s);
  TEST_DONE();
}

static void test_userdata(void)
{
  static const struct { const char *a, *err; } bad[] = {
    { "a: 1\nb: [\n", "a.yaml: line 3: " },
    { "a: 1\n  b: 2\n", "a.yaml: line 2: mapping values are not allowed" },
    { "- 1\n- 2\n", "a.yaml: line 1: top level is not a mapping" },
    { "a: 1\n---\nb: 2\n", "a.yaml: line 3: more than one YAML document" },
    { "ssh_keys: {a: 1}\n", "a.yaml: ssh_keys is set by mvm-provision" },
    { "#!/bin/sh\necho\n", "a.yaml: a shell script cannot be merged" },
    { "Content-Type: multipart/mixed\n", "a.yaml: MIME user-data" },
    { "users: 5\n", "users: not a list" },
    { "write_files: {}\n", "write_files: not a list" },
    { "users: [{name: mvm, ssh_authorized_keys: k}]\n",
      "users: mvm: ssh_authorized_keys: not a list" },
    { "ssh_authorized_keys: k\n", "ssh_authorized_keys: not a list" },
    { "a: &x [*x]\n", "a.yaml: YAML nested too deeply" },
    { "a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
      "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
      "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
      "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n", "a.yaml: YAML too large" },
  };
  struct hostkey k;
  char *s, *p;
  size_t i;

  ok("userdata: sequences concatenate, mappings merge, scalars: later wins",
     "a: [1]\nm: {x: 1}\ns: one\n", "a: [2]\nm: {y: 2}\ns: two\nt: 3\n",
     NULL, 0, "#cloud-config\na: [1, 2]\nm: {x: 1, y: 2}\ns: two\nt: 3\n");
  ok("userdata: styles and tags survive",
     "p: '0644'\nl: |\n  x\n  y\nb: !!binary aGk=\n", NULL, NULL, 0,
     "#cloud-config\np: '0644'\nl: |\n  x\n  y\nb: !!binary aGk=\n");
  ok("userdata: comments-only part merges nothing", "# nothing\n", "a: 1\n",
     NULL, 0, "#cloud-config\na: 1\n");
  ok("userdata: key goes to user mvm only, its list created",
     "users:\n- default\n- name: u\n  ssh_authorized_keys: [x]\n"
     "- name: mvm\n  shell: /bin/sh\n", NULL, "ssh-ed25519 K op", 0,
     "#cloud-config\nusers:\n- default\n- name: u\n"
     "  ssh_authorized_keys: [x]\n- name: mvm\n  shell: /bin/sh\n"
     "  ssh_authorized_keys:\n  - ssh-ed25519 K op\n");
  ok("userdata: key appended to mvm's own list (parts merged first)",
     "users:\n- name: mvm\n  ssh_authorized_keys: [a]\n", NULL,
     "ssh-ed25519 K", 0, "#cloud-config\nusers:\n- name: mvm\n"
     "  ssh_authorized_keys: [a, ssh-ed25519 K]\n");
  ok("userdata: no such user: the top-level list (default user)",
     "a: 1\n", NULL, "ssh-ed25519 K", 0,
     "#cloud-config\na: 1\nssh_authorized_keys:\n- ssh-ed25519 K\n");
  ok("userdata: the KVM gate switch writes /etc/mvm-kvm-gate",
     "write_files: []\n", NULL, NULL, 1,
     "#cloud-config\nwrite_files: [{path: /etc/mvm-kvm-gate, "
     "content: \"optional\\n\"}]\n");

  TEST_START("userdata: the host key block, and it parses");
  ASSERT_INT_EQ(hostkey_generate(&k, "lab-1"), 0);
  s = compose("a: 1\n", NULL, NULL, 0, &k);
  ASSERT_TRUE(s != NULL);
  p = s ? strstr(s, "ssh_keys:\n  ed25519_private: |\n    -----BEGIN") : NULL;
  ASSERT_TRUE(p != NULL);
  ASSERT_TRUE(s && strstr(s, k.pub) && strstr(s, "ed25519_public: "));
  ASSERT_INT_EQ(s ? userdata_check(s, strlen(s), "x") : -1, 0);
  if (s) freezero(s, strlen(s));
  hostkey_clear(&k);
  TEST_DONE();

  TEST_START("userdata: a scalar ending in ... keeps it, key stays on top");
  ASSERT_INT_EQ(hostkey_generate(&k, "x"), 0);
  s = compose("a: [x...]\nb: y...\n", NULL, NULL, 0, &k);
  ASSERT_TRUE(s && !strncmp(s, "#cloud-config\na: [x...]\nb: y...\n"
                            "ssh_keys:\n", 42));
  if (s) freezero(s, strlen(s));
  hostkey_clear(&k);
  TEST_DONE();

  TEST_START("userdata: bad parts are refused with file and line");
  for (i = 0; i < ARRAY_LEN(bad); i++) {
    mvm.err[0] = 0;
    s = compose(bad[i].a, NULL, "ssh-ed25519 K", 1, NULL);
    if (s) UNIT_FAIL("accepted case %zu", i);
    else if (strncmp(mvm.err, bad[i].err, strlen(bad[i].err)))
      UNIT_FAIL("case %zu: '%s', want '%s...'", i, mvm.err, bad[i].err);
    free(s);
  }
  TEST_DONE();

  TEST_START("userdata: check wants #cloud-config and one mapping");
  ASSERT_INT_EQ(userdata_check("a: 1\n", 5, "x"), -1);
  ASSERT_INT_EQ(userdata_check("#cloud-config\n[1]\n", 18, "x"), -1);
  ASSERT_INT_EQ(userdata_check("#cloud-config\na: [\n", 19, "x"), -1);
  ASSERT_INT_EQ(strncmp(mvm.err, "x: line 3", 9), 0);
  ASSERT_INT_EQ(userdata_check("#cloud-config\na: 1\n", 19, "x"), 0);
  TEST_DONE();
}
UNIT_REGISTER(test_userdata)
