#!/usr/bin/env bash
# check-postfix.sh DIR: check the Postfix harness (postfix.sh) and the MTA-STS
# parts of a running test world (world.sh start DIR), independently of
# danemilter. Restarts the sink, resolver and outbound instances of DIR
# (outbound with an EMPTY smtp_tls_policy_maps: pure Postfix DANE), sends
# real mail, and stops those instances again on exit. Prints TAP; exits
# non-zero if any check fails. Takes ~25 s (lame.test, a 3 s curl timeout,
# deliveries).
# shellcheck disable=SC2153 # the WORLD_* variables come from world.env
set -u

DIR=${1:?usage: check-postfix.sh DIR}
DIR=${DIR%/}
HERE=$(cd "$(dirname "$0")" && pwd)
PF=$HERE/postfix.sh
WORLD=$HERE/world.sh
[ -r "$DIR/world.env" ] || { echo "Bail out! no $DIR/world.env"; exit 1; }
# shellcheck disable=SC1091
. "$DIR/world.env"
[ -n "${WORLD_STS:-}" ] || { echo "Bail out! world without MTA-STS (old world.sh?)"; exit 1; }
for c in unbound unbound-host postfix curl dig; do
	command -v $c >/dev/null || { echo "Bail out! $c is not installed"; exit 1; }
done

N=0
FAILED=0
TAPOUT=$(mktemp)
TMP=$(mktemp -d)
cleanup() {
	"$PF" stop "$DIR" >/dev/null 2>&1
	rm -rf "$TAPOUT" "$TMP"
}
trap cleanup EXIT

ok() { # ok STATUS DESCRIPTION [DIAGNOSTIC]
	N=$((N + 1))
	if [ "$1" = 0 ]; then
		echo "ok $N - $2" >>"$TAPOUT"
	else
		echo "not ok $N - $2" >>"$TAPOUT"
		[ -n "${3:-}" ] && printf '%s\n' "$3" | tail -n 15 | sed 's/^/#   /' >>"$TAPOUT"
		FAILED=$((FAILED + 1))
	fi
}

OUTLOG=$DIR/pf-out/maillog
SINKLOG=$DIR/pf-sink/maillog
MAIL=$DIR/pf-sink/mail
# shellcheck disable=SC2016 # sed expression
qre() { printf '%s' "$1" | sed 's/[.[\*^$()+?{|]/\\&/g'; } # regex-quote

# qid MSGID: the outbound queue id of the message (from its cleanup line).
qid() {
	local m
	m=$(qre "$1")
	grep -E "message-id=<$m>" "$OUTLOG" 2>/dev/null | head -n 1 | sed -E 's/.*\]: ([0-9A-F]+): message-id=.*/\1/'
}

# send_wait RCPT: send one message; sets ID (Message-ID), Q (queue id) and
# waits (15 s) for its first status= line.
send_wait() {
	local _
	ID=$("$PF" send "$DIR" sender@out.test "$1") || { ID=''; Q=''; return 1; }
	Q=''
	for _ in $(seq 1 50); do
		Q=$(qid "$ID")
		[ -n "$Q" ] && break
		sleep 0.1
	done
	[ -n "$Q" ] || return 1
	"$PF" wait-log "$DIR" out "$Q: to=<$(qre "$1")>.*status=" 15
}

# ---------------------------------------------------------------- start
T0=$(date +%s%N)
"$PF" stop "$DIR" >/dev/null 2>&1
o=$("$PF" start-sink "$DIR" 2>&1)
ok $? "start-sink" "$o"
t1=$(date +%s%N)
o=$("$PF" start-resolver "$DIR" 2>&1)
ok $? "start-resolver" "$o"
t2=$(date +%s%N)
o=$("$PF" start-outbound "$DIR" "" 2>&1)
ok $? "start-outbound (empty smtp_tls_policy_maps; DNSSEC probe ok)" "$o"
t3=$(date +%s%N)
echo "# start: sink $(((t1 - T0) / 1000000)) ms, resolver $(((t2 - t1) / 1000000)) ms, outbound $(((t3 - t2) / 1000000)) ms" >>"$TAPOUT"

# shellcheck disable=SC2153 # from world.env
n=$(echo "$WORLD_HOSTS" | wc -w)
up=$(ss -Hlnt | awk '{print $4}' | grep -c "^$WORLD_NET\.[0-9]*:25\$")
[ "$up" = "$n" ]
ok $? "sink listens on port 25 of all $n MX host addresses" "listening: $up"

h=mx.enforce.sts.test
a=$WORLD_ADDR_MX_ENFORCE_STS_TEST
o=$(echo | timeout 10 openssl s_client -connect "$a:25" -starttls smtp -servername $h \
	-CAfile "$WORLD_CA" -verify_hostname $h -verify_return_error 2>&1)
printf '%s\n' "$o" | grep -q 'Verify return code: 0 (ok)'
ok $? "sink on $a presents $h's certificate (STARTTLS, verifies with the test CA)" "$o"

# ---------------------------------------------------------------- special listeners
# TLS probe fixtures (world.sh): what each special listener presents.
sc() { # sc HOST ADDR [ARGS]: openssl s_client -starttls smtp ... -showcerts
	local h=$1 a=$2
	shift 2
	echo | timeout 10 openssl s_client -starttls smtp -connect "$a:25" -servername "$h" \
		-showcerts "$@" 2>&1
}
CA256=$(openssl x509 -in "$WORLD_CA" -pubkey -noout | openssl pkey -pubin -outform DER |
	openssl dgst -sha256 -r | cut -d' ' -f1)
dane_ta() { sc "$1" "$2" -dane_tlsa_domain "$1" -dane_tlsa_rrdata "2 1 1 $CA256"; }

o=$(dane_ta mx.ta.dane.test "$WORLD_ADDR_MX_TA_DANE_TEST")
printf '%s\n' "$o" | grep -q 'Verify return code: 0 (ok)' &&
	printf '%s\n' "$o" | grep -q 'DANE TLSA 2 1 1 .* matched TA certificate'
ok $? "control: mx.ta.dane.test verifies with DANE 2 1 1 (the test CA)" "$o"

h=mx.taexpired.dane.test
a=$WORLD_ADDR_MX_TAEXPIRED_DANE_TEST
o=$(sc $h "$a" -CAfile "$WORLD_CA")
printf '%s\n' "$o" | grep -q '^ *0 s: *CN *= *mx\.taexpired\.dane\.test$' &&
	printf '%s\n' "$o" | grep -q 'NotBefore: Jan  1 00:00:00 2020 GMT; NotAfter: Feb  1 00:00:00 2020 GMT' &&
	printf '%s\n' "$o" | grep -q '^ *1 s: *CN *= *danemilter test CA$' &&
	[ "$(printf '%s\n' "$o" | grep -c 'BEGIN CERTIFICATE')" = 2 ] &&
	printf '%s\n' "$o" | grep -q 'Verify return code: 10 (certificate has expired)'
ok $? "$h ($a): expired leaf for the name (2020-01-01..2020-02-01) + the CA" "$o"
o=$(dane_ta $h "$a")
printf '%s\n' "$o" | grep -q 'Verify return code: 10 (certificate has expired)'
ok $? "$h: DANE 2 1 1 fails: certificate has expired" "$o"

h=mx.tawrongname.dane.test
a=$WORLD_ADDR_MX_TAWRONGNAME_DANE_TEST
o=$(sc $h "$a" -CAfile "$WORLD_CA")
printf '%s\n' "$o" | grep -q '^ *0 s: *CN *= *wrong\.example$' &&
	printf '%s\n' "$o" | grep -q '^ *1 s: *CN *= *danemilter test CA$' &&
	[ "$(printf '%s\n' "$o" | grep -c 'BEGIN CERTIFICATE')" = 2 ] &&
	printf '%s\n' "$o" | grep -q 'Verify return code: 0 (ok)'
ok $? "$h ($a): valid test-CA leaf for wrong.example + the CA" "$o"
o=$(dane_ta $h "$a")
printf '%s\n' "$o" | grep -q 'Verify return code: 62 (hostname mismatch)'
ok $? "$h: DANE 2 1 1 fails: hostname mismatch" "$o"

h=mx.tanexthop.dane.test
a=$WORLD_ADDR_MX_TANEXTHOP_DANE_TEST
o=$(sc $h "$a" -CAfile "$WORLD_CA")
printf '%s\n' "$o" | grep -q '^ *0 s: *CN *= *tanexthop\.dane\.test$' &&
	printf '%s\n' "$o" | grep -q '^ *1 s: *CN *= *danemilter test CA$' &&
	[ "$(printf '%s\n' "$o" | grep -c 'BEGIN CERTIFICATE')" = 2 ] &&
	printf '%s\n' "$o" | grep -q 'Verify return code: 0 (ok)'
ok $? "$h ($a): valid test-CA leaf for tanexthop.dane.test (the next-hop domain) + the CA" "$o"
o=$(dane_ta $h "$a")
printf '%s\n' "$o" | grep -q 'Verify return code: 62 (hostname mismatch)'
ok $? "$h: DANE 2 1 1 with the MX host name alone fails: hostname mismatch" "$o"
o=$(sc $h "$a" -dane_tlsa_domain tanexthop.dane.test -dane_tlsa_rrdata "2 1 1 $CA256")
printf '%s\n' "$o" | grep -q 'Verify return code: 0 (ok)' &&
	printf '%s\n' "$o" | grep -q 'DANE TLSA 2 1 1 .* matched TA certificate'
ok $? "$h: DANE 2 1 1 with the next-hop domain as the name verifies" "$o"

# nostarttls (Postfix) and stall (smtp_server.py): the SMTP dialogue
while IFS=$'\t' read -r st desc diag; do
	ok "$st" "$desc" "$diag"
done < <(/usr/bin/python3 - "$WORLD_ADDR_MX_NOSTARTTLS_DANE_TEST" "$WORLD_ADDR_MX_STALL_DANE_TEST" 2>&1 <<'PYEOF'
import smtplib, socket, ssl, sys
nost, stall = sys.argv[1:3]
def res(st, desc, diag=""):
    print("%d\t%s\t%s" % (0 if st else 1, desc, " ".join(str(diag).split())[:300]), flush=True)
try:
    s = smtplib.SMTP(nost, 25, local_hostname="check.test", timeout=5)
    c1, m1 = s.ehlo()
    t1 = s.has_extn("starttls")
    c2, m2 = s.docmd("STARTTLS")
    s.quit()
    res((c1, t1, c2) == (250, False, 502),
        "mx.nostarttls.dane.test (%s): EHLO without STARTTLS, STARTTLS -> 502" % nost, (c1, m1, c2, m2))
except Exception as e:
    res(False, "mx.nostarttls.dane.test (%s): SMTP dialogue" % nost, repr(e))
try:
    s = smtplib.SMTP(stall, 25, local_hostname="check.test", timeout=5)
    c1, m1 = s.ehlo()
    t1 = s.has_extn("starttls")
    c2, m2 = s.docmd("STARTTLS")
    s.sock.settimeout(1.0)
    try:
        ssl.create_default_context().wrap_socket(s.sock, server_hostname="mx.stall.dane.test")
        hs = "handshake completed"
    except socket.timeout:
        hs = "timeout"
    except (ssl.SSLError, OSError) as e:
        hs = "error: %s" % e
    s.sock.close()
    res((c1, t1, c2, m2, hs) == (250, True, 220, b"2.0.0 Ready to start TLS", "timeout"),
        "mx.stall.dane.test (%s): EHLO with STARTTLS, 220 Ready, then no TLS handshake (1 s)" % stall,
        (c1, m1, c2, m2, hs))
except Exception as e:
    res(False, "mx.stall.dane.test (%s): SMTP dialogue" % stall, repr(e))
PYEOF
)

o=$(dig +dnssec +time=2 +tries=1 @"$WORLD_RESOLVER" MX usable.dane.test 2>&1)
printf '%s\n' "$o" | grep -q 'flags:.* ad[ ;]' && printf '%s\n' "$o" | grep -q 'MX.*10 mx1\.usable'
ok $? "resolver $WORLD_RESOLVER: usable.dane.test MX with AD" "$o"
o=$(dig +dnssec +time=2 +tries=1 @"$WORLD_RESOLVER" TXT _mta-sts.enforce.sts.test 2>&1)
printf '%s\n' "$o" | grep -q 'flags:.* ad[ ;]' && printf '%s\n' "$o" | grep -q 'v=STSv1; id=enforce1;'
ok $? "resolver: _mta-sts.enforce.sts.test TXT with AD" "$o"
o=$(dig +time=5 +tries=1 @"$WORLD_RESOLVER" MX bogus.test 2>&1)
printf '%s\n' "$o" | grep -q 'status: SERVFAIL'
ok $? "resolver: bogus.test SERVFAIL" "$o"
s=$(date +%s)
o=$(dig +time=15 +tries=1 @"$WORLD_RESOLVER" MX lame.test 2>&1)
t=$(($(date +%s) - s))
printf '%s\n' "$o" | grep -q 'status: SERVFAIL' && [ $t -le 8 ]
ok $? "resolver: lame.test SERVFAIL in ${t} s (<= 8)" "$o"

pid=$(sed 's/ //g' "$DIR/pf-out/queue/pid/master.pid" 2>/dev/null)
o=$(cat "/proc/$pid/root/etc/resolv.conf" 2>&1)
printf '%s\n' "$o" | grep -qx "nameserver $WORLD_RESOLVER" && printf '%s\n' "$o" | grep -qx 'options trust-ad'
ok $? "outbound master $pid sees DIR/pf-out/resolv.conf as /etc/resolv.conf" "$o"
! grep -q "nameserver $WORLD_RESOLVER" /etc/resolv.conf
ok $? "the host's /etc/resolv.conf is untouched"

# ---------------------------------------------------------------- DANE
send_wait user@usable.dane.test
o=$(grep -F "$Q" "$OUTLOG")
grep -q "Verified TLS connection established to mx1\.usable\.dane\.test\[$WORLD_ADDR_MX1_USABLE_DANE_TEST\]:25" "$OUTLOG" &&
	printf '%s\n' "$o" | grep -q "$Q: to=<user@usable.dane.test>, relay=mx1.usable.dane.test\[.*status=sent"
ok $? "usable.dane.test: Verified TLS connection, status=sent" "$(tail -n 8 "$OUTLOG")"
"$PF" wait-log "$DIR" sink "to=<user@usable\.dane\.test>, relay=sinkmail.*status=sent" 10 &&
	grep -q "^Message-ID: <$ID>" "$MAIL/user@usable.dane.test" &&
	grep -q "by mx1\.usable\.dane\.test (Postfix) with ESMTPS" "$MAIL/user@usable.dane.test"
ok $? "sink: mail/user@usable.dane.test holds it, Received by mx1.usable.dane.test with ESMTPS" \
	"$(tail -n 5 "$SINKLOG")"

send_wait user@wrongtlsa.dane.test
o=$(grep -F "$Q: to=" "$OUTLOG")
printf '%s\n' "$o" | grep -q 'dsn=4\.7\.5, status=deferred (Server certificate not verified)'
ok $? "wrongtlsa.dane.test: deferred, Server certificate not verified" "$o"
grep -q 'server certificate verification failed for mx\.wrongtlsa\.dane\.test.*no matching DANE TLSA records' "$OUTLOG"
ok $? "wrongtlsa.dane.test: 'no matching DANE TLSA records' logged"
WQ=$Q

send_wait user@bogus.test
o=$(grep -F "$Q: to=" "$OUTLOG")
printf '%s\n' "$o" | grep -q 'status=deferred (Host or domain name not found. Name service error for name=bogus.test type=MX: Host not found, try again)'
ok $? "bogus.test: deferred (DNSSEC failure -> SERVFAIL -> try again)" "$o"
BQ=$Q

send_wait user@notlsa.dane.test
o=$(grep -F "$Q: to=" "$OUTLOG")
printf '%s\n' "$o" | grep -q 'status=sent' &&
	grep -Eq '(Trusted|Untrusted|Anonymous) TLS connection established to mx\.notlsa\.dane\.test' "$OUTLOG"
ok $? "notlsa.dane.test: sent over opportunistic TLS ($(grep -Eo '(Trusted|Untrusted|Anonymous) TLS connection established to mx\.notlsa' "$OUTLOG" | head -n 1 | cut -d' ' -f1))" "$o"

"$PF" flush "$DIR"
sleep 1
o=$("$PF" queue "$DIR")
printf '%s\n' "$o" | grep -q "\"queue_id\": \"$WQ\".*user@wrongtlsa.dane.test" &&
	printf '%s\n' "$o" | grep -q "\"queue_id\": \"$BQ\".*user@bogus.test"
ok $? "wrongtlsa and bogus messages stay in the outbound queue after a flush" "$o"
[ ! -e "$MAIL/user@wrongtlsa.dane.test" ] && [ ! -e "$MAIL/user@bogus.test" ]
ok $? "the sink received nothing for wrongtlsa / bogus"

"$PF" check-dnssec "$DIR" >/dev/null 2>&1
ok $? "no 'DNSSEC validation may be unavailable' in the outbound log"

# ---------------------------------------------------------------- policy map
printf 'enforce.sts.test secure match=mx.enforce.sts.test servername=hostname\n' >"$TMP/policy"
touch -d "@$(($(date +%s) - 10))" "$TMP/policy" # texthash: no "cool down" wait
chmod a+rx "$TMP" && chmod a+r "$TMP/policy"
o=$("$PF" set-policy "$DIR" "texthash:$TMP/policy" 2>&1)
ok $? "set-policy texthash:FILE" "$o"
sleep 0.5
send_wait user@enforce.sts.test
o=$(grep -F "$Q: to=" "$OUTLOG")
printf '%s\n' "$o" | grep -q 'status=sent' &&
	grep -q "Verified TLS connection established to mx\.enforce\.sts\.test\[$WORLD_ADDR_MX_ENFORCE_STS_TEST\]:25" "$OUTLOG"
ok $? "enforce.sts.test with 'secure match=mx.enforce.sts.test': Verified (test CA), sent" \
	"$(tail -n 6 "$OUTLOG")"
"$PF" set-policy "$DIR" "" >/dev/null 2>&1

# ---------------------------------------------------------------- HTTPS
cu() { # cu DOMAIN CURL-ARGS...: GET the policy of DOMAIN
	local d=$1
	shift
	curl -sS --resolve "mta-sts.$d:443:$WORLD_STS" --cacert "$WORLD_CA" "$@" \
		"https://mta-sts.$d/.well-known/mta-sts.txt"
}
o=$(cu enforce.sts.test -m 5 -D "$TMP/h" -o "$TMP/b" -w '%{http_code} %{content_type}' 2>&1)
printf 'version: STSv1\nmode: enforce\nmx: mx.enforce.sts.test\nmx: *.backup.sts.test\nmax_age: 86400\n' >"$TMP/want"
[ "$o" = "200 text/plain" ] && cmp -s "$TMP/b" "$TMP/want"
ok $? "curl enforce: 200 text/plain, the policy body" "$o $(cat "$TMP/b")"
o=$(cu usable.dane.test -m 5 2>&1)
printf '%s\n' "$o" | grep -qx 'mx: mx1.usable.dane.test'
ok $? "curl usable.dane.test: policy for mx1.usable.dane.test" "$o"
o=$(cu crlf.sts.test -m 5 2>&1 | od -c)
printf '%s\n' "$o" | grep -q '\\r  *\\n'
ok $? "curl crlf: CRLF line ends" "$o"
o=$(cu selfsigned.sts.test -m 5 -o /dev/null 2>&1)
st=$?
[ $st = 60 ] && printf '%s\n' "$o" | grep -qi 'self-signed'
ok $? "curl selfsigned: certificate error (exit $st)" "$o"
o=$(cu wrongname.sts.test -m 5 -o /dev/null 2>&1)
st=$?
[ $st = 60 ] && printf '%s\n' "$o" | grep -q 'no alternative certificate subject name'
ok $? "curl wrongname: name mismatch (exit $st)" "$o"
o=$(cu big.sts.test -m 5 -D "$TMP/h" -o "$TMP/b" -w '%{http_code} %{size_download}' 2>&1)
[ "$o" = "200 102400" ] && grep -qi '^content-length: 102400' "$TMP/h"
ok $? "curl big: 200, Content-Length 102400" "$o $(cat "$TMP/h")"
o=$(cu chunked.sts.test -m 5 -D "$TMP/h" -o "$TMP/b" -w '%{http_code} %{size_download}' 2>&1)
[ "$o" = "200 102400" ] && grep -qi '^transfer-encoding: chunked' "$TMP/h" && ! grep -qi '^content-length' "$TMP/h"
ok $? "curl chunked: 200, chunked, 102400 bytes" "$o $(cat "$TMP/h")"
s=$(date +%s)
o=$(cu slow.sts.test -m 3 -o /dev/null 2>&1)
st=$?
t=$(($(date +%s) - s))
[ $st = 28 ] && [ $t -le 5 ]
ok $? "curl slow: times out with -m 3 (exit $st, ${t} s)" "$o"
o=$(cu notfound.sts.test -m 5 -o /dev/null -w '%{http_code}' 2>&1)
[ "$o" = 404 ]
ok $? "curl notfound: 404" "$o"
o=$(cu redirect.sts.test -m 5 -o /dev/null -w '%{http_code} %{redirect_url}' 2>&1)
[ "$o" = "301 https://mta-sts.enforce.sts.test/.well-known/mta-sts.txt" ]
ok $? "curl redirect: 301 to the enforce policy" "$o"
o=$(cu ctype.sts.test -m 5 -o /dev/null -w '%{http_code} %{content_type}' 2>&1)
[ "$o" = "200 text/html" ]
ok $? "curl ctype: 200 text/html" "$o"
o=$(cu syntax.sts.test -m 5 2>&1)
printf '%s\n' "$o" | grep -qx 'mode: sometimes'
ok $? "curl syntax: mode: sometimes" "$o"
o=$(dig +norec +time=2 +tries=1 @"$WORLD_NS" A mta-sts.nohost.sts.test 2>&1)
printf '%s\n' "$o" | grep -q 'status: NXDOMAIN'
ok $? "mta-sts.nohost.sts.test: NXDOMAIN" "$o"
grep -q "sni=mta-sts.enforce.sts.test host=mta-sts.enforce.sts.test GET /.well-known/mta-sts.txt 200 mode=ok" "$WORLD_STS_DIR/access.log" &&
	grep -q "sni=mta-sts.selfsigned.sts.test tls-error=" "$WORLD_STS_DIR/access.log"
ok $? "access.log records requests and TLS failures" "$(tail -n 5 "$WORLD_STS_DIR/access.log")"

o=$("$WORLD" sts-mode "$DIR" enforce.sts.test status:500 2>&1) &&
	o="$o$(cu enforce.sts.test -m 5 -o /dev/null -w '%{http_code}' 2>&1)"
[ "$o" = 500 ]
ok $? "sts-mode enforce status:500 -> 500" "$o"
"$WORLD" sts-mode "$DIR" enforce.sts.test ok
o=$(cu enforce.sts.test -m 5 -o /dev/null -w '%{http_code}' 2>&1)
[ "$o" = 200 ]
ok $? "sts-mode enforce ok -> 200 again" "$o"

# ---------------------------------------------------------------- sts-set
txt() { dig +norec +time=2 +tries=1 @"$WORLD_NS" TXT _mta-sts.changing.sts.test +dnssec 2>&1; }
o=$(txt)
old=$(printf '%s\n' "$o" | sed -n 's/.*TXT[[:space:]]*"v=STSv1; id=\([^;]*\);".*/\1/p')
[ -n "$old" ] && [ "$old" != chg2 ]
ok $? "changing: one TXT v=STSv1 record (id=$old) before" "$o"
printf 'version: STSv1\nmode: testing\nmx: mx.changing.sts.test\nmax_age: 600\n' >"$TMP/newbody"
cp "$WORLD_STS_DIR/mta-sts.changing.sts.test/body" "$TMP/oldbody"
s=$(date +%s%N)
o=$("$WORLD" sts-set "$DIR" changing.sts.test chg2 "$TMP/newbody" 2>&1)
st=$?
t=$((($(date +%s%N) - s) / 1000000))
ok $st "sts-set changing chg2 BODY (${t} ms)" "$o"
o=$(txt)
printf '%s\n' "$o" | grep -q '"v=STSv1; id=chg2;"' &&
	printf '%s\n' "$o" | grep -q 'RRSIG.*TXT 13' && ! printf '%s\n' "$o" | grep -q 'id=changing1'
ok $? "dig @NS: TXT id=chg2 with RRSIG, old id gone" "$o"
o=$(unbound-host -C "$WORLD_UNBOUND_CONF" -v -t TXT _mta-sts.changing.sts.test 2>&1)
printf '%s\n' "$o" | grep -q '"v=STSv1; id=chg2;" (secure)'
ok $? "unbound-host: the re-signed TXT validates (secure)" "$o"
o=$(unbound-host -C "$WORLD_UNBOUND_CONF" -v -t MX enforce.sts.test 2>&1)
printf '%s\n' "$o" | grep -q '(secure)$'
ok $? "unbound-host: the rest of sts.test still secure" "$o"
o=$(dig +dnssec +time=2 +tries=1 @"$WORLD_RESOLVER" TXT _mta-sts.changing.sts.test 2>&1)
printf '%s\n' "$o" | grep -q 'id=chg2;' && printf '%s\n' "$o" | grep -q 'flags:.* ad[ ;]'
ok $? "resolver (.5) sees the new id with AD" "$o"
o=$(cu changing.sts.test -m 5 2>&1)
[ "$o" = "$(cat "$TMP/newbody")" ]
ok $? "the new body is served" "$o"
o=$("$WORLD" sts-set "$DIR" changing.sts.test "${old:-changing1}" "$TMP/oldbody" 2>&1) &&
	txt | grep -q "\"v=STSv1; id=${old:-changing1};\""
ok $? "sts-set back to id=${old:-changing1} + old body" "$o"

# ---------------------------------------------------------------- stop
s=$(date +%s%N)
"$PF" stop "$DIR"
t=$((($(date +%s%N) - s) / 1000000))
left=''
for p in /proc/[0-9]*; do
	env=$({ tr '\0' '\n' <"$p/environ"; } 2>/dev/null) || continue
	printf '%s\n' "$env" | grep -q "^MAIL_CONFIG=$DIR/pf-" && left="$left ${p#/proc/}"
	cmd=$({ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null)
	case $cmd in
	*"unbound -d -c $DIR/unbound/"* | *"smtp_server.py "*"--cert $DIR/certs/"*) left="$left ${p#/proc/}" ;;
	esac
done
zombies=''
for p in $left; do
	st=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)
	[ "$st" = Z ] || [ -z "$st" ] || zombies="$zombies $p"
done
[ -z "$zombies" ] && ! ss -Hlnt | awk '{print $4}' | grep -q "^$WORLD_NET\.[0-9]*:25\$" &&
	! ss -Hlnu | awk '{print $4}' | grep -q "^$WORLD_RESOLVER:53\$"
ok $? "postfix.sh stop (${t} ms): no instance, unbound or stall server left, no listener" "left:$zombies"

echo "1..$N"
cat "$TAPOUT"
echo "# $((N - FAILED)) passed, $FAILED failed"
[ $FAILED = 0 ]
