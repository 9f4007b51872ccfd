"""tests/servers/fake_equinix.py - Equinix Metal for fakecloud.py: devices
queued -> provisioning -> active with a public IPv4 in ip_addresses, tag
strings with a ?tag= filter, page paging (page from 1, per_page: 10 by
default, 1000 at most; 2 at most here, fakecloud.py's page cap; meta with
first, previous, self, next, last, total, current_page, last_page), errors
as {"errors": [...]}. Requests are checked against
specs/equinix/metal-v1-openapi.yaml by the framework; answers follow
libcloud's recorded ones."""

SPEC = "equinix/metal-v1-openapi.yaml"
PREFIX = "/metal/v1"
READY_POLLS = 2
PLANS = {"c3.small.x86", "c3.medium.x86", "m3.small.x86", "m3.large.x86"}
METROS = {"da", "sv", "ny", "am", "sg", "fr", "ch", "dc"}
TOKEN = "test-metal-token"
PROJECT = "3f2a7c4e-0000-4000-8000-000000000001"
# Metal documents no rate limit; it has one (429s are in its SDKs' retry
# code). 40 a second: twice the client's burst (providers/equinix.c's
# .rate 5, .burst 20), so the client's own bucket keeps under it and a
# client that bursts past its bucket does not.
WINDOW = 40


def error(status, code, message):
    return {"errors": [message]}


def auth(headers):
    if headers.get("X-Auth-Token", "") != TOKEN:
        return "Invalid authentication token"
    return None


def check(method, path, query, body, headers):
    return []


def device(i):
    ips = []
    if i["_active"]:
        ips = [{"address": i["_addr"], "address_family": 4, "public": True},
               {"address": "10.0.0.%d" % (i["_id"] % 250), "address_family": 4,
                "public": False}]
    state = "active" if i["_active"] else ("provisioning" if i["_polls"] else "queued")
    return {"id": "e0000000-0000-4000-8000-%012d" % i["_id"],
            "hostname": i["hostname"], "state": state, "tags": i.get("tags", []),
            "created_at": i["_created"], "ip_addresses": ips,
            "metro": {"code": i["metro"]}, "plan": {"slug": i["plan"]},
            "termination_time": i.get("termination_time")}


def public(i):
    return {"id": str(i["_id"]), "name": i["hostname"], "tags": i.get("tags", []),
            "addr": i["_addr"], "termination_time": i.get("termination_time"),
            "no_ssh_keys": i.get("_no_ssh_keys")}


def create(st, m, query, body):
    from fakecloud import Reply
    if m.group(1) != PROJECT:
        raise Reply(404, error(404, "", "Not found"))
    if body["plan"] not in PLANS:
        raise Reply(422, error(422, "", "%s is not a valid plan" % body["plan"]))
    if body.get("metro") not in METROS:
        raise Reply(422, error(422, "", "%s is not a valid metro" % body.get("metro")))
    i = st.create(body)
    # Without no_ssh_keys Metal adds every project and organisation
    # member's key to root: kept so a test can see it was sent.
    i["_no_ssh_keys"] = body.get("no_ssh_keys") is True
    return 201, device(i)


def number(query, name, default, hi):
    """An integer query parameter in [1, HI] (the spec's bounds), or 422."""
    from fakecloud import Reply
    try:
        n = int(query.get(name, default))
    except ValueError:
        n = 0
    if not 1 <= n <= hi:
        raise Reply(422, error(422, "", "%s is out of range" % name))
    return n


def list_devices(st, m, query, body):
    tag = query.get("tag")
    per = st.page_size(number(query, "per_page", 10, 1000))
    page = number(query, "page", 1, 100000)
    all_ = [i for i in st.listed() if not tag or tag in i.get("tags", [])]
    chunk = all_[(page - 1) * per: page * per]
    st.observe(chunk)
    last = max(1, (len(all_) + per - 1) // per)

    def href(n):
        # As recorded (devices_for_project.json): the path below /metal/v1
        # and the page's number, not the filter nor per_page.
        return {"href": "/projects/%s/devices?page=%d" % (PROJECT, n)}
    meta = {"total": len(all_), "current_page": page, "last_page": last,
            "first": href(1), "last": href(last), "self": href(page)}
    # The API answers "next": null on the last page (not an absent member).
    meta["next"] = href(page + 1) if page < last else None
    meta["previous"] = href(page - 1) if page > 1 else None
    return 200, {"devices": [device(i) for i in chunk], "meta": meta}


def key(m):
    return int(m.group(1))


def get_device(st, m, query, body):
    i = st.find(key(m))
    st.poll(i)
    return 200, device(i)


def delete_device(st, m, query, body):
    i = st.find(key(m))
    del st.inst[i["_id"]]
    return 204, None


DEV = r"^/metal/v1/devices/e0000000-0000-4000-8000-(\d{12})$"
ROUTES = [
    ("POST", r"^/metal/v1/projects/([^/]+)/devices$", "create", create),
    ("GET", r"^/metal/v1/projects/([^/]+)/devices$", "list", list_devices),
    ("GET", DEV, "get", get_device),
    ("DELETE", DEV, "delete", delete_device),
]
