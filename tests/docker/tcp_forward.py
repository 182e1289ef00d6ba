#!/usr/bin/env python3
"""tcp_forward.py LISTEN_HOST LISTEN_PORT TO_HOST TO_PORT: forward TCP
connections (tests/docker/workers.bats: a "host" in a network namespace
reaches PostgreSQL on 127.0.0.1 through the address of its veth)."""
import socket
import sys
import threading


def pipe(src, dst):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            dst.sendall(b)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def main():
    lh, lp, th, tp = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((lh, lp))
    srv.listen(64)
    while True:
        c, _ = srv.accept()
        try:
            u = socket.create_connection((th, tp))
        except OSError:
            c.close()
            continue
        for a, b in ((c, u), (u, c)):
            threading.Thread(target=pipe, args=(a, b), daemon=True).start()


main()
