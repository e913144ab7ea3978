#!/usr/bin/env bash
# check-world.sh DIR: check a running test world (see world.sh) independently
# of danemilter, with unbound-host (DNSSEC states), dig (TTLs, transports) and
# openssl (certificates). Prints TAP; exits non-zero if any check fails.
# shellcheck disable=SC2153 # the WORLD_* variables come from world.env
set -u

DIR=${1:?usage: check-world.sh DIR}
DIR=${DIR%/}
[ -r "$DIR/world.env" ] || { echo "Bail out! no $DIR/world.env"; exit 1; }
# shellcheck disable=SC1091
. "$DIR/world.env"
command -v unbound-host >/dev/null || { echo "Bail out! unbound-host is not installed"; exit 1; }

C=$WORLD_CERTS
N=0
FAILED=0
TAPOUT=$(mktemp)
trap 'rm -f "$TAPOUT"' EXIT

ok() { # ok STATUS DESCRIPTION [DIAGNOSTIC]
	N=$((N + 1))
	if [ "$1" = 0 ]; then
		echo "ok $N - $2" >>"$TAPOUT"
	else
		echo "not ok $N - $2" >>"$TAPOUT"
		[ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/#   /' >>"$TAPOUT"
		FAILED=$((FAILED + 1))
	fi
}

uh() { unbound-host -C "$WORLD_UNBOUND_CONF" -v -t "$1" "$2" 2>&1; }

# expect TYPE NAME DESC REGEX...: every REGEX (grep -E) matches the output.
expect() {
	local type=$1 name=$2 desc=$3 out re st=0
	shift 3
	out=$(uh "$type" "$name")
	for re in "$@"; do
		printf '%s\n' "$out" | grep -Eq -- "$re" || st=1
	done
	ok $st "$desc" "$out"
}

# expect_not TYPE NAME DESC REGEX: REGEX does not match (e.g. no BOGUS).
expect_not() {
	local out
	out=$(uh "$1" "$2")
	if printf '%s\n' "$out" | grep -Eq -- "$4"; then ok 1 "$3" "$out"; else ok 0 "$3"; fi
}

upper() { tr 'a-f' 'A-F'; }
# spki HASHALG FILE (cert .pem or key): hex digest of the DER SPKI, upper case
spki() {
	case $2 in
	*.pem) openssl x509 -in "$2" -pubkey -noout | openssl pkey -pubin -outform DER ;;
	*) openssl pkey -in "$2" -pubout -outform DER ;;
	esac | openssl dgst -"$1" -r | cut -d' ' -f1 | upper
}
h256() { spki sha256 "$C/$1.pem"; }
addr() { local v=${1^^}; v=WORLD_ADDR_${v//[.-]/_}; echo "${!v}"; }

S='\(secure\)$'
NX='not found: 3\(NXDOMAIN\)\. \(secure\)'
CA256=$(spki sha256 "$C/ca.pem")

# ---------------------------------------------------------------- servers
dig +norec +time=2 +tries=1 @"$WORLD_NS" . SOA | grep -q 'status: NOERROR'
ok $? "NSD answers on $WORLD_NS:53/udp"
dig +norec +tcp +time=2 +tries=1 @"$WORLD_NS" . SOA | grep -q 'status: NOERROR'
ok $? "NSD answers on $WORLD_NS:53/tcp"
if dig +norec +time=1 +tries=1 @"$WORLD_BLACKHOLE" . SOA >/dev/null 2>&1; then st=1; else st=0; fi
ok $st "blackhole $WORLD_BLACKHOLE does not answer over UDP"
if dig +norec +tcp +time=1 +tries=1 @"$WORLD_BLACKHOLE" . SOA >/dev/null 2>&1; then st=1; else st=0; fi
ok $st "blackhole $WORLD_BLACKHOLE does not answer over TCP"
[ "$(ss -Hlntu | awk '{print $5}' | grep -c "^$WORLD_BLACKHOLE:53\$")" = 2 ]
ok $? "blackhole listens on UDP and TCP 53"
! ss -Hlntu | awk '{print $5}' | grep -q "^$WORLD_DEAD:"
ok $? "nothing listens on $WORLD_DEAD"

# ---------------------------------------------------------------- trust
expect SOA . "root SOA secure" "$S"
expect DS test "test. DS secure" "has DS record .*$S"
expect DS unsigned.test "unsigned.test has no DS (secure)" "has no DS record $S"

# ---------------------------------------------------------------- dane.test
expect MX usable.dane.test "usable MX secure" "handled by 10 mx1\.usable\.dane\.test\. $S"
expect A mx1.usable.dane.test "mx1.usable A secure" "has address $(addr mx1.usable.dane.test) $S"
expect AAAA mx1.usable.dane.test "mx1.usable AAAA ::1 secure" "has IPv6 address ::1 $S"
expect TLSA _25._tcp.mx1.usable.dane.test "usable TLSA 3 1 1 = mx1 leaf, secure" \
	"TLSA record 3 1 1 $(h256 mx1.usable.dane.test) $S"

expect MX ta.dane.test "ta MX secure" "handled by 10 mx\.ta\.dane\.test\. $S"
expect TLSA _25._tcp.mx.ta.dane.test "ta TLSA 2 1 1 = CA key, secure" "TLSA record 2 1 1 $CA256 $S"

expect MX notlsa.dane.test "notlsa MX secure" "handled by 10 mx\.notlsa\.dane\.test\. $S"
expect A mx.notlsa.dane.test "mx.notlsa A secure" "has address $(addr mx.notlsa.dane.test) $S"
expect TLSA _25._tcp.mx.notlsa.dane.test "notlsa TLSA NXDOMAIN secure" "$NX"

expect TLSA _25._tcp.mx.nodata.dane.test "nodata TLSA NODATA secure" "has no TLSA record $S"
expect TXT _25._tcp.mx.nodata.dane.test "nodata TXT present secure" "$S"

expect MX partial.dane.test "partial MX 10+20 secure" "10 mx1\.partial\.dane\.test\. $S" \
	"20 mx2\.partial\.dane\.test\. $S"
expect TLSA _25._tcp.mx1.partial.dane.test "partial mx1 TLSA secure" \
	"TLSA record 3 1 1 $(h256 mx1.partial.dane.test) $S"
expect TLSA _25._tcp.mx2.partial.dane.test "partial mx2 TLSA NXDOMAIN secure" "$NX"

u=$(h256 mx.unusable.dane.test)
expect TLSA _25._tcp.mx.unusable.dane.test "unusable TLSA: 1 1 1, 3 1 1 (31 bytes), 3 9 1, secure" \
	"TLSA record 1 1 1 $u $S" "TLSA record 3 1 1 ${u:0:62} $S" "TLSA record 3 9 1 $u $S"
out=$(uh TLSA _25._tcp.mx.unusable.dane.test | grep -c 'TLSA record')
[ "$out" = 3 ]
ok $? "unusable has exactly 3 TLSA records" "got $out"

expect TLSA _25._tcp.mx.agility.dane.test "agility TLSA: 3 1 1 zeros + 3 1 2 sha512, secure" \
	"TLSA record 3 1 1 0{64} $S" \
	"TLSA record 3 1 2 $(spki sha512 "$C/mx.agility.dane.test.pem") $S"

expect MX four.dane.test "four MX 10/20/30/40 secure" "10 mx1\.four\.dane\.test\. $S" \
	"20 mx2\.four\.dane\.test\. $S" "30 mx3\.four\.dane\.test\. $S" "40 mx4\.four\.dane\.test\. $S"
for i in 1 2 3 4; do
	expect TLSA _25._tcp.mx$i.four.dane.test "four mx$i TLSA secure" \
		"TLSA record 3 1 1 $(h256 mx$i.four.dane.test) $S"
done

expect MX cnamehost.dane.test "cnamehost MX -> alias secure" "handled by 10 alias\.cnamehost\.dane\.test\. $S"
expect A alias.cnamehost.dane.test "cnamehost alias CNAME real, A secure" \
	"alias for real\.cnamehost\.dane\.test\. $S" "has address $(addr real.cnamehost.dane.test) $S"
expect TLSA _25._tcp.real.cnamehost.dane.test "cnamehost TLSA at real secure" \
	"TLSA record 3 1 1 $(h256 real.cnamehost.dane.test) $S"
expect TLSA _25._tcp.alias.cnamehost.dane.test "cnamehost no TLSA at alias (NXDOMAIN secure)" "$NX"

expect A alias.cnamehost2.dane.test "cnamehost2 alias CNAME real, A secure" \
	"alias for real\.cnamehost2\.dane\.test\. $S" "has address $(addr real.cnamehost2.dane.test) $S"
expect TLSA _25._tcp.alias.cnamehost2.dane.test "cnamehost2 TLSA at alias (real's key) secure" \
	"TLSA record 3 1 1 $(h256 real.cnamehost2.dane.test) $S"
expect TLSA _25._tcp.real.cnamehost2.dane.test "cnamehost2 no TLSA at real (NXDOMAIN secure)" "$NX"

expect TLSA _25._tcp.mx.tlsacname.dane.test "tlsacname TLSA via CNAME secure" \
	"alias for 3\.1\.1\._dane\.dane\.test\. $S" \
	"3\.1\.1\._dane\.dane\.test has TLSA record 3 1 1 $(h256 mx.tlsacname.dane.test) $S"

expect MX cnamedomain.dane.test "cnamedomain CNAME usable, MX secure" \
	"alias for usable\.dane\.test\. $S" "handled by 10 mx1\.usable\.dane\.test\. $S"

expect MX nullmx.dane.test "nullmx MX 0 . secure" "handled by 0 \. $S"

expect MX implicit.dane.test "implicit: no MX (NODATA secure)" "has no mail handler record $S"
expect A implicit.dane.test "implicit A secure" "has address $(addr implicit.dane.test) $S"
expect TLSA _25._tcp.implicit.dane.test "implicit TLSA secure" \
	"TLSA record 3 1 1 $(h256 implicit.dane.test) $S"

expect MX insecurehost.dane.test "insecurehost MX secure" "handled by 10 mx\.unsigned\.test\. $S"
expect A mx.unsigned.test "insecurehost's host A insecure" "has address $(addr mx.unsigned.test) \(insecure\)$"

expect MX expired.dane.test "expired MX secure" "handled by 10 mx\.expired\.dane\.test\. $S"
expect TLSA _25._tcp.mx.expired.dane.test "expired TLSA 2 1 1 = CA secure" "TLSA record 2 1 1 $CA256 $S"

w=$(spki sha256 "$C/other.key")
expect TLSA _25._tcp.mx.wrongtlsa.dane.test "wrongtlsa TLSA = other key, secure" "TLSA record 3 1 1 $w $S"
[ "$w" != "$(h256 mx.wrongtlsa.dane.test)" ]
ok $? "wrongtlsa TLSA does not match the host's certificate"

expect MX badtlsa.dane.test "badtlsa MX secure" "handled by 10 mx\.corrupt\.test\. $S"

# TLS probe fixtures: DNS all in order (usable); the servers differ (postfix.sh)
for l in nostarttls taexpired tawrongname stall tanexthop; do
	expect MX $l.dane.test "$l MX secure" "handled by 10 mx\.$l\.dane\.test\. $S"
	expect A mx.$l.dane.test "mx.$l A secure" "has address $(addr mx.$l.dane.test) $S"
done
for l in nostarttls stall; do
	expect TLSA _25._tcp.mx.$l.dane.test "$l TLSA 3 1 1 = its leaf, secure" \
		"TLSA record 3 1 1 $(h256 mx.$l.dane.test) $S"
done
for l in taexpired tawrongname tanexthop; do
	expect TLSA _25._tcp.mx.$l.dane.test "$l TLSA 2 1 1 = CA key, secure" "TLSA record 2 1 1 $CA256 $S"
	out=$(uh TLSA _25._tcp.mx.$l.dane.test | grep -c 'TLSA record')
	[ "$out" = 1 ]
	ok $? "$l has exactly 1 TLSA record" "got $out"
done
expect MX v6only.dane.test "v6only MX secure" "handled by 10 mx\.v6only\.dane\.test\. $S"
expect AAAA mx.v6only.dane.test "mx.v6only AAAA ::1 secure" "has IPv6 address ::1 $S"
expect A mx.v6only.dane.test "mx.v6only: no A (NODATA secure)" "has no address $S"
expect TLSA _25._tcp.mx.v6only.dane.test "v6only TLSA 3 1 1 = its leaf, secure" \
	"TLSA record 3 1 1 $(h256 mx.v6only.dane.test) $S"
[ "${WORLD_V6_HOSTS:-}" = "mx.v6only.dane.test=::1 " ] && [ -z "${WORLD_ADDR_MX_V6ONLY_DANE_TEST:-}" ] &&
	! printf '%s\n' "$WORLD_HOSTS" | grep -q v6only
ok $? "world.env: mx.v6only.dane.test only in WORLD_V6_HOSTS (=::1), not in WORLD_HOSTS" "${WORLD_V6_HOSTS:-}"

# ---------------------------------------------------------------- sts.test (MTA-STS)
if [ -n "${WORLD_STS:-}" ]; then
	expect DS sts.test "sts.test DS secure" "has DS record .*$S"
	for l in enforce testing none crlf nohost selfsigned wrongname redirect notfound \
		ctype big chunked syntax slow changing twotxt badtxt nosts badcert; do
		expect MX $l.sts.test "sts $l MX secure" "handled by 10 mx\.$l\.sts\.test\. $S"
	done
	expect A mx.enforce.sts.test "mx.enforce.sts.test A secure" \
		"has address $(addr mx.enforce.sts.test) $S"
	expect TLSA _25._tcp.mx.enforce.sts.test "mx.enforce.sts.test: no TLSA (NXDOMAIN secure)" "$NX"
	expect TXT _mta-sts.enforce.sts.test "enforce _mta-sts TXT secure" \
		'"v=STSv1; id=[A-Za-z0-9]+;" \(secure\)$'
	expect A mta-sts.enforce.sts.test "mta-sts.enforce A = policy server, secure" \
		"has address $WORLD_STS $S"
	expect A mta-sts.nohost.sts.test "mta-sts.nohost NXDOMAIN secure" "$NX"
	expect TXT _mta-sts.twotxt.sts.test "twotxt: two v=STSv1 TXT, secure" \
		'"v=STSv1; id=a1;" \(secure\)$' '"v=STSv1; id=b2;" \(secure\)$'
	expect TXT _mta-sts.badtxt.sts.test "badtxt: v=STSv2 + hello, secure" \
		'"v=STSv2; id=1;" \(secure\)$' '"hello" \(secure\)$'
	expect TXT _mta-sts.nosts.sts.test "nosts: no _mta-sts (NXDOMAIN secure)" "$NX"
	expect TXT _mta-sts.badcert.sts.test "badcert _mta-sts TXT secure" \
		'"v=STSv1; id=badcert1;" \(secure\)$'
	expect A mta-sts.badcert.sts.test "mta-sts.badcert A = policy server, secure" \
		"has address $WORLD_STS $S"
	expect TXT _mta-sts.usable.dane.test "usable.dane.test _mta-sts TXT secure" \
		'"v=STSv1; id=[A-Za-z0-9]+;" \(secure\)$'
	ss -Hlnt | awk '{print $4}' | grep -qx "$WORLD_STS:443"
	ok $? "MTA-STS server listens on $WORLD_STS:443"
	cst=0
	cout=''
	for d in enforce.sts.test usable.dane.test slow.sts.test; do
		o=$(openssl verify -CAfile "$WORLD_CA" -verify_hostname "mta-sts.$d" "$C/sts-server.pem" 2>&1) ||
			{ cst=1; cout="$cout$o"$'\n'; }
	done
	ok $cst "sts-server.pem verifies for mta-sts.{enforce,slow}.sts.test, mta-sts.usable.dane.test" "$cout"
	! openssl verify -CAfile "$WORLD_CA" -verify_hostname mta-sts.wrongname.sts.test \
		"$C/sts-server.pem" >/dev/null 2>&1 &&
		! openssl verify -CAfile "$WORLD_CA" -verify_hostname mta-sts.wrongname.sts.test \
			"$C/sts-wrongname.pem" >/dev/null 2>&1 &&
		openssl verify -CAfile "$WORLD_CA" "$C/sts-wrongname.pem" >/dev/null 2>&1
	ok $? "sts-wrongname.pem: from the CA, not for mta-sts.wrongname.sts.test"
	! openssl verify -CAfile "$WORLD_CA" "$C/sts-selfsigned.pem" >/dev/null 2>&1 &&
		openssl x509 -in "$C/sts-selfsigned.pem" -noout -ext subjectAltName | grep -q 'DNS:mta-sts.selfsigned.sts.test'
	ok $? "sts-selfsigned.pem: self-signed, for mta-sts.selfsigned.sts.test"
	o=$(openssl verify -CAfile "$C/badcert-selfsigned.pem" "$C/badcert-selfsigned.pem" 2>&1) &&
		! openssl verify -CAfile "$WORLD_CA" "$C/badcert-selfsigned.pem" >/dev/null 2>&1 &&
		openssl x509 -in "$C/badcert-selfsigned.pem" -noout -ext subjectAltName | grep -q 'DNS:mx.badcert.sts.test'
	ok $? "badcert-selfsigned.pem: self-signed, for mx.badcert.sts.test" "$o"
	grep -qx 'mx: mx.badcert.sts.test' "$WORLD_STS_DIR/mta-sts.badcert.sts.test/body" &&
		grep -qx 'mode: enforce' "$WORLD_STS_DIR/mta-sts.badcert.sts.test/body"
	ok $? "badcert policy: enforce, mx.badcert.sts.test"
fi

# ---------------------------------------------------------------- other zones
expect MX unsigned.test "unsigned.test MX insecure" "handled by 10 mx\.unsigned\.test\. \(insecure\)$"
expect TLSA _25._tcp.mx.unsigned.test "unsigned.test TLSA insecure" \
	"TLSA record 3 1 1 $(h256 mx.unsigned.test) \(insecure\)$"

expect MX bogus.test "bogus.test MX bogus" "\(BOGUS \(security failure\)\)" "signature expired"
expect A mx.bogus.test "bogus.test A bogus" "\(BOGUS \(security failure\)\)"

expect A mx.corrupt.test "corrupt.test A secure" "has address $(addr mx.corrupt.test) $S"
expect MX corrupt.test "corrupt.test MX secure" "handled by 10 mx\.corrupt\.test\. $S"
expect TLSA _25._tcp.mx.corrupt.test "corrupt.test TLSA bogus (bad RRSIG)" \
	"\(BOGUS \(security failure\)\)" "signature verification failed"

for z in lame.test dead.test; do
	t0=$(date +%s)
	out=$(timeout 25 unbound-host -C "$WORLD_UNBOUND_CONF" -v -t MX "$z" 2>&1)
	t=$(($(date +%s) - t0))
	printf '%s\n' "$out" | grep -q 'SERVFAIL' && [ $t -le 20 ]
	ok $? "$z MX SERVFAIL within 20 s (${t} s)" "$out"
done
expect DS lame.test "lame.test has a DS (expected signed)" "has DS record .*$S"
expect DS dead.test "dead.test has a DS (expected signed)" "has DS record .*$S"

# ---------------------------------------------------------------- TTLs (from NSD)
ttl() { dig +norec +noall +answer @"$WORLD_NS" "$2" "$1" | awk -v t="$1" '$4 == t {print $2; exit}'; }
negttl() { dig +norec +noall +authority @"$WORLD_NS" "$2" "$1" | awk '$4 == "SOA" {print $2; exit}'; }
[ "$(ttl MX usable.dane.test)" = 3600 ]; ok $? "MX TTL 3600"
[ "$(ttl A mx1.usable.dane.test)" = 3600 ]; ok $? "A TTL 3600"
[ "$(ttl TLSA _25._tcp.mx1.usable.dane.test)" = 600 ]; ok $? "TLSA TTL 600"
[ "$(negttl TLSA _25._tcp.mx.notlsa.dane.test)" = 300 ]; ok $? "NXDOMAIN negative TTL 300"
[ "$(negttl TLSA _25._tcp.mx.nodata.dane.test)" = 300 ]; ok $? "NODATA negative TTL 300"

# ---------------------------------------------------------------- certificates
cst=0
cout=''
for h in ${WORLD_HOSTS} ${WORLD_V6_HOSTS:-}; do
	h=${h%%=*}
	o=$(openssl verify -CAfile "$WORLD_CA" -verify_hostname "$h" "$C/$h.pem" 2>&1) || { cst=1; cout="$cout$o"$'\n'; }
	[ "$(grep -c BEGIN "$C/$h.chain.pem")" = 2 ] || { cst=1; cout="$cout$h.chain.pem: not 2 certs"$'\n'; }
	openssl pkey -in "$C/$h.key" -noout 2>/dev/null || { cst=1; cout="$cout$h.key unreadable"$'\n'; }
done
ok $cst "every host leaf verifies against the CA with its name; chains have 2 certs" "$cout"
openssl x509 -in "$C/mx1.usable.dane.test.pem" -noout -checkend 0 >/dev/null &&
	openssl x509 -in "$C/mx1.usable.dane.test.pem" -noout -checkend $((28 * 86400)) >/dev/null &&
	! openssl x509 -in "$C/mx1.usable.dane.test.pem" -noout -checkend $((30 * 86400)) >/dev/null
ok $? "leaf validity ends in 29..30 days"
o=$(openssl verify -CAfile "$WORLD_CA" "$C/expired.pem" 2>&1)
printf '%s\n' "$o" | grep -q 'certificate has expired'
ok $? "expired.pem is expired (and otherwise signed by the CA)" "$o"
o=$(openssl x509 -in "$C/expired.pem" -noout -ext subjectAltName 2>&1)
printf '%s\n' "$o" | grep -q 'DNS:mx.expired.dane.test'
ok $? "expired.pem is for mx.expired.dane.test" "$o"
o=$(openssl verify -CAfile "$WORLD_CA" "$C/taexpired.pem" 2>&1)
printf '%s\n' "$o" | grep -q 'certificate has expired' &&
	openssl x509 -in "$C/taexpired.pem" -noout -ext subjectAltName 2>&1 | grep -q 'DNS:mx.taexpired.dane.test' &&
	openssl x509 -in "$C/taexpired.pem" -noout -dates | grep -q 'notAfter=Feb  1 00:00:00 2020 GMT' &&
	[ "$(grep -c BEGIN "$C/taexpired.chain.pem")" = 2 ] &&
	[ "$(openssl x509 -in "$C/taexpired.pem" -noout -pubkey)" = "$(openssl pkey -in "$C/taexpired.key" -pubout)" ]
ok $? "taexpired.pem: CA-signed, for mx.taexpired.dane.test, expired 2020-02-01; chain of 2, key matches" "$o"
o=$(openssl verify -CAfile "$WORLD_CA" "$C/wrong.example.pem" 2>&1) &&
	! openssl verify -CAfile "$WORLD_CA" -verify_hostname mx.tawrongname.dane.test "$C/wrong.example.pem" >/dev/null 2>&1 &&
	openssl x509 -in "$C/wrong.example.pem" -noout -subject | grep -q '= *wrong\.example$' &&
	[ "$(openssl x509 -in "$C/wrong.example.pem" -noout -ext subjectAltName | grep -o 'DNS:[^,]*' | tr '\n' ' ')" = "DNS:wrong.example " ] &&
	[ "$(grep -c BEGIN "$C/wrong.example.chain.pem")" = 2 ]
ok $? "wrong.example.pem: valid from the CA, CN/SAN wrong.example only; chain of 2" "$o"
t=tanexthop.dane.test
o=$(openssl verify -CAfile "$WORLD_CA" -verify_hostname $t "$C/$t.pem" 2>&1) &&
	! openssl verify -CAfile "$WORLD_CA" -verify_hostname mx.$t "$C/$t.pem" >/dev/null 2>&1 &&
	openssl x509 -in "$C/$t.pem" -noout -subject | grep -q '= *tanexthop\.dane\.test$' &&
	[ "$(openssl x509 -in "$C/$t.pem" -noout -ext subjectAltName | grep -o 'DNS:[^,]*' | tr '\n' ' ')" = "DNS:$t " ] &&
	[ "$(grep -c BEGIN "$C/$t.chain.pem")" = 2 ] &&
	[ "$(openssl x509 -in "$C/$t.pem" -noout -pubkey)" = "$(openssl pkey -in "$C/$t.key" -pubout)" ]
ok $? "$t.pem: valid from the CA, CN/SAN $t only (not mx.$t); chain of 2, key matches" "$o"
o=$(openssl verify -CAfile "$C/selfsigned.pem" "$C/selfsigned.pem" 2>&1) &&
	! openssl verify -CAfile "$WORLD_CA" "$C/selfsigned.pem" >/dev/null 2>&1
ok $? "selfsigned.pem is self-signed, not from the CA" "$o"
openssl x509 -in "$WORLD_CA" -noout -subject | grep -q 'CN *= *danemilter test CA'
ok $? "CA subject CN = danemilter test CA"

# ---------------------------------------------------------------- smtp_server.py
# What tests run themselves (postfix.sh runs mode stall at mx.stall): modes
# ok (mx.v6only's certificate on ::1, DANE 3 1 1 from the zone verifies with
# openssl), nostarttls and stall, several connections at once, SIGTERM.
# The helper prints "STATUS<TAB>DESCRIPTION<TAB>DIAGNOSTIC" lines.
h=mx.v6only.dane.test
while IFS=$'\t' read -r st desc diag; do
	ok "$st" "smtp_server.py: $desc" "$diag"
done < <("${PYTHON:-/usr/bin/python3}" - "$(dirname "$0")/smtp_server.py" "$C/$h.chain.pem" "$C/$h.key" \
	"$WORLD_CA" "$(h256 $h)" 2>&1 <<'PYEOF'
import smtplib, socket, ssl, subprocess, sys, time
server, chain, key, ca, tlsa = sys.argv[1:6]
def res(st, desc, diag=""):
    print("%d\t%s\t%s" % (0 if st else 1, desc, " ".join(str(diag).split())[:300]), flush=True)
def start(mode):
    return subprocess.Popen([sys.executable, server, "--listen", "::1", "--port", "0",
                             "--mode", mode, "--hostname", "mx.v6only.dane.test",
                             "--cert", chain, "--key", key, "--stall-secs", "30"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
procs = {m: start(m) for m in ("ok", "nostarttls", "stall")}
port = {}
for m, p in procs.items():
    line = p.stdout.readline()
    try:
        port[m] = int(line.rsplit(":", 1)[1].split()[0])
    except (IndexError, ValueError):
        port[m] = 0
    res(port[m] > 0 and "[::1]" in line, "mode %s listens on ::1 (ready line)" % m, line)
def smtp(m):
    return smtplib.SMTP("::1", port[m], local_hostname="check.test", timeout=5)
try:
    # ok: real STARTTLS; openssl checks DANE-EE 3 1 1 for mx.v6only.dane.test
    o = subprocess.run(["openssl", "s_client", "-starttls", "smtp", "-connect", "[::1]:%d" % port["ok"],
                        "-servername", "mx.v6only.dane.test", "-dane_tlsa_domain", "mx.v6only.dane.test",
                        "-dane_tlsa_rrdata", "3 1 1 " + tlsa], input="", capture_output=True,
                       text=True, timeout=10).stdout
    res("Verify return code: 0 (ok)" in o and "Verified peername: mx.v6only.dane.test" in o,
        "ok: STARTTLS on [::1], DANE 3 1 1 of mx.v6only.dane.test verifies (openssl)",
        [l for l in o.splitlines() if "erif" in l])
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False
    s = smtp("ok")
    c1, _ = s.ehlo()
    t1 = s.has_extn("starttls")
    c2, _ = s.starttls(context=ctx)
    c3, _ = s.ehlo()
    t2 = s.has_extn("starttls")
    c4, _ = s.quit()
    res((c1, t1, c2, c3, t2, c4) == (250, True, 220, 250, False, 221),
        "ok: EHLO with STARTTLS, 220, handshake, EHLO again (no STARTTLS), QUIT 221",
        (c1, t1, c2, c3, t2, c4))
    s = smtp("nostarttls")
    c1, _ = s.ehlo()
    t1 = s.has_extn("starttls")
    c2, m2 = s.docmd("STARTTLS")
    s.quit()
    res((c1, t1, c2) == (250, False, 502), "nostarttls: EHLO without STARTTLS, STARTTLS -> 502",
        (c1, t1, c2, m2))
    s = smtp("stall")
    c1, _ = s.ehlo()
    t1 = s.has_extn("starttls")
    c2, m2 = s.docmd("STARTTLS")
    raw = s.sock
    raw.settimeout(0.5)
    try:
        ssl.create_default_context().wrap_socket(raw, server_hostname="mx.v6only.dane.test")
        hs = "handshake completed"
    except socket.timeout:
        hs = "timeout"
    except (ssl.SSLError, OSError) as e:
        hs = "error: %s" % e
    res((c1, t1, c2, m2, hs) == (250, True, 220, b"2.0.0 Ready to start TLS", "timeout"),
        "stall: EHLO with STARTTLS, '220 2.0.0 Ready to start TLS', then no handshake (0.5 s timeout)",
        (c1, t1, c2, m2, hs))
    # a second connection while the first stalls: served at once
    s2 = smtp("stall")
    c5, _ = s2.ehlo()
    s2.quit()
    res(c5 == 250, "stall: a second connection is served while the first one stalls", c5)
    # SIGTERM with the stalled connection open: exits promptly
    t0 = time.monotonic()
    procs["stall"].terminate()
    try:
        rc = procs["stall"].wait(timeout=3)
    except subprocess.TimeoutExpired:
        rc = "still running"
    dt = time.monotonic() - t0
    res(rc == 0 and dt < 1.0, "SIGTERM with an open connection: exit 0 in %.2f s" % dt, rc)
    raw.close()
except Exception as e:  # a broken server must not stop the checks
    res(False, "smtp_server.py exchange", repr(e))
finally:
    for p in procs.values():
        if p.poll() is None:
            p.kill()
            p.wait()
PYEOF
)

# ---------------------------------------------------------------- configs
grep -q "addrs = \[ \"$WORLD_NS@53\" \]" "$WORLD_CONF" &&
	grep -q "trust_anchor_file = \"$WORLD_TRUST_ANCHOR\"" "$WORLD_CONF"
ok $? "danemilter.conf points at the world"
grep -Eq '^\. 3600 IN DS [0-9]+ 13 2 [0-9a-f]{64}$' "$WORLD_TRUST_ANCHOR"
ok $? "root.key holds the root DS"

echo "1..$N"
cat "$TAPOUT"
echo "# $((N - FAILED)) passed, $FAILED failed"
[ $FAILED = 0 ]
