/* providers/ec2.c - the EC2 Query API (Version 2016-11-15), below
 * providers/aws.c and providers/awssg.c: a form POSTed to a region's
 * endpoint, signed with SigV4 (providers/awsauth.c, lib/http/sigv4.c), its XML
 * answer parsed (lib/http/xml.c) and its error code told apart. One handle per
 * region: the driver's for the region the command runs in, others made
 * here for a record of another region. Holds the AWS credentials. */
#include "mvm.h"
#include "http/http.h"
#include "auth.h"
#include "ec2.h"

#define EC2_VERSION "2016-11-15"

static struct aws_cred cred;
static struct {                 /* EC2 endpoints: [0] the driver's */
  char region[40];
  struct http *h;
} eps[8];

static void aws_errmsg(const char *body, size_t len, char *out, size_t n)
{
  struct xml *x = xml_parse(body, len);
  const char *c = xml_text(x, "Errors/Error/Code");
  const char *m = xml_text(x, "Errors/Error/Message");

  if (c) snprintf(out, n, "%s: %s", c, m ? m : "");
  else snprintf(out, n, "%.*s", (int)(len < 200 ? len : 200), body);
  xml_free(x);
}

static int aws_sign(struct http *h, const char *method, const char *url,
                    const char *body, void *arg)
{
  return aws_sign_req(&cred, h, method, url, body, arg);
}

static void setup(struct http *h, char *region)
{
  http_ctype(h, "application/x-www-form-urlencoded; charset=utf-8");
  http_errmsg(h, aws_errmsg);
  http_signer(h, aws_sign, region);
}

/* The driver's handle for the region up/down was started for, else one
 * of our own (a record of another region). */
static struct http *ec2(const char *region)
{
  size_t i;
  char *base;

  if (!strcmp(region, eps[0].region)) return eps[0].h;
  for (i = 1; i < ARRAY_LEN(eps) && eps[i].h; i++)
    if (!strcmp(eps[i].region, region)) return eps[i].h;
  if (i == ARRAY_LEN(eps)) http_free(eps[i = 1].h);
  snprintf(eps[i].region, sizeof(eps[i].region), "%s", region);
  base = xasprintf("https://ec2.%s.amazonaws.com", region);
  eps[i].h = http_new("aws", base);
  free(base);
  setup(eps[i].h, eps[i].region);
  return eps[i].h;
}

void ec2_form(struct buf *b, const char *k, const char *v)
{
  if (b->len) buf_add(b, "&", 1);
  buf_add(b, k, strlen(k));
  buf_add(b, "=", 1);
  uri_encode(b, v, strlen(v), 0);
}

/* HTTP_404_OK is never needed: EC2 answers 400 with a code. */
int ec2_call(const char *region, const char *what, struct buf *b, int flags,
             struct xml **x, char *code, size_t clen)
{
  struct http_resp r = { 0 };
  int rc;

  ec2_form(b, "Version", EC2_VERSION);
  rc = http_req(ec2(region), what, "POST", "/", b->s, flags, &r);
  *x = r.body ? xml_parse(r.body, r.len) : NULL;
  if (code) {
    const char *c = xml_text(*x, "Errors/Error/Code");
    snprintf(code, clen, "%s", rc && c ? c : "");
  }
  if (!rc && !*x) rc = error("%s: bad answer: not XML", what);
  if (rc) {                     /* the error's XML is in code and mvm.err */
    xml_free(*x);
    *x = NULL;
  }
  http_resp_release(&r);
  free(b->s);
  *b = (struct buf){ 0 };
  return rc;
}

struct buf ec2_action(const char *a)
{
  struct buf b = { 0 };

  ec2_form(&b, "Action", a);
  return b;
}

int ec2_init(struct http *h)
{
  aws_cred_clear(&cred);
  if (aws_cred_load(&cred) < 0) return -1;
  eps[0].h = h;
  setup(h, eps[0].region);
  return 0;
}

void ec2_at(const char *region, char *base, size_t len)
{
  snprintf(eps[0].region, sizeof(eps[0].region), "%s", region);
  snprintf(base, len, "https://ec2.%s.amazonaws.com", region);
}

const char *ec2_region(void)
{
  return eps[0].region;
}
