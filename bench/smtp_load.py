#!/usr/bin/env python3
"""smtp_load.py: send messages to an SMTP server, some over STARTTLS, each
to several recipients, and count those not accepted (bench/soak.sh).

    smtp_load.py --server IP[:PORT] --domains FILE --messages N
        [--procs P] [--per-conn K] [--max-rcpts R] [--ca FILE]
        [--seed S] [--timeout SECONDS]

FILE holds mail domains, the first word of each line (bench/soak.sh's key
file). P processes (default 4) share the N messages; each opens a
connection, sends up to K messages on it (default 20), QUITs and opens
the next one; every other connection of a process uses STARTTLS (the
first plain), verified against --ca when given (no host name check: the
server is an address). Each message has a sender at a random domain of
FILE and 1 to R recipients (default 4) at random domains, a small body
with a Message-ID. A message is accepted when every RCPT and the end of
DATA got 2xx; anything else (a refused recipient, a 4xx/5xx, a dropped
connection, a timeout: --timeout, default 60 s per SMTP command) counts as
failed, and the connection is replaced; after 5 connections in a row that
fail before a message, a process counts the rest of its messages as failed.

Prints one line:  smtp_load: sent=N accepted=A failed=F tls=T plain=P secs=S
(T and P count accepted messages by transport) and the first failure of
each process on stderr. Exit 0 when every message was accepted, else 1.
"""
import argparse
import multiprocessing
import random
import smtplib
import ssl
import sys
import time


def worker(args, idx, count, out):
    rnd = random.Random(args.seed * 1000 + idx)
    domains = args.domain_list
    ctx = None
    if args.ca:
        ctx = ssl.create_default_context(cafile=args.ca)
        ctx.check_hostname = False
    else:
        ctx = ssl._create_unverified_context()
    host, _, port = args.server.partition(":")
    port = int(port or 25)
    acc = fail = tls_n = plain_n = 0
    first_err = None
    conn_no = 0
    left = count
    dead = 0  # connections in a row that failed before a message
    while left > 0:
        use_tls = conn_no % 2 == 1
        conn_no += 1
        s = None
        before = left
        try:
            s = smtplib.SMTP(host, port, local_hostname="client.soak.test",
                             timeout=args.timeout)
            s.ehlo()
            if use_tls:
                s.starttls(context=ctx)
                s.ehlo()
            for _ in range(min(args.per_conn, left)):
                left -= 1
                frm = "s%d@%s" % (rnd.randrange(1000), rnd.choice(domains))
                rcpts = ["u%d@%s" % (j, rnd.choice(domains))
                         for j in range(rnd.randint(1, args.max_rcpts))]
                msg = ("From: <%s>\r\nTo: <%s>\r\nSubject: soak %d-%d\r\n"
                       "Message-ID: <soak.%d.%d.%d@client.soak.test>\r\n\r\n"
                       "soak message %d\r\n" % (
                           frm, rcpts[0], idx, left, idx, left, conn_no, left))
                try:
                    refused = s.sendmail(frm, rcpts, msg)
                except smtplib.SMTPException as e:
                    fail += 1
                    if first_err is None:
                        first_err = "%s -> %s: %r" % (frm, rcpts, e)
                    raise
                if refused:
                    fail += 1
                    if first_err is None:
                        first_err = "%s: refused %r" % (frm, refused)
                    continue
                acc += 1
                if use_tls:
                    tls_n += 1
                else:
                    plain_n += 1
            s.quit()
        except (smtplib.SMTPException, OSError) as e:
            if first_err is None:
                first_err = "connection %d: %r" % (conn_no, e)
            if s is not None:
                try:
                    s.close()
                except OSError:
                    pass
            dead = dead + 1 if left == before else 0
            if dead >= 5:  # the server is gone: the rest fail
                fail += left
                left = 0
    out.put((acc, fail, tls_n, plain_n, first_err))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--domains", required=True)
    ap.add_argument("--messages", type=int, required=True)
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument("--per-conn", type=int, default=20)
    ap.add_argument("--max-rcpts", type=int, default=4)
    ap.add_argument("--ca")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    if args.messages < 0 or args.procs < 1 or args.per_conn < 1 or args.max_rcpts < 1:
        ap.error("--messages >= 0, --procs, --per-conn and --max-rcpts >= 1")
    with open(args.domains) as f:
        args.domain_list = [ln.split()[0] for ln in f if ln.strip()]
    if not args.domain_list:
        ap.error("no domains in %s" % args.domains)
    t0 = time.monotonic()
    out = multiprocessing.Queue()
    procs = []
    per, extra = divmod(args.messages, args.procs)
    for i in range(args.procs):
        n = per + (1 if i < extra else 0)
        p = multiprocessing.Process(target=worker, args=(args, i, n, out))
        p.start()
        procs.append(p)
    acc = fail = tls_n = plain_n = 0
    for _ in procs:
        a, f, t, pl, err = out.get()
        acc += a
        fail += f
        tls_n += t
        plain_n += pl
        if err:
            print("smtp_load: first failure: %s" % err, file=sys.stderr)
    for p in procs:
        p.join()
    fail = max(fail, args.messages - acc)
    print("smtp_load: sent=%d accepted=%d failed=%d tls=%d plain=%d secs=%.1f" % (
        args.messages, acc, fail, tls_n, plain_n, time.monotonic() - t0))
    return 0 if acc == args.messages else 1


if __name__ == "__main__":
    sys.exit(main())
