/* lib/http/lazycurl.c - every libcurl function mvmbox calls, loading
 * libcurl.so.4 at the first one (lazylib.h): an applet that makes no
 * HTTP request never maps libcurl nor the ~30 libraries it needs. */
#define CURL_DISABLE_TYPECHECK   /* curl.h's macros would rename ours */
#include <stdarg.h>
#include <curl/curl.h>
#include "mvm.h"
#include "http.h"
#include "lazylib.h"

static struct lazylib libcurl = { .soname = "libcurl.so.4",
                                  .package = "libcurl4" };

LAZY_FN(libcurl, CURL *, curl_easy_init, (void), (), NULL)
LAZY_VOID(libcurl, curl_easy_cleanup, (CURL *c), (c))
LAZY_VOID(libcurl, curl_easy_reset, (CURL *c), (c))
LAZY_FN(libcurl, CURLcode, curl_easy_perform, (CURL *c), (c),
        CURLE_FAILED_INIT)
LAZY_FN(libcurl, const char *, curl_easy_strerror, (CURLcode e), (e),
        "libcurl.so.4 is not loaded")
LAZY_FN(libcurl, struct curl_slist *, curl_slist_append,
        (struct curl_slist *l, const char *s), (l, s), NULL)
LAZY_VOID(libcurl, curl_slist_free_all, (struct curl_slist *l), (l))

/* The option number says the argument's type (CURLOPTTYPE_*, ranges of
 * 10000): read it as that type and forward it typed. */
CURLcode curl_easy_setopt(CURL *c, CURLoption opt, ...)
{
  static CURLcode (*real)(CURL *, CURLoption, ...);
  CURLcode rc;
  va_list ap;

  if (!real && !(real = (CURLcode (*)(CURL *, CURLoption, ...))
                 lazy_sym(&libcurl, "curl_easy_setopt")))
    return CURLE_FAILED_INIT;
  va_start(ap, opt);
  if (opt < CURLOPTTYPE_OBJECTPOINT)
    rc = real(c, opt, va_arg(ap, long));
  else if (opt < CURLOPTTYPE_FUNCTIONPOINT)
    rc = real(c, opt, va_arg(ap, void *));
  else if (opt < CURLOPTTYPE_OFF_T)
    rc = real(c, opt, va_arg(ap, void (*)(void)));
  else if (opt < CURLOPTTYPE_BLOB)
    rc = real(c, opt, va_arg(ap, curl_off_t));
  else
    rc = real(c, opt, va_arg(ap, struct curl_blob *));
  va_end(ap);
  return rc;
}

/* Every CURLINFO_* takes a pointer to where the answer goes. */
CURLcode curl_easy_getinfo(CURL *c, CURLINFO info, ...)
{
  static CURLcode (*real)(CURL *, CURLINFO, ...);
  CURLcode rc;
  va_list ap;

  if (!real && !(real = (CURLcode (*)(CURL *, CURLINFO, ...))
                 lazy_sym(&libcurl, "curl_easy_getinfo")))
    return CURLE_FAILED_INIT;
  va_start(ap, info);
  rc = real(c, info, va_arg(ap, void *));
  va_end(ap);
  return rc;
}
