/* lib/json.h - JSON for the cloud APIs (lib/json.c, over jansson). The
 * jansson types stay inside json.c: callers see an opaque struct json.
 * Reading is by path ("server.public_net.ipv4.ip", "servers.3.id": a
 * number indexes an array), printf-style; building is jansson's pack
 * format, so every string is escaped by the library, never by hand. */
#ifndef MVM_JSON_H
#define MVM_JSON_H

#define JSON_MAX (8 << 20)      /* the largest document json_parse() takes */

struct json;                    /* a document, or a value inside one */

/* Parse LEN bytes; NULL with mvm.err ("malformed JSON: ... at line N"). */
struct json *json_parse(const char *s, size_t len);
void json_free(struct json *j);   /* a document from json_parse(); NULL ok */

/* The value at the path, borrowed from its document (NULL: absent). */
struct json *json_get(const struct json *j, const char *fmt, ...)
    PRINTF(2, 3);
/* A string or number at the path copied into buf (numbers in decimal,
 * true/false as words): buf, or NULL if absent, null, or an object. */
char *json_text(const struct json *j, char *buf, size_t len,
                const char *fmt, ...) PRINTF(4, 5);
/* Elements of the array (or members of the object) at the path; 0 if
 * absent. */
int json_len(const struct json *j, const char *fmt, ...) PRINTF(2, 3);
/* The key of member I of the object at J (NULL past the end). */
const char *json_key(const struct json *j, int i);

/* A compact document from a jansson pack format, e.g.
 * json_build("{s:s, s:[s,s], s:b, s:s*}", "name", n, "tags", a, b,
 *            "start", 1, "image", img_or_NULL)
 * ("s*" leaves the member out when the value is NULL, "s%" takes a
 * length, "I" a long long). Dies on a bad format: that is a bug, not input. */
char *json_build(const char *fmt, ...);
/* The same as a value, for a document built in steps: "o" in a format
 * takes a struct json from json_make() (and owns it from then), as does
 * json_push() appending V to an ARRAY; json_dump() writes a document,
 * compact or indented by two; free what is left with json_free(). */
struct json *json_make(const char *fmt, ...);
void json_push(struct json *array, struct json *v);
char *json_dump(const struct json *j, int pretty);

/* Every string at or below J (array elements and object members in
 * order), each with a '\n', appended to *TO (malloc'd, NULL to start). */
void json_strings(const struct json *j, char **to);

/* A copy of the document text with the values of secret members
 * (user_data, userdata, content, password, token, ...: see json.c)
 * replaced by "<N bytes>", for -v and --dry-run; NULL if not JSON. */
char *json_redact(const char *s, size_t len);
/* The same for any request body: JSON as above, a form (k=v&...) with the
 * value of every key that mentions a token, secret, key, password,
 * assertion or user-data replaced; NULL if neither (not to be shown). */
char *body_redact(const char *s, size_t len);

/* The provider's error text from an error answer's body, one line:
 * {"error":{"code","message"}}, {"error":"..."}, {"message":...},
 * {"errors":[{"title","detail"} or "..."]}, else the body's start. */
void json_errmsg(const char *body, size_t len, char *out, size_t outlen);

#endif
