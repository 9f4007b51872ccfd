/* lib/sync/plan.c - what mvm-sync must do to one remote tree: compare the local
 * and remote manifests (both sorted by path_cmp) and produce the list of
 * entries for the tar stream plus the sh script that the remote runs once
 * the whole stream has landed in the staging dir. The script only renames
 * (mv within one filesystem is atomic per file), removes and fixes modes
 * and directory mtimes, batching names so a change of 1000 files in one
 * directory is one mv, not 1000 processes. Needs only POSIX sh and tools. */
#include "mvm.h"
#include "sync.h"

#define LINE_MAX_SCRIPT (64 * 1024)

struct sbuf {
  struct buf out;        /* the script text */
  char key[64];          /* the open batch: its command */
  char *suffix;          /* and what ends its line (mv's target dir) */
  size_t line;           /* where the open batch line started */
  int open;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
  buf_add(&b->out, s, n);
}

static void sb_str(struct sbuf *b, const char *s)
{
  sb_add(b, s, strlen(s));
}

/* Append s single-quoted for sh: 'it'\''s' (newlines are fine inside). */
static void sb_quote(struct sbuf *b, const char *s)
{
  const char *q;

  sb_add(b, "'", 1);
  while ((q = strchr(s, '\''))) {
    sb_add(b, s, q - s);
    sb_add(b, "'\\''", 4);
    s = q + 1;
  }
  sb_str(b, s);
  sb_add(b, "'", 1);
}

static void sb_close(struct sbuf *b)
{
  if (!b->open) return;
  if (b->suffix) sb_str(b, b->suffix);
  sb_add(b, "\n", 1);
  free(b->suffix);
  b->suffix = NULL;
  b->open = 0;
}

/* Add one quoted name to the batch "cmd NAME... suffix": a new line when
 * the command or suffix changes or the line grows long. */
static void batch(struct sbuf *b, const char *cmd, const char *suffix,
                  const char *prefix, const char *name)
{
  if (b->open && (strcmp(cmd, b->key) ||
                  b->out.len - b->line > LINE_MAX_SCRIPT ||
                  strcmp(suffix ? suffix : "", b->suffix ? b->suffix : "")))
    sb_close(b);
  if (!b->open) {
    b->line = b->out.len;
    sb_str(b, cmd);
    snprintf(b->key, sizeof(b->key), "%s", cmd);
    b->suffix = suffix ? xstrdup(suffix) : NULL;
    b->open = 1;
  }
  sb_add(b, " ", 1);
  if (prefix) sb_str(b, prefix);
  sb_quote(b, *name ? name : ".");
}

char *manifest_cmd(const char *dest, char *const *excl, int nexcl,
                   int nolink)
{
  struct sbuf b = { 0 };
  int i, n = 0;

  /* Section marker, then the tree: nothing if absent, a fake root file
   * entry if it is not a directory, "L" if it is a symlink that --delete
   * would follow out of DEST. Basename-only patterns are pruned remotely (a
   * huge target/ is never listed); all are filtered locally. */
  sb_str(&b, "printf '@\\0'; d=");
  sb_quote(&b, dest);
  if (nolink) sb_str(&b, "; if [ -L \"$d\" ]; then printf 'L\\0'; el");
  else sb_str(&b, "; ");
  sb_str(&b, "if [ -d \"$d\" ]; then (cd \"$d\" && exec find .");
  for (i = 0; i < nexcl; i++) {
    size_t len = strlen(excl[i]);
    int dironly = len && excl[i][len - 1] == '/';
    char *p = xstrndup(excl[i], len - dironly);

    if (*p && !strchr(p, '/')) {
      sb_str(&b, n++ ? " -o" : " \\(");
      sb_str(&b, dironly ? " -type d -name " : " -name ");
      sb_quote(&b, p);
    }
    free(p);
  }
  if (n) sb_str(&b, " \\) -prune -o");
  /* %T@: seconds and nanoseconds, and no strftime (which without TZ stats
   * /etc/localtime for every entry) */
  sb_str(&b, " -printf '%y %s %T@ %m %P\\0%l\\0') || printf '!\\0'; "
         "elif [ -e \"$d\" ] || [ -L \"$d\" ]; then printf 'f 0 0 0 \\0\\0';"
         " fi\n");
  return b.out.s;
}

char *plan_fetch_cmd(const char *sections, int gz, const char *streams)
{
  /* gzip makes /usr/include's 550 KB list 89 KB (-1) or 75 KB (-6, for
   * -z: 10 ms of remote CPU) for the wire; rsync sends its file list
   * prefix-compressed. Without gzip on the host, plain. A plain list
   * (gz 0) starts with "z" if the host has gzip, for a later stream. */
  return xasprintf("find . -maxdepth 0 -printf '' 2>/dev/null || exit 97\n"
                   "%s{\n%s}%s%s%s\nprintf '\\0@\\0#\\0'\n"
                   "read -r go || exit 0\ncase $go in\n%s*) exit 0 ;;\n"
                   "esac\n",
                   gz ? "" : "command -v gzip >/dev/null 2>&1 && printf z\n",
                   sections,
                   gz ? " | { gzip -" : "", gz > 1 ? "6" : gz ? "1" : "",
                   gz ? " 2>/dev/null || cat; }" : "", streams);
}

char *plan_stream_cmd(const char *stage, const char *made, int gz)
{
  struct sbuf q = { 0 };
  char *cmd;

  /* Every message goes to stdout, so the record can carry it. The first
   * stream makes the staging dir with mktemp -d (a fresh name nobody could
   * plant a link or a dir at) and prints its name, NUL-ended; the next
   * one is given it. A failure removes it: nothing is left behind. */
  sb_quote(&q, made ? made : stage);
  cmd = xasprintf("exec 2>&1; command -v tar >/dev/null || exit 98; %s%s%s"
                  "fail() { r=$?; cd / && rm -rf \"$S\"; exit $r; }; "
                  "cd \"$S\" || fail; tar -x%spf - || fail; [ ! -f a ] || "
                  "{ sh ./a \"$S\" || fail; cd / && rm -rf \"$S\"; }",
                  made ? "S=" : "T=", q.out.s,
                  made ? "; " : "; mkdir -p -- \"${T%/*}\" && "
                  "S=$(mktemp -d -- \"$T.XXXXXXXX\") || exit 1; "
                  "printf '%s\\0' \"$S\"; ", gz ? "z" : "");
  free(q.out.s);
  return cmd;
}

static int under(const char *path, const char *top)
{
  size_t n;

  if (!top) return 0;
  if (!*top) return 1;
  n = strlen(top);
  return !strncmp(path, top, n) && path[n] == '/';
}

struct pstate {
  struct plan *p;
  const struct plan_opts *o;
  struct manifest *loc;
  struct sbuf hd, opn, pre, mv, del, chm, tch;
  const char *newtop;    /* subtree being sent whole */
  const char *gone;      /* remote subtree removed whole */
};

/* The remote dir that path is moved into or deleted from: its mtime is
 * set again at the end, and one its owner may not write (0511) is opened
 * for the login first and given its mode back at the end, as rsync does
 * (root needs neither, and a chmod of one's own dir never fails). */
static void mark_parent(struct pstate *s, const char *path)
{
  const char *slash = strrchr(path, '/');
  char *parent = slash ? xstrndup(path, slash - path) : xstrdup("");
  struct ment *d = manifest_find(s->loc, parent);
  char cmd[64];

  if (d && d->type == 'd') {
    d->flags |= ME_TOUCH;
    if (!(d->mode & 0200) && !(d->flags & ME_OPEN)) {
      d->flags |= ME_OPEN;
      batch(&s->opn, "chmod u+w --", NULL, NULL, d->path);
      snprintf(cmd, sizeof(cmd), "chmod %04o --", d->mode);
      batch(&s->chm, cmd, NULL, NULL, d->path);
    }
  }
  free(parent);
}

static void dry(struct plan *p, const char *what, const char *path)
{
  p->drylog = xrealloc(p->drylog, (p->ndry + 1) * sizeof(char *));
  p->drylog[p->ndry++] = xasprintf("%s %s", what, *path ? path : ".");
}

static void send(struct pstate *s, struct ment *l)
{
  struct plan *p = s->p;
  const char *slash;
  struct sbuf to = { 0 };
  char *dir;

  p->send = xrealloc(p->send, (p->nsend + 1) * sizeof(*p->send));
  p->send[p->nsend++] = l;
  l->flags |= ME_SEND;
  if (l->type != 'd') p->files++;
  p->bytes += l->size;
  p->work = 1;
  if (s->o->dry && l->type != 'd') dry(p, "send", l->path);
  if (under(l->path, s->newtop)) return;
  if (l->type == 'd') s->newtop = l->path;
  if (!*l->path) return;         /* the root: moved by the script head */
  slash = strrchr(l->path, '/');
  dir = slash ? xasprintf("%.*s/", (int)(slash - l->path), l->path)
              : xstrdup("./");
  sb_str(&to, " ");
  sb_quote(&to, dir);
  mark_parent(s, l->path);
  batch(&s->mv, "mv -f --", to.out.s, "\"$S\"/t/", l->path);
  free(to.out.s);
  free(dir);
}

static void remove_remote(struct pstate *s, struct sbuf *b, struct ment *r)
{
  if (r->type == 'd') s->gone = r->path;
  mark_parent(s, r->path);
  batch(b, "rm -rf --", NULL, NULL, r->path);
  s->p->work = 1;
}

/* Both sides have the path. */
static void both(struct pstate *s, struct ment *l, struct ment *r)
{
  char cmd[64];
  int same;

  if (l->type != r->type) {
    if (*l->path) remove_remote(s, &s->pre, r);
    else s->gone = "";
    send(s, l);
    return;
  }
  if (l->type == 'l') {      /* rsync -a keeps a link's mtime too */
    if (strcmp(l->link, r->link) || l->mtime != r->mtime ||
        l->nsec != r->nsec) send(s, l);
    return;
  }
  if (l->type == 'f') {
    same = l->size == r->size;
    if (s->o->checksum)
      same = same && (l->flags & r->flags & ME_SUM) &&
             !memcmp(l->sum, r->sum, 32);
    else
      same = same && l->mtime == r->mtime && l->nsec == r->nsec;
    if (!same) {
      send(s, l);
      return;
    }
  }
  if (l->mtime != r->mtime || l->nsec != r->nsec) l->flags |= ME_TOUCH;
  if (l->mode != r->mode) {
    snprintf(cmd, sizeof(cmd), "chmod %04o --", l->mode);
    batch(&s->chm, cmd, NULL, NULL, l->path);
    s->p->work = 1;
    if (s->o->dry) dry(s->p, "chmod", l->path);
  }
}

/* "@SECS.NANOS" for touch -d, from a timespec-style pair (-1 s + 250 ms
 * is -0.75 s). */
static void stamp(char *out, size_t n, int64_t sec, long nsec)
{
  int64_t ns = sec * 1000000000 + nsec;
  uint64_t a = ns < 0 ? -(uint64_t)ns : (uint64_t)ns;

  snprintf(out, n, "@%s%llu.%09llu", ns < 0 ? "-" : "",
           (unsigned long long)(a / 1000000000),
           (unsigned long long)(a % 1000000000));
}

static void touch_all(struct pstate *s)
{
  char cmd[64], at[40];
  size_t i;

  for (i = 0; i < s->loc->n; i++) {
    struct ment *l = s->loc->e + i;

    if (!(l->flags & ME_TOUCH) || (l->flags & ME_SEND)) continue;
    stamp(at, sizeof(at), l->mtime, l->nsec);
    snprintf(cmd, sizeof(cmd), "touch -c -d %s --", at);
    batch(&s->tch, cmd, NULL, NULL, l->path);
    s->p->work = 1;
  }
}

static void head(struct pstate *s, struct manifest *rem)
{
  struct sbuf *b = &s->hd;
  const char *slash = strrchr(s->o->dest, '/');

  /* S: the staging dir, given by the stream command */
  sb_str(b, "set -e\nS=$1\nD=");
  sb_quote(b, s->o->dest);
  sb_str(b, "\n");
  if (s->newtop && !*s->newtop) {   /* the whole tree is new */
    if (rem->n) sb_str(b, "rm -rf -- \"$D\"\n");
    if (slash && slash != s->o->dest) sb_str(b, "mkdir -p -- \"${D%/*}\"\n");
    sb_str(b, "mv -- \"$S/t\" \"$D\"\n");
  } else if (s->o->delete) {        /* as in the listing, now again */
    sb_str(b, "if [ -L \"$D\" ]; then echo \"$D: a symlink on the host, "
           "refused (--delete would work outside it)\"; exit 1; fi\n");
  }
  sb_str(b, "cd \"$D\"\n");
}

void plan_make(struct plan *p, struct manifest *loc, struct manifest *rem,
               const struct plan_opts *o)
{
  struct pstate s = { .p = p, .o = o, .loc = loc };
  size_t i = 0, j = 0;
  int c;

  memset(p, 0, sizeof(*p));
  while (i < loc->n || j < rem->n) {
    struct ment *l = i < loc->n ? loc->e + i : NULL;
    struct ment *r = j < rem->n ? rem->e + j : NULL;

    c = !l ? 1 : !r ? -1 : path_cmp(l->path, r->path);
    if (c <= 0) i++;
    if (c >= 0) j++;
    if (r && c >= 0 && under(r->path, s.gone)) r = NULL;
    else if (c >= 0) s.gone = NULL;
    if (c < 0 || (c == 0 && !r)) {
      send(&s, l);
    } else if (c > 0) {
      if (!r || !o->delete) continue;
      remove_remote(&s, &s.del, r);
      if (o->dry) dry(p, "delete", r->path);
    } else {
      both(&s, l, r);
    }
  }
  touch_all(&s);
  head(&s, rem);
  sb_close(&s.opn);
  sb_close(&s.pre);
  sb_close(&s.mv);
  sb_close(&s.del);
  sb_close(&s.chm);
  sb_close(&s.tch);
  for (i = 0; i < 6; i++) {
    struct sbuf *b = (struct sbuf *[]){ &s.opn, &s.pre, &s.mv, &s.del,
                                        &s.chm, &s.tch }[i];

    if (b->out.s) sb_str(&s.hd, b->out.s);
    free(b->out.s);
  }
  p->script = s.hd.out.s;
  p->slen = s.hd.out.len;
}

void plan_release(struct plan *p)
{
  size_t i;

  for (i = 0; i < p->ndry; i++) free(p->drylog[i]);
  free(p->drylog);
  free(p->send);
  free(p->script);
  memset(p, 0, sizeof(*p));
}
