#!/usr/bin/env python3
"""tests/servers/countproxy.py PORT OUT [LIVE] - a TCP proxy that counts.

Listens on 127.0.0.1 (a free port, printed first), forwards each
connection to 127.0.0.1:PORT, and appends "up down" (bytes client->server,
server->client, SSH handshake included) of each connection to OUT when it
closes. With LIVE, that file always holds the bytes sent up so far, all
connections together: what a client has pushed at the server by now.
Used by tests/sync.test and tests/bench/sync.sh; loopback only."""
import os
import socket
import sys
import threading

dst, out = int(sys.argv[1]), sys.argv[2]
live = sys.argv[3] if len(sys.argv) > 3 else None
lock = threading.Lock()
total_up = [0]


def pump(a, b, n, i):
    while True:
        d = a.recv(65536)
        if not d:
            break
        b.sendall(d)
        n[i] += len(d)
        if i == 0 and live:
            with lock:
                total_up[0] += len(d)
                with open(live + ".tmp", "w") as f:
                    f.write("%d\n" % total_up[0])
                # a reader never sees a half-written number
                os.replace(live + ".tmp", live)
    try:
        b.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def conn(c):
    s = socket.create_connection(("127.0.0.1", dst))
    n = [0, 0]
    t = [threading.Thread(target=pump, args=(c, s, n, 0)),
         threading.Thread(target=pump, args=(s, c, n, 1))]
    for x in t:
        x.start()
    for x in t:
        x.join()
    with open(out, "a") as f:
        f.write("%d %d\n" % (n[0], n[1]))


ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(8)
print(ls.getsockname()[1], flush=True)
while True:
    c, _ = ls.accept()
    threading.Thread(target=conn, args=(c,), daemon=True).start()
