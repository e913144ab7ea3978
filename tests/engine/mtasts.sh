#!/usr/bin/env bash
# mtasts.sh: MTA-STS (RFC 8461) through the daemon, against the world's
# signed sts.test zone and its real HTTPS policy server: the Postfix
# policy (postmap -q) and the verdict's MTA-STS state and failure type
# (JSON) for every case, the TLSRPT attributes, re-fetching on a new TXT
# id and not before, and a failed refresh that keeps the cached policy.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

world_start
CONF="$WORLD/d.conf"
LOG="$WORLD/daemon.log"
ACCESS="$WORLD_STS_DIR/access.log"
# min_ttl = 1: the _mta-sts TXT TTL (1 s) decides when a verdict is re-checked.
daemon_conf "$CONF" 'cache = { min_ttl = 1; };' 'domains = ( { name = "*"; log_resolution = true; } );'
daemon_start "$CONF" "$LOG"

expect() {      # expect KEY WANT-OUTPUT WANT-RC DESC
	local out rc
	out=$(pm QUERY "$1" 2>&1); rc=$?
	is "$rc:$out" "$3:$2" "$4"
}
js() {          # js DOMAIN EXPR: a python expression over the JSON verdict "d"
	pm JSON "$1" 2>/dev/null | "$PYTHON" -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$2"
}
fetches() { grep -c "host=mta-sts.$1 " "$ACCESS" 2>/dev/null || true; }

# --- policies
expect enforce.sts.test "secure match=mx.enforce.sts.test:.backup.sts.test servername=hostname" 0 \
	"enforce: secure, *.backup.sts.test becomes .backup.sts.test"
is "$(js enforce.sts.test 'd["mta_sts"]+" "+d["source"]+" "+d["mta_sts_detail"]["id"]+" "+str(d["mta_sts_detail"]["max_age"])')" \
	"enforce mta-sts enforce1 86400" "enforce: state, source, id and max_age"
out=$(pm QUERYwithTLSRPT enforce.sts.test 2>&1)
is "$out" "secure match=mx.enforce.sts.test:.backup.sts.test servername=hostname policy_type=sts policy_domain=enforce.sts.test mx_host_pattern=mx.enforce.sts.test mx_host_pattern=*.backup.sts.test { policy_string = version: STSv1 } { policy_string = mode: enforce } { policy_string = mx: mx.enforce.sts.test } { policy_string = mx: *.backup.sts.test } { policy_string = max_age: 86400 }" \
	"QUERYwithTLSRPT: the TLSRPT attributes of Postfix >= 3.10"
expect crlf.sts.test "secure match=mx.crlf.sts.test servername=hostname" 0 \
	"CRLF lines, unknown key ignored, repeated mode: first (enforce) wins"
expect testing.sts.test "" 1 "testing: report only, NOTFOUND"
is "$(js testing.sts.test 'd["mta_sts"]')" testing "testing: state testing"
expect none.sts.test "" 1 "mode none: NOTFOUND"
is "$(js none.sts.test 'd["mta_sts"]')" none "mode none: state none"
expect usable.dane.test dane-only 0 "DANE wins over MTA-STS"
is "$(js usable.dane.test 'd["mta_sts"]+" "+d["source"]')" "enforce dane" "DANE wins: MTA-STS enforce is seen, the source is dane"

# --- no valid TXT record
for l in twotxt badtxt nosts; do
	expect "$l.sts.test" "" 1 "$l: NOTFOUND"
	is "$(js "$l.sts.test" 'd["mta_sts"]')" absent "$l: absent"
done

# --- fetch and policy failures: no policy (RFC 8461 §5), the failure named
failcase() {    # failcase LABEL FAILURE REASON-ERE
	expect "$1.sts.test" "" 1 "$1: NOTFOUND"
	is "$(js "$1.sts.test" 'd["mta_sts"]+" "+str(d["mta_sts_detail"]["failure"])')" "error $2" "$1: error, $2"
	like "$(js "$1.sts.test" 'd["mta_sts_detail"]["reason"]')" "$3" "$1: the reason says what happened"
}
failcase nohost sts-policy-fetch-error "mta-sts\\.nohost\\.sts\\.test"
failcase selfsigned sts-webpki-invalid "certificate"
failcase wrongname sts-webpki-invalid "subject name|does not match|certificate"
failcase cnonly sts-webpki-invalid "certificate|verify"
failcase redirect sts-policy-fetch-error "status 301"
failcase notfound sts-policy-fetch-error "status 404"
failcase ctype sts-policy-fetch-error "text/html"
failcase big sts-policy-fetch-error "larger than 65536"
failcase chunked sts-policy-fetch-error "larger than 65536"
failcase syntax sts-policy-invalid "mode"
t0=$(now_ms)
failcase slow sts-policy-fetch-error "timeout"
t1=$(now_ms)
ok "$([ $((t1 - t0)) -lt 10000 ]; echo $?)" "slow server: bounded by mta_sts.timeout_ms (3 s here; took $((t1 - t0)) ms with the checks)"

# --- the TXT id: unchanged -> no fetch; changed -> fetch; failed refresh -> cached policy kept
expect changing.sts.test "secure match=mx.changing.sts.test servername=hostname" 0 "changing: initial policy"
n1=$(fetches changing.sts.test)
is "$n1" 1 "changing: fetched once"
sleep 2
expect changing.sts.test "secure match=mx.changing.sts.test servername=hostname" 0 "changing: re-checked, id unchanged"
is "$(fetches changing.sts.test)" 1 "same id: no new fetch"
printf 'version: STSv1\nmode: enforce\nmx: mx.changing.sts.test\nmx: *.changed.sts.test\nmax_age: 86400\n' >"$WORLD/new-policy"
bash "$top_srcdir/tests/world/world.sh" sts-set "$WORLD" changing.sts.test changing2 "$WORLD/new-policy" >/dev/null
sleep 2
expect changing.sts.test "secure match=mx.changing.sts.test:.changed.sts.test servername=hostname" 0 \
	"new TXT id: the new policy is fetched and applies"
is "$(fetches changing.sts.test)" 2 "new id: exactly one new fetch"
is "$(js changing.sts.test 'd["mta_sts_detail"]["id"]')" changing2 "the verdict carries the new id"
bash "$top_srcdir/tests/world/world.sh" sts-mode "$WORLD" changing.sts.test status:500 >/dev/null
bash "$top_srcdir/tests/world/world.sh" sts-set "$WORLD" changing.sts.test changing3 >/dev/null
sleep 2
# The JSON request itself triggers the refresh, so it shows its outcome (a
# later re-check inside the 5-minute wait would not repeat the failure).
is "$(js changing.sts.test 'd["postfix_policy"]+" "+d["mta_sts_detail"]["id"]+" "+str(d["mta_sts_detail"]["failure"])')" \
	"secure match=mx.changing.sts.test:.changed.sts.test servername=hostname changing2 sts-policy-fetch-error" \
	"failed refresh: the cached policy and its id are kept, the failure recorded"
expect changing.sts.test "secure match=mx.changing.sts.test:.changed.sts.test servername=hostname" 0 \
	"failed refresh: Postfix still gets the cached policy"
like "$(grep "host=mta-sts.changing.sts.test " "$ACCESS" | tail -1)" " 500 " "the refresh really hit the failing server"
n3=$(fetches changing.sts.test)
sleep 2
pm QUERY changing.sts.test >/dev/null
is "$(fetches changing.sts.test)" "$n3" "the same id is not fetched again within 5 minutes of its failure"
bash "$top_srcdir/tests/world/world.sh" sts-mode "$WORLD" changing.sts.test ok >/dev/null
bash "$top_srcdir/tests/world/world.sh" sts-set "$WORLD" changing.sts.test changing4 >/dev/null
sleep 2
pm QUERY changing.sts.test >/dev/null
is "$(fetches changing.sts.test)" "$((n3 + 1))" "a new id is fetched at once: the wait is per id (RFC 8461 3.3)"
is "$(js changing.sts.test 'd["mta_sts_detail"]["id"]+" "+str(d["mta_sts_detail"]["failure"])')" \
	"changing4 None" "the new id's policy applies, no failure"

# --- a huge (valid) policy: the TLSRPT attributes stay under Postfix's
# 100000-byte reply limit instead of turning the reply into TEMP
{
	printf 'version: STSv1\nmode: enforce\nmx: mx.changing.sts.test\nmax_age: 86400\n'
	for i in $(seq 1 5000); do printf 'ext%d: v\n' "$i"; done
} >"$WORLD/huge-policy"
bash "$top_srcdir/tests/world/world.sh" sts-set "$WORLD" changing.sts.test changing5 "$WORLD/huge-policy" >/dev/null
sleep 2
out=$(pm QUERYwithTLSRPT changing.sts.test 2>&1)
like "$out" "^secure match=mx\.changing\.sts\.test servername=hostname policy_type=sts " "huge policy: still a policy with TLSRPT attributes"
ok "$([ "${#out}" -lt 100000 ]; echo $?)" "huge policy: the reply stays under 100000 bytes (${#out})"

# --- a valid policy of many long mx patterns (230 of ~246 bytes, under the
# 64 KiB body limit): Postfix gets every pattern whole (the match list is
# ~57000 bytes); with the TLSRPT attributes the reply would pass Postfix's
# 100000 bytes, so QUERYwithTLSRPT gets the plain policy, not TEMP
"$PYTHON" - "$WORLD/long-policy" "$WORLD/long-want" <<'PY'
import sys
pats = []
for i in range(230):
    c = chr(97 + i % 26)
    p = "%s.%s.n%d.changing.sts.test" % (".".join([c * 60] * 3), c * 40, i)
    pats.append(("*." if i % 2 == 0 else "") + p)
with open(sys.argv[1], "w") as f:
    f.write("version: STSv1\nmode: enforce\n" + "".join("mx: %s\n" % p for p in pats) + "max_age: 86400\n")
with open(sys.argv[2], "w") as f:
    f.write("secure match=" + ":".join(p[1:] if p.startswith("*.") else p for p in pats) + " servername=hostname")
PY
want=$(cat "$WORLD/long-want")
bash "$top_srcdir/tests/world/world.sh" sts-set "$WORLD" changing.sts.test changinglong "$WORLD/long-policy" >/dev/null
sleep 2
out=$(pm QUERY changing.sts.test 2>&1); rc=$?
is "$rc:${#out}" "0:${#want}" "many long mx patterns: postmap gets the whole policy (${#want} bytes)"
ok "$([ "$out" = "$want" ]; echo $?)" "many long mx patterns: every pattern whole, servername=hostname after them"
out=$(pm QUERYwithTLSRPT changing.sts.test 2>&1); rc=$?
is "$rc:${#out}" "0:${#want}" "many long mx patterns, QUERYwithTLSRPT: the plain policy, not TEMP"
ok "$([ "$out" = "$want" ]; echo $?)" "many long mx patterns, QUERYwithTLSRPT: the same text as QUERY"
like "$(cat "$LOG")" "changing\.sts\.test: MTA-STS policy changinglong: QUERYwithTLSRPT is answered without the TLSRPT attributes" \
	"many long mx patterns: the dropped TLSRPT attributes are logged"

# --- refresh regardless of the TXT record (RFC 8461 10.2): a policy with
# max_age 10 is refreshed after 5 s even though its TXT record is gone (6 s:
# inside the window before it expires, with room for a loaded machine)
printf 'version: STSv1\nmode: enforce\nmx: mx.changing.sts.test\nmax_age: 10\n' >"$WORLD/short-policy"
bash "$top_srcdir/tests/world/world.sh" sts-set "$WORLD" changing.sts.test changing6 "$WORLD/short-policy" >/dev/null
sleep 2
expect changing.sts.test "secure match=mx.changing.sts.test servername=hostname" 0 "a short-lived policy applies"
n6=$(fetches changing.sts.test)
bash "$top_srcdir/tests/world/world.sh" sts-set "$WORLD" changing.sts.test - >/dev/null
sleep 6
expect changing.sts.test "secure match=mx.changing.sts.test servername=hostname" 0 \
	"TXT record gone: the cached policy still applies"
is "$(fetches changing.sts.test)" "$((n6 + 1))" "... and was fetched again all the same (a blocked TXT cannot run it out)"

# --- strict_testing by reload: testing mode enforced
sed -i 's/^mta_sts = { /mta_sts = { strict_testing = true; /' "$CONF"
kill -HUP "$DAEMON_PID"
for i in $(seq 1 50); do grep -q "configuration reloaded" "$LOG" && break; sleep 0.1; done
expect testing.sts.test "secure match=mx.testing.sts.test:.backup.sts.test servername=hostname" 0 \
	"strict_testing = true: testing mode enforced"

daemon_stop
is "$?" 0 "clean exit"

# --- DANE first: when DANE decides the policy, a policy host that accepts
# and never answers does not hold the answer (nor run the milter's bound
# out); the MTA-STS lookup ends in the background and updates the entry
bash "$top_srcdir/tests/world/world.sh" sts-mode "$WORLD" usable.dane.test slow >/dev/null
daemon_start "$CONF" "$LOG"
t0=$(now_ms)
out=$(pm QUERY usable.dane.test 2>&1); rc=$?
t1=$(now_ms)
is "$rc:$out" "0:dane-only" "a stalling policy host beside usable TLSA: OK dane-only"
ok "$([ $((t1 - t0)) -lt 1500 ]; echo $?)" "... at once, not after mta_sts.timeout_ms (3 s): took $((t1 - t0)) ms"
out=$(pm QUERY usable.dane.test 2>&1); rc=$?
is "$rc:$out" "0:dane-only" "... and again while the fetch still runs (the early verdict, at once)"
t0=$(now_ms)
is "$(js usable.dane.test 'd["mta_sts"]+" "+d["source"]+" "+d["policy"]')" "error dane dane-only" \
	"JSON (the whole verdict) waits for the MTA-STS lookup: mta-sts=error after the fetch timed out, the policy stays DANE's"
t1=$(now_ms)
ok "$([ $((t1 - t0)) -ge 500 ]; echo $?)" "... JSON waited for the fetch's end ($((t1 - t0)) ms), not the early verdict"
is "$(js usable.dane.test 'd["mta_sts"]')" error "... and the entry now holds the whole verdict"

# The milter's RCPT rules judge by DANE first too: require = "dane" for
# usable.dane.test, a milter bound (1.5 s) shorter than mta_sts.timeout_ms
# (3 s), the policy host still stalling: RCPT is accepted at once (before
# the fix it waited for the whole verdict and answered 450 at the bound).
daemon_stop
is "$?" 0 "clean exit"
M_EXTRA='timeout_ms = 1500;' daemon_conf "$CONF" 'cache = { min_ttl = 1; };' \
	'domains = ( { name = "usable.dane.test"; require = "dane"; } );'
daemon_start "$CONF" "$LOG"
mt_script "$WORLD/danefirst.lua" "
local conn = mt.connect('inet:$MILTER_PORT@127.0.0.1')
check(conn ~= nil, 'connect', conn)
check(mt.conninfo(conn, 'client.example', '192.0.2.1') == nil, 'conninfo', nil)
mt.macro(conn, SMFIC_MAIL, 'i', 'DF1', '{tls_version}', 'TLSv1.3', '{cipher}', 'TLS_AES_128_GCM_SHA256', '{cipher_bits}', '128')
check(mt.mailfrom(conn, '<a@example.org>') == nil, 'MAIL', nil)
check(mt.rcptto(conn, '<b@usable.dane.test>') == nil, 'RCPT', nil)
check(mt.getreply(conn) == SMFIR_CONTINUE,
	'require = dane, usable TLSA, stalling policy host: RCPT accepted', mt.getreply(conn))
mt.disconnect(conn)
"
t0=$(now_ms)
mt_tap "$WORLD/danefirst.lua" 5 "milter: "
t1=$(now_ms)
ok "$([ $((t1 - t0)) -lt 1200 ]; echo $?)" \
	"milter: ... at once, not at the milter's bound (1.5 s): took $((t1 - t0)) ms"
if grep -q "RCPT <b@usable.dane.test> refused" "$LOG"; then
	ok 1 "milter: no refusal logged for usable.dane.test"
	grep "refused" "$LOG" | sed 's/^/# /'
else
	ok 0 "milter: no refusal logged for usable.dane.test"
fi
bash "$top_srcdir/tests/world/world.sh" sts-mode "$WORLD" usable.dane.test ok >/dev/null
daemon_stop
is "$?" 0 "clean exit"
done_testing
