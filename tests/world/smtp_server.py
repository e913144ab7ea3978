#!/usr/bin/env python3
"""smtp_server.py: a small SMTP server with STARTTLS for the test world.

Usage:
  smtp_server.py --listen ADDR --port PORT --mode ok|nostarttls|stall|reset
                 [--cert CHAIN --key KEY] [--hostname NAME]
                 [--timeout SECS] [--stall-secs SECS] [--log FILE]

  --listen ADDR     numeric IPv4 or IPv6 address (127.A.B.x, ::1)
  --port PORT       TCP port; 0 picks a free one (see the ready line)
  --mode MODE       what happens (below)
  --cert CHAIN      PEM: the leaf, then any chain certificates (e.g.
                    certs/H.chain.pem); with --key, required by mode ok
  --key KEY         PEM private key of the leaf (certs/H.key)
  --hostname NAME   name in the banner and the EHLO reply (default
                    smtp-server.test)
  --timeout SECS    idle limit per command read (default 60)
  --stall-secs SECS how long "stall" keeps a connection (default 60)
  --log FILE        append the log here instead of stderr

Modes:
  ok          "220 NAME ESMTP", EHLO lists STARTTLS, STARTTLS answers
              "220 2.0.0 Ready to start TLS" and does a real TLS handshake
              (Python ssl, CHAIN/KEY); then EHLO again (no STARTTLS), QUIT.
              MAIL/RCPT/DATA are accepted and the message discarded.
  nostarttls  EHLO without STARTTLS; the STARTTLS command gets
              "502 5.5.1 STARTTLS not available".
  stall       like ok up to "220 2.0.0 Ready to start TLS", then reads and
              never answers: no handshake; the connection is closed when the
              client goes away or after --stall-secs.
  reset       like ok up to "220 2.0.0 Ready to start TLS", then waits
              (up to --timeout) for the first bytes of the client's
              ClientHello and resets the TCP connection (SO_LINGER 0): a
              reset during STARTTLS.
Also: HELO, NOOP, RSET (250), QUIT (221), anything else 500. Plaintext
pipelined after STARTTLS is discarded. Every connection has its own thread.

Ready: prints "smtp_server listening on ADDR:PORT mode=MODE" on stdout (the
actual port) once the socket listens. Exits at once (status 0) on SIGTERM or
SIGINT, open connections included.

Log: one line per event, "<unix time> <peer> <event>": connect, ehlo=NAME,
starttls, tls version=V cipher=C sni=SNI|-, tls-error=REASON, stall-end,
reset, quit, close.

The test world: postfix.sh start-sink runs it in mode stall at
mx.stall.dane.test's address (port 25). Tests run their own, e.g. for
mx.v6only.dane.test (AAAA ::1 only; nothing listens by default):
  smtp_server.py --listen ::1 --port PORT --mode ok --hostname mx.v6only.dane.test \\
      --cert certs/mx.v6only.dane.test.chain.pem --key certs/mx.v6only.dane.test.key
"""
import argparse
import os
import signal
import socket
import ssl
import struct
import sys
import threading
import time

LOG_LOCK = threading.Lock()
LOG = sys.stderr
TLS_LOCAL = threading.local()


def log(peer, msg):
    with LOG_LOCK:
        try:
            LOG.write("%.3f %s %s\n" % (time.time(), peer, msg))
            LOG.flush()
        except (OSError, ValueError):
            pass


class Closed(Exception):
    pass


class Conn:
    """Line I/O over a (possibly later TLS-wrapped) socket."""

    def __init__(self, sock, peer, args, ctx):
        self.sock = sock
        self.peer = peer
        self.args = args
        self.ctx = ctx
        self.buf = b""
        self.tls = False

    def send(self, text):
        self.sock.sendall(text.encode("ascii") + b"\r\n")

    def line(self):
        while b"\n" not in self.buf:
            if len(self.buf) > 65536:
                raise Closed("line too long")
            data = self.sock.recv(4096)
            if not data:
                raise Closed("eof")
            self.buf += data
        ln, self.buf = self.buf.split(b"\n", 1)
        return ln.rstrip(b"\r").decode("latin-1")

    def ehlo(self, name):
        a = self.args
        ext = ["PIPELINING", "SIZE 10240000"]
        if not self.tls and a.mode != "nostarttls":
            ext.append("STARTTLS")
        ext.append("8BITMIME")
        lines = [a.hostname] + ext
        out = ["250-" + x for x in lines[:-1]] + ["250 " + lines[-1]]
        self.sock.sendall(("\r\n".join(out) + "\r\n").encode("ascii"))
        log(self.peer, "ehlo=%s" % (name or "-"))

    def stall(self):
        end = time.monotonic() + self.args.stall_secs
        while True:
            left = end - time.monotonic()
            if left <= 0:
                log(self.peer, "stall-end")
                return
            self.sock.settimeout(min(left, 1.0))
            try:
                if not self.sock.recv(4096):
                    return
            except socket.timeout:
                continue

    def starttls(self):
        a = self.args
        if self.tls:
            self.send("554 5.5.1 Error: TLS already active")
            return True
        if a.mode == "nostarttls":
            self.send("502 5.5.1 STARTTLS not available")
            return True
        self.send("220 2.0.0 Ready to start TLS")
        log(self.peer, "starttls")
        if self.buf:
            log(self.peer, "discarded %d bytes pipelined after STARTTLS" % len(self.buf))
            self.buf = b""
        if a.mode == "stall":
            self.stall()
            return False
        if a.mode == "reset":
            try:
                self.sock.recv(1)
            except OSError:
                pass
            log(self.peer, "reset")
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.sock.close()
            return False
        TLS_LOCAL.sni = None
        try:
            s = self.ctx.wrap_socket(self.sock, server_side=True)
        except (ssl.SSLError, OSError) as e:
            log(self.peer, "tls-error=%s" % (getattr(e, "reason", None) or e))
            return False
        self.sock = s
        self.tls = True
        log(self.peer, "tls version=%s cipher=%s sni=%s"
            % (s.version(), s.cipher()[0], TLS_LOCAL.sni or "-"))
        return True

    def data(self):
        self.send("354 End data with <CR><LF>.<CR><LF>")
        n = 0
        while True:
            ln = self.line()
            if ln == ".":
                break
            n += len(ln) + 2
        self.send("250 2.0.0 Ok: discarded %d bytes" % n)

    def run(self):
        self.send("220 %s ESMTP smtp_server.py" % self.args.hostname)
        while True:
            ln = self.line()
            verb = ln.split(" ", 1)[0].upper()
            arg = ln[len(verb) + 1:].strip()
            if verb == "EHLO":
                self.ehlo(arg)
            elif verb == "HELO":
                self.send("250 %s" % self.args.hostname)
            elif verb == "STARTTLS":
                if not self.starttls():
                    return
            elif verb in ("NOOP", "RSET"):
                self.send("250 2.0.0 Ok")
            elif verb == "MAIL":
                self.send("250 2.1.0 Ok")
            elif verb == "RCPT":
                self.send("250 2.1.5 Ok")
            elif verb == "DATA":
                self.data()
            elif verb == "QUIT":
                self.send("221 2.0.0 Bye")
                log(self.peer, "quit")
                return
            else:
                self.send("500 5.5.2 Error: command not recognized")


def serve(sock, addr, args, ctx):
    peer = "[%s]:%s" % (addr[0], addr[1])
    log(peer, "connect")
    c = Conn(sock, peer, args, ctx)
    try:
        sock.settimeout(args.timeout)
        c.run()
    except Closed as e:
        log(peer, "close (%s)" % e)
    except socket.timeout:
        log(peer, "close (timeout)")
    except (OSError, ssl.SSLError) as e:
        log(peer, "close (%s)" % e)
    else:
        log(peer, "close")
    finally:
        try:
            c.sock.close()
        except OSError:
            pass


def main():
    global LOG
    p = argparse.ArgumentParser(description="test SMTP server with STARTTLS")
    p.add_argument("--listen", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--mode", required=True, choices=["ok", "nostarttls", "stall", "reset"])
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--hostname", default="smtp-server.test")
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--stall-secs", type=float, default=60.0)
    p.add_argument("--log")
    args = p.parse_args()

    def stop(_sig, _frm):
        # bounded: a connection thread may hold the log's lock
        if LOG_LOCK.acquire(timeout=0.2):
            try:
                LOG.flush()
            except (OSError, ValueError):
                pass
            LOG_LOCK.release()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    if args.log:
        LOG = open(args.log, "a", buffering=1)
    ctx = None
    if args.cert or args.key:
        if not (args.cert and args.key):
            p.error("--cert and --key go together")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)

        def sni(_s, name, _c):
            TLS_LOCAL.sni = name
        ctx.sni_callback = sni
    elif args.mode == "ok":
        p.error("mode ok needs --cert and --key")

    ai = socket.getaddrinfo(args.listen, args.port, type=socket.SOCK_STREAM,
                            flags=socket.AI_NUMERICHOST | socket.AI_PASSIVE)[0]
    ls = socket.socket(ai[0], socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if ai[0] == socket.AF_INET6:
        ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    ls.bind(ai[4])
    ls.listen(64)
    port = ls.getsockname()[1]
    host = args.listen if ai[0] == socket.AF_INET else "[%s]" % args.listen
    print("smtp_server listening on %s:%d mode=%s" % (host, port, args.mode), flush=True)
    log("-", "listening on %s:%d mode=%s" % (host, port, args.mode))
    while True:
        try:
            s, addr = ls.accept()
        except OSError:
            continue
        threading.Thread(target=serve, args=(s, addr, args, ctx), daemon=True).start()


if __name__ == "__main__":
    main()
