/* tests/fuzz/fuzz_manifest.c - libFuzzer harness for the remote manifest
 * parser (lib/sync/manifest.c), the one parser of mvm-sync that reads what a
 * host sends: every section of the input is parsed, looked up, and planned
 * against itself and against an empty tree (lib/sync/plan.c), as the applet
 * does. Build: make fuzz; run: tests/fuzz/fuzz_manifest -max_total_time=60 */
#include "mvm.h"
#include "sync/sync.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  char *buf = xmalloc(size + 1), *excl[] = { "target/", "/b*/", "*.o" };
  struct plan_opts o = { .dest = "/d/t", .delete = 1,
                         .dry = 1 };
  struct manifest m, m2, empty = { 0 };
  struct plan p;
  size_t off = 0, used, i;

  memcpy(buf, data, size);
  buf[size] = 0;
  while (off < size) {
    if (manifest_parse(&m, buf + off, size - off, &used, excl, 3)) {
      manifest_release(&m);
      break;
    }
    for (i = 0; i < m.n; i++)
      if (manifest_find(&m, m.e[i].path) == NULL) __builtin_trap();
    m2 = m;
    plan_make(&p, &m, &m2, &o);
    if (p.nsend) __builtin_trap();          /* a tree equals itself */
    plan_release(&p);
    plan_make(&p, &m, &empty, &o);
    plan_release(&p);
    plan_make(&p, &empty, &m, &o);
    plan_release(&p);
    manifest_release(&m);
    off += used;
    if (!used) break;
  }
  free(buf);
  return 0;
}
