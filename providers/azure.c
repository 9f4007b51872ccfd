/* providers/azure.c - Azure Resource Manager: one resource group per VM
 * (tagged, so teardown deletes the group and everything in it, and list is
 * a tag filter on groups), holding an NSG with an SSH rule, a VNet, and the
 * VM with its NIC and Standard public IP made inline. Standard_D4s_v3 with
 * security type Standard: Trusted Launch would hide VT-x. Record id= is the
 * group's name. Owns the Azure credentials (providers/azureauth.c); never
 * writes stdout. */
#include "mvm.h"
#include "provider.h"
#include "cloud.h"
#include "auth.h"

#define RG_API "2021-04-01"
#define NET_API "2024-05-01"
#define VM_API "2024-07-01"

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
  return 0;
}

/* "/subscriptions/S/resourceGroups/RG" + rest. */
static char *rg_path(const char *rg, const char *rest)
{
  return xasprintf("/subscriptions/%s/resourceGroups/%s%s", cred.sub, rg,
                   rest);
}

static int put(struct http *h, const char *what, const char *rg,
               const char *rest, const char *api, char *body, int flags)
{
  char *tail = xasprintf("%s?api-version=%s", rest, api);
  char *path = rg_path(rg, tail);
  struct http_resp r = { 0 };
  int rc = http_req(h, what, "PUT", path, body, flags, &r);

  http_resp_release(&r);
  free(path);
  free(tail);
  free(body);
  return rc;
}

static int azure_create(struct http *h, const struct cloud_req *q,
                        struct cloud_host *c)
{
  char *nsg, *subnet, *ud, *kpath;
  int rc;

  if (put(h, "create resource group", q->name, "", RG_API,
          json_build("{s:s, s:{s:s, s:s, s:s}}", "location", q->region,
                     "tags", CLOUD_TAG_EPH, "true", CLOUD_TAG_LABEL, q->label,
                     CLOUD_TAG_EXPIRES, q->expires), q->http_flags) < 0)
    return -1;
  /* From here on the group exists: it is the host, whatever fails next. */
  snprintf(c->id, sizeof(c->id), "%s", q->name);
  snprintf(c->name, sizeof(c->name), "%s", q->name);
  snprintf(c->label, sizeof(c->label), "%s", q->label);
  snprintf(c->region, sizeof(c->region), "%s", q->region);
  c->state = CLOUD_PENDING;
  nsg = rg_path(q->name, "/providers/Microsoft.Network/"
                "networkSecurityGroups/nsg");
  subnet = rg_path(q->name, "/providers/Microsoft.Network/virtualNetworks/"
                   "vnet/subnets/default");
  kpath = xasprintf("/home/%s/.ssh/authorized_keys", "mvm");
  ud = b64_encode(q->user_data, q->ud_len);
  rc = put(h, "create network security group", q->name,
           "/providers/Microsoft.Network/networkSecurityGroups/nsg", NET_API,
           json_build("{s:s, s:{s:[{s:s, s:{s:i, s:s, s:s, s:s, s:s, s:s, "
                      "s:s, s:s}}]}}", "location", q->region, "properties",
                      "securityRules", "name", "ssh", "properties",
                      "priority", 1000, "direction", "Inbound", "access",
                      "Allow", "protocol", "Tcp", "sourceAddressPrefix", "*",
                      "sourcePortRange", "*", "destinationAddressPrefix",
                      "*", "destinationPortRange", "22"), HTTP_RETRY);
  if (!rc)
    rc = put(h, "create virtual network", q->name,
             "/providers/Microsoft.Network/virtualNetworks/vnet", NET_API,
             json_build("{s:s, s:{s:{s:[s]}, s:[{s:s, s:{s:s, s:{s:s}}}]}}",
                        "location", q->region, "properties", "addressSpace",
                        "addressPrefixes", "10.0.0.0/16", "subnets", "name",
                        "default", "properties", "addressPrefix",
                        "10.0.0.0/24", "networkSecurityGroup", "id", nsg),
             HTTP_RETRY);
  if (!rc)
    rc = put(h, "create virtual machine", q->name,
             "/providers/Microsoft.Compute/virtualMachines/vm", VM_API,
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
      "publicIPAllocationMethod", "Static", "publicIPAddressVersion", "IPv4"),
             HTTP_RETRY);
  freezero(ud, strlen(ud));
  free(nsg);
  free(subnet);
  free(kpath);
  if (rc) {
    /* The group exists: the host fails with its id, so that teardown
     * deletes the group; the reason goes to stderr. */
    warn("azure: %s: %s", q->name, mvm.err);
    snprintf(c->status, sizeof(c->status), "create failed");
    c->state = CLOUD_FAILED;
  }
  return 0;
}

/* GET a resource of the group: 0 and *j, 1 when it (or the group) is not
 * there, -1 on error. */
static int get_res(struct http *h, const char *what, const char *rg,
                   const char *rest, const char *api, struct json **j)
{
  char *tail = xasprintf("%s?api-version=%s", rest, api);
  char *path = rg_path(rg, tail);
  struct http_resp r = { 0 };
  int rc = http_req(h, what, "GET", path, NULL, HTTP_RETRY | HTTP_404_OK,
                    &r);

  *j = NULL;
  if (!rc && r.status == 404) rc = 1;
  else if (!rc && !(*j = json_parse(r.body, r.len))) rc = -1;
  http_resp_release(&r);
  free(path);
  free(tail);
  return rc;
}

static int azure_get(struct http *h, struct cloud_host *c)
{
  struct json *j;
  char st[40];
  int rc;

  if (c->state == CLOUD_FAILED) return 0;
  rc = get_res(h, "get virtual machine", c->id,
               "/providers/Microsoft.Compute/virtualMachines/vm", VM_API, &j);
  if (rc == 1) c->state = CLOUD_GONE;
  if (rc) return rc < 0 ? -1 : 0;
  if (!json_text(j, st, sizeof(st), "properties.provisioningState"))
    *st = 0;
  snprintf(c->status, sizeof(c->status), "%s", st);
  json_free(j);
  if (!strcmp(st, "Failed") || !strcmp(st, "Canceled")) {
    c->state = CLOUD_FAILED;
    return 0;
  }
  if (strcmp(st, "Succeeded")) return 0;
  rc = get_res(h, "get public address", c->id,
               "/providers/Microsoft.Network/publicIPAddresses/pip", NET_API,
               &j);
  if (rc) return rc < 0 ? -1 : 0;
  if (json_text(j, c->addr, sizeof(c->addr), "properties.ipAddress")
      && *c->addr)
    c->state = CLOUD_READY;
  json_free(j);
  return 0;
}

static int azure_list(struct http *h, const char *label,
                      struct cloud_list *out)
{
  char *path = xasprintf("/subscriptions/%s/resourcegroups?api-version=%s&"
                         "%%24filter=tagName%%20eq%%20%%27%s%%27%%20and%%20"
                         "tagValue%%20eq%%20%%27true%%27", cred.sub, RG_API,
                         CLOUD_TAG_EPH);
  struct http_resp r = { 0 };
  struct json *j = NULL;
  char lab[64];
  int i, n, rc;

  rc = http_req(h, "list resource groups", "GET", path, NULL, HTTP_RETRY,
                &r);
  free(path);
  if (!rc && !(j = json_parse(r.body, r.len))) rc = -1;
  n = rc ? 0 : json_len(j, "value");
  for (i = 0; i < n; i++) {
    struct cloud_host *c;
    if (!json_text(j, lab, sizeof(lab), "value.%d.tags.%s", i,
                   CLOUD_TAG_LABEL))
      *lab = 0;
    if (label && strcmp(lab, label)) continue;
    c = cloud_list_add(out);
    json_text(j, c->id, sizeof(c->id), "value.%d.name", i);
    snprintf(c->name, sizeof(c->name), "%.79s", c->id);
    snprintf(c->label, sizeof(c->label), "%s", lab);
    json_text(j, c->region, sizeof(c->region), "value.%d.location", i);
    json_text(j, c->expires, sizeof(c->expires), "value.%d.tags.%s", i,
              CLOUD_TAG_EXPIRES);
  }
  json_free(j);
  http_resp_release(&r);
  return rc;
}

/* Deleting the group deletes all it holds; ARM answers 202 and carries
 * on by itself. */
static int azure_destroy(struct http *h, const struct cloud_host *c)
{
  char *path = xasprintf("/subscriptions/%s/resourcegroups/%s?api-version="
                         RG_API, cred.sub, c->id);
  struct http_resp r = { 0 };
  int rc = http_req(h, "delete resource group", "DELETE", path, NULL,
                    HTTP_RETRY | HTTP_404_OK, &r);

  if (!rc && r.status == 404) rc = 1;
  http_resp_release(&r);
  free(path);
  return rc;
}

static const struct cloud_ops azure_ops = {
  .name = "azure",
  .base = "https://management.azure.com",
  .type = "Standard_D4s_v3",
  .region = "eastus",
  .ud_max = 65535,
  .idempotent = 1,
  .rate = 5, .burst = 20,
  .poll_s = 10,
  .ready_s = 900,
  .init = azure_init,
  .create = azure_create,
  .get = azure_get,
  .list = azure_list,
  .destroy = azure_destroy,
};

CLOUD_PROVIDER(azure, 0);
