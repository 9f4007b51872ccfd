"""tests/servers/fakebase.py - what the standalone fakes of the aws, gcp,
azure and ovh APIs (fake_aws.py ...) share: a request handler base that
answers on 127.0.0.1 only, the request log and state file the tests read,
and the port file they wait for. Those fakes are not fakecloud.py modules:
they check signatures and form or XML bodies, which need the raw request.

A 429 storm, as a real account's rate limit gives under load: a test
writes "SECONDS [STATUS]" to STATE/storm; from then on, for SECONDS, one
request in two is answered STATUS (default 429) with Retry-After: 1 and
logged "STORM STATUS METHOD PATH" (never performed).

A per-second rate limit, as the real APIs have (EC2's request token
buckets, ARM's and Compute's per-minute quotas, OVH's throttle): a test
writes "N [STATUS]" to STATE/window; from then on at most N requests are
answered in each wall-clock second, the N+1st and later of a second get
STATUS (default 429) with Retry-After: 1, logged "LIMIT STATUS METHOD
PATH" (never performed); "0" lifts it. A fake whose API answers these in
its own shape defines refusal(status) (EC2: XML RequestLimitExceeded).
"""
import http.server
import json
import os
import threading
import time

STORM = {"until": 0.0, "n": 0, "status": 429}
WINDOW = {"n": 0, "status": 429, "sec": 0, "count": 0}
STORM_LOCK = threading.Lock()


def setting(state, name):
    """STATE/NAME's words (consumed), or None when there is no such file."""
    path = os.path.join(state, name)
    if not os.path.exists(path):
        return None
    w = open(path).read().split() or ["0"]
    os.unlink(path)
    return w + ["429"]


class Base(http.server.BaseHTTPRequestHandler):
    """Subclasses define handle_any(method)."""
    protocol_version = "HTTP/1.1"

    def body(self):
        n = int(self.headers.get("Content-Length", 0) or 0)
        return self.rfile.read(n) if n else b""

    def reply(self, status, obj=None, text=None,
              ctype="application/json; charset=utf-8", headers=()):
        b = (text if text is not None else json.dumps(obj)).encode()
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def refusal(self, status):
        """The body of a storm's or the limit's refusal: (text, type)."""
        return (json.dumps({"error": {"code": status, "message":
                "Rate limit exceeded (the fake's)"}}),
                "application/json; charset=utf-8")

    def limited(self, now):
        """The status refusing this request (a storm's, over the second's
        window), or 0; and the log word. Under STORM_LOCK."""
        w = setting(self.state_dir, "storm")
        if w:
            STORM.update(until=now + float(w[0]), n=0, status=int(w[1]))
        w = setting(self.state_dir, "window")
        if w:
            WINDOW.update(n=int(w[0]), status=int(w[1]), sec=0, count=0)
        if now < STORM["until"]:
            STORM["n"] += 1
            if STORM["n"] % 2:
                return STORM["status"], "STORM"
        if WINDOW["n"]:
            if WINDOW["sec"] != int(now):
                WINDOW.update(sec=int(now), count=0)
            WINDOW["count"] += 1
            if WINDOW["count"] > WINDOW["n"]:
                return WINDOW["status"], "LIMIT"
        return 0, ""

    def stormed(self, method):
        """True (answered) if a storm or the rate limit refuses this."""
        with STORM_LOCK:
            status, word = self.limited(time.time())
            if not status:
                return False
            log(self.state_dir, "%s %d %s %s" % (word, status, method,
                                                 self.path))
        self.body()
        text, ctype = self.refusal(status)
        self.reply(status, text=text, ctype=ctype,
                   headers=[("Retry-After", "1")])
        return True

    def any(self, method):
        if not self.stormed(method):
            self.handle_any(method)

    def do_GET(self):
        self.any("GET")

    def do_POST(self):
        self.any("POST")

    def do_PUT(self):
        self.any("PUT")

    def do_DELETE(self):
        self.any("DELETE")

    def log_message(self, *a):
        pass


def log(state, line):
    with open(os.path.join(state, "requests.log"), "a") as f:
        f.write(line + "\n")


def save(state, obj):
    """STATE/db.json, replaced whole so a reader never sees half of it."""
    t = os.path.join(state, "db.json.tmp")
    with open(t, "w") as f:
        json.dump(obj, f)
    os.replace(t, os.path.join(state, "db.json"))


def serve(state, handler):
    handler.state_dir = state
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    with open(os.path.join(state, "port.tmp"), "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(os.path.join(state, "port.tmp"), os.path.join(state, "port"))
    srv.serve_forever()
