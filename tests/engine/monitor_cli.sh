#!/usr/bin/env bash
# monitor_cli.sh: `danemilter monitor` against the signed test world, line
# by line: monitor.dane.test with every check passing; the world's
# mismatching TLSA (wrongtlsa); a TLSA rollover (a new key's certificate
# with --cert: the exact 3 1 1 record to publish, equal to `danemilter
# tlsa`'s and to openssl's digest; published with world.sh tlsa-set: pass;
# deployed while the old record stays: tlsa-stale); an expired and a
# soon-expiring certificate; a policy host whose certificate expires soon;
# an MTA-STS policy that misses the MX; a policy host with a self-signed
# certificate; missing TLSRPT; a lookup error (75); --json; usage and
# configuration errors. The SMTP servers are tests/world/smtp_server.py at
# the MX addresses (smtp_serve). Needs root. ~15 s.
# shellcheck disable=SC2153 # the WORLD_* variables come from world.env
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

world_start
C=$WORLD/certs
CONF=$WORLD/monitor.conf
{
	cat "$WORLD/danemilter.conf"
	printf 'mta_sts = { ca_file = "%s"; connect_timeout_ms = 2000; timeout_ms = 3000; };\n' "$C/ca.pem"
	printf 'probe = { timeout_ms = 2000; helo = "monitor.test"; };\n'
} >"$CONF"
a() { local v="WORLD_ADDR_$(echo "$1" | tr 'a-z.-' 'A-Z__')"; echo "${!v}"; }
D=monitor.dane.test
H=mx.monitor.dane.test
AD=$(a $H)
OLD=$(spki_sha "$C/$H.pem" sha256)
# enddate CERT: its notAfter as YYYY-MM-DD
enddate() { date -u -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%F; }

# run NAME ARGS...: danemilter monitor ARGS; stdout to NAME.out, stderr to
# NAME.err, exit code to RC.
run() {
	local name=$1
	shift
	"$DANEMILTER" monitor "$@" >"$WORLD/$name.out" 2>"$WORLD/$name.err"
	RC=$?
}
# line NAME DOMAIN CHECK: the output line of that check
line() { grep -F -- "$2: $3 " "$WORLD/$1.out"; }

smtp_serve "$AD" $H "$C/$H.chain.pem" "$C/$H.key"

# --------------------------------------------------------- every check passes
run ok -c "$CONF" $D
is "$RC" 0 "$D: exit 0"
is "$(wc -l <"$WORLD/ok.out")" 8 "$D: one line per check"
is "$(line ok $D dnssec)" "$D: dnssec pass: MX RRset secure: $H (10)" "dnssec pass"
is "$(line ok $D tlsa-published)" \
	"$D: tlsa-published pass: $H: 1 usable TLSA record at _25._tcp.$H" "tlsa-published pass"
is "$(line ok $D tlsa-match)" "$D: tlsa-match pass: $H[$AD] matches at depth 0 (3 1 1 $OLD)" \
	"tlsa-match pass: the host, its address and the record that matched"
is "$(line ok $D tlsa-rollover)" \
	"$D: tlsa-rollover pass: no next certificate given (--cert FILE, or cert_files in the monitor configuration)" \
	"tlsa-rollover pass without a next certificate"
is "$(line ok $D tlsa-stale)" \
	"$D: tlsa-stale pass: every TLSA record matches the live or the next certificate" "tlsa-stale pass"
is "$(line ok $D cert-expiry)" \
	"$D: cert-expiry pass: every certificate valid for more than 21 days (the first to expire: $(enddate "$C/$H.pem"))" \
	"cert-expiry pass (default expiry_warn_days 21; the world's leaves live 29 more days)"
is "$(line ok $D mta-sts)" "$D: mta-sts pass: mode enforce, id monitor1, mx $H" "mta-sts pass"
is "$(line ok $D tlsrpt)" "$D: tlsrpt pass: v=TLSRPTv1; rua=mailto:tlsrpt@$D" "tlsrpt pass"

# --------------------------------------------------------- mismatching TLSA
W=wrongtlsa.dane.test
WH=mx.wrongtlsa.dane.test
WA=$(a $WH)
smtp_serve "$WA" $WH "$C/$WH.chain.pem" "$C/$WH.key"
run wrong -c "$CONF" $W
is "$RC" 1 "$W: exit 1"
WREC=$("$DANEMILTER" tlsa --host $WH "$C/$WH.pem")
is "$WREC" "_25._tcp.$WH. IN TLSA 3 1 1 $(spki_sha "$C/$WH.pem" sha256)" \
	"danemilter tlsa prints openssl's digest"
is "$(line wrong $W tlsa-match)" \
	"$W: tlsa-match fail: $WH[$WA] certificate-not-trusted: no TLSA record matched the certificate chain: its certificate (CN=$WH) needs $WREC, or deploy the certificate the published records name" \
	"tlsa-match fail names the host, the address and the record the live certificate needs"
OTHER=$(openssl pkey -in "$C/other.key" -pubout -outform DER | openssl dgst -sha256 -binary |
	od -An -v -tx1 | tr -d ' \n' | tr a-f A-F)
is "$(line wrong $W tlsa-stale)" \
	"$W: tlsa-stale warn: remove _25._tcp.$WH. IN TLSA 3 1 1 $OTHER: it matches neither the live nor the next certificate" \
	"tlsa-stale warn: the published record that matches nothing, to remove"
is "$(line wrong $W tlsrpt)" \
	"$W: tlsrpt warn: no TLSRPT record: publish _smtp._tls.$W. IN TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@$W\" to receive reports of failed deliveries" \
	"missing TLSRPT record: warn with the record to publish"
is "$(line wrong $W mta-sts)" \
	"$W: mta-sts warn: no MTA-STS policy: no TXT record at _mta-sts.$W (nxdomain)" "no MTA-STS: warn"

# ---------------------------------------------- a certificate about to expire
# mx.monitor's own key (its TLSA still matches), valid for 10 days
openssl req -new -key "$C/$H.key" -subj "/CN=$H" -out "$WORLD/soon.csr" 2>/dev/null
openssl x509 -req -in "$WORLD/soon.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -set_serial 7001 -days 10 \
	-extfile <(printf 'subjectAltName=DNS:%s\n' $H) -out "$WORLD/soon.pem" 2>/dev/null
cat "$WORLD/soon.pem" "$C/ca.pem" >"$WORLD/soon.chain.pem"
smtp_serve "$AD" $H "$WORLD/soon.chain.pem" "$C/$H.key"
run soon -c "$CONF" $D
is "$RC" 0 "soon-expiring certificate: a warning, exit 0"
like "$(line soon $D cert-expiry)" \
	"^$D: cert-expiry warn: $H\\[$AD\\]: the certificate CN=$H expires on $(enddate "$WORLD/soon.pem") \\(in (9|10) days\\): renew it \\(publish the new key's TLSA record first\\)\$" \
	"soon-expiring certificate: cert-expiry warn with its date"
is "$(line soon $D tlsa-match)" "$D: tlsa-match pass: $H[$AD] matches at depth 0 (3 1 1 $OLD)" \
	"same key: the TLSA still matches"
smtp_serve "$AD" $H "$C/$H.chain.pem" "$C/$H.key"

# the policy host's certificate (29 days left) with expiry_warn_days = 30
{ cat "$CONF"; echo 'monitor = { expiry_warn_days = 30; };'; } >"$WORLD/warn30.conf"
run warn30 -c "$WORLD/warn30.conf" $D
like "$(line warn30 $D mta-sts)" \
	"^$D: mta-sts warn: the certificate of mta-sts\\.$D expires on [0-9-]{10} \\(in 2[89] days\\): renew it; mode enforce, id monitor1, mx $H\$" \
	"the policy host's certificate expiring within expiry_warn_days: mta-sts warn"
like "$(line warn30 $D cert-expiry)" "^$D: cert-expiry warn: " "expiry_warn_days = 30: the MX certificate warns too"
is "$RC" 0 "warnings only: exit 0"

# -------------------------------------------------------------- expired
E=expired.dane.test
EH=mx.expired.dane.test
EA=$(a $EH)
smtp_serve "$EA" $EH "$C/expired.chain.pem" "$C/expired.key"
run expired -c "$CONF" $E
is "$RC" 1 "expired certificate: exit 1"
is "$(line expired $E cert-expiry)" \
	"$E: cert-expiry fail: $EH[$EA]: the certificate CN=$EH expired on 2020-02-01: renew it (publish the new key's TLSA record first)" \
	"expired certificate: cert-expiry fail"

# -------------------------------------------------------------- rollover
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORLD/next.key" \
	-subj "/CN=$H" -out "$WORLD/next.csr" 2>/dev/null
openssl x509 -req -in "$WORLD/next.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -set_serial 7002 -days 60 \
	-extfile <(printf 'subjectAltName=DNS:%s\n' $H) -out "$WORLD/next.pem" 2>/dev/null
cat "$WORLD/next.pem" "$C/ca.pem" >"$WORLD/next.chain.pem"
NEW=$(spki_sha "$WORLD/next.pem" sha256)
NREC=$("$DANEMILTER" tlsa "$WORLD/next.chain.pem" | head -1)
is "$NREC" "_25._tcp.$H. IN TLSA 3 1 1 $NEW" "danemilter tlsa: the next certificate's 3 1 1 = openssl's digest"
run roll -c "$CONF" --cert "$WORLD/next.chain.pem" $D
is "$RC" 1 "rollover not published: exit 1 (a certbot deploy hook refuses the certificate)"
is "$(line roll $D tlsa-rollover)" \
	"$D: tlsa-rollover fail: $WORLD/next.chain.pem: no published TLSA record at _25._tcp.$H matches it: publish $NREC next to the current record, wait for the TLSA TTL, then deploy the certificate (current + next)" \
	"tlsa-rollover fail with the exact record to publish"
is "$(line roll $D tlsa-stale)" \
	"$D: tlsa-stale pass: every TLSA record matches the live or the next certificate" \
	"the current record matches the live certificate: not stale"

bash "$top_srcdir/tests/world/world.sh" tlsa-set "$WORLD" $H "3 1 1 $OLD" "3 1 1 $NEW" >"$WORLD/tlsa-set.log" 2>&1
is "$?" 0 "world.sh tlsa-set: current + next published and signed"
run roll2 -c "$CONF" --cert "$WORLD/next.chain.pem" $D
is "$(line roll2 $D tlsa-rollover)" \
	"$D: tlsa-rollover pass: $WORLD/next.chain.pem: already published at _25._tcp.$H (3 1 1)" \
	"next record published: tlsa-rollover pass"
is "$(line roll2 $D tlsa-published)" \
	"$D: tlsa-published pass: $H: 2 usable TLSA records at _25._tcp.$H" "two records published"
is "$RC" 0 "rollover ready: exit 0"

# the new certificate deployed, the old record still published
smtp_serve "$AD" $H "$WORLD/next.chain.pem" "$WORLD/next.key"
run deployed -c "$CONF" $D
is "$(line deployed $D tlsa-match)" "$D: tlsa-match pass: $H[$AD] matches at depth 0 (3 1 1 $NEW)" \
	"new certificate deployed: it matches the new record"
is "$(line deployed $D tlsa-stale)" \
	"$D: tlsa-stale warn: remove _25._tcp.$H. IN TLSA 3 1 1 $OLD: it matches neither the live nor the next certificate" \
	"the old record, matching neither the live nor a next certificate: tlsa-stale warn"
is "$RC" 0 "a stale record is a warning: exit 0"

# the deployed certificate, the old record only: what a rollover mistake does
bash "$top_srcdir/tests/world/world.sh" tlsa-set "$WORLD" $H "3 1 1 $OLD" >>"$WORLD/tlsa-set.log" 2>&1
run mistake -c "$CONF" $D
is "$RC" 1 "new key deployed, only the old record published: exit 1"
like "$(line mistake $D tlsa-match)" \
	"^$D: tlsa-match fail: $H\\[$AD\\] certificate-not-trusted: .* needs _25\\._tcp\\.$H\\. IN TLSA 3 1 1 $NEW, " \
	"rollover mistake: tlsa-match fail with the new key's record"
bash "$top_srcdir/tests/world/world.sh" tlsa-set "$WORLD" $H "3 1 1 $OLD" >>"$WORLD/tlsa-set.log" 2>&1
smtp_serve "$AD" $H "$C/$H.chain.pem" "$C/$H.key"

# a --cert file that cannot be read
run nofile -c "$CONF" --cert "$WORLD/missing.pem" $D
is "$RC" 1 "unreadable --cert: exit 1"
like "$(line nofile $D tlsa-rollover)" "^$D: tlsa-rollover fail: .*missing\\.pem.*(No such file|cannot)" \
	"unreadable --cert: tlsa-rollover fail naming the file"

# -------------------------------------------------------------- MTA-STS
printf 'version: STSv1\nmode: enforce\nmx: other.monitor.dane.test\nmax_age: 86400\n' >"$WORLD/miss.body"
bash "$top_srcdir/tests/world/world.sh" sts-set "$WORLD" $D monitor2 "$WORLD/miss.body" >"$WORLD/sts-set.log" 2>&1
run stsmiss -c "$CONF" $D
is "$RC" 1 "an MTA-STS policy that misses the MX: exit 1"
is "$(line stsmiss $D mta-sts)" \
	"$D: mta-sts fail: the MX host $H is not covered by the policy's mx patterns (other.monitor.dane.test): add \"mx: $H\" to the policy and publish a new id in _mta-sts.$D; mode enforce, id monitor2, mx other.monitor.dane.test" \
	"mta-sts fail names the MX host and the line to add"
printf 'version: STSv1\nmode: enforce\nmx: %s\nmax_age: 86400\n' $H >"$WORLD/ok.body"
bash "$top_srcdir/tests/world/world.sh" sts-set "$WORLD" $D monitor3 "$WORLD/ok.body" >>"$WORLD/sts-set.log" 2>&1

S=selfsigned.sts.test
run selfsigned -c "$CONF" $S
like "$(line selfsigned $S mta-sts)" \
	"^$S: mta-sts fail: sts-webpki-invalid: .*self-signed certificate.*: fix https://mta-sts\\.$S/\\.well-known/mta-sts\\.txt\$" \
	"policy host with a self-signed certificate: mta-sts fail sts-webpki-invalid"
like "$(line selfsigned $S tlsa-published)" "^$S: tlsa-published fail: mx\\.$S: no TLSA records " \
	"no TLSA at all: tlsa-published fail"
is "$RC" 1 "$S: exit 1"

# -------------------------------------------------------------- lookup error
run lame -c "$CONF" lame.test
is "$RC" 75 "a lookup error: exit 75"
like "$(line lame lame.test dnssec)" "^lame\\.test: dnssec error: the MX lookup failed: " \
	"a lookup error is error, never pass or fail"

# -------------------------------------------------------------- JSON
run json -c "$CONF" --json $D
is "$RC" 0 "--json: exit 0"
is "$("$PYTHON" -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(len(rows), " ".join(r["check"] + "=" + r["state"] for r in rows), rows[2]["domain"])
' "$WORLD/json.out" 2>&1)" \
	"8 dnssec=pass tlsa-published=pass tlsa-match=pass tlsa-rollover=pass tlsa-stale=pass cert-expiry=pass mta-sts=pass tlsrpt=pass $D" \
	"--json: one object per check, in order"

# the next certificates named in the configuration (no --cert)
{ cat "$CONF"; printf 'monitor = { domains = ( { name = "%s"; cert_files = [ "%s" ]; } ); };\n' \
	"$D" "$WORLD/next.chain.pem"; } >"$WORLD/files.conf"
run files -c "$WORLD/files.conf" $D
is "$(line files $D tlsa-rollover)" \
	"$D: tlsa-rollover fail: $WORLD/next.chain.pem: no published TLSA record at _25._tcp.$H matches it: publish $NREC next to the current record, wait for the TLSA TTL, then deploy the certificate (current + next)" \
	"monitor.domains cert_files: the next certificate of the configuration"
run files2 -c "$WORLD/files.conf" --cert "$C/$H.chain.pem" $D
like "$(line files2 $D tlsa-rollover)" "^$D: tlsa-rollover pass: $C/$H\\.chain\\.pem: already published" \
	"--cert wins over the configuration's cert_files"

# -------------------------------------------------------------- usage, config
run usage1 -c "$CONF"
is "$RC" 64 "no DOMAIN: exit 64"
run usage2 --bogus $D
is "$RC" 64 "unknown option: exit 64"
run usage3 -c "$CONF" 'bad domain!'
is "$RC" 64 "invalid domain: exit 64"
printf 'monitor = { interval_s = 0; };\n' >"$WORLD/bad.conf"
run badconf -c "$WORLD/bad.conf" $D
is "$RC" 78 "bad configuration: exit 78"
like "$(cat "$WORLD/badconf.err")" "bad\\.conf:1: .*interval_s" "the error names the file, line and key"
printf 'monitor = { domains = ( { name = "*.example"; } ); };\n' >"$WORLD/bad2.conf"
run badconf2 -c "$WORLD/bad2.conf" $D
is "$RC:$(cat "$WORLD/badconf2.err")" \
	"78:danemilter: $WORLD/bad2.conf:1: monitor.domains entry \"*.example\": name must be a domain name" \
	"monitor.domains: a wildcard is refused"
printf 'monitor = { domains = ( { name = "x.example"; cert_files = [ "next.pem" ]; } ); };\n' >"$WORLD/bad3.conf"
run badconf3 -c "$WORLD/bad3.conf" $D
is "$RC:$(cat "$WORLD/badconf3.err")" \
	"78:danemilter: $WORLD/bad3.conf:1: monitor.domains entry \"x.example\": cert_files must be an absolute path (\"next.pem\")" \
	"monitor.domains: cert_files must be absolute"

unlike "$(cat "$WORLD"/*.err)" "AddressSanitizer|runtime error|LeakSanitizer" "no sanitizer report in any run"

done_testing
