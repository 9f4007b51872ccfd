/* lib/http/xml.c - the EC2 answer reader of lib/http/http.h over expat.
 * Builds a tree of elements (name, trimmed text, children); refuses a
 * DOCTYPE (so no entity tricks), documents over XML_DOC_MAX, deeper than
 * XML_DEPTH_MAX or with more than XML_NODES_MAX elements. Namespace prefixes
 * are dropped. */
#include "mvm.h"
#include "http.h"
#include <expat.h>

struct xml {
  char *name;
  struct buf text;
  struct xml *parent, *child, *last, *next;
};

struct ctx {
  XML_Parser p;
  struct xml *root, *cur;
  int depth, nodes;
  const char *bad;
};

static void XMLCALL on_start(void *u, const XML_Char *name,
                             const XML_Char **attr)
{
  struct ctx *c = u;
  struct xml *n;
  const char *colon = strchr(name, ':');

  (void)attr;
  if (++c->depth > XML_DEPTH_MAX || ++c->nodes > XML_NODES_MAX) {
    c->bad = c->depth > XML_DEPTH_MAX ? "nested too deeply"
                                      : "too many elements";
    XML_StopParser(c->p, XML_FALSE);
    return;
  }
  n = xzalloc(sizeof(*n));
  n->name = xstrdup(colon ? colon + 1 : name);
  n->parent = c->cur;
  if (!c->cur) c->root = n;
  else if (c->cur->last) c->cur->last = c->cur->last->next = n;
  else c->cur->child = c->cur->last = n;
  c->cur = n;
}

static void XMLCALL on_end(void *u, const XML_Char *name)
{
  struct ctx *c = u;
  struct buf *t = &c->cur->text;
  size_t a = 0;

  (void)name;
  while (a < t->len && isspace((unsigned char)t->s[a])) a++;
  while (t->len > a && isspace((unsigned char)t->s[t->len - 1])) t->len--;
  if (t->s) {
    memmove(t->s, t->s + a, t->len - a);
    t->len -= a;
    t->s[t->len] = 0;
  }
  c->cur = c->cur->parent;
  c->depth--;
}

static void XMLCALL on_text(void *u, const XML_Char *s, int len)
{
  struct ctx *c = u;

  if (c->cur) buf_add(&c->cur->text, s, len);
}

static void XMLCALL on_doctype(void *u, const XML_Char *name,
                               const XML_Char *sys, const XML_Char *pub,
                               int has_internal)
{
  struct ctx *c = u;

  (void)name; (void)sys; (void)pub; (void)has_internal;
  c->bad = "a DOCTYPE is not accepted";
  XML_StopParser(c->p, XML_FALSE);
}

struct xml *xml_parse(const char *s, size_t len)
{
  struct ctx c = { 0 };
  int ok;

  if (len > XML_DOC_MAX) {
    error("malformed XML: document over %d bytes", XML_DOC_MAX);
    return NULL;
  }
  if (!(c.p = XML_ParserCreate("UTF-8"))) die("out of memory");
  XML_SetUserData(c.p, &c);
  XML_SetElementHandler(c.p, on_start, on_end);
  XML_SetCharacterDataHandler(c.p, on_text);
  XML_SetStartDoctypeDeclHandler(c.p, on_doctype);
  ok = XML_Parse(c.p, s, (int)len, 1) == XML_STATUS_OK && !c.bad;
  if (!ok) {
    error("malformed XML: %s at line %lu",
          c.bad ? c.bad : XML_ErrorString(XML_GetErrorCode(c.p)),
          (unsigned long)XML_GetCurrentLineNumber(c.p));
    xml_free(c.root);
    c.root = NULL;
  } else if (!c.root) {
    error("malformed XML: no element");
  }
  XML_ParserFree(c.p);
  return c.root;
}

void xml_free(struct xml *n)
{
  while (n) {
    struct xml *next = n->next;
    xml_free(n->child);
    free(n->name);
    free(n->text.s);
    free(n);
    n = next;
  }
}

const char *xml_name(const struct xml *n)
{
  return n ? n->name : NULL;
}

/* Depth-first over PATH's components; stops when out is full. */
static int walk(const struct xml *n, const char *path,
                const struct xml **out, int max, int got)
{
  const char *slash;
  size_t l;
  const struct xml *k;

  while (path && *path == '/') path++;
  if (!path || !*path) {
    if (got < max) out[got++] = n;
    return got;
  }
  slash = strchr(path, '/');
  l = slash ? (size_t)(slash - path) : strlen(path);
  for (k = n->child; k && got < max; k = k->next)
    if (strlen(k->name) == l && !strncmp(k->name, path, l))
      got = walk(k, path + l, out, max, got);
  return got;
}

int xml_all(const struct xml *n, const char *path, const struct xml **out,
            int max)
{
  return n ? walk(n, path, out, max, 0) : 0;
}

const struct xml *xml_find(const struct xml *n, const char *path)
{
  const struct xml *r = NULL;

  return xml_all(n, path, &r, 1) ? r : NULL;
}

const char *xml_text(const struct xml *n, const char *path)
{
  const struct xml *r = xml_find(n, path);

  if (!r) return NULL;
  return r->text.s ? r->text.s : "";
}
