#!/usr/bin/env python3
"""dnsproxy.py: a DNS fault proxy for the fault matrix (tests/faults/dns.sh).

Usage:
  dnsproxy.py --listen ADDR --port PORT --upstream ADDR[:PORT] --mode-file FILE

Listens on ADDR:PORT, UDP and TCP, and relays every DNS message to the
upstream server (the world's NSD) with the same transport, each in a thread
of its own. What happens to a query is read from FILE (one line) when the
query arrives, so a test switches faults at run time by rewriting FILE
(write a temp file and rename it); a missing or empty FILE means "pass":
  pass        relay the query, relay the answer (an upstream that does not
              answer within 10 s, or refuses: no answer, TCP closed)
  servfail    answer at once with RCODE SERVFAIL (same ID and question)
  drop        read the query and never answer (TCP: keep the connection
              open, silent, until the client closes it)
  delay:MS    wait MS milliseconds, then relay as "pass"
The upstream is asked from a new socket per query, so an answer always
belongs to its query.

Prints "dnsproxy listening on ADDR:PORT" when both sockets listen. Exits
on SIGTERM/SIGINT. Log (stderr): one line per query,
"<unix time> <udp|tcp> <mode> <qname>".
"""
import argparse
import os
import signal
import socket
import struct
import sys
import threading
import time

LOCK = threading.Lock()


def log(line):
    with LOCK:
        sys.stderr.write("%.3f %s\n" % (time.time(), line))
        sys.stderr.flush()


def read_mode(path):
    try:
        with open(path) as f:
            m = f.read().strip()
    except OSError:
        m = ""
    return m or "pass"


def qname(msg):
    """The first question's name (for the log), or '?'."""
    try:
        i, labels = 12, []
        while msg[i]:
            n = msg[i]
            labels.append(msg[i + 1:i + 1 + n].decode("ascii", "replace"))
            i += 1 + n
        return ".".join(labels) + "."
    except (IndexError, ValueError):
        return "?"


def servfail(msg):
    """A SERVFAIL answer to msg: its ID and question, no records."""
    if len(msg) < 12:
        return None
    qd = struct.unpack("!H", msg[4:6])[0]
    i = 12
    if qd:
        try:
            while msg[i]:
                i += 1 + msg[i]
            i += 5  # the root label, QTYPE, QCLASS
        except IndexError:
            return None
    flags = struct.unpack("!H", msg[2:4])[0]
    flags = 0x8000 | (flags & 0x7900) | 0x0080 | 2  # QR, opcode, RD; RA; SERVFAIL
    return msg[0:2] + struct.pack("!HHHHH", flags, 1 if qd else 0, 0, 0, 0) + msg[12:i]


def ask_udp(upstream, msg):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(10)
    try:
        s.sendto(msg, upstream)
        return s.recv(65535)
    except OSError:
        return None
    finally:
        s.close()


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        c = s.recv(n - len(buf))
        if not c:
            return None
        buf += c
    return buf


def ask_tcp(upstream, msg):
    try:
        s = socket.create_connection(upstream, timeout=10)
    except OSError:
        return None
    try:
        s.sendall(struct.pack("!H", len(msg)) + msg)
        hdr = recv_exact(s, 2)
        if hdr is None:
            return None
        return recv_exact(s, struct.unpack("!H", hdr)[0])
    except OSError:
        return None
    finally:
        s.close()


def decide(a, msg, proto):
    """The answer to send (None: none) after the mode's wait."""
    mode = read_mode(a.mode_file)
    log("%s %s %s" % (proto, mode, qname(msg)))
    if mode == "servfail":
        return servfail(msg)
    if mode == "drop":
        return None
    if mode.startswith("delay:"):
        time.sleep(int(mode[6:]) / 1000.0)
    return (ask_udp if proto == "udp" else ask_tcp)(a.upstream, msg)


def serve_udp(a, sock):
    def one(msg, peer):
        ans = decide(a, msg, "udp")
        if ans is not None:
            try:
                sock.sendto(ans, peer)
            except OSError:
                pass
    while True:
        msg, peer = sock.recvfrom(65535)
        threading.Thread(target=one, args=(msg, peer), daemon=True).start()


def serve_tcp(a, lsock):
    def conn(c):
        c.settimeout(120)
        try:
            while True:
                hdr = recv_exact(c, 2)
                if hdr is None:
                    return
                msg = recv_exact(c, struct.unpack("!H", hdr)[0])
                if msg is None:
                    return
                ans = decide(a, msg, "tcp")
                if ans is None:
                    if read_mode(a.mode_file) == "drop":
                        while c.recv(4096):  # silent until the client goes
                            pass
                    return
                c.sendall(struct.pack("!H", len(ans)) + ans)
        except OSError:
            pass
        finally:
            c.close()
    while True:
        c, _ = lsock.accept()
        threading.Thread(target=conn, args=(c,), daemon=True).start()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--listen", required=True)
    p.add_argument("--port", type=int, default=53)
    p.add_argument("--upstream", required=True)
    p.add_argument("--mode-file", required=True)
    a = p.parse_args()
    host, _, port = a.upstream.partition(":")
    a.upstream = (host, int(port or 53))
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((a.listen, a.port))
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((a.listen, a.port))
    t.listen(64)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    threading.Thread(target=serve_tcp, args=(a, t), daemon=True).start()
    print("dnsproxy listening on %s:%d" % (a.listen, a.port), flush=True)
    serve_udp(a, u)


if __name__ == "__main__":
    main()
