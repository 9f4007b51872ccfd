#!/usr/bin/env python3
"""tests/servers/fake_gcp.py - a stateful fake of Google's OAuth2 token
endpoint, a GCE VM's metadata server and the Compute Engine v1 API on
127.0.0.1, standing in for GCP in tests (no real cloud is ever called).

Checked before anything is served:
  * POST /token: a jwt-bearer grant whose RS256 JWT verifies with the
    service account's public key (python3 cryptography), with the right
    iss, aud (the token_uri) and scope and a sane iat/exp; or a
    refresh_token grant with the ADC file's client id, secret and token;
  * GET /computeMetadata/v1/...: the metadata server answers only a request
    with Metadata-Flavor: Google (else 403, as the real one does) and says
    Metadata-Flavor: Google itself; it serves the VM's service-account
    token (instance/service-accounts/default/token) and
    project/project-id (proj-md, plain text);
  * compute calls: a current bearer token issued here; the path matches the
    discovery document's method path; the instances.insert body is walked
    field by field against the discovery document's Instance schema (an
    unknown field, a wrong JSON type or a bad enum is a 400); requestId
    makes inserts idempotent.
Instances go PROVISIONING -> STAGING -> RUNNING (natIP 127.1.x.y) over
GETs; DELETE removes them; aggregated/instances lists them by 2 a page.

usage: fake_gcp.py STATEDIR DISCOVERY PUBKEY.pem SA_EMAIL
env: FAKE_GCP_TTL=S   lifetime of issued tokens (default 3600)
     FAKE_GCP_MDS=M   a broken metadata server: 500 (every answer),
                      badjson, notoken (no access_token), noflavor (no
                      Metadata-Flavor in the answer), noproject (404)
     FAKE_GCP_ZONE=bare  an instance's "zone" is the bare name
                      ("us-central1-a"), not the URL the real API gives
"""
import base64, json, os, re, sys, threading, time, urllib.parse, uuid
import fakebase
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

STATE, DISC = sys.argv[1], json.load(open(sys.argv[2]))
PUB = serialization.load_pem_public_key(open(sys.argv[3], "rb").read())
EMAIL = sys.argv[4]
TTL = int(os.environ.get("FAKE_GCP_TTL", "3600"))
MDS = os.environ.get("FAKE_GCP_MDS", "")
BARE_ZONE = os.environ.get("FAKE_GCP_ZONE") == "bare"
SCHEMAS = DISC["schemas"]
LOCK = threading.Lock()
DB = {"instances": {}, "ops": {}, "req": {}, "tokens": {}, "n": 0,
      "issued": 0, "seen": {}, "pages": {}}


class Bad(Exception):
    def __init__(self, status, msg, reason="invalid"):
        super().__init__(msg)
        self.status, self.msg, self.reason = status, msg, reason


def log(line):
    fakebase.log(STATE, line)


def save():
    fakebase.save(STATE, {"instances": DB["instances"], "issued": DB["issued"],
                          "seen": DB["seen"]})


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def token_grant(form, base):
    g = form.get("grant_type")
    if g == "urn:ietf:params:oauth:grant-type:jwt-bearer":
        parts = form.get("assertion", "").split(".")
        if len(parts) != 3:
            raise Bad(400, "assertion is not a JWT", "invalid_grant")
        hdr, claims = json.loads(b64d(parts[0])), json.loads(b64d(parts[1]))
        try:
            PUB.verify(b64d(parts[2]), (parts[0] + "." + parts[1]).encode(),
                       padding.PKCS1v15(), hashes.SHA256())
        except Exception:
            raise Bad(400, "Invalid JWT Signature.", "invalid_grant")
        now = time.time()
        if hdr.get("alg") != "RS256" or hdr.get("typ") != "JWT":
            raise Bad(400, "bad JWT header", "invalid_grant")
        if claims.get("iss") != EMAIL or claims.get("aud") != base + "/token":
            raise Bad(400, "bad iss or aud", "invalid_grant")
        if "cloud-platform" not in claims.get("scope", "") and \
                "compute" not in claims.get("scope", ""):
            raise Bad(400, "no compute scope", "invalid_scope")
        if not (now - 300 <= claims["iat"] <= now + 300) or \
                not (0 < claims["exp"] - claims["iat"] <= 3600):
            raise Bad(400, "bad iat/exp", "invalid_grant")
    elif g == "refresh_token":
        if (form.get("client_id"), form.get("client_secret"),
                form.get("refresh_token")) != ("cid.apps", "csecret",
                                               "1//refresh"):
            raise Bad(400, "bad refresh token", "invalid_grant")
    else:
        raise Bad(400, "unsupported grant_type", "unsupported_grant_type")
    return issue("oauth")


def issue(kind):
    """A new access token; KIND (oauth, mds) is what compute calls count."""
    DB["issued"] += 1
    tok = "ya29.%s-%d-%s" % (kind, DB["issued"], uuid.uuid4().hex)
    DB["tokens"][tok] = time.time() + TTL
    save()
    return {"access_token": tok, "expires_in": TTL, "token_type": "Bearer"}


def metadata(h, path):
    """The metadata server's answer to GET PATH, as (status, body, ctype)."""
    if h.headers.get("Metadata-Flavor") != "Google":
        raise Bad(403, "Missing required header Metadata-Flavor: Google")
    if MDS == "500":
        raise Bad(500, "metadata server internal error")
    if path == "/computeMetadata/v1/instance/service-accounts/default/token":
        if MDS == "badjson":
            return 200, '{"access_token": "ya29.cut-sec', "application/json"
        tok = issue("mds")
        if MDS == "notoken":
            del tok["access_token"]
        return 200, json.dumps(tok), "application/json"
    if path == "/computeMetadata/v1/project/project-id" and MDS != "noproject":
        return 200, "proj-md", "application/text"
    raise Bad(404, "Not Found")


def check(value, schema, where):
    """VALUE against a discovery schema (resolving $ref), recursively."""
    if "$ref" in schema:
        schema = SCHEMAS[schema["$ref"]]
    t = schema.get("type")
    if t == "object":
        if not isinstance(value, dict):
            raise Bad(400, "%s: not an object" % where)
        props = schema.get("properties", {})
        for k, v in value.items():
            if k in props:
                check(v, props[k], where + "." + k)
            elif "additionalProperties" in schema:
                check(v, schema["additionalProperties"], where + "." + k)
            else:
                raise Bad(400, "Invalid JSON payload received. Unknown name "
                          "\"%s\" at '%s'" % (k, where))
    elif t == "array":
        if not isinstance(value, list):
            raise Bad(400, "%s: not an array" % where)
        for i, v in enumerate(value):
            check(v, schema["items"], "%s[%d]" % (where, i))
    elif t == "string":
        if not isinstance(value, str):
            raise Bad(400, "%s: not a string" % where)
        if "enum" in schema and value not in schema["enum"]:
            raise Bad(400, "%s: %s not in the enum" % (where, value))
        if schema.get("format") == "int64" and not re.fullmatch(r"-?\d+",
                                                                value):
            raise Bad(400, "%s: not an int64 string" % where)
    elif t == "boolean":
        if not isinstance(value, bool):
            raise Bad(400, "%s: not a boolean" % where)
    elif t == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            raise Bad(400, "%s: not an integer" % where)


def insert(project, zone, body, rid):
    check(body, {"$ref": "Instance"}, "instance")
    for need in ("name", "machineType", "disks", "networkInterfaces"):
        if need not in body:
            raise Bad(400, "Required field '%s' not specified" % need)
    if not re.fullmatch(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?", body["name"]):
        raise Bad(400, "Invalid value for field 'resource.name'")
    for k, v in body.get("labels", {}).items():
        if not re.fullmatch(r"[a-z][a-z0-9_-]{0,62}", k) or \
                not re.fullmatch(r"[a-z0-9_-]{0,63}", v):
            raise Bad(400, "Invalid label %s=%s" % (k, v))
    if rid in DB["req"]:
        return DB["ops"][DB["req"][rid]]
    if body["name"] in DB["instances"]:
        raise Bad(409, "The resource '%s' already exists" % body["name"],
                  "alreadyExists")
    DB["n"] += 1
    n = DB["n"]
    inst = dict(body, id=str(1000 + n), status="PROVISIONING",
                zone=zone if BARE_ZONE else
                "https://www.googleapis.com/compute/v1/projects/%s/"
                "zones/%s" % (project, zone),
                creationTimestamp=time.strftime("%Y-%m-%dT%H:%M:%S.000-00:00",
                                                time.gmtime()), polls=0)
    inst["networkInterfaces"] = json.loads(json.dumps(body["networkInterfaces"]))
    DB["instances"][body["name"]] = inst
    op = {"kind": "compute#operation", "name": "operation-%d" % n,
          "status": "RUNNING", "operationType": "insert",
          "targetId": inst["id"], "zone": inst["zone"]}
    DB["ops"][op["name"]] = op
    DB["req"][rid] = op["name"]
    save()
    return op


def view(inst):
    inst["polls"] += 1
    if inst["status"] == "PROVISIONING" and inst["polls"] >= 1:
        inst["status"] = "STAGING"
    elif inst["status"] == "STAGING":
        inst["status"] = "RUNNING"
        n = int(inst["id"]) - 1000
        inst["networkInterfaces"][0]["accessConfigs"][0]["natIP"] = \
            "127.1.%d.%d" % (n // 250, n % 250 + 2)
    save()
    return {k: v for k, v in inst.items() if k != "polls"}


def matches(inst, flt):
    for term in flt.split(" AND "):
        m = re.fullmatch(r"labels\.([a-z0-9_-]+)\s*=\s*\"?([a-z0-9_-]*)\"?",
                         term.strip())
        if not m:
            raise Bad(400, "Invalid list filter expression '%s'" % flt)
        if inst.get("labels", {}).get(m.group(1)) != m.group(2):
            return False
    return True


def zone_of(inst):
    return "zones/" + inst["zone"].rsplit("/", 1)[-1]


def aggregated(proj, q):
    """One page of aggregated/instances: at most maxResults (0 to 500,
    500 by default) instances, and at most fakebase.PAGE_MAX (2) here
    whatever it says, so a client reading one page alone is caught; every
    zone is a key, one with none on this page only a NO_RESULTS_ON_PAGE
    warning (as libcloud's recorded answer has it). A nextPageToken is
    good for the query that got it only and names the last instance
    shown, so one deleted between two pages moves no other off them."""
    mr = q.get("maxResults", "500")
    if not re.fullmatch(r"\d+", mr) or int(mr) > 500:
        raise Bad(400, "Invalid value for field 'maxResults': '%s'. Must be "
                  "between 0 and 500" % mr)
    per = fakebase.page_size(int(mr) or 500, 500)
    query = json.dumps({k: v for k, v in q.items()
                        if k not in ("maxResults", "pageToken")},
                       sort_keys=True)
    listed = sorted((i for i in DB["instances"].values()
                     if matches(i, q.get("filter", ""))),
                    key=lambda i: int(i["id"]))
    start = 0
    if "pageToken" in q:
        was, after = DB["pages"].get(q["pageToken"], (None, None))
        if was != query:
            raise Bad(400, "Invalid value for field 'pageToken': '%s'"
                      % q["pageToken"])
        start = next((n for n, i in enumerate(listed)
                      if int(i["id"]) > after), len(listed))
    shown = listed[start:start + per]
    zones = {"zones/us-central1-a", "zones/us-central1-b",
             "zones/europe-west1-b"} | {zone_of(i) for i in listed}
    items = {z: {"warning": {"code": "NO_RESULTS_ON_PAGE", "data": [
        {"key": "scope", "value": z}], "message": "There are no results for "
        "scope '%s' on this page." % z}} for z in sorted(zones)}
    for i in shown:
        items[zone_of(i)].pop("warning", None)
        items[zone_of(i)].setdefault("instances", []).append(view(i))
    out = {"kind": "compute#instanceAggregatedList",
           "id": "projects/%s/aggregated/instances" % proj, "items": items}
    if start + per < len(listed):
        tok = uuid.uuid4().hex
        DB["pages"][tok] = (query, int(shown[-1]["id"]))
        out["nextPageToken"] = tok
    return out


class H(fakebase.Base):

    def end_headers(self):
        if self.path.startswith("/computeMetadata/") and MDS != "noflavor":
            self.send_header("Metadata-Flavor", "Google")
        super().end_headers()

    def auth(self):
        a = self.headers.get("Authorization", "")
        exp = DB["tokens"].get(a[7:]) if a.startswith("Bearer ") else None
        if exp is None or exp < time.time():
            raise Bad(401, "Request had invalid authentication credentials.",
                      "authError")
        kind = a[7:].split(".", 1)[1].split("-", 1)[0]
        DB["seen"][kind] = DB["seen"].get(kind, 0) + 1

    def handle_any(self, method):
        body = self.body().decode()
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        base = "http://%s" % self.headers.get("Host")
        try:
            with LOCK:
                log("%s %s %s" % (method, self.path, body))
                if u.path == "/token" and method == "POST":
                    return self.reply(200, token_grant(
                        dict(urllib.parse.parse_qsl(body)), base))
                if u.path.startswith("/computeMetadata/") and method == "GET":
                    st, text, ctype = metadata(self, u.path)
                    return self.reply(st, text=text, ctype=ctype)
                self.auth()
                m = re.fullmatch(r"/compute/v1/projects/([^/]+)/(.*)", u.path)
                if not m:
                    raise Bad(404, "no such path")
                proj, rest = m.groups()
                if rest == "aggregated/instances" and method == "GET":
                    return self.reply(200, aggregated(proj, q))
                m = re.fullmatch(r"zones/([a-z0-9-]+)/instances(?:/([^/]+))?",
                                 rest)
                if m and method == "POST" and not m.group(2):
                    if not re.fullmatch(r"[0-9a-f-]{36}", q.get("requestId",
                                                                 "")):
                        raise Bad(400, "requestId must be a UUID")
                    return self.reply(200, insert(proj, m.group(1),
                                                  json.loads(body),
                                                  q["requestId"]))
                if m and m.group(2):
                    inst = DB["instances"].get(m.group(2))
                    if not inst:
                        raise Bad(404, "The resource '%s' was not found"
                                  % m.group(2), "notFound")
                    if method == "GET":
                        return self.reply(200, view(inst))
                    if method == "DELETE":
                        del DB["instances"][m.group(2)]
                        save()
                        return self.reply(200, {"kind": "compute#operation",
                                                "name": "operation-del",
                                                "status": "RUNNING"})
                m = re.fullmatch(r"zones/[a-z0-9-]+/operations/([^/]+)", rest)
                if m and method == "GET" and m.group(1) in DB["ops"]:
                    return self.reply(200, DB["ops"][m.group(1)])
                raise Bad(404, "no such resource")
        except Bad as e:
            log("ERROR %d %s" % (e.status, e.msg))
            if u.path == "/token":
                return self.reply(e.status, {"error": e.reason,
                                             "error_description": e.msg})
            if u.path.startswith("/computeMetadata/"):
                return self.reply(e.status, text=e.msg + "\n",
                                  ctype="text/plain; charset=utf-8")
            self.reply(e.status, {"error": {"code": e.status, "message": e.msg,
                                            "errors": [{"reason": e.reason,
                                                        "message": e.msg}]}})






# Compute Engine's rate quotas are per minute (and per project and
# region); a burst is refused 429 rateLimitExceeded. 40 a second: twice
# the client's burst (providers/gcp.c's .rate 10, .burst 20), so the
# client's own bucket keeps under it and a client bursting past it does
# not (the token and metadata endpoints count too, as they are the same
# fake here).
fakebase.serve(STATE, H, 40)
