#!/usr/bin/env python3
"""A TCP proxy that can freeze, for the PostgreSQL fault tests.

usage: pg_proxy.py PORT_FILE FREEZE_FILE [UPSTREAM_PORT]

Listens on a free loopback port (written to PORT_FILE once listening) and
forwards each connection to 127.0.0.1:UPSTREAM_PORT (default 54329). While
FREEZE_FILE exists it forwards nothing and closes nothing, in either
direction: the server looks alive to the kernel (connections stay open) but
never answers, as a hung server or a dead network path does. Removing the
file thaws it. Runs until killed.
"""
import os
import selectors
import socket
import sys
import time


def main():
    port_file, freeze_file = sys.argv[1], sys.argv[2]
    upstream = int(sys.argv[3]) if len(sys.argv) > 3 else 54329
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(64)
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % lsock.getsockname()[1])
    os.rename(port_file + ".tmp", port_file)

    sel = selectors.DefaultSelector()
    sel.register(lsock, selectors.EVENT_READ)
    peer = {}  # socket -> the other end

    def close(s):
        for x in (s, peer.get(s)):
            if x is None or x not in peer:
                continue
            sel.unregister(x)
            del peer[x]
            x.close()

    while True:
        if os.path.exists(freeze_file):
            # not even accepting: the kernel's backlog holds new ones
            time.sleep(0.05)
            continue
        for key, _ in sel.select(timeout=0.05):
            s = key.fileobj
            if s is lsock:
                c, _ = lsock.accept()
                u = socket.create_connection(("127.0.0.1", upstream))
                peer[c], peer[u] = u, c
                sel.register(c, selectors.EVENT_READ)
                sel.register(u, selectors.EVENT_READ)
                continue
            if s not in peer:
                continue
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if not data:
                close(s)
                continue
            peer[s].sendall(data)


if __name__ == "__main__":
    main()
