/* lib/record.c - the host-record format (DESIGN.md, mvm-records(5)); nothing
 * else parses or formats it. A line is an address, then key=value fields
 * separated by single spaces; values are percent-encoded for space, '%',
 * '=', control characters and bytes that are not UTF-8. Unknown keys stay
 * in order. Malformed input never crashes: rec_parse() keeps what it can and
 * says why in r->bad, and the caller turns that into an error record. */
#include "mvm.h"

/* Key comparisons rec_parse() made: the unit test checks it is linear. */
unsigned long rec_work;

int rec_key_ok(const char *key)
{
  if (!*key) return 0;
  for (; *key; key++)
    if (!islower((unsigned char)*key) && !isdigit((unsigned char)*key) &&
        *key != '_')
      return 0;
  return 1;
}

/* IPv4, IPv6 (bare or [v6]:port, with a %zone), or a DNS name, with an
 * optional :port: a conservative character set, never '=' or a space. */
int rec_addr_ok(const char *a)
{
  if (!*a || strlen(a) > 255) return 0;
  for (; *a; a++)
    if (!isalnum((unsigned char)*a) && !strchr(".:-_[]%", *a)) return 0;
  return 1;
}

/* Length of the valid UTF-8 sequence at s (1-4, at most max bytes), or 0
 * if not valid. */
static int utf8_len(const unsigned char *s, size_t max)
{
  int n, i;

  if (*s < 0x80) return 1;
  if (*s >= 0xc2 && *s <= 0xdf) n = 2;
  else if (*s >= 0xe0 && *s <= 0xef) n = 3;
  else if (*s >= 0xf0 && *s <= 0xf4) n = 4;
  else return 0;
  if ((size_t)n > max) return 0;
  for (i = 1; i < n; i++)
    if ((s[i] & 0xc0) != 0x80) return 0;
  if (n == 3 && ((*s == 0xe0 && s[1] < 0xa0) || (*s == 0xed && s[1] > 0x9f)))
    return 0;                                   /* overlong, surrogate */
  if (n == 4 && ((*s == 0xf0 && s[1] < 0x90) || (*s == 0xf4 && s[1] > 0x8f)))
    return 0;                                   /* overlong, > U+10FFFF */
  return n;
}

char *rec_encode(const char *val)
{
  const unsigned char *s = (const unsigned char *)val;
  char *out = xmalloc(strlen(val) * 3 + 1), *o = out;

  while (*s) {
    int n = utf8_len(s, strlen((const char *)s));

    if (n > 1) {
      memcpy(o, s, n);
      o += n, s += n;
    } else if (n == 0 || *s <= ' ' || *s == 0x7f || *s == '%' || *s == '=') {
      o += sprintf(o, "%%%02X", *s++);
    } else *o++ = *s++;
  }
  *o = 0;
  return out;
}

static int hexval(int c)
{
  if (c >= '0' && c <= '9') return c - '0';
  c |= 0x20;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* Decode len bytes of in. A '%' must be followed by two hex digits, and
 * %00 is refused: values are C strings. */
int rec_decode(const char *in, size_t len, char **out)
{
  char *o = xmalloc(len + 1);
  size_t i, j = 0;

  for (i = 0; i < len; i++) {
    if (in[i] != '%') {
      o[j++] = in[i];
      continue;
    }
    if (i + 2 >= len || hexval(in[i + 1]) < 0 || hexval(in[i + 2]) < 0)
      goto bad;
    o[j] = hexval(in[i + 1]) << 4 | hexval(in[i + 2]);
    if (!o[j++]) goto bad;
    i += 2;
  }
  o[j] = 0;
  *out = o;
  return 0;
bad:
  free(o);
  return -1;
}

void rec_new(struct rec *r, const char *addr)
{
  memset(r, 0, sizeof(*r));
  if (addr) r->addr = xstrdup(addr);
}

static void rec_append(struct rec *r, char *key, char *val)
{
  if (r->n == r->cap)
    r->f = xrealloc(r->f, (r->cap = r->cap ? r->cap * 2 : 8) * sizeof(*r->f));
  r->f[r->n].key = key;
  r->f[r->n++].val = val;
}

static void rec_bad(struct rec *r, const char *fmt, const char *what,
                    size_t wlen)
{
  char buf[200];

  if (r->bad) return;                   /* the first problem is the one */
  if (wlen > 40) wlen = 40;
  snprintf(buf, sizeof(buf), fmt, (int)wlen, what);
  r->bad = xasprintf("line %ld: %s", r->lineno, buf);
}

/* The first raw byte of v[0..len) that the format says must be
 * %-encoded (a control character, a byte that is not UTF-8), or -1. */
static int raw_byte(const char *v, size_t len)
{
  const unsigned char *p = (const unsigned char *)v;
  size_t i = 0;
  int n;

  while (i < len) {
    if (p[i] < ' ' || p[i] == 0x7f) return p[i];
    if (!(n = utf8_len(p + i, len - i))) return p[i];
    i += n;
  }
  return -1;
}

/* Keys seen in this line, for duplicates in constant time: open
 * addressing over field indexes + 1 (0 = empty). */
#define KEYS_SLOTS (2 * REC_FIELDS_MAX)
struct keys {
  unsigned short slot[KEYS_SLOTS];
};

/* The slot of key: where it is, or the empty one where it goes. */
static unsigned short *key_slot(struct keys *k, const struct rec *r,
                                const char *key)
{
  unsigned h = 2166136261u;             /* FNV-1a */
  const char *p;

  rec_work++;
  for (p = key; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
  for (h %= KEYS_SLOTS; k->slot[h]; h = (h + 1) % KEYS_SLOTS) {
    rec_work++;
    if (!strcmp(r->f[k->slot[h] - 1].key, key)) break;
  }
  return &k->slot[h];
}

/* One field "key=value" of len bytes. */
static void parse_field(struct rec *r, struct keys *k, const char *p,
                        size_t len)
{
  const char *eq = memchr(p, '=', len);
  unsigned short *slot;
  char *key, *val, msg[80];
  int c;

  if (!eq) return rec_bad(r, "field '%.*s' has no '='", p, len);
  key = xstrndup(p, eq - p);
  if (!rec_key_ok(key)) {
    rec_bad(r, "bad key '%.*s'", p, eq - p);
    free(key);
    return;
  }
  /* Raw, they would be re-encoded 3x: the line could outgrow what the
   * next stage reads. */
  if ((c = raw_byte(eq + 1, len - (eq + 1 - p))) >= 0) {
    snprintf(msg, sizeof(msg), "raw byte 0x%02x in '%.20s' (must be "
             "%%-encoded)", c, key);
    rec_bad(r, "%.*s", msg, strlen(msg));
    free(key);
    return;
  }
  if (rec_decode(eq + 1, len - (eq + 1 - p), &val)) {
    rec_bad(r, "bad %%-escape in '%.*s'", p, len);
    free(key);
    return;
  }
  slot = key_slot(k, r, key);
  if (*slot) {                          /* keep the last, like rec_set */
    free(r->f[*slot - 1].val);
    r->f[*slot - 1].val = val;
    free(key);
    return;
  }
  if (r->n >= REC_FIELDS_MAX) {
    snprintf(msg, sizeof(msg), "more than %d fields", REC_FIELDS_MAX);
    rec_bad(r, "%.*s", msg, strlen(msg));
    free(key);
    free(val);
    return;
  }
  rec_append(r, key, val);
  *slot = r->n;
}

/* 0 for a good record or a passthrough line (r->addr NULL), -1 for a
 * malformed one: r->bad says why, r->addr is its address or "-". */
int rec_parse(struct rec *r, const char *line, size_t len, long lineno)
{
  const char *p, *end, *sp;
  struct keys *k;

  rec_new(r, NULL);
  r->lineno = lineno;
  if (len && line[len - 1] == '\r') len--;
  r->line = xstrndup(line, len);
  if (memchr(line, 0, len)) {
    rec_bad(r, "%.*sNUL byte in line", "", 0);
    r->addr = xstrdup("-");
    return -1;
  }
  for (p = line; p < line + len && *p == ' '; p++);
  if (p == line + len || *p == '#') return 0;   /* passthrough */
  end = line + len;
  sp = memchr(p, ' ', end - p);
  if (!sp) sp = end;
  r->addr = xstrndup(p, sp - p);
  if (!rec_addr_ok(r->addr)) {
    rec_bad(r, "bad address '%.*s'", p, sp - p);
    free(r->addr);
    r->addr = xstrdup("-");
  }
  k = xzalloc(sizeof(*k));
  for (p = sp; p < end && !r->bad; p = sp) {
    while (p < end && *p == ' ') p++;
    if (p == end) break;
    sp = memchr(p, ' ', end - p);
    if (!sp) sp = end;
    parse_field(r, k, p, sp - p);
  }
  free(k);
  return r->bad ? -1 : 0;
}

const char *rec_get(const struct rec *r, const char *key)
{
  int i;

  for (i = 0; i < r->n; i++)
    if (!strcmp(r->f[i].key, key)) return r->f[i].val;
  return NULL;
}

void rec_set(struct rec *r, const char *key, const char *fmt, ...)
{
  va_list ap;
  char *val;
  int i;

  va_start(ap, fmt);
  if (vasprintf(&val, fmt, ap) < 0) die("out of memory");
  va_end(ap);
  if (!rec_key_ok(key)) die("internal error: bad record key '%s'", key);
  for (i = 0; i < r->n; i++)
    if (!strcmp(r->f[i].key, key)) {
      free(r->f[i].val);
      r->f[i].val = val;
      return;
    }
  rec_append(r, xstrdup(key), val);
}

void rec_unset(struct rec *r, const char *key)
{
  int i;

  for (i = 0; i < r->n; i++)
    if (!strcmp(r->f[i].key, key)) {
      free(r->f[i].key);
      free(r->f[i].val);
      memmove(r->f + i, r->f + i + 1, (r->n - i - 1) * sizeof(*r->f));
      r->n--;
      return;
    }
}

void rec_fail(struct rec *r, const char *stage, const char *fmt, ...)
{
  char reason[256];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(reason, sizeof(reason), fmt, ap);
  va_end(ap);
  rec_set(r, "error", "%s:%s", stage, reason);
}

int rec_failed(const struct rec *r)
{
  return rec_get(r, "error") != NULL;
}

char *rec_format(const struct rec *r)
{
  size_t cap = 2, len = 0;
  char *out, **enc;
  int i;

  if (!r->addr) return xasprintf("%s\n", r->line ? r->line : "");
  enc = xmalloc((r->n + 1) * sizeof(*enc));
  cap += strlen(r->addr);
  for (i = 0; i < r->n; i++) {
    enc[i] = rec_encode(r->f[i].val);
    cap += strlen(r->f[i].key) + strlen(enc[i]) + 2;
  }
  out = xmalloc(cap);
  len = sprintf(out, "%s", r->addr);
  for (i = 0; i < r->n; i++) {
    len += sprintf(out + len, " %s=%s", r->f[i].key, enc[i]);
    free(enc[i]);
  }
  strcpy(out + len, "\n");
  free(enc);
  return out;
}

void rec_release(struct rec *r)
{
  int i;

  for (i = 0; i < r->n; i++) {
    free(r->f[i].key);
    free(r->f[i].val);
  }
  free(r->f);
  free(r->addr);
  free(r->line);
  free(r->bad);
  memset(r, 0, sizeof(*r));
}

/* Split the address into host and port: "h", "h:p", "[v6]:p", "[v6]", or
 * a bare IPv6 address (two or more colons, no brackets). 0 or -1. */
int rec_hostport(const struct rec *r, char *host, size_t hlen, int *port,
                 int defport)
{
  const char *a = r->addr, *colon, *rb;
  size_t n;

  *port = defport;
  if (!a || !*a) return error("empty address");
  if (*a == '[') {
    if (!(rb = strchr(a, ']'))) return error("bad address '%s'", a);
    n = rb - a - 1;
    colon = rb[1] == ':' ? rb + 1 : NULL;
    if (rb[1] && !colon) return error("bad address '%s'", a);
    a++;
  } else {
    colon = strchr(a, ':');
    if (colon && strchr(colon + 1, ':')) colon = NULL;   /* bare IPv6 */
    n = colon ? (size_t)(colon - a) : strlen(a);
  }
  if (!n || n >= hlen) return error("bad address '%s'", r->addr);
  memcpy(host, a, n);
  host[n] = 0;
  if (colon) {
    char *end;
    long p = strtol(colon + 1, &end, 10);

    if (*end || p < 1 || p > 65535 || end == colon + 1)
      return error("bad port in '%s'", r->addr);
    *port = p;
  }
  return 0;
}
