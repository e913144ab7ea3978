#!/usr/bin/env bash
# world.sh: the local DNSSEC test world for danemilter.
#
#   world.sh start DIR   build and start a world in DIR (absolute path; created);
#                        with WORLD_GEN_DOMAINS=N in the environment (1 to
#                        200000) the world also serves the generated zone
#                        gen.test of N mail domains (below; for bench/)
#   world.sh stop DIR    stop it (by PID; idempotent; DIR is left in place);
#                        also runs `postfix.sh stop DIR` (Postfix, unbound)
#                        and `sendmail.sh stop DIR` (Sendmail)
#   world.sh sts-set DIR DOMAIN ID [BODYFILE]
#                        replace every TXT at _mta-sts.DOMAIN (DOMAIN in
#                        sts.test or dane.test) by "v=STSv1; id=ID;" (ID "-":
#                        remove them), re-sign the zone, `nsd-control reload
#                        ZONE` (SIGHUP if DIR is too long for the control
#                        socket), wait until NSD serves the new SOA serial,
#                        flush DOMAIN from postfix.sh's unbound if it runs;
#                        BODYFILE (optional) becomes the served policy. ~0.2 s.
#   world.sh tlsa-set DIR HOST [RECORD...]
#                        replace every TLSA at _25._tcp.HOST (HOST in
#                        dane.test) by the RECORDs ("U S M HEX", TTL 1;
#                        none: remove them), re-sign dane.test, reload it
#                        as sts-set does, flush HOST from postfix.sh's
#                        unbound if it runs. ~0.2 s.
#   world.sh sts-mode DIR DOMAIN MODE
#                        what the HTTPS server does for mta-sts.DOMAIN: ok |
#                        status:NNN | ctype:TYPE | redirect:URL | big |
#                        chunked | slow[:SECS] | delay:SECS (then ok) |
#                        reset (half the body, then
#                        a TCP reset) | stall[:SECS] (headers, then
#                        silence) | refuse (a TCP reset at accept, before
#                        TLS) | garbage (plain text instead of TLS) (see
#                        sts_server.py)
#
# A world is a private signed root ".", a signed "test." and the test zones
# below it, all served by one NSD on 127.A.B.1:53 (random /24 per start so that
# several worlds can run at once), plus a "blackhole" name server on .2 that
# reads and never answers, and nothing at all on .3. The MTA-STS policy
# server (sts_server.py, HTTPS) listens on .4:443; .5 is reserved for
# postfix.sh's validating unbound, .6 for postfix.sh's inbound MX
# (start-inbound: mx.inbound.test, smtpd with milters), .7 for sendmail.sh's
# Sendmail (mx.sendmail.test, with danemilter.mc). MX hosts get .10
# and up, in the order of ADDR_HOSTS (new hosts are appended, so every host
# keeps its address): .10-.30 the dane.test/unsigned/bogus/corrupt hosts,
# .31-.50 mx.LABEL.sts.test, then .51 mx.nostarttls.dane.test, .52
# mx.taexpired.dane.test, .53 mx.tawrongname.dane.test, .54
# mx.stall.dane.test, .55 mx.tanexthop.dane.test, .56 real.tacname.dane.test,
# .57 mx.monitor.dane.test. mx.v6only.dane.test has no
# IPv4 address (AAAA ::1).
#
# Files written in DIR:
#   world.env          sourceable shell: WORLD_* variables (plain assignments)
#   root.key           trust anchor: the root's DS, zone-file form
#   danemilter.conf    libconfig, dns stub "." -> NSD, trust anchor above
#   unbound-host.conf  for `unbound-host -C` (independent checks)
#   certs/             test CA, a leaf per MX host name, expired, selfsigned,
#                      sts-server/sts-wrongname/sts-selfsigned (below)
#   zones/ keys/ nsd/  zone files (signed), DNSSEC keys, NSD config/log/pid,
#                      nsd/nsd.ctl (nsd-control socket)
#   sts/               MTA-STS server: sts/mta-sts.DOMAIN/{body,mode},
#                      access.log, server.log
#
# world.env: WORLD_DIR WORLD_NET (127.A.B) WORLD_NS (.1) WORLD_BLACKHOLE (.2)
# WORLD_DEAD (.3) WORLD_CA WORLD_CA_KEY WORLD_CERTS WORLD_TRUST_ANCHOR
# WORLD_CONF WORLD_UNBOUND_CONF WORLD_NSD_PID WORLD_BLACKHOLE_PID, WORLD_STS
# (.4) WORLD_STS_PID WORLD_STS_DIR (DIR/sts) WORLD_STS_DOMAINS (every mail
# domain with a policy host: usable.dane.test, monitor.dane.test and the
# 20 of sts.test)
# WORLD_RESOLVER (.5, postfix.sh's unbound) WORLD_NSD_CONF, WORLD_HOSTS
# ("name=addr ..." for every MX host) and WORLD_ADDR_<NAME> per host (upper
# case, "." and "-" -> "_": WORLD_ADDR_MX1_USABLE_DANE_TEST=127.A.B.10,
# WORLD_ADDR_MX_ENFORCE_STS_TEST=...), WORLD_V6_HOSTS ("name=::1 ..." for
# the MX hosts with only an AAAA: mx.v6only.dane.test; no WORLD_ADDR_*),
# WORLD_GEN_DOMAINS (N of gen.test; 0: no such zone).
#
# Needs root (port 53), bash, nsd, ldnsutils, bind9-dnsutils (dig), openssl,
# python3, iproute2 (ss), util-linux (flock); check-world.sh also needs
# unbound-host. Start takes ~2 s (~3 s on a loaded machine). Addresses are reserved against other
# worlds with lock directories in /tmp/danemilter-world-nets/ (removed by stop).
#
# Certificates (certs/): ca.pem/ca.key (CN "danemilter test CA"); for each host
# name H: H.pem, H.key, H.chain.pem (= leaf + CA), SAN DNS:H, valid from
# yesterday for 30 days; expired.pem/.key/.chain.pem for mx.expired.dane.test
# (valid 2020-01-01..2020-02-01); selfsigned.pem/.key (CN/SAN
# selfsigned.dane.test); other.key (only its hash is used: wrongtlsa).
# mx.expired.dane.test.pem is a valid leaf like the others; expired.pem is the
# expired one for the same name.
# MTA-STS server certificates: sts-server.{pem,key,chain.pem} (test CA, one
# SAN per mta-sts.DOMAIN of WORLD_STS_DOMAINS except selfsigned/wrongname;
# the default), sts-wrongname.* (test CA, SAN *.sts.test + wrongname.sts.test:
# served for SNI mta-sts.wrongname.sts.test), sts-selfsigned.{pem,key}
# (self-signed, SAN mta-sts.selfsigned.sts.test: served for that SNI).
# badcert-selfsigned.{pem,key}: self-signed, CN/SAN mx.badcert.sts.test.
# TLS probe fixtures: taexpired.{pem,key,chain.pem}: test-CA leaf for
# mx.taexpired.dane.test valid 2020-01-01..2020-02-01 (expired; like
# expired.pem); wrong.example.{pem,key,chain.pem}: test-CA leaf valid now,
# CN and only SAN "wrong.example"; tanexthop.dane.test.{pem,key,chain.pem}:
# test-CA leaf valid now, CN and only SAN "tanexthop.dane.test" (the next-hop
# domain, not the MX host name). mx.v6only.dane.test.{pem,key,chain.pem}
# is made like every host's (for a test's own smtp_server.py on ::1).
# Convention: the server at a host's address presents that host's H.pem; the
# TLSA records below are computed so that this convention makes every "usable"
# domain verify (cnamehost2's TLSA at the alias base is the real host's key).
# Exceptions (postfix.sh start-sink): at mx.badcert.sts.test's address the
# sink presents badcert-selfsigned.pem (not mx.badcert.sts.test.pem), at
# mx.taexpired.dane.test's taexpired.chain.pem, at mx.tawrongname.dane.test's
# wrong.example.chain.pem, at mx.tanexthop.dane.test's
# tanexthop.dane.test.chain.pem; at mx.nostarttls.dane.test's it offers no
# STARTTLS; at mx.stall.dane.test's smtp_server.py --mode stall listens
# instead of Postfix (EHLO lists STARTTLS, "220 Ready", then silence).
#
# TTLs: records 3600 (MX, A, AAAA, CNAME, NS, DS, DNSKEY), TLSA and the CNAMEs
# at TLSA names 600; SOA minimum 300, so every negative answer (NXDOMAIN,
# NODATA, including AAAA NODATA) has TTL 300. Only mx1.usable.dane.test has an
# AAAA (::1) and an A, mx.v6only.dane.test only an AAAA (::1); every other
# host has an A only.
#
#  mail domain            expected   smallest positive TTL / negative answers
#  usable.dane.test       usable     600 / none (mx1 has A and AAAA)
#  ta.dane.test           usable     600 / AAAA NODATA 300
#  notlsa.dane.test       none       3600 / TLSA NXDOMAIN 300
#  nodata.dane.test       none       3600 / TLSA NODATA 300
#  partial.dane.test      partial    600 / mx2 TLSA NXDOMAIN 300
#  unusable.dane.test     unusable   600 / AAAA NODATA 300
#  agility.dane.test      usable     600 / AAAA NODATA 300
#  four.dane.test         usable     600 / AAAA NODATA 300
#  cnamehost.dane.test    usable     600 / AAAA NODATA 300 (TLSA base real.)
#  cnamehost2.dane.test   usable     600 / TLSA at real. NXDOMAIN 300 (base alias.)
#  tlsacname.dane.test    usable     600 / AAAA NODATA 300
#  cnamedomain.dane.test  usable     600 / none (follows usable.dane.test)
#  nullmx.dane.test       nullmx     3600 / none
#  implicit.dane.test     usable     600 / MX NODATA 300
#  implicitcname.dane.test usable    (CNAME, no MX; TLSA at the original name only)
#  half.dane.test         usable     (MX 20 in lame.test: a host error, skipped)
#  halfnone.dane.test     partial    (the other MX has no TLSA: the lame host is skipped, policy dane)
#  many.dane.test         usable     (17 MX hosts with TLSA; 16 examined: policy dane)
#  xn--bcher-kva.dane.test usable    (bücher.dane.test: an IDN, MX -> mx1.usable.dane.test)
#  mixednull.dane.test    nullmx     (null MX mixed with a real MX: as Postfix)
#  ipmx.dane.test         none       (the MX names an address: unreachable)
#  insecurehost.dane.test none       3600 (host insecure: its TLSA is ignored)
#  unsigned.test          insecure   600 (insecure TLSA) / AAAA NODATA 300
#  hosted.unsigned.test   insecure   (unsigned MX -> mx1.usable.dane.test: policy dane, mx-tlsa=usable)
#  bogus.test             bogus      - (every RRSIG expired in 2020)
#  badtlsa.dane.test      bogus      MX/A secure 3600; TLSA RRSIG corrupted
#  expired.dane.test      usable     600 / AAAA NODATA 300
#  wrongtlsa.dane.test    usable     600 / AAAA NODATA 300
#  lame.test              temperror  - (NS on .2 never answers)
#  dead.test              temperror  - (NS on .3, nothing listens)
#  TLS probe fixtures: the DNS is in order (verdict usable for the DNS
#  engine); the failure (or, for tanexthop, the pass) shows only in a TLS
#  probe of the MX host:
#  nostarttls.dane.test   usable     600 / AAAA NODATA 300 (3 1 1; sink: no STARTTLS)
#  taexpired.dane.test    usable     600 / AAAA NODATA 300 (2 1 1 CA; sink: expired leaf)
#  tawrongname.dane.test  usable     600 / AAAA NODATA 300 (2 1 1 CA; sink: leaf for wrong.example)
#  tacname.dane.test      usable     (MX CNAME real., 2 1 1 CA at real.; sink: leaf for the MX alias only)
#  stall.dane.test        usable     600 / AAAA NODATA 300 (3 1 1; STARTTLS 220, then silence)
#  v6only.dane.test       usable     600 / A NODATA 300 (3 1 1; AAAA ::1 only, nothing listens)
#  tanexthop.dane.test    usable     600 / AAAA NODATA 300 (2 1 1 CA; sink: leaf for tanexthop.dane.test)
#  monitor.dane.test      usable     1 (TLSA 3 1 1 of mx.monitor's key, TTL 1, so that
#   tlsa-set is seen at once), AAAA NODATA 300; _mta-sts TXT id=monitor1 (TTL 1) and an
#   enforce policy "mx: mx.monitor.dane.test"; _smtp._tls TXT "v=TLSRPTv1;
#   rua=mailto:tlsrpt@monitor.dane.test" (TTL 1). For `danemilter monitor`
#   (tests/engine/monitor_*.sh run smtp_server.py at mx.monitor's address
#   with the certificate they deploy).
#   (a positive fixture: the leaf names only the next-hop domain, not the MX
#   host; with a secure MX RRset that is a reference identifier too, RFC 7672
#   3.2.2, so the DANE-TA probe passes; tawrongname's leaf must still fail)
#  (usable.dane.test also has _mta-sts TXT id=usable1 and an enforce policy
#   "mx: mx1.usable.dane.test": DANE must win over MTA-STS)
#
# sts.test (signed, DS in test.): LABEL.sts.test has MX 10 mx.LABEL.sts.test
# (A at its own address, leaf cert, NO TLSA: DANE none), _mta-sts TXT
# "v=STSv1; id=LABEL1;" and mta-sts.LABEL A .4, except where said. Every
# _mta-sts TXT has TTL 1. Policies: "version: STSv1", the mode, mx lines,
# "max_age: 86400", LF line ends.
#  LABEL       server behaviour (mode file, body)               expected mta-sts
#  enforce     ok; enforce, mx.enforce.sts.test + *.backup.sts.test   enforce
#  testing     ok; testing, mx.testing.sts.test + *.backup.sts.test   testing
#  none        ok; mode none, no mx lines                           none
#  crlf        ok; CRLF, "foo: bar", "mode: enforce" then "mode: testing" enforce
#  nohost      (no A/AAAA for mta-sts.nohost: NXDOMAIN)             error
#  selfsigned  ok; self-signed cert (SNI)                           error
#  wrongname   ok; test-CA cert for *.sts.test (SNI)                error
#  cnonly      ok; test-CA cert with the name as CN only, no SAN (SNI) error
#  redirect    redirect:https://mta-sts.enforce.sts.test/.well-known/mta-sts.txt error
#  notfound    status:404                                           error
#  ctype       ctype:text/html                                      error
#  big         big (200, 100 KiB, Content-Length)                   error
#  chunked     chunked (200, 100 KiB, Transfer-Encoding: chunked)   error
#  syntax      ok; "mode: sometimes"                                error
#  slow        slow (reads the request, then silence for 60 s)      error
#  changing    ok; enforce (tests use sts-set / sts-mode)           enforce
#  twotxt      TXT id=a1 and id=b2                                  absent
#  badtxt      TXT "v=STSv2; id=1;" and "hello"                     absent
#  nosts       no _mta-sts TXT (policy served if one is added)      absent
#  badcert     ok; enforce, mx.badcert.sts.test; but the MX host's   enforce
#              SMTP server (postfix.sh sink) presents a self-signed
#              certificate: Postfix "secure" delivery must fail
#
# gen.test (only with WORLD_GEN_DOMAINS=N; signed, NSEC3, DS in test.): N
# mail domains numbered I = 0 .. N-1, the kind chosen by I mod 10; each has
# MX 10 mx.<name> whose A is WORLD_NET.9 (nothing listens there), TTLs as
# above (TLSA 600, the rest 3600, negative 300):
#  I mod 10   name            TLSA at _25._tcp.mx.<name>     expected (socketmap)
#  0-5        dI.gen.test     3 1 1 (mx1.usable's key)      usable: OK dane-only
#  6-8        pI.gen.test     none (NXDOMAIN), no _mta-sts  none: NOTFOUND
#  9          tI.gen.test     3 1 1, RRSIG corrupted        bogus: TEMP
# Signing takes ~1 s per 10,000 domains. NSD's response rate limiting is
# off in such a world (rrl-ratelimit 0: load would trip its 200 qps).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
# A system python starts in 20 ms, a pyenv shim in 250 ms: prefer the former.
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
LOCKROOT=/tmp/danemilter-world-nets # shared by all worlds on the machine

# shellcheck source=tests/world/proc.sh
. "$(dirname "${BASH_SOURCE[0]}")/proc.sh"

die() { echo "world.sh: $*" >&2; exit 1; }

# ---------------------------------------------------------------- helpers



# listening ADDR: something listens (TCP or UDP, any port) on ADDR.
listening() {
	ss -Hlntu 2>/dev/null | awk '{print $5}' | grep -q "^$1:"
}

# pick_net: choose a free random 127.A.B and reserve it (lock dir).
pick_net() {
	local i a b net
	mkdir -p "$LOCKROOT"
	for i in $(seq 1 50); do
		a=$((64 + RANDOM % 187))
		b=$((1 + RANDOM % 250))
		net=127.$a.$b
		listening "$net.1" && continue
		listening "$net.2" && continue
		listening "$net.3" && continue
		listening "$net.4" && continue
		listening "$net.5" && continue
		listening "$net.6" && continue
		mkdir "$LOCKROOT/$net" 2>/dev/null || continue
		echo "$DIR" >"$LOCKROOT/$net/owner"
		NET=$net
		return 0
	done
	die "no free 127.x.y.0/24 found"
}

# ---------------------------------------------------------------- hosts

# Host names that get an address (.10 and up, in this order).
ADDR_HOSTS="mx1.usable.dane.test mx.ta.dane.test mx.notlsa.dane.test
mx.nodata.dane.test mx1.partial.dane.test mx2.partial.dane.test
mx.unusable.dane.test mx.agility.dane.test mx1.four.dane.test
mx2.four.dane.test mx3.four.dane.test mx4.four.dane.test
real.cnamehost.dane.test real.cnamehost2.dane.test mx.tlsacname.dane.test
implicit.dane.test mx.unsigned.test mx.bogus.test mx.corrupt.test
mx.expired.dane.test mx.wrongtlsa.dane.test"
# MTA-STS mail domains (LABEL.sts.test); each gets MX 10 mx.LABEL.sts.test.
# (New labels go at the end: every host keeps its address.)
STS_LABELS="enforce testing none crlf nohost selfsigned wrongname redirect
notfound ctype big chunked syntax slow changing twotxt badtxt nosts badcert cnonly"
for _l in $STS_LABELS; do ADDR_HOSTS="$ADDR_HOSTS mx.$_l.sts.test"; done
unset _l
# TLS probe fixtures (dane.test; DNS verdict usable, the failure is in TLS):
# at their addresses postfix.sh start-sink serves no STARTTLS (nostarttls),
# an expired leaf (taexpired), a leaf for wrong.example (tawrongname), and
# smtp_server.py --mode stall instead of Postfix (stall); then a leaf that
# names only the next-hop domain tanexthop.dane.test (tanexthop: passes).
ADDR_HOSTS="$ADDR_HOSTS mx.nostarttls.dane.test mx.taexpired.dane.test
mx.tawrongname.dane.test mx.stall.dane.test mx.tanexthop.dane.test"
# tacname: the MX name mx.tacname is a CNAME to real.tacname, which holds
# the TLSA RRset (2 1 1, the CA); the sink at real's address presents a leaf
# named only mx.tacname.dane.test (the unexpanded MX name: not a DANE-TA
# reference identifier when the TLSA base is the CNAME target, RFC 7672
# 3.2.2; Postfix defers). The alias gets its certificate as an ALIAS_HOST.
ADDR_HOSTS="$ADDR_HOSTS real.tacname.dane.test"
# monitor: the operator's own domain of `danemilter monitor`'s tests.
ADDR_HOSTS="$ADDR_HOSTS mx.monitor.dane.test"
# Policy hosts served by sts_server.py with the test CA's sts-server cert
# (every mta-sts.LABEL.sts.test except selfsigned/wrongname, and usable's).
STS_POLICY_DOMAINS="usable.dane.test monitor.dane.test"
for _l in $STS_LABELS; do STS_POLICY_DOMAINS="$STS_POLICY_DOMAINS $_l.sts.test"; done
unset _l
# Names that are MX targets but CNAMEs (a certificate, no address).
ALIAS_HOSTS="alias.cnamehost.dane.test alias.cnamehost2.dane.test mx.tacname.dane.test"
# MX hosts with only an AAAA (::1), no IPv4 address: a certificate and a
# TLSA record, nothing listens (tests run smtp_server.py on ::1 themselves).
V6_HOSTS="mx.v6only.dane.test"

declare -A ADDR SHA256 SHA512

assign_addresses() {
	local n=10 h
	for h in $ADDR_HOSTS; do
		ADDR[$h]=$NET.$n
		n=$((n + 1))
	done
}

# ---------------------------------------------------------------- certificates

write_ca_cnf() {
	cat >"$C/ca/ca.cnf" <<EOF
[ ca ]
default_ca = testca
[ testca ]
dir = $C/ca
certificate = $C/ca.pem
private_key = $C/ca.key
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
default_md = sha256
policy = pol_any
unique_subject = no
email_in_dn = no
copy_extensions = copy
[ pol_any ]
commonName = supplied
[ req ]
distinguished_name = dn
[ dn ]
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ v3_leaf ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
}

# newreq CN BASE [openssl req options]: new P-256 key $C/BASE.key and a
# request $C/ca/req/BASE.pem (the public key, then the CSR).
newreq() {
	local cn=$1 base=$2
	shift 2
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-config "$C/ca/ca.cnf" -subj "/CN=$cn" "$@" -pubkey \
		-keyout "$C/$base.key" -out "$C/ca/req/$base.pem" 2>>"$C/openssl.log"
}

# split_and_hash NAME...: write $C/NAME.pem and $C/NAME.chain.pem (leaf + CA)
# from the CA's new_certs_dir (found by CN in index.txt). Then print
# "NAME SHA256 SHA512" of the DER SubjectPublicKeyInfo of every request in
# $C/ca/req (one python process instead of ~100 openssl ones).
split_and_hash() {
	"$PYTHON" - "$C" "$@" <<'PY'
import base64, glob, hashlib, os, re, sys
c, bases = sys.argv[1], sys.argv[2:]
ca = open(os.path.join(c, "ca.pem")).read()
serial = {}  # CN -> serial, from the CA's index (last one wins)
for line in open(os.path.join(c, "ca", "index.txt")):
    f = line.rstrip("\n").split("\t")
    serial[f[5].split("CN=")[-1]] = f[3]
for b in bases:
    t = open(os.path.join(c, "ca", "new", serial[b] + ".pem")).read()
    p = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n", t, re.S).group(0)
    open(os.path.join(c, b + ".pem"), "w").write(p)
    open(os.path.join(c, b + ".chain.pem"), "w").write(p + ca)
for f in sorted(glob.glob(os.path.join(c, "ca", "req", "*.pem"))):
    m = re.search(r"-----BEGIN PUBLIC KEY-----(.*?)-----END PUBLIC KEY-----",
                  open(f).read(), re.S)
    der = base64.b64decode("".join(m.group(1).split()))
    print(os.path.basename(f)[:-4], hashlib.sha256(der).hexdigest(),
          hashlib.sha512(der).hexdigest())
PY
}

make_certs() {
	local now y e h pids='' pid j n name s256 s512
	C=$DIR/certs
	mkdir -p "$C/ca/new" "$C/ca/req"
	: >"$C/ca/index.txt"
	echo 1000 >"$C/ca/serial"
	write_ca_cnf
	now=$(date -u +%s)
	y=$(date -u -d "@$((now - 86400))" +%Y%m%d%H%M%SZ)
	e=$(date -u -d "@$((now + 29 * 86400))" +%Y%m%d%H%M%SZ)

	# The MTA-STS policy server's main certificate: one SAN per policy host.
	local d stssan=''
	for d in $STS_POLICY_DOMAINS; do
		case $d in selfsigned.sts.test | wrongname.sts.test | cnonly.sts.test) continue ;; esac
		stssan="$stssan${stssan:+,}DNS:mta-sts.$d"
	done

	# Keys and requests: 3 parallel jobs (openssl start-up dominates).
	for j in 0 1 2; do
		(
			n=0
			for h in $ADDR_HOSTS $ALIAS_HOSTS $V6_HOSTS; do
				n=$((n + 1))
				[ $((n % 3)) = "$j" ] || continue
				newreq "$h" "$h" -addext "subjectAltName=DNS:$h"
			done
			case $j in
			0) newreq mx.expired.dane.test expired \
				-addext "subjectAltName=DNS:mx.expired.dane.test"
				newreq mx.taexpired.dane.test taexpired \
					-addext "subjectAltName=DNS:mx.taexpired.dane.test"
				newreq wrong.example wrong.example -addext "subjectAltName=DNS:wrong.example"
				newreq tanexthop.dane.test tanexthop.dane.test \
					-addext "subjectAltName=DNS:tanexthop.dane.test"
				newreq sts-server sts-server -addext "subjectAltName=$stssan" ;;
			1) newreq other.dane.test other # only its key is used
				# the name as CN only, no subjectAltName (RFC 8461 wants a DNS-ID)
				newreq mta-sts.cnonly.sts.test mta-sts.cnonly.sts.test
				newreq sts-wrongname sts-wrongname \
					-addext "subjectAltName=DNS:*.sts.test,DNS:wrongname.sts.test" ;;
			2) openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
				-config "$C/ca/ca.cnf" -subj "/CN=selfsigned.dane.test" \
				-addext "subjectAltName=DNS:selfsigned.dane.test" -days 30 \
				-keyout "$C/selfsigned.key" -out "$C/selfsigned.pem" 2>>"$C/openssl.log"
				openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
				-config "$C/ca/ca.cnf" -subj "/CN=mta-sts.selfsigned.sts.test" \
				-addext "subjectAltName=DNS:mta-sts.selfsigned.sts.test" -days 30 \
				-keyout "$C/sts-selfsigned.key" -out "$C/sts-selfsigned.pem" 2>>"$C/openssl.log"
				openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
				-config "$C/ca/ca.cnf" -subj "/CN=mx.badcert.sts.test" \
				-addext "subjectAltName=DNS:mx.badcert.sts.test" -days 30 \
				-keyout "$C/badcert-selfsigned.key" -out "$C/badcert-selfsigned.pem" 2>>"$C/openssl.log" ;;
			esac
		) &
		pids="$pids $!"
	done

	# The CA is valid 2019-12-01..2039-12-31, so that the expired leaf's only
	# problem is its own expiry.
	newreq "danemilter test CA" ca
	openssl ca -batch -selfsign -config "$C/ca/ca.cnf" -extensions v3_ca -notext \
		-startdate 20191201000000Z -enddate 20391231000000Z \
		-in "$C/ca/req/ca.pem" -out "$C/ca.pem" 2>>"$C/openssl.log"

	for pid in $pids; do
		wait "$pid" || die "key generation failed (see $C/openssl.log)"
	done

	# All leaves in one signing run (SAN copied from each request).
	local reqs=''
	for h in $ADDR_HOSTS $ALIAS_HOSTS $V6_HOSTS sts-server sts-wrongname mta-sts.cnonly.sts.test wrong.example \
		tanexthop.dane.test; do
		reqs="$reqs $C/ca/req/$h.pem"
	done
	# shellcheck disable=SC2086
	# (with several -infiles, -out keeps only one: take them from new_certs_dir)
	openssl ca -batch -config "$C/ca/ca.cnf" -extensions v3_leaf -notext \
		-startdate "$y" -enddate "$e" -infiles $reqs >/dev/null 2>>"$C/openssl.log"
	# shellcheck disable=SC2086
	while read -r name s256 s512; do
		SHA256[$name]=$s256
		SHA512[$name]=$s512
	done < <(split_and_hash $ADDR_HOSTS $ALIAS_HOSTS $V6_HOSTS sts-server sts-wrongname \
		mta-sts.cnonly.sts.test wrong.example tanexthop.dane.test || echo FAILED)
	[ -z "${SHA256[FAILED]+set}" ] || die "certificate split/hash failed"

	openssl ca -batch -config "$C/ca/ca.cnf" -extensions v3_leaf -notext \
		-startdate 20200101000000Z -enddate 20200201000000Z \
		-in "$C/ca/req/expired.pem" -out "$C/expired.pem" 2>>"$C/openssl.log"
	cat "$C/expired.pem" "$C/ca.pem" >"$C/expired.chain.pem"
	openssl ca -batch -config "$C/ca/ca.cnf" -extensions v3_leaf -notext \
		-startdate 20200101000000Z -enddate 20200201000000Z \
		-in "$C/ca/req/taexpired.pem" -out "$C/taexpired.pem" 2>>"$C/openssl.log"
	cat "$C/taexpired.pem" "$C/ca.pem" >"$C/taexpired.chain.pem"
	SHA256[CA]=${SHA256[ca]}
	for h in $ADDR_HOSTS $ALIAS_HOSTS $V6_HOSTS other CA; do
		[ -n "${SHA256[$h]:-}" ] || die "no key hash for $h"
	done
}

# ---------------------------------------------------------------- zones

Z= # zone directory
K= # key directory

soa() { # header for a zone: $ORIGIN, $TTL, SOA (negative TTL 300), NS
	cat <<EOF
\$ORIGIN $1
\$TTL 3600
@	SOA	ns.test. hostmaster.test. ( 1 3600 600 86400 300 )
@	NS	ns.test.
EOF
}

zone_dane() {
	soa dane.test.
	cat <<EOF

; usable: MX -> mx1 (A + AAAA ::1), TLSA 3 1 1
usable			MX	10 mx1.usable
mx1.usable		A	${ADDR[mx1.usable.dane.test]}
mx1.usable		AAAA	::1
_25._tcp.mx1.usable	600	TLSA	3 1 1 ${SHA256[mx1.usable.dane.test]}
; ... and an MTA-STS policy (enforce, mx1.usable.dane.test): DANE must win
_mta-sts.usable		1	TXT	"v=STSv1; id=usable1;"
mta-sts.usable		A	$NET.4

; ta: TLSA 2 1 1 (the CA's key)
ta			MX	10 mx.ta
mx.ta			A	${ADDR[mx.ta.dane.test]}
_25._tcp.mx.ta		600	TLSA	2 1 1 ${SHA256[CA]}

; notlsa: nothing below mx.notlsa -> TLSA NXDOMAIN
notlsa			MX	10 mx.notlsa
mx.notlsa		A	${ADDR[mx.notlsa.dane.test]}

; havedane (tests/engine/havedane_world.sh): the test domains of the
; HaveDane zone hd.dane.test, each with its own MX host at postfix.sh's
; inbound MX (.6); the test publishes the TLSA of mx.do.hd and mx.wrong.hd
; with tlsa-set, from `danemilter havedane records`
do.hd			MX	10 mx.do.hd
mx.do.hd		A	$NET.6
dont.hd			MX	10 mx.dont.hd
mx.dont.hd		A	$NET.6
wrong.hd		MX	10 mx.wrong.hd
mx.wrong.hd		A	$NET.6

; nodata: only a TXT at the TLSA name -> TLSA NODATA
nodata			MX	10 mx.nodata
mx.nodata		A	${ADDR[mx.nodata.dane.test]}
_25._tcp.mx.nodata	600	TXT	"no TLSA here"

; partial: mx1 has TLSA, mx2 has none
partial			MX	10 mx1.partial
partial			MX	20 mx2.partial
mx1.partial		A	${ADDR[mx1.partial.dane.test]}
_25._tcp.mx1.partial	600	TLSA	3 1 1 ${SHA256[mx1.partial.dane.test]}
mx2.partial		A	${ADDR[mx2.partial.dane.test]}

; unusable: PKIX-EE, a 31-byte SHA-256, an unknown selector
unusable		MX	10 mx.unusable
mx.unusable		A	${ADDR[mx.unusable.dane.test]}
_25._tcp.mx.unusable	600	TLSA	1 1 1 ${SHA256[mx.unusable.dane.test]}
_25._tcp.mx.unusable	600	TLSA	3 1 1 ${SHA256[mx.unusable.dane.test]:0:62}
_25._tcp.mx.unusable	600	TLSA	3 9 1 ${SHA256[mx.unusable.dane.test]}

; agility: a wrong SHA-256 and a right SHA-512
agility			MX	10 mx.agility
mx.agility		A	${ADDR[mx.agility.dane.test]}
_25._tcp.mx.agility	600	TLSA	3 1 1 0000000000000000000000000000000000000000000000000000000000000000
_25._tcp.mx.agility	600	TLSA	3 1 2 ${SHA512[mx.agility.dane.test]}

; four: four MX hosts, each with A and TLSA 3 1 1
four			MX	10 mx1.four
four			MX	20 mx2.four
four			MX	30 mx3.four
four			MX	40 mx4.four
EOF
	local i
	for i in 1 2 3 4; do
		printf 'mx%s.four\t\tA\t%s\n' $i "${ADDR[mx$i.four.dane.test]}"
		printf '_25._tcp.mx%s.four\t600\tTLSA\t3 1 1 %s\n' $i "${SHA256[mx$i.four.dane.test]}"
	done
	cat <<EOF

; cnamehost: MX -> alias (CNAME real), TLSA at real only
cnamehost		MX	10 alias.cnamehost
alias.cnamehost		CNAME	real.cnamehost
real.cnamehost		A	${ADDR[real.cnamehost.dane.test]}
_25._tcp.real.cnamehost	600	TLSA	3 1 1 ${SHA256[real.cnamehost.dane.test]}

; cnamehost2: MX -> alias (CNAME real), TLSA at alias only (real's key)
cnamehost2		MX	10 alias.cnamehost2
alias.cnamehost2	CNAME	real.cnamehost2
real.cnamehost2		A	${ADDR[real.cnamehost2.dane.test]}
_25._tcp.alias.cnamehost2	600	TLSA	3 1 1 ${SHA256[real.cnamehost2.dane.test]}

; tlsacname: the TLSA name is a CNAME to a shared TLSA RRset
tlsacname		MX	10 mx.tlsacname
mx.tlsacname		A	${ADDR[mx.tlsacname.dane.test]}
_25._tcp.mx.tlsacname	600	CNAME	3.1.1._dane
3.1.1._dane		600	TLSA	3 1 1 ${SHA256[mx.tlsacname.dane.test]}
; xn--bcher-kva (buecher with u-umlaut): an internationalized domain, MX to a usable host
xn--bcher-kva		MX	10 mx1.usable.dane.test.
; many: 17 MX hosts, each with usable TLSA (a CNAME to the shared RRset);
; the engine examines 16 (DANE_MAX_HOSTS): policy dane, not dane-only
many			MX	1 m1.many
many			MX	2 m2.many
many			MX	3 m3.many
many			MX	4 m4.many
many			MX	5 m5.many
many			MX	6 m6.many
many			MX	7 m7.many
many			MX	8 m8.many
many			MX	9 m9.many
many			MX	10 m10.many
many			MX	11 m11.many
many			MX	12 m12.many
many			MX	13 m13.many
many			MX	14 m14.many
many			MX	15 m15.many
many			MX	16 m16.many
many			MX	17 m17.many
m1.many		A	${ADDR[mx.tlsacname.dane.test]}
_25._tcp.m1.many	600	CNAME	3.1.1._dane
m2.many		A	${ADDR[mx.tlsacname.dane.test]}
_25._tcp.m2.many	600	CNAME	3.1.1._dane
m3.many		A	${ADDR[mx.tlsacname.dane.test]}
_25._tcp.m3.many	600	CNAME	3.1.1._dane
m4.many		A	${ADDR[mx.tlsacname.dane.test]}
_25._tcp.m4.many	600	CNAME	3.1.1._dane
m5.many		A	${ADDR[mx.tlsacname.dane.test]}
_25._tcp.m5.many	600	CNAME	3.1.1._dane
m6.many		A	${ADDR[mx.tlsacname.dane.test]}
_25._tcp.m6.many	600	CNAME	3.1.1._dane
m7.many		A	${ADDR[mx.tlsacname.dane.test]}
_25._tcp.m7.many	600	CNAME	3.1.1._dane
m8.many		A	${ADDR[mx.tlsacname.dane.test]}
_25._tcp.m8.many	600	CNAME	3.1.1._dane
m9.many		A	${ADDR[mx.tlsacname.dane.test]}
_25._tcp.m9.many	600	CNAME	3.1.1._dane
m10.many		A	${ADDR[mx.tlsacname.dane.test]}
_25._tcp.m10.many	600	CNAME	3.1.1._dane
m11.many		A	${ADDR[mx.tlsacname.dane.test]}
_25._tcp.m11.many	600	CNAME	3.1.1._dane
m12.many		A	${ADDR[mx.tlsacname.dane.test]}
_25._tcp.m12.many	600	CNAME	3.1.1._dane
m13.many		A	${ADDR[mx.tlsacname.dane.test]}
_25._tcp.m13.many	600	CNAME	3.1.1._dane
m14.many		A	${ADDR[mx.tlsacname.dane.test]}
_25._tcp.m14.many	600	CNAME	3.1.1._dane
m15.many		A	${ADDR[mx.tlsacname.dane.test]}
_25._tcp.m15.many	600	CNAME	3.1.1._dane
m16.many		A	${ADDR[mx.tlsacname.dane.test]}
_25._tcp.m16.many	600	CNAME	3.1.1._dane
m17.many		A	${ADDR[mx.tlsacname.dane.test]}
_25._tcp.m17.many	600	CNAME	3.1.1._dane

; cnamedomain: the mail domain is a CNAME
cnamedomain		CNAME	usable

; nullmx
nullmx			MX	0 .

; implicit: no MX, an A and a TLSA at the domain itself
implicit		A	${ADDR[implicit.dane.test]}
_25._tcp.implicit	600	TLSA	3 1 1 ${SHA256[implicit.dane.test]}

; implicitcname: no MX, the domain is a CNAME; TLSA only at the original
; name (RFC 7672 2.2.2: the expanded name first, then the original)
implicitcname		CNAME	implicitreal
implicitreal		A	${ADDR[implicit.dane.test]}
_25._tcp.implicitcname	600	TLSA	3 1 1 ${SHA256[implicit.dane.test]}

; half: a usable MX and one in the lame delegation (its lookups time out)
half			MX	10 mx1.usable
half			MX	20 mx.lame.test.
; halfnone: an MX without TLSA and one in the lame delegation
halfnone		MX	10 mx.notlsa
halfnone		MX	20 mx.lame.test.
; mixednull: a null MX wrongly mixed with a real one (RFC 7505 3)
mixednull		MX	0 .
mixednull		MX	10 mx1.usable
; ipmx: the MX names an address
ipmx			MX	10 192.0.2.1.

; insecurehost: the MX host is in the unsigned zone
insecurehost		MX	10 mx.unsigned.test.

; badtlsa: the MX host's TLSA RRSIG is corrupted (corrupt.test)
badtlsa			MX	10 mx.corrupt.test.

; expired: leaf certificate expired, TLSA 2 1 1 (the CA)
expired			MX	10 mx.expired
mx.expired		A	${ADDR[mx.expired.dane.test]}
_25._tcp.mx.expired	600	TLSA	2 1 1 ${SHA256[CA]}

; wrongtlsa: TLSA for some other key
wrongtlsa		MX	10 mx.wrongtlsa
mx.wrongtlsa		A	${ADDR[mx.wrongtlsa.dane.test]}
_25._tcp.mx.wrongtlsa	600	TLSA	3 1 1 ${SHA256[other]}

; TLS probe fixtures: the DNS is fine (usable), the SMTP server is not.
; nostarttls: TLSA 3 1 1; the sink there offers no STARTTLS
nostarttls		MX	10 mx.nostarttls
mx.nostarttls		A	${ADDR[mx.nostarttls.dane.test]}
_25._tcp.mx.nostarttls	600	TLSA	3 1 1 ${SHA256[mx.nostarttls.dane.test]}
; taexpired: TLSA 2 1 1 (the CA); the sink presents an expired leaf
taexpired		MX	10 mx.taexpired
mx.taexpired		A	${ADDR[mx.taexpired.dane.test]}
_25._tcp.mx.taexpired	600	TLSA	2 1 1 ${SHA256[CA]}
; tacname: MX -> mx.tacname (CNAME real.tacname), TLSA 2 1 1 (the CA) at
; real only; the sink at real presents a leaf for mx.tacname only
tacname			MX	10 mx.tacname
mx.tacname		CNAME	real.tacname
real.tacname		A	${ADDR[real.tacname.dane.test]}
_25._tcp.real.tacname	600	TLSA	2 1 1 ${SHA256[CA]}
; tawrongname: TLSA 2 1 1 (the CA); the sink presents a leaf for wrong.example
tawrongname		MX	10 mx.tawrongname
mx.tawrongname		A	${ADDR[mx.tawrongname.dane.test]}
_25._tcp.mx.tawrongname	600	TLSA	2 1 1 ${SHA256[CA]}
; stall: TLSA 3 1 1; smtp_server.py --mode stall there (no TLS handshake)
stall			MX	10 mx.stall
mx.stall		A	${ADDR[mx.stall.dane.test]}
_25._tcp.mx.stall	600	TLSA	3 1 1 ${SHA256[mx.stall.dane.test]}
; v6only: AAAA ::1 only (A NODATA), TLSA 3 1 1; nothing listens
v6only			MX	10 mx.v6only
mx.v6only		AAAA	::1
_25._tcp.mx.v6only	600	TLSA	3 1 1 ${SHA256[mx.v6only.dane.test]}
; tanexthop: TLSA 2 1 1 (the CA); the sink presents a leaf named only
; tanexthop.dane.test (the next-hop domain: RFC 7672 3.2.2, passes)
tanexthop		MX	10 mx.tanexthop
mx.tanexthop		A	${ADDR[mx.tanexthop.dane.test]}
_25._tcp.mx.tanexthop	600	TLSA	2 1 1 ${SHA256[CA]}

; monitor: the operator's own domain (danemilter monitor): TLSA, MTA-STS
; and TLSRPT all in order; TTL 1 where tests change things (tlsa-set, sts-set)
monitor			MX	10 mx.monitor
mx.monitor		A	${ADDR[mx.monitor.dane.test]}
_25._tcp.mx.monitor	1	TLSA	3 1 1 ${SHA256[mx.monitor.dane.test]}
_mta-sts.monitor	1	TXT	"v=STSv1; id=monitor1;"
mta-sts.monitor		A	$NET.4
_smtp._tls.monitor	1	TXT	"v=TLSRPTv1; rua=mailto:tlsrpt@monitor.dane.test"
EOF
}

# zone_sts: the MTA-STS mail domains. Every _mta-sts TXT has TTL 1 (so that
# sts-set is seen at once); no TLSA anywhere (DANE: none).
zone_sts() {
	local l
	soa sts.test.
	for l in $STS_LABELS; do
		printf '\n%s\t\tMX\t10 mx.%s\n' "$l" "$l"
		printf 'mx.%s\t\tA\t%s\n' "$l" "${ADDR[mx.$l.sts.test]}"
		case $l in
		twotxt)
			printf '_mta-sts.%s\t1\tTXT\t"v=STSv1; id=a1;"\n' "$l"
			printf '_mta-sts.%s\t1\tTXT\t"v=STSv1; id=b2;"\n' "$l" ;;
		badtxt)
			printf '_mta-sts.%s\t1\tTXT\t"v=STSv2; id=1;"\n' "$l"
			printf '_mta-sts.%s\t1\tTXT\t"hello"\n' "$l" ;;
		nosts) ;;
		*) printf '_mta-sts.%s\t1\tTXT\t"v=STSv1; id=%s1;"\n' "$l" "$l" ;;
		esac
		[ "$l" = nohost ] || printf 'mta-sts.%s\t\tA\t%s\n' "$l" "$NET.4"
	done
}

zone_simple() { # ZONE: MX 10 mx.ZONE, A, TLSA 3 1 1 (unsigned/bogus/corrupt)
	soa "$1."
	cat <<EOF
@		MX	10 mx
mx		A	${ADDR[mx.$1]}
_25._tcp.mx	600	TLSA	3 1 1 ${SHA256[mx.$1]}
EOF
}
zone_unsigned() {
	zone_simple unsigned.test
	# hosted: an unsigned MX RRset naming a signed host with usable TLSA
	# (RFC 7672 2.2.1: DANE for that host, policy dane, never dane-only)
	printf 'hosted\t\tMX\t10 mx1.usable.dane.test.\n'
}
zone_bogus() { zone_simple bogus.test; }
zone_corrupt() { zone_simple corrupt.test; }

# zone_gen: gen.test's GEN mail domains (see the header).
zone_gen() {
	soa gen.test.
	awk -v n="$GEN" -v a="$NET.9" -v h="${SHA256[mx1.usable.dane.test]}" 'BEGIN {
		for (i = 0; i < n; i++) {
			k = i % 10
			d = (k <= 5 ? "d" : k <= 8 ? "p" : "t") i
			printf "%s\tMX\t10 mx.%s\nmx.%s\tA\t%s\n", d, d, d, a
			if (k <= 5 || k == 9)
				printf "_25._tcp.mx.%s\t600\tTLSA\t3 1 1 %s\n", d, h
		}
	}'
}

# corrupt_gen_tlsa FILE: corrupt_rrsig for the TLSA of every tI.gen.test
# (one awk pass); fails unless it changed one per tI domain.
corrupt_gen_tlsa() {
	awk -v want=$(((GEN + 0) / 10)) '
	$4 == "RRSIG" && $5 == "TLSA" && $1 ~ /^_25\._tcp\.mx\.t[0-9]+\.gen\.test\.$/ {
		s = $NF; c = substr(s, 10, 1); r = (c == "A") ? "B" : "A"
		$NF = substr(s, 1, 9) r substr(s, 11); n++
	}
	{ print }
	END { if (n != want) exit 1 }' "$1" >"$1.tmp" && mv "$1.tmp" "$1"
}

zone_test() {
	soa test.
	cat <<EOF
ns		A	$NET.1

dane		NS	ns.test.
sts		NS	ns.test.
unsigned	NS	ns.test.
bogus		NS	ns.test.
corrupt		NS	ns.test.
lame		NS	ns.lame
ns.lame		A	$NET.2
dead		NS	ns.dead
ns.dead		A	$NET.3
EOF
	# DS for every delegation except unsigned.test (NSEC proves there is none)
	cat "$K"/dane.test.ds "$K"/sts.test.ds "$K"/bogus.test.ds "$K"/corrupt.test.ds \
		"$K"/lame.test.ds "$K"/dead.test.ds
	if [ "$GEN" -gt 0 ]; then
		printf 'gen\t\tNS\tns.test.\n'
		cat "$K"/gen.test.ds
	fi
}

zone_root() {
	soa .
	cat <<EOF
test.		NS	ns.test.
ns.test.	A	$NET.1
EOF
	cat "$K"/test.ds
}

# fname ZONE: the file name stem used for ZONE ("root" for ".").
fname() { if [ "$1" = . ]; then echo root; else echo "$1"; fi; }

# keygen ZONE: one ECDSA P-256 key (KSK flag, signs everything);
# $K/STEM.base holds the ldns key base name, $K/STEM.ds its DS record.
keygen() {
	local base stem
	stem=$(fname "$1")
	base=$(cd "$K" && ldns-keygen -a ECDSAP256SHA256 -k -r /dev/urandom "$1")
	echo "$base" >"$K/$stem.base"
	mv "$K/$base.ds" "$K/$stem.ds"
}

# sign ZONE [ldns-signzone options]: $Z/STEM.zone -> $Z/STEM.signed
sign() {
	local zone=$1 stem
	shift
	stem=$(fname "$zone")
	ldns-signzone -o "$zone" -i "$INCEPT" -e "$EXPIRE" "$@" \
		-f "$Z/$stem.signed" "$Z/$stem.zone" "$K/$(cat "$K/$stem.base")"
}

# corrupt_rrsig OWNER TYPE FILE: change one base64 character of the RRSIG
# covering OWNER/TYPE (still valid base64, same length: a wrong signature).
corrupt_rrsig() {
	awk -v o="$1" -v t="$2" '
	$1 == o && $4 == "RRSIG" && $5 == t {
		s = $NF; c = substr(s, 10, 1); r = (c == "A") ? "B" : "A"
		$NF = substr(s, 1, 9) r substr(s, 11); n++
	}
	{ print }
	END { if (n != 1) exit 1 }' "$3" >"$3.tmp" && mv "$3.tmp" "$3"
}

make_zones() {
	local now
	Z=$DIR/zones
	K=$DIR/keys
	mkdir -p "$Z" "$K"
	now=$(date -u +%s)
	INCEPT=$((now - 3600))
	EXPIRE=$((now + 30 * 86400))

	local zn
	for zn in dane.test sts.test bogus.test corrupt.test lame.test dead.test test .; do
		keygen "$zn"
	done
	if [ "$GEN" -gt 0 ]; then
		keygen gen.test
		zone_gen >"$Z/gen.test.zone"
		sign gen.test -n -t 0
		corrupt_gen_tlsa "$Z/gen.test.signed" ||
			die "could not corrupt the TLSA RRSIGs of gen.test's tI domains"
	fi

	zone_dane >"$Z/dane.test.zone"
	zone_unsigned >"$Z/unsigned.test.zone"
	zone_bogus >"$Z/bogus.test.zone"
	zone_corrupt >"$Z/corrupt.test.zone"
	sign dane.test -n -t 0
	zone_sts >"$Z/sts.test.zone"
	sign sts.test -n -t 0
	cp "$Z/unsigned.test.zone" "$Z/unsigned.test.signed" # served unsigned
	INCEPT=20200101000000 EXPIRE=20200201000000 sign bogus.test
	sign corrupt.test
	corrupt_rrsig _25._tcp.mx.corrupt.test. TLSA "$Z/corrupt.test.signed" ||
		die "could not corrupt the TLSA RRSIG in corrupt.test"

	zone_test >"$Z/test.zone"
	sign test
	zone_root >"$Z/root.zone"
	sign .
	# ". IN DS ..." -> ". 3600 IN DS ..."
	awk '$2 == "IN" && $3 == "DS" { $2 = "3600 IN"; print }' "$K/root.ds" >"$DIR/root.key"
	[ -s "$DIR/root.key" ] || die "no root DS"
}

# ---------------------------------------------------------------- MTA-STS

# policy MODE MX...: an MTA-STS policy body (LF line ends, max_age 86400).
policy() {
	local m=$1 mx
	shift
	printf 'version: STSv1\nmode: %s\n' "$m"
	for mx in "$@"; do printf 'mx: %s\n' "$mx"; done
	printf 'max_age: 86400\n'
}

# write_sts_files: DIR/sts/mta-sts.DOMAIN/{body,mode} (see sts_server.py).
write_sts_files() {
	local d l h S=$DIR/sts
	mkdir -p "$S"
	: >>"$S/access.log"
	for d in $STS_POLICY_DOMAINS; do
		h=$S/mta-sts.$d
		mkdir -p "$h"
		l=${d%.sts.test}
		case $d in
		usable.dane.test) policy enforce mx1.usable.dane.test ;;
		enforce.sts.test) policy enforce mx.enforce.sts.test '*.backup.sts.test' ;;
		testing.sts.test) policy testing mx.testing.sts.test '*.backup.sts.test' ;;
		none.sts.test) policy none ;;
		crlf.sts.test)
			printf 'version: STSv1\r\nmode: enforce\r\nfoo: bar\r\nmode: testing\r\n'
			printf 'mx: mx.crlf.sts.test\r\nmax_age: 86400\r\n' ;;
		syntax.sts.test) policy sometimes mx.syntax.sts.test ;;
		*) policy enforce "mx.$d" ;;
		esac >"$h/body"
		case $l in
		redirect) echo "redirect:https://mta-sts.enforce.sts.test/.well-known/mta-sts.txt" ;;
		notfound) echo "status:404" ;;
		ctype) echo "ctype:text/html" ;;
		big | chunked | slow) echo "$l" ;;
		*) echo ok ;;
		esac >"$h/mode"
	done
}

start_sts() {
	local C=$DIR/certs
	"$PYTHON" "$HERE/sts_server.py" --addr "$NET.4" --port 443 --dir "$DIR/sts" \
		--cert "$C/sts-server.chain.pem" "$C/sts-server.key" \
		--sni mta-sts.selfsigned.sts.test "$C/sts-selfsigned.pem" "$C/sts-selfsigned.key" \
		--sni mta-sts.wrongname.sts.test "$C/sts-wrongname.chain.pem" "$C/sts-wrongname.key" \
		--sni mta-sts.cnonly.sts.test "$C/mta-sts.cnonly.sts.test.chain.pem" "$C/mta-sts.cnonly.sts.test.key" \
		</dev/null >"$DIR/sts/server.log" 2>&1 &
	STS_PID=$!
	save_pids
}

# ---------------------------------------------------------------- configs

write_nsd_conf() {
	# nsd-control over a unix socket (no keys needed), for sts-set; a path
	# too long for sun_path falls back to SIGHUP (reload by zone file mtime).
	local ctl="control-enable: yes
	control-interface: \"$DIR/nsd/nsd.ctl\""
	[ ${#DIR} -le 90 ] || ctl="control-enable: no"
	mkdir -p "$DIR/nsd"
	cat >"$DIR/nsd/nsd.conf" <<EOF
server:
	ip-address: $NET.1
	port: 53
	do-ip6: no
	server-count: 1
	username: ""
	chroot: ""
	zonesdir: "$DIR/zones"
	database: ""
	zonelistfile: "$DIR/nsd/zone.list"
	xfrdfile: "$DIR/nsd/xfrd.state"
	xfrdir: "$DIR/nsd"
	pidfile: "$DIR/nsd/nsd.pid"
	logfile: "$DIR/nsd/nsd.log"
	cookie-secret-file: "$DIR/nsd/cookiesecrets.txt"
	answer-cookie: no
	zonefiles-write: 0
	hide-version: yes
	verbosity: 1
EOF
	# gen.test is for load: NSD's response rate limiting (200 qps per
	# source by default) would drop or truncate most answers.
	[ "$GEN" = 0 ] || printf '\trrl-ratelimit: 0\n\trrl-whitelist-ratelimit: 0\n' >>"$DIR/nsd/nsd.conf"
	printf 'remote-control:\n\t%s\n' "$ctl" >>"$DIR/nsd/nsd.conf"
	local zn file
	local gen=''
	[ "$GEN" -gt 0 ] && gen=gen.test.
	for zn in . test. dane.test. sts.test. unsigned.test. bogus.test. corrupt.test. $gen; do
		file=${zn%.}
		[ "$zn" = . ] && file=root
		printf 'zone:\n\tname: "%s"\n\tzonefile: "%s.signed"\n' "$zn" "$file" \
			>>"$DIR/nsd/nsd.conf"
	done
}

write_client_confs() {
	cat >"$DIR/danemilter.conf" <<EOF
dns: {
  forward = [ ];
  trust_anchor_file = "$DIR/root.key";
  stubs = ( { zone = "."; addrs = [ "$NET.1@53" ]; } );
  timeout_ms = 3000;
};
domains = ( { name = "*"; log_resolution = false; } );
EOF
	cat >"$DIR/unbound-host.conf" <<EOF
server:
	directory: "$DIR"
	chroot: ""
	username: ""
	use-syslog: no
	logfile: ""
	verbosity: 0
	do-ip6: no
	do-not-query-localhost: no
	module-config: "validator iterator"
	trust-anchor-file: "$DIR/root.key"
	trust-anchor-signaling: no
	root-key-sentinel: no
	local-zone: "test." nodefault
	val-log-level: 2
	# A server that never answers (lame.test) otherwise takes ~100 s to give
	# SERVFAIL (default 120000); with 1000 it takes ~2.5 s.
	infra-cache-max-rtt: 1000
stub-zone:
	name: "."
	stub-addr: $NET.1@53
EOF
}

write_env() {
	local h v
	{
		echo "# danemilter test world; source this file"
		echo "WORLD_DIR='$DIR'"
		echo "WORLD_NET='$NET'"
		echo "WORLD_NS='$NET.1'"
		echo "WORLD_BLACKHOLE='$NET.2'"
		echo "WORLD_DEAD='$NET.3'"
		echo "WORLD_CA='$DIR/certs/ca.pem'"
		echo "WORLD_CA_KEY='$DIR/certs/ca.key'"
		echo "WORLD_CERTS='$DIR/certs'"
		echo "WORLD_TRUST_ANCHOR='$DIR/root.key'"
		echo "WORLD_CONF='$DIR/danemilter.conf'"
		echo "WORLD_UNBOUND_CONF='$DIR/unbound-host.conf'"
		echo "WORLD_NSD_PID='$NSD_PID'"
		echo "WORLD_BLACKHOLE_PID='$BH_PID'"
		echo "WORLD_STS='$NET.4'"
		echo "WORLD_STS_PID='$STS_PID'"
		echo "WORLD_STS_DIR='$DIR/sts'"
		echo "WORLD_STS_DOMAINS='$STS_POLICY_DOMAINS'"
		echo "WORLD_RESOLVER='$NET.5'"
		echo "WORLD_NSD_CONF='$DIR/nsd/nsd.conf'"
		echo "WORLD_GEN_DOMAINS='$GEN'"
		echo "# host=address for every MX host (certs/HOST.pem is served there)"
		printf "WORLD_HOSTS='"
		for h in $ADDR_HOSTS; do printf '%s=%s ' "$h" "${ADDR[$h]}"; done
		echo "'"
		for h in $ADDR_HOSTS; do
			v=${h^^}
			v=${v//[.-]/_}
			echo "WORLD_ADDR_$v='${ADDR[$h]}'"
		done
		echo "# host=address for MX hosts with only an AAAA (nothing listens there)"
		printf "WORLD_V6_HOSTS='"
		for h in $V6_HOSTS; do printf '%s=::1 ' "$h"; done
		echo "'"
	} >"$DIR/world.env.tmp"
	mv "$DIR/world.env.tmp" "$DIR/world.env"
}

# ---------------------------------------------------------------- start/stop

# save_pids: record what runs so far, so that stop works even if start fails.
save_pids() {
	printf "WORLD_NSD_PID='%s'\nWORLD_BLACKHOLE_PID='%s'\nWORLD_STS_PID='%s'\nWORLD_NET='%s'\n" \
		"$NSD_PID" "$BH_PID" "$STS_PID" "$NET" >"$DIR/world.env"
}

# stdin/stdout/stderr of the daemons are detached so that callers' pipes
# (e.g. out=$(world.sh start DIR)) are not held open.
start_blackhole() {
	"$PYTHON" "$HERE/blackhole.py" "$NET.2" 53 </dev/null >"$DIR/blackhole.log" 2>&1 &
	BH_PID=$!
	save_pids
}

start_nsd() {
	nsd -d -c "$DIR/nsd/nsd.conf" </dev/null >>"$DIR/nsd/nsd.out" 2>&1 &
	NSD_PID=$!
	save_pids
}

# wait_ready: NSD answers on .1, the blackhole listens on .2 (UDP and
# TCP) and the MTA-STS server on .4:443; bounded: 10 s.
wait_ready() {
	local i ok_ns=0 ok_bh=0 ok_sts=0
	for i in $(seq 1 100); do # 100 x 0.1 s
		if [ $ok_sts = 0 ] && ss -Hlnt 2>/dev/null | awk '{print $4}' | grep -qx "$NET.4:443"; then
			ok_sts=1
		fi
		if [ $ok_ns = 0 ] && dig +norec +time=1 +tries=1 @"$NET.1" . SOA 2>/dev/null |
			grep -q 'status: NOERROR'; then
			ok_ns=1
		fi
		if [ $ok_bh = 0 ] && [ "$(ss -Hlntu 2>/dev/null | awk '{print $5}' |
			grep -c "^$NET.2:53\$")" = 2 ]; then
			ok_bh=1
		fi
		[ $ok_ns = 1 ] && [ $ok_bh = 1 ] && [ $ok_sts = 1 ] && return 0
		alive "$NSD_PID" || break
		alive "$BH_PID" || break
		alive "$STS_PID" || break
		sleep 0.1
	done
	echo "world.sh: world did not come up (nsd=$ok_ns blackhole=$ok_bh sts=$ok_sts)" >&2
	tail -n 20 "$DIR/nsd/nsd.log" "$DIR/nsd/nsd.out" "$DIR/blackhole.log" \
		"$DIR/sts/server.log" >&2 2>/dev/null || true
	return 1
}

start_failed() {
	echo "world.sh: start failed while: $PHASE" >&2
	if [ "$PHASE" = certs ]; then
		tail -n 5 "$DIR/certs/openssl.log" >&2 2>/dev/null || true
	fi
	do_stop
	mv -f "$DIR/world.env" "$DIR/world.env.failed" 2>/dev/null || true
}

do_start() {
	case $DIR in /*) ;; *) die "DIR must be an absolute path" ;; esac
	[ -e "$DIR/world.env" ] && die "$DIR already holds a world (stop it first)"
	mkdir -p "$DIR"
	NSD_PID='' BH_PID='' STS_PID='' NET=''
	GEN=${WORLD_GEN_DOMAINS:-0}
	case $GEN in '' | *[!0-9]*) die "WORLD_GEN_DOMAINS must be a number, not \"$GEN\"" ;; esac
	GEN=$((10#$GEN))
	[ "$GEN" -le 200000 ] || die "WORLD_GEN_DOMAINS: at most 200000 (got $GEN)"
	trap '[ $? = 0 ] || start_failed' EXIT
	PHASE=net
	pick_net
	PHASE=blackhole
	start_blackhole # python start-up overlaps the build
	assign_addresses
	PHASE=certs
	make_certs
	PHASE=sts
	write_sts_files
	start_sts # python start-up overlaps the zone signing
	PHASE=zones
	make_zones
	PHASE=configs
	write_nsd_conf
	write_client_confs
	PHASE=nsd
	start_nsd
	wait_ready
	PHASE=world.env
	write_env
}

# kill_tree PID PATTERN: stop PID (if it is ours: cmdline matches PATTERN) and
# its children; TERM, wait up to 3 s, then KILL.
kill_tree() {
	local pid=$1 pat=$2 pids cmd
	alive "$pid" || return 0
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 0
	case $cmd in *"$pat"*) ;; *) return 0 ;; esac
	pids="$pid $(PARENTS=$pid descendants)"
	# shellcheck disable=SC2086
	terminate $pids
}

do_stop() {
	local WORLD_NSD_PID='' WORLD_BLACKHOLE_PID='' WORLD_STS_PID='' WORLD_NET=''
	if [ -r "$DIR/world.env" ]; then
		# shellcheck disable=SC1091
		. "$DIR/world.env"
	fi
	# Postfix instances and unbound of postfix.sh first (idempotent).
	if [ -x "$HERE/postfix.sh" ] && [ -d "$DIR" ]; then
		"$HERE/postfix.sh" stop "$DIR" || true
	fi
	if [ -x "$HERE/sendmail.sh" ] && [ -d "$DIR/sm" ]; then
		"$HERE/sendmail.sh" stop "$DIR" || true
	fi
	[ -n "$WORLD_STS_PID" ] && kill_tree "$WORLD_STS_PID" "sts_server.py --addr $WORLD_NET.4"
	[ -n "$WORLD_NSD_PID" ] && kill_tree "$WORLD_NSD_PID" "$DIR/nsd/nsd.conf"
	[ -n "$WORLD_BLACKHOLE_PID" ] && kill_tree "$WORLD_BLACKHOLE_PID" "blackhole.py $WORLD_NET.2"
	local net=${WORLD_NET:-${NET:-}}
	if [ -n "$net" ] && [ "$(cat "$LOCKROOT/$net/owner" 2>/dev/null)" = "$DIR" ]; then
		rm -rf "${LOCKROOT:?}/$net"
	fi
	return 0
}

# ---------------------------------------------------------------- run time

load_env() {
	[ -r "$DIR/world.env" ] || die "no world in $DIR"
	# shellcheck disable=SC1091
	. "$DIR/world.env"
	NET=$WORLD_NET
	WORLD_NS=${WORLD_NS:-$NET.1}
}

# policy_dir DOMAIN: DIR/sts/mta-sts.DOMAIN (created).
policy_dir() {
	local d=${1%.}
	d=${d,,}
	case $d in *[!a-z0-9.-]* | '' | .* ) die "bad domain: $1" ;; esac
	mkdir -p "$DIR/sts/mta-sts.$d"
	echo "$DIR/sts/mta-sts.$d"
}

# reload_zone ZONE SERIAL: make NSD load the re-signed zone and wait until it
# serves SERIAL (bounded: 5 s). nsd-control over the unix socket in DIR/nsd.
reload_zone() {
	local zone=$1 serial=$2 i got seen
	if [ -S "$DIR/nsd/nsd.ctl" ]; then
		nsd-control -c "$DIR/nsd/nsd.conf" reload "$zone" >/dev/null ||
			die "nsd-control reload $zone failed"
	else
		kill -HUP "$WORLD_NSD_PID" || die "cannot signal NSD"
	fi
	# NSD's old server process may answer for a moment after the new one
	# does: the new serial must come back three times in a row.
	seen=0
	for i in $(seq 1 100); do
		got=$(dig +norec +short +time=1 +tries=1 @"$WORLD_NS" "$zone" SOA 2>/dev/null | awk '{print $3}')
		if [ "$got" = "$serial" ]; then
			seen=$((seen + 1))
			[ "$seen" -ge 3 ] && return 0
			sleep 0.05
			continue
		fi
		seen=0
		sleep 0.1
	done
	die "NSD does not serve $zone serial $serial (has: ${got:-nothing})"
}

# sts-set DOMAIN ID [BODYFILE]: replace every TXT at _mta-sts.DOMAIN by one
# "v=STSv1; id=ID;" (ID "-": remove them), re-sign the zone, reload NSD, flush
# the name from postfix.sh's unbound if it runs; BODYFILE -> the served body.
do_sts_set() {
	local domain=${1%.} id=$2 body=${3:-} zone label zf serial now pd
	load_env
	domain=${domain,,}
	case $domain in
	*.sts.test) zone=sts.test ;;
	*.dane.test) zone=dane.test ;;
	*) die "sts-set: $domain is not in sts.test or dane.test" ;;
	esac
	case $id in *[\"\\]* | '') die "sts-set: bad id" ;; esac
	[ -z "$body" ] || [ -r "$body" ] || die "sts-set: cannot read $body"
	label=${domain%."$zone"}
	Z=$DIR/zones
	K=$DIR/keys
	zf=$Z/$zone.zone
	exec 9>"$Z/.lock"
	flock -w 20 9 || die "sts-set: zone lock busy"
	awk -v o="_mta-sts.$label" -v id="$id" '
	$2 == "SOA" { $6 = $6 + 1 }
	$1 == o { next }
	{ print }
	END { if (id != "-") printf "%s\t1\tTXT\t\"v=STSv1; id=%s;\"\n", o, id }' \
		"$zf" >"$zf.tmp" && mv "$zf.tmp" "$zf"
	serial=$(awk '$2 == "SOA" { print $6; exit }' "$zf")
	now=$(date -u +%s)
	INCEPT=$((now - 3600)) EXPIRE=$((now + 30 * 86400)) sign "$zone" -n -t 0 ||
		die "sts-set: signing $zone failed"
	reload_zone "$zone" "$serial"
	exec 9>&-
	if [ -n "$body" ]; then
		pd=$(policy_dir "$domain")
		cp "$body" "$pd/body.tmp" && mv "$pd/body.tmp" "$pd/body"
	fi
	flush_resolver "$domain"
}

# flush_resolver NAME: drop NAME and below from postfix.sh's unbound (if up).
flush_resolver() {
	local conf=$DIR/unbound/unbound.conf pid
	[ -r "$DIR/unbound/unbound.pid" ] && [ -S "$DIR/unbound/unbound.ctl" ] || return 0
	read -r pid <"$DIR/unbound/unbound.pid" || return 0
	alive "$pid" || return 0
	unbound-control -c "$conf" flush_zone "$1" >/dev/null 2>&1 || true
	unbound-control -c "$conf" flush_zone "_mta-sts.$1" >/dev/null 2>&1 || true
}

# tlsa-set HOST [RECORD...]: replace every TLSA at _25._tcp.HOST (HOST in
# dane.test) by the RECORDs (TTL 1), re-sign dane.test, reload NSD, flush
# HOST from postfix.sh's unbound if it runs.
do_tlsa_set() {
	local host=${1%.} label zf serial now r
	shift
	load_env
	host=${host,,}
	case $host in
	*[!a-z0-9.-]* | .*) die "tlsa-set: bad host name: $host" ;;
	*.dane.test) ;;
	*) die "tlsa-set: $host is not in dane.test" ;;
	esac
	for r in "$@"; do
		[[ $r =~ ^[0-9]{1,3}\ [0-9]{1,3}\ [0-9]{1,3}\ [0-9A-Fa-f]+$ ]] ||
			die "tlsa-set: bad record \"$r\" (want \"U S M HEX\")"
	done
	label=_25._tcp.${host%.dane.test}
	Z=$DIR/zones
	K=$DIR/keys
	zf=$Z/dane.test.zone
	exec 9>"$Z/.lock"
	flock -w 20 9 || die "tlsa-set: zone lock busy"
	awk -v o="$label" '
	$2 == "SOA" { $6 = $6 + 1 }
	$1 == o && ($3 == "TLSA" || $2 == "TLSA") { next }
	{ print }' "$zf" >"$zf.tmp" && mv "$zf.tmp" "$zf"
	for r in "$@"; do printf '%s\t1\tTLSA\t%s\n' "$label" "$r" >>"$zf"; done
	serial=$(awk '$2 == "SOA" { print $6; exit }' "$zf")
	now=$(date -u +%s)
	INCEPT=$((now - 3600)) EXPIRE=$((now + 30 * 86400)) sign dane.test -n -t 0 ||
		die "tlsa-set: signing dane.test failed"
	reload_zone dane.test "$serial"
	exec 9>&-
	flush_resolver "$host"
}

# sts-mode DOMAIN MODE: what sts_server.py does for mta-sts.DOMAIN.
do_sts_mode() {
	local pd
	load_env
	case $2 in
	ok | big | chunked | slow | slow:[0-9]* | delay:[0-9]* | status:[1-5][0-9][0-9] | ctype:?* | \
		redirect:?* | reset | stall | stall:[0-9]* | refuse | garbage) ;;
	*) die "sts-mode: bad mode: $2 (ok|status:NNN|ctype:X|redirect:URL|big|chunked|slow[:S]|delay:S|reset|stall[:S]|refuse|garbage)" ;;
	esac
	pd=$(policy_dir "$1")
	printf '%s\n' "$2" >"$pd/mode.tmp" && mv "$pd/mode.tmp" "$pd/mode"
}

usage() {
	die "usage: world.sh start|stop DIR | sts-set DIR DOMAIN ID [BODYFILE] | sts-mode DIR DOMAIN MODE | tlsa-set DIR HOST [RECORD...]"
}

[ $# -ge 2 ] || usage
DIR=${2%/}
case $1 in
start) [ $# = 2 ] || usage; do_start ;;
stop) [ $# = 2 ] || usage; do_stop ;;
sts-set) [ $# = 4 ] || [ $# = 5 ] || usage; do_sts_set "$3" "$4" "${5:-}" ;;
sts-mode) [ $# = 4 ] || usage; do_sts_mode "$3" "$4" ;;
tlsa-set) [ $# -ge 3 ] || usage; shift 2; do_tlsa_set "$@" ;;
*) usage ;;
esac
