/* providers/azure.c - Azure Resource Manager: one resource group per VM
 * (tagged, so teardown deletes the group and everything in it, and list is
 * a tag filter on groups), holding an NSG with an SSH rule, a VNet, and the
 * VM with its NIC and Standard public IP made inline. Standard_D4s_v3 with
 * security type Standard: Trusted Launch would hide VT-x. Record id= is the
 * group's name. create() makes the group; the three PUTs inside it are a
 * create in steps, which the driver sends in order, each once the one
 * before has Succeeded (providers/cloudsteps.c): step() sends one and
 * names what to follow (its Azure-AsyncOperation URL, on the API's own
 * host only, else the resource's provisioningState), op() asks once. A
 * group delete is sent and left to ARM: the driver waits for the group to
 * go (get(): "Deleting" is still there, a 404 is gone; the listing shows
 * it until then). Owns the Azure credentials (providers/azureauth.c);
 * never writes stdout. */
#include "mvm.h"
#include "http/http.h"
#include "json.h"
#include "provider.h"
#include "cloud.h"
#include "auth.h"
#include "azure.h"

#define RG_API "2021-04-01"
#define NET_API "2024-05-01"
#define VM_API "2024-07-01"
#define POLL_S 10
#define READY_S 900

static struct azure_cred cred;

static int refresh(void *c)
{
  return azure_token(c);
}

static struct auth_bearer bearer = { refresh, &cred, &cred.token };

static int azure_init(struct http *h)
{
  azure_cred_clear(&cred);
  if (azure_cred_load(&cred) < 0 || azure_token(&cred) < 0) return -1;
  http_signer(h, auth_bearer_sign, &bearer);
  http_errmsg(h, azure_errmsg);
  return 0;
}

/* "/subscriptions/S/resourceGroups/RG" + rest. */
static char *rg_path(const char *rg, const char *rest)
{
  return xasprintf("/subscriptions/%s/resourceGroups/%s%s", cred.sub, rg,
                   rest);
}

static int azure_create(struct http *h, const struct cloud_req *q,
                        struct cloud_host *c)
{
  char *body = json_build("{s:s, s:{s:s, s:s, s:s}}", "location", q->region,
                          "tags", CLOUD_TAG_EPH, "true", CLOUD_TAG_LABEL,
                          q->label, CLOUD_TAG_EXPIRES, q->expires);
  char *path = rg_path(q->name, "?api-version=" RG_API);
  struct http_resp r = { 0 };
  int rc = http_req(h, "create resource group", "PUT", path, body,
                    q->http_flags, &r);

  http_resp_release(&r);
  free(path);
  free(body);
  if (rc < 0) return -1;
  /* The group is the host from here on, whatever its steps meet: a
   * failed one leaves a failed record with this id, whose teardown
   * deletes the group and all it holds. */
  snprintf(c->id, sizeof(c->id), "%s", q->name);
  snprintf(c->name, sizeof(c->name), "%s", q->name);
  snprintf(c->label, sizeof(c->label), "%s", q->label);
  snprintf(c->region, sizeof(c->region), "%s", q->region);
  c->state = CLOUD_PENDING;
  return 0;
}

/* What the group holds, each PUT once what it references has Succeeded:
 * the NSG, the VNet whose subnet names it, the VM on that subnet. */
static int azure_steps(const struct cloud_req *q, const struct cloud_host *c,
                       struct cloud_steps *s)
{
  char *nsg = rg_path(c->id, "/providers/Microsoft.Network/"
                      "networkSecurityGroups/nsg");
  char *subnet = rg_path(c->id, "/providers/Microsoft.Network/"
                         "virtualNetworks/vnet/subnets/default");
  char *kpath = xasprintf("/home/%s/.ssh/authorized_keys", "mvm");
  char *ud = b64_encode(q->user_data, q->ud_len);

  cloud_step_add(s, "create network security group",
                 xasprintf("%s?api-version=" NET_API, nsg),
                 json_build("{s:s, s:{s:[{s:s, s:{s:i, s:s, s:s, s:s, s:s, "
                            "s:s, s:s, s:s}}]}}", "location", q->region,
                            "properties", "securityRules", "name", "ssh",
                            "properties", "priority", 1000, "direction",
                            "Inbound", "access", "Allow", "protocol", "Tcp",
                            "sourceAddressPrefix", "*", "sourcePortRange",
                            "*", "destinationAddressPrefix", "*",
                            "destinationPortRange", "22"));
  cloud_step_add(s, "create virtual network",
                 rg_path(c->id, "/providers/Microsoft.Network/"
                         "virtualNetworks/vnet?api-version=" NET_API),
                 json_build("{s:s, s:{s:{s:[s]}, s:[{s:s, s:{s:s, s:{s:s}}}]}}",
                            "location", q->region, "properties",
                            "addressSpace", "addressPrefixes", "10.0.0.0/16",
                            "subnets", "name", "default", "properties",
                            "addressPrefix", "10.0.0.0/24",
                            "networkSecurityGroup", "id", nsg));
  cloud_step_add(s, "create virtual machine",
                 rg_path(c->id, "/providers/Microsoft.Compute/"
                         "virtualMachines/vm?api-version=" VM_API),
                 json_build(
      "{s:s, s:{s:s, s:s}, s:{s:{s:s}, s:{s:s}, "
      "s:{s:{s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:i, s:{s:s}}}, "
      "s:{s:s, s:s, s:s, s:{s:b, s:{s:[{s:s, s:s}]}}}, "
      "s:{s:s, s:[{s:s, s:{s:b, s:s, s:[{s:s, s:{s:b, s:{s:s}, "
      "s:{s:s, s:{s:s}, s:{s:s, s:s, s:s}}}}]}}]}}}",
      "location", q->region, "tags", CLOUD_TAG_EPH, "true", CLOUD_TAG_LABEL,
      q->label, "properties", "hardwareProfile", "vmSize", q->type,
      "securityProfile", "securityType", "Standard",
      "storageProfile", "imageReference", "publisher", "Canonical", "offer",
      "ubuntu-24_04-lts", "sku", "server", "version", "latest", "osDisk",
      "createOption", "FromImage", "deleteOption", "Delete", "diskSizeGB", 50,
      "managedDisk", "storageAccountType", "Premium_LRS",
      "osProfile", "computerName", "mvm", "adminUsername", "mvm",
      "customData", ud, "linuxConfiguration",
      "disablePasswordAuthentication", 1, "ssh", "publicKeys", "path", kpath,
      "keyData", q->pubkey ? q->pubkey : "",
      "networkProfile", "networkApiVersion", "2020-11-01",
      "networkInterfaceConfigurations", "name", "nic", "properties",
      "primary", 1, "deleteOption", "Delete", "ipConfigurations", "name",
      "ipconfig", "properties", "primary", 1, "subnet", "id", subnet,
      "publicIPAddressConfiguration", "name", "pip", "sku", "name",
      "Standard", "properties", "deleteOption", "Delete",
      "publicIPAllocationMethod", "Static", "publicIPAddressVersion",
      "IPv4"));
  freezero(ud, strlen(ud));
  free(nsg);
  free(subnet);
  free(kpath);
  return 0;
}

/* PUT a step: what to follow is the operation its answer names (Azure-
 * AsyncOperation, on the API's own host only), else the resource's own
 * provisioningState. */
static int azure_step(struct http *h, const struct cloud_step *s,
                      struct cloud_op *op)
{
  char url[sizeof(op->url)], why[sizeof(mvm.err)];
  struct http_resp r = { 0 };
  int rc = http_req(h, s->what, "PUT", s->path, s->body, HTTP_RETRY, &r);

  op->after = r.retry_after;
  if (!rc && !http_resp_header(&r, "Azure-AsyncOperation", url,
                               sizeof(url))) {
    if (http_rel(h, url, op->url, sizeof(op->url))) {
      snprintf(why, sizeof(why), "%s", mvm.err);
      rc = error("%s: not following its operation URL, %s", s->what, why);
    }
  } else if (!rc) {
    op->res = 1;
    snprintf(op->url, sizeof(op->url), "%s", s->path);
  }
  http_resp_release(&r);
  return rc;
}

/* Ask once how OP goes: its status (an operation's) or provisioningState
 * (a resource's). */
static int azure_op(struct http *h, struct cloud_op *op, struct cloud_host *c)
{
  char why[sizeof(mvm.err)], code[64] = "", *st = c->status;
  size_t len = sizeof(c->status);
  struct http_resp r = { 0 };
  struct json *j = NULL;
  int rc = http_req(h, op->what, "GET", op->url, NULL, HTTP_RETRY, &r);

  op->after = r.retry_after;
  if (rc) {
    rc = -1;
  } else if (!(j = json_parse(r.body, r.len)) ||
             !json_text(j, st, len, op->res ? "properties.provisioningState"
                        : "status") || !*st) {
    rc = error("%s: no status in its operation's answer", op->what);
  } else if (!strcmp(st, "Failed") || !strcmp(st, "Canceled")) {
    json_text(j, code, sizeof(code), "error.code");
    op->retry = !strcmp(code, "RetryableError");
    arm_error(j, "error", why, sizeof(why));
    error("%s: %s%s%s", op->what, st, *why ? " " : "", why);
    rc = -2;
  } else {
    rc = strcmp(st, "Succeeded") != 0;
  }
  json_free(j);
  http_resp_release(&r);
  return rc;
}

/* GET the resource ID (ARM's "/subscriptions/..." id): 0 and *j, 1 when
 * it (or its group) is not there, -1 on error. */
static int get_id(struct http *h, const char *what, const char *id,
                  const char *api, struct json **j)
{
  char *path = xasprintf("%s?api-version=%s", id, api);
  struct http_resp r = { 0 };
  int rc;

  *j = NULL;
  if (strncmp(id, "/subscriptions/", 15) || strpbrk(id, "?# ")) {
    free(path);
    return error("%s: not an ARM resource id: %.80s", what, id);
  }
  rc = http_req(h, what, "GET", path, NULL, HTTP_RETRY | HTTP_404_OK, &r);
  if (!rc && r.status == 404) rc = 1;
  else if (!rc) rc = cloud_parse(&r, j);
  http_resp_release(&r);
  free(path);
  return rc;
}

/* GET a resource of the group, as get_id(). */
static int get_res(struct http *h, const char *what, const char *rg,
                   const char *rest, const char *api, struct json **j)
{
  char *id = rg_path(rg, rest);
  int rc = get_id(h, what, id, api, j);

  free(id);
  return rc;
}

/* The VM's public address (VM J) into ADDR, if it has one yet: ARM names
 * the NIC and IP it makes, so follow the ids, VM -> NIC -> public IP. */
static int vm_addr(struct http *h, const struct json *vm, char *addr,
                   size_t len)
{
  char id[512];
  struct json *j;
  int i, n, rc;

  if (!json_text(vm, id, sizeof(id),
                 "properties.networkProfile.networkInterfaces.0.id") || !*id)
    return 0;
  if ((rc = get_id(h, "get network interface", id, NET_API, &j))) return rc;
  *id = 0;
  n = json_len(j, "properties.ipConfigurations");
  for (i = 0; i < n && !*id; i++)
    if (!json_text(j, id, sizeof(id), "properties.ipConfigurations.%d."
                   "properties.publicIPAddress.id", i))
      *id = 0;
  json_free(j);
  if (!*id) return 0;
  if ((rc = get_id(h, "get public address", id, NET_API, &j))) return rc;
  if (!json_text(j, addr, len, "properties.ipAddress")) *addr = 0;
  json_free(j);
  return 0;
}

/* No VM in group C->id: gone with the group (a 404), or still going
 * while ARM deletes the group (PENDING "Deleting": the driver waits), or
 * gone from a group that stays (it vanished). 0, or -1 with mvm.err. */
static int group_state(struct http *h, struct cloud_host *c)
{
  char *id = xasprintf("/subscriptions/%s/resourceGroups/%s", cred.sub,
                       c->id), st[40] = "";
  struct json *j;
  int rc = get_id(h, "get resource group", id, RG_API, &j);

  free(id);
  if (rc < 0) return -1;
  if (!rc && !json_text(j, st, sizeof(st), "properties.provisioningState"))
    *st = 0;
  json_free(j);
  snprintf(c->status, sizeof(c->status), "%s", rc ? "gone" : st);
  c->state = !rc && !strcmp(st, "Deleting") ? CLOUD_PENDING : CLOUD_GONE;
  return 0;
}

static int azure_get(struct http *h, struct cloud_host *c)
{
  struct json *j;
  char st[40];
  int rc;

  rc = get_res(h, "get virtual machine", c->id,
               "/providers/Microsoft.Compute/virtualMachines/vm", VM_API, &j);
  if (rc == 1) return group_state(h, c);
  if (rc) return -1;
  if (!json_text(j, st, sizeof(st), "properties.provisioningState"))
    *st = 0;
  snprintf(c->status, sizeof(c->status), "%s", st);
  if (!strcmp(st, "Failed") || !strcmp(st, "Canceled"))
    c->state = CLOUD_FAILED;
  rc = !strcmp(st, "Succeeded") ? vm_addr(h, j, c->addr, sizeof(c->addr))
                                : 0;
  json_free(j);
  if (!rc && !strcmp(st, "Succeeded") && *c->addr) c->state = CLOUD_READY;
  return rc < 0 ? -1 : 0;
}

/* The groups of one page of the list (those with mvm-label LABEL only,
 * if set) into OUT. */
struct list_arg {
  const char *label;
  struct cloud_list *out;
};

static int list_page(const struct json *j, void *arg)
{
  static const struct cloud_fields f = {   /* the tags are an object */
    .id = "name", .name = "name", .region = "location",
  };
  const struct list_arg *a = arg;
  struct cloud_host *c;
  char lab[64];
  int i, n = json_len(j, "value");

  for (i = 0; i < n; i++) {
    const struct json *g = json_get(j, "value.%d", i);

    if (!json_text(g, lab, sizeof(lab), "tags.%s", CLOUD_TAG_LABEL))
      *lab = 0;
    if (a->label && strcmp(lab, a->label)) continue;
    if (!(c = cloud_list_add(a->out)))
      return error("list resource groups: over %d", CLOUD_LIST_MAX);
    cloud_host_json(g, &f, c);          /* no address: PENDING */
    snprintf(c->label, sizeof(c->label), "%s", lab);
    json_text(g, c->expires, sizeof(c->expires), "tags.%s",
              CLOUD_TAG_EXPIRES);
  }
  return 0;
}

/* ARM pages every list: each page's nextLink is followed to the end. */
static const struct cloud_paging arm_pages = { "nextLink", NULL, NULL, NULL };

static int azure_list(struct http *h, const char *label,
                      struct cloud_list *out)
{
  char *path = xasprintf("/subscriptions/%s/resourcegroups?api-version=%s&"
                         "%%24filter=tagName%%20eq%%20%%27%s%%27%%20and%%20"
                         "tagValue%%20eq%%20%%27true%%27", cred.sub, RG_API,
                         CLOUD_TAG_EPH);
  struct list_arg a = { label, out };
  int rc = cloud_pages(h, &arm_pages, "list resource groups", path,
                       list_page, &a);

  free(path);
  return rc;
}

/* Deleting the group deletes all it holds. ARM answers 202 and goes on
 * for minutes; the driver waits for the group to go, as for every
 * provider (get(): Deleting until a 404; the listing shows it until
 * then), and deletes again what stays. A delete ARM refuses (a lock,
 * 409 ScopeLocked) is refused at once: an error here. */
static int azure_destroy(struct http *h, const struct cloud_host *c)
{
  return cloud_delete(h, "delete resource group", "/subscriptions/%s/"
                      "resourcegroups/%s?api-version=" RG_API, cred.sub,
                      c->id);
}

static const struct cloud_ops azure_ops = {
  .name = "azure",
  .base = "https://management.azure.com",
  .type = "Standard_D4s_v3",
  .region = "eastus",
  .ud_max = 65535,
  .idempotent = 1,
  .rate = 5, .burst = 20,
  .poll_s = POLL_S,
  .ready_s = READY_S,
  .init = azure_init,
  .create = azure_create,
  .steps = azure_steps,
  .step = azure_step,
  .op = azure_op,
  .get = azure_get,
  .list = azure_list,
  .destroy = azure_destroy,
};

CLOUD_PROVIDER(azure, 0);
