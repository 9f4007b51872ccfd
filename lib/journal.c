/* lib/journal.c - the local journal of cloud creates: before each create
 * an intent line, after it the id, each an ordinary host record appended
 * with one write() and fsync'd, so a host whose process was killed -9 is
 * still on disk and `mvm-teardown < journal` destroys it. Read back only
 * for the names of hosts mvmbox meant to make (journal_each). */
#include "mvm.h"

const char *journal_path(void)
{
  static char path[PATH_MAX];
  const char *j = getenv("MVM_JOURNAL"), *x = getenv("XDG_STATE_HOME");
  const char *home = getenv("HOME");

  if (j && *j) snprintf(path, sizeof(path), "%s", j);
  else if (x && *x) snprintf(path, sizeof(path), "%s/mvmbox/journal", x);
  else snprintf(path, sizeof(path), "%s/.local/state/mvmbox/journal",
                home ? home : "");
  return path;
}

/* mkdir -p of the journal's directory (0700: records name hosts). */
static int make_dirs(const char *path)
{
  char dir[PATH_MAX], *p;

  snprintf(dir, sizeof(dir), "%s", path);
  if (!(p = strrchr(dir, '/')) || p == dir) return 0;
  *p = 0;
  for (p = dir + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(dir, 0700) && errno != EEXIST) return -1;
    *p = '/';
  }
  return mkdir(dir, 0700) && errno != EEXIST ? -1 : 0;
}

int journal_add(const struct rec *r)
{
  const char *path = journal_path();
  char *line = rec_format(r);
  int fd, rc = 0;

  if (make_dirs(path) ||
      (fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0)
    rc = error("cannot open the journal '%s': %s", path, strerror(errno));
  else {
    if (writeall(fd, line, strlen(line)) || fsync(fd))
      rc = error("cannot write the journal '%s': %s", path, strerror(errno));
    close(fd);
  }
  free(line);
  return rc;
}

/* Each record of the journal, in order, to EACH (malformed lines are
 * skipped: the journal is appended by killed processes too). 0, also when
 * there is no journal yet; -1 with mvm.err if it cannot be read. */
int journal_each(void (*each)(const struct rec *r, void *arg), void *arg)
{
  const char *path = journal_path();
  FILE *f = fopen(path, "re");
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  struct rec r;

  if (!f)
    return errno == ENOENT ? 0 : error("cannot read the journal '%s': %s",
                                       path, strerror(errno));
  while ((n = getline(&line, &cap, f)) > 0) {
    if (line[n - 1] == '\n') n--;
    if (!n || n >= REC_LINE_MAX) continue;
    if (!rec_parse(&r, line, n, 0) && r.addr) each(&r, arg);
    rec_release(&r);
  }
  free(line);
  fclose(f);
  return 0;
}
