/* providers/azureerr.c - Azure Resource Manager's error answers as the one
 * line mvmbox prints and records, with what to do for the errors a new
 * subscription meets first. */
#include "mvm.h"
#include "json.h"
#include "azure.h"

/* ARM's error object at AT in J ("error": an answer's or an operation's)
 * as one line: "CODE [DETAIL CODES]: what to do; MESSAGE", the codes and
 * the advice first, so that a short mvm.err cuts the message, not them.
 * A subscription without the provider registered and a vCPU quota too
 * small are what a new subscription meets first: say what to run. */
void arm_error(const struct json *j, const char *at, char *out,
                      size_t len)
{
  char code[64] = "", msg[300] = "", d[64], ds[160] = "", ns[64] = "";
  const char *hint = "", *q;
  int i, n = json_len(j, "%s.details", at), reg;
  size_t k;

  json_text(j, code, sizeof(code), "%s.code", at);
  json_text(j, msg, sizeof(msg), "%s.message", at);
  reg = !strcmp(code, "MissingSubscriptionRegistration");
  for (i = 0; i < n; i++)
    if (json_text(j, d, sizeof(d), "%s.details.%d.code", at, i) && *d) {
      k = strlen(ds);
      snprintf(ds + k, sizeof(ds) - k, "%s%s", k ? " " : "", d);
      reg |= !strcmp(d, "MissingSubscriptionRegistration");
      if (!*ns) json_text(j, ns, sizeof(ns), "%s.details.%d.target", at, i);
    }
  if (reg) {
    if (!*ns && (q = strchr(msg, '\'')) && strchr(q + 1, '\''))
      snprintf(ns, sizeof(ns), "%.*s", (int)(strchr(q + 1, '\'') - q - 1),
               q + 1);
    hint = "run: az provider register --namespace ";
  } else if (!strcmp(code, "QuotaExceeded") ||
             (!strcmp(code, "OperationNotAllowed") && strcasestr(msg, "quota")))
    hint = "vCPU quota too small: see az vm list-usage --location REGION, "
           "ask for more on the portal's Quotas page or pick a smaller -t";
  snprintf(out, len, "%s%s%s%s%s%s%s%s%s", code, *ds ? " [" : "", ds,
           *ds ? "]" : "", *code || *ds ? ": " : "", hint,
           reg ? (*ns ? ns : "Microsoft.Compute") : "", *hint ? "; " : "",
           msg);
  for (k = 0; out[k]; k++)
    if ((unsigned char)out[k] < ' ') out[k] = ' ';
}

void azure_errmsg(const char *body, size_t len, char *out,
                         size_t outlen)
{
  struct json *j = json_parse(body, len);

  if (j && json_get(j, "error.code")) arm_error(j, "error", out, outlen);
  else json_errmsg(body, len, out, outlen);
  json_free(j);
  mvm.err[0] = 0;             /* a parse failure here is not the error */
}
