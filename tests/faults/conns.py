#!/usr/bin/env python3
"""conns.py: idle and trickling clients for the fault matrix (sockets.sh).

Usage:
  conns.py idle PORT N SECS   open N TCP connections to 127.0.0.1:PORT,
                              send nothing; print "open N" once all are
                              connected (RLIMIT_NOFILE raised as needed),
                              then every 0.5 s "<ms since open> closed=K"
                              (K: connections the server has closed, seen as
                              EOF or reset); exits when all are closed or
                              after SECS
  conns.py slow PORT TEXT     send TEXT to 127.0.0.1:PORT one byte a second;
                              print "closed <ms> after <n> bytes" when the
                              server closes the connection (or "done <ms>"
                              when TEXT ran out, then waits up to 60 s for
                              the close)
Exits on SIGTERM.
"""
import os
import resource
import select
import signal
import socket
import sys
import time


def idle(port, n, secs):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
    socks = []
    # times are from the first connection's open: the daemon's idle clock
    # of each connection starts at its accept, not when the last one is open
    t0 = time.monotonic()
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.setblocking(False)
        socks.append(s)
    print("open %d" % len(socks), flush=True)
    p = select.epoll()
    for s in socks:
        p.register(s.fileno(), select.EPOLLIN | select.EPOLLRDHUP | select.EPOLLHUP)
    by_fd = {s.fileno(): s for s in socks}
    closed = set()
    next_report = t0
    while time.monotonic() - t0 < secs:
        for fd, _ in p.poll(0.1):
            if fd in closed:
                continue
            try:
                data = by_fd[fd].recv(16)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                closed.add(fd)
                p.unregister(fd)
        now = time.monotonic()
        if now >= next_report:
            print("%d closed=%d" % (int((now - t0) * 1000), len(closed)), flush=True)
            next_report = now + 0.5
        if len(closed) == len(socks):
            print("%d closed=%d" % (int((now - t0) * 1000), len(closed)), flush=True)
            break
    for s in socks:
        s.close()


def slow(port, text):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    t0 = time.monotonic()
    sent = 0
    data = text.encode().decode("unicode_escape").encode("latin-1")
    for b in data:
        try:
            s.send(bytes([b]))
            sent += 1
        except OSError:
            break
        r, _, _ = select.select([s], [], [], 1.0)
        if r:
            try:
                got = s.recv(4096)
            except OSError:
                got = b""
            if not got:
                print("closed %d after %d bytes" % (int((time.monotonic() - t0) * 1000), sent), flush=True)
                return
    else:
        print("done %d" % int((time.monotonic() - t0) * 1000), flush=True)
    s.settimeout(60)
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    print("closed %d after %d bytes" % (int((time.monotonic() - t0) * 1000), sent), flush=True)


def main():
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    if len(sys.argv) == 5 and sys.argv[1] == "idle":
        idle(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    elif len(sys.argv) == 4 and sys.argv[1] == "slow":
        slow(int(sys.argv[2]), sys.argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
