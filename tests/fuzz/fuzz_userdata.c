/* tests/fuzz/fuzz_userdata.c - libFuzzer harness for lib/deploy/userdata.c: any
 * part composes or is refused without a crash or leak; what composes
 * passes userdata_check and loads again as a part (the emitter never
 * writes YAML that the parser refuses). */
#include "mvm.h"
#include "ssh/ssh.h"
#include "deploy/deploy.h"

static const char base[] =
  "users:\n- default\n- name: mvm\n  shell: /bin/bash\n"
  "write_files:\n- path: /x\n  content: |\n    hi\nruncmd:\n- [true]\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct ud_part p[2] = { { "base", base, sizeof(base) - 1 },
                          { "fuzz", (const char *)data, size } };
  struct ud_opts o = { p, 2, "ssh-ed25519 AAAA op", (int)(size & 1), NULL };
  static struct hostkey key;
  size_t len, len2;
  char *s, *t;

  if (size > 65536) return 0;
  if (!key.priv && hostkey_generate(&key, "fuzz")) abort();
  if (size & 2) o.key = &key;
  if (!(s = userdata_compose(&o, &len))) return 0;
  if (userdata_check(s, len, "out")) abort();
  if (o.key) {        /* cut the appended ssh_keys: a part may not set it */
    char *k = s, *at = NULL;
    while ((k = strstr(k, "\nssh_keys:\n  ed25519_private: |\n"))) at = ++k;
    if (!at) abort();
    *at = 0;
    len = strlen(s);
  }
  p[1].text = s;
  p[1].len = len;
  o.key = NULL;
  o.pubkey = NULL;
  o.kvm_optional = 0;
  if (!(t = userdata_compose(&o, &len2))) {
    fprintf(stderr, "re-load failed: %s\n%s", mvm.err, s);
    abort();
  }
  freezero(s, len);
  free(t);
  return 0;
}
