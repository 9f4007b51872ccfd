/* lib/kvm/seccomp.c - the seccomp functional probe of mvm-kvmcheck (the
 * original ran `cargo test -p mvm-guest --test seccomp_apply`): a forked
 * child sets no_new_privs and a BPF filter that fails socket() with EPERM
 * and checks that it does; the parent checks socket() still works. Needs no
 * KVM and no toolchain. Never prints. */
#include "mvm.h"
#include "kvm.h"

#include <stddef.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#if defined(__x86_64__)
#define SECCOMP_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SECCOMP_ARCH AUDIT_ARCH_AARCH64
#endif

#ifdef SECCOMP_ARCH
/* The child: report the first thing that goes wrong on fd, exit 0 if the
 * filter works. Only async-signal-safe calls after fork. */
static void child(int fd)
{
  struct sock_filter f[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_ARCH, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & 0xffff)),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = { .len = ARRAY_LEN(f), .filter = f };
  const char *what;
  char buf[160];
  int s, e;

  what = "prctl(PR_SET_NO_NEW_PRIVS)";
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) goto fail;
  what = "installing the BPF filter (PR_SET_SECCOMP)";
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0)) goto fail;
  s = socket(AF_UNIX, SOCK_STREAM, 0);
  if (s >= 0) {
    what = "socket() still works under the filter";
    errno = 0;
    goto fail;
  }
  what = "socket() under the filter failed, but not with EPERM";
  if (errno != EPERM) goto fail;
  _exit(0);
fail:
  e = errno;
  s = snprintf(buf, sizeof(buf), "%s%s%s", what, e ? ": " : "",
               e ? strerror(e) : "");
  if (s >= (int)sizeof(buf)) s = sizeof(buf) - 1;
  if (s > 0 && write(fd, buf, s) < 0) _exit(2);
  _exit(1);
}

int seccomp_probe(void)
{
  char buf[160];
  ssize_t n;
  pid_t pid;
  int p[2], st, s;

  if (pipe(p)) return error("seccomp: pipe: %s", strerror(errno));
  if ((pid = fork()) < 0) {
    close(p[0]);
    close(p[1]);
    return error("seccomp: fork: %s", strerror(errno));
  }
  if (pid == 0) {
    close(p[0]);
    child(p[1]);
  }
  close(p[1]);
  n = read(p[0], buf, sizeof(buf) - 1);
  close(p[0]);
  buf[n > 0 ? n : 0] = 0;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return error("seccomp: waitpid: %s", strerror(errno));
  if (!WIFEXITED(st) || WEXITSTATUS(st))
    return error("child: %s", *buf ? buf : "died");
  if ((s = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
    return error("parent: socket() fails without a filter: %s",
                 strerror(errno));
  close(s);
  return 0;
}
#else
int seccomp_probe(void)
{
  return error("no seccomp probe for this architecture");
}
#endif
