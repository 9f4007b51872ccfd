#!/usr/bin/env python3
"""tests/servers/fakecloud.py - a stateful fake of a cloud API, for tests.

    fakecloud.py PROVIDER PORTFILE [--latency MS] [--rate N] [--window N]
                 [--page-max N] [--faults JSON] [--check 0]

Listens on 127.0.0.1 only (a free port, written to PORTFILE once it
listens) and hands out 127.x addresses. PROVIDER names a module
tests/servers/fake_PROVIDER.py that defines ROUTES and the provider's
shapes; this file owns everything shared: the instance store (create ->
pending -> active after a few looks at it, by get or by a listing page;
list by tag; delete), checking each
request against the provider's published OpenAPI spec (../shared/specs)
with unknown members refused, so a field name the client invents fails,
fault injection, and the control endpoints under /_fake/:

    GET  /_fake/state     {"instances": [...], "violations": [...],
                           "requests": N, "counts": {"create": N, ...}}
    POST /_fake/faults    replace the faults (JSON, as --faults)
    GET  /_fake/quiesce   answers once no other request is in flight

Faults (JSON object): {"OP": ["429", "500", "drop", "lost", "slow"], ...}
is consumed in order by requests of kind OP (create, get, list, delete):
429 answers with Retry-After: 1, drop closes the connection unanswered,
lost performs the request and then drops the answer, slow sleeps 2 s
first, badjson answers 200 with a cut-off document (and does nothing).
{"get404": N} answers the first N gets of a new instance with 404
(eventual consistency); {"rate": N} limits every request to N per second
(429 with Retry-After beyond it). {"storm": S} answers every second request 429 for S
seconds from now; {"linger": S} keeps a deleted instance in listings for
S seconds (eventual consistency, as EC2 and ARM do; a get says 404);
{"stuck": N} makes the next N deletes answer success while the instance
stays (a host that never goes away). /_fake/state counts "lingering".

Real APIs always rate-limit, so the fake does by default: a module's
WINDOW is its API's limit per wall-clock second (the N+1st request of a
second is answered 429, Retry-After: 1, as Vultr's limit is counted), or
its BUCKET (capacity, refill per second) a token bucket (Hetzner's
hourly one). --window N counts N per wall-clock second instead; --window
0 lifts every limit (a benchmark that sets its own --rate). /_fake/state
says "peak", the most requests sent in one wall-clock second.

Real APIs page every list; a test's few hosts would all fit on one page
of the API's size, so a client reading page 1 alone would pass. So every
list page holds at most 2 items here, whatever per_page the client asks
(modules call Store.page_size); --page-max N another cap, 0 the API's own
maximum (benchmarks of 1,000 hosts); the fault {"page_max": N} another
cap for one test. --check 0 skips the spec check: for benchmarks of the
client, where the checker's CPU time would dominate.
"""
import importlib
import json
import os
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qsl

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))


def find_specs():
    """../shared/specs beside the checkout (or a worktree's checkout)."""
    for d in (os.environ.get("MVM_SPECS"), os.path.join(TOP, "../shared/specs"),
              os.path.join(TOP, "../../shared/specs")):
        if d and os.path.isdir(d):
            return d
    sys.exit("fakecloud: no specs: set MVM_SPECS to ../shared/specs")


SPECS = find_specs()
PAGE_MAX = 2                # items on a list page, by default (see above)


class Reply(Exception):
    """Raised by a handler or a check: answer STATUS with BODY."""

    def __init__(self, status, body=None, headers=None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


# --- the published spec, made strict --------------------------------------

def load_spec(path):
    with open(path) as f:
        if path.endswith((".yaml", ".yml")):
            import yaml
            return yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        return json.load(f)


def resolve(spec, node, depth=0):
    """Inline $refs, turn OpenAPI's nullable into a JSON Schema type, and
    refuse members the schema does not name (additionalProperties false
    where the spec leaves it open and does not combine schemas)."""
    if depth > 40:
        return {}
    if isinstance(node, list):
        return [resolve(spec, x, depth + 1) for x in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        return resolve(spec, target, depth + 1)
    out = {k: resolve(spec, v, depth + 1) for k, v in node.items()
           if k not in ("example", "examples", "x-codeSamples", "description")}
    parts = out.get("allOf")
    if parts and all(isinstance(x, dict) and "properties" in x and
                     not any(k in x for k in ("anyOf", "oneOf", "allOf"))
                     for x in parts):
        # allOf of plain objects (Equinix's MetroInput + DeviceCreateInput):
        # one object with every part's members, so strictness still holds.
        del out["allOf"]
        out.setdefault("type", "object")
        out["properties"] = {}
        out["required"] = []
        for x in parts:
            out["properties"].update(x["properties"])
            out["required"] += x.get("required", [])
    if out.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    if ("properties" in out and "additionalProperties" not in out
            and not any(k in out for k in ("allOf", "anyOf", "oneOf"))):
        out["additionalProperties"] = False
    return out


class Spec:
    """The operations of one OpenAPI document, matched by method and path."""

    def __init__(self, path, prefix):
        self.doc = load_spec(path)
        self.prefix = prefix
        self.cache = {}
        self.ops = []
        for tmpl, item in self.doc["paths"].items():
            rx = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(tmpl)) + "$"
            for method, op in item.items():
                if method in ("get", "post", "put", "patch", "delete"):
                    params = item.get("parameters", []) + op.get("parameters", [])
                    self.ops.append((method.upper(), re.compile(rx), tmpl, op, params))

    def compiled(self, method, tmpl, op, params):
        """Query parameter names, request body and its validator, resolved
        once per operation (the documents are large)."""
        import jsonschema
        key = (method, tmpl)
        if key not in self.cache:
            names = {}
            for p in params:
                p = resolve(self.doc, p)
                if p.get("in") == "query":
                    names[p["name"]] = p
            rb = op.get("requestBody")
            validator = None
            if rb is not None:
                rb = resolve(self.doc, rb)
                content = rb.get("content", {})
                for ct in ("application/json", "application/vnd.api+json"):
                    if ct in content and content[ct].get("schema"):
                        validator = jsonschema.Draft7Validator(content[ct]["schema"])
            self.cache[key] = (names, rb, validator)
        return self.cache[key]

    def check(self, method, path, query, body):
        """The list of ways this request breaks the spec."""
        if not path.startswith(self.prefix):
            return ["path %s is outside %s" % (path, self.prefix)]
        sub = path[len(self.prefix):] or "/"
        for m, rx, tmpl, op, params in self.ops:
            if m == method and rx.match(sub):
                break
        else:
            return ["no operation %s %s in the spec" % (method, sub)]
        bad = []
        names, rb, validator = self.compiled(method, tmpl, op, params)
        for k, _ in query:
            base = k.split("[")[0] if k not in names else k
            if k not in names and base not in names:
                bad.append("%s %s: unknown query parameter %r" % (method, tmpl, k))
        if rb is not None:
            if body is None and rb.get("required"):
                bad.append("%s %s: no body" % (method, tmpl))
            elif body is not None and validator is not None:
                for e in validator.iter_errors(body):
                    bad.append("%s %s: body%s: %s" % (
                        method, tmpl, "".join("[%r]" % x for x in e.path),
                        e.message[:300]))
        elif body is not None:
            bad.append("%s %s: a body where the spec has none" % (method, tmpl))
        return bad


# --- the store ------------------------------------------------------------

class Store:
    def __init__(self, module):
        self.lock = threading.Lock()
        self.inst = {}
        self.seq = 0
        self.mod = module
        self.violations = []
        self.requests = 0
        self.counts = {}
        self.faults = {}
        self.inflight = 0
        self.cond = threading.Condition(self.lock)
        self.rate_t = 0.0
        self.win = (0, 0)           # (second, requests in it)
        self.peak = 0               # the most requests in one second
        self.tokens = None          # a BUCKET's level (None: full)
        self.tokens_t = 0.0
        self.page_max = PAGE_MAX
        self.storm_until = 0.0
        self.storm_n = 0
        self.gone = {}              # deleted, still listed: id -> until

    def listed(self):
        """What a listing shows: the instances and the lingering deleted;
        not an instance its gets still answer 404 (not visible yet)."""
        now = time.time()
        self.gone = {k: v for k, v in self.gone.items() if v[0] > now}
        return [i for i in self.inst.values() if i["_404"] <= 0] + \
            [v[1] for v in self.gone.values()]

    def remove(self, inst):
        """A delete: gone (or, stuck, still there; lingering, still listed)."""
        if int(self.faults.get("stuck", 0)) > 0:
            self.faults["stuck"] = int(self.faults["stuck"]) - 1
            inst["_stuck"] = True
        if inst.get("_stuck"):
            return
        del self.inst[inst["_id"]]
        linger = float(self.faults.get("linger", 0))
        if linger > 0:
            self.gone[inst["_id"]] = (time.time() + linger, inst)

    def limited(self, window, bucket=None):
        """Over the per-second window or out of the bucket's tokens, or a
        storm's 429: True. Every request counts in its second's window
        (a refused one too, as a real limiter counts what it is sent)."""
        now = time.time()
        sec = int(now)
        n = self.win[1] + 1 if self.win[0] == sec else 1
        self.win = (sec, n)
        self.peak = max(self.peak, n)
        if "storm" in self.faults:
            self.storm_until = now + float(self.faults.pop("storm"))
        if now < self.storm_until:
            self.storm_n += 1
            if self.storm_n % 2:
                return True
        if window and n > window:
            return True
        if bucket:
            cap, refill = bucket
            have = cap if self.tokens is None else min(
                cap, self.tokens + (now - self.tokens_t) * refill)
            self.tokens_t = now
            if have < 1:
                self.tokens = have
                return True
            self.tokens = have - 1
        return False

    def page_size(self, asked, api_max=None):
        """The items a list page holds: what the client asked for (its
        per_page), at most the API's maximum, and at most the fake's cap
        (PAGE_MAX, --page-max, the fault "page_max"; 0: no cap)."""
        n = asked if api_max is None else min(asked, api_max)
        cap = int(self.faults.get("page_max", self.page_max))
        return min(n, cap) if cap > 0 else n

    def new_id(self):
        self.seq += 1
        return self.seq

    def new_addr(self):
        n = self.seq
        return "127.%d.%d.%d" % (1 + n // 65000 % 250, n // 250 % 250, 1 + n % 250)

    def create(self, fields, addr_now=False):
        """A new instance: pending, active after the module's ready polls."""
        i = self.new_id()
        inst = dict(fields)
        inst.update(_id=i, _polls=0, _404=int(self.faults.get("get404", 0)),
                    _created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    _addr=self.new_addr(), _active=False, _addr_now=addr_now)
        self.inst[i] = inst
        return inst

    def poll(self, inst):
        """A get: 404 while eventual consistency lasts, then progress."""
        if inst["_404"] > 0:
            inst["_404"] -= 1
            raise Reply(404, self.mod.error(404, "not_found", "not found"))
        inst["_polls"] += 1
        if inst["_polls"] >= self.mod.READY_POLLS:
            inst["_active"] = True

    def observe(self, shown):
        """A listing page showed these: each moves on as a get would (a
        real API's hosts come up in time, not by being asked; the fake's
        clock is how often it is looked at, by get or by list)."""
        for inst in shown:
            if inst["_id"] in self.inst and inst["_404"] <= 0:
                inst["_polls"] += 1
                if inst["_polls"] >= self.mod.READY_POLLS:
                    inst["_active"] = True

    def find(self, key):
        for i in self.inst.values():
            if str(i["_id"]) == str(key) or str(i.get("id")) == str(key):
                return i
        raise Reply(404, self.mod.error(404, "not_found", "not found"))

    def fault(self, op):
        seq = self.faults.get(op)
        if isinstance(seq, list) and seq:
            return seq.pop(0)
        return None


# --- the server -----------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakecloud/1"

    def log_message(self, fmt, *args):
        if os.environ.get("FAKECLOUD_LOG"):
            sys.stderr.write("fakecloud: " + fmt % args + "\n")

    def send(self, status, body=None, headers=None):
        data = b"" if body is None else (
            body if isinstance(body, bytes) else json.dumps(body).encode())
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        if data:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)

    def drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def control(self, path, body):
        st = self.server.store
        if path == "/_fake/state":
            with st.lock:
                self.send(200, {"instances": [self.server.mod.public(i)
                                              for i in st.inst.values()],
                                "violations": st.violations,
                                "requests": st.requests,
                                "counts": st.counts,
                                "lingering": len(st.gone),
                                "peak": st.peak,
                                # every kind of object left, where the
                                # module counts more than instances
                                "left": getattr(self.server.mod, "left",
                                                lambda _: {})(st)})
        elif path == "/_fake/faults":
            with st.lock:
                st.faults = body or {}
            self.send(200, {})
        elif path == "/_fake/quiesce":
            with st.cond:
                while st.inflight > 1:
                    st.cond.wait()
            self.send(200, {})
        else:
            self.send(404, {})

    def handle_one(self):
        st, mod = self.server.store, self.server.mod
        url = urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
            if raw:
                raise Reply(400, mod.error(400, "invalid_input", "malformed JSON body"))
        if url.path.startswith("/_fake/"):
            return self.control(url.path, body)
        if self.server.latency:
            time.sleep(self.server.latency)
        query = parse_qsl(url.query, keep_blank_values=True)
        for method, rx, op, fn in mod.ROUTES:
            m = re.match(rx, url.path)
            if method == self.command and m:
                break
        else:
            raise Reply(404, mod.error(404, "not_found", "no route %s %s" % (self.command, url.path)))
        with st.lock:
            st.requests += 1
            st.counts[op] = st.counts.get(op, 0) + 1
            if self.server.rate:
                now = time.time()
                if st.rate_t < now - 1:
                    st.rate_t = now - 1
                if st.rate_t + 1.0 / self.server.rate > now + 0.0001:
                    st.counts["429"] = st.counts.get("429", 0) + 1
                    raise Reply(429, mod.error(429, "rate_limit_exceeded", "rate limit exceeded"),
                                {"Retry-After": 1})
                st.rate_t += 1.0 / self.server.rate
            if st.limited(self.server.window, self.server.bucket):
                st.counts["429"] = st.counts.get("429", 0) + 1
                raise Reply(429, mod.error(429, "rate_limit_exceeded", "Rate limit reached - please try your request again later."),
                            {"Retry-After": 1})
            f = st.fault(op)
        auth = mod.auth(self.headers)
        if auth:
            raise Reply(401, mod.error(401, "unauthorized", auth))
        bad = self.server.spec.check(self.command, url.path, query, body) if self.server.spec else []
        bad += mod.check(self.command, url.path, query, body, self.headers)
        if bad:
            with st.lock:
                st.violations.extend(bad)
            raise Reply(422, mod.error(422, "invalid_input", "; ".join(bad)[:500]))
        if f == "429":
            raise Reply(429, mod.error(429, "rate_limit_exceeded", "slow down"), {"Retry-After": 1})
        if f == "500":
            raise Reply(500, mod.error(500, "server_error", "injected failure"))
        if f == "drop":
            return self.drop()
        if f == "badjson":
            return self.send(200, b'{"server": {"id": 1, "name": ')
        if f == "slow":
            time.sleep(2)
        with st.lock:
            status, out = fn(st, m, dict(query), body)
        if f == "lost":
            return self.drop()
        self.send(status, out)

    def dispatch(self):
        st = self.server.store
        with st.cond:
            st.inflight += 1
        try:
            self.handle_one()
        except Reply as r:
            self.send(r.status, r.body, r.headers)
        finally:
            with st.cond:
                st.inflight -= 1
                st.cond.notify_all()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = dispatch


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024     # 1,000 clients connect at once


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    prov, portfile = args[0], args[1]
    opts = dict(zip(args[2::2], args[3::2]))
    sys.path.insert(0, HERE)
    sys.modules.setdefault("fakecloud", sys.modules[__name__])
    mod = importlib.import_module("fake_" + prov)
    srv = Server(("127.0.0.1", 0), Handler)
    srv.mod = mod
    srv.store = Store(mod)
    srv.store.faults = json.loads(opts.get("--faults", "{}"))
    srv.latency = float(opts.get("--latency", 0)) / 1000
    srv.rate = float(opts.get("--rate", 0))
    # The module's limit, unless --window says another (0: none).
    srv.window = int(opts.get("--window", getattr(mod, "WINDOW", 0)))
    srv.bucket = getattr(mod, "BUCKET", None) if "--window" not in opts else None
    srv.store.page_max = int(opts.get("--page-max", PAGE_MAX))
    srv.spec = Spec(os.path.join(SPECS, mod.SPEC), mod.PREFIX) if mod.SPEC else None
    if not srv.spec and hasattr(mod, "spec"):
        srv.spec = mod.spec()
    if opts.get("--check") == "0":
        srv.spec = None
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, portfile)
    srv.serve_forever()


if __name__ == "__main__":
    main()
