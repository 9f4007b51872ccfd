/* applets/kvmcheck.c - mvm-kvmcheck: the KVM gate. Local mode checks this
 * machine (lib/kvm.c, lib/kvmprobe.c, lib/seccomp.c) and prints one record
 * for it; remote mode runs the same checks on each host of the records
 * over SSH. Each check is one stderr line "ok|warn|fail NAME: detail". */
#include "mvm.h"

#include <jansson.h>

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
"seccomp= to its record.\n"
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
  char *self;                    /* this binary, uploaded to each host */
  size_t selflen;
} TT;

/* What a host that cannot run mvmbox can still tell: device node,
 * permissions and groups, kvm_pvm, nested. Lines like the real checks. */
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
  sec = r.c[r.n - 1].res == KR_OK ? "ok" : "fail";   /* seccomp: last */
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

/* Upload this binary to a fresh directory on the host and run the local
 * check there as the SSH user; the JSON report lands in *out. Returns the
 * remote exit status, or -1 with why set when it could not even try. */
static int run_binary(struct ssh *s, const char *env, char **out,
                      size_t *len, char *why, size_t n)
{
  char *dir = NULL, *path, *qdir, *cmd;
  int rc;

  if (ssh_run(s, "mktemp -d /tmp/mvm-kvmcheck.XXXXXX", &dir, NULL, 4096)) {
    snprintf(why, n, "no temporary directory on the host");
    free(dir);
    return -1;
  }
  dir[strcspn(dir, "\n")] = 0;
  path = xasprintf("%s/mvmbox", dir);
  qdir = sh_quote(dir);
  status("uploading mvmbox (%zu bytes)", TT.selflen);
  if (ssh_put(s, path, TT.self, TT.selflen, 0755)) {
    snprintf(why, n, "upload failed: %.200s", mvm.err);
    rc = -1;
  } else {
    status("running mvm-kvmcheck on the host");
    cmd = xasprintf("%s%s/mvmbox mvm-kvmcheck --local --json 2>/dev/null; "
                    "rc=$?; rm -rf %s; exit $rc", env, qdir, qdir);
    rc = ssh_run(s, cmd, out, len, OUT_MAX);
    free(cmd);
    if (rc > 1) snprintf(why, n, "mvmbox does not run there (exit %d)", rc);
  }
  if (rc < 0 || rc > 1) {                 /* the run did not clean up */
    cmd = xasprintf("rm -rf %s", qdir);
    ssh_run(s, cmd, NULL, NULL, 0);
    free(cmd);
  }
  free(path);
  free(qdir);
  free(dir);
  return rc;
}

/* The host's JSON report into the record. 0 all ok, -1 failed (mvm.err),
 * -2 not a report. */
static int take_json(struct rec *r, const char *out, size_t len)
{
  json_t *j = json_loadb(out, len, 0, NULL), *c;
  const char *kvm, *sec, *res, *name;
  char failed[256] = "";
  size_t i, n = 0;
  int rc;

  kvm = json_string_value(json_object_get(j, "kvm"));
  sec = json_string_value(json_object_get(j, "seccomp"));
  if (!kvm || !sec || !json_is_array(json_object_get(j, "checks"))) {
    json_decref(j);
    return -2;
  }
  json_array_foreach(json_object_get(j, "checks"), i, c) {
    res = json_string_value(json_object_get(c, "result"));
    name = json_string_value(json_object_get(c, "name"));
    if (!res || !name) continue;
    show(r->addr, res, name, json_string_value(json_object_get(c, "detail")));
    if (!strcmp(res, "fail") && n < sizeof(failed))
      n += snprintf(failed + n, sizeof(failed) - n, "%s%s", n ? " " : "",
                    name);
  }
  rec_set(r, "kvm", "%s", kvm);
  rec_set(r, "seccomp", "%s", sec);
  rc = strcmp(kvm, "ok") || strcmp(sec, "ok") ?
       error("failed checks: %s", *failed ? failed : "?") : 0;
  json_decref(j);
  return rc;
}

/* The shell fallback's "ok|warn|fail NAME: detail" lines into the record:
 * kvm=fail if one failed, else kvm=unknown; seccomp=unknown. */
static int take_lines(struct rec *r, char *out, const char *why)
{
  char failed[256] = "", *line, *sp, *colon;
  size_t n = 0;

  for (line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
    if (!(sp = strchr(line, ' ')) || !(colon = strstr(sp, ": "))) continue;
    *sp = *colon = 0;
    show(r->addr, line, sp + 1, colon + 2);
    if (!strcmp(line, "fail") && n < sizeof(failed))
      n += snprintf(failed + n, sizeof(failed) - n, "%s%s", n ? " " : "",
                    sp + 1);
  }
  show(r->addr, "warn", "notrun", "api, caps, cpuid, vm, msrs, guest and "
       "seccomp not checked: the shell fallback cannot");
  rec_set(r, "kvm", "%s", n ? "fail" : "unknown");
  rec_set(r, "seccomp", "unknown");
  if (n) return error("failed checks: %s (%s)", failed, why);
  return error("not verified: %s", why);
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
  size_t len = 0;
  struct ssh *s;
  int rc = -2;

  (void)arg;
  if (!getenv("MVM_KVMCHECK_FALLBACK")) *why = 0;
  status("connecting");
  if (!(s = ssh_open(r, &TT.o))) return -1;
  env = env_prefix();
  if (!getenv("MVM_KVMCHECK_FALLBACK")) {
    rc = run_binary(s, env, &out, &len, why, sizeof(why));
    if (rc == 0 || rc == 1) rc = take_json(r, out, len);
    else rc = -2;
    if (rc == -2 && !*why)
      snprintf(why, sizeof(why), "mvmbox gave no report there");
  }
  if (rc == -2) {
    free(out);
    out = NULL;
    debug("shell fallback: %s", why);
    cmd = xasprintf("%s%s", env, fallback_sh);
    if (ssh_run(s, cmd, &out, &len, OUT_MAX) < 0) rc = -1;
    else rc = take_lines(r, out, why);
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

  if (!getenv("MVM_KVMCHECK_FALLBACK"))
    TT.self = xreadfile(getenv("MVM_KVMCHECK_SELF") ? getenv(
                        "MVM_KVMCHECK_SELF") : "/proc/self/exe", 512 << 20,
                        &TT.selflen);
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
