/* applets/mvmbox.c - main(): dispatch on basename(argv[0]), or on the first
 * argument when called as "mvmbox". Handles --list, --install [-s] DIR,
 * --help [APPLET], --version, and --help and --version for every applet,
 * the GNU way (anywhere before "--", stdout, exit 0). The only file that
 * knows the applet table. */
#include "mvm.h"
#include "ssh/ssh.h"
#include "provider.h"

#define APPLET(n, s) \
  int s##_main(int, char **); extern const char s##_usage[];
#include "applets.h"
#undef APPLET

struct applet {
  const char *name;
  int (*main)(int, char **);
  const char *usage;
};

static const struct applet applets[] = {
#define APPLET(n, s) { n, s##_main, s##_usage },
#include "applets.h"
#undef APPLET
};

static const char mvmbox_usage[] =
"usage: mvmbox [--list | --install [-s] DIR | --help [APPLET] | --version]\n"
"       mvmbox APPLET [ARGS...]\n"
"\n"
"One binary for the mvm deploy pipeline:\n"
"  mvm-provision nspawn | mvm-waitinit | mvm-sync ~/mvm | mvm-postdeploy\n"
"\n"
"  --list           name the applets, one per line\n"
"  --install DIR    hard-link every applet name to this binary in DIR\n"
"                   (made, with its parents, if missing)\n"
"  --install -s DIR the same with symbolic links\n"
"  --help [APPLET]  this text, or an applet's\n"
"  --version        print the version\n";

/* One line per applet for `mvmbox --help`, as busybox lists its applets:
 * the NAME line (.Nd) of each applet's man page, which tests/mvmbox.test
 * keeps equal. An applet missing here is listed with its name alone. */
static const struct { const char *name, *line; } summaries[] = {
  { "mvm-kvmcheck", "check that KVM really works, here or on each host of the records" },
  { "mvm-postdeploy", "build, install and start the mvm daemons on each host" },
  { "mvm-provision", "create hosts with the project's cloud-init and print their records" },
  { "mvm-report", "the verification matrix from host records" },
  { "mvm-run", "run a command on every host, as a stage" },
  { "mvm-sync", "copy local trees to each host, incrementally, over SSH" },
  { "mvm-teardown", "destroy hosts made by mvm-provision" },
  { "mvm-waitinit", "wait until hosts accept SSH and cloud-init has finished" },
};

static void list_applets(FILE *out)
{
  size_t i, j;

  fputs("\nApplets:\n", out);
  for (i = 0; i < ARRAY_LEN(applets); i++) {
    const char *line = "";

    for (j = 0; j < ARRAY_LEN(summaries); j++)
      if (!strcmp(summaries[j].name, applets[i].name)) line = summaries[j].line;
    fprintf(out, "  %-15s %s\n", applets[i].name, line);
  }
}

static const struct applet *find(const char *name)
{
  size_t i;

  for (i = 0; i < ARRAY_LEN(applets); i++)
    if (!strcmp(applets[i].name, name)) return applets + i;
  return NULL;
}

/* mkdir -p, mode 0755 (as install -d): each missing component of dir. */
static int make_dir(const char *dir)
{
  char *p = xstrdup(dir), *s, c;
  int rc = 0;

  for (s = p + !!*p; !rc; s++) {
    if (*s && *s != '/') continue;
    c = *s;
    *s = 0;
    if (mkdir(p, 0755) && errno != EEXIST) {
      errmsg(NULL, "cannot create '%s': %s", p, strerror(errno));
      rc = -1;
    }
    if (!(*s = c)) break;
  }
  free(p);
  return rc;
}

/* Link every applet name in dir to this binary; an existing link is fine. */
static int install(int symbolic, const char *dir)
{
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  size_t i;
  int rc = 0;

  char *real = realpath(dir, NULL), *slash;
  const char *target = self;

  if (n < 0) pdie("cannot read /proc/self/exe");
  self[n] = 0;
  if (!real) {                  /* missing: make it, then look again */
    if (make_dir(dir)) return 1;
    real = realpath(dir, NULL);
  }
  /* Links beside the binary point to it by name, so a tree installed with
   * DESTDIR (or moved) still works. */
  slash = strrchr(self, '/');
  if (real && slash && (size_t)(slash - self) == strlen(real) &&
      !strncmp(self, real, slash - self))
    target = slash + 1;
  free(real);
  for (i = 0; i < ARRAY_LEN(applets); i++) {
    char *path = xasprintf("%s/%s", dir, applets[i].name);
    int r = symbolic ? symlink(target, path) : link(self, path);

    if (r && errno != EEXIST) {
      errmsg(NULL, "cannot link '%s': %s", path, strerror(errno));
      rc = 1;
    }
    free(path);
  }
  return rc;
}

/* Every applet's --help and --version: the first of them before "--"
 * wins, as with GNU getopt. */
static int run(const struct applet *a, int argc, char **argv)
{
  int i;

  msg_init(a->name);
  ssh_pins = provider_pins;     /* lib/ssh/ssh.c refuses TOFU for PF_PINS */
  for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
    if (!strcmp(argv[i], "--help")) {
      printf("%s\n  --help, --version  this text, the version (the options"
             " all applets share:\n                     mvmbox(1))\n",
             a->usage);
      return 0;
    }
    if (!strcmp(argv[i], "--version")) {
      printf("%s (mvmbox) %s\n", a->name, MVM_VERSION);
      return 0;
    }
  }
  return a->main(argc, argv);
}

static int mvmbox_main(int argc, char **argv)
{
  size_t i;

  if (argc < 2 || !strcmp(argv[1], "--help")) {
    const struct applet *a = argc > 2 ? find(argv[2]) : NULL;

    if (argc > 2 && !a) {
      fprintf(stderr, "mvmbox: unknown applet '%s'\n", argv[2]);
      return EXIT_NOAPPLET;
    }
    fputs(a ? a->usage : mvmbox_usage, argc < 2 ? stderr : stdout);
    if (!a) list_applets(argc < 2 ? stderr : stdout);
    return argc < 2 ? EXIT_USAGE : 0;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("mvmbox %s\n", MVM_VERSION);
    return 0;
  }
  if (!strcmp(argv[1], "--list")) {
    for (i = 0; i < ARRAY_LEN(applets); i++) puts(applets[i].name);
    return 0;
  }
  if (!strcmp(argv[1], "--install")) {
    int s = argc > 2 && !strcmp(argv[2], "-s");

    if (argc != 3 + s) help_exit("--install takes [-s] DIR");
    return install(s, argv[2 + s]);
  }
  return -1;
}

int main(int argc, char **argv)
{
  const char *name = strrchr(argv[0], '/');
  const struct applet *a;
  int rc;

  name = name ? name + 1 : argv[0];
  setvbuf(stdout, NULL, _IOLBF, 0);
  msg_init("mvmbox");
  if (!strcmp(name, "mvmbox")) {
    if ((rc = mvmbox_main(argc, argv)) >= 0) xexit(rc);
    argc--, argv++;
    name = argv[0];
  }
  if (!(a = find(name))) {
    fprintf(stderr, "mvmbox: unknown applet '%s'\n", name);
    xexit(EXIT_NOAPPLET);
  }
  xexit(run(a, argc, argv));
}
