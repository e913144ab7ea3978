#!/usr/bin/env python3
"""load.py: the background load of the fault matrix (tests/faults/lib.sh).

Usage:
  load.py sm PORT OUT KEY...       socketmap queries, one connection
  load.py smtp HOST OUT FROM RCPT...   messages through an MTA
  load.py q PORT KEY               one socketmap query: "<latency ms> <reply>"

sm: a Postfix-like socketmap client on 127.0.0.1:PORT. It sends
"QUERY KEY" netstrings for the KEYs in turn, one request at a time on one
connection (a new one when the daemon closes it; like Postfix's
dict_sockmap, a request that fails on a reused connection, except by a
timeout, is retried once on a new one), about 25 a second, and
appends one line per request to OUT:
  <unix ms> <KEY> <latency ms> <reply>
reply is the netstring's text ("OK dane-only", "NOTFOUND ", "TEMP ...") or
"ERR <what>" when the connection failed (refused, closed, 30 s timeout).

smtp: one message about every 0.7 s to HOST:25: MAIL FROM:<FROM>, RCPT TO
each RCPT, DATA with a forged "X-DANE-Sender: forged" header, QUIT. Appends
one line per message to OUT:
  <unix ms> <qid|-> <latency ms> <code of each RCPT, comma-separated> <DATA code|->
("-" when DATA was not reached: no recipient accepted, or an error; an SMTP
failure gives the code "ERR").

Both run until SIGTERM. Both flush every line.
"""
import os
import signal
import socket
import sys
import time


def now_ms():
    return int(time.time() * 1000)


def netstring(s):
    b = s.encode()
    return b"%d:%s," % (len(b), b)


def read_netstring(f):
    n = b""
    while True:
        c = f.read(1)
        if not c:
            raise OSError("closed")
        if c == b":":
            break
        n += c
        if len(n) > 6:
            raise OSError("bad length")
    data = f.read(int(n))
    if len(data) != int(n) or f.read(1) != b",":
        raise OSError("short reply")
    return data.decode("utf-8", "replace")


def sm(port, out, keys):
    sock = f = None
    i = 0
    while True:
        key = keys[i % len(keys)]
        i += 1
        t0 = time.monotonic()
        for attempt in (0, 1):
            reused = sock is not None
            try:
                if sock is None:
                    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
                    f = sock.makefile("rb")
                sock.sendall(netstring("QUERY " + key))
                reply = read_netstring(f)
                break
            except OSError as e:
                reply = "ERR " + (str(e).replace(" ", "_") or "error")
                try:
                    if sock is not None:
                        sock.close()
                except OSError:
                    pass
                sock = f = None
                # as Postfix: a broken reused connection is retried once
                if not reused or isinstance(e, socket.timeout):
                    break
        ms = int((time.monotonic() - t0) * 1000)
        out.write("%d %s %d %s\n" % (now_ms(), key, ms, reply))
        out.flush()
        if reply.startswith("ERR"):
            time.sleep(0.2)
        time.sleep(0.04)


class Smtp:
    def __init__(self, host):
        self.s = socket.create_connection((host, 25), timeout=30)
        self.f = self.s.makefile("rb")

    def reply(self):
        code = None
        while True:
            line = self.f.readline()
            if not line:
                raise OSError("closed")
            code = line[:3].decode()
            if line[3:4] != b"-":
                return code, line.decode("utf-8", "replace").strip()

    def cmd(self, text):
        self.s.sendall(text.encode() + b"\r\n")
        return self.reply()


def smtp(host, out, sender, rcpts):
    n = 0
    while True:
        n += 1
        t0 = time.monotonic()
        codes, qid, dcode = [], "-", "-"
        try:
            c = Smtp(host)
            c.reply()
            c.cmd("EHLO load.test")
            c.cmd("MAIL FROM:<%s>" % sender)
            for r in rcpts:
                codes.append(c.cmd("RCPT TO:<%s>" % r)[0])
            if any(x.startswith("2") for x in codes):
                if c.cmd("DATA")[0] == "354":
                    body = ("From: <%s>\r\nTo: <%s>\r\nSubject: load %d\r\n"
                            "X-DANE-Sender: forged; domain=forged.test\r\n\r\nbody %d\r\n.\r\n"
                            % (sender, rcpts[-1], n, n))
                    c.s.sendall(body.encode())
                    dcode, text = c.reply()
                    if dcode == "250" and "queued as " in text:
                        qid = text.rsplit("queued as ", 1)[1].split()[0]
            c.cmd("QUIT")
            c.s.close()
        except OSError:
            codes.append("ERR")
        ms = int((time.monotonic() - t0) * 1000)
        out.write("%d %s %d %s %s\n" % (now_ms(), qid, ms, ",".join(codes) or "-", dcode))
        out.flush()
        time.sleep(0.7)


def query(port, key):
    t0 = time.monotonic()
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        sock.sendall(netstring("QUERY " + key))
        reply = read_netstring(sock.makefile("rb"))
        sock.close()
    except OSError as e:
        reply = "ERR " + (str(e).replace(" ", "_") or "error")
    print("%d %s" % (int((time.monotonic() - t0) * 1000), reply))


def main():
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    if len(sys.argv) == 4 and sys.argv[1] == "q":
        query(int(sys.argv[2]), sys.argv[3])
        return
    if len(sys.argv) >= 5 and sys.argv[1] == "sm":
        with open(sys.argv[3], "a") as out:
            sm(int(sys.argv[2]), out, sys.argv[4:])
    elif len(sys.argv) >= 6 and sys.argv[1] == "smtp":
        with open(sys.argv[3], "a") as out:
            smtp(sys.argv[2], out, sys.argv[4], sys.argv[5:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
