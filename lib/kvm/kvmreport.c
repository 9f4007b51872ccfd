/* lib/kvm/kvmreport.c - the KVM gate's report: checks added to a struct
 * kreport, the verdict (kvm=, seccomp=), and the report as text:
 * the lines the static probe (probe/kvmprobe.c) prints on a host and
 * mvm-kvmcheck reads back, so a host's record is decided exactly as this
 * machine's. Libc only: the static probe links it. */
#include "mvm.h"
#include "kvm.h"

void kreport_add(struct kreport *r, const char *name, int res,
                 const char *fmt, ...)
{
  struct kcheck *c;
  va_list ap;
  char *p;

  if (r->n >= KCHECK_MAX) return;
  c = &r->c[r->n++];
  snprintf(c->name, sizeof(c->name), "%s", name);
  c->res = res;
  va_start(ap, fmt);
  vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
  va_end(ap);
  for (p = c->detail; *p; p++)
    if (*p == '\n' || *p == '\r') *p = ' ';
}

const char *kreport_word(int res)
{
  return res == KR_OK ? "ok" : res == KR_WARN ? "warn" : "fail";
}

int kreport_kvm(const struct kreport *r)
{
  int i;

  for (i = 0; i < r->n; i++)
    if (r->c[i].res == KR_FAIL && strcmp(r->c[i].name, "seccomp"))
      return KR_FAIL;
  return KR_OK;
}

int kreport_verdict(const struct kreport *r, const char **kvm,
                    const char **sec)
{
  int i;

  *kvm = kreport_kvm(r) == KR_OK ? "ok" : "fail";
  *sec = "fail";                /* no seccomp check is not a pass */
  for (i = 0; i < r->n; i++)
    if (!strcmp(r->c[i].name, "seccomp") && r->c[i].res == KR_OK)
      *sec = "ok";
  return strcmp(*kvm, "ok") || strcmp(*sec, "ok") ? -1 : 0;
}

int kreport_write(const struct kreport *r, FILE *f)
{
  int i;

  for (i = 0; i < r->n; i++)
    fprintf(f, "%s %s: %s\n", kreport_word(r->c[i].res), r->c[i].name,
            r->c[i].detail);
  return fflush(f) || ferror(f) ? -1 : 0;
}

/* One "ok|warn|fail NAME: detail" line (NAME: lower-case letters). */
static int parse_line(struct kreport *r, char *s)
{
  static const char *const words[] = { "ok", "warn", "fail" };
  char *name = strchr(s, ' '), *colon;
  size_t i;

  if (!name) return -1;
  *name++ = 0;
  colon = name + strspn(name, "abcdefghijklmnopqrstuvwxyz");
  if (colon == name || colon - name >= (long)sizeof(r->c[0].name)
      || strncmp(colon, ": ", 2)) return -1;
  *colon = 0;
  for (i = 0; i < ARRAY_LEN(words); i++)
    if (!strcmp(s, words[i])) {
      kreport_add(r, name, (int)i, "%s", colon + 2);
      return 0;
    }
  return -1;
}

int kreport_read(struct kreport *r, const char *text, size_t len)
{
  char line[sizeof(r->c[0].detail) + 64];
  const char *s = text, *e, *end = text + len;
  int n = 0;

  memset(r, 0, sizeof(*r));
  for (; s < end; s = e + 1) {
    if (!(e = memchr(s, '\n', end - s)))
      return error("report line %d does not end", n + 1);
    if (++n > KCHECK_MAX) return error("report has over %d lines", KCHECK_MAX);
    if ((size_t)(e - s) >= sizeof(line))
      return error("report line %d too long", n);
    memcpy(line, s, e - s);
    line[e - s] = 0;
    if (parse_line(r, line))
      return error("report line %d is not 'ok|warn|fail NAME: detail'", n);
  }
  if (!r->n) return error("empty report");
  return 0;
}
