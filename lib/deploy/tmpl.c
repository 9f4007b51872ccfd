/* lib/deploy/tmpl.c - renders "{{name}}" templates (lib/deploy/deploy.h).
 * The scanner follows TOML's string syntax so a value is escaped for the
 * string it lands in, or refused where no quoting could hold it: a rendered
 * config is valid TOML whatever the value. Never prints a value (the HMAC
 * secret is one). Finds templates/ at run time (lib/deploy/deploy.h says
 * where). */
#include "mvm.h"
#include "deploy.h"

enum ctx { C_BARE, C_BASIC, C_MLBASIC, C_LIT, C_MLLIT, C_COMMENT };

static int is_name(int c)
{
  return isalnum(c) || c == '_';
}

/* Does v fit entirely of characters in the set? */
static int all_in(const char *v, const char *set)
{
  for (; *v; v++)
    if (!isalnum((unsigned char)*v) && !strchr(set, *v)) return 0;
  return 1;
}

/* Valid UTF-8 (TOML's text), with or without control characters. */
static int text_ok(const char *v, int ctrl)
{
  const unsigned char *p = (const unsigned char *)v;

  while (*p) {
    int n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ?
            2 : (*p & 0xf8) == 0xf0 ? 3 : -1;

    if (n < 0 || (n == 1 && *p < 0xc2)) return 0;
    if (!n && !ctrl && ((*p < 0x20 && *p != '\t') || *p == 0x7f)) return 0;
    for (p++; n > 0; n--, p++)
      if ((*p & 0xc0) != 0x80) return 0;
  }
  return 1;
}

/* Append v escaped for a TOML basic string. */
static void toml_escape(struct buf *b, const char *v)
{
  char u[8];

  for (; *v; v++) {
    unsigned char c = *v;

    if (c == '"' || c == '\\') {
      buf_add(b, "\\", 1);
      buf_add(b, v, 1);
    } else if (c == '\n') {
      buf_add(b, "\\n", 2);
    } else if (c == '\t') {
      buf_add(b, "\\t", 2);
    } else if (c < 0x20 || c == 0x7f) {
      snprintf(u, sizeof(u), "\\u%04X", c);
      buf_add(b, u, 6);
    } else {
      buf_add(b, v, 1);
    }
  }
}

/* Add the value of var in context x. 0 or -1 (mvm.err). */
static int put(struct buf *b, const struct tmpl_var *var, enum tmpl_lang lang,
               enum ctx x, const char *name, long line)
{
  const char *v = var->val;
  const char *why = NULL;

  if (!v)
    return error("%s:%ld: no value for '%s' on this host", name, line,
                 var->name);
  if (strlen(v) > TMPL_VALUE_MAX)
    return error("%s:%ld: value of '%s' longer than %d bytes", name, line,
                 var->name, TMPL_VALUE_MAX);
  if (lang == TMPL_PLAIN) {
    if (!*v || !all_in(v, "_.:/@+-")) why = "is not one safe word";
  } else if (x == C_BASIC || x == C_MLBASIC) {
    /* control characters get escaped; only bad UTF-8 cannot be */
    if (!text_ok(v, 1)) why = "is not UTF-8";
    else if (b->len + 6 * strlen(v) > TMPL_MAX)
      return error("%s:%ld: rendered output larger than %d bytes", name,
                   line, TMPL_MAX);
    else {
      toml_escape(b, v);
      return 0;
    }
  } else if (x == C_LIT || x == C_MLLIT) {
    if (strchr(v, '\'') || !text_ok(v, 0))
      why = "would break TOML quoting (a quote or control character in a "
            "'literal' string)";
  } else if (x == C_COMMENT) {
    if (!text_ok(v, 0)) why = "would end the TOML comment";
  } else if (!*v || !all_in(v, "_.+-")) {
    why = "would break TOML quoting (not a bare word: put the placeholder "
          "in a \"string\")";
  }
  if (why) return error("%s:%ld: value of '%s' %s", name, line, var->name,
                        why);
  if (b->len + strlen(v) > TMPL_MAX)
    return error("%s:%ld: rendered output larger than %d bytes", name, line,
                 TMPL_MAX);
  buf_add(b, v, strlen(v));
  return 0;
}

/* The TOML string state after the text at p (one character, or the
 * three of a triple quote: *adv says how many). */
static enum ctx step(enum ctx x, const char *p, const char *end, size_t *adv)
{
  int triple = end - p >= 3 && p[1] == p[0] && p[2] == p[0];

  *adv = 1;
  switch (x) {
  case C_BARE:
    if (*p == '#') return C_COMMENT;
    if (*p == '"' || *p == '\'') {
      if (triple) *adv = 3;
      return *p == '"' ? (triple ? C_MLBASIC : C_BASIC)
                       : (triple ? C_MLLIT : C_LIT);
    }
    return C_BARE;
  case C_BASIC:
    if (*p == '\\' && p + 1 < end && p[1] != '\n') *adv = 2;
    return *p == '"' || *p == '\n' ? C_BARE : C_BASIC;
  case C_MLBASIC:
    if (*p == '\\' && p + 1 < end) *adv = 2;
    if (*p == '"' && triple) *adv = 3;
    return *p == '"' && triple ? C_BARE : C_MLBASIC;
  case C_LIT:
    return *p == '\'' || *p == '\n' ? C_BARE : C_LIT;
  case C_MLLIT:
    if (*p == '\'' && triple) *adv = 3;
    return *p == '\'' && triple ? C_BARE : C_MLLIT;
  case C_COMMENT:
    return *p == '\n' ? C_BARE : C_COMMENT;
  }
  return x;
}

char *tmpl_render(const char *name, const char *text, size_t len,
                  const struct tmpl_var *vars, size_t n, enum tmpl_lang lang,
                  size_t *outlen)
{
  const char *p = text, *end = text + len, *s, *e;
  struct buf b = { 0 };
  enum ctx x = C_BARE;
  long line = 1;
  size_t i, adv, nl;

  if (len > TMPL_MAX) {
    error("%s: template larger than %d bytes", name, TMPL_MAX);
    return NULL;
  }
  if (memchr(text, 0, len)) {
    error("%s: template holds a NUL byte", name);
    return NULL;
  }
  buf_add(&b, "", 0);
  while (p < end) {
    if (end - p >= 2 && p[0] == '{' && p[1] == '{') {
      for (s = p + 2; s < end && *s == ' '; s++)
        ;
      for (e = s; e < end && is_name((unsigned char)*e); e++)
        ;
      nl = e - s;
      while (e < end && *e == ' ') e++;
      if (!nl || end - e < 2 || e[0] != '}' || e[1] != '}') {
        error("%s:%ld: '{{' is not a placeholder {{name}}", name, line);
        goto fail;
      }
      for (i = 0; i < n; i++)
        if (strlen(vars[i].name) == nl && !strncmp(vars[i].name, s, nl))
          break;
      if (i == n) {
        error("%s:%ld: unknown variable '%.*s'", name, line, (int)nl, s);
        goto fail;
      }
      if (put(&b, vars + i, lang, x, name, line)) goto fail;
      p = e + 2;
      continue;
    }
    if (lang == TMPL_TOML) x = step(x, p, end, &adv);
    else adv = 1;
    for (i = 0; i < adv; i++)
      if (p[i] == '\n') line++;
    if (b.len + adv > TMPL_MAX) {
      error("%s: rendered output larger than %d bytes", name, TMPL_MAX);
      goto fail;
    }
    buf_add(&b, p, adv);
    p += adv;
  }
  if (outlen) *outlen = b.len;
  return b.s;
fail:
  freezero(b.s, b.cap);
  return NULL;
}

const char *tmpl_dir(const char *dir)
{
  static const char *const rel[] = { "templates", "../share/mvmbox/templates" };
  static char found[PATH_MAX + 64];
  const char *env = getenv("MVM_TEMPLATES_DIR");
  char exe[PATH_MAX] = "";
  struct stat st;
  size_t i;

  if (!dir && env && *env) dir = env;
  if (dir) {
    if (stat(dir, &st) || !S_ISDIR(st.st_mode))
      return error("no templates directory '%s'", dir), NULL;
    return dir;
  }
  /* Beside the binary, so a build tree uses its own templates and an
   * installed binary those installed with it: never a stale mix. */
  if (readlink("/proc/self/exe", exe, sizeof(exe) - 1) > 0 &&
      strrchr(exe, '/'))
    strrchr(exe, '/')[1] = 0;
  for (i = 0; *exe && i < ARRAY_LEN(rel); i++) {
    snprintf(found, sizeof(found), "%s%s", exe, rel[i]);
    if (!stat(found, &st) && S_ISDIR(st.st_mode)) return found;
  }
  return error("cannot find templates/ (use --templates DIR)"), NULL;
}
