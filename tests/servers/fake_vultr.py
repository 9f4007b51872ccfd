"""tests/servers/fake_vultr.py - Vultr bare metal for fakecloud.py: pending
until a few polls, then active with a main IP; tags as strings, listed
unfiltered with cursor paging (the API has no tag filter here); errors as
{"error": "...", "status": N}. Requests are checked against
specs/vultr/vultr-v2-openapi.json by the framework; answers follow
libcloud's recorded ones (member "bare_metal")."""
import base64
import binascii

SPEC = "vultr/vultr-v2-openapi.json"
PREFIX = "/v2"
READY_POLLS = 2
PLANS = {"vbm-4c-32gb", "vbm-6c-32gb", "vbm-8c-132gb", "vbm-24c-256gb"}
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


def list_bm(st, m, query, body):
    per = int(query.get("per_page", 100))
    start = int(query.get("cursor") or 0)
    all_ = st.listed()
    chunk = all_[start:start + per]
    st.observe(chunk)
    nxt = str(start + per) if start + per < len(all_) else ""
    return 200, {"bare_metals": [bm(i) for i in chunk],
                 "meta": {"total": len(all_), "links": {"next": nxt, "prev": ""}}}


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
    ("POST", r"^/v2/bare-metals$", "create", create),
    ("GET", r"^/v2/bare-metals$", "list", list_bm),
    ("GET", r"^/v2/bare-metals/bm-(\d+)$", "get", get_bm),
    ("DELETE", r"^/v2/bare-metals/bm-(\d+)$", "delete", delete_bm),
]
