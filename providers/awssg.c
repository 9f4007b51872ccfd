/* providers/awssg.c - the network an EC2 instance is launched into: the
 * subnet's VPC (AWS_SUBNET_ID) and the security group that lets SSH in
 * from the caller's public address. Its calls go through providers/ec2.c
 * (ec2_call); never writes stdout. */
#include "mvm.h"
#include "http/http.h"
#include "ec2.h"

#define SG_NAME "mvm-ephemeral-ssh"

/* The caller's public address, for the SSH rule (checkip, overridable by
 * MVM_AWS_CHECKIP_ENDPOINT). */
static int my_cidr(char *out, size_t n)
{
  struct http *h = http_new_env("aws", "MVM_AWS_CHECKIP_ENDPOINT",
                                "https://checkip.amazonaws.com");
  struct http_resp r = { 0 };
  int rc = http_req(h, "find my address", "GET", "/", NULL, HTTP_RETRY, &r);
  size_t l = r.body ? strcspn(r.body, " \r\n") : 0;

  if (!rc && (l < 7 || l > 15 || strspn(r.body, "0123456789.") != l))
    rc = error("find my address: not an IPv4 address");
  if (!rc) snprintf(out, n, "%.*s/32", (int)l, r.body);
  http_resp_release(&r);
  http_free(h);
  return rc;
}

/* AWS_SG_ID, else group mvm-ephemeral-ssh (created with 22/tcp from the
 * caller's address when absent; a concurrent creator wins the race). */
int ec2_ssh_group(const char *region, const char *vpc, char *sg, size_t n)
{
  const char *env = getenv("AWS_SG_ID");
  char code[64], cidr[24];
  struct buf b;
  struct xml *x;
  int rc, pass;

  if (env && *env) return snprintf(sg, n, "%s", env) < 0;
  for (pass = 0; pass < 2; pass++) {
    b = ec2_action("DescribeSecurityGroups");
    ec2_form(&b, "Filter.1.Name", "group-name");
    ec2_form(&b, "Filter.1.Value.1", SG_NAME);
    if (vpc) { ec2_form(&b, "Filter.2.Name", "vpc-id");
               ec2_form(&b, "Filter.2.Value.1", vpc); }
    if (ec2_call(region, "describe security groups", &b, HTTP_RETRY,
                 &x, NULL, 0) < 0)
      return -1;
    snprintf(sg, n, "%s", xml_text(x, "securityGroupInfo/item/groupId")
             ? xml_text(x, "securityGroupInfo/item/groupId") : "");
    xml_free(x);
    if (*sg) return 0;
    if (pass) break;
    if (my_cidr(cidr, sizeof(cidr)) < 0) return -1;
    b = ec2_action("CreateSecurityGroup");
    ec2_form(&b, "GroupName", SG_NAME);
    ec2_form(&b, "GroupDescription", "mvmbox ephemeral hosts: SSH in");
    if (vpc) ec2_form(&b, "VpcId", vpc);
    /* Retried like a GET, through EC2's throttling (503
     * RequestLimitExceeded) too: a second create of the name is the
     * InvalidGroup.Duplicate below, which looks it up. */
    rc = ec2_call(region, "create security group", &b, HTTP_RETRY, &x,
                  code, sizeof(code));
    if (rc < 0 && strcmp(code, "InvalidGroup.Duplicate")) return -1;
    if (rc == 0) {
      snprintf(sg, n, "%s", xml_text(x, "groupId") ? xml_text(x, "groupId")
                                                   : "");
      xml_free(x);
      b = ec2_action("AuthorizeSecurityGroupIngress");
      ec2_form(&b, "GroupId", sg);
      ec2_form(&b, "IpPermissions.1.IpProtocol", "tcp");
      ec2_form(&b, "IpPermissions.1.FromPort", "22");
      ec2_form(&b, "IpPermissions.1.ToPort", "22");
      ec2_form(&b, "IpPermissions.1.IpRanges.1.CidrIp", cidr);
      if (ec2_call(region, "allow ssh", &b, HTTP_RETRY, &x, NULL, 0) < 0)
        return -1;
      xml_free(x);
      return 0;
    }                           /* a duplicate: look it up once more */
  }
  return error("security group %s: created elsewhere but not found",
               SG_NAME);
}

/* The VPC of AWS_SUBNET_ID, where the group must be too. */
int ec2_subnet_vpc(const char *region, const char *subnet, char *vpc,
                   size_t n)
{
  struct buf b = ec2_action("DescribeSubnets");
  struct xml *x;
  const char *v;

  ec2_form(&b, "SubnetId.1", subnet);
  if (ec2_call(region, "describe subnet", &b, HTTP_RETRY, &x, NULL, 0) < 0)
    return -1;
  v = xml_text(x, "subnetSet/item/vpcId");
  snprintf(vpc, n, "%s", v ? v : "");
  xml_free(x);
  return *vpc ? 0 : error("AWS_SUBNET_ID %s: no such subnet", subnet);
}
