"""tests/servers/fakebase.py - what the standalone fakes of the aws, gcp,
azure and ovh APIs (fake_aws.py ...) share: a request handler base that
answers on 127.0.0.1 only, the request log and state file the tests read,
and the port file they wait for. Those fakes are not fakecloud.py modules:
they check signatures and form or XML bodies, which need the raw request.

A 429 storm, as a real account's rate limit gives under load: a test
writes "SECONDS [STATUS]" to STATE/storm; from then on, for SECONDS, one
request in two is answered STATUS (default 429) with Retry-After: 1 and
logged "STORM STATUS METHOD PATH" (never performed).
"""
import http.server
import json
import os
import threading
import time

STORM = {"until": 0.0, "n": 0, "status": 429}
STORM_LOCK = threading.Lock()


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

    def stormed(self, method):
        """True (answered) if a storm refuses this request."""
        path = os.path.join(self.state_dir, "storm")
        with STORM_LOCK:
            if os.path.exists(path):
                w = (open(path).read().split() or ["0"]) + ["429"]
                os.unlink(path)
                STORM.update(until=time.time() + float(w[0]), n=0,
                             status=int(w[1]))
            if time.time() >= STORM["until"]:
                return False
            STORM["n"] += 1
            if STORM["n"] % 2 == 0:
                return False
            log(self.state_dir, "STORM %d %s %s" % (STORM["status"], method,
                                                    self.path))
        self.body()
        self.reply(STORM["status"], {"error": {"code": STORM["status"],
                   "message": "Rate limit exceeded (a storm of the fake)"}},
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
