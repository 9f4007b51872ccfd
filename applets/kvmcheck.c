/* applets/kvmcheck.c - mvm-kvmcheck: the KVM gate. Local mode checks this
 * machine (lib/kvm*.c, lib/kvm/seccomp.c) and prints one record for it; remote
 * mode sends the static probe built from the same code (probe/kvmprobe.c,
 * embedded in mvmbox) to each host of the records over SSH, runs it there
 * and removes it, and decides the record from its report exactly as local
 * mode does. Each check is one stderr line "ok|warn|fail NAME: detail". */
#include "mvm.h"
#include "json.h"
#include "ssh/ssh.h"
#include "kvm/kvm.h"


const char kvmcheck_usage[] =
"usage: mvm-kvmcheck [-L] [-q] [-v] [--json] [-i IDENTITY] [-u USER] [-j N] "
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
"seccomp= to its record: a small static probe is sent to the host, run\n"
"there and removed (a shell fallback where it cannot run).\n"
"\n"
"  -L, --local     check this machine even if stdin has records\n"
"  --json          print a JSON report instead of the record (local mode)\n"
"  -q              show failed checks only\n"
"  -v              debug messages\n"
"  -i IDENTITY     SSH private key (else MVM_SSH_KEY, ssh-agent, ~/.ssh)\n"
"  -u USER         SSH user for records without user= (default mvm)\n"
"  -j N            check up to N hosts at once (default 8)\n"
"  -t TIMEOUT      seconds to wait for SSH per host\n"
"\n"
"Exit status: 0 all checks passed, 1 a check or host failed, 2 usage.\n";

#define OUT_MAX (1 << 20)        /* the host's report */

static struct {
  int local, json, jobs;
  struct ssh_opts o;
} TT;

/* What a host that cannot run the probe (another architecture) can still
 * tell: device node, permissions and groups, kvm_pvm, nested. Lines like
 * the real checks. */
static const char fallback_sh[] =
"d=${MVM_KVM_DEV:-/dev/kvm} s=${MVM_KVM_SYSFS:-/sys/module} u=$(id -un)\n"
"if [ ! -e \"$d\" ]; then\n"
"  echo \"fail device: no $d: KVM is not available here\"\n"
"elif [ ! -c \"$d\" ]; then\n"
"  echo \"fail device: $d is not a character device\"\n"
"else\n"
"  mm=$(stat -L -c %t:%T \"$d\")\n"
"  g=$(stat -L -c %G \"$d\") o=$(stat -L -c '%U:%G 0%a' \"$d\")\n"
"  if [ \"$mm\" != a:e8 ]; then\n"
"    echo \"fail device: $d is character device $mm (hex), not KVM's 10:232\"\n"
"  else\n"
"    echo \"ok device: $d is character device 10:232\"\n"
"    if [ -r \"$d\" ] && [ -w \"$d\" ]; then\n"
"      echo \"ok open: $d ($o) is readable and writable by $u\"\n"
"    elif case \" $(id -nG) \" in *\" $g \"*) true;; *) false;; esac; then\n"
"      echo \"fail open: permission denied: $d is $o and user $u is in\""
" \"group $g, yet cannot read and write it\"\n"
"    else\n"
"      echo \"fail open: permission denied: $d is $o and user $u is not\""
" \"in group $g (usermod -aG $g $u, then log in again)\"\n"
"    fi\n"
"  fi\n"
"fi\n"
"if [ -d \"$s/kvm_pvm\" ]; then echo \"fail module: PVM detected: /dev/kvm\""
" \"is kvm_pvm, not kvm_intel/kvm_amd; only guest kernels built for PVM\""
" \"(CONFIG_PVM_GUEST) boot, a stock kernel stops with an instruction\""
" \"emulation failure on cmpxchg16b/xsave\"\n"
"elif [ -d \"$s/kvm_intel\" ]; then echo \"ok module: kvm_intel\"\n"
"elif [ -d \"$s/kvm_amd\" ]; then echo \"ok module: kvm_amd\"\n"
"else echo \"warn module: none of kvm_intel, kvm_amd, kvm_pvm is loaded\"; fi\n"
"for m in kvm_intel kvm_amd -; do\n"
"  [ $m = - ] && { echo \"warn nested: no nested parameter\"; break; }\n"
"  v=$(cat \"$s/$m/parameters/nested\" 2>/dev/null) || continue\n"
"  case $v in [Yy1]*) echo \"ok nested: $m nested=$v\";;\n"
"  *) echo \"warn nested: $m nested=$v: guests cannot run KVM themselves\";;"
" esac; break\n"
"done\n";

/* One check as a line on stderr; -q shows failures only. What a remote
 * host sent is made safe for a terminal. */
static void show(const char *host, const char *res, const char *name,
                 const char *detail)
{
  char line[1024];
  size_t i, n;

  if (mvm.quiet && strcmp(res, "fail")) return;
  if (host)
    n = snprintf(line, sizeof(line), "%s: %s: %s %s: %s", mvm.applet, host,
                 res, name, detail ? detail : "");
  else
    n = snprintf(line, sizeof(line), "%s %s: %s", res, name, detail);
  if (n > sizeof(line) - 2) n = sizeof(line) - 2;
  for (i = 0; i < n; i++)
    if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f) line[i] = '?';
  line[n++] = '\n';
  writeall(2, line, n);
}

static char *report_json(const struct kreport *r, const char *host,
                         const char *kvm, const char *sec)
{
  struct json *checks = json_make("[]"), *doc;
  char *s;
  int i;

  for (i = 0; i < r->n; i++)
    json_push(checks, json_make("{s:s, s:s, s:s}", "name", r->c[i].name,
                                "result", kreport_word(r->c[i].res),
                                "detail", r->c[i].detail));
  doc = json_make("{s:s, s:s, s:s, s:o}", "host", host, "kvm", kvm,
                  "seccomp", sec, "checks", checks);
  s = json_dump(doc, 1);
  json_free(doc);
  return s;
}

static int check_local(void)
{
  struct kreport r;
  const char *kvm, *sec;
  char *s;
  int i, rc;

  kvm_gate(&r);
  rc = kreport_verdict(&r, &kvm, &sec);
  for (i = 0; i < r.n; i++)
    show(NULL, kreport_word(r.c[i].res), r.c[i].name, r.c[i].detail);
  if (TT.json) {
    s = report_json(&r, "localhost", kvm, sec);
    printf("%s\n", s);
    free(s);
  } else {
    printf("localhost kvm=%s seccomp=%s\n", kvm, sec);
  }
  return rc ? EXIT_HOSTFAIL : EXIT_OK;
}

/* A report into the record, the same for the probe's and the fallback's:
 * each check shown, kvm= and seccomp= set, failed checks named. */
static int take_report(struct rec *r, const struct kreport *k,
                       const char *kvm, const char *sec)
{
  char failed[256] = "";
  size_t n = 0;
  int i;

  for (i = 0; i < k->n; i++) {
    show(r->addr, kreport_word(k->c[i].res), k->c[i].name, k->c[i].detail);
    if (k->c[i].res == KR_FAIL && n < sizeof(failed))
      n += snprintf(failed + n, sizeof(failed) - n, "%s%s", n ? " " : "",
                    k->c[i].name);
  }
  rec_set(r, "kvm", "%s", kvm);
  rec_set(r, "seccomp", "%s", sec);
  if (!strcmp(kvm, "ok") && !strcmp(sec, "ok")) return 0;
  return error("failed checks: %s", *failed ? failed : "?");
}

/* Send the probe to a fresh directory on the host, run it there as the
 * SSH user, remove it in the same command. 0 with the host's report in k,
 * -1 failed (mvm.err), -2 it cannot run there (why set: fall back). */
static int run_probe(struct ssh *s, const char *env, struct kreport *k,
                     char *why, size_t n)
{
  char *dir = NULL, *out = NULL, *path, *q, *cmd;
  size_t len = kvmprobe_size;
  int rc;

  /* one round trip: the host's architecture, and a directory if it fits */
  cmd = xasprintf("m=$(uname -m); [ \"$m\" = %s ] || { echo \"$m\"; "
                  "exit 3; }; mktemp -d /tmp/mvm-kvmcheck.XXXXXX",
                  *PROBE_ARCH ? PROBE_ARCH : "none");
  rc = ssh_run(s, cmd, &dir, NULL, 4096);
  free(cmd);
  if (rc) {
    if (dir) dir[strcspn(dir, "\n")] = 0;
    if (rc == 3) snprintf(why, n, "the probe is built for %s, the host is "
                          "%.64s", *PROBE_ARCH ? PROBE_ARCH : "no "
                          "architecture", dir);
    else if (rc > 0) error("no temporary directory on the host (exit %d)",
                           rc);
    free(dir);
    return rc == 3 ? -2 : -1;
  }
  dir[strcspn(dir, "\n")] = 0;
  path = xasprintf("%s/mvm-kvmprobe", dir);
  q = sh_quote(dir);
  status("sending the KVM probe (%zu bytes)", len);
  if (ssh_put(s, path, kvmprobe_start, len, 0700)) {
    snprintf(why, n, "%s", mvm.err);
    cmd = xasprintf("rm -rf %s", q);
    ssh_run(s, cmd, NULL, NULL, 0);
    rc = error("sending the KVM probe: %s", why);
  } else {
    status("running the KVM probe");
    cmd = xasprintf("%s%s/mvm-kvmprobe; rc=$?; rm -rf %s; exit $rc", env, q,
                    q);
    rc = ssh_run(s, cmd, &out, &len, OUT_MAX);
    if (rc == 126)      /* the shell found it but could not execute it */
      snprintf(why, n, "the probe cannot be executed in /tmp (noexec?)");
    else if (rc == 0 || rc == 1)
      rc = kreport_read(k, out, len) ? error("the KVM probe's report: %s",
                                             mvm.err) : 0;
    else if (rc > 0) rc = error("the KVM probe failed there (exit %d)", rc);
  }
  free(cmd);
  free(out);
  free(q);
  free(path);
  free(dir);
  return rc == 126 ? -2 : rc;
}

/* The shell fallback's lines into the record: kvm=fail if one failed,
 * else kvm=unknown; seccomp=unknown. */
static int take_lines(struct rec *r, const char *out, size_t len,
                      const char *why)
{
  char msg[sizeof(mvm.err) + 256];
  struct kreport k;
  int fails;

  if (kreport_read(&k, out, len))
    return error("the shell fallback's report: %s (%s)", mvm.err, why);
  kreport_add(&k, "notrun", KR_WARN, "api, caps, cpuid, vm, msrs, guest and "
              "seccomp not checked: the shell fallback cannot (%s)", why);
  fails = kreport_kvm(&k) == KR_FAIL;
  take_report(r, &k, fails ? "fail" : "unknown", "unknown");
  if (!fails) return error("not verified: %s", why);
  snprintf(msg, sizeof(msg), "%s (%s)", mvm.err, why);
  return error("%.*s", (int)sizeof(mvm.err) - 1, msg);
}

/* MVM_KVM_* of our environment, passed on to the host's check (tests). */
static char *env_prefix(void)
{
  static const char *const names[] = { "MVM_KVM_DEV", "MVM_KVM_SYSFS",
    "MVM_KVM_TIMEOUT", "MVM_KVM_GUEST" };
  char *env = xstrdup(""), *q, *t;
  size_t i;

  for (i = 0; i < ARRAY_LEN(names); i++) {
    if (!getenv(names[i])) continue;
    q = sh_quote(getenv(names[i]));
    t = xasprintf("%s%s=%s ", env, names[i], q);
    free(q);
    free(env);
    env = t;
  }
  return env;
}

static int check_host(struct rec *r, void *arg)
{
  char why[256] = "MVM_KVMCHECK_FALLBACK is set", *out = NULL, *env, *cmd;
  const char *kvm, *sec;
  struct kreport k;
  size_t len = 0;
  struct ssh *s;
  int rc = -2;

  (void)arg;
  status("connecting");
  if (!(s = ssh_open(r, &TT.o))) return -1;
  env = env_prefix();
  if (!getenv("MVM_KVMCHECK_FALLBACK")) {
    *why = 0;
    rc = run_probe(s, env, &k, why, sizeof(why));
    if (rc == 0) {
      kreport_verdict(&k, &kvm, &sec);
      rc = take_report(r, &k, kvm, sec);
    }
  }
  if (rc == -2) {
    debug("shell fallback: %s", why);
    cmd = xasprintf("%s%s", env, fallback_sh);
    if (ssh_run(s, cmd, &out, &len, OUT_MAX) < 0) rc = -1;
    else rc = take_lines(r, out, len, why);
    free(cmd);
  }
  free(out);
  free(env);
  ssh_close(s);
  return rc;
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
    close(1);         /* the record stream is the parent's alone */
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
    { "local", no_argument, NULL, 'L' },
    { "json", no_argument, NULL, 'J' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  while ((c = getopt_long(argc, argv, "Llqvi:u:j:t:", longopts, NULL)) != -1) {
    switch (c) {
    case 'L': TT.local = 1; break;
    case 'l':           /* the label in mvm-provision: one meaning each */
      help_exit("-l is not --local: check this machine with -L");
    case 'J': TT.json = 1; break;
    case 'q': mvm.quiet = 1; break;
    case 'v': mvm.verbose = 1; break;
    default:
      if (ssh_common_opt(c, optarg, &TT.o, &TT.jobs)) break;
      help_exit(NULL);
    }
  }
  if (TT.local && optind < argc) help_exit("-L takes no HOST");
  if (TT.local || (optind == argc && !stdin_has_input()))
    return check_local();
  return check_remote(argv + optind);
}
