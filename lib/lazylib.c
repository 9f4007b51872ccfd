/* lib/lazylib.c - dlopen a pinned soname at first use; see lazylib.h. */
#include <dlfcn.h>
#include "mvm.h"
#include "lazylib.h"

void *lazy_sym(struct lazylib *l, const char *name)
{
  void *sym;

  if (!l->handle && !l->failed) {
    l->handle = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
    if (!l->handle) {
      l->failed = 1;
      snprintf(l->why, sizeof(l->why), "%s", dlerror());
    }
  }
  if (!l->handle) {
    if (l->fatal)
      die("cannot load %s (install the Debian package %s): %s", l->soname,
          l->package, l->why);
    error("cannot load %s (install the Debian package %s): %s",
          l->soname, l->package, l->why);
    return NULL;
  }
  if (!(sym = dlsym(l->handle, name))) {
    if (l->fatal)
      die("%s has no %s (too old? install the Debian package %s)",
          l->soname, name, l->package);
    error("%s has no %s (too old? install the Debian package %s)",
          l->soname, name, l->package);
  }
  return sym;
}
