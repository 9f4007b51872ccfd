"""tests/servers/fake_latitude.py - Latitude.sh for fakecloud.py. There is
no published spec to check against, so the check is built from the
recorded cassettes (specs/latitude/*.yaml, real traffic): a request must
use a recorded method and path shape, recorded query parameters, the
recorded JSON:API envelope and only attribute names seen in recordings,
plus those the SDK models document for a server create (PROVIDERS.md 7:
user_data, ssh_keys, raid, ipxe, billing) and the API-Version header.
Servers: starting_deploy, then on; tags are team objects by id; a
user_data object is the project's until deleted. The plan list is the
recorded one (TestAccPlanBasic): a create of a plan at a site the plan is
not offered at is refused, and a server's price is its plan's there.
left() counts every kind of object left: servers, user_data, tags."""
import glob
import os
import re

SPEC = None
PREFIX = ""
READY_POLLS = 2
# The API pages every list (20 a page by default); a test's project holds
# a few objects, so at 20 a page no list would ever reach page 2. Pages of
# 2 here (fakecloud.py's page cap), as a real project's lists span pages;
# the fault "page_max" sets another size (1: a page per object).
# No documented rate limit here either: 40 requests a second, twice the
# client's burst (providers/latitude.c's .rate 5, .burst 20), so its own
# bucket keeps under it and a client bursting past its bucket does not.
WINDOW = 40
TOKEN = "test-latitude-token"
PROJECT = "proj_TESTPROJ01"
_PLANS = None


def plans():
    """The recorded GET /plans answer's data: [plan, ...]."""
    global _PLANS
    if _PLANS is None:
        import json
        import yaml
        from fakecloud import SPECS
        f = os.path.join(SPECS, "latitude", "TestAccPlanBasic.yaml")
        for it in yaml.safe_load(open(f))["interactions"]:
            if it["request"]["url"].endswith("/plans"):
                _PLANS = json.loads(it["response"]["body"])["data"]
    return _PLANS


def plan_region(slug, site):
    """The region entry of plan SLUG offering SITE, or None."""
    for p in plans():
        if p["attributes"]["slug"] == slug:
            for r in p["attributes"]["regions"]:
                if site in r["locations"]["available"]:
                    return r
    return None
SDK_SERVER_ATTRS = {"user_data", "ssh_keys", "raid", "ipxe", "billing"}
# The SDK pages every list with these (20 a page by default); the
# cassettes hold one page each, so they are not recorded there.
SDK_PAGE_QUERY = {"page[number]", "page[size]"}
IDS = re.compile(r"/(proj|sv|tag|ud|ssh|team)_[A-Za-z0-9]+")


def shape(path):
    return IDS.sub(lambda m: "/{%s}" % m.group(1), path)


class CassetteSpec:
    def __init__(self):
        import yaml
        from fakecloud import SPECS
        self.ops = {}
        for f in glob.glob(os.path.join(SPECS, "latitude", "*.yaml")):
            for it in yaml.safe_load(open(f))["interactions"]:
                rq = it["request"]
                from urllib.parse import urlsplit, parse_qsl, unquote
                u = urlsplit(rq["url"])
                op = self.ops.setdefault((rq["method"], shape(u.path)),
                                         {"query": set(), "attrs": set(), "type": set()})
                op["query"].update(k for k, _ in parse_qsl(unquote(u.query)))
                body = rq.get("body")
                if body:
                    import json
                    d = json.loads(body)["data"]
                    op["type"].add(d.get("type"))
                    op["attrs"].update(d.get("attributes", {}))
        self.ops[("POST", "/servers")]["attrs"].update(SDK_SERVER_ATTRS)
        for lst in (("GET", "/servers"), ("GET", "/tags"), ("GET", "/plans"),
                    ("GET", "/projects/{proj}/user_data")):
            self.ops[lst]["query"].update(SDK_PAGE_QUERY)

    def check(self, method, path, query, body):
        op = self.ops.get((method, shape(path)))
        if not op:
            return ["%s %s: never recorded" % (method, shape(path))]
        bad = ["%s %s: unrecorded query parameter %r" % (method, shape(path), k)
               for k, _ in query if k not in op["query"]]
        if body is not None:
            d = body.get("data") if isinstance(body, dict) else None
            if not isinstance(d, dict) or set(body) != {"data"}:
                bad.append("%s %s: not a JSON:API {data: ...} body" % (method, shape(path)))
            else:
                if d.get("type") not in op["type"]:
                    bad.append("%s %s: type %r" % (method, shape(path), d.get("type")))
                for k in d.get("attributes", {}):
                    if k not in op["attrs"]:
                        bad.append("%s %s: unknown attribute %r" % (method, shape(path), k))
        return bad


def spec():
    return CassetteSpec()


def error(status, code, message):
    return {"errors": [{"code": None, "status": str(status), "title": code or "error",
                        "detail": message, "meta": {}}]}


def auth(headers):
    if headers.get("Authorization", "") != TOKEN:
        return "invalid token"
    return None


def check(method, path, query, body, headers):
    if headers.get("API-Version") != "2023-06-01":
        return ["no API-Version header"]
    return []


def server(st, i):
    tags = [{"id": t, "name": st.tags[t]["name"], "description": "", "color": "#ff0000"}
            for t in i.get("_tags", []) if t in st.tags]
    r = plan_region(i["plan"], i["site"])
    bill = i.get("billing", "monthly")
    price = r["pricing"]["USD"][{"hourly": "hour", "monthly": "month"}.get(bill, "year")]
    return {"id": "sv_%08d" % i["_id"], "type": "servers",
            "attributes": {"hostname": i["hostname"], "tags": tags,
                           "price": price,
                           "status": ("failed_deployment" if i.get("_fail") else "on")
                           if i["_active"] else "starting_deploy",
                           "primary_ipv4": i["_addr"],
                           "created_at": i["_created"].replace("Z", "+00:00"),
                           "plan": {"slug": i["plan"], "billing": bill},
                           "region": {"site": {"slug": i["site"]}},
                           "project": {"id": i["project"]}}}


def public(i):
    return {"id": "sv_%08d" % i["_id"], "name": i["hostname"],
            "tags": i.get("_tags", []), "addr": i["_addr"],
            "billing": i.get("billing")}


def state(st):
    if not hasattr(st, "tags"):
        st.tags, st.ud, st.tseq = {}, {}, 0
    return st


def create_server(st, m, query, body):
    from fakecloud import Reply
    a = body["data"]["attributes"]
    if a.get("project") != PROJECT:
        raise Reply(404, error(404, "not_found", "Project not found"))
    if not any(p["attributes"]["slug"] == a.get("plan") for p in plans()):
        raise Reply(422, error(422, "invalid_plan", "plan %s is not valid" % a.get("plan")))
    if not plan_region(a["plan"], a.get("site")):
        raise Reply(422, error(422, "invalid_site", "site %s is not valid for %s"
                               % (a.get("site"), a["plan"])))
    if a.get("user_data") and a["user_data"] not in state(st).ud:
        raise Reply(422, error(422, "invalid_user_data", "user_data not found"))
    # A project's default billing is monthly: a server deleted after an
    # hour is billed the month. {"failed_deployment": N}: the next N
    # servers end in that status instead of on.
    a = dict(a, billing=a.get("billing", "monthly"))
    i = st.create(a)
    n = int(st.faults.get("failed_deployment", 0))
    i["_fail"] = n > 0
    if n > 0:
        st.faults["failed_deployment"] = n - 1
    return 201, {"data": server(st, i), "meta": {}}


def patch_server(st, m, query, body):
    from fakecloud import Reply
    i = st.find(int(m.group(1)))
    for t in body["data"]["attributes"].get("tags", []):
        if t not in state(st).tags:
            raise Reply(422, error(422, "invalid_tag", "tag %s not found" % t))
    i["_tags"] = body["data"]["attributes"].get("tags", [])
    return 200, {"data": server(st, i), "meta": {}}


def page(st, query, items):
    """One page as the API serves it: page[size] (20 by default), at most
    the fake's page cap (Store.page_size), of page[number] (from 1); past
    the end, an empty data array."""
    from fakecloud import Reply
    try:
        size = int(query.get("page[size]", 20))
        number = int(query.get("page[number]", 1))
    except ValueError:
        raise Reply(400, error(400, "invalid_parameter", "page must be a number"))
    if size < 1 or number < 1:
        raise Reply(400, error(400, "invalid_parameter", "page out of range"))
    size = st.page_size(size)
    return {"data": items[(number - 1) * size:number * size], "meta": {}}


def list_servers(st, m, query, body):
    p = query.get("filter[project]")
    shown = page(st, query, [i for i in st.listed()
                             if not p or i["project"] == p])
    st.observe(shown["data"])
    shown["data"] = [server(state(st), i) for i in shown["data"]]
    return 200, shown


def get_server(st, m, query, body):
    i = st.find(int(m.group(1)))
    st.poll(i)
    return 200, {"data": server(state(st), i), "meta": {}}


def delete_server(st, m, query, body):
    i = st.find(int(m.group(1)))
    del st.inst[i["_id"]]
    return 204, None


def list_tags(st, m, query, body):
    return 200, page(st, query, [{"id": k, "type": "tags", "attributes": v}
                                 for k, v in state(st).tags.items()])


def create_tag(st, m, query, body):
    from fakecloud import Reply
    name = body["data"]["attributes"].get("name")
    if any(t.get("name") == name for t in state(st).tags.values()):
        # As the API and its SDK answer a second tag of the same name.
        raise Reply(422, {"errors": [{"code": "NAME_ALREADY_TAKEN", "status": "422",
                                      "title": "NAME_ALREADY_TAKEN",
                                      "detail": "name has already been taken",
                                      "meta": {}}]})
    st.tseq += 1
    tid = "tag_T%06d" % st.tseq
    st.tags[tid] = dict(body["data"]["attributes"])
    return 201, {"data": {"id": tid, "type": "tags", "attributes": st.tags[tid]}}


def drop(objs, key, what):
    """A DELETE of a team or project object: 204, or 404 if there is none."""
    from fakecloud import Reply
    if key not in objs:
        raise Reply(404, error(404, "not_found", "%s not found" % what))
    del objs[key]
    return 204, None


def delete_tag(st, m, query, body):
    return drop(state(st).tags, m.group(1), "tag")


def list_ud(st, m, query, body):
    return 200, page(st, query, [{"id": k, "type": "user_data", "attributes": v}
                                 for k, v in state(st).ud.items()])


def delete_ud(st, m, query, body):
    return drop(state(st).ud, m.group(1), "user data")


def list_plans(st, m, query, body):
    return 200, page(st, query, plans())


def left(st):
    """Every kind of object left: the teardown tests want 0 of each."""
    state(st)
    return {"servers": len(st.inst), "user_data": len(st.ud), "tags": len(st.tags)}


def create_ud(st, m, query, body):
    state(st).tseq += 1
    uid = "ud_U%06d" % st.tseq
    st.ud[uid] = body["data"]["attributes"]
    return 201, {"data": {"id": uid, "type": "user_data",
                          "attributes": st.ud[uid]}, "meta": {}}


ROUTES = [
    ("POST", r"^/servers$", "create", create_server),
    ("GET", r"^/servers$", "list", list_servers),
    ("GET", r"^/servers/sv_(\d+)$", "get", get_server),
    ("PATCH", r"^/servers/sv_(\d+)$", "tag", patch_server),
    ("DELETE", r"^/servers/sv_(\d+)$", "delete", delete_server),
    ("GET", r"^/tags$", "tags", list_tags),
    ("POST", r"^/tags$", "newtag", create_tag),
    ("POST", r"^/projects/proj_[A-Za-z0-9]+/user_data$", "userdata", create_ud),
    ("GET", r"^/projects/proj_[A-Za-z0-9]+/user_data$", "listud", list_ud),
    ("DELETE", r"^/projects/proj_[A-Za-z0-9]+/user_data/(ud_[A-Za-z0-9]+)$", "deleteud", delete_ud),
    ("DELETE", r"^/tags/(tag_[A-Za-z0-9]+)$", "deletetag", delete_tag),
    ("GET", r"^/plans$", "plans", list_plans),
]
