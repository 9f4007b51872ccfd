"""tests/servers/fake_hetzner.py - Hetzner Cloud for fakecloud.py: servers
with labels and label selectors, the create answer carrying the IPv4,
errors as {"error": {"code", "message"}}, and GET /pricing (one unpaged
answer, as the API gives it: every type's net and gross price per
location, in the project owner's currency, EUR). Requests are checked
against specs/hetzner/hcloud-openapi.json by the framework. The server
list is paged as the API pages it (page, per_page: 25 by default, 50 at
most, meta.pagination), and by 2 at most here (fakecloud.py's page cap).

The prices are made up (of the real ones' order: a few cents an hour),
not Hetzner's: tests check that a record carries the fake's figure."""

SPEC = "hetzner/hcloud-openapi.json"
PREFIX = "/v1"
READY_POLLS = 2
TYPES = {"cpx12", "cpx22", "cpx32", "cpx42", "cpx52", "cpx62", "cx23", "cx33",
         "cx43", "cx53", "ccx13", "ccx23", "ccx33", "ccx43", "ccx53", "ccx63",
         "cax11", "cax21", "cax31", "cax41"}
LOCATIONS = {"fsn1", "nbg1", "hel1", "ash", "hil", "sin"}
TOKEN = "test-hcloud-token"
# The API's rate limit, as documented: 3600 requests an hour per project,
# a token bucket refilled at one a second (providers/hetzner.c's .rate 1,
# .burst 3600 follow it). No per-second limit is documented: a window
# would refuse what Hetzner takes, so none (fakecloud.py's WINDOW).
BUCKET = (3600, 1.0)
# Net EUR an hour in the EU locations; the US and Singapore cost more, and
# the Arm types (cax) are sold in the EU only, as at Hetzner.
NET_HOURLY = {"cpx12": 0.0088, "cpx22": 0.0128, "cpx32": 0.0224,
              "cpx42": 0.0416, "cpx52": 0.0592, "cpx62": 0.0856,
              "cx23": 0.0056, "cx33": 0.0088, "cx43": 0.0152, "cx53": 0.0288,
              "ccx13": 0.0224, "ccx23": 0.0440, "ccx33": 0.0872,
              "ccx43": 0.1744, "ccx53": 0.3480, "ccx63": 0.5216,
              "cax11": 0.0064, "cax21": 0.0104, "cax31": 0.0200,
              "cax41": 0.0384}
SURCHARGE = {"fsn1": 1.0, "nbg1": 1.0, "hel1": 1.0, "ash": 1.2, "hil": 1.2,
             "sin": 1.4}
VAT = 0.19


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


def number(query, name, default):
    """A positive integer query parameter, or the API's 400."""
    from fakecloud import Reply
    try:
        n = int(query.get(name, default))
    except ValueError:
        n = 0
    if n < 1:
        raise Reply(400, error(400, "invalid_input",
                               "invalid input in field '%s'" % name))
    return n


def list_servers(st, m, query, body):
    sel = query.get("label_selector", "")
    per = st.page_size(number(query, "per_page", 25), 50)
    page = number(query, "page", 1)
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


def money(net):
    return {"net": "%.10f" % net, "gross": "%.10f" % (net * (1 + VAT))}


def type_prices(name):
    return [{"location": loc, "price_hourly": money(NET_HOURLY[name] * k),
             "price_monthly": money(NET_HOURLY[name] * k * 672),
             "price_per_tb_traffic": money(1.0), "included_traffic": 20 << 40}
            for loc, k in sorted(SURCHARGE.items())
            if not (name.startswith("cax") and k != 1.0)]


def pricing(st, m, query, body):
    ips = [{"type": t, "prices": [{"location": loc, "price_hourly": money(0.001),
                                   "price_monthly": money(0.5)}
                                  for loc in sorted(LOCATIONS)]}
           for t in ("ipv4", "ipv6")]
    return 200, {"pricing": {
        "currency": "EUR", "vat_rate": "%.2f" % (VAT * 100),
        "image": {"price_per_gb_month": money(0.011)},
        "volume": {"price_per_gb_month": money(0.044)},
        "server_backup": {"percentage": "20.00"},
        "floating_ip": {"price_monthly": money(3.0)},
        "floating_ips": [{"type": "ipv4", "prices": [
            {"location": loc, "price_monthly": money(3.0)}
            for loc in sorted(LOCATIONS)]}],
        "primary_ips": ips,
        "load_balancer_types": [],
        "server_types": [{"id": n + 1, "name": t, "prices": type_prices(t)}
                         for n, t in enumerate(sorted(NET_HOURLY))]}}


ROUTES = [
    ("GET", r"^/v1/pricing$", "pricing", pricing),
    ("POST", r"^/v1/servers$", "create", create),
    ("GET", r"^/v1/servers$", "list", list_servers),
    ("GET", r"^/v1/servers/(\d+)$", "get", get_server),
    ("DELETE", r"^/v1/servers/(\d+)$", "delete", delete_server),
]
