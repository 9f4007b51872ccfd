#!/usr/bin/env python3
"""tests/servers/fake_ovh.py - a stateful fake of the OVHcloud /1.0 API's
Public Cloud instances on 127.0.0.1, standing in for OVH in tests (no real
cloud is ever called).

GET /1.0/auth/time answers the fake's clock, which runs OFFSET seconds
off the real one, so a client that does not apply the offset fails.  Every
other call must carry X-Ovh-Application, X-Ovh-Consumer, X-Ovh-Timestamp
(within 30 s of the fake's clock) and X-Ovh-Signature, recomputed here with
hashlib as "$1$" + sha1(AS+CK+METHOD+URL+BODY+TS).  Flavors and images come
from libcloud's OVH fixtures' shapes and the /cloud schema's members
(flavor osType, image type and flavorType; the image list's osType
filter), in each of the project's regions (FAKE_OVH_REGIONS); a create in
another region, or with an image its flavor does not boot, is a 400.
Instances go BUILD -> ACTIVE with a
public IPv4 127.3.x.y over GETs; DELETE answers null.  No list is paged
here, as the API pages none of these: GET /cloud/project/{p}/instance
(and region, flavor, image) answers the whole array at once, so there is
no page of 2 to serve (as the other fakes do) without inventing one.

usage: fake_ovh.py STATEDIR AK AS CK PROJECT OFFSET
"""
import fakebase, hashlib, hmac, json, os, re, sys, threading, time
import urllib.parse, uuid

STATE, AK, AS, CK, PROJECT = sys.argv[1:6]
OFFSET = int(sys.argv[6])
LOCK = threading.Lock()
DB = {"instances": {}, "n": 0}
# The project's regions (GET .../region): FAKE_OVH_REGIONS, as an ovh-eu,
# ovh-ca or ovh-us account has its own. Flavors and images as the /cloud
# schema has them: a flavor's osType says what its images must be
# (a metal flavor's is baremetal-linux: VM images do not boot on it), an
# image's type is its osType, its flavorType (if set) the only flavor type
# it is for.
REGIONS = os.environ.get("FAKE_OVH_REGIONS", "GRA7,SBG5,BHS5").split(",")
OSTYPES = ("baremetal-linux", "bsd", "linux", "windows")
FLAVORS = [dict(f, id="%s-%s" % (f["id"], r), region=r) for r in REGIONS
           for f in (
    {"id": "fl-bm-s1", "name": "bm-s1", "vcpus": 8, "ram": 32768,
     "disk": 500, "type": "bm-s1", "osType": "baremetal-linux"},
    {"id": "fl-b3-8", "name": "b3-8", "vcpus": 2, "ram": 8192, "disk": 50,
     "type": "ovh.ssd.eg", "osType": "linux"})]
IMAGES = [dict(i, id="%s-%s" % (i["id"], r), region=r) for r in REGIONS
          for i in (
    {"id": "im-2404", "name": "Ubuntu 24.04", "visibility": "public",
     "type": "linux"},
    {"id": "im-bm-2404", "name": "Ubuntu 24.04", "visibility": "public",
     "type": "baremetal-linux", "flavorType": "bm-s1"},
    {"id": "im-deb", "name": "Debian 12", "visibility": "public",
     "type": "linux"})]


class Bad(Exception):
    def __init__(self, status, msg, cls="Client::BadRequest"):
        super().__init__(msg)
        self.status, self.msg, self.cls = status, msg, cls


def log(line):
    fakebase.log(STATE, line)


def save():
    fakebase.save(STATE, DB)


def now():
    return int(time.time()) + OFFSET


def check_sig(h, method, url, body):
    if h.get("X-Ovh-Application") != AK:
        raise Bad(403, "Invalid application key", "Client::Forbidden")
    if h.get("X-Ovh-Consumer") != CK:
        raise Bad(403, "Invalid credential", "Client::Forbidden")
    ts = h.get("X-Ovh-Timestamp", "")
    if not ts.isdigit() or abs(int(ts) - now()) > 30:
        raise Bad(400, "Query out of time", "Client::BadRequest::QueryTime")
    want = "$1$" + hashlib.sha1("+".join(
        [AS, CK, method, url, body, ts]).encode()).hexdigest()
    if not hmac.compare_digest(want, h.get("X-Ovh-Signature", "")):
        raise Bad(400, "Invalid signature",
                  "Client::BadRequest::InvalidSignature")


def view(i):
    return {k: v for k, v in i.items() if k != "polls"}


def advance(i):
    """Looked at (a GET of it, or the list showing it): a BUILD instance
    goes ACTIVE the second time, with its addresses."""
    i["polls"] += 1
    if i["polls"] >= 2 and i["status"] == "BUILD":
        i["status"] = "ACTIVE"
        i["ipAddresses"] = [
            {"ip": "10.0.0.5", "type": "private", "version": 4},
            {"ip": "2001:db8::5", "type": "public", "version": 6},
            {"ip": i["ip"], "type": "public", "version": 4}]


class H(fakebase.Base):

    def handle_any(self, method):
        body = self.body().decode()
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        url = "http://%s%s" % (self.headers.get("Host"), self.path)
        try:
            with LOCK:
                log("%s %s %s" % (method, self.path, body))
                if u.path == "/1.0/auth/time" and method == "GET":
                    return self.reply(200, now())
                check_sig(self.headers, method, url, body)
                m = re.fullmatch(r"/1.0/cloud/project/([^/]+)/(\w+)(?:/([^/]+))?",
                                 u.path)
                if not m or m.group(1) != PROJECT:
                    raise Bad(404, "This service does not exist",
                              "Client::NotFound")
                what, ident = m.group(2), m.group(3)
                if what == "region" and method == "GET" and not ident:
                    return self.reply(200, REGIONS)
                if what in ("flavor", "image") and method == "GET":
                    rows = FLAVORS if what == "flavor" else IMAGES
                    os_ = q.get("osType")
                    if what == "image" and os_ is not None and \
                            os_ not in OSTYPES:
                        raise Bad(400, "Invalid value for osType: %s" % os_)
                    return self.reply(200, [r for r in rows if r["region"] ==
                                            q.get("region", r["region"]) and
                                            (what == "flavor" or r["type"] ==
                                             q.get("osType", r["type"]))])
                if what == "instance" and method == "POST" and not ident:
                    b = json.loads(body)
                    for k in ("name", "flavorId", "region"):
                        if k not in b:
                            raise Bad(400, "Missing parameter %s" % k)
                    extra = set(b) - {"name", "flavorId", "imageId", "region",
                                      "userData", "monthlyBilling", "sshKeyId",
                                      "networks", "groupId", "volumeId",
                                      "autobackup"}
                    if extra:
                        raise Bad(400, "Unknown parameter %s" % sorted(extra))
                    if b["region"] not in REGIONS:
                        raise Bad(400, "Invalid region %s" % b["region"])
                    fl = [f for f in FLAVORS if f["id"] == b["flavorId"]]
                    im = [i for i in IMAGES if i["id"] == b.get("imageId")]
                    if not fl or not im or fl[0]["region"] != b["region"] \
                            or im[0]["region"] != b["region"]:
                        raise Bad(400, "unknown flavor or image")
                    if im[0]["type"] != fl[0]["osType"] or \
                            im[0].get("flavorType", fl[0]["type"]) != \
                            fl[0]["type"]:
                        raise Bad(400, "Image %s is not compatible with "
                                  "flavor %s" % (im[0]["id"], fl[0]["name"]))
                    DB["n"] += 1
                    k = DB["n"]
                    inst = {"id": str(uuid.uuid4()), "name": b["name"],
                            "status": "BUILD", "region": b["region"],
                            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                     time.gmtime()),
                            "ipAddresses": [], "polls": 0,
                            "flavorId": b["flavorId"], "imageId": b["imageId"],
                            "ip": "127.3.%d.%d" % (k // 250, k % 250 + 2)}
                    DB["instances"][inst["id"]] = inst
                    save()
                    return self.reply(200, view(inst))
                if what == "instance" and method == "GET" and not ident:
                    for i in DB["instances"].values():
                        advance(i)
                    save()
                    return self.reply(200, [view(i) for i in
                                            DB["instances"].values()])
                if what == "instance" and ident:
                    i = DB["instances"].get(ident)
                    if not i:
                        raise Bad(404, "Instance %s not found" % ident,
                                  "Client::NotFound")
                    if method == "DELETE":
                        del DB["instances"][ident]
                        save()
                        return self.reply(200, None)
                    if method == "GET":
                        advance(i)
                        save()
                        return self.reply(200, view(i))
                raise Bad(404, "no such call", "Client::NotFound")
        except Bad as e:
            log("ERROR %d %s" % (e.status, e.msg))
            self.reply(e.status, {"class": e.cls, "message": e.msg})






# OVH throttles an application (429) without documenting the rate. 20 a
# second: twice the client's burst (providers/ovh.c's .rate 5, .burst 10),
# so the client's own bucket keeps under it and a client bursting past it
# does not.
fakebase.serve(STATE, H, 20)
