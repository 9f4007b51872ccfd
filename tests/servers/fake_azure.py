#!/usr/bin/env python3
"""tests/servers/fake_azure.py - a stateful fake of the Microsoft identity
platform's token endpoint and Azure Resource Manager on 127.0.0.1,
standing in for Azure in tests (no real cloud is ever called).

Checked before anything is served: the client-credentials grant (client
id, secret, tenant, scope management.azure.com/.default); a current bearer
token on every ARM call; each api-version; every PUT body walked key by
key: a VM's against the request bodies of the two x-ms-examples of
VirtualMachines_CreateOrUpdate in ../shared/specs/azure/ (plus the few
ComputeRP members those examples do not show, listed in EXTRA), a group's,
NSG's, VNet's, NIC's and public IP's against their writable members in
the Resources and Network RP swagger (PUT_KEYS); an unknown key, an
unknown resource type, a Basic public IP or Trusted Launch is a 400.  Resource
groups hold what is PUT into them; the VM's public IP gets a 127.2.x.y
address.  As ARM does, the PUT of an NSG, VNet or VM and the DELETE of a
group answer with an Azure-AsyncOperation URL (and a Retry-After), whose
GET says InProgress twice, then Succeeded: only then is the VM's
provisioningState Succeeded.  A group DELETE is ARM's: the group and
all it holds go Deleting at once, stay listed (and a GET of them says
Deleting), and vanish on their own FAKE_AZURE_DELETE_S seconds later
(default 1.5), whether or not anyone polls the delete's operation (which
says InProgress until then, Succeeded after).  A poll sooner than the
last Retry-After said is logged as an ERROR.  Besides its own tokens, a
bearer token is good if it is a line of STATEDIR/cli-tokens, where the
tests' az double writes the tokens it hands out.  As ARM does, the list
of groups is paged (2 a page here) with a nextLink carrying a $skiptoken;
A PUT referencing a NSG or VNet whose provisioningState is not
Succeeded is ARM's 400 ReferencedResourceNotProvisioned (without
FAKE_AZURE_NO_ASYNC a resource is Updating until its operation ends,
with it until the next GET of it).  db.json's "left" counts every resource kind the groups still hold (VM,
OS disk, NIC, public IP, VNet, NSG) and the groups.

usage: fake_azure.py STATEDIR SPECDIR CLIENT_ID CLIENT_SECRET TENANT
env: FAKE_AZURE_NO_SKU=1  every VM PUT fails with SkuNotAvailable
     FAKE_AZURE_NO_ASYNC=1  no Azure-AsyncOperation: the VM goes Creating
       -> Succeeded over GETs; DELETE answers 202 with a Location, 202
       there until the group is gone, then 200 (ARM's group delete)
     FAKE_AZURE_DELETE_S=S  how long a group delete takes (default 1.5)
     FAKE_AZURE_OP_FAIL=1  the VM's operation ends Failed
     FAKE_AZURE_OP_FOREIGN=1  the VM's operation URL is on 127.0.0.2, a
       second listener that logs whatever it gets to STATEDIR/foreign.log
     FAKE_AZURE_VNET_RETRYABLE=N  the first N VNet operations end Failed
       RetryableError (its details: RetryableError), as ARM's sometimes do
     FAKE_AZURE_RETRY_AFTER=N  seconds (default 0)
     FAKE_AZURE_UNREGISTERED=1  Microsoft.Compute is not registered for
       the subscription: a VM PUT is a 409 MissingSubscriptionRegistration
     FAKE_AZURE_QUOTA=N  the DSv3 family's regional vCPU quota (default
       100; a new subscription has 10): a VM PUT beyond it is ARM's 409
       OperationNotAllowed
"""
import glob, http.server, json, os, re, sys, threading, time, urllib.parse, uuid
import fakebase

STATE, SPECS = sys.argv[1], sys.argv[2]
CLIENT, SECRET, TENANT = sys.argv[3:6]
LOCK = threading.Lock()
DB = {"rgs": {}, "tokens": {}, "n": 0, "issued": 0, "ops": {}, "cli": 0,
      "skip": {}}
DB["vnetfail"] = int(os.environ.get("FAKE_AZURE_VNET_RETRYABLE", "0"))
QUOTA = int(os.environ.get("FAKE_AZURE_QUOTA", "100"))
PAGE = 2                # items a list page holds: every list is paged
KINDS = ("resourceGroups", "virtualMachines", "disks", "networkInterfaces",
         "publicIPAddresses", "virtualNetworks", "networkSecurityGroups")
ASYNC = not os.environ.get("FAKE_AZURE_NO_ASYNC")
RA = int(os.environ.get("FAKE_AZURE_RETRY_AFTER", "0"))
DELETE_S = float(os.environ.get("FAKE_AZURE_DELETE_S", "1.5"))
FOREIGN = [0]           # the port of the 127.0.0.2 listener
APIS = {"resourcegroups": "2021-04-01", "Microsoft.Network": "2024-05-01",
        "Microsoft.Compute": "2024-07-01"}
# ComputeRP members used here beyond the two examples' request bodies
EXTRA = {".tags", ".properties.securityProfile",
         ".properties.securityProfile.securityType",
         ".properties.storageProfile.osDisk.deleteOption",
         ".properties.storageProfile.osDisk.diskSizeGB",
         ".properties.osProfile.customData",
         ".properties.networkProfile.networkInterfaceConfigurations[]"
         ".properties.ipConfigurations[].properties.subnet",
         ".properties.networkProfile.networkInterfaceConfigurations[]"
         ".properties.ipConfigurations[].properties.subnet.id",
         ".properties.networkProfile.networkInterfaceConfigurations[]"
         ".properties.ipConfigurations[].properties"
         ".publicIPAddressConfiguration.properties.publicIPAddressVersion"}


def paths(o, pre=""):
    out = set()
    if isinstance(o, dict):
        for k, v in o.items():
            out.add(pre + "." + k)
            out |= paths(v, pre + "." + k)
    elif isinstance(o, list):
        for v in o:
            out |= paths(v, pre + "[]")
    return out


VM_KEYS = set(EXTRA)
for f in glob.glob(os.path.join(SPECS, "azure", "VirtualMachine_Create_*.json")):
    VM_KEYS |= paths(json.load(open(f))["parameters"]["parameters"])
LEAF_KEYS = {".tags"}    # free-form maps: their members are not checked


def members(*spec):
    """The member paths a body may have, from "a.b{c,d}" shorthands: each
    word a path, braces the members of the object at that path."""
    out = set()
    for w in spec:
        m = re.fullmatch(r"([\w.\[\]]*)(?:\{(.*)\})?", w)
        base, kids = m.group(1), m.group(2)
        parts = base.split(".") if base else []
        for i in range(len(parts)):
            out.add("." + ".".join(parts[:i + 1]))
        for k in (kids.split(",") if kids else []):
            out.add(("." + base if base else "") + "." + k)
    return out


# What else ARM takes in a PUT: the writable members of each resource as
# the Network RP's and Resources' swagger define them (Azure/
# azure-rest-api-specs specification/network/resource-manager/
# Microsoft.Network/stable/2024-05-01/{networkSecurityGroup,virtualNetwork,
# networkInterface,publicIpAddress}.json and resources/.../2021-04-01/
# resources.json); a reference to another resource is its id alone.
REF = "{id}"
RES = "{id,location,tags,extendedLocation}"
PUT_KEYS = {
    "resourceGroups": members("{location,tags,managedBy,properties}"),
    "networkSecurityGroups": members(
        RES, "properties{flushConnection,securityRules}",
        "properties.securityRules[]{id,name,type}",
        "properties.securityRules[].properties{description,protocol,"
        "sourcePortRange,destinationPortRange,sourceAddressPrefix,"
        "sourceAddressPrefixes,destinationAddressPrefix,"
        "destinationAddressPrefixes,sourcePortRanges,destinationPortRanges,"
        "access,priority,direction}"),
    "virtualNetworks": members(
        RES, "properties{addressSpace,dhcpOptions,subnets,"
        "flowTimeoutInMinutes,enableDdosProtection,enableVmProtection,"
        "ddosProtectionPlan,bgpCommunities,encryption}",
        "properties.addressSpace{addressPrefixes}",
        "properties.dhcpOptions{dnsServers}",
        "properties.subnets[]{id,name,type}",
        "properties.subnets[].properties{addressPrefix,addressPrefixes,"
        "networkSecurityGroup,routeTable,natGateway,serviceEndpoints,"
        "delegations,privateEndpointNetworkPolicies,"
        "privateLinkServiceNetworkPolicies,defaultOutboundAccess}",
        "properties.subnets[].properties.networkSecurityGroup" + REF,
        "properties.subnets[].properties.routeTable" + REF,
        "properties.subnets[].properties.natGateway" + REF),
    "networkInterfaces": members(
        RES, "properties{networkSecurityGroup,ipConfigurations,dnsSettings,"
        "enableAcceleratedNetworking,enableIPForwarding,"
        "disableTcpStateTracking,nicType,auxiliaryMode}",
        "properties.networkSecurityGroup" + REF,
        "properties.dnsSettings{dnsServers,internalDnsNameLabel}",
        "properties.ipConfigurations[]{id,name,type}",
        "properties.ipConfigurations[].properties{privateIPAddress,"
        "privateIPAllocationMethod,privateIPAddressVersion,subnet,primary,"
        "publicIPAddress}",
        "properties.ipConfigurations[].properties.subnet" + REF,
        "properties.ipConfigurations[].properties.publicIPAddress" + REF),
    "publicIPAddresses": members(
        RES, "sku{name,tier}", "zones",
        "properties{publicIPAllocationMethod,publicIPAddressVersion,"
        "dnsSettings,idleTimeoutInMinutes,ipTags,publicIPPrefix,"
        "deleteOption,ddosSettings}",
        "properties.dnsSettings{domainNameLabel,domainNameLabelScope}",
        "properties.publicIPPrefix" + REF),
    "virtualMachines": VM_KEYS,
}


def check_members(kind, body):
    """ARM's 400 for a member the resource's schema has not (a field name
    a client invents), in every PUT the fake takes."""
    if kind not in PUT_KEYS:
        raise Bad(400, "InvalidResourceType", "The resource type '%s' "
                  "could not be found" % kind)
    if not isinstance(body, dict):
        raise Bad(400, "InvalidRequestContent", "The request content was "
                  "invalid: not an object")
    for p in sorted(paths(body)):
        if any(p.startswith(l + ".") for l in LEAF_KEYS):
            continue
        if p not in PUT_KEYS[kind]:
            raise Bad(400, "InvalidRequestContent",
                      "The request content was invalid: unknown member %s "
                      "of %s" % (p, kind))


class Bad(Exception):
    def __init__(self, status, code, msg, details=None):
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg
        self.details = details


def vcpus(vm):
    """A D-series v3 size's vCPUs (Standard_D4s_v3: 4), the quota's unit."""
    m = re.fullmatch(r"Standard_D(\d+)s?_v3",
                     vm["properties"]["hardwareProfile"]["vmSize"])
    return int(m.group(1)) if m else 4


def log(line):
    fakebase.log(STATE, line)


def save():
    fakebase.save(STATE, {"rgs": DB["rgs"], "issued": DB["issued"],
                          "cli": DB["cli"], "ops": len(DB["ops"]),
                          "left": left()})


def cli_token(t):
    """A token the az double handed out (it writes them here first)."""
    try:
        with open(os.path.join(STATE, "cli-tokens")) as f:
            return t in f.read().split()
    except FileNotFoundError:
        return False


def op_start(host, sub, ns, done, fail=None, loc=False, until=None):
    """A long-running operation: its URL header, and what it does when it
    ends (done) or how it fails.  UNTIL: it runs until then (monotonic),
    not for two polls, and DONE happened already (a group delete)."""
    oid = uuid.uuid4().hex
    DB["ops"][oid] = {"left": 2, "done": done, "fail": fail, "loc": loc,
                      "due": time.monotonic() + RA, "until": until}
    if loc:
        return [("Location", "http://%s/subscriptions/%s/operationresults/"
                 "%s?api-version=2021-04-01" % (host, sub, oid)),
                ("Retry-After", str(RA))]
    if ns == "Microsoft.Compute" and os.environ.get("FAKE_AZURE_OP_FOREIGN"):
        host = "127.0.0.2:%d" % FOREIGN[0]
    return [("Azure-AsyncOperation", "http://%s/subscriptions/%s/providers/"
             "%s/locations/eastus/operations/%s?api-version=%s"
             % (host, sub, ns, oid, APIS.get(ns, "2021-04-01"))),
            ("Retry-After", str(RA))]


def op_get(oid):
    op = DB["ops"].get(oid)
    if not op:
        raise Bad(404, "NotFound", "no operation " + oid)
    if time.monotonic() < op["due"]:
        log("ERROR EARLY poll of %s before its Retry-After" % oid)
    op["due"] = time.monotonic() + RA
    hdr = [("Retry-After", str(RA))]
    if op["until"] is not None and time.monotonic() < op["until"]:
        return (202, None, hdr) if op["loc"] else \
            (200, {"status": "InProgress"}, hdr)
    if op["until"] is None and op["left"] > 0:
        op["left"] -= 1
        if op["loc"]:
            return 202, None, hdr
        return 200, {"status": "InProgress"}, hdr
    if "end" not in op:
        op["end"] = op["fail"] or "Succeeded"
        op["done"](op["fail"] is None)
        save()
    if op["loc"]:
        return 200, None, []
    if op["end"] == "Succeeded":
        return 200, {"status": "Succeeded"}, []
    return 200, {"status": "Failed", "error": op["end"]}, []


def page(every, q, host, path):
    """ARM pages every list: PAGE items, then a nextLink (the same query
    plus an opaque $skiptoken) until the last page, which has none."""
    tok = q.get("$skiptoken")
    if tok is not None and tok not in DB["skip"]:
        raise Bad(400, "InvalidSkipToken", "bad $skiptoken " + tok)
    at = DB["skip"].get(tok, 0) if tok else 0
    out = {"value": every[at:at + PAGE]}
    if at + PAGE < len(every):
        t = uuid.uuid4().hex
        DB["skip"][t] = at + PAGE
        nq = dict(q, **{"$skiptoken": t})
        out["nextLink"] = "http://%s%s?%s" % (host, path,
                                             urllib.parse.urlencode(nq))
    return out


def purge():
    """Groups whose delete has run its time are gone, with all they hold
    (ARM finishes a delete on its own, polled or not)."""
    now = time.monotonic()
    done = [n for n, g in DB["rgs"].items() if g.get("deleting", now) < now]
    for n in done:
        DB["rgs"].pop(n)
    if done:
        save()


def provisioned(g, key, rid):
    """ARM networking refuses a reference to a resource whose provisioning
    is still running (the azurerm provider waits on each for this)."""
    st = g["res"].get(key, {}).get("properties", {}).get(
        "provisioningState", "Succeeded")
    if st != "Succeeded":
        raise Bad(400, "ReferencedResourceNotProvisioned", "Cannot proceed "
                  "with operation because resource %s used by resource is "
                  "not in Succeeded state. Resource is in %s state."
                  % (rid, st), [{"code": "ReferencedResourceNotProvisioned",
                                 "message": "%s is %s" % (rid, st)}])


def left():
    """How many of every resource kind the fake holds: a teardown test
    wants 0 of each, not only 0 groups."""
    n = {k: 0 for k in KINDS}
    n["resourceGroups"] = len(DB["rgs"])
    for g in DB["rgs"].values():
        for key in g["res"]:
            n[key.split("/")[0]] += 1
    return n


def check_vm(body):
    check_members("virtualMachines", body)
    sec = body["properties"].get("securityProfile", {})
    if sec.get("securityType") == "TrustedLaunch":
        raise Bad(400, "InvalidParameter", "Trusted Launch blocks nesting")
    for nic in body["properties"]["networkProfile"].get(
            "networkInterfaceConfigurations", []):
        for ip in nic["properties"]["ipConfigurations"]:
            pip = ip["properties"].get("publicIPAddressConfiguration")
            if pip and pip.get("sku", {}).get("name") != "Standard":
                raise Bad(400, "BasicSkuPublicIpRetired",
                          "Basic SKU public IPs are retired")
            if "subnet" not in ip["properties"]:
                raise Bad(400, "InvalidParameter", "subnet is required")


def token(form, tenant):
    if tenant != TENANT or form.get("grant_type") != "client_credentials" \
            or form.get("client_id") != CLIENT \
            or form.get("client_secret") != SECRET:
        raise Bad(401, "invalid_client", "AADSTS7000215: Invalid client "
                  "secret provided.")
    if form.get("scope") != "https://management.azure.com/.default":
        raise Bad(400, "invalid_scope", "AADSTS70011: bad scope")
    DB["issued"] += 1
    t = "eyFake.%d.%s" % (DB["issued"], uuid.uuid4().hex)
    DB["tokens"][t] = time.time() + 3599
    save()
    return {"token_type": "Bearer", "expires_in": 3599, "access_token": t}


def rg_state(g):
    return "Deleting" if "deleting" in g else "Succeeded"


def arm(method, path, q, body, host):
    purge()
    m = re.fullmatch(r"/subscriptions/[^/]+/(?:providers/Microsoft\.\w+/"
                     r"locations/\w+/operations|operationresults)/(\w+)", path)
    if m and method == "GET":
        return op_get(m.group(1))
    m = re.fullmatch(r"/subscriptions/([^/]+)/resource[gG]roups(?:/([^/]+)"
                     r"(/providers/(Microsoft\.\w+)/(\w+)/([\w.-]+))?)?", path)
    if not m:
        raise Bad(404, "NotFound", "no such path " + path)
    sub, rg, rest, ns, kind, name = m.groups()
    api = APIS[ns] if ns else APIS["resourcegroups"]
    if q.get("api-version") != api:
        raise Bad(400, "InvalidApiVersionParameter",
                  "api-version %s, want %s" % (q.get("api-version"), api))
    if rg is None:
        f = q.get("$filter", "")
        fm = re.fullmatch(r"tagName eq '([^']+)' and tagValue eq '([^']+)'", f)
        if method != "GET" or not fm:
            raise Bad(400, "InvalidFilter", "bad $filter " + f)
        every = [{"id": "/subscriptions/%s/resourceGroups/%s" % (sub, n),
                  "name": n, "location": g["location"], "tags": g["tags"],
                  "properties": {"provisioningState": rg_state(g)}}
                 for n, g in sorted(DB["rgs"].items())
                 if g["tags"].get(fm.group(1)) == fm.group(2)]
        return 200, page(every, q, host, path), []
    if not rest:
        if method == "PUT":
            check_members("resourceGroups", body)
            if "location" not in body:
                raise Bad(400, "InvalidRequestContent", "bad group body")
            g = DB["rgs"].setdefault(rg, {"res": {}})
            g.update(location=body["location"], tags=body.get("tags", {}))
            save()
            return 201, {"name": rg, "location": body["location"],
                         "properties": {"provisioningState": "Succeeded"}}, []
        if rg not in DB["rgs"]:
            raise Bad(404, "ResourceGroupNotFound", "Resource group '%s' "
                      "could not be found." % rg)
        g = DB["rgs"][rg]
        if method == "DELETE":
            # ARM: Deleting at once, gone on its own (purge()); a second
            # DELETE of a deleting group is accepted again
            if "deleting" not in g:
                g["deleting"] = time.monotonic() + DELETE_S
                for r in g["res"].values():
                    r.setdefault("properties", {})[
                        "provisioningState"] = "Deleting"
                save()
            hdr = op_start(host, sub, "Microsoft.Resources", lambda ok: None,
                           loc=not ASYNC, until=g["deleting"])
            return 202, None, hdr
        return 200, {"name": rg, "location": g["location"],
                     "properties": {"provisioningState": rg_state(g)}}, []
    g = DB["rgs"].get(rg)
    if not g:
        raise Bad(404, "ResourceGroupNotFound", "Resource group '%s' could "
                  "not be found." % rg)
    key = kind + "/" + name
    if method == "PUT":
        check_members(kind, body)
        if kind == "virtualMachines":
            check_vm(body)
            provisioned(g, "virtualNetworks/vnet", "/subscriptions/%s/"
                        "resourceGroups/%s/providers/Microsoft.Network/"
                        "virtualNetworks/vnet" % (sub, rg))
            if os.environ.get("FAKE_AZURE_UNREGISTERED"):
                raise Bad(409, "MissingSubscriptionRegistration", "The "
                          "subscription is not registered to use namespace "
                          "'Microsoft.Compute'. See https://aka.ms/rps-not-"
                          "found for how to register subscriptions.",
                          [{"code": "MissingSubscriptionRegistration",
                            "target": "Microsoft.Compute",
                            "message": "The subscription is not registered "
                            "to use namespace 'Microsoft.Compute'."}])
            cores = sum(vcpus(r) for o in DB["rgs"].values()
                        for k, r in o["res"].items()
                        if k.startswith("virtualMachines/"))
            if cores + vcpus(body) > QUOTA:
                raise Bad(409, "OperationNotAllowed", "Operation could not "
                          "be completed as it results in exceeding approved "
                          "standardDSv3Family Cores quota. Additional details"
                          " - Deployment Model: Resource Manager, Location: "
                          "%s, Current Limit: %d, Current Usage: %d, "
                          "Additional Required: %d, (Minimum) New Limit "
                          "Required: %d." % (body["location"], QUOTA, cores,
                                             vcpus(body), cores + vcpus(body)))
            if os.environ.get("FAKE_AZURE_NO_SKU"):
                raise Bad(409, "SkuNotAvailable", "The requested size for "
                          "resource is currently not available")
            DB["n"] += 1
            n = DB["n"]
            # what ARM makes for the VM besides: its NIC, public IP and OS
            # disk, under names of ARM's own (not the configurations'),
            # found through the VM's and the NIC's ids
            net = "/subscriptions/%s/resourceGroups/%s/providers/" \
                "Microsoft.Network/" % (sub, rg)
            sfx = uuid.uuid4().hex[:6]
            g["res"]["publicIPAddresses/vm-nic-pip-" + sfx] = {
                "properties": {"ipAddress": "127.2.%d.%d" % (
                    n // 250, n % 250 + 2),
                    "publicIPAllocationMethod": "Static"}}
            g["res"]["networkInterfaces/vm-nic-" + sfx] = {"properties": {
                "ipConfigurations": [{"name": "ipconfig", "properties": {
                    "publicIPAddress": {"id": net + "publicIPAddresses/"
                                        "vm-nic-pip-" + sfx}}}]}}
            g["res"]["disks/vm_OsDisk_1_" + sfx] = {"properties": {}}
            body = dict(body, polls=0)
            body["properties"]["networkProfile"]["networkInterfaces"] = [
                {"id": net + "networkInterfaces/vm-nic-" + sfx}]
            body["properties"]["provisioningState"] = "Creating"
            fail = {"code": "OSProvisioningTimedOut", "message": "OS "
                    "Provisioning for VM 'vm' did not finish in the "
                    "allotted time."} \
                if os.environ.get("FAKE_AZURE_OP_FAIL") else None
        else:
            fail = None
        if kind == "networkSecurityGroups":
            if not body["properties"]["securityRules"]:
                raise Bad(400, "InvalidRequestContent", "no rules")
        elif kind == "virtualNetworks":
            nsg = body["properties"]["subnets"][0]["properties"][
                "networkSecurityGroup"]["id"]
            if nsg.rsplit("/", 2)[-2:] != ["networkSecurityGroups", "nsg"] \
                    or "networkSecurityGroups/nsg" not in g["res"]:
                raise Bad(400, "InvalidResourceReference", "no such NSG")
            provisioned(g, "networkSecurityGroups/nsg", nsg)
        g["res"][key] = body
        hdr = []
        if not ASYNC and kind != "virtualMachines":
            # no operation URL: provisioningState says Updating until the
            # next GET of the resource
            body["properties"]["provisioningState"] = "Updating"
        if ASYNC:
            body["properties"].setdefault("provisioningState", "Updating")

            def done(ok, b=body):
                b["properties"]["provisioningState"] = \
                    "Succeeded" if ok else "Failed"
            if kind == "virtualMachines":
                body["async"] = 1
            if kind == "virtualNetworks" and DB["vnetfail"] > 0:
                DB["vnetfail"] -= 1
                fail = {"code": "RetryableError", "message": "A retryable "
                        "error occurred.", "details": [
                            {"code": "RetryableError", "message":
                             "Operation was canceled; retry."}]}
            hdr = op_start(host, sub, ns, done, fail if kind in (
                "virtualMachines", "virtualNetworks") else None)
        save()
        return 201, {k: v for k, v in body.items()
                     if k not in ("polls", "async")}, hdr
    if key not in g["res"]:
        raise Bad(404, "ResourceNotFound", "The Resource '%s' was not found"
                  % key)
    r = g["res"][key]
    busy = r["properties"].get("provisioningState") in ("Updating",
                                                         "Creating")
    if kind in ("networkSecurityGroups", "virtualNetworks") and not ASYNC \
            and busy:
        r["properties"]["provisioningState"] = "Succeeded"
        save()
    if kind == "virtualMachines" and not r.get("async") and busy:
        r["polls"] += 1
        if r["polls"] >= 2:
            r["properties"]["provisioningState"] = "Succeeded"
        save()
    return 200, {k: v for k, v in r.items()
                 if k not in ("polls", "async")}, []


class H(fakebase.Base):

    def handle_any(self, method):
        raw = self.body().decode()
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        try:
            with LOCK:
                log("%s %s %s" % (method, self.path, raw))
                m = re.fullmatch(r"/([^/]+)/oauth2/v2.0/token", u.path)
                if m and method == "POST":
                    return self.reply(200, token(
                        dict(urllib.parse.parse_qsl(raw)), m.group(1)))
                a = self.headers.get("Authorization", "")
                if not a.startswith("Bearer "):
                    raise Bad(401, "AuthenticationFailed", "no bearer token")
                if cli_token(a[7:]):
                    DB["cli"] += 1
                elif DB["tokens"].get(a[7:], 0) < time.time():
                    raise Bad(401, "InvalidAuthenticationToken",
                              "The access token is invalid.")
                st, obj, hdr = arm(method, u.path, q, json.loads(raw) if raw
                                   else None, self.headers.get("Host"))
                return self.reply(st, obj, text="" if obj is None else None,
                                  headers=hdr)
        except Bad as e:
            log("ERROR %d %s %s" % (e.status, e.code, e.msg))
            if "/oauth2/" in u.path:
                return self.reply(e.status, {"error": e.code,
                                             "error_description": e.msg})
            err = {"code": e.code, "message": e.msg}
            if e.details:
                err["details"] = e.details
            self.reply(e.status, {"error": err})


class Foreign(fakebase.Base):
    """127.0.0.2: another host, which must never be asked anything: all
    it is sent is logged (no limit, which would answer without a log)."""

    def any(self, method):
        self.handle_any(method)

    def handle_any(self, method):
        with open(os.path.join(STATE, "foreign.log"), "a") as f:
            f.write("%s %s auth=%s\n" % (method, self.path, "Authorization"
                                         in self.headers))
        self.reply(200, {"status": "Succeeded"})


if os.environ.get("FAKE_AZURE_OP_FOREIGN"):
    srv = http.server.ThreadingHTTPServer(("127.0.0.2", 0), Foreign)
    srv.daemon_threads = True
    FOREIGN[0] = srv.server_address[1]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
# ARM throttles per subscription and principal (429 with Retry-After);
# 40 a second: twice the client's burst (providers/azure.c's .rate 5,
# .burst 20), so the client's own bucket keeps under it and a client
# bursting past it does not (the token endpoint counts too: one fake).
fakebase.serve(STATE, H, 40)
