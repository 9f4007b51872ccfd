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
buckets, ARM's and Compute's per-minute quotas, OVH's throttle), always:
at most N requests are answered in each wall-clock second, the N+1st and
later of a second get STATUS with Retry-After: 1, logged "LIMIT STATUS
METHOD PATH" (never performed). N and STATUS are the fake's own (serve()'s
window and status: its API's limit, or twice its client's burst), so a
client that bursts past its own bucket meets them in every test; a test
writes "N [STATUS]" to STATE/window for another limit (STATUS default
429), "0" lifts it. STATE/peak says the most requests of one second. A
fake whose API answers these in its own shape defines refusal(status)
(EC2: XML RequestLimitExceeded).
"""
import http.server
import json
import os
import threading
import time

# Real APIs page every list, and a test's few hosts would all fit on one
# page of the API's size: a client reading page 1 alone would pass. So a
# page holds at most PAGE_MAX items here, whatever the client asks for;
# FAKE_PAGE_MAX=N sets another cap, 0 the API's own maximum.
PAGE_MAX = int(os.environ.get("FAKE_PAGE_MAX", "2"))
STORM = {"until": 0.0, "n": 0, "status": 429}
WINDOW = {"n": 0, "status": 429, "sec": 0, "count": 0, "peak": 0}
STORM_LOCK = threading.Lock()


def page_size(asked, api_max):
    """The items a list page holds: ASKED (the client's), at most the
    API's maximum and the fake's PAGE_MAX."""
    n = min(asked, api_max)
    return min(n, PAGE_MAX) if PAGE_MAX > 0 else n


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
        # Every request counts in its second, a refused one too (a real
        # limiter counts what it is sent).
        if WINDOW["sec"] != int(now):
            WINDOW.update(sec=int(now), count=0)
        WINDOW["count"] += 1
        if WINDOW["count"] > WINDOW["peak"]:
            WINDOW["peak"] = WINDOW["count"]
            put(self.state_dir, "peak", "%d\n" % WINDOW["peak"])
        if now < STORM["until"]:
            STORM["n"] += 1
            if STORM["n"] % 2:
                return STORM["status"], "STORM"
        if WINDOW["n"] and WINDOW["count"] > WINDOW["n"]:
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


def put(state, name, text):
    """STATE/NAME, replaced whole so a reader never sees half of it."""
    t = os.path.join(state, name + ".tmp")
    with open(t, "w") as f:
        f.write(text)
    os.replace(t, os.path.join(state, name))


def save(state, obj):
    put(state, "db.json", json.dumps(obj))


def serve(state, handler, window, status=429):
    """Answer on 127.0.0.1, limited to WINDOW requests a second (STATUS
    beyond them) until the test says otherwise (STATE/window)."""
    WINDOW.update(n=window, status=status)
    handler.state_dir = state
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    with open(os.path.join(state, "port.tmp"), "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(os.path.join(state, "port.tmp"), os.path.join(state, "port"))
    srv.serve_forever()
