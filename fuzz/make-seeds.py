#!/usr/bin/env python3
"""make-seeds.py: write the seed inputs of fuzz/rdata_fuzz.c.

    python3 fuzz/make-seeds.py [DIR]     (default: fuzz/corpus/rdata)

Small binary files, each a valid instance of what one decoder of dns/rdata.c
reads, so the fuzzer starts from the interesting shapes: uncompressed names
and rdata as libunbound hands them over, and a whole answer packet with
compressed names for rdata_answer_parse. Standard library only; the output
is the same on every run.
"""
import hashlib
import os
import struct
import sys


def name(text):
    """Uncompressed wire form of a presentation name ("." = root)."""
    out = b""
    for label in text.strip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def rr(owner, rtype, ttl, rdata):
    """A resource record; owner already in wire form (may be a pointer)."""
    return owner + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata


def answer_packet():
    """Response to "four.dane.test. MX": two MX with compressed names, an
    RRSIG-less TLSA-free answer and an SOA in the authority section."""
    qname = name("four.dane.test")
    hdr = struct.pack("!HHHHHH", 0x1234, 0x81a0, 1, 2, 1, 0)
    question = qname + struct.pack("!HH", 15, 1)
    ptr_qname = b"\xc0\x0c"                 # the question's name
    ans = rr(ptr_qname, 15, 3600, struct.pack("!H", 10) + b"\x03mx1" + ptr_qname)
    ans += rr(ptr_qname, 15, 3600, struct.pack("!H", 20) + b"\x03mx2" + ptr_qname)
    dane_test = b"\xc0\x11"                 # "dane.test" inside the question
    soa = (b"\x02ns" + dane_test + b"\x0ahostmaster" + dane_test +
           struct.pack("!IIIII", 2024010101, 3600, 900, 604800, 300))
    auth = rr(dane_test, 6, 600, soa)
    return hdr + question + ans + auth


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "rdata")
    os.makedirs(out, exist_ok=True)
    digest = hashlib.sha256(b"danemilter seed key").digest()
    seeds = {
        "name.bin": name("mx1.four.dane.test"),
        "name-escapes.bin": b"\x03a.b\x04 \\\xff_\x00",
        "mx.bin": struct.pack("!H", 10) + name("mx1.four.dane.test"),
        "nullmx.bin": struct.pack("!H", 0) + name("."),
        "tlsa.bin": bytes([3, 1, 1]) + digest,
        "a.bin": bytes([192, 0, 2, 1]),
        "aaaa.bin": bytes.fromhex("20010db8000000000000000000000001"),
        "txt.bin": b"\x0fv=STSv1; id=20" + b"\x0a2401010000",
        "answer-mx.bin": answer_packet(),
    }
    for fname, data in sorted(seeds.items()):
        with open(os.path.join(out, fname), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
