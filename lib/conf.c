/* lib/conf.c - the cloud CLIs' config files, read the way their CLIs read
 * them, for credentials only: YAML (~/.vultr-cli.yaml, metal.yaml) with
 * libyaml, and the TOML/INI subset the others write (hcloud's cli.toml:
 * [[contexts]] tables, quoted strings; ~/.aws/credentials: [sections]).
 * Values are secrets: the copies are the caller's to freezero(). */
#include "mvm.h"

#include <yaml.h>

#define CONF_MAX (256 * 1024)

char *conf_path(const char *env, const char *home_rel)
{
  const char *e = env ? getenv(env) : NULL, *home = getenv("HOME");

  if (e && *e) return xstrdup(e);
  return xasprintf("%s/%s", home ? home : "", home_rel);
}

/* The file's text, or NULL: 1 absent, -1 unreadable (mvm.err). */
static char *slurp(const char *path, size_t *len, int *rc)
{
  struct stat st;

  *rc = 1;
  if (stat(path, &st)) return NULL;
  if (!S_ISREG(st.st_mode) || st.st_size > CONF_MAX || access(path, R_OK)) {
    *rc = error("cannot read '%s'", path);
    return NULL;
  }
  *rc = 0;
  return xreadfile(path, CONF_MAX, len);
}

int conf_yaml(const char *path, const char *key, char **out)
{
  yaml_parser_t p;
  yaml_event_t ev;
  int rc, depth = 0, want = 0, iskey = 1, done = 0;
  size_t len;
  char *text = slurp(path, &len, &rc);

  *out = NULL;
  if (!text) return rc;
  rc = 1;
  yaml_parser_initialize(&p);
  yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
  while (!done) {
    if (!yaml_parser_parse(&p, &ev)) {
      rc = error("'%s': malformed YAML at line %zu: %s", path,
                 p.problem_mark.line + 1, p.problem ? p.problem : "?");
      break;
    }
    switch (ev.type) {
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT:
      depth++;
      if (depth > 1) iskey = !iskey, want = 0;
      break;
    case YAML_MAPPING_END_EVENT:
    case YAML_SEQUENCE_END_EVENT:
      if (--depth == 1) iskey = 1;
      break;
    case YAML_SCALAR_EVENT:
      if (depth != 1) break;
      if (iskey) {
        want = !strcmp((char *)ev.data.scalar.value, key);
      } else if (want) {
        *out = xstrdup((char *)ev.data.scalar.value);
        rc = 0;
        done = 1;
      }
      iskey = !iskey;
      break;
    case YAML_STREAM_END_EVENT:
      done = 1;
      break;
    default:
      break;
    }
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&p);
  freezero(text, len + 1);
  return rc;
}

/* One "key = value" line: the value unquoted (basic strings with \" and
 * \\ escapes, literal strings), comments dropped. */
static char *toml_value(char *v)
{
  char *o, *s;

  v += strspn(v, " \t");
  if (*v == '"' || *v == '\'') {
    char q = *v++;

    for (s = o = v; *s && *s != q; s++) {
      if (q == '"' && *s == '\\' && s[1]) s++;
      *o++ = *s;
    }
    *o = 0;
    return v;
  }
  v[strcspn(v, "#")] = 0;
  for (s = v + strlen(v); s > v && strchr(" \t\r", s[-1]); s--);
  *s = 0;
  return v;
}

int conf_toml(const char *path, const char *table, const char *mkey,
              const char *mval, const char *key, char **out)
{
  char *line, *next, *eq, *k, *v, *found = NULL, *cand = NULL;
  int rc, in = !table, match = !mkey;
  size_t len, tl = table ? strlen(table) : 0;
  char *text = slurp(path, &len, &rc);

  *out = NULL;
  if (!text) return rc;
  for (line = text; line; line = next) {
    if ((next = strchr(line, '\n'))) *next++ = 0;
    line += strspn(line, " \t");
    if (*line == '[') {          /* a new table: [t] or [[t]] */
      int arr = line[1] == '[';
      char *name = line + 1 + arr;

      if (in && match && cand) break;
      free(cand);
      cand = NULL;
      in = table && !strncmp(name, table, tl) && name[tl] == ']';
      match = !mkey || !arr;
      continue;
    }
    if (!in || !(eq = strchr(line, '=')) || *line == '#') continue;
    *eq = 0;
    k = toml_value(line);
    v = toml_value(eq + 1);
    if (mkey && !strcmp(k, mkey)) match = !strcmp(v, mval);
    if (!strcmp(k, key)) {
      free(cand);
      cand = xstrdup(v);
    }
  }
  if (in && match && cand) found = cand;
  else free(cand);
  freezero(text, len + 1);
  if (!found) return 1;
  *out = found;
  return 0;
}
