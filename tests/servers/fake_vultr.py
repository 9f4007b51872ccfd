"""tests/servers/fake_vultr.py - Vultr bare metal for fakecloud.py: pending
until a few polls, then active with a main IP; tags as strings, listed
unfiltered with cursor paging (the API has no tag filter here); errors as
{"error": "...", "status": N}; the bare metal plans with their
monthly_cost, cursor-paged as every Vultr list (per_page at most 500; the
fault "page_max" caps a page, so a test pages 1 at a time). Requests are
checked against specs/vultr/vultr-v2-openapi.json by the framework;
answers follow libcloud's recorded ones (member "bare_metal"; the plans
are its recording of GET /v2/plans-metal, member "plans_metal")."""
import base64
import binascii
import json
import os

SPEC = "vultr/vultr-v2-openapi.json"
PREFIX = "/v2"
READY_POLLS = 2


def recorded_plans():
    from fakecloud import SPECS
    with open(os.path.join(SPECS, "libcloud-fixtures", "vultr_v2",
                           "ex_list_bare_metal_sizes.json")) as f:
        return json.load(f)["plans_metal"]


PLAN_LIST = recorded_plans()
PLANS = {p["id"] for p in PLAN_LIST}
REGIONS = {"ewr", "ord", "dfw", "sea", "lax", "atl", "ams", "lhr", "fra", "sjc"}
TOKEN = "test-vultr-key"


def error(status, code, message):
    return {"error": message, "status": status}


def auth(headers):
    if headers.get("Authorization", "") != "Bearer " + TOKEN:
        return "Invalid API token."
    return None


def check(method, path, query, body, headers):
    bad = []
    if body and "user_data" in body:
        try:
            base64.b64decode(body["user_data"], validate=True)
        except (binascii.Error, ValueError):
            bad.append("user_data is not base64")
    return bad


def bm(i):
    return {"id": "bm-%06d" % i["_id"], "os": "Ubuntu 24.04 LTS x64",
            "ram": "32768 MB", "disk": "2x 240GB SSD",
            "main_ip": i["_addr"] if i["_active"] else "",
            "cpu_count": 4, "region": i["region"],
            "date_created": i["_created"].replace("Z", "+00:00"),
            "status": "active" if i["_active"] else "pending",
            "plan": i["plan"], "label": i.get("label", ""), "tag": "",
            "os_id": i.get("os_id", 0), "tags": i.get("tags", [])}


def public(i):
    ud = base64.b64decode(i.get("user_data", ""))
    return {"id": "bm-%06d" % i["_id"], "name": i.get("label"),
            "tags": i.get("tags", []), "addr": i["_addr"],
            "user_data_gzip": ud[:2] == b"\x1f\x8b", "user_data_len": len(ud)}


def create(st, m, query, body):
    from fakecloud import Reply
    if body["plan"] not in PLANS:
        raise Reply(400, error(400, "", "Invalid plan chosen."))
    if body["region"] not in REGIONS:
        raise Reply(400, error(400, "", "Invalid region chosen."))
    i = st.create(body)
    return 202, {"bare_metal": bm(i)}


def page(st, query, all_):
    """One page of a cursor-paged list, and its meta."""
    per = min(int(query.get("per_page", 100)), 500,
              int(st.faults.get("page_max", 500)))
    start = int(query.get("cursor") or 0)
    nxt = str(start + per) if start + per < len(all_) else ""
    return all_[start:start + per], {"total": len(all_),
                                     "links": {"next": nxt, "prev": ""}}


def list_bm(st, m, query, body):
    chunk, meta = page(st, query, st.listed())
    st.observe(chunk)
    return 200, {"bare_metals": [bm(i) for i in chunk], "meta": meta}


def list_plans(st, m, query, body):
    chunk, meta = page(st, query, PLAN_LIST)
    return 200, {"plans_metal": chunk, "meta": meta}


def key(m):
    return int(m.group(1))


def get_bm(st, m, query, body):
    i = st.find(key(m))
    st.poll(i)
    return 200, {"bare_metal": bm(i)}


def delete_bm(st, m, query, body):
    i = st.find(key(m))
    st.remove(i)
    return 204, None


ROUTES = [
    ("GET", r"^/v2/plans-metal$", "plans", list_plans),
    ("POST", r"^/v2/bare-metals$", "create", create),
    ("GET", r"^/v2/bare-metals$", "list", list_bm),
    ("GET", r"^/v2/bare-metals/bm-(\d+)$", "get", get_bm),
    ("DELETE", r"^/v2/bare-metals/bm-(\d+)$", "delete", delete_bm),
]
