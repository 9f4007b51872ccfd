/* lib/ssh/sshconfig.c - what ~/.ssh/config says of a host given by name, as
 * ssh_config(5) reads it: Host blocks with patterns (* ? and !negation,
 * case-insensitive), the first value of each keyword winning. Only four
 * keywords are used: HostName, User, Port, IdentityFile. Match blocks and
 * Include are not read; a block that applies with ProxyJump or
 * ProxyCommand fails the host rather than connect around the proxy. */
#include "mvm.h"
#include "sshint.h"
#include <arpa/inet.h>
#include <netinet/in.h>

#define CONF_LINE_MAX 1024
#define CONF_LINES_MAX 100000

/* Glob with * and ?, case-insensitive, iterative (no deep recursion). */
static int glob_match(const char *p, const char *s)
{
  const char *star = NULL, *back = NULL;

  while (*s) {
    if (*p == '*') {
      star = p++;
      back = s;
    } else if (*p == '?' || tolower((unsigned char)*p) ==
               tolower((unsigned char)*s)) {
      p++;
      s++;
    } else if (star) {
      p = star + 1;
      s = ++back;
    } else {
      return 0;
    }
  }
  while (*p == '*') p++;
  return !*p;
}

/* Does a "Host" line's list of patterns apply to host? */
static int host_match(char *list, const char *host)
{
  char *pat, *save = NULL;
  int yes = 0;

  for (pat = strtok_r(list, " \t\"", &save); pat;
       pat = strtok_r(NULL, " \t\"", &save)) {
    if (*pat == '!') {
      if (glob_match(pat + 1, host)) return 0;   /* a negation wins */
    } else if (glob_match(pat, host)) {
      yes = 1;
    }
  }
  return yes;
}

/* The first argument of a keyword line, unquoted, into out. */
static void first_arg(const char *args, char *out, size_t outlen)
{
  size_t n;

  if (*args == '"') {
    args++;
    n = strcspn(args, "\"");
  } else {
    n = strcspn(args, " \t");
  }
  snprintf(out, outlen, "%.*s", (int)n, args);
}

/* ~ and the tokens %d (home), %h (host), %u (local user), %%. */
static int expand(const char *in, const char *host, char *out, size_t outlen)
{
  const char *home = getenv("HOME"), *user = getenv("USER"), *add;
  size_t n = 0, k;
  char one[2] = "";

  if (!home) home = "";
  if (!user) user = "";
  if (in[0] == '~' && in[1] == '/') {
    n = snprintf(out, outlen, "%s", home);
    in++;
  }
  for (; *in && n < outlen; in++) {
    add = one;
    one[0] = *in;
    if (*in == '%') {
      switch (*++in) {
      case '%': break;
      case 'd': add = home; break;
      case 'h': add = host; break;
      case 'u': add = user; break;
      default:
        return error("~/.ssh/config: token %%%c is not supported", *in ? *in
                     : ' ');
      }
    }
    k = strlen(add);
    if (n + k >= outlen) break;
    memcpy(out + n, add, k);
    n += k;
  }
  if (n >= outlen || *in) return error("~/.ssh/config: value too long");
  out[n] = 0;
  return 0;
}

/* One keyword of a block that applies; 0 or -1 (mvm.err). */
static int keyword(struct sshconf *c, const char *host, const char *kw,
                   const char *args, char *ident, size_t identlen)
{
  char val[CONF_LINE_MAX];
  long port;
  char *end;

  first_arg(args, val, sizeof(val));
  if (!strcasecmp(kw, "HostName") && !*c->hostname)
    return expand(val, host, c->hostname, sizeof(c->hostname));
  if (!strcasecmp(kw, "User") && !*c->user) {
    if (strlen(val) >= sizeof(c->user) || strpbrk(val, ":@/"))
      return error("~/.ssh/config: bad User for %s", host);
    memcpy(c->user, val, strlen(val) + 1);
  } else if (!strcasecmp(kw, "Port") && !c->port) {
    port = strtol(val, &end, 10);
    if (*end || end == val || port < 1 || port > 65535)
      return error("~/.ssh/config: bad Port '%s' for %s", val, host);
    c->port = port;
  } else if (!strcasecmp(kw, "IdentityFile") && !*ident)
    snprintf(ident, identlen, "%s", val);
  else if ((!strcasecmp(kw, "ProxyJump") || !strcasecmp(kw, "ProxyCommand"))
           && strcasecmp(val, "none"))
    return error("~/.ssh/config: %s for %s is not supported", kw, host);
  return 0;
}

int sshconf_lookup(const char *host, struct sshconf *c)
{
  const char *home = getenv("HOME");
  char path[PATH_MAX], ident[PATH_MAX] = "", *line = NULL, *kw, *args;
  size_t cap = 0;
  ssize_t len;
  long n = 0;
  int on = 1, rc = 0;
  FILE *f;

  memset(c, 0, sizeof(*c));
  if (!home || !*home) return 0;
  snprintf(path, sizeof(path), "%s/.ssh/config", home);
  if (!(f = fopen(path, "re"))) return 0;
  while (!rc && (len = getline(&line, &cap, f)) >= 0) {
    if (++n > CONF_LINES_MAX || len > CONF_LINE_MAX) {
      rc = error("~/.ssh/config: line %ld too long or too many lines", n);
      break;
    }
    line[strcspn(line, "\r\n")] = 0;
    kw = line + strspn(line, " \t");
    if (!*kw || *kw == '#') continue;
    args = kw + strcspn(kw, " \t=");
    if (*args) *args++ = 0;
    args += strspn(args, " \t=");
    if (!strcasecmp(kw, "Host")) on = host_match(args, host);
    else if (!strcasecmp(kw, "Match")) on = 0;     /* not supported */
    else if (on) rc = keyword(c, *c->hostname ? c->hostname : host, kw,
                              args, ident, sizeof(ident));
  }
  free(line);
  fclose(f);
  if (!rc && *ident)
    rc = expand(ident, *c->hostname ? c->hostname : host, c->identity,
                sizeof(c->identity));
  if (!rc && (*c->hostname || *c->user || c->port || *c->identity))
    debug("~/.ssh/config for %s: HostName %s User %s Port %d IdentityFile "
          "%s", host, c->hostname, c->user, c->port, c->identity);
  return rc;
}

/* A host given by name: s->host and s->port (0: none in the address) from
 * ~/.ssh/config where the address does not say, and o->identity where -i
 * and MVM_SSH_KEY do not (the command line wins, as in ssh); c->user for
 * the caller. 0 or -1 (mvm.err). */
int ssh__by_name(struct ssh *s, struct sshconf *c, struct ssh_opts *o)
{
  unsigned char ip[sizeof(struct in6_addr)];
  char host[sizeof(s->host)], *pct;
  const char *env = getenv("MVM_SSH_KEY");

  memset(c, 0, sizeof(*c));
  snprintf(host, sizeof(host), "%s", s->host);
  if ((pct = strchr(host, '%'))) *pct = 0;    /* fe80::1%eth0 */
  if (inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1)
    return 0;
  if (sshconf_lookup(s->host, c)) return -1;
  if (*c->hostname) snprintf(s->host, sizeof(s->host), "%s", c->hostname);
  if (!s->port) s->port = c->port;
  if (*c->identity && !o->identity && !*(env ? env : "")) {
    if (access(c->identity, R_OK))
      return error("IdentityFile %s of ~/.ssh/config: %s", c->identity,
                   strerror(errno));
    o->identity = c->identity;
  }
  return 0;
}
