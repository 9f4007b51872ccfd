/* tests/fuzz/fuzz_record.c - libFuzzer harness for the record parser and
 * formatter: any input parses without a crash, and a parsed record
 * formats to a line that parses back to the same fields (round-trip). */
#include "mvm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct rec a, b;
  char *s, *t;
  int i;

  if (size > REC_LINE_MAX) return 0;
  if (rec_parse(&a, (const char *)data, size, 1) || !a.addr) {
    rec_release(&a);
    return 0;
  }
  s = rec_format(&a);
  if (rec_parse(&b, s, strlen(s) - 1, 1)) abort();
  if (strcmp(a.addr, b.addr) || a.n != b.n) abort();
  for (i = 0; i < a.n; i++)
    if (strcmp(a.f[i].key, b.f[i].key) || strcmp(a.f[i].val, b.f[i].val))
      abort();
  t = rec_format(&b);
  if (strcmp(s, t)) abort();
  free(s);
  free(t);
  rec_release(&a);
  rec_release(&b);
  return 0;
}
