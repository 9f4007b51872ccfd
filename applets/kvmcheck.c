/* applets/kvmcheck.c - mvm-kvmcheck: the KVM gate. Local mode checks this
 * machine (lib/kvm.c, lib/kvmprobe.c, lib/seccomp.c) and prints one record
 * for it; remote mode runs the same checks on each host of the records
 * over SSH. Each check is one stderr line "ok|warn|fail NAME: detail". */
#include "mvm.h"

#include <jansson.h>

const char kvmcheck_usage[] =
"usage: mvm-kvmcheck [-l] [-q] [-v] [--json] [-i IDENTITY] [-u USER] [-j N] "
"[-t TIMEOUT] [HOST...]\n"
"\n"
"Check that KVM really works: /dev/kvm, API version, Firecracker's\n"
"capabilities, CPUID, boot MSRs, a 64-bit guest run, the vendor module (PVM\n"
"fails), nested virtualization, and a seccomp filter probe. Each check is a\n"
"line \"ok|warn|fail NAME: detail\" on stderr.\n"
"\n"
"With no records on stdin (a terminal, /dev/null or empty) and no HOST,\n"
"check this machine and print \"localhost kvm=ok|fail seccomp=ok|fail\".\n"
"Otherwise check each host of the records over SSH and add kvm= and\n"
"seccomp= to its record.\n"
"\n"
"  -l, --local     check this machine even if stdin has records\n"
"  --json          print a JSON report instead of the record (local mode)\n"
"  -q              show failed checks only\n"
"  -v              debug messages\n"
"  -i IDENTITY     SSH private key (else MVM_SSH_KEY, ssh-agent, ~/.ssh)\n"
"  -u USER         SSH user for records without user= (default mvm)\n"
"  -j N            check up to N hosts at once (default 8)\n"
"  -t TIMEOUT      seconds to wait for SSH per host\n"
"\n"
"Exit status: 0 all checks passed, 1 a check or host failed, 2 usage.\n";

static struct {
  int local, json, jobs;
} TT;

/* One check as a line on stderr; -q shows failures only. */
static void show(const char *host, const char *res, const char *name,
                 const char *detail)
{
  char line[1024];

  if (mvm.quiet && strcmp(res, "fail")) return;
  if (host)
    snprintf(line, sizeof(line), "%s: %s: %s %s: %s\n", mvm.applet, host,
             res, name, detail);
  else
    snprintf(line, sizeof(line), "%s %s: %s\n", res, name, detail);
  writeall(2, line, strlen(line));
}

static json_t *report_json(const struct kreport *r, const char *host,
                           const char *kvm, const char *sec)
{
  json_t *checks = json_array();
  int i;

  for (i = 0; i < r->n; i++)
    json_array_append_new(checks, json_pack("{s:s, s:s, s:s}", "name",
                          r->c[i].name, "result", kreport_word(r->c[i].res),
                          "detail", r->c[i].detail));
  return json_pack("{s:s, s:s, s:s, s:o}", "host", host, "kvm", kvm,
                   "seccomp", sec, "checks", checks);
}

static int check_local(void)
{
  struct kreport r;
  const char *kvm, *sec;
  json_t *j;
  char *s;
  int i;

  memset(&r, 0, sizeof(r));
  kvm_check_all(&r);
  if (seccomp_probe() == 0)
    kreport_add(&r, "seccomp", KR_OK, "socket() fails with EPERM under a "
                "BPF filter (no_new_privs) in a child, works in the parent");
  else
    kreport_add(&r, "seccomp", KR_FAIL, "%s", mvm.err);
  kvm = kreport_kvm(&r) == KR_OK ? "ok" : "fail";
  sec = r.c[r.n - 1].res == KR_OK ? "ok" : "fail";
  for (i = 0; i < r.n; i++)
    show(NULL, kreport_word(r.c[i].res), r.c[i].name, r.c[i].detail);
  if (TT.json) {
    j = report_json(&r, "localhost", kvm, sec);
    s = json_dumps(j, JSON_INDENT(2));
    printf("%s\n", s);
    free(s);
    json_decref(j);
  } else {
    printf("localhost kvm=%s seccomp=%s\n", kvm, sec);
  }
  return strcmp(kvm, "ok") || strcmp(sec, "ok") ? EXIT_HOSTFAIL : EXIT_OK;
}

static int remote_opt(int c, const char *arg)
{
  if (c != 'j') return 1;
  TT.jobs = xatoi_range(arg, 1, 1024);
  return 1;
}

static int check_host(struct rec *r, void *arg)
{
  (void)r;
  (void)arg;
  return error("remote mode needs the SSH layer (not built yet)");
}

static int check_remote(char **hosts)
{
  struct run_opts o = { .stage = "kvm", .jobs = TT.jobs, .each = check_host,
                        .hosts = hosts };

  return run_records(&o);
}

/* Does stdin bring records? A terminal, /dev/null, an empty file or an
 * empty pipe mean "no": check this machine. For a pipe the first read
 * decides; what it read goes back in front of the rest through a small
 * pump process, so records still stream. */
static int stdin_has_input(void)
{
  char buf[4096];
  struct stat st;
  ssize_t n;
  int p[2];

  if (isatty(0) || fstat(0, &st) || S_ISCHR(st.st_mode)) return 0;
  if (S_ISREG(st.st_mode)) return st.st_size > lseek(0, 0, SEEK_CUR);
  do n = read(0, buf, sizeof(buf)); while (n < 0 && errno == EINTR);
  if (n <= 0) return 0;
  xpipe(p);
  if (xfork() == 0) {
    close(p[0]);
    do {
      if (writeall(p[1], buf, n)) _exit(1);
      do n = read(0, buf, sizeof(buf)); while (n < 0 && errno == EINTR);
    } while (n > 0);
    _exit(0);
  }
  xdup2(p[0], 0);
  close(p[0]);
  close(p[1]);
  return 1;
}

int kvmcheck_main(int argc, char **argv)
{
  static const struct option longopts[] = {
    { "local", no_argument, NULL, 'l' },
    { "json", no_argument, NULL, 'J' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  while ((c = getopt_long(argc, argv, "lqvi:u:j:t:", longopts, NULL)) != -1) {
    switch (c) {
    case 'l': TT.local = 1; break;
    case 'J': TT.json = 1; break;
    case 'q': mvm.quiet = 1; break;
    case 'v': mvm.verbose = 1; break;
    case 'i': case 'u': case 'j': case 't':
      if (remote_opt(c, optarg)) break;
      /* fall through */
    default: help_exit(NULL);
    }
  }
  if (TT.local && optind < argc) help_exit("-l takes no HOST");
  if (TT.local || (optind == argc && !stdin_has_input()))
    return check_local();
  return check_remote(argv + optind);
}
