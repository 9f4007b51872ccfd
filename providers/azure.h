/* providers/azure.h - what providers/azure.c takes from providers/azureerr.c.
 * Only those files include this. */
#ifndef MVM_AZURE_H
#define MVM_AZURE_H

struct json;

/* ARM's error object at AT ("error") in J as "CODE [DETAILS]: advice;
 * message" in OUT. */
void arm_error(const struct json *j, const char *at, char *out, size_t len);
/* The http_errmsg() hook: an ARM error answer, else the generic JSON one. */
void azure_errmsg(const char *body, size_t len, char *out, size_t outlen);

#endif
