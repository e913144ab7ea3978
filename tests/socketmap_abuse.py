#!/usr/bin/env python3
"""socketmap_abuse.py: protocol abuse against a running socketmap server.

    socketmap_abuse.py HOST PORT [--io-timeout S] [--idle-timeout S]
                                 [--idle-conns N]

Runs, one after another: malformed frames (oversized, non-digit and
leading-zero lengths, 11 digits, missing comma, an unframed text line), a
request sent byte by byte, connections that stop in the middle of a frame,
N idle connections held open (default 500) and a client that sends requests
without end and never reads its replies. Before, during and after each, a
well-behaved client (one persistent connection, reconnecting once on EOF
like Postfix, and one fresh connection) must get a reply to
"QUERY example.com" within 1 s each time. With --io-timeout /
--idle-timeout (the server's settings, in seconds) it also checks that
stalled and idle connections are closed within that time plus 2 s.

The server's lookup must answer real keys: any well-formed reply counts
("OK ...", "NOTFOUND ", "TEMP ...", "PERM ..."). Output is TAP; exit 1 when
a check fails. Standard library only.
"""
import argparse
import resource
import socket
import sys
import threading
import time

REPLY_MAX = 100000
STATUSES = (b"OK ", b"NOTFOUND", b"TEMP ", b"TIMEOUT ", b"PERM ")


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0
        self.lock = threading.Lock()

    def ok(self, cond, desc, diag=None):
        with self.lock:
            self.n += 1
            print("%sok %d - %s" % ("" if cond else "not ", self.n, desc))
            if not cond:
                self.failed += 1
                if diag:
                    print("# " + diag)
            sys.stdout.flush()
        return cond

    def diag(self, text):
        with self.lock:
            print("# " + text)
            sys.stdout.flush()

    def done(self):
        print("1..%d" % self.n)
        return 1 if self.failed else 0


def frame(payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return b"%d:%s," % (len(payload), payload)


class FrameError(Exception):
    pass


def read_frame(sock, buf, deadline):
    """One netstring payload from sock (bytes left over stay in buf, a
    bytearray); raises EOFError, socket.timeout or FrameError."""
    while True:
        colon = buf.find(b":")
        if colon > 0:
            digits = bytes(buf[:colon])
            if not digits.isdigit() or len(digits) > 10:
                raise FrameError("bad length %r" % digits[:20])
            n = int(digits)
            if n > REPLY_MAX:
                raise FrameError("reply of %d bytes" % n)
            if len(buf) >= colon + n + 2:
                if buf[colon + 1 + n] != ord(","):
                    raise FrameError("missing comma")
                payload = bytes(buf[colon + 1:colon + 1 + n])
                del buf[:colon + n + 2]
                return payload
        elif colon == 0 or len(buf) > 11:
            raise FrameError("bad length")
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("no reply in time")
        sock.settimeout(left)
        data = sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        buf.extend(data)


def connect(host, port, timeout=2.0):
    return socket.create_connection((host, port), timeout=timeout)


def closed_within(sock, seconds):
    """True when the server closes sock (EOF or reset) within seconds."""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        sock.settimeout(left)
        try:
            if not sock.recv(65536):
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False
        except OSError:
            return True


class GoodClient:
    """The well-behaved client: a persistent connection (reconnects once on
    EOF, as Postfix does) and a fresh connection per check."""

    def __init__(self, host, port, tap):
        self.host, self.port, self.tap = host, port, tap
        self.sock = None
        self.buf = bytearray()
        self.lock = threading.Lock()

    def _query(self, sock, buf, deadline):
        sock.sendall(frame("QUERY example.com"))
        reply = read_frame(sock, buf, deadline)
        if not reply.startswith(STATUSES):
            raise FrameError("unexpected reply %r" % reply[:60])
        return reply

    def _persistent(self, deadline):
        for attempt in (0, 1):
            try:
                if self.sock is None:
                    self.sock = connect(self.host, self.port, max(deadline - time.monotonic(), 0.01))
                    self.buf = bytearray()
                return self._query(self.sock, self.buf, deadline)
            except (EOFError, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt:
                    raise
        raise EOFError("unreachable")

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def check(self, when):
        """One TAP line: both connections answered within 1 s."""
        with self.lock:
            errors = []
            start = time.monotonic()
            try:
                self._persistent(start + 1.0)
            except Exception as e:  # noqa: BLE001 - any failure is reported
                errors.append("persistent: %s: %s" % (type(e).__name__, e))
                self.close()
            t1 = time.monotonic()
            try:
                s = connect(self.host, self.port, 1.0)
                try:
                    self._query(s, bytearray(), t1 + 1.0)
                finally:
                    s.close()
            except Exception as e:  # noqa: BLE001
                errors.append("fresh: %s: %s" % (type(e).__name__, e))
            took = (time.monotonic() - start) * 1000
            return self.tap.ok(not errors, "well-behaved client answered within 1 s %s" % when,
                               "; ".join(errors) + " (%.0f ms)" % took)


def bad_frames(host, port, tap, good):
    cases = [
        (b"99999999:", "oversized length"),
        (b"12345678901:", "11-digit length"),
        (b"abc:", "non-digit length"),
        (b"-1:", "negative length"),
        (b"05:QUERY,", "leading zero"),
        (b"17:QUERY example.comX", "missing comma"),
        (b"QUERY example.com\r\n", "unframed text line"),
        (b"20000:" + b"A" * 1000, "length above the query limit with data"),
    ]
    for data, desc in cases:
        try:
            s = connect(host, port)
            s.sendall(data)
            tap.ok(closed_within(s, 1.0), "%s: connection closed within 1 s" % desc)
            s.close()
        except OSError as e:
            tap.ok(False, "%s: connection closed within 1 s" % desc, str(e))
    good.check("after malformed frames")


def partial_frames(host, port, tap, good, io_timeout):
    # A valid request delivered a byte at a time is still answered.
    try:
        s = connect(host, port)
        data = frame("QUERY example.com")
        for i in range(len(data)):
            s.sendall(data[i:i + 1])
            time.sleep(0.01)
        reply = read_frame(s, bytearray(), time.monotonic() + 1.0)
        tap.ok(reply.startswith(STATUSES), "request sent byte by byte is answered")
        s.close()
    except Exception as e:  # noqa: BLE001
        tap.ok(False, "request sent byte by byte is answered", "%s: %s" % (type(e).__name__, e))

    # Connections that stop in the middle of a frame.
    stalled = []
    for i in range(50):
        try:
            s = connect(host, port)
            s.sendall([b"17:QUERY exa", b"17", b"1", b"17:QUERY example.com"][i % 4])
            stalled.append(s)
        except OSError:
            pass
    tap.ok(len(stalled) == 50, "50 connections stalled inside a frame",
           "%d connected" % len(stalled))
    good.check("while 50 connections stall inside a frame")
    if io_timeout is not None:
        deadline = time.monotonic() + io_timeout + 2.0
        closed = sum(1 for s in stalled if closed_within(s, max(deadline - time.monotonic(), 0.01)))
        tap.ok(closed == len(stalled), "stalled connections closed within the I/O timeout + 2 s",
               "%d of %d closed" % (closed, len(stalled)))
    for s in stalled:
        s.close()
    good.check("after the stalled connections")


def idle_conns(host, port, tap, good, n, idle_timeout):
    conns = []
    for _ in range(n):
        try:
            conns.append(connect(host, port))
        except OSError as e:
            tap.diag("connection %d: %s" % (len(conns) + 1, e))
            break
    tap.ok(len(conns) == n, "%d idle connections opened" % n, "%d opened" % len(conns))
    time.sleep(0.2)
    # The server may refuse some above its connection limit: count the living.
    alive = 0
    for s in conns:
        s.settimeout(0.001)
        try:
            if s.recv(1):
                alive += 1
        except socket.timeout:
            alive += 1
        except OSError:
            pass
    tap.diag("%d of %d idle connections still open after 0.2 s" % (alive, len(conns)))
    good.check("while %d idle connections are held open" % n)
    if idle_timeout is not None:
        deadline = time.monotonic() + idle_timeout + 2.0
        closed = sum(1 for s in conns if closed_within(s, max(deadline - time.monotonic(), 0.01)))
        tap.ok(closed == len(conns), "idle connections closed within the idle timeout + 2 s",
               "%d of %d closed" % (closed, len(conns)))
    for s in conns:
        s.close()
    good.check("after the idle connections are gone")


def never_reads(host, port, tap, good, io_timeout):
    """A client that sends requests without end and never reads a reply."""
    state = {"sent": 0, "blocked": False, "error": None}
    stop = threading.Event()
    try:
        s = connect(host, port)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    except OSError as e:
        tap.ok(False, "non-reading client connects", str(e))
        return

    def pump():
        chunk = frame("QUERY example.com") * 4000
        s.settimeout(1.0)
        while not stop.is_set() and state["sent"] < 64 * 1024 * 1024:
            try:
                state["sent"] += s.send(chunk)
            except socket.timeout:
                state["blocked"] = True
                break
            except OSError as e:
                state["error"] = str(e)
                break

    t = threading.Thread(target=pump, daemon=True)
    t.start()
    for i in range(3):
        time.sleep(0.5)
        good.check("while a client sends requests and never reads (%d)" % (i + 1))
    t.join(timeout=10)
    stop.set()
    tap.ok(state["blocked"] or state["error"] is not None,
           "the server stops reading from a client that does not read its replies",
           "sent %d bytes without being stopped" % state["sent"])
    tap.diag("non-reading client sent %d bytes before %s" %
             (state["sent"], "blocking" if state["blocked"] else state["error"] or "stopping"))
    if io_timeout is not None:
        tap.ok(closed_within(s, io_timeout + 2.0) or state["error"] is not None,
               "the non-reading client is closed within the I/O timeout + 2 s")
    s.close()
    good.check("after the non-reading client")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--io-timeout", type=float, help="server's I/O timeout in seconds")
    ap.add_argument("--idle-timeout", type=float, help="server's idle timeout in seconds")
    ap.add_argument("--idle-conns", type=int, default=500)
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.idle_conns + 200
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (want if hard == resource.RLIM_INFINITY else min(want, hard), hard))

    tap = Tap()
    good = GoodClient(args.host, args.port, tap)
    if not good.check("at the start"):
        print("Bail out! no reply from %s:%d" % (args.host, args.port))
        return 1
    bad_frames(args.host, args.port, tap, good)
    partial_frames(args.host, args.port, tap, good, args.io_timeout)
    idle_conns(args.host, args.port, tap, good, args.idle_conns, args.idle_timeout)
    never_reads(args.host, args.port, tap, good, args.io_timeout)
    good.check("at the end")
    good.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
