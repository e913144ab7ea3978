#!/usr/bin/env python3
"""blackhole.py ADDR [PORT]: a DNS server that never answers.

Binds UDP and TCP on ADDR:PORT (default 53). UDP datagrams are read and
dropped. TCP connections are accepted, read from and held open (never
answered, never closed by us) until the peer goes away. Used by the test
world as the name server of lame.test, so that a resolver sees timeouts.
Exits on SIGTERM/SIGINT.
"""
import selectors
import signal
import socket
import sys


def main():
    addr = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 53
    sel = selectors.DefaultSelector()

    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((addr, port))
    udp.setblocking(False)
    sel.register(udp, selectors.EVENT_READ, "udp")

    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((addr, port))
    tcp.listen(64)
    tcp.setblocking(False)
    sel.register(tcp, selectors.EVENT_READ, "listen")

    def stop(_sig, _frm):
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # Ready: the caller polls for the sockets with ss, or reads this line.
    print("blackhole listening on %s:%d" % (addr, port), flush=True)

    held = 0
    while True:
        for key, _ in sel.select():
            kind = key.data
            s = key.fileobj
            if kind == "udp":
                try:
                    while True:
                        s.recvfrom(65535)
                except (BlockingIOError, InterruptedError):
                    pass
            elif kind == "listen":
                try:
                    conn, _ = s.accept()
                except (BlockingIOError, InterruptedError):
                    continue
                if held >= 512:  # bounded: drop the oldest is overkill; refuse
                    conn.close()
                    continue
                conn.setblocking(False)
                sel.register(conn, selectors.EVENT_READ, "conn")
                held += 1
            else:
                try:
                    data = s.recv(65535)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:  # peer closed: release it
                    sel.unregister(s)
                    s.close()
                    held -= 1


if __name__ == "__main__":
    main()
