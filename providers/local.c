/* providers/local.c - the host mechanics under the local driver
 * (localdrv.c) and the local providers (nspawn, qemu): the state directory
 * that stands in for cloud tags, race-free loopback ports, detached host
 * processes, their logs and their shutdown. No records, no emit(). Never
 * writes stdout. */
#include "mvm.h"
#include "provider.h"
#include "local.h"
#include "localcg.h"

#include <dirent.h>
#include <ftw.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#define LOCAL_REASK_S 10.0    /* repeat a soft poweroff request this often */

static const char *state_base(void)
{
  static char buf[PATH_MAX];
  const char *s = getenv("MVM_STATE_DIR"), *x = getenv("XDG_RUNTIME_DIR");

  if (s && *s) return s;
  if (!geteuid()) return "/run/mvmbox";
  if (x && *x) snprintf(buf, sizeof(buf), "%s/mvmbox", x);
  else snprintf(buf, sizeof(buf), "/tmp/mvmbox-%u", (unsigned)geteuid());
  return buf;
}

/* Create path (mode 0700) or accept it only if it is a real directory of
 * ours that nobody else can write: the state holds each host's user-data,
 * private host key included, and /tmp/mvmbox-UID could be made by anyone. */
static int owned_dir(const char *path)
{
  struct stat st;

  if (mkdir(path, 0700) && errno != EEXIST)
    return error("cannot create '%s': %s", path, strerror(errno));
  if (lstat(path, &st))
    return error("cannot stat '%s': %s", path, strerror(errno));
  if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
      (st.st_mode & 022))
    return error("unsafe state directory '%s': not a directory of uid %u"
                 " closed to others", path, (unsigned)geteuid());
  return 0;
}

/* mkdir -p for the two levels we own (base and base/prov). */
static int state_dir(const char *prov, char *out, size_t len)
{
  const char *base = state_base();

  if (owned_dir(base)) return -1;
  snprintf(out, len, "%s/%s", base, prov);
  return owned_dir(out);
}

int local_image(const char *name, char *out, size_t len)
{
  const char *c = getenv("MVM_CACHE");

  snprintf(out, len, "%s/current/%s", c && *c ? c : "/var/cache/mvmbox", name);
  if (access(out, R_OK))
    return error("no base image '%s' (run 'make image')", out);
  return 0;
}

int local_prog(const char *name)
{
  const char *path = getenv("PATH"), *p, *e;
  char file[PATH_MAX];

  for (p = path && *path ? path : "/usr/bin:/bin"; *p; p = e + !!*e) {
    e = p + strcspn(p, ":");
    if (e == p) snprintf(file, sizeof(file), "./%s", name);  /* "::" */
    else snprintf(file, sizeof(file), "%.*s/%s", (int)(e - p), p, name);
    if (!access(file, X_OK)) return 0;
  }
  return error("no %s on PATH (install it)", name);
}

static int read_small(const char *dir, const char *name, char *buf, size_t len)
{
  char path[PATH_MAX + 32];
  ssize_t n;
  int fd;

  snprintf(path, sizeof(path), "%s/%s", dir, name);
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) return -1;
  n = read(fd, buf, len - 1);
  close(fd);
  if (n < 0) return -1;
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) n--;
  buf[n] = 0;
  return 0;
}

int local_put(const struct local_host *h, const char *name, const char *data,
              size_t len)
{
  char path[PATH_MAX + 32];
  int fd;

  snprintf(path, sizeof(path), "%s/%s", h->dir, name);
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return error("cannot create '%s': %s", path, strerror(errno));
  if (writeall(fd, data, len) < 0) {
    close(fd);
    return error("cannot write '%s': %s", path, strerror(errno));
  }
  return close(fd) ? error("cannot write '%s'", path) : 0;
}

static int put_str(const struct local_host *h, const char *name,
                   const char *s)
{
  char *line = xasprintf("%s\n", s);
  int r = local_put(h, name, line, strlen(line));

  free(line);
  return r;
}

/* Is PORT held by any local host of any provider? */
static int port_taken(int port)
{
  const char *base = state_base();
  char buf[16], dir[PATH_MAX];
  struct dirent *p, *e;
  int taken = 0;
  DIR *pd, *d;

  if (!(pd = opendir(base))) return 0;
  while (!taken && (p = readdir(pd))) {
    if (*p->d_name == '.') continue;
    snprintf(dir, sizeof(dir), "%s/%s", base, p->d_name);
    if (!(d = opendir(dir))) continue;
    while (!taken && (e = readdir(d))) {
      char sub[PATH_MAX + 256];

      if (*e->d_name == '.') continue;
      snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
      if (!read_small(sub, "port", buf, sizeof(buf)) && atoi(buf) == port)
        taken = 1;
    }
    closedir(d);
  }
  closedir(pd);
  return taken;
}

/* Let the kernel pick a free loopback port; under the lock, skip ports
 * another local host holds (its sshd may not listen yet). */
static int pick_port(void)
{
  struct sockaddr_in sa;
  socklen_t sl = sizeof(sa);
  int tries, fd, port = -1;

  for (tries = 0; tries < 50 && port < 0; tries++) {
    if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) break;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (!bind(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
        !getsockname(fd, (struct sockaddr *)&sa, &sl))
      port = ntohs(sa.sin_port);
    close(fd);
    if (port > 0 && port_taken(port)) port = -1;
  }
  return port;
}

int local_new(struct local_host *h, const char *prov, const char *label,
              const char *user)
{
  char base[PATH_MAX], lock[PATH_MAX + 16], num[16];
  unsigned char rnd[4];
  int lfd, fd, r = -1;

  memset(h, 0, sizeof(*h));
  /* Interrupted (lib/sig.c): start no more hosts, report those started. */
  if (sig_caught()) return error("interrupted");
  if (state_dir(prov, base, sizeof(base))) return -1;
  if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) < 0 ||
      read(fd, rnd, sizeof(rnd)) != sizeof(rnd)) {
    if (fd >= 0) close(fd);
    return error("cannot read /dev/urandom");
  }
  close(fd);
  snprintf(h->id, sizeof(h->id), "mvm-%02x%02x%02x%02x", rnd[0], rnd[1],
           rnd[2], rnd[3]);
  if (snprintf(h->dir, sizeof(h->dir), "%s/%s", base, h->id) >=
      (int)sizeof(h->dir))
    return error("state directory name too long");
  snprintf(h->label, sizeof(h->label), "%s", label ? label : "");
  snprintf(h->user, sizeof(h->user), "%s", user ? user : "mvm");
  if (mkdir(h->dir, 0700))
    return error("cannot create '%s': %s", h->dir, strerror(errno));

  /* The lock covers pick + write, so two provisions never share a port. */
  snprintf(lock, sizeof(lock), "%s/.ports.lock", state_base());
  if ((lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
      flock(lfd, LOCK_EX)) {
    error("cannot lock '%s': %s", lock, strerror(errno));
    goto out;
  }
  if ((h->port = pick_port()) < 0) {
    error("no free port on 127.0.0.1");
    goto out;
  }
  snprintf(num, sizeof(num), "%d", h->port);
  if (put_str(h, "port", num)) goto out;
  r = 0;
out:
  if (lfd >= 0) close(lfd);
  if (!r && (put_str(h, "label", h->label) || put_str(h, "user", h->user)))
    r = -1;
  if (r) local_rm(h);
  return r;
}

static int load(struct local_host *h, const char *dir, const char *name)
{
  char buf[32];

  memset(h, 0, sizeof(*h));
  snprintf(h->id, sizeof(h->id), "%s", name);
  if (snprintf(h->dir, sizeof(h->dir), "%s/%s", dir, name) >=
      (int)sizeof(h->dir))
    return -1;
  if (read_small(h->dir, "label", h->label, sizeof(h->label))) return -1;
  if (read_small(h->dir, "user", h->user, sizeof(h->user)))
    strcpy(h->user, "mvm");
  if (!read_small(h->dir, "port", buf, sizeof(buf))) h->port = atoi(buf);
  if (!read_small(h->dir, "pid", buf, sizeof(buf))) h->pid = atoi(buf);
  return 0;
}

int local_list(const char *prov, const char *label, const char *id,
               struct local_host **out, int *n)
{
  char dir[PATH_MAX];
  struct dirent *e;
  struct local_host h;
  DIR *d;

  *out = NULL;
  *n = 0;
  snprintf(dir, sizeof(dir), "%s/%s", state_base(), prov);
  if (!(d = opendir(dir))) {
    if (errno == ENOENT) return 0;
    return error("cannot open '%s': %s", dir, strerror(errno));
  }
  while ((e = readdir(d))) {
    if (*e->d_name == '.' || strlen(e->d_name) >= sizeof(h.id)) continue;
    if (id && strcmp(id, e->d_name)) continue;
    if (load(&h, dir, e->d_name)) continue;
    if (label && strcmp(label, h.label)) continue;
    *out = xrealloc(*out, (*n + 1) * sizeof(h));
    (*out)[(*n)++] = h;
  }
  closedir(d);
  return 0;
}

/* fork + setsid + exec, detached from the pipeline: only console.log.
 * Returns once the exec happened (a CLOEXEC pipe closes), so the pid
 * names the new program from then on. */
static pid_t spawn(const struct local_host *h, char **argv)
{
  char log[PATH_MAX + 16];
  struct buf cgs = { 0 };
  int fd, p[2], e = 0;
  pid_t pid;

  snprintf(log, sizeof(log), "%s/console.log", h->dir);
  if ((fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0)
    return error("cannot create '%s': %s", log, strerror(errno));
  if (pipe2(p, O_CLOEXEC)) {
    close(fd);
    return error("cannot create a pipe: %s", strerror(errno));
  }
  local_cgroup_make(h->id, &cgs);     /* providers/localcg.c: why */
  if (cgs.len) local_put(h, "cgroups", cgs.s, cgs.len);
  free(cgs.s);
  fflush(NULL);
  if ((pid = fork()) < 0) {
    close(fd);
    close(p[0]);
    close(p[1]);
    return error("cannot fork: %s", strerror(errno));
  }
  if (!pid) {
    setsid();
    local_cgroup_enter();
    exec_child(argv, fd, fd, p[1]);
  }
  close(fd);
  close(p[1]);
  while (read(p[0], &e, sizeof(e)) < 0 && errno == EINTR)
    ;
  close(p[0]);
  if (e) {
    waitpid(pid, NULL, 0);
    return error("cannot run '%s': %s", argv[0], strerror(e));
  }
  return pid;
}

int local_spawn(struct local_host *h, char **argv)
{
  char num[16];
  pid_t pid = spawn(h, argv);

  if (pid < 0) return -1;
  h->pid = pid;
  h->t0 = now_s();
  snprintf(num, sizeof(num), "%d", (int)pid);
  return put_str(h, "pid", num);
}

int local_alive(const struct local_host *h)
{
  char path[64], buf[4096], st[512], *p;
  ssize_t n, i;
  int fd;

  if (h->pid <= 0) return 0;
  waitpid(h->pid, NULL, WNOHANG);          /* reap it if it is our child */
  snprintf(path, sizeof(path), "/proc/%d/stat", (int)h->pid);
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) return 0;
  n = read(fd, st, sizeof(st) - 1);
  close(fd);
  st[n > 0 ? n : 0] = 0;
  if (!(p = strrchr(st, ')')) || p[1] != ' ' || p[2] == 'Z') return 0;
  /* Same process, not a recycled pid: its command line names our id. */
  snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)h->pid);
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) return 0;
  n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return 0;
  for (i = 0; i < n; i++)
    if (!buf[i]) buf[i] = ' ';
  buf[n] = 0;
  return strstr(buf, h->id) != NULL;
}

int local_run(const struct local_host *h, char **argv)
{
  pid_t pid = spawn(h, argv);
  int st;

  if (pid < 0) return -1;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return error("cannot wait for '%s'", argv[0]);
  if (!WIFEXITED(st) || WEXITSTATUS(st))
    return error("%s failed: %s", argv[0], local_logtail(h));
  return 0;
}

void local_stop(struct local_host *h, int n, void (*soft)(struct local_host *),
                double timeout)
{
  double t0 = now_s(), asked = t0;
  int i, left, killed = 0;

  for (i = 0; i < n; i++) {
    if (!local_alive(&h[i])) continue;
    if (soft) soft(&h[i]);
    else kill(h[i].pid, SIGTERM);
  }
  for (;;) {
    for (left = 0, i = 0; i < n; i++) left += local_alive(&h[i]);
    if (!left) break;
    /* A guest still booting may miss the first request: ask again. */
    if (soft && !killed && now_s() - asked > LOCAL_REASK_S) {
      for (i = 0; i < n; i++)
        if (local_alive(&h[i])) soft(&h[i]);
      asked = now_s();
    }
    if (!killed && now_s() - t0 > timeout) {
      for (i = 0; i < n; i++)
        if (local_alive(&h[i])) {
          info("%s: no clean poweroff in %.0f s: killing pid %d", h[i].id,
               timeout, (int)h[i].pid);
          kill(h[i].pid, SIGKILL);
        }
      killed = 1;
    }
    if (killed && now_s() - t0 > timeout + 10) break;
    usleep(50000);
  }
  for (i = 0; i < n; i++)
    if (!local_alive(&h[i])) local_rm(&h[i]);
    else errmsg(NULL, "%s: pid %d survived SIGKILL; state kept in %s", h[i].id,
              (int)h[i].pid, h[i].dir);
}

const char *local_logtail(const struct local_host *h)
{
  static char out[300];
  char path[PATH_MAX + 16], buf[1024], *p;
  int fd, lines = 0;
  ssize_t n;
  off_t sz;

  snprintf(path, sizeof(path), "%s/console.log", h->dir);
  strcpy(out, "(no console output)");
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) return out;
  sz = lseek(fd, 0, SEEK_END);
  lseek(fd, sz > (off_t)sizeof(buf) - 1 ? sz - (off_t)sizeof(buf) + 1 : 0,
        SEEK_SET);
  n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return out;
  while (n > 0 && isspace((unsigned char)buf[n - 1])) n--;
  buf[n] = 0;
  for (p = buf + n; p > buf; p--)
    if (p[-1] == '\n' && ++lines == 2) break;
  n = strlen(p) < sizeof(out) ? (ssize_t)strlen(p) : (ssize_t)sizeof(out) - 1;
  memcpy(out, p, n);
  out[n] = 0;
  for (p = out; *p; p++)
    if (*p == '\n' || *p == '\r' || (unsigned char)*p < 32) *p = ' ';
  return out;
}

static int rm_one(const char *path, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
  (void)sb;
  (void)ftw;
  if (flag == FTW_DP) rmdir(path);
  else unlink(path);
  return 0;
}

void local_rm(const struct local_host *h)
{
  if (h->dir[0]) local_cgroup_rm(h->id, h->dir);
  if (h->dir[0] && nftw(h->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS))
    if (errno != ENOENT)
      errmsg(NULL, "cannot remove '%s': %s", h->dir, strerror(errno));
}
