/* lib/mvm.h - the core every applet uses (BusyBox's libbb.h): system
 * headers, the process-wide context and the prototypes of the files in lib/. A
 * subsystem (lib/ssh/, lib/http/, lib/kvm/, lib/sync/, lib/deploy/,
 * lib/crypto/) is entered through its one door header, "ssh/ssh.h" and
 * so on, included by the files that use it: ARCHITECTURE.md. */
#ifndef MVM_H
#define MVM_H

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MVM_VERSION "0.1.0"

#define PRINTF(a, b) __attribute__((format(printf, a, b)))
#define NORETURN __attribute__((noreturn))
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The one global: which applet runs, for which host, and how it is going. */
struct mvm_ctx {
  const char *applet;   /* "mvm-sync": first word of every message */
  const char *host;     /* set in a worker: second word of every message */
  int exitval;          /* what xexit() returns unless told otherwise */
  int verbose;          /* -v or MVM_DEBUG=1: show debug() */
  int quiet;            /* -q: hide info() */
  int status_fd;        /* worker -> runner pipe for live status, or -1 */
  char err[256];        /* why the last int-returning call failed */
};
extern struct mvm_ctx mvm;
struct rec;

/* Exit codes, the same in every applet (DESIGN.md). */
enum { EXIT_OK = 0, EXIT_HOSTFAIL = 1, EXIT_USAGE = 2, EXIT_NOAPPLET = 127 };

/* lib/xwrap.c: x functions either succeed or end the process with a
 * message; the caller never checks. */
void *xmalloc(size_t n);
void *xzalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) PRINTF(1, 2);
int xopen(const char *path, int flags, mode_t mode);
void xclose(int fd);
void xwriteall(int fd, const void *buf, size_t n);
char *xreadfile(const char *path, size_t max, size_t *len);
void xpipe(int fd[2]);
void xdup2(int from, int to);
pid_t xfork(void);
void xexec(char **argv) NORETURN;
int xwaitpid(pid_t pid);
void xsetenv(const char *name, const char *val);
long xatoi_range(const char *s, long lo, long hi);
double now_s(void);                                 /* monotonic seconds */
void sleep_s(double s);                      /* nanosleep, EINTR resumed */
void freezero(void *p, size_t n);                   /* explicit_bzero+free */

/* A growable string, always NUL-terminated; buf_add() dies on OOM, callers
 * bound what they add (lib/xwrap.c). */
struct buf {
  char *s;
  size_t len, cap;
};
void buf_add(struct buf *b, const void *p, size_t n);

/* lib/msg.c: every line on stderr, "mvm-APPLET: HOST: message".
 * "warning:" (warn) never changes the exit status; what does is an
 * "error:" line: errmsg(host or NULL, ...) sets it to 1 and goes on. */
void die(const char *fmt, ...) PRINTF(1, 2) NORETURN;
void pdie(const char *fmt, ...) PRINTF(1, 2) NORETURN;
void warn(const char *fmt, ...) PRINTF(1, 2);
void info(const char *fmt, ...) PRINTF(1, 2);
void debug(const char *fmt, ...) PRINTF(1, 2);
int error(const char *fmt, ...) PRINTF(1, 2);    /* sets mvm.err, returns -1 */
void errmsg(const char *host, const char *fmt, ...) PRINTF(2, 3);
void rec_errmsg(const struct rec *r);  /* errmsg() of a record's error= */
void help_exit(const char *fmt, ...) PRINTF(1, 2) NORETURN;
void status(const char *fmt, ...) PRINTF(1, 2);  /* live per-host stage line */
void msg_init(const char *applet);
/* The bottom of lib/: xwrap.c's x functions die through these. */
int writeall(int fd, const void *buf, size_t n);   /* -1 on error, no die */
void xexit(int code) NORETURN;      /* exit, stdout flushed (write error: 1) */

/* lib/sig.c: the first INT/TERM/HUP is noted, what runs finishes and
 * reports; a second one writes the sig_abort_line() (if any) and exits. */
void sig_catch(void);
void sig_abort_line(const char *fmt, ...) PRINTF(1, 2);
void sig_first_line(const char *line);
/* Lines a second signal writes after the abort line (the ids still left,
 * kept current by the caller); NULL: none. Copied. */
void sig_abort_left(const char *text);
int sig_caught(void);                 /* the first signal's number, or 0 */
int sig_count(void);
int sig_status(int rc);               /* 128 + signal once one came, else rc */
void no_core_dumps(void);             /* for processes holding key material */

/* lib/hostsleft.c: hosts seen (+1 per record of a host that exists) and
 * destroyed (-1), by provider and label; hosts_hint() prints, per label
 * with hosts left, "N host(s) may still be running: mvm-teardown PROVIDER
 * LABEL", and returns how many. */
void hosts_seen(const struct rec *r, int delta);
int hosts_hint(void);

/* lib/record.c: the host-record format of DESIGN.md and mvm-records(5).
 * A record is an address plus ordered key=value fields (values decoded);
 * '#' lines and blank lines are "passthrough" records with addr == NULL. */
#define REC_LINE_MAX (64 * 1024)
#define REC_FIELDS_MAX 1024  /* more fields in a line: malformed */
struct field {
  char *key;
  char *val;
};
struct rec {
  char *addr;           /* field 1, or NULL for a passthrough line */
  struct field *f;
  int n, cap;
  char *line;           /* the input line as read (no '\n'), or NULL */
  long lineno;          /* input line number, 0 if not read from input */
  char *bad;            /* why the line is malformed, or NULL */
};
int rec_parse(struct rec *r, const char *line, size_t len, long lineno);
void rec_new(struct rec *r, const char *addr);
const char *rec_get(const struct rec *r, const char *key);
void rec_set(struct rec *r, const char *key, const char *fmt, ...) PRINTF(3, 4);
void rec_unset(struct rec *r, const char *key);
void rec_fail(struct rec *r, const char *stage, const char *fmt, ...)
    PRINTF(3, 4);
int rec_failed(const struct rec *r);
char *rec_format(const struct rec *r);     /* one '\n'-terminated line */
void rec_release(struct rec *r);
int rec_key_ok(const char *key);
int rec_addr_ok(const char *addr);
char *rec_encode(const char *val);
int rec_decode(const char *in, size_t len, char **out);  /* 0 or -1 */
int rec_hostport(const struct rec *r, char *host, size_t hlen, int *port,
                 int defport);

/* lib/lines.c: a bounded line reader over a file descriptor. */
struct lines {
  int fd;
  char *buf;
  size_t len, cap;
  long lineno;
  int eof;
  int overlong;         /* current line passed REC_LINE_MAX: being skipped */
};
void lines_init(struct lines *l, int fd);
/* 1: *line (malloc'd, no '\n', at most REC_LINE_MAX bytes; *toolong set
 * when the line was longer and cut) and *len set; 0: need more input
 * (call lines_fill); -1: EOF. */
int lines_next(struct lines *l, char **line, size_t *len, int *toolong);
int lines_fill(struct lines *l);           /* read() once: >0, 0 EOF, -1 */
void lines_release(struct lines *l);
/* The last line of a (remote) command's output (trailing newlines cut, out
 * modified: control characters made '?'), for an error message. */
const char *last_line(char *out);

/* lib/run.c: the per-host runner every record-driven applet uses. */
struct run_opts {
  const char *stage;    /* "init", "sync": the error= prefix and stage= */
  int jobs;             /* at most this many workers at once */
  char **hosts;         /* hosts given as arguments, or NULL: read stdin */
  int (*each)(struct rec *r, void *arg);   /* 0 ok, -1 fail (mvm.err) */
  void *arg;
  int all;              /* each() also gets records that carry error=
                         * (mvm-teardown: a failed host still exists) */
  int finish;           /* an interrupt must not stop each() (mvm-teardown:
                         * every record read gets destroyed); a second one
                         * aborts, naming the hosts left */
  /* In the parent, each record (as read) whose each() succeeded, or NULL
   * (mvm-teardown: the providers' sweep once, after every destroy). */
  void (*done)(const struct rec *r, void *arg);
};
int run_records(const struct run_opts *o);  /* 0, or 1 if any host failed */

/* lib/conf.c: the cloud CLIs' own config files, read for credentials.
 * Each gives 0 and *out (malloc'd), 1 when the file or key is absent, -1
 * when the file is there but unreadable or malformed (mvm.err). */
char *conf_path(const char *env, const char *home_rel);  /* $ENV or ~/REL */
/* YAML (~/.vultr-cli.yaml, metal.yaml): a top-level scalar KEY. */
int conf_yaml(const char *path, const char *key, char **out);
/* TOML or INI: KEY of the table TABLE (NULL: top level); for an array of
 * tables ([[contexts]] in hcloud's cli.toml), the one whose MKEY is MVAL.
 * Strings may be quoted. */
int conf_toml(const char *path, const char *table, const char *mkey,
              const char *mval, const char *key, char **out);

/* lib/pool.c: N jobs in forked workers, at most JOBS at once; child(i,
 * fd) writes records to fd with pool_send(); the parent gets each with
 * got(), and lost() for a child that ended without sending any. */
struct pool {
  void (*child)(int i, int fd, void *arg);
  void (*got)(int i, struct rec *r, void *arg);
  void (*lost)(int i, int status, void *arg);
  void *arg;
  int creates;          /* jobs that create hosts: none starts after a
                         * signal, and those running are told to stop
                         * waiting (destroys always run to the end) */
};
void pool_run(const struct pool *p, int n, int jobs);
void pool_send(int fd, struct rec *r);
int pool_stopping(void);      /* in a worker: the parent caught a signal */
void sleep_unless_stopping(double s);     /* ... cut short by the stop */

/* lib/capture.c: run a credential helper, ARGV (no shell), for at most
 * SECS: its exit status with at most MAX bytes of stdout in c->out and
 * the first line of stderr in c->err, or -1 (mvm.err: cannot run, late,
 * too much; *missing if there is no such program). */
struct capture {
  struct buf out;
  char err[256];
};
int capture_run(char *const argv[], double secs, size_t max,
                struct capture *c, int *missing);
void capture_release(struct capture *c);       /* wipes c->out */
/* In a forked child: exec ARGV with stdin /dev/null, stdout OUT, stderr
 * ERR and no other fd but REPORT (O_CLOEXEC), where a failed exec writes
 * its errno for the parent to read. */
void exec_child(char *const argv[], int out, int err, int report) NORETURN;

/* lib/codec.c: encodings for API bodies, keys and paths. Base64 (RFC
 * 4648), malloc'd: padded standard, unpadded url-safe (JWT), or as FLAGS
 * say. b64_decode(): the standard alphabet, padded, into OUT: its length,
 * or -1 if S is not base64 or OUT is too small. */
enum { B64_URL = 1, B64_NOPAD = 2 };
char *b64_encode(const void *p, size_t n);
char *b64url_encode(const void *p, size_t n);
char *b64_encode_as(const void *p, size_t n, unsigned flags);
long b64_decode(const char *s, size_t n, unsigned char *out, size_t cap);
void hex_encode(const void *p, size_t n, char *out);  /* 2n+1 bytes */
/* Percent-encode everything but RFC 3986 unreserved (and '/' when
 * keep_slash) onto b ("a b" -> "a%20b"): queries, forms, SigV4;
 * uri_escape(): the same of a string, malloc'd. */
void uri_encode(struct buf *b, const char *s, size_t n, int keep_slash);
char *uri_escape(const char *s);
/* gzip (zlib): user-data over a provider's limit; gunzip: listings. */
int gzip_buf(const void *p, size_t n, struct buf *out);   /* 0 or -1 */
/* A gzip stream of LEVEL (0-9) whose bytes go to SINK (0, or -1 to stop)
 * as they come, at most 64 KB at once: mvm-sync's tar. gz_write() and
 * gz_finish() (the end of the stream): 0 or -1; gz_secs(): the seconds
 * spent compressing; gz_free() after either. */
typedef int (*gz_sink)(void *arg, const void *p, size_t n);
struct gz;
struct gz *gz_open(int level, gz_sink sink, void *arg);
int gz_write(struct gz *g, const void *p, size_t n);
int gz_finish(struct gz *g);
double gz_secs(const struct gz *g);
void gz_free(struct gz *g);
/* Inflate a gzip buffer into *out (malloc'd, NUL-terminated, at most max
 * bytes). 0 or -1 with mvm.err. */
int gunzip_buf(const char *in, size_t n, char **out, size_t *outlen,
               size_t max);
/* RFC 3339 (offsets, fractions) or compact "20261201T193000Z" -> time_t,
 * -1 if neither; time_fmt() writes RFC 3339 UTC, or the compact form. */
time_t time_parse(const char *s);
/* A duration as options take it: N seconds, or N with s, m, h or d (a
 * fraction allowed, at least 1 s): the seconds, or -1 if bad or over MAX. */
long secs_parse(const char *s, long max);
void time_fmt(time_t t, char *buf, size_t len, int compact);

/* lib/journal.c: the local journal of cloud creates,
 * $MVM_JOURNAL or ${XDG_STATE_HOME:-~/.local/state}/mvmbox/journal. Each
 * line is an ordinary host record (mvm-teardown < journal works), appended
 * with one write and fsync'd before the call it announces. */
int journal_add(const struct rec *r);
int journal_each(void (*each)(const struct rec *r, void *arg), void *arg);
const char *journal_path(void);

#endif
