"""tests/servers/fake_vultr.py - Vultr bare metal for fakecloud.py: pending
until a few polls, then active with a main IP; tags as strings, listed
unfiltered with cursor paging (the API has no tag filter here); errors as
{"error": "...", "status": N}; the bare metal plans with their
monthly_cost, cursor-paged as every Vultr list (per_page: 100 by default,
500 at most; 2 at most here, fakecloud.py's page cap; the cursors opaque,
as the API's "encoded alphanumeric strings"). Rate-limited as Vultr is,
30 requests a second (WINDOW). Requests are
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
# "If your application sends more than 30 requests per second, the API
# may return HTTP status code 429" (the spec's introduction, Rate Limit).
WINDOW = 30


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


def cursor(key):
    """The opaque cursor of the page that starts at the item of KEY: as
    the API's, whose example "bmV4dF9fQU1T" is base64 of "next__AMS"."""
    return base64.b64encode(b"next__" + key.encode()).decode().rstrip("=")


def page(st, query, all_, key):
    """One page of a cursor-paged list (KEY: an item's id), and its meta.
    A cursor names the first item of its page, so an item deleted
    between two pages moves no other off them; if the named item is
    gone, the page starts at the next id (all_ is in id order then)."""
    from fakecloud import Reply
    try:
        per = int(query.get("per_page") or 100)
        c = query.get("cursor") or ""
        d = base64.b64decode(c + "=" * (-len(c) % 4), validate=True)
        if c and not d.startswith(b"next__"):
            raise ValueError(c)
    except (ValueError, binascii.Error):
        raise Reply(400, error(400, "", "Invalid cursor."))
    if per < 1:
        raise Reply(400, error(400, "", "Invalid per_page."))
    per = st.page_size(per, 500)
    start = 0
    if c:
        k = d[6:].decode(errors="replace")
        at = [n for n, x in enumerate(all_) if key(x) == k]
        start = at[0] if at else next(
            (n for n, x in enumerate(all_) if key(x) > k), len(all_))
    nxt = cursor(key(all_[start + per])) if start + per < len(all_) else ""
    prev = cursor(key(all_[max(0, start - per)])) if start > 0 else ""
    return all_[start:start + per], {"total": len(all_),
                                     "links": {"next": nxt, "prev": prev}}


def list_bm(st, m, query, body):
    chunk, meta = page(st, query, sorted(st.listed(), key=lambda i: i["_id"]),
                       lambda i: "bm-%06d" % i["_id"])
    st.observe(chunk)
    return 200, {"bare_metals": [bm(i) for i in chunk], "meta": meta}


def list_plans(st, m, query, body):
    chunk, meta = page(st, query, PLAN_LIST, lambda p: p["id"])
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
