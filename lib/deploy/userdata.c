/* lib/deploy/userdata.c - composes a host's user-data: the project's
 * cloud-init parts (and the user's own), merged with libyaml into ONE
 * #cloud-config document, plus the operator's public key and the host's SSH
 * key, and validated before any host is created. Merge rule, per mapping
 * key: two sequences concatenate, two mappings merge recursively, otherwise
 * the later part wins. Owns no secret beyond the call: the host key's
 * private text is appended as text (never handed to libyaml's emitter) and
 * wiped from every buffer it passed through. */
#include "mvm.h"
#include "deploy.h"
#include "ssh/ssh.h"
#include <yaml.h>

#define DEPTH_MAX 64
#define NODES_MAX 100000
#define GATE_FILE "/etc/mvm-kvm-gate"

struct ybuf {
  struct buf out;
  int toobig;            /* put() refused: over USERDATA_MAX */
};

#define N(d, i) yaml_document_get_node((d), (i))
#define PUTS(b, s) put((b), (unsigned char *)(s), strlen(s))

static int yerr(const char *name, const char *what, const yaml_mark_t *m,
                const char *ctx)
{
  if (!what) what = "malformed YAML";
  return error("%s: line %lu: %s%s%s", name, (unsigned long)m->line + 1,
               what, ctx ? " " : "", ctx ? ctx : "");
}

/* Is n the scalar k (of len bytes)? */
static int is_key(yaml_node_t *n, const void *k, size_t len)
{
  return n->type == YAML_SCALAR_NODE && n->data.scalar.length == len
         && !memcmp(n->data.scalar.value, k, len);
}

/* The value index of key k in mapping m, or 0. */
static int map_get(yaml_document_t *d, int m, const char *k)
{
  yaml_node_t *n = N(d, m);
  yaml_node_pair_t *p;

  if (!n || n->type != YAML_MAPPING_NODE) return 0;
  for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++)
    if (is_key(N(d, p->key), k, strlen(k))) return p->value;
  return 0;
}

/* Copy node i of src into dst; the new index, or 0 (mvm.err). Only dst
 * grows (and may move), so pointers into src stay valid. */
static int copy(yaml_document_t *dst, yaml_document_t *src, int i,
                int depth, int *budget)
{
  yaml_node_t *n = N(src, i);
  yaml_node_item_t *it;
  yaml_node_pair_t *p;
  int o, k, v;

  if (depth > DEPTH_MAX) return error("YAML nested too deeply"), 0;
  if (--*budget < 0) return error("YAML too large (aliases?)"), 0;
  if (n->type == YAML_SCALAR_NODE)
    o = yaml_document_add_scalar(dst, n->tag, n->data.scalar.value,
                                 n->data.scalar.length, n->data.scalar.style);
  else if (n->type == YAML_SEQUENCE_NODE) {
    o = yaml_document_add_sequence(dst, n->tag, n->data.sequence.style);
    for (it = n->data.sequence.items.start;
         o && it < n->data.sequence.items.top; it++) {
      if (!(v = copy(dst, src, *it, depth + 1, budget))) return 0;
      yaml_document_append_sequence_item(dst, o, v);
    }
  } else {
    o = yaml_document_add_mapping(dst, n->tag, n->data.mapping.style);
    for (p = n->data.mapping.pairs.start;
         o && p < n->data.mapping.pairs.top; p++) {
      if (!(k = copy(dst, src, p->key, depth + 1, budget))) return 0;
      if (!(v = copy(dst, src, p->value, depth + 1, budget))) return 0;
      yaml_document_append_mapping_pair(dst, o, k, v);
    }
  }
  return o ? o : (error("out of memory"), 0);
}

/* Merge mapping sm of src into mapping dm of dst (the rule on top). */
static int merge(yaml_document_t *dst, int dm, yaml_document_t *src, int sm,
                 int depth, int *budget)
{
  yaml_node_t *s = N(src, sm);
  yaml_node_pair_t *sp;
  yaml_node_item_t *it;

  if (depth > DEPTH_MAX) return error("YAML nested too deeply");
  for (sp = s->data.mapping.pairs.start; sp < s->data.mapping.pairs.top;
       sp++) {
    yaml_node_t *sk = N(src, sp->key), *sv = N(src, sp->value), *dv = NULL;
    int j, n = N(dst, dm)->data.mapping.pairs.top
               - N(dst, dm)->data.mapping.pairs.start, at = -1, k, v;

    for (j = 0; j < n; j++)
      if (sk->type == YAML_SCALAR_NODE
          && is_key(N(dst, N(dst, dm)->data.mapping.pairs.start[j].key),
                    sk->data.scalar.value, sk->data.scalar.length)) at = j;
    if (at >= 0) dv = N(dst, N(dst, dm)->data.mapping.pairs.start[at].value);
    if (dv && dv->type == YAML_SEQUENCE_NODE
        && sv->type == YAML_SEQUENCE_NODE) {
      int seq = N(dst, dm)->data.mapping.pairs.start[at].value;
      for (it = sv->data.sequence.items.start;
           it < sv->data.sequence.items.top; it++) {
        if (!(v = copy(dst, src, *it, depth + 1, budget))) return -1;
        yaml_document_append_sequence_item(dst, seq, v);
      }
    } else if (dv && dv->type == YAML_MAPPING_NODE
               && sv->type == YAML_MAPPING_NODE) {
      if (merge(dst, N(dst, dm)->data.mapping.pairs.start[at].value, src,
                sp->value, depth + 1, budget)) return -1;
    } else if (dv) {
      if (!(v = copy(dst, src, sp->value, depth + 1, budget))) return -1;
      N(dst, dm)->data.mapping.pairs.start[at].value = v;
    } else {
      if (!(k = copy(dst, src, sp->key, depth + 1, budget))) return -1;
      if (!(v = copy(dst, src, sp->value, depth + 1, budget))) return -1;
      yaml_document_append_mapping_pair(dst, dm, k, v);
    }
  }
  return 0;
}

/* Load and merge one part into out's root mapping. */
static int add_part(yaml_document_t *out, const struct ud_part *p,
                    int *budget)
{
  yaml_parser_t ps;
  yaml_document_t d, extra;
  yaml_node_t *root;
  char why[2 * sizeof(mvm.err)];
  int r = -1, loaded = 0;

  if (p->len >= 2 && !memcmp(p->text, "#!", 2))
    return error("%s: a shell script cannot be merged into #cloud-config;"
                 " put it in runcmd", p->name);
  if (memchr(p->text, 0, p->len)) return error("%s: NUL byte", p->name);
  if (p->len >= 13 && !strncasecmp(p->text, "Content-Type:", 13))
    return error("%s: MIME user-data cannot be merged", p->name);
  yaml_parser_initialize(&ps);
  yaml_parser_set_input_string(&ps, (const unsigned char *)p->text, p->len);
  if (!yaml_parser_load(&ps, &d)) {
    yerr(p->name, ps.problem, &ps.problem_mark, ps.context);
    goto out;
  }
  loaded = 1;
  if (!yaml_parser_load(&ps, &extra)) {
    yerr(p->name, ps.problem, &ps.problem_mark, ps.context);
    goto out;
  }
  root = yaml_document_get_root_node(&extra);
  if (root) yerr(p->name, "more than one YAML document", &root->start_mark,
                 NULL);
  yaml_document_delete(&extra);
  if (root) goto out;
  if (!(root = yaml_document_get_root_node(&d))) {
    r = 0;      /* only comments: nothing to merge */
    goto out;
  }
  if (root->type != YAML_MAPPING_NODE)
    yerr(p->name, "top level is not a mapping", &root->start_mark, NULL);
  else if (map_get(&d, 1, "ssh_keys"))
    error("%s: ssh_keys is set by mvm-provision (one key per host)",
          p->name);
  else if (merge(out, 1, &d, 1, 0, budget)) {
    snprintf(why, sizeof(why), "%s: %s", p->name, mvm.err);
    why[sizeof(mvm.err) - 1] = 0;
    memcpy(mvm.err, why, sizeof(mvm.err));
  } else r = 0;
out:
  if (loaded) yaml_document_delete(&d);
  yaml_parser_delete(&ps);
  return r;
}

static int scalar(yaml_document_t *d, const char *s)
{
  return yaml_document_add_scalar(d, NULL, (yaml_char_t *)s, -1,
                                  YAML_ANY_SCALAR_STYLE);
}

/* The operator's key goes to the deploy user's ssh_authorized_keys (the
 * users entry named DEPLOY_USER, the records' user=; the list is created
 * when missing: an empty list is not valid cloud-config), else, when no
 * part creates that user, to the top-level list (the image's default
 * user). */
static int add_pubkey(yaml_document_t *d, const char *pub)
{
  int users = map_get(d, 1, "users"), at = 1, keys = 0, j, n, u, name;

  if (users && N(d, users)->type != YAML_SEQUENCE_NODE)
    return error("users: not a list");
  n = users ? N(d, users)->data.sequence.items.top
              - N(d, users)->data.sequence.items.start : 0;
  for (j = 0; j < n; j++) {
    u = N(d, users)->data.sequence.items.start[j];
    name = map_get(d, u, "name");
    if (name && is_key(N(d, name), DEPLOY_USER, strlen(DEPLOY_USER))) at = u;
  }
  if (!(keys = map_get(d, at, "ssh_authorized_keys"))) {
    keys = yaml_document_add_sequence(d, NULL, YAML_BLOCK_SEQUENCE_STYLE);
    yaml_document_append_mapping_pair(d, at,
                                      scalar(d, "ssh_authorized_keys"), keys);
  }
  if (N(d, keys)->type != YAML_SEQUENCE_NODE)
    return error("%sssh_authorized_keys: not a list",
                 at == 1 ? "" : "users: " DEPLOY_USER ": ");
  yaml_document_append_sequence_item(d, keys, scalar(d, pub));
  return 0;
}

static int add_gate(yaml_document_t *d)
{
  int wf = map_get(d, 1, "write_files"), m;

  if (!wf) {
    wf = yaml_document_add_sequence(d, NULL, YAML_BLOCK_SEQUENCE_STYLE);
    yaml_document_append_mapping_pair(d, 1, scalar(d, "write_files"), wf);
  }
  if (N(d, wf)->type != YAML_SEQUENCE_NODE)
    return error("write_files: not a list");
  m = yaml_document_add_mapping(d, NULL, YAML_BLOCK_MAPPING_STYLE);
  yaml_document_append_mapping_pair(d, m, scalar(d, "path"),
                                    scalar(d, GATE_FILE));
  yaml_document_append_mapping_pair(d, m, scalar(d, "content"),
      yaml_document_add_scalar(d, NULL, (yaml_char_t *)"optional\n", -1,
                               YAML_DOUBLE_QUOTED_SCALAR_STYLE));
  yaml_document_append_sequence_item(d, wf, m);
  return 0;
}

static int put(void *arg, unsigned char *s, size_t n)
{
  struct ybuf *b = arg;

  if (n > USERDATA_MAX - b->out.len) return b->toobig = 1, 0;
  buf_add(&b->out, s, n);
  return 1;
}

/* Emits d (and deletes it) after the #cloud-config line. */
static int emit(yaml_document_t *d, struct ybuf *b)
{
  yaml_emitter_t em;
  int ok;

  PUTS(b, "#cloud-config\n");
  yaml_emitter_initialize(&em);
  yaml_emitter_set_output(&em, put, b);
  yaml_emitter_set_width(&em, -1);
  yaml_emitter_set_unicode(&em, 1);
  ok = yaml_emitter_open(&em) && yaml_emitter_dump(&em, d)
       && yaml_emitter_close(&em) && yaml_emitter_flush(&em);
  yaml_emitter_delete(&em);
  if (!ok) return error("cannot write YAML%s", b->toobig ? ": over 1 MiB" : "");
  /* a document end marker is a line of its own ("...\n" may end a scalar) */
  if (b->out.len >= 5 && !strcmp(b->out.s + b->out.len - 5, "\n...\n"))
    b->out.s[b->out.len -= 4] = 0;
  if (b->out.s[b->out.len - 1] != '\n')
    return error("YAML does not end a line");
  return 0;
}

/* ssh_keys as text, after the emitted mapping: the private key never
 * enters libyaml's emitter. */
static int add_key(struct ybuf *b, const struct hostkey *k)
{
  const char *s, *e;
  const char *c = strchr(k->pub, ' ');

  c = c ? strchr(c + 1, ' ') : NULL;
  for (; c && *++c; )
    if (!isalnum((unsigned char)*c) && !strchr("@._-", *c))
      return error("host key comment: bad character");
  /* room first: a realloc must never leave key bytes in freed memory */
  b->out.cap = b->out.len + 2 * k->privlen + strlen(k->pub) + 128;
  b->out.s = xrealloc(b->out.s, b->out.cap);
  PUTS(b, "ssh_keys:\n  ed25519_private: |\n");
  for (s = k->priv; *s; s = e + 1) {
    if (!(e = strchr(s, '\n'))) return error("host key text");
    PUTS(b, "    ");
    put(b, (unsigned char *)s, e - s + 1);
  }
  PUTS(b, "  ed25519_public: ");
  PUTS(b, k->pub);
  PUTS(b, "\n");
  return b->toobig ? error("user-data over 1 MiB") : 0;
}

char *userdata_compose(const struct ud_opts *o, size_t *len)
{
  yaml_document_t d;
  struct ybuf b = { 0 };
  int i, budget = NODES_MAX, dump = 0;

  if (!yaml_document_initialize(&d, NULL, NULL, NULL, 1, 1)) {
    error("out of memory");
    return NULL;
  }
  yaml_document_add_mapping(&d, NULL, YAML_BLOCK_MAPPING_STYLE);
  for (i = 0; i < o->nparts; i++)
    if (add_part(&d, &o->parts[i], &budget)) goto fail;
  if (o->pubkey && add_pubkey(&d, o->pubkey)) goto fail;
  if (o->kvm_optional && add_gate(&d)) goto fail;
  dump = 1;
  if (emit(&d, &b)) goto fail;
  if (o->key && add_key(&b, o->key)) goto fail;
  if (userdata_check(b.out.s, b.out.len, "composed user-data")) goto fail;
  *len = b.out.len;
  return b.out.s;
fail:
  if (!dump) yaml_document_delete(&d);
  if (b.out.s) freezero(b.out.s, b.out.cap);
  return NULL;
}

/* Event-level parse, so each scalar can be wiped before libyaml frees it. */
int userdata_check(const char *text, size_t len, const char *name)
{
  yaml_parser_t ps;
  yaml_event_t ev;
  int docs = 0, depth = 0, r = -1, done = 0;

  if (len < 14 || memcmp(text, "#cloud-config\n", 14))
    return error("%s: line 1: not #cloud-config", name);
  yaml_parser_initialize(&ps);
  yaml_parser_set_input_string(&ps, (const unsigned char *)text, len);
  while (!done) {
    if (!yaml_parser_parse(&ps, &ev)) {
      yerr(name, ps.problem, &ps.problem_mark, ps.context);
      goto out;
    }
    if (ev.type == YAML_SCALAR_EVENT)
      explicit_bzero(ev.data.scalar.value, ev.data.scalar.length);
    if (ev.type == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
      yerr(name, "more than one YAML document", &ev.start_mark, NULL);
      yaml_event_delete(&ev);
      goto out;
    }
    if (depth == 0 && (ev.type == YAML_SCALAR_EVENT
                       || ev.type == YAML_SEQUENCE_START_EVENT
                       || ev.type == YAML_ALIAS_EVENT)) {
      yerr(name, "top level is not a mapping", &ev.start_mark, NULL);
      yaml_event_delete(&ev);
      goto out;
    }
    if (ev.type == YAML_MAPPING_START_EVENT
        || ev.type == YAML_SEQUENCE_START_EVENT) depth++;
    if (ev.type == YAML_MAPPING_END_EVENT
        || ev.type == YAML_SEQUENCE_END_EVENT) depth--;
    done = ev.type == YAML_STREAM_END_EVENT;
    yaml_event_delete(&ev);
  }
  r = 0;
out:
  if (ps.raw_buffer.start)
    explicit_bzero(ps.raw_buffer.start,
                   ps.raw_buffer.end - ps.raw_buffer.start);
  if (ps.buffer.start)
    explicit_bzero(ps.buffer.start, ps.buffer.end - ps.buffer.start);
  yaml_parser_delete(&ps);
  return r;
}

const char *userdata_dir(void)
{
  static const char *const rel[] = { "cloud-init",
                                     "../share/mvmbox/cloud-init" };
  static char dir[PATH_MAX + 64];
  const char *env = getenv("MVM_CLOUD_INIT_DIR");
  char exe[PATH_MAX] = "";
  struct stat st;
  size_t i;

  if (env && *env) {
    if (stat(env, &st) || !S_ISDIR(st.st_mode))
      return error("MVM_CLOUD_INIT_DIR: no such directory '%s'", env), NULL;
    return env;
  }
  if (readlink("/proc/self/exe", exe, sizeof(exe) - 1) > 0 && strrchr(exe, '/'))
    strrchr(exe, '/')[1] = 0;
  for (i = 0; *exe && i < ARRAY_LEN(rel); i++) {
    snprintf(dir, sizeof(dir), "%s%s", exe, rel[i]);
    if (!stat(dir, &st) && S_ISDIR(st.st_mode)) return dir;
  }
  return error("cannot find cloud-init/ (set MVM_CLOUD_INIT_DIR)"), NULL;
}
