/* tests/unit/test_tmpl.c - lib/deploy/tmpl.c: placeholders, unknown and missing
 * variables, values that would break TOML quoting (escaped or refused),
 * the size caps, and that no error message carries a value. */
#include "unit.h"

static const char secret[] = "s3cr3t\"value";

static char *render(const char *t, const char *v, enum tmpl_lang lang)
{
  struct tmpl_var vars[] = { { "x", v }, { "hmac_secret", secret },
                             { "none", NULL } };

  mvm.err[0] = 0;
  return tmpl_render("t.toml", t, strlen(t), vars, ARRAY_LEN(vars), lang,
                     NULL);
}

static void expect(const char *name, const char *t, const char *v,
                   enum tmpl_lang lang, const char *want)
{
  char *out;

  TEST_START(name);
  out = render(t, v, lang);
  if (want) ASSERT_STR_EQ(out, want);
  else ASSERT_NULL(out);
  if (!want) ASSERT_TRUE(*mvm.err != 0);
  if (!want && v && *v) ASSERT_TRUE(!strstr(mvm.err, v));
  ASSERT_TRUE(!strstr(mvm.err, "s3cr3t"));
  free(out);
  TEST_DONE();
}

static void test_tmpl(void)
{
  char *big, *out;
  size_t n, i;

  expect("tmpl: plain substitution", "a = \"{{x}}\"\n", "v", TMPL_TOML,
         "a = \"v\"\n");
  expect("tmpl: spaces inside braces", "a = \"{{ x }}\"\n", "v", TMPL_TOML,
         "a = \"v\"\n");
  expect("tmpl: text without placeholders is kept byte for byte",
         "# {x} }} {\n[s]\nk = 1\n", "v", TMPL_TOML,
         "# {x} }} {\n[s]\nk = 1\n");
  expect("tmpl: unknown variable", "a = \"{{nope}}\"\n", "VALUE", TMPL_TOML,
         NULL);
  TEST_START("tmpl: unknown variable named with its line");
  free(render("\n\nb = \"{{nope}}\"\n", "v", TMPL_TOML));
  ASSERT_STR_EQ(mvm.err, "t.toml:3: unknown variable 'nope'");
  TEST_DONE();
  expect("tmpl: missing value", "a = \"{{none}}\"\n", "VALUE", TMPL_TOML,
         NULL);
  TEST_START("tmpl: missing value names the variable");
  free(render("a = \"{{none}}\"\n", "v", TMPL_TOML));
  ASSERT_STR_EQ(mvm.err, "t.toml:1: no value for 'none' on this host");
  TEST_DONE();
  expect("tmpl: unterminated placeholder", "a = \"{{x\"\n", "v", TMPL_TOML,
         NULL);
  expect("tmpl: empty placeholder", "a = {{}}\n", "v", TMPL_TOML, NULL);
  expect("tmpl: a quote in a basic string is escaped",
         "a = \"{{x}}\"\n", "a\"b\\c", TMPL_TOML, "a = \"a\\\"b\\\\c\"\n");
  expect("tmpl: a newline cannot end the string", "a = \"{{x}}\"\n",
         "l1\nk = 2\x01", TMPL_TOML, "a = \"l1\\nk = 2\\u0001\"\n");
  expect("tmpl: the secret itself is escaped",
         "[auth]\nhmac_secret = \"{{hmac_secret}}\"\n", "v", TMPL_TOML,
         "[auth]\nhmac_secret = \"s3cr3t\\\"value\"\n");
  expect("tmpl: bad UTF-8 is refused", "a = \"{{x}}\"\n", "\xc3\x28",
         TMPL_TOML, NULL);
  expect("tmpl: multi-line basic string escapes too",
         "a = \"\"\"\n{{x}}\"\"\"\n", "q\"\"\"", TMPL_TOML,
         "a = \"\"\"\nq\\\"\\\"\\\"\"\"\"\n");
  expect("tmpl: a quote in a 'literal' string is refused",
         "a = '{{x}}'\n", "it's", TMPL_TOML, NULL);
  expect("tmpl: a literal string takes plain text", "a = '{{x}}'\n",
         "C:\\dir", TMPL_TOML, "a = 'C:\\dir'\n");
  expect("tmpl: bare value must be a bare word", "a = {{x}}\n", "1\nb = 2",
         TMPL_TOML, NULL);
  expect("tmpl: bare number", "port = {{x}}\n", "7400", TMPL_TOML,
         "port = 7400\n");
  expect("tmpl: an escaped quote does not end the string",
         "a = \"x\\\" {{x}}\"\n", "q\"", TMPL_TOML, "a = \"x\\\" q\\\"\"\n");
  expect("tmpl: a quote inside a comment does not open a string",
         "# it's \"\nb = {{x}}\n", "1", TMPL_TOML, "# it's \"\nb = 1\n");
  expect("tmpl: a value cannot end a comment", "# {{x}}\n", "a\nb = 1",
         TMPL_TOML, NULL);
  expect("tmpl: plain: one safe word", "ExecStart=/bin/{{x}}\n", "mvmd",
         TMPL_PLAIN, "ExecStart=/bin/mvmd\n");
  expect("tmpl: plain: a space or newline is refused",
         "ExecStart=/bin/{{x}}\n", "mvmd\nUser=root", TMPL_PLAIN, NULL);
  expect("tmpl: plain: an empty value is refused", "x={{x}}\n", "",
         TMPL_PLAIN, NULL);

  TEST_START("tmpl: a template over TMPL_MAX is refused");
  n = TMPL_MAX + 1;
  big = xmalloc(n + 1);
  memset(big, 'a', n);
  big[n] = 0;
  ASSERT_NULL(render(big, "v", TMPL_TOML));
  ASSERT_TRUE(strstr(mvm.err, "template larger than") != NULL);
  TEST_DONE();

  TEST_START("tmpl: output over TMPL_MAX is refused, not truncated");
  /* 300k placeholders of a 4 KB value: 1.2 GB if nothing stopped it */
  for (i = 0; i + 5 <= n; i += 5)
    memcpy(big + i, "{{x}}", 5);
  big[i] = 0;
  out = xmalloc(TMPL_VALUE_MAX + 1);
  memset(out, 'b', TMPL_VALUE_MAX);
  out[TMPL_VALUE_MAX] = 0;
  big[TMPL_MAX - 10] = 0;
  ASSERT_NULL(render(big, out, TMPL_PLAIN));
  ASSERT_TRUE(strstr(mvm.err, "output larger than") != NULL);
  TEST_DONE();

  TEST_START("tmpl: a value over TMPL_VALUE_MAX is refused");
  out = xrealloc(out, TMPL_VALUE_MAX + 2);
  memset(out, 'b', TMPL_VALUE_MAX + 1);
  out[TMPL_VALUE_MAX + 1] = 0;
  ASSERT_NULL(render("a = \"{{x}}\"\n", out, TMPL_TOML));
  TEST_DONE();
  free(out);

  TEST_START("tmpl: a NUL byte in a template is refused");
  ASSERT_NULL(tmpl_render("t", "a\0b", 3, NULL, 0, TMPL_PLAIN, NULL));
  TEST_DONE();
  free(big);

  TEST_START("tmpl: the shipped templates render as TOML");
  {
    struct tmpl_var v[] = { { "hmac_secret", "00ff" }, { "host", "h" },
                            { "node_id", "n" } };
    char *top = xasprintf("%s/templates", getenv("TOP") ? getenv("TOP") : ".");
    const char *dir = tmpl_dir(top);
    char *path, *text;
    size_t len;

    ASSERT_TRUE(dir != NULL);
    if (dir) {
      path = xasprintf("%s/coordinator.toml", dir);
      text = xreadfile(path, TMPL_MAX, &len);
      out = tmpl_render(path, text, len, v, ARRAY_LEN(v), TMPL_TOML, NULL);
      ASSERT_TRUE(out && strstr(out, "hmac_secret = \"00ff\""));
      free(out);
      free(text);
      free(path);
    }
    free(top);
  }
  TEST_DONE();
}

UNIT_REGISTER(test_tmpl)
