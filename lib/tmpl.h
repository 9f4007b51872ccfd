/* lib/tmpl.h - template rendering for mvm-postdeploy's configs, units and
 * scripts: "{{name}}" placeholders replaced by values, with the quoting
 * rules of the file's language enforced, and the lookup of templates/. */
#ifndef MVM_TMPL_H
#define MVM_TMPL_H

#include <stddef.h>

#define TMPL_MAX (1 << 20)       /* template and rendered output, bytes */
#define TMPL_VALUE_MAX 4096      /* one value, bytes */

struct tmpl_var {
  const char *name;              /* [A-Za-z0-9_]+ */
  const char *val;               /* NULL: known but missing for this host */
};

enum tmpl_lang {
  TMPL_PLAIN,   /* units, scripts: a value must be one safe word */
  TMPL_TOML     /* escaped in "basic" strings, checked elsewhere */
};

/* Render text[0..len) from file name (for messages) with vars[0..n).
 * "{{name}}" and "{{ name }}" are placeholders; any other "{{" is an
 * error. TOML: a value inside "..." (or """...""") is escaped; inside
 * '...' it must not hold a quote or control character; anywhere else it
 * must be a bare word (number, boolean, key: [A-Za-z0-9_.+-]). PLAIN: a
 * value must match [A-Za-z0-9_.:/@+-]+. Returns the malloc'd,
 * NUL-terminated output (*outlen set when outlen is not NULL), or NULL
 * with mvm.err "NAME:LINE: why" (unknown or missing variable, a value
 * that would break the quoting, input or output over TMPL_MAX). Values
 * are never quoted in messages: they may be secret. */
char *tmpl_render(const char *name, const char *text, size_t len,
                  const struct tmpl_var *vars, size_t n, enum tmpl_lang lang,
                  size_t *outlen);

/* The templates directory: dir if not NULL (must exist), else
 * $MVM_TEMPLATES_DIR, else "templates" beside the mvmbox binary (the
 * source tree), else ../share/mvmbox/templates from it (make install).
 * NULL with mvm.err set. */
const char *tmpl_dir(const char *dir);

#endif
