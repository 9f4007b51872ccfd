#!/usr/bin/env python3
"""tests/servers/fake_aws.py - a stateful fake of the EC2 Query API on
127.0.0.1, standing in for AWS in tests (no real cloud is ever called).

Every request is checked before it is served:
  * its SigV4 signature, recomputed here with hmac/hashlib from the
    request as received (an independent implementation of the algorithm);
  * its form parameters against the botocore EC2 model (service-2.json):
    the Action exists, every parameter resolves to a member of the input
    shape by its serialized name (Name.N lists, Outer.N.Inner), enums and
    integers are valid, required members are present.  One member newer
    than the saved model is added on load (patch_model: nested
    virtualization), and refused on types that cannot nest.
A bad request gets EC2's XML error (and is logged), so the client under
test fails loudly.  State: images, security groups, subnets, instances
(pending -> running with a 127.x address after a few describes ->
terminated; "nested" is their CpuOptions.NestedVirtualization); a listing
of instances is paged by 2 (page_of).  GET / answers the caller's address
(checkip).  DescribeSecurityGroups and DescribeSubnets are not paged:
the client asks for one group by name and one subnet by id, which any
page holds; DescribeImages is not paged in this model.

usage: fake_aws.py STATEDIR MODEL   (writes STATEDIR/port, requests.log)
env: FAKE_AWS_NOTFOUND=N  the first N DescribeInstances of a new instance
     by its id answer InvalidInstanceID.NotFound (eventual consistency),
     and a filtered listing leaves it out until then.
     FAKE_AWS_RUN_FAULTS=F,F...  consumed in order by RunInstances calls:
     500 (InternalError, nothing done), 503 (RequestLimitExceeded),
     lost (the instance is made, the answer dropped), junk (the
     instance is made, the answer is not XML).
"""
import fakebase, hashlib, hmac, json, os, re, sys, threading, time
import urllib.parse, uuid

KEY_ID, SECRET = "AKIDFAKEMVM", "fake/secret+KEY"
NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
STATE, MODEL = sys.argv[1], json.load(open(sys.argv[2]))
SHAPES, OPS = MODEL["shapes"], MODEL["operations"]
LOCK = threading.Lock()
NOTFOUND = int(os.environ.get("FAKE_AWS_NOTFOUND", "0"))
RUN_FAULTS = [f for f in os.environ.get("FAKE_AWS_RUN_FAULTS", "").split(",")
              if f]
DB = {"instances": {}, "tokens": {}, "sgs": {}, "n": 0, "pages": {}}
IMAGES = [  # two Canonical 24.04 builds and a decoy of another owner
    ("ami-0old2404", "099720109477", "2024-04-01T00:00:00.000Z",
     "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20240401"),
    ("ami-0new2404", "099720109477", "2025-06-10T00:00:00.000Z",
     "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250610"),
    ("ami-0decoy", "123456789012", "2026-01-01T00:00:00.000Z",
     "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-29990101"),
]
SUBNETS = {"subnet-0fake": "vpc-0fake"}
NESTING = ("c8i", "m8i", "r8i", "c8i-flex", "m8i-flex", "r8i-flex")


def patch_model():
    """The saved model is an older snapshot of the 2016-11-15 API: its
    CpuOptionsRequest has only CoreCount and ThreadsPerCore and its
    InstanceType enum stops before the 8th-generation Intel types.  EC2
    has since added nested virtualization (EC2 API reference,
    CpuOptionsRequest: NestedVirtualization, "Type: String, Valid Values:
    enabled | disabled", "supported only on 8th generation Intel-based
    instance types (c8i, m8i, r8i, and their flex variants)").  Add what
    botocore's model has for that today (boto/botocore 0e6e2404, 2026-08:
    shape NestedVirtualizationSpecification; the types below), and nothing
    else: any other parameter or type the saved model lacks still fails."""
    cpu = SHAPES["CpuOptionsRequest"]["members"]
    if "NestedVirtualization" in cpu:   # a newer model: use it as it is
        return
    SHAPES["NestedVirtualizationSpecification"] = {
        "type": "string", "enum": ["enabled", "disabled"]}
    cpu["NestedVirtualization"] = {
        "shape": "NestedVirtualizationSpecification"}
    sizes = ["large", "xlarge"] + ["%dxlarge" % n for n in (2, 4, 8, 12, 16)]
    big = ["%dxlarge" % n for n in (24, 32, 48, 96)] + \
        ["metal-48xl", "metal-96xl"]
    SHAPES["InstanceType"]["enum"] += [
        "%s.%s" % (f, z) for f in NESTING
        for z in sizes + ([] if f.endswith("-flex") else big)]


patch_model()


def log(line):
    fakebase.log(STATE, line)


class Bad(Exception):
    def __init__(self, code, msg, status=400):
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status


# --- SigV4, checked independently --------------------------------------
def enc(s):
    return urllib.parse.quote(s, safe="-_.~")


def hm(k, m):
    return hmac.new(k, m.encode(), hashlib.sha256).digest()


def check_sig(method, path, query, headers, body):
    auth = headers.get("Authorization", "")
    m = re.fullmatch(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/"
                     r"ec2/aws4_request, SignedHeaders=([a-z0-9;-]+), "
                     r"Signature=([0-9a-f]{64})", auth)
    if not m:
        raise Bad("AuthFailure", "no valid SigV4 Authorization header", 401)
    akid, date, region, signed, sig = m.groups()
    if akid != KEY_ID:
        raise Bad("AuthFailure", "unknown access key", 401)
    amz = headers.get("X-Amz-Date", "")
    if not amz.startswith(date):
        raise Bad("AuthFailure", "X-Amz-Date does not match the scope", 401)
    t = time.mktime(time.strptime(amz, "%Y%m%dT%H%M%SZ")) - time.timezone
    if abs(t - time.time()) > 300:
        raise Bad("RequestExpired", "request time too skewed", 400)
    names = signed.split(";")
    for need in ("host", "x-amz-date", "content-type"):
        if need not in names:
            raise Bad("AuthFailure", need + " is not signed", 401)
    if os.environ.get("FAKE_AWS_TOKEN") and "x-amz-security-token" not in names:
        raise Bad("AuthFailure", "session token not signed", 401)
    chdr = "".join("%s:%s\n" % (n, " ".join(headers.get(n, "").split()))
                   for n in names)
    q = sorted((enc(k), enc(v)) for k, v in
               urllib.parse.parse_qsl(query, keep_blank_values=True))
    creq = "\n".join([method, enc(path).replace("%2F", "/"),
                      "&".join("%s=%s" % kv for kv in q), chdr, signed,
                      hashlib.sha256(body).hexdigest()])
    sts = "\n".join(["AWS4-HMAC-SHA256", amz,
                     "%s/%s/ec2/aws4_request" % (date, region),
                     hashlib.sha256(creq.encode()).hexdigest()])
    k = hm(hm(hm(hm(("AWS4" + SECRET).encode(), date), region), "ec2"),
           "aws4_request")
    want = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, sig):
        raise Bad("SignatureDoesNotMatch", "signature does not match", 403)
    return region


# --- the botocore model ------------------------------------------------
def wire_name(name, member):
    if "queryName" in member:
        return member["queryName"]
    if "locationName" in member:
        return member["locationName"][0].upper() + member["locationName"][1:]
    return name[0].upper() + name[1:]


def resolve(shape_name, parts, key):
    """Walk KEY's dotted parts through the model; the leaf's value shape."""
    shape = SHAPES[shape_name]
    if not parts:
        if shape["type"] in ("structure", "list"):
            raise Bad("InvalidParameterValue", key + ": not a scalar")
        return shape
    if shape["type"] == "list":
        if not parts[0].isdigit() or int(parts[0]) < 1:
            raise Bad("InvalidParameterValue", key + ": bad list index")
        return resolve(shape["member"]["shape"], parts[1:], key)
    if shape["type"] == "structure":
        for n, m in shape["members"].items():
            if wire_name(n, m) == parts[0]:
                return resolve(m["shape"], parts[1:], key)
    raise Bad("UnknownParameter", "The parameter %s is not recognized" % key)


def check_params(p):
    action = p.pop("Action", None)
    if p.pop("Version", None) != "2016-11-15":
        raise Bad("MissingParameter", "Version 2016-11-15 required")
    if action not in OPS:
        raise Bad("InvalidAction", "no action %s" % action)
    inp = OPS[action]["input"]["shape"]
    for k, v in p.items():
        leaf = resolve(inp, k.split("."), k)
        if "enum" in leaf and v not in leaf["enum"]:
            raise Bad("InvalidParameterValue", "%s=%s not in the enum" % (k, v))
        if leaf["type"] == "integer" and not re.fullmatch(r"-?\d+", v):
            raise Bad("InvalidParameterValue", "%s: not an integer" % k)
        if leaf["type"] == "boolean" and v not in ("true", "false"):
            raise Bad("InvalidParameterValue", "%s: not a boolean" % k)
    shape = SHAPES[inp]
    for req in shape.get("required", []):
        w = wire_name(req, shape["members"][req])
        if not any(k == w or k.startswith(w + ".") for k in p):
            raise Bad("MissingParameter", "%s is required" % w)
    return action


# --- the API -------------------------------------------------------------
def lst(p, prefix):
    out, i = [], 1
    while "%s.%d" % (prefix, i) in p:
        out.append(p["%s.%d" % (prefix, i)])
        i += 1
    return out


def filters(p):
    f, i = {}, 1
    while "Filter.%d.Name" % i in p:
        f[p["Filter.%d.Name" % i]] = lst(p, "Filter.%d.Value" % i)
        i += 1
    return f


def match(f, attrs):
    for name, vals in f.items():
        have = attrs.get(name)
        if have is None or not any(re.fullmatch(re.escape(v).replace(
                r"\*", ".*"), have) for v in vals):
            return False
    return True


def item_xml(i):
    tags = "".join("<item><key>%s</key><value>%s</value></item>" % kv
                   for kv in i["tags"].items())
    ip = "<ipAddress>%s</ipAddress>" % i["ip"] if i["ip"] else ""
    return ("<item><instanceId>%s</instanceId><imageId>%s</imageId>"
            "<instanceState><code>0</code><name>%s</name></instanceState>"
            "<instanceType>%s</instanceType><launchTime>%s</launchTime>%s"
            "<tagSet>%s</tagSet></item>" % (i["id"], i["image"], i["state"],
                                             i["type"], i["launch"], ip, tags))


def advance(i):
    if i["state"] == "pending":
        i["polls"] += 1
        if i["polls"] >= 2:
            i["state"], i["ip"] = "running", i["addr"]
    elif i["state"] == "shutting-down":
        i["state"] = "terminated"


def run_instances(p):
    tok = p.get("ClientToken")
    if tok in DB["tokens"]:
        return "<instancesSet>%s</instancesSet>" % item_xml(
            DB["instances"][DB["tokens"][tok]])
    if p.get("MinCount") != "1" or p.get("MaxCount") != "1":
        raise Bad("InvalidParameterValue", "one at a time, please")
    if p["ImageId"] not in [im[0] for im in IMAGES]:
        raise Bad("InvalidAMIID.NotFound", "no image " + p["ImageId"])
    for sg in lst(p, "SecurityGroupId"):
        if sg not in [g["id"] for g in DB["sgs"].values()]:
            raise Bad("InvalidGroup.NotFound", "no group " + sg)
    nested = p.get("CpuOptions.NestedVirtualization")
    # The reference names no error code for a type that cannot nest.
    if nested == "enabled" and \
            p["InstanceType"].split(".")[0] not in NESTING:
        raise Bad("Unsupported", "nested virtualization is not supported "
                  "on " + p["InstanceType"])
    DB["n"] += 1
    n = DB["n"]
    tags = {}
    t = 1
    while "TagSpecification.1.Tag.%d.Key" % t in p:
        tags[p["TagSpecification.1.Tag.%d.Key" % t]] = \
            p["TagSpecification.1.Tag.%d.Value" % t]
        t += 1
    inst = {"id": "i-%017x" % (0xf00 + n), "image": p["ImageId"],
            "state": "pending", "type": p["InstanceType"], "tags": tags,
            "launch": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "ip": "", "addr": "127.0.%d.%d" % (n // 250, n % 250 + 2),
            "polls": 0, "hidden": NOTFOUND, "nested": nested, "params": p,
            "n": n}
    DB["instances"][inst["id"]] = inst
    if tok:
        DB["tokens"][tok] = inst["id"]
    save()
    return "<instancesSet>%s</instancesSet>" % item_xml(inst)


def page_of(p, listed):
    """The page of LISTED (instances, in launch order) that MaxResults and
    NextToken ask for, and the next page's token ("" at the end). EC2
    pages a listing by MaxResults (5 to 1000; without it, all of them):
    here by at most fakebase.PAGE_MAX (2) whatever it says, so a client
    reading the first page alone is caught. A token is opaque, good for
    the query that got it only; it names the last instance shown, so one
    terminated between two pages moves no other off them."""
    mr = p.get("MaxResults")
    if mr is not None and not 5 <= int(mr) <= 1000:
        raise Bad("InvalidParameterValue", "Value (%s) for parameter "
                  "maxResults is invalid. Expecting a value between 5 and "
                  "1000." % mr)
    per = fakebase.page_size(int(mr or 1000), 1000)
    query = json.dumps({k: v for k, v in p.items()
                        if k not in ("MaxResults", "NextToken")},
                       sort_keys=True)
    start = 0
    tok = p.get("NextToken")
    if tok is not None:
        q, after = DB["pages"].get(tok, (None, None))
        if q != query:
            raise Bad("InvalidPaginationToken", "The pagination token "
                      "'%s' is not valid for this request" % tok)
        start = next((n for n, i in enumerate(listed) if i["n"] > after),
                     len(listed))
    shown = listed[start:start + per]
    nxt = ""
    if start + per < len(listed):
        nxt = uuid.uuid4().hex
        DB["pages"][nxt] = (query, shown[-1]["n"])
    return shown, nxt


def describe_instances(p):
    ids, f = lst(p, "InstanceId"), filters(p)
    if ids and ("MaxResults" in p or "NextToken" in p):
        raise Bad("InvalidParameterCombination", "The parameter "
                  "instancesSet cannot be used with the parameter maxResults")
    out = []
    for i in DB["instances"].values():
        if ids and i["id"] not in ids:
            continue
        if ids and i["hidden"] > 0:
            i["hidden"] -= 1
            raise Bad("InvalidInstanceID.NotFound",
                      "The instance ID '%s' does not exist" % i["id"])
        if i["hidden"] > 0:
            continue        # not visible yet to a filtered listing either
        attrs = {"instance-state-name": i["state"]}
        attrs.update({"tag:" + k: v for k, v in i["tags"].items()})
        if match(f, attrs):
            out.append(i)
    for x in ids:
        if x not in DB["instances"]:
            raise Bad("InvalidInstanceID.NotFound",
                      "The instance ID '%s' does not exist" % x)
    nxt = ""
    if not ids:
        out, nxt = page_of(p, out)
    for i in out:
        if ids or i["state"] == "pending":
            advance(i)      # looked at: by id, or a listing showing it
    save()
    return ("<reservationSet><item><reservationId>r-1</reservationId>"
            "<instancesSet>%s</instancesSet></item></reservationSet>%s"
            % ("".join(item_xml(i) for i in out),
               "<nextToken>%s</nextToken>" % nxt if nxt else ""))


def terminate(p):
    out = []
    for x in lst(p, "InstanceId"):
        i = DB["instances"].get(x)
        if not i:
            raise Bad("InvalidInstanceID.NotFound", "no instance " + x)
        if i["state"] != "terminated":
            i["state"] = "shutting-down"
        out.append("<item><instanceId>%s</instanceId><currentState><name>"
                   "%s</name></currentState></item>" % (x, i["state"]))
    save()
    return "<instancesSet>%s</instancesSet>" % "".join(out)


def describe_images(p):
    owners, f = lst(p, "Owner"), filters(p)
    out = "".join(
        "<item><imageId>%s</imageId><imageOwnerId>%s</imageOwnerId>"
        "<creationDate>%s</creationDate><name>%s</name>"
        "<rootDeviceName>/dev/sda1</rootDeviceName></item>" % im
        for im in IMAGES if (not owners or im[1] in owners) and match(
            f, {"name": im[3], "state": "available",
                "architecture": "x86_64"}))
    return "<imagesSet>%s</imagesSet>" % out


def security_groups(action, p):
    if action == "CreateSecurityGroup":
        key = (p["GroupName"], p.get("VpcId", "vpc-default"))
        if key in DB["sgs"]:
            raise Bad("InvalidGroup.Duplicate", "group exists")
        DB["sgs"][key] = {"id": "sg-%08x" % (len(DB["sgs"]) + 1),
                          "rules": []}
        save()
        return "<return>true</return><groupId>%s</groupId>" % \
            DB["sgs"][key]["id"]
    if action == "AuthorizeSecurityGroupIngress":
        for g in DB["sgs"].values():
            if g["id"] == p["GroupId"]:
                g["rules"].append({k: v for k, v in p.items()
                                   if k.startswith("IpPermissions")})
                save()
                return "<return>true</return>"
        raise Bad("InvalidGroup.NotFound", "no group " + p["GroupId"])
    f = filters(p)
    out = "".join("<item><groupId>%s</groupId><groupName>%s</groupName>"
                  "<vpcId>%s</vpcId></item>" % (g["id"], k[0], k[1])
                  for k, g in DB["sgs"].items()
                  if match(f, {"group-name": k[0], "vpc-id": k[1]}))
    return "<securityGroupInfo>%s</securityGroupInfo>" % out


def describe_subnets(p):
    out = "".join("<item><subnetId>%s</subnetId><vpcId>%s</vpcId></item>"
                  % (s, SUBNETS[s]) for s in lst(p, "SubnetId")
                  if s in SUBNETS)
    return "<subnetSet>%s</subnetSet>" % out


def save():
    fakebase.save(STATE, {"instances": DB["instances"], "sgs": [
        dict(g, name=k[0], vpc=k[1]) for k, g in DB["sgs"].items()]})


def serve(action, p):
    if action == "RunInstances":
        return run_instances(p)
    if action == "DescribeInstances":
        return describe_instances(p)
    if action == "TerminateInstances":
        return terminate(p)
    if action == "DescribeImages":
        return describe_images(p)
    if action == "DescribeSubnets":
        return describe_subnets(p)
    if action in ("CreateSecurityGroup", "AuthorizeSecurityGroupIngress",
                  "DescribeSecurityGroups"):
        return security_groups(action, p)
    raise Bad("UnsupportedOperation", "the fake does not serve " + action)


class H(fakebase.Base):
    def refusal(self, status):
        """EC2 throttles with RequestLimitExceeded (503), as XML."""
        return ("<Response><Errors><Error><Code>RequestLimitExceeded</Code>"
                "<Message>Request limit exceeded.</Message></Error></Errors>"
                "<RequestID>1</RequestID></Response>",
                "text/xml;charset=UTF-8")

    def xml(self, status, text):
        self.reply(status, text=text, ctype="text/xml;charset=UTF-8")

    def handle_any(self, method):
        body = self.body()
        if method == "GET":     # checkip
            return self.reply(200, text="127.0.0.1\n", ctype="text/plain")
        u = urllib.parse.urlsplit(self.path)
        action = "?"
        try:
            ct = self.headers.get("Content-Type", "")
            if not ct.startswith("application/x-www-form-urlencoded"):
                raise Bad("InvalidParameterValue", "bad Content-Type " + ct)
            region = check_sig("POST", u.path, u.query, self.headers, body)
            p = dict(urllib.parse.parse_qsl(body.decode(),
                                            keep_blank_values=True))
            with LOCK:
                action = check_params(dict(p))
                p.pop("Action")
                p.pop("Version")
                log("%s %s %s" % (region, action, json.dumps(p, sort_keys=True)))
                fault = RUN_FAULTS.pop(0) if action == "RunInstances" and \
                    RUN_FAULTS else None
                if fault == "500":
                    raise Bad("InternalError", "injected failure", 500)
                if fault == "503":
                    raise Bad("RequestLimitExceeded", "Request limit "
                              "exceeded.", 503)
                inner = serve(action, p)
            if fault == "junk":
                log("FAULT junk answer")
                return self.reply(200, text="<html>upstream reset", ctype="text/xml")
            if fault == "lost":
                log("FAULT lost answer")
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.xml(200, '<%sResponse xmlns="%s"><requestId>%s</requestId>'
                       '%s</%sResponse>' % (action, NS, uuid.uuid4(), inner,
                                            action))
        except Bad as e:
            log("ERROR %s %s %s" % (action, e.code, e.msg))
            self.xml(e.status, "<Response><Errors><Error><Code>%s</Code>"
                       "<Message>%s</Message></Error></Errors><RequestID>1"
                       "</RequestID></Response>" % (e.code, e.msg))


save()                  # db.json from the start: a test can count zero
# EC2 throttles per account and action (its request-token buckets) with
# 503 RequestLimitExceeded. 40 a second: twice the client's burst
# (providers/aws.c's .rate 5, .burst 20), so the client's own bucket keeps
# under it in every test and a client bursting past its bucket does not.
fakebase.serve(STATE, H, 40, 503)
