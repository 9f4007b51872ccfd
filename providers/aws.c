/* providers/aws.c - EC2 through the Query API (providers/ec2.c: form
 * POSTs signed with SigV4, XML answers). Tags at launch, ClientToken for
 * idempotent retries, a 50 GB gp3 root, the newest Canonical Ubuntu 24.04
 * AMI, a type with /dev/kvm (*.metal, or c8i, m8i, r8i and their -flex
 * variants with nested virtualization), security group mvm-ephemeral-ssh
 * (providers/awssg.c). The credentials are ec2.c's (providers/awsauth.c
 * loads them); never writes stdout. */
#include "mvm.h"
#include "http/http.h"
#include "provider.h"
#include "cloud.h"
#include "auth.h"
#include "ec2.h"

#define UBUNTU_OWNER "099720109477"
#define UBUNTU_NAME "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"
#define NOTFOUND_RETRIES 12     /* get()s that may not see a new instance */

/* Where EC2 has /dev/kvm: bare metal (*.metal, *.metal-48xl), and the
 * only types that can nest, the 8th-generation Intel c8i, m8i, r8i and
 * their -flex variants, when RunInstances asks for nested virtualization
 * (EC2 API reference, CpuOptionsRequest.NestedVirtualization). */
enum { KVM_NONE = -1, KVM_METAL, KVM_NESTED };
static int kvm_lane(const char *type)
{
  static const char *const nest[] = { "c8i", "m8i", "r8i", "c8i-flex",
                                      "m8i-flex", "r8i-flex" };
  const char *dot = strchr(type, '.');
  size_t i, fam = dot ? (size_t)(dot - type) : 0;

  if (!fam || !dot[1]) return KVM_NONE;
  if (!strcmp(dot, ".metal") || !strncmp(dot, ".metal-", 7))
    return KVM_METAL;
  for (i = 0; i < ARRAY_LEN(nest); i++)
    if (strlen(nest[i]) == fam && !strncmp(type, nest[i], fam))
      return KVM_NESTED;
  return KVM_NONE;
}

/* The newest Canonical Ubuntu 24.04 amd64 gp3 AMI in the region. */
static int find_ami(const char *region, char *ami, size_t n, char *root,
                    size_t rn)
{
  struct buf b = ec2_action("DescribeImages");
  struct xml *x;
  const struct xml *it[512];
  const char *best = "", *c;
  int i, k;

  ec2_form(&b, "Owner.1", UBUNTU_OWNER);
  ec2_form(&b, "Filter.1.Name", "name");
  ec2_form(&b, "Filter.1.Value.1", UBUNTU_NAME);
  ec2_form(&b, "Filter.2.Name", "state");
  ec2_form(&b, "Filter.2.Value.1", "available");
  ec2_form(&b, "Filter.3.Name", "architecture");
  ec2_form(&b, "Filter.3.Value.1", "x86_64");
  if (ec2_call(region, "describe images", &b, HTTP_RETRY, &x, NULL, 0) < 0)
    return -1;
  k = xml_all(x, "imagesSet/item", it, ARRAY_LEN(it));
  *ami = 0;
  for (i = 0; i < k; i++) {
    c = xml_text(it[i], "creationDate");
    if (c && strcmp(c, best) > 0 && xml_text(it[i], "imageId")) {
      best = c;
      snprintf(ami, n, "%s", xml_text(it[i], "imageId"));
      c = xml_text(it[i], "rootDeviceName");
      snprintf(root, rn, "%s", c && *c ? c : "/dev/sda1");
    }
  }
  xml_free(x);
  if (!*ami) return error("describe images: no Ubuntu 24.04 AMI of owner "
                          UBUNTU_OWNER " in %s", region);
  return 0;
}

static void tags(struct buf *b, int spec, const char *rtype,
                 const struct cloud_req *q)
{
  const char *kv[][2] = { { CLOUD_TAG_EPH, "true" },
                          { CLOUD_TAG_LABEL, q->label },
                          { CLOUD_TAG_EXPIRES, q->expires },
                          { "Name", q->name } };
  char k[64];
  size_t i;

  snprintf(k, sizeof(k), "TagSpecification.%d.ResourceType", spec);
  ec2_form(b, k, rtype);
  for (i = 0; i < ARRAY_LEN(kv); i++) {
    if (!kv[i][1]) continue;
    snprintf(k, sizeof(k), "TagSpecification.%d.Tag.%zu.Key", spec, i + 1);
    ec2_form(b, k, kv[i][0]);
    snprintf(k, sizeof(k), "TagSpecification.%d.Tag.%zu.Value", spec, i + 1);
    ec2_form(b, k, kv[i][1]);
  }
}

/* One instance (or a list entry) out of its XML item. */
static void host_from(const struct xml *it, struct cloud_host *c,
                      const char *region)
{
  const struct xml *t[32];
  const char *st = xml_text(it, "instanceState/name"), *v;
  int i, n = xml_all(it, "tagSet/item", t, ARRAY_LEN(t));

  snprintf(c->id, sizeof(c->id), "%s", xml_text(it, "instanceId")
           ? xml_text(it, "instanceId") : "");
  v = xml_text(it, "ipAddress");
  snprintf(c->addr, sizeof(c->addr), "%s", v ? v : "");
  v = xml_text(it, "launchTime");
  snprintf(c->created, sizeof(c->created), "%s", v ? v : "");
  snprintf(c->status, sizeof(c->status), "%s", st ? st : "");
  snprintf(c->region, sizeof(c->region), "%s", region);
  for (i = 0; i < n; i++) {
    const char *k = xml_text(t[i], "key"), *val = xml_text(t[i], "value");
    if (!k || !val) continue;
    if (!strcmp(k, CLOUD_TAG_LABEL))
      snprintf(c->label, sizeof(c->label), "%s", val);
    else if (!strcmp(k, CLOUD_TAG_EXPIRES))
      snprintf(c->expires, sizeof(c->expires), "%s", val);
    else if (!strcmp(k, "Name"))
      snprintf(c->name, sizeof(c->name), "%s", val);
  }
  if (!st) c->state = CLOUD_PENDING;
  else if (!strcmp(st, "running") && *c->addr) c->state = CLOUD_READY;
  else if (!strcmp(st, "pending") || !strcmp(st, "running"))
    c->state = CLOUD_PENDING;
  else if (!strcmp(st, "terminated")) c->state = CLOUD_GONE;
  else c->state = CLOUD_FAILED;     /* shutting-down, stopping, stopped */
}

static int dry(char *placeholder, size_t n)
{
  if (!strstr(mvm.err, "dry run")) return 0;
  snprintf(placeholder, n, "(looked up)");
  return 1;
}

static int aws_create(struct http *h, const struct cloud_req *q,
                      struct cloud_host *c)
{
  char ami[64], root[64] = "/dev/sda1", sg[64], vpc[64], *ud;
  const char *subnet = getenv("AWS_SUBNET_ID");
  struct buf b;
  struct xml *x;
  int rc;

  (void)h;
  if (kvm_lane(q->type) == KVM_NONE)
    return error("instance type %s cannot run KVM: EC2 exposes /dev/kvm on "
                 "*.metal (bare metal) and, with nested virtualization, on "
                 "c8i, m8i, r8i and their -flex variants", q->type);
  /* In a dry run each lookup prints its call and fails "dry run": go on
   * with a placeholder so RunInstances is shown too. */
  if (q->image && *q->image) snprintf(ami, sizeof(ami), "%s", q->image);
  else if (find_ami(q->region, ami, sizeof(ami), root, sizeof(root)) < 0
           && !dry(ami, sizeof(ami)))
    return -1;
  if (subnet && *subnet && ec2_subnet_vpc(q->region, subnet, vpc,
                                           sizeof(vpc)) < 0
      && !dry(vpc, sizeof(vpc)))
    return -1;
  if (ec2_ssh_group(q->region, subnet && *subnet ? vpc : NULL, sg,
                    sizeof(sg)) < 0 && !dry(sg, sizeof(sg)))
    return -1;
  b = ec2_action("RunInstances");
  ec2_form(&b, "ImageId", ami);
  ec2_form(&b, "InstanceType", q->type);
  ec2_form(&b, "MinCount", "1");
  ec2_form(&b, "MaxCount", "1");
  ec2_form(&b, "ClientToken", q->token);
  ud = b64_encode(q->user_data, q->ud_len);
  ec2_form(&b, "UserData", ud);
  freezero(ud, strlen(ud));
  ec2_form(&b, "BlockDeviceMapping.1.DeviceName", root);
  ec2_form(&b, "BlockDeviceMapping.1.Ebs.VolumeSize", "50");
  ec2_form(&b, "BlockDeviceMapping.1.Ebs.VolumeType", "gp3");
  ec2_form(&b, "BlockDeviceMapping.1.Ebs.DeleteOnTermination", "true");
  ec2_form(&b, "SecurityGroupId.1", sg);
  if (subnet && *subnet) ec2_form(&b, "SubnetId", subnet);
  ec2_form(&b, "InstanceInitiatedShutdownBehavior", "terminate");
  ec2_form(&b, "MetadataOptions.HttpTokens", "required");
  if (kvm_lane(q->type) == KVM_NESTED)
    ec2_form(&b, "CpuOptions.NestedVirtualization", "enabled");
  tags(&b, 1, "instance", q);
  tags(&b, 2, "volume", q);
  rc = ec2_call(q->region, "run instances", &b, q->http_flags, &x, NULL, 0);
  if (rc == 0) {
    host_from(xml_find(x, "instancesSet/item"), c, q->region);
    if (!*c->id) rc = error("run instances: no instanceId in the answer");
    snprintf(c->name, sizeof(c->name), "%s", q->name);
    snprintf(c->label, sizeof(c->label), "%s", q->label);
  }
  xml_free(x);
  return rc;
}

static const char *host_region(const struct cloud_host *c)
{
  return *c->region ? c->region : ec2_region();
}

static int aws_get(struct http *h, struct cloud_host *c)
{
  struct buf b = ec2_action("DescribeInstances");
  char code[64];
  struct xml *x;
  int rc, nf = atoi(c->aux);

  (void)h;
  ec2_form(&b, "InstanceId.1", c->id);
  rc = ec2_call(host_region(c), "describe instance", &b, HTTP_RETRY, &x,
                code, sizeof(code));
  if (rc < 0 && !strcmp(code, "InvalidInstanceID.NotFound")) {
    /* eventual consistency: a new instance is not visible at once */
    snprintf(c->aux, sizeof(c->aux), "%d", nf + 1);
    c->state = nf + 1 < NOTFOUND_RETRIES ? CLOUD_PENDING : CLOUD_GONE;
    rc = 0;
  } else if (rc == 0) {
    const struct xml *it = xml_find(x, "reservationSet/item/instancesSet/item");
    if (it) host_from(it, c, host_region(c));
    else c->state = CLOUD_GONE;
  }
  xml_free(x);
  return rc;
}

struct aws_want {
  const char *label, *region;
  struct cloud_list *out;
};

/* One page of DescribeInstances: CUR its NextToken ("" the first). */
static int aws_listed(const char *cur, char *next, size_t len, void *arg)
{
  static const char *const live[] = { "pending", "running", "stopping",
                                      "stopped" };
  const struct aws_want *w = arg;
  struct buf b = ec2_action("DescribeInstances");
  const struct xml *it[1000];
  struct cloud_host *c;
  struct xml *x;
  char k[32];
  size_t i;
  int n, rc = 0;

  ec2_form(&b, "Filter.1.Name", "tag:" CLOUD_TAG_EPH);
  ec2_form(&b, "Filter.1.Value.1", "true");
  ec2_form(&b, "Filter.2.Name", "instance-state-name");
  for (i = 0; i < ARRAY_LEN(live); i++) {
    snprintf(k, sizeof(k), "Filter.2.Value.%zu", i + 1);
    ec2_form(&b, k, live[i]);
  }
  if (w->label) { ec2_form(&b, "Filter.3.Name", "tag:" CLOUD_TAG_LABEL);
                  ec2_form(&b, "Filter.3.Value.1", w->label); }
  ec2_form(&b, "MaxResults", "1000");
  if (*cur) ec2_form(&b, "NextToken", cur);
  if (ec2_call(w->region, "list instances", &b, HTTP_RETRY, &x, NULL, 0) < 0)
    return -1;
  n = xml_all(x, "reservationSet/item/instancesSet/item", it, ARRAY_LEN(it));
  for (i = 0; i < (size_t)n && !rc; i++)
    if (!(c = cloud_list_add(w->out)))
      rc = error("list instances: over %d", CLOUD_LIST_MAX);
    else host_from(it[i], c, w->region);
  snprintf(next, len, "%s", xml_text(x, "nextToken") ? xml_text(x, "nextToken")
                                                     : "");
  xml_free(x);
  return rc;
}

static int aws_list(struct http *h, const char *label, struct cloud_list *out)
{
  struct aws_want w = { label, ec2_region(), out };

  (void)h;
  return cloud_paged("list instances", aws_listed, &w);
}

static int aws_destroy(struct http *h, const struct cloud_host *c)
{
  struct buf b = ec2_action("TerminateInstances");
  char code[64];
  struct xml *x;
  int rc;

  (void)h;
  ec2_form(&b, "InstanceId.1", c->id);
  rc = ec2_call(host_region(c), "terminate instance", &b, HTTP_RETRY, &x,
                code, sizeof(code));
  xml_free(x);
  if (rc < 0 && !strcmp(code, "InvalidInstanceID.NotFound")) return 1;
  return rc;
}

/* The default region is the CLI's (AWS_REGION, AWS_DEFAULT_REGION, the
 * profile's), and EC2 has one endpoint per region: the driver's handle is
 * made for the region asked for. */
static char aws_base[80] = "https://ec2.us-east-1.amazonaws.com";
static int aws_at(const char *region)
{
  ec2_at(region, aws_base, sizeof(aws_base));
  return 0;
}

static int aws_type_note(const char *type, char *buf, size_t len)
{
  if (kvm_lane(type) != KVM_NESTED) return 0;
  snprintf(buf, len, "%s is not bare metal: KVM through nested "
           "virtualization (CpuOptions.NestedVirtualization=enabled)", type);
  return 1;
}

static const struct cloud_ops aws_ops = {
  .name = "aws",
  .base = aws_base,
  .type = "c5.metal",
  .region = "us-east-1",
  .ud_max = 16384,
  .ud_gzip = 1,
  .idempotent = 1,
  .rate = 5, .burst = 20,
  .poll_s = 10,
  .ready_s = 1200,
  .default_region = aws_cred_region,
  .at = aws_at,
  .type_note = aws_type_note,
  .init = ec2_init,
  .create = aws_create,
  .list_polls = 1,
  .get = aws_get,
  .list = aws_list,
  .destroy = aws_destroy,
};

CLOUD_PROVIDER(aws, 0);
