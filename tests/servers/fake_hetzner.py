"""tests/servers/fake_hetzner.py - Hetzner Cloud for fakecloud.py: servers
with labels and label selectors, the create answer carrying the IPv4,
errors as {"error": {"code", "message"}}. Requests are checked against
specs/hetzner/hcloud-openapi.json by the framework."""

SPEC = "hetzner/hcloud-openapi.json"
PREFIX = "/v1"
READY_POLLS = 2
TYPES = {"cpx12", "cpx22", "cpx32", "cpx42", "cpx52", "cpx62", "cx23", "cx33",
         "cx43", "cx53", "ccx13", "ccx23", "ccx33", "ccx43", "ccx53", "ccx63",
         "cax11", "cax21", "cax31", "cax41"}
LOCATIONS = {"fsn1", "nbg1", "hel1", "ash", "hil", "sin"}
TOKEN = "test-hcloud-token"


def error(status, code, message):
    return {"error": {"code": code, "message": message, "details": {}}}


def auth(headers):
    a = headers.get("Authorization", "")
    if not a.startswith("Bearer "):
        return "no bearer token"
    if a != "Bearer " + TOKEN:
        return "unable to authenticate"
    return None


def check(method, path, query, body, headers):
    bad = []
    for k, v in query:
        if k == "label_selector":
            for term in v.split(","):
                if "==" not in term and "=" not in term and not term.strip("!"):
                    bad.append("bad label_selector term %r" % term)
    return bad


def server(i):
    return {
        "id": i["_id"], "name": i["name"],
        "status": "running" if i["_active"] else "initializing",
        "created": i["_created"].replace("Z", "+00:00"),
        "labels": i.get("labels", {}),
        "public_net": {"ipv4": {"id": 1000 + i["_id"], "ip": i["_addr"],
                                "blocked": False, "dns_ptr": "static.example"},
                       "ipv6": None, "floating_ips": [], "firewalls": []},
        "server_type": {"name": i["server_type"]},
        "location": {"name": i.get("location", "fsn1")},
        "image": {"name": i.get("image")},
        "locked": False,
    }


def public(i):
    return {"id": str(i["_id"]), "name": i["name"], "labels": i.get("labels", {}),
            "addr": i["_addr"], "user_data_len": len(i.get("user_data", ""))}


def action(cmd, sid):
    return {"id": sid * 10, "command": cmd, "status": "running", "progress": 0,
            "started": None, "finished": None, "error": None,
            "resources": [{"id": sid, "type": "server"}]}


def create(st, m, query, body):
    from fakecloud import Reply
    if body["server_type"] not in TYPES:
        raise Reply(422, error(422, "invalid_input",
                               "server_type %s not found" % body["server_type"]))
    if body.get("location", "fsn1") not in LOCATIONS:
        raise Reply(422, error(422, "invalid_input",
                               "location %s not found" % body["location"]))
    if len(body.get("user_data", "")) > 32768:
        raise Reply(422, error(422, "invalid_input", "user_data too long"))
    if any(i["name"] == body["name"] for i in st.inst.values()):
        raise Reply(409, error(409, "uniqueness_error", "server name is already used"))
    i = st.create(body)
    return 201, {"server": server(i), "action": action("create_server", i["_id"]),
                 "next_actions": [action("start_server", i["_id"])],
                 "root_password": None}


def selected(i, sel):
    labels = i.get("labels", {})
    for term in filter(None, sel.split(",")):
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k) == v:
                return False
        elif "=" in term:
            k, v = term.replace("==", "=").split("=", 1)
            if labels.get(k) != v:
                return False
        elif labels.get(term) is None:
            return False
    return True


def list_servers(st, m, query, body):
    sel = query.get("label_selector", "")
    per = min(int(query.get("per_page", 25)), 50)
    page = int(query.get("page", 1))
    all_ = [i for i in st.listed() if selected(i, sel)]
    chunk = all_[(page - 1) * per: page * per]
    st.observe(chunk)
    last = max(1, (len(all_) + per - 1) // per)
    return 200, {"servers": [server(i) for i in chunk],
                 "meta": {"pagination": {
                     "page": page, "per_page": per,
                     "previous_page": page - 1 if page > 1 else None,
                     "next_page": page + 1 if page < last else None,
                     "last_page": last, "total_entries": len(all_)}}}


def get_server(st, m, query, body):
    i = st.find(m.group(1))
    st.poll(i)
    return 200, {"server": server(i)}


def delete_server(st, m, query, body):
    i = st.find(m.group(1))
    st.remove(i)
    return 200, {"action": action("delete_server", i["_id"])}


ROUTES = [
    ("POST", r"^/v1/servers$", "create", create),
    ("GET", r"^/v1/servers$", "list", list_servers),
    ("GET", r"^/v1/servers/(\d+)$", "get", get_server),
    ("DELETE", r"^/v1/servers/(\d+)$", "delete", delete_server),
]
