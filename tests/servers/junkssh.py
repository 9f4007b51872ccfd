#!/usr/bin/env python3
"""tests/servers/junkssh.py - a hostile "SSH server" on 127.0.0.1 for the
SSH layer's tests: every connection gets a stream of bytes that never ends
(MODE "bytes": no newline, no banner; "lines": text lines, no banner;
"banner": a valid SSH banner, then junk that is no SSH packet), sent as
fast as the client reads, until the client goes away.

    junkssh.py MODE STATS -- COMMAND...

runs COMMAND with JUNK_ADDR=127.0.0.1:PORT in its environment, passes its
stdin/stdout/stderr through, exits with its status, and writes
"conns=N cpu=SECONDS" (COMMAND's user+system CPU time) to STATS."""
import os
import resource
import socket
import subprocess
import sys
import threading

CHUNKS = {
    "bytes": b"x" * 4096,
    "lines": b"this is not ssh\r\n" * 240,
    "banner": b"\0\0\0\x0c\x0a\x02" + b"\0" * 10,
}


def serve(conn, mode):
    try:
        if mode == "banner":
            conn.sendall(b"SSH-2.0-junk\r\n")
        while True:
            conn.sendall(CHUNKS[mode])
    except OSError:
        pass
    finally:
        conn.close()


def main():
    mode, stats = sys.argv[1], sys.argv[2]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    conns = [0]

    def accept():
        while True:
            try:
                conn, _ = lsock.accept()
            except OSError:
                return
            conns[0] += 1
            threading.Thread(target=serve, args=(conn, mode),
                             daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    env = dict(os.environ, JUNK_ADDR="127.0.0.1:%d" % lsock.getsockname()[1])
    rc = subprocess.call(cmd, env=env)
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(stats, "w") as f:
        f.write("conns=%d cpu=%.2f\n" % (conns[0], ru.ru_utime + ru.ru_stime))
    sys.exit(rc)


if __name__ == "__main__":
    main()
