/* lib/lazylib.h - a shared library loaded at its first use (issue 19).
 * libcurl pulls in ~30 more libraries (gnutls, krb5, ldap...), libssh2 and
 * libcrypto 17,000 relocations: linked, they cost every applet 6x a small
 * C program's start, even for --help. Instead lib/http/lazycurl.c, lazyssh2.c
 * and lazycrypto.c define the functions mvmbox calls, each resolving the
 * real one with dlopen(soname)/dlsym on its first call. */
#ifndef MVM_LAZYLIB_H
#define MVM_LAZYLIB_H

struct lazylib {
  const char *soname;    /* the pinned soname, "libcurl.so.4" */
  const char *package;   /* the Debian package that ships it */
  void *handle;
  int failed;            /* dlopen failed: every later call fails too */
  int fatal;             /* its calls are used as infallible (SHA-256,
                          * base64): a failed load dies, never returns */
  char why[200];         /* dlerror() of that failure */
};

/* The address of NAME in L, loading L first; else NULL, with mvm.err
 * naming the library and its Debian package (error()). Exits only for a
 * fatal L; else each wrapper returns its own function's error value, and
 * its caller reports. */
void *lazy_sym(struct lazylib *l, const char *name);

/* RET NAME PARAMS forwarding ARGS to the real NAME, or returning FAIL. */
#define LAZY_FN(lib, ret, name, params, args, fail)                      \
  ret name params                                                        \
  {                                                                      \
    static ret (*real) params;                                           \
    if (!real && !(real = (ret (*) params)lazy_sym(&(lib), #name)))      \
      return fail;                                                       \
    return real args;                                                    \
  }
#define LAZY_VOID(lib, name, params, args)                               \
  void name params                                                       \
  {                                                                      \
    static void (*real) params;                                          \
    if (!real && !(real = (void (*) params)lazy_sym(&(lib), #name)))     \
      return;                                                            \
    real args;                                                           \
  }

#endif
