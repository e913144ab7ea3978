#!/usr/bin/env python3
"""sts_server.py: the MTA-STS policy (HTTPS) server of the test world.

Usage:
  sts_server.py --addr ADDR [--port 443] --dir STSDIR --cert CHAIN KEY
                [--sni NAME CHAIN KEY]...

Listens on ADDR:PORT (TLS only, threaded). The default certificate is CHAIN
(leaf + CA, PEM) with KEY; a client that sends SNI NAME given with --sni gets
that certificate instead (chosen in the SNI callback). world.sh uses:
  default                       certs/sts-server.chain.pem (test CA; one SAN
                                per mta-sts.<domain> the world serves)
  mta-sts.selfsigned.sts.test   certs/sts-selfsigned.pem (self-signed)
  mta-sts.wrongname.sts.test    certs/sts-wrongname.chain.pem (test CA, SAN
                                *.sts.test + wrongname.sts.test: wrong name)

Behaviour is read from files on EVERY request, so tests can change it at run
time (world.sh sts-set / sts-mode write these files):
  STSDIR/<host>/body   the policy body, served as is (bytes; LF or CRLF)
  STSDIR/<host>/mode   one line; missing or empty means "ok":
     ok               200, Content-Type: text/plain, Content-Length, body
     status:NNN       status NNN (e.g. 404, 500), text/plain, short body
     ctype:TYPE       200 with Content-Type: TYPE and the body
     redirect:URL     301 with Location: URL
     big              200 text/plain, Content-Length: 102400: the body and
                      then "x-pad: ..." filler lines up to 100 KiB
     chunked          the same 100 KiB, Transfer-Encoding: chunked (4 KiB
                      chunks, no Content-Length)
     slow[:SECS]      reads the request, then sends nothing for SECS
                      (default 60) and closes the connection
     delay:SECS       reads the request, waits SECS, then answers as "ok"
                      (a slow but successful fetch)
     reset            200 text/plain with the whole body's Content-Length,
                      half the body, then a TCP reset (SO_LINGER 0)
     stall[:SECS]     200 text/plain with the whole body's Content-Length,
                      then nothing for SECS (default 60), then close
     refuse           (by SNI, before TLS) a TCP reset right after accept,
                      before any byte is read or sent
     garbage          (by SNI, before TLS) 256 bytes of plain text
                      ("HTTP/1.1 200 OK" and filler) instead of a TLS
                      ServerHello, then close
<host> is the Host header, lower-cased, port removed; for refuse and garbage
it is the SNI of the ClientHello, read with MSG_PEEK before the handshake
(no SNI: the mode files are not read). A host without a directory, or any
path other than /.well-known/mta-sts.txt, gets 404. Every response is
HTTP/1.1 with Connection: close. Only GET (and HEAD) are served.

Log: one line per request to STSDIR/access.log (flushed):
  <unix time> <client ip> sni=<SNI|-> host=<Host|-> <METHOD> <path> <status> mode=<mode>
and "<time> <ip> sni=<SNI|-> tls-error=<reason>" when the handshake fails
(e.g. the client rejected the certificate during the handshake), or
"<time> <ip> sni=<SNI|-> no-request[=<reason>]" when the connection ended
without a request (e.g. the client rejected the name after a TLS 1.3
handshake). "slow" and "stall" requests are logged with status
"000" when the request was read (before the pause), "reset" ones with
"200". refuse and garbage connections log "<time> <ip> sni=<SNI> refused"
and "<time> <ip> sni=<SNI> garbage".

Exits on SIGTERM/SIGINT. Prints "sts_server listening on ADDR:PORT" when
ready.
"""
import argparse
import http.server
import os
import signal
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time

PATH = "/.well-known/mta-sts.txt"
BIG = 100 * 1024
LOCK = threading.Lock()
TL = threading.local()  # TL.sni: the SNI of this thread's connection


def make_ctx(chain, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(chain, key)
    return ctx


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr, handler, ctx, stsdir, log):
        self.ctx = ctx
        self.stsdir = stsdir
        self.log = log
        super().__init__(addr, handler)

    def write_log(self, line):
        with LOCK:
            self.log.write("%.3f %s\n" % (time.time(), line))
            self.log.flush()

    # The TLS handshake runs in the connection's thread, not in accept().
    def finish_request(self, request, client_address):
        request.settimeout(30)
        TL.sni = None
        TL.logged = False
        sni = peek_sni(request)
        mode = read_mode(self.stsdir, sni) if sni else ""
        if mode == "refuse":
            self.write_log("%s sni=%s refused" % (client_address[0], sni))
            reset(request)
            return
        if mode == "garbage":
            self.write_log("%s sni=%s garbage" % (client_address[0], sni))
            try:
                request.sendall((b"HTTP/1.1 200 OK\r\n" + b"x" * 256)[:256])
            except OSError:
                pass
            return
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.write_log("%s sni=%s tls-error=%s" % (
                client_address[0], TL.sni or "-",
                str(e).replace(" ", "_")[:200]))
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        except (ssl.SSLError, OSError) as e:
            if not TL.logged:
                self.write_log("%s sni=%s no-request=%s" % (
                    client_address[0], TL.sni or "-",
                    str(e).replace(" ", "_")[:200]))
                TL.logged = True
        finally:
            if not TL.logged:
                self.write_log("%s sni=%s no-request" % (
                    client_address[0], TL.sni or "-"))
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        pass  # client went away, timeouts: not interesting


def peek_sni(sock):
    """The SNI of the ClientHello waiting on sock (MSG_PEEK: nothing is
    consumed), lower-cased without a trailing dot; None when there is none
    or the hello does not arrive whole within 5 s."""
    deadline = time.monotonic() + 5
    data = b""
    try:
        while time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            data = sock.recv(16384, socket.MSG_PEEK)
            if not data:
                return None
            if len(data) >= 5 and len(data) >= 5 + int.from_bytes(data[3:5], "big"):
                break
            time.sleep(0.01)
    except OSError:
        return None
    finally:
        sock.settimeout(30)
    try:
        if data[0] != 22 or data[5] != 1:  # handshake, ClientHello
            return None
        i = 5 + 4 + 2 + 32                       # header, version, random
        i += 1 + data[i]                         # session id
        i += 2 + int.from_bytes(data[i:i + 2], "big")   # cipher suites
        i += 1 + data[i]                         # compression methods
        end = i + 2 + int.from_bytes(data[i:i + 2], "big")
        i += 2
        while i + 4 <= end:
            typ = int.from_bytes(data[i:i + 2], "big")
            ln = int.from_bytes(data[i + 2:i + 4], "big")
            if typ == 0:                         # server_name
                n = int.from_bytes(data[i + 7:i + 9], "big")
                return data[i + 9:i + 9 + n].decode("ascii").lower().rstrip(".")
            i += 4 + ln
    except (IndexError, UnicodeDecodeError):
        return None
    return None


def read_mode(stsdir, host):
    """The mode line of host ("" when none)."""
    if not host or "/" in host or host.startswith("."):
        return ""
    try:
        with open(os.path.join(stsdir, host, "mode")) as f:
            return f.read().strip()
    except OSError:
        return ""


def reset(sock):
    """Close sock with a TCP reset (SO_LINGER on, 0 s)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sts_server/1"
    sys_version = ""

    def log_message(self, fmt, *args):  # no stderr noise
        pass

    def sni(self):
        return getattr(TL, "sni", None) or "-"

    def log_req(self, host, status, mode):
        TL.logged = True
        self.server.write_log("%s sni=%s host=%s %s %s %s mode=%s" % (
            self.client_address[0], self.sni(), host or "-", self.command,
            self.path, status, mode))

    def send(self, status, ctype, body, extra=(), head=False):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET(head=True)

    def do_GET(self, head=False):
        self.close_connection = True
        host = (self.headers.get("Host") or "").strip().lower()
        if host.startswith("["):
            host = host.split("]")[0] + "]"
        else:
            host = host.split(":")[0]
        host = host.rstrip(".")
        d = os.path.join(self.server.stsdir, host)
        if not host or "/" in host or host.startswith(".") or not os.path.isdir(d) \
                or self.path.split("?")[0] != PATH:
            self.log_req(host, 404, "-")
            self.send(404, "text/plain", b"not found\n", head=head)
            return
        try:
            with open(os.path.join(d, "mode")) as f:
                mode = f.read().strip()
        except OSError:
            mode = ""
        mode = mode or "ok"
        try:
            with open(os.path.join(d, "body"), "rb") as f:
                body = f.read()
        except OSError:
            body = b""

        if mode.startswith("delay:"):
            time.sleep(float(mode[6:]))
            mode = "ok"
        if mode == "ok":
            self.log_req(host, 200, mode)
            self.send(200, "text/plain", body, head=head)
        elif mode.startswith("status:"):
            st = int(mode[7:])
            self.log_req(host, st, mode)
            self.send(st, "text/plain", b"status %d\n" % st, head=head)
        elif mode.startswith("ctype:"):
            self.log_req(host, 200, mode)
            self.send(200, mode[6:], body, head=head)
        elif mode.startswith("redirect:"):
            self.log_req(host, 301, mode)
            self.send(301, "text/plain", b"moved\n",
                      extra=[("Location", mode[9:])], head=head)
        elif mode in ("big", "chunked"):
            data = bytearray(body)
            while len(data) < BIG:
                data += b"x-pad: " + b"x" * 72 + b"\n"
            data = bytes(data[:BIG - 1]) + b"\n"
            if mode == "big":
                self.log_req(host, 200, mode)
                self.send(200, "text/plain", data, head=head)
                return
            self.log_req(host, 200, mode)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            if head:
                return
            for i in range(0, len(data), 4096):
                c = data[i:i + 4096]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(c), c))
            self.wfile.write(b"0\r\n\r\n")
        elif mode == "reset":
            self.log_req(host, 200, mode)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            time.sleep(0.1)
            reset(self.connection)
            self.close_connection = True
        elif mode == "stall" or mode.startswith("stall:"):
            secs = float(mode[6:]) if mode.startswith("stall:") else 60.0
            self.log_req(host, "000", mode)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.flush()
            time.sleep(secs)
        elif mode == "slow" or mode.startswith("slow:"):
            secs = float(mode[5:]) if mode.startswith("slow:") else 60.0
            self.log_req(host, "000", mode)
            self.wfile.flush()
            time.sleep(secs)
        else:
            self.log_req(host, 500, mode)
            self.send(500, "text/plain", b"bad mode file\n", head=head)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", required=True)
    ap.add_argument("--port", type=int, default=443)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--cert", nargs=2, required=True, metavar=("CHAIN", "KEY"))
    ap.add_argument("--sni", nargs=3, action="append", default=[],
                    metavar=("NAME", "CHAIN", "KEY"))
    a = ap.parse_args()

    ctx = make_ctx(*a.cert)
    sni_ctx = {n.lower(): make_ctx(c, k) for n, c, k in a.sni}

    def on_sni(sslobj, name, _ctx):
        if name:
            TL.sni = name
            other = sni_ctx.get(name.lower().rstrip("."))
            if other is not None:
                sslobj.context = other
        return None

    ctx.sni_callback = on_sni
    os.makedirs(a.dir, exist_ok=True)
    log = open(os.path.join(a.dir, "access.log"), "a")
    srv = Server((a.addr, a.port), Handler, ctx, a.dir, log)

    def stop(_sig, _frm):
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("sts_server listening on %s:%d" % (a.addr, a.port), flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
