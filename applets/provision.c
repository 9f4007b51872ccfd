/* applets/provision.c - mvm-provision: create hosts with a provider. Every
 * host gets its own SSH host key and the project's user-data (composed and
 * validated before anything is created); each host's record goes to stdout
 * the moment the provider reports it: nothing created can be lost. */
#include "mvm.h"
#include "ssh/ssh.h"
#include "deploy/deploy.h"
#include "provider.h"

const char provision_usage[] =
"usage: mvm-provision [-qv] [-n N] [-l LABEL] [--type TYPE] [-r REGION]"
" [-k PUBKEY] [--user-data FILE] [--image FILE] [--ttl TIME] [--price USD]"
" [--dry-run] PROVIDER [HOST...]\n"
"\n"
"Create N hosts with PROVIDER and write one host record per host:\n"
"  ADDR provider=P id=ID label=L user=mvm hostkey=SHA256:...\n"
"\n"
"  -n N              hosts to create, 1-100 (default 1)\n"
"  -l LABEL          label for teardown (env LABEL; default\n"
"                    mvm-eph-YYYYmmdd-XXXXXX)\n"
"  --type TYPE       instance type (env INSTANCE_TYPE; default: provider's)\n"
"  -r REGION         region (env REGION; default: provider's)\n"
"  -k PUBKEY         your SSH public key, a file or the key itself (env\n"
"                    SSH_PUBKEY; default $MVM_SSH_KEY.pub or\n"
"                    ~/.ssh/id_ed25519.pub)\n"
"  --user-data FILE  a #cloud-config part merged after the project's\n"
"  --image FILE      the provider's image (qemu: a cloud image file)\n"
"  --ttl TIME        cloud hosts: tag mvm-expires=now+TIME for\n"
"                    mvm-teardown --expired (N[smhd], default 4h)\n"
"  --price USD       the host's price per hour for price= (env MVM_PRICE;\n"
"                    default: 0 for local hosts, else unknown)\n"
"  --dry-run         check what the real run needs (root, programs, image,\n"
"                    adapter, keys), print host 1's user-data as #| lines\n"
"                    (cloud: and the API calls), create nothing\n"
"  -q, -v            quieter, more verbose\n"
"\n"
"PROVIDER: static (HOST... you have), an original's adapter (a path, or\n"
"script with MVM_ADAPTER=FILE), nspawn, qemu, the clouds aws, azure, gcp,\n"
"ovh, vultr, latitude, hetzner (no KVM), equinix (ended 2026-06-30: refused\n"
"unless redirected); MVM_<PROVIDER>_ENDPOINT redirects one. An unknown\n"
"name lists the known ones. See mvm-provision(1).\n";

static struct {
  int n, dry, emitted, failed;
  long ttl;
  double t0;                  /* when up() began: provision_s, created */
  const char *price;          /* --price or MVM_PRICE, or NULL */
  const char *label, *type, *region, *pubkey, *extra, *image;
  const struct provider *p;
} TT;

/* What mvm-report needs: type, region, created, provision_s, price. */
static void add_matrix_keys(struct rec *o)
{
  char when[40];

  if (!rec_get(o, "type") && TT.type && strcmp(TT.type, "-")) rec_set(o, "type", "%s", TT.type);
  if (!rec_get(o, "region") && TT.region && *TT.region &&
      strcmp(TT.region, "-"))
    rec_set(o, "region", "%s", TT.region);
  if (!rec_get(o, "created") && !(TT.p->flags & PF_NOCREATE)) {
    time_fmt(time(NULL) - (time_t)(now_s() - TT.t0), when, sizeof(when), 0);
    rec_set(o, "created", "%s", when);
  }
  rec_set(o, "provision_s", "%.1f", now_s() - TT.t0);
  if (TT.price) {         /* the operator's word wins over the API's */
    rec_set(o, "price", "%s", TT.price);
    rec_unset(o, "price_currency");
  } else if (TT.p->flags & (PF_LOCAL | PF_NOCREATE)) rec_set(o, "price", "0");
}

static void emit(struct rec *r)
{
  static const char *const first[] = { "provider", "id", "label", "user",
                                       "hostkey" };
  struct rec o;
  char *line;
  size_t i;
  int j;

  rec_new(&o, r->addr ? r->addr : "-");
  rec_set(&o, "provider", "%s", TT.p->name);
  rec_set(&o, "id", "%s", "-");
  rec_set(&o, "label", "%s", TT.label);
  rec_set(&o, "user", "mvm");
  for (i = 0; i < ARRAY_LEN(first); i++)
    if (rec_get(r, first[i])) rec_set(&o, first[i], "%s", rec_get(r, first[i]));
  for (j = 0; j < r->n; j++) rec_set(&o, r->f[j].key, "%s", r->f[j].val);
  add_matrix_keys(&o);
  if (rec_failed(&o)) {
    char *why = xstrdup(rec_get(&o, "error"));

    rec_unset(&o, "error");             /* error= stays the last field */
    rec_set(&o, "error", "%s", why);
    free(why);
    TT.failed++;
    rec_errmsg(&o);
  }
  TT.emitted++;
  hosts_seen(&o, 1);          /* named if interrupted: they may run on */
  line = rec_format(&o);
  if (writeall(1, line, strlen(line))) {
    TT.failed++;        /* the host exists: say where it is, at least */
    errmsg(NULL, "cannot write the record of a created host: %.*s",
         (int)strlen(line) - 1, line);
  }
  free(line);
  rec_release(&o);
}

static const char *new_label(void)
{
  static char l[32];
  unsigned char rnd[3];
  time_t t = time(NULL);
  char d[16];

  if (getentropy(rnd, sizeof(rnd))) pdie("getentropy");
  strftime(d, sizeof(d), "%Y%m%d", gmtime(&t));
  snprintf(l, sizeof(l), "mvm-eph-%s-%02x%02x%02x", d, rnd[0], rnd[1],
           rnd[2]);
  return l;
}

static void check_label(const char *l)
{
  const char *s;

  for (s = l; *s; s++)
    if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s)
        && !strchr("._-", *s)) break;
  if (*s || !*l || strlen(l) > 63 || !isalnum((unsigned char)*l))
    help_exit("bad label '%s': 1-63 of a-z 0-9 . _ -, starting with a"
              " letter or digit", l);
}

/* The operator's public key: -k text or file, else the defaults. */
static char *load_pubkey(const char *arg)
{
  const char *home = getenv("HOME"), *id = getenv("MVM_SSH_KEY");
  char *path, *text, fp[64];

  if (arg && strchr(arg, ' ') && access(arg, F_OK)) {
    text = xstrdup(arg);
    path = xstrdup("-k");
  } else {
    if (arg) path = xstrdup(arg);
    else if (id && *id) path = xasprintf("%s.pub", id);
    else path = xasprintf("%s/.ssh/id_ed25519.pub", home ? home : "");
    if (access(path, R_OK))
      help_exit("no SSH public key: cannot read '%s' (give -k PUBKEY)",
                path);
    text = xreadfile(path, 16384, NULL);
  }
  text[strcspn(text, "\r\n")] = 0;
  if (!strncmp(text, "-----BEGIN", 10))
    help_exit("'%s' is a private key: give the public one (.pub)", path);
  if (hostkey_pub_fingerprint(text, fp, sizeof(fp)))
    help_exit("'%s': %s", path, mvm.err);
  debug("operator key %s from %s", fp, path);
  free(path);
  return text;
}

static void add_part(struct ud_part *p, int *n, const char *dir,
                     const char *name)
{
  char *path = dir ? xasprintf("%s/%s", dir, name) : xstrdup(name);

  if (access(path, R_OK)) help_exit("cannot read '%s'", path);
  p[*n].name = path;
  p[*n].text = xreadfile(path, USERDATA_MAX, &p[*n].len);
  (*n)++;
}

/* One user-data and key per host; dies (exit 2) before anything exists. */
static void compose(struct up_args *a, unsigned flags)
{
  const char *dir = userdata_dir(), *gate = getenv("MVM_KVM_GATE");
  struct ud_part parts[3];
  struct ud_opts o = { parts, 0, a->pubkey, !!(flags & PF_LOCAL), NULL };
  struct hostkey k;
  size_t len;
  int i;

  if (!dir) die("%s", mvm.err);
  add_part(parts, &o.nparts, dir, "base.yaml");
  /* local hosts have no internet: their toolchain is the image's */
  add_part(parts, &o.nparts, dir,
           flags & PF_LOCAL ? "local.yaml" : "toolchain.yaml");
  if (TT.extra) add_part(parts, &o.nparts, NULL, TT.extra);
  if (gate && *gate) {
    if (strcmp(gate, "required") && strcmp(gate, "optional"))
      help_exit("MVM_KVM_GATE must be required or optional");
    o.kvm_optional = !strcmp(gate, "optional");
  }
  a->user_data = xzalloc((a->count + 1) * sizeof(char *));
  a->hostkey_fp = xzalloc((a->count + 1) * sizeof(char *));
  for (i = 0; i < a->count; i++) {
    if (hostkey_generate(&k, a->label)) die("%s", mvm.err);
    o.key = &k;
    if (!(a->user_data[i] = userdata_compose(&o, &len)))
      die("user-data: %s", mvm.err);
    a->hostkey_fp[i] = xstrdup(k.fp);
    hostkey_clear(&k);
  }
  for (i = 0; i < o.nparts; i++) {
    free((char *)parts[i].name);
    free((char *)parts[i].text);
  }
  info("user-data: %d part(s) from %s%s, kvm gate %s", o.nparts, dir,
       TT.extra ? " and --user-data" : "",
       o.kvm_optional ? "optional" : "required");
}

/* The user-data as it would be sent, with the host private key's body
 * replaced: a dry run leaves no key material anywhere. */
static char *redact_key(const char *ud)
{
  const char *b = strstr(ud, "-----BEGIN OPENSSH PRIVATE KEY-----");
  const char *e = b ? strstr(b, "-----END OPENSSH PRIVATE KEY-----") : NULL;

  if (!b || !e) return xstrdup(ud);
  return xasprintf("%.*s(private host key: not shown in a dry run)\n%s",
                   (int)(b - ud), ud, e + 33);
}

/* What would be made, as comment lines (records pass them on); host 1's
 * user-data follows as "#|" lines, so no file is left behind. */
static int dry_run(const struct up_args *a, unsigned flags)
{
  char *ud, *s, *e;

  printf("# dry-run: would %s %d host(s): provider=%s label=%s type=%s"
         " region=%s price=%s\n",
         flags & PF_NOCREATE ? "list (not create)" : "create",
         a->count, TT.p->name, a->label, a->type, a->region,
         TT.price ? TT.price : flags & (PF_LOCAL | PF_NOCREATE) ? "0"
         : flags & PF_DRYUP ? "(the API's: below)" : "unknown");
  if (flags & PF_NOCREATE) return 0;
  if (flags & PF_DRYUP) {       /* the provider prints its API calls */
    struct up_args d = *a;

    d.dry_run = 1;
    if (TT.p->up(&d, emit)) die("%s: %s", TT.p->name, mvm.err);
  }
  printf("# dry-run: user-data of host 1 (private key left out):\n");
  ud = redact_key(a->user_data[0]);
  for (s = ud; *s; s = e + !!*e) {
    e = s + strcspn(s, "\n");
    printf("#|%.*s\n", (int)(e - s), s);
  }
  free(ud);
  return 0;
}

/* --ttl: N seconds, or N with s, m, h or d; at most 30 days. */
static long ttl_arg(const char *s)
{
  long v = secs_parse(s, 30L * 86400);

  if (v < 0) help_exit("bad --ttl '%s': N[smhd], at most 30d", s);
  return v;
}

static int options(int argc, char **argv)
{
  static const struct option lo[] = {
    { "user-data", required_argument, NULL, 'U' },
    { "image", required_argument, NULL, 'I' },
    { "dry-run", no_argument, NULL, 'D' },
    { "type", required_argument, NULL, 'T' },
    { "ttl", required_argument, NULL, 'L' },
    { "price", required_argument, NULL, 'P' },
    { 0 }
  };
  int c, nset = 0;

  TT.n = 1;
  TT.label = getenv("LABEL");
  TT.type = getenv("INSTANCE_TYPE");
  TT.region = getenv("REGION");
  TT.pubkey = getenv("SSH_PUBKEY");
  TT.price = getenv("MVM_PRICE");
  while ((c = getopt_long(argc, argv, "+n:l:r:k:qvt:", lo, NULL)) != -1) {
    switch (c) {
    case 'n': TT.n = xatoi_range(optarg, 1, 100); nset = 1; break;
    case 'l': TT.label = optarg; break;
    case 'T': TT.type = optarg; break;
    case 't':           /* a timeout in every other applet: say so */
      help_exit("-t is not the instance type: give --type TYPE");
    case 'r': TT.region = optarg; break;
    case 'k': TT.pubkey = optarg; break;
    case 'U': TT.extra = optarg; break;
    case 'I': TT.image = optarg; break;
    case 'D': TT.dry = 1; break;
    case 'L': TT.ttl = ttl_arg(optarg); break;
    case 'P': TT.price = optarg; break;
    case 'q': mvm.quiet = 1; break;
    case 'v': mvm.verbose = 1; break;
    default: help_exit(NULL);
    }
  }
  if (optind >= argc) help_exit("no PROVIDER given");
  if (TT.price && !*TT.price) TT.price = NULL;
  if (TT.price) {
    char *end;
    double v = strtod(TT.price, &end);

    if (end == TT.price || *end || !(v >= 0 && v < 1e6))
      help_exit("bad price '%s': USD per hour, a number >= 0", TT.price);
  }
  return nset;
}

/* A host being created must still be reported: the first ^C (or TERM,
 * HUP) lets up() hand over what it started (a provider starts no more
 * hosts once sig_caught()); a second one ends the process at once, as the
 * user then asks, with the teardown that is left to do. */
static int create(const struct up_args *a)
{
  const char *ad = getenv("MVM_ADAPTER");
  const char *pn = !strcmp(TT.p->name, "script") && ad && *ad ? ad
                                                             : TT.p->name;
  int rc;

  sig_first_line("mvm-provision: interrupted: reporting the hosts being"
                 " created (again to abort)");
  sig_catch();
  sig_abort_line("mvm-provision: aborted: %d host(s) may still be running:"
                 " mvm-teardown %s %s", a->count, pn, a->label);
  if (sig_caught()) {
    errmsg(NULL, "interrupted before any host was created");
    return sig_status(EXIT_HOSTFAIL);
  }
  TT.t0 = now_s();
  info("creating %d host(s) with %s: label %s, type %s, region %s",
       a->count, TT.p->name, a->label, a->type, a->region);
  if ((rc = TT.p->up(a, emit)))
    errmsg(NULL, "%s: %s", TT.p->name, mvm.err);
  else if (TT.emitted < a->count)
    errmsg(NULL, "%s: reported %d of %d hosts", TT.p->name, TT.emitted, a->count);
  if (sig_caught()) {
    errmsg(NULL, "interrupted: every host created was reported");
    hosts_hint();
  }
  return sig_status(rc || TT.failed || TT.emitted < a->count ?
                    EXIT_HOSTFAIL : EXIT_OK);
}

int provision_main(int argc, char **argv)
{
  struct up_args a = { 0 };
  int i, rc, nset = options(argc, argv);
  unsigned flags;

  signal(SIGPIPE, SIG_IGN);     /* a closed stdout must not kill up() */
  no_core_dumps();              /* host private keys live in this process */
  TT.p = provider_find(argv[optind]);
  flags = TT.p->flags;
  a.args = argv + optind + 1;
  if (*a.args && !(flags & PF_NOCREATE))
    help_exit("%s takes no HOST arguments", TT.p->name);
  if (TT.label && *TT.label) check_label(TT.label);
  else TT.label = new_label();
  a.label = TT.label;
  a.user = "mvm";
  a.image = TT.image;
  a.ttl = TT.ttl;
  a.price = TT.price;
  a.count = TT.n;
  if (flags & PF_NOCREATE) {
    for (a.count = 0; a.args[a.count]; a.count++);
    if (nset && TT.n != a.count) help_exit("-n %d but %d HOST arguments",
                                           TT.n, a.count);
  }
  /* What up() needs, first, and the same for a dry run as for the real
   * one: a dry run passes only where the real run can start. */
  if (TT.p->check && TT.p->check(&a)) {
    errmsg(NULL, "%s: %s", TT.p->name, mvm.err);
    return EXIT_HOSTFAIL;          /* as the real run's up() would */
  }
  a.type = TT.type && *TT.type ? TT.type : TT.p->default_instance_type();
  a.region = TT.region && *TT.region ? TT.region : TT.p->default_region();
  TT.type = a.type;
  TT.region = a.region;
  if (!(flags & PF_NOCREATE)) {
    a.pubkey = load_pubkey(TT.pubkey && *TT.pubkey ? TT.pubkey : NULL);
    compose(&a, flags);
  }
  rc = TT.dry ? dry_run(&a, flags) : create(&a);
  for (i = 0; a.user_data && i < a.count; i++) {
    freezero(a.user_data[i], strlen(a.user_data[i]) + 1);
    free(a.hostkey_fp[i]);
  }
  free(a.user_data);
  free(a.hostkey_fp);
  free((char *)a.pubkey);
  return rc;
}
