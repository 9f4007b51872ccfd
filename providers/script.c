/* providers/script.c - an original-style adapter behind the vtable: a bash
 * file defining provider_default_instance_type, provider_default_region,
 * provider_up LABEL CLOUD_INIT (the IP on stdout's last line) and
 * provider_down LABEL-OR-EMPTY. The file is $MVM_ADAPTER (provider_find
 * sets it when PROVIDER is a path). Never writes stdout: the adapter's
 * other stdout lines go to stderr. The file is resolved once, checked from
 * itself up to / and opened once; bash sources that open file
 * (/dev/fd/N), never a name it could look up or that could be swapped. */
#include "mvm.h"
#include "provider.h"

#define OUT_MAX (1024 * 1024)

/* Checks the four functions exist (up.sh's declare -F), then calls one.
 * $0 names the adapter in messages, $1 is the descriptor to source. */
static const char prog[] =
  ". \"/dev/fd/$1\" || exit 2\n"
  "eval \"exec $1<&-\"; shift\n"
  "for f in provider_default_instance_type provider_default_region \\\n"
  "    provider_up provider_down; do\n"
  "  declare -F \"$f\" >/dev/null ||\n"
  "    { echo \"adapter $0 does not define $f\" >&2; exit 2; }\n"
  "done\n"
  "\"$@\"\n";

/* Like sshd's secure_filename(): the script and every directory up to /
 * must be owned by root or us and not writable by group or others (a
 * sticky directory such as /tmp may be: nobody else can rename our entry
 * in it), so that no one else can change what the name leads to. */
static int trusted_path(const char *path, const struct stat *file)
{
  char *p = xstrdup(path), *slash;
  struct stat st = *file;
  int ok = S_ISREG(st.st_mode) && !(st.st_mode & 022);

  while (ok && (st.st_uid == geteuid() || !st.st_uid)) {
    if (!(slash = strrchr(p, '/')) || p[1] == 0) break;   /* "/" done */
    slash[slash == p] = 0;                 /* parent; "/x" -> "/" */
    ok = !lstat(p, &st) && S_ISDIR(st.st_mode) &&
         (!(st.st_mode & 022) || (st.st_mode & S_ISVTX));
  }
  ok = ok && (st.st_uid == geteuid() || !st.st_uid);
  free(p);
  return ok;
}

/* The adapter to run, opened: the record's adapter= (how mvm-provision
 * made the host; text on stdin, so it must be an absolute path), else
 * MVM_ADAPTER (set from a PROVIDER given as a path, relative to the
 * current directory, never searched in $PATH). *name gets the resolved
 * path (malloc'd). Returns the descriptor, or -1 (mvm.err). */
static int adapter(const struct rec *r, char **name)
{
  const char *f = r ? rec_get(r, "adapter") : NULL;
  struct stat ls, fs;
  char *real;
  int fd;

  *name = NULL;
  if (f && *f != '/')
    return error("script: refusing adapter '%s': adapter= must be an"
                 " absolute path", f);
  if (!f) f = getenv("MVM_ADAPTER");
  if (!f || !*f)
    return error("script: no adapter: give its path as PROVIDER or set"
                 " MVM_ADAPTER");
  if (!(real = realpath(f, NULL)))
    return error("script: cannot read adapter '%s': %s", f, strerror(errno));
  if (lstat(real, &ls) || !trusted_path(real, &ls)) {
    error("script: refusing adapter '%s': it or a directory above it is"
          " writable by others, or not owned by you or root", real);
    free(real);
    return -1;
  }
  /* The checked file, and no other: same inode, still safe, once open. */
  fd = open(real, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
  if (fd < 0 || fstat(fd, &fs) || fs.st_dev != ls.st_dev ||
      fs.st_ino != ls.st_ino || !trusted_path(real, &fs)) {
    error("script: refusing adapter '%s': it changed while being opened",
          real);
    if (fd >= 0) close(fd);
    free(real);
    return -1;
  }
  *name = real;
  return fd;
}

/* Run the function of the adapter open on AFD (named FILE) with args;
 * *out = its stdout (malloc'd; past OUT_MAX only the last line is kept,
 * and *cut set); its exit status. env: NULL-terminated "K=V" list. */
static int run(const char *file, int afd, char **args, char **env,
               char **out, int *cut)
{
  char num[16], *argv[9] = { "bash", "-c", (char *)prog, (char *)file, num };
  char *buf;
  size_t len = 0, cap = 4096;
  int fd[2], i;
  ssize_t n;
  pid_t pid;

  snprintf(num, sizeof(num), "%d", afd);
  for (i = 0; i < 3 && args[i]; i++) argv[5 + i] = args[i];
  xpipe(fd);
  if (!(pid = xfork())) {
    close(fd[0]);
    xdup2(fd[1], 1);
    if (fcntl(afd, F_SETFD, 0)) _exit(127);     /* bash inherits it */
    /* ^C reaches the whole process group: an adapter's up or down is
     * never cut half-way (the applet decides when to give up). */
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_DFL);   /* provision ignores it; `yes | head` must not */
    for (; env && *env; env++) putenv(*env);
    xexec(argv);
  }
  close(fd[1]);
  *cut = 0;
  buf = xmalloc(cap);
  while ((n = read(fd[0], buf + len, cap - len - 1)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    if ((len += n) + 1 == cap && cap < OUT_MAX) buf = xrealloc(buf, cap *= 2);
    else if (len + 1 == cap) {            /* full: keep the last line */
      char *nl = memrchr(buf, '\n', len);
      size_t keep = nl ? len - (nl + 1 - buf) : 0;

      memmove(buf, buf + len - keep, keep);
      len = keep;
      *cut = 1;
    }
  }
  close(fd[0]);
  buf[len] = 0;
  *out = buf;
  return xwaitpid(pid);
}

/* run(); *last = the last non-empty stdout line (malloc'd), earlier lines
 * to stderr. */
static int call(const char *file, int afd, char **args, char **env,
                char **last)
{
  char *buf, *s, *e;
  int cut = 0, st = run(file, afd, args, env, &buf, &cut);

  *last = NULL;
  for (s = buf; *s; s = e + !!*e) {
    e = s + strcspn(s, "\n");
    if (e == s) continue;
    if (*last) info("%s", *last);
    free(*last);
    *last = xstrndup(s, e - s);
  }
  free(buf);
  if (st) {
    free(*last);
    *last = NULL;
    return error("adapter %s: %s exited %d", file, args[0], st);
  }
  return 0;
}

static const char *dflt(const char *fn, char *keep, size_t len)
{
  char *args[] = { (char *)fn, NULL }, *last = NULL, *f;
  int afd = adapter(NULL, &f);

  *keep = 0;
  if (afd < 0 || call(f, afd, args, NULL, &last)) errmsg(NULL, "%s", mvm.err);
  else snprintf(keep, len, "%s", last ? last : "");
  if (afd >= 0) close(afd);
  free(f);
  free(last);
  return keep;
}

static const char *script_type(void)
{
  static char t[128];

  return dflt("provider_default_instance_type", t, sizeof(t));
}

static const char *script_region(void)
{
  static char t[128];

  return dflt("provider_default_region", t, sizeof(t));
}

/* One host: the user-data in a private temporary file, provider_up. */
static int up_one(const struct up_args *a, const char *file, int afd, int i,
                  emit_fn emit)
{
  char dir[] = "/tmp/mvm-script.XXXXXX", ud[64], pk[64], *last = NULL;
  char *args[] = { "provider_up", (char *)a->label, ud, NULL };
  char *env[5] = { NULL };
  struct rec r;
  int fd, rc = -1;

  if (!mkdtemp(dir)) return error("cannot make a temporary directory");
  snprintf(ud, sizeof(ud), "%s/cloud-init.yaml", dir);
  snprintf(pk, sizeof(pk), "%s/ssh_pubkey.pub", dir);
  fd = xopen(ud, O_WRONLY | O_CREAT | O_EXCL, 0600);
  xwriteall(fd, a->user_data[i], strlen(a->user_data[i]));
  xclose(fd);
  fd = xopen(pk, O_WRONLY | O_CREAT | O_EXCL, 0644);
  xwriteall(fd, a->pubkey, strlen(a->pubkey));
  xwriteall(fd, "\n", 1);
  xclose(fd);
  env[0] = xasprintf("INSTANCE_TYPE=%s", a->type ? a->type : "");
  env[1] = xasprintf("REGION=%s", a->region ? a->region : "");
  env[2] = xasprintf("LABEL=%s", a->label);
  env[3] = xasprintf("SSH_PUBKEY=%s", pk);
  if (call(file, afd, args, env, &last)) goto out;
  if (!last || !rec_addr_ok(last)) {
    error("adapter %s: last line of provider_up is not an address", file);
    goto out;
  }
  rec_new(&r, last);
  rec_set(&r, "provider", "script");
  rec_set(&r, "adapter", "%s", file);
  rec_set(&r, "id", "%s", last);
  if (a->hostkey_fp && a->hostkey_fp[i])
    rec_set(&r, "hostkey", "%s", a->hostkey_fp[i]);
  emit(&r);
  rec_release(&r);
  rc = 0;
out:
  /* the file held the host's private key: overwrite, then remove */
  if ((fd = open(ud, O_WRONLY)) >= 0) {
    char z[4096] = { 0 };
    size_t left = strlen(a->user_data[i]);
    for (; left; left -= left < sizeof(z) ? left : sizeof(z))
      if (writeall(fd, z, left < sizeof(z) ? left : sizeof(z))) break;
    fsync(fd);
    close(fd);
  }
  unlink(ud);
  unlink(pk);
  rmdir(dir);
  for (fd = 0; fd < 4; fd++) free(env[fd]);
  free(last);
  return rc;
}

/* The adapter can be read, is trusted and defines the four functions
 * (prog's loop says which one is missing, on stderr). */
static int script_check(const struct up_args *a)
{
  char *args[] = { "true", NULL }, *out, *file;
  int cut, rc = 0, afd = adapter(NULL, &file);

  (void)a;
  if (afd < 0) return -1;
  if (run(file, afd, args, NULL, &out, &cut))
    rc = error("adapter %s cannot be used: it must source cleanly and"
               " define provider_default_instance_type,"
               " provider_default_region, provider_up and provider_down",
               file);
  free(out);
  free(file);
  close(afd);
  return rc;
}

static int script_up(const struct up_args *a, emit_fn emit)
{
  char *file;
  int i, rc = 0, afd = adapter(NULL, &file);

  if (afd < 0) return -1;
  for (i = 0; i < a->count && !rc; i++)
    if (sig_caught() ? error("interrupted") : up_one(a, file, afd, i, emit))
      rc = error("%s (%d of %d hosts made; mvm-teardown %s %s destroys"
                 " the label)", mvm.err, i, a->count, file, a->label);
  close(afd);
  free(file);
  return rc;
}

/* provider_down takes a label: for one record, its label= (the adapter
 * cannot destroy a single host, so all hosts of that label go). */
static int script_down(const char *label, const struct rec *only,
                       emit_fn emit)
{
  char *args[] = { "provider_down", NULL, NULL }, *last = NULL, *file;
  struct rec r;
  int i, rc;

  /* The adapter destroys by label, and an empty one means every host:
   * a record must never widen to that. */
  if (only && (!(label = rec_get(only, "label")) || !*label))
    return error("refusing a record without a label=: the adapter destroys"
                 " by label, and an empty one means every host");
  args[1] = (char *)(label ? label : "");
  if ((i = adapter(only, &file)) < 0) return -1;
  rc = call(file, i, args, NULL, &last);
  close(i);
  free(file);
  if (rc) return -1;
  if (last) info("%s", last);
  free(last);
  if (!only) return 0;
  rec_new(&r, only->addr);
  for (i = 0; i < only->n; i++)
    rec_set(&r, only->f[i].key, "%s", only->f[i].val);
  emit(&r);
  rec_release(&r);
  return 0;
}

/* The hosts the adapter's optional fifth function, provider_list
 * LABEL-OR-EMPTY, prints: one host record per line (ADDRESS [key=value
 * ...]), those provider_down LABEL-OR-EMPTY would destroy. */
static int script_list(const char *label, emit_fn emit)
{
  char *has[] = { "declare", "-F", "provider_list", NULL }, *out, *s, *e;
  char *args[] = { "provider_list", (char *)(label ? label : ""), NULL };
  char *file;
  int cut = 0, rc = 0, afd = adapter(NULL, &file);
  long n = 0;

  if (afd < 0) return -1;
  if (run(file, afd, has, NULL, &out, &cut)) {
    rc = error("adapter %s defines no provider_list: cannot list the"
               " hosts its provider_down would destroy", file);
  } else {
    free(out);
    if (run(file, afd, args, NULL, &out, &cut) || cut)
      rc = error("adapter %s: provider_list %s", file,
                 cut ? "printed too much" : "failed");
  }
  if (rc) {
    free(out);
    free(file);
    close(afd);
    return rc;
  }
  for (s = out; *s && !rc; s = e + !!*e) {
    struct rec r, o;
    int i;

    e = s + strcspn(s, "\n");
    if (e == s) continue;
    if (rec_parse(&r, s, e - s, ++n) || !r.addr) {
      rc = error("adapter %s: provider_list line %ld is not a host record",
                 file, n);
    } else {              /* as provision writes them: provider, id first */
      rec_new(&o, r.addr);
      rec_set(&o, "provider", "script");
      rec_set(&o, "id", "%s", rec_get(&r, "id") ? rec_get(&r, "id") : r.addr);
      if (label) rec_set(&o, "label", "%s", label);
      for (i = 0; i < r.n; i++) rec_set(&o, r.f[i].key, "%s", r.f[i].val);
      rec_set(&o, "adapter", "%s", file);
      emit(&o);
      rec_release(&o);
    }
    rec_release(&r);
  }
  free(out);
  free(file);
  close(afd);
  return rc;
}

const struct provider provider_script = {
  .name = "script",
  .default_instance_type = script_type,
  .default_region = script_region,
  .up = script_up,
  .down = script_down,
  .list = script_list,
  .check = script_check,
};
