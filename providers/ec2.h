/* providers/ec2.h - what the EC2 provider (providers/aws.c) stands on:
 * the Query API call (providers/ec2.c) and the network lookups
 * (providers/awssg.c, itself on ec2.c). Only those three include this. */
#ifndef MVM_EC2_H
#define MVM_EC2_H

/* A request form: ec2_action("RunInstances"), then one ec2_form() per
 * parameter (the value is URI-encoded). */
struct buf ec2_action(const char *action);
void ec2_form(struct buf *b, const char *k, const char *v);
/* Send form B (consumed, Version added) to REGION's endpoint: 0 with the
 * parsed answer in *x (xml_free it), or -1 with *x NULL, mvm.err naming
 * WHAT and CODE (if not NULL) EC2's error code. */
int ec2_call(const char *region, const char *what, struct buf *b, int flags,
             struct xml **x, char *code, size_t clen);

/* The driver's handle H (struct cloud_ops init) with the credentials
 * loaded, for the region ec2_at() named: 0, or -1 with mvm.err. */
int ec2_init(struct http *h);
/* The region the command runs in (the driver's handle), and its
 * endpoint into BASE; ec2_region() says which it is. */
void ec2_at(const char *region, char *base, size_t len);
const char *ec2_region(void);

/* providers/awssg.c. AWS_SG_ID, else the id of group mvm-ephemeral-ssh
 * in VPC (NULL: the default VPC), made with 22/tcp from the caller's
 * address if absent. */
int ec2_ssh_group(const char *region, const char *vpc, char *sg, size_t n);
/* The VPC of subnet SUBNET (AWS_SUBNET_ID). */
int ec2_subnet_vpc(const char *region, const char *subnet, char *vpc,
                   size_t n);

#endif
