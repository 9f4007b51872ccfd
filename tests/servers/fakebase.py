"""tests/servers/fakebase.py - what the standalone fakes of the aws, gcp,
azure and ovh APIs (fake_aws.py ...) share: a request handler base that
answers on 127.0.0.1 only, the request log and state file the tests read,
and the port file they wait for. Those fakes are not fakecloud.py modules:
they check signatures and form or XML bodies, which need the raw request.
"""
import http.server
import json
import os


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

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_DELETE(self):
        self.handle_any("DELETE")

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
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    with open(os.path.join(state, "port.tmp"), "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(os.path.join(state, "port.tmp"), os.path.join(state, "port"))
    srv.serve_forever()
