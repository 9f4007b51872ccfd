/* lib/sync/walk.c - the local side of mvm-sync's manifests: walk a tree through
 * directory fds (fstatat/openat, never following a symlink below the root)
 * and, long after, open each file again the same way, checking that it is
 * still the inode the walk saw. A user who can write the source tree and
 * swaps a directory for a symlink between the walk and the send (or during
 * the walk) gets an error, never a root sync uploading what the link points
 * at. And plan_tree(): where SRC[:DEST] goes. */
#include "mvm.h"
#include "sync.h"
#include "crypto/crypto.h"
#include <dirent.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/syscall.h>

/* Local names live in one arena; entries hold offsets until the walk ends. */
static size_t m_name(struct manifest *m, const char *s, size_t len)
{
  size_t off = m->nlen;

  if (m->nlen + len + 1 > m->ncap) {
    m->ncap = (m->nlen + len + 1) * 2;
    m->names = xrealloc(m->names, m->ncap);
  }
  memcpy(m->names + off, s, len);
  m->names[off + len] = 0;
  m->nlen += len + 1;
  return off;
}

struct walk {
  struct manifest *m;
  char *path;            /* relative path of what is being walked */
  char *const *excl;
  int nexcl;
};

static int walk_dir(struct walk *w, int fd, size_t plen);

/* Add the entry w->path[0..plen) with stat st, named name in dir fd. */
static int walk_add(struct walk *w, int dfd, const char *name,
                    const struct stat *st, size_t plen)
{
  char target[PATH_MAX];
  struct ment *e;
  struct stat ds;
  ssize_t n;
  char type;
  int fd;

  type = S_ISREG(st->st_mode) ? 'f' : S_ISDIR(st->st_mode) ? 'd' :
         S_ISLNK(st->st_mode) ? 'l' : 0;
  if (!type) return 0;            /* sockets, fifos, devices: as rsync -a */
  if (plen && excl_match(w->excl, w->nexcl, w->path, type == 'd')) return 0;
  e = manifest_add(w->m);
  e->path = (const char *)(uintptr_t)m_name(w->m, w->path, plen);
  e->type = type;
  e->size = type == 'f' ? st->st_size : 0;
  e->mtime = st->st_mtim.tv_sec;
  e->nsec = st->st_mtim.tv_nsec;
  e->mode = st->st_mode & 07777;
  e->uid = st->st_uid;
  e->gid = st->st_gid;
  e->dev = st->st_dev;
  e->ino = st->st_ino;
  if (type == 'l') {
    n = readlinkat(dfd, name, target, sizeof(target) - 1);
    if (n < 0) return error("cannot readlink '%s': %s", w->path,
                            strerror(errno));
    e->link = (const char *)(uintptr_t)m_name(w->m, target, n);
  }
  if (type != 'd' || !plen) return 0;
  fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    w->m->n--;                                      /* vanished: as rsync */
    return 0;
  }
  if (fd < 0 || fstat(fd, &ds) || ds.st_dev != st->st_dev ||
      ds.st_ino != st->st_ino) {
    if (fd >= 0) close(fd);
    return error("'%s' changed during the walk%s%s", w->path,
                 fd < 0 ? ": " : "", fd < 0 ? strerror(errno) : "");
  }
  return walk_dir(w, fd, plen);
}

/* Walk the open directory fd (closed here) whose path is w->path[0..plen). */
static int walk_dir(struct walk *w, int fd, size_t plen)
{
  DIR *d = fdopendir(fd);
  struct dirent *de;
  struct stat st;
  size_t len, at = plen ? plen + 1 : 0;
  int rc = 0;

  if (!d) {
    close(fd);
    return error("cannot open '%s': %s", plen ? w->path : ".",
                 strerror(errno));
  }
  while (!rc && (errno = 0, de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    len = strlen(de->d_name);
    if (at + len + 1 > PATH_MAX) {
      rc = error("path too long: '%s/%s'", w->path, de->d_name);
      break;
    }
    if (plen) w->path[plen] = '/';
    memcpy(w->path + at, de->d_name, len + 1);
    if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW)) {
      if (errno != ENOENT)                          /* vanished: as rsync */
        rc = error("cannot stat '%s': %s", w->path, strerror(errno));
    } else {
      rc = walk_add(w, dirfd(d), de->d_name, &st, at + len);
    }
    w->path[plen] = 0;
  }
  if (!rc && errno)
    rc = error("cannot read '%s': %s", plen ? w->path : ".",
               strerror(errno));
  closedir(d);
  return rc;
}

int manifest_walk(struct manifest *m, const char *root, char *const *excl,
                  int nexcl)
{
  struct walk w = { .m = m, .excl = excl, .nexcl = nexcl };
  struct stat st;
  size_t i;
  int rc, fd;

  memset(m, 0, sizeof(*m));
  m->fd = -1;
  /* the root may be a symlink to the tree; nothing below it is followed */
  if ((fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
    if (errno == ENOTDIR) return error("'%s' is not a directory", root);
    return error("cannot open '%s': %s", root, strerror(errno));
  }
  if (fstat(fd, &st)) {
    close(fd);
    return error("cannot stat '%s': %s", root, strerror(errno));
  }
  m->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);    /* kept for manifest_open() */
  w.path = xzalloc(PATH_MAX);
  rc = walk_add(&w, AT_FDCWD, root, &st, 0);
  if (!rc) rc = walk_dir(&w, fd, 0);
  else close(fd);
  free(w.path);
  if (m->fd < 0 && !rc) rc = error("cannot open '%s': %s", root,
                                   strerror(errno));
  for (i = 0; i < m->n; i++) {
    m->e[i].path = m->names + (uintptr_t)m->e[i].path;
    if (m->e[i].link) m->e[i].link = m->names + (uintptr_t)m->e[i].link;
  }
  manifest_sort(m);
  return rc;
}

/* openat2(2) where the kernel has it (5.6+), else one openat(O_NOFOLLOW)
 * per component. A symlink anywhere below the root fails with ELOOP (or
 * ENOTDIR for the last component opened as a directory). */
static int open_beneath(int root, const char *path)
{
  static int no_openat2;
  struct open_how how = { .flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC,
                          .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS };
  const char *p = path, *slash;
  char name[NAME_MAX + 1];
  int fd, dfd = root, e;

  if (!no_openat2) {
    fd = syscall(SYS_openat2, root, path, &how, sizeof(how));
    if (fd >= 0 || (errno != ENOSYS && errno != EPERM)) return fd;
    no_openat2 = 1;               /* ENOSYS, or EPERM from a seccomp filter */
  }
  while ((slash = strchr(p, '/'))) {
    if ((size_t)(slash - p) > NAME_MAX) return errno = ENAMETOOLONG, -1;
    memcpy(name, p, slash - p);
    name[slash - p] = 0;
    fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    e = errno;
    if (dfd != root) close(dfd);
    if (fd < 0) return errno = e == ENOTDIR ? ELOOP : e, -1;
    dfd = fd;
    p = slash + 1;
  }
  fd = openat(dfd, p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  e = errno;
  if (dfd != root) close(dfd);
  errno = e;
  return fd;
}

int manifest_open(const struct manifest *m, const struct ment *e)
{
  struct stat st;
  int fd;

  if (m->fd < 0) return error("'%s': no tree open", e->path);
  fd = open_beneath(m->fd, *e->path ? e->path : ".");
  if (fd < 0)
    return error("cannot read '%s': %s%s", e->path, strerror(errno),
                 errno == ELOOP ? " (a symlink in its path)" : "");
  if (fstat(fd, &st) || st.st_dev != e->dev || st.st_ino != e->ino ||
      !S_ISREG(st.st_mode)) {
    close(fd);
    return error("'%s' was replaced since the walk; not sent (run again)",
                 e->path);
  }
  return fd;
}

int file_sha256(int fd, const char *name, unsigned char sum[32])
{
  if (sha256_fd(fd, sum))
    return error("cannot read '%s': %s", name, strerror(errno));
  return 0;
}

int plan_tree(const char *arg, const char *destdir, char **src, char **dest,
              char **stage)
{
  char *colon, *d = NULL, *b, *real, *base = NULL;
  struct stat st;
  size_t n;

  *src = xstrdup(arg);
  *dest = *stage = NULL;
  if ((colon = strrchr(*src, ':')) && lstat(*src, &st)) {
    *colon = 0;
    if (!*(d = colon + 1)) return error("empty DEST in '%s'", arg), 1;
  }
  n = strlen(*src);
  while (n > 1 && (*src)[n - 1] == '/') (*src)[--n] = 0;
  if (!d) {        /* the name as given; "." and ".." by their real name */
    if (!(real = realpath(*src, NULL)))
      return error("cannot open '%s': %s", *src, strerror(errno));
    b = strrchr(*src, '/');
    b = b ? b + 1 : *src;
    if (!strcmp(b, ".") || !strcmp(b, "..")) b = strrchr(real, '/') + 1;
    d = base = xstrdup(*b ? b : "root");
    free(real);
  }
  *dest = *d == '/' ? xstrdup(d) : xasprintf("%s/%s", destdir, d);
  free(base);
  n = strlen(*dest);
  while (n > 1 && (*dest)[n - 1] == '/') (*dest)[--n] = 0;
  b = strrchr(*dest, '/');
  if (!b[1] || !strcmp(b + 1, ".") || !strcmp(b + 1, ".."))
    return error("bad destination '%s'", *dest), 1;
  /* the prefix of mktemp's template: short enough for NAME_MAX */
  *stage = xasprintf("%.*s/.mvm-sync.%.32s", (int)(b - *dest), *dest, b + 1);
  return 0;
}
