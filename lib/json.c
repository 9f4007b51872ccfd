/* lib/json.c - the cloud APIs' JSON over jansson, behind lib/json.h: path
 * lookups, copying scalars into fixed buffers, building bodies with pack
 * formats, and redacting secret members for logs. The only file that
 * includes jansson.h. */
#include "mvm.h"
#include "json.h"

#include <jansson.h>

#define PATH_MAX_LEN 512

/* struct json is a json_t; the cast lives here only. */
#define J(p) ((json_t *)(p))

struct json *json_parse(const char *s, size_t len)
{
  json_error_t e;
  json_t *j;

  if (len > JSON_MAX) {
    error("malformed JSON: %zu bytes, over the %d cap", len, JSON_MAX);
    return NULL;
  }
  if (!(j = json_loadb(s, len, JSON_REJECT_DUPLICATES, &e))) {
    error("malformed JSON: %s at line %d", e.text, e.line);
    return NULL;
  }
  return (struct json *)j;
}

void json_free(struct json *j)
{
  if (j) json_decref(J(j));
}

/* Walk "a.b.3.c" from j. */
static json_t *walk(const json_t *j, const char *path)
{
  char buf[PATH_MAX_LEN], *p, *dot, *end;
  long idx;

  if (strlen(path) >= sizeof(buf)) return NULL;
  strcpy(buf, path);
  for (p = buf; j && *p; p = dot + 1) {
    dot = strchr(p, '.');
    if (dot) *dot = 0;
    if (json_is_array(j)) {
      idx = strtol(p, &end, 10);
      j = *end || idx < 0 ? NULL : json_array_get(j, idx);
    } else {
      j = json_is_object(j) ? json_object_get(j, p) : NULL;
    }
    if (!dot) break;
  }
  return (json_t *)j;
}

static json_t *vwalk(const struct json *j, const char *fmt, va_list ap)
{
  char path[PATH_MAX_LEN];

  if (!j) return NULL;
  if (vsnprintf(path, sizeof(path), fmt, ap) >= (int)sizeof(path))
    return NULL;
  return *path ? walk(J(j), path) : J(j);
}

struct json *json_get(const struct json *j, const char *fmt, ...)
{
  va_list ap;
  json_t *v;

  va_start(ap, fmt);
  v = vwalk(j, fmt, ap);
  va_end(ap);
  return (struct json *)v;
}

char *json_text(const struct json *j, char *buf, size_t len,
                const char *fmt, ...)
{
  va_list ap;
  json_t *v;

  va_start(ap, fmt);
  v = vwalk(j, fmt, ap);
  va_end(ap);
  if (!v || !len) return NULL;
  if (json_is_string(v)) snprintf(buf, len, "%s", json_string_value(v));
  else if (json_is_integer(v))
    snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
  else if (json_is_real(v)) snprintf(buf, len, "%g", json_real_value(v));
  else if (json_is_boolean(v)) snprintf(buf, len, "%s",
                                        json_is_true(v) ? "true" : "false");
  else return NULL;
  return buf;
}

int json_len(const struct json *j, const char *fmt, ...)
{
  va_list ap;
  json_t *v;

  va_start(ap, fmt);
  v = vwalk(j, fmt, ap);
  va_end(ap);
  if (json_is_array(v)) return (int)json_array_size(v);
  if (json_is_object(v)) return (int)json_object_size(v);
  return 0;
}

const char *json_key(const struct json *j, int i)
{
  void *it;

  if (!json_is_object(J(j))) return NULL;
  for (it = json_object_iter(J(j)); it && i > 0; i--)
    it = json_object_iter_next(J(j), it);
  return it ? json_object_iter_key(it) : NULL;
}

static json_t *vmake(const char *fmt, va_list ap)
{
  json_error_t e;
  json_t *j = json_vpack_ex(&e, 0, fmt, ap);

  if (!j) die("json_build '%s': %s", fmt, e.text);
  return j;
}

struct json *json_make(const char *fmt, ...)
{
  va_list ap;
  json_t *j;

  va_start(ap, fmt);
  j = vmake(fmt, ap);
  va_end(ap);
  return (struct json *)j;
}

void json_push(struct json *array, struct json *v)
{
  if (json_array_append_new(J(array), J(v))) die("json_push: not an array");
}

char *json_dump(const struct json *j, int pretty)
{
  char *s = json_dumps(J(j), pretty ? JSON_INDENT(2) : JSON_COMPACT);

  if (!s) die("out of memory");
  return s;
}

char *json_build(const char *fmt, ...)
{
  va_list ap;
  json_t *j;
  char *s;

  va_start(ap, fmt);
  j = vmake(fmt, ap);
  va_end(ap);
  s = json_dump((struct json *)j, 0);
  json_decref(j);
  return s;
}

void json_strings(const struct json *j, char **to)
{
  size_t i;
  void *it;

  if (json_is_string(J(j))) {
    char *old = *to;

    *to = xasprintf("%s%s\n", old ? old : "", json_string_value(J(j)));
    free(old);
  } else if (json_is_array(J(j))) {
    for (i = 0; i < json_array_size(J(j)); i++)
      json_strings((struct json *)json_array_get(J(j), i), to);
  } else if (json_is_object(J(j))) {
    for (it = json_object_iter(J(j)); it;
         it = json_object_iter_next(J(j), it))
      json_strings((struct json *)json_object_iter_value(it), to);
  }
}

/* Members whose values are secret or too big to log: user-data (it holds
 * the host's private key), passwords, tokens. */
static int secret_key(const char *k)
{
  static const char *const keys[] = {
    "user_data", "userdata", "userData", "UserData", "customData",
    "content", "password", "root_password", "token", "access_token",
    "secret", "client_secret", "private_key", NULL
  };
  int i;

  for (i = 0; keys[i]; i++)
    if (!strcmp(k, keys[i])) return 1;
  return 0;
}

static void redact(json_t *j, int depth)
{
  const char *k;
  json_t *v;
  void *it;
  size_t i;

  if (depth > 32) return;
  if (json_is_array(j)) {
    for (i = 0; i < json_array_size(j); i++)
      redact(json_array_get(j, i), depth + 1);
    return;
  }
  if (!json_is_object(j)) return;
  for (it = json_object_iter(j); it; it = json_object_iter_next(j, it)) {
    k = json_object_iter_key(it);
    v = json_object_iter_value(it);
    if (secret_key(k) && json_is_string(v)) {
      char n[48];

      snprintf(n, sizeof(n), "<%zu bytes>", json_string_length(v));
      json_object_iter_set_new(j, it, json_string(n));
    } else {
      redact(v, depth + 1);
    }
  }
}

char *json_redact(const char *s, size_t len)
{
  json_t *j = json_loadb(s, len, 0, NULL);
  char *out;

  if (!j) return NULL;
  redact(j, 0);
  out = json_dumps(j, JSON_COMPACT);
  json_decref(j);
  return out;
}

/* A form body (k=v&k=v, the EC2 Query API, OAuth token requests): a value
 * whose key so much as mentions a secret goes by its size, matched loosely
 * because the keys are many (refresh_token, assertion, UserData,
 * client_secret, ...) and a name shown by mistake costs nothing. */
static char *form_redact(const char *s, size_t len)
{
  static const char *const words[] = { "token", "secret", "password",
    "assertion", "userdata", "customdata", "key", "code", NULL };
  struct buf b = { 0 };
  const char *p = s, *end = s + len;

  if (!len || memchr(s, '=', len) == NULL || strcspn(s, " \t\r\n") < len)
    return NULL;
  while (p < end) {
    const char *amp = memchr(p, '&', (size_t)(end - p)), *eq;
    size_t n = amp ? (size_t)(amp - p) : (size_t)(end - p), k, i;
    char key[64];
    int hide = 0;

    eq = memchr(p, '=', n);
    k = eq ? (size_t)(eq - p) : n;
    for (i = 0; i < k && i < sizeof(key) - 1; i++)
      key[i] = (char)tolower((unsigned char)p[i]);
    key[i] = 0;
    for (i = 0; words[i]; i++)
      if (strstr(key, words[i])) hide = 1;
    if (p > s) buf_add(&b, "&", 1);
    if (hide && eq) {
      char size[32];
      int sn = snprintf(size, sizeof(size), "=<%zu bytes>", n - k - 1);

      buf_add(&b, p, k);
      buf_add(&b, size, (size_t)sn);
    } else {
      buf_add(&b, p, n);
    }
    p += n + 1;
  }
  return b.s ? b.s : xstrdup("");
}

char *body_redact(const char *s, size_t len)
{
  char *r = json_redact(s, len);

  return r ? r : form_redact(s, len);
}

/* The provider's words from an error body, one line. */
void json_errmsg(const char *body, size_t len, char *out,
                           size_t outlen)
{
  struct json *j = json_parse(body, len);
  char a[200] = "", b[300] = "";
  size_t i;

  *out = 0;
  if (!j) {
    snprintf(out, outlen, "%.*s", (int)(len > 200 ? 200 : len), body);
  } else if (json_text(j, b, sizeof(b), "error.message")) {
    json_text(j, a, sizeof(a), "error.code");
    snprintf(out, outlen, "%s%s%s", a, *a ? ": " : "", b);
  } else if (json_text(j, b, sizeof(b), "error") ||
             json_text(j, b, sizeof(b), "message") ||
             json_text(j, b, sizeof(b), "errors.0")) {
    snprintf(out, outlen, "%s", b);
  } else if (json_get(j, "errors.0")) {
    if (!json_text(j, a, sizeof(a), "errors.0.title"))
      json_text(j, a, sizeof(a), "errors.0.code");
    json_text(j, b, sizeof(b), "errors.0.detail");
    snprintf(out, outlen, "%s%s%s", a, *a && *b ? ": " : "", b);
  }
  json_free(j);
  mvm.err[0] = 0;             /* a parse failure here is not the error */
  for (i = 0; out[i]; i++)
    if ((unsigned char)out[i] < ' ') out[i] = ' ';
}
