#!/usr/bin/env bash
# havedane_world.sh: HaveDane end to end in the signed test world. The
# HaveDane zone is hd.dane.test: do.hd, dont.hd and wrong.hd have MX hosts
# at the world's inbound Postfix with danemilter's milter
# (tests/world/world.sh); the TLSA records of mx.do.hd and mx.wrong.hd are
# the ones `danemilter havedane records` prints for the inbound Postfix's
# certificate, published with world.sh tlsa-set. A real outbound Postfix
# (postfix.sh start-outbound, smtp_tls_security_level = dane, DNSSEC
# through the world's validating unbound) sends to the three addresses of
# a fresh test (POST /api/tests): do and dont are delivered, wrong is
# deferred (TLSA mismatch), and the API says validates-dane with TLSv1.3
# for each message. With a `may` policy for the three domains: all three
# arrive, no-dane. swaks to dont's MX only: pending, then
# cannot-deliver-dane after grace_s. Needs root, postfix, unbound, swaks.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

for c in postfix swaks unbound; do
	command -v "$c" >/dev/null || { echo "1..0 # SKIP $c is not installed"; exit 0; }
done
PF="$top_srcdir/tests/world/postfix.sh"
world_start
ZONE=hd.dane.test
H="$WORLD/havedane"
mkdir -p "$H"
head -c 32 /dev/urandom >"$H/token.key"
WEB_PORT=$(free_port)
CONF="$WORLD/hd.conf"
LOG="$WORLD/hd.log"
start() {
	local what=$1 out
	shift
	out=$("$@" 2>&1) || { printf '%s\n' "$out" | sed 's/^/# /'; bail "$what failed"; }
}
start "postfix.sh start-resolver" bash "$PF" start-resolver "$WORLD"
inbound_start "$CONF" "$LOG" "havedane = { zone = \"$ZONE\"; token_key_file = \"$H/token.key\"; listen = [ \"inet:127.0.0.1:$WEB_PORT\" ]; grace_s = 3; };"
for i in $(seq 1 100); do
	ss -Hltnp "sport = :$WEB_PORT" 2>/dev/null | grep -q "pid=$DAEMON_PID," && break
	sleep 0.05
done
URL="http://127.0.0.1:$WEB_PORT"
CERT="$WORLD/certs/mx.inbound.test.pem"

# ---- the zone records, from danemilter havedane records
recs=$("$DANEMILTER" havedane records -c "$CONF" --cert "$CERT")
is "$?" 0 "havedane records for the inbound Postfix's certificate"
tlsa_do=$(sed -n "s/^_25\._tcp\.mx\.do\.$ZONE\. IN TLSA //p" <<<"$recs")
tlsa_wrong=$(sed -n "s/^_25\._tcp\.mx\.wrong\.$ZONE\. IN TLSA //p" <<<"$recs")
is "$tlsa_do" "3 1 1 $(spki_sha "$CERT" sha256)" "... do's TLSA: 3 1 1 of the certificate's key"
start "world.sh tlsa-set mx.do.hd" bash "$top_srcdir/tests/world/world.sh" tlsa-set "$WORLD" "mx.do.$ZONE" "$tlsa_do"
start "world.sh tlsa-set mx.wrong.hd" bash "$top_srcdir/tests/world/world.sh" tlsa-set "$WORLD" "mx.wrong.$ZONE" "$tlsa_wrong"
for k in do dont wrong; do
	is "$(dig +short +norecurse @"$WORLD_NS" MX "$k.$ZONE")" "$(sed -n "s/^$k\.$ZONE\. IN MX //p" <<<"$recs")" \
		"the world serves $k's MX as the records say"
done
start "postfix.sh start-outbound" bash "$PF" start-outbound "$WORLD" ""

api() { curl -s -m 10 -X "$1" "$URL$2"; }
j() { "$PYTHON" -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }
# create: a new test; sets TOK and A[do|dont|wrong]
declare -A A
create() {
	local out k
	out=$(api POST /api/tests)
	TOK=$(j "$out" 'd["token"]')
	for k in do dont wrong; do A[$k]=$(j "$out" "d['addresses']['$k']"); done
}
# wait_verdict TOKEN VERDICT SECONDS: poll the API until it says VERDICT
wait_verdict() {
	local i
	for i in $(seq 1 $(($3 * 4))); do
		[ "$(j "$(api GET "/api/tests/$1")" 'd["verdict"]')" = "$2" ] && return 0
		sleep 0.25
	done
	return 1
}
# sendall K...: postfix.sh send to the test's addresses; sets QID[K]
declare -A QID
sendall() {
	local k id i
	for k in "$@"; do
		id=$(bash "$PF" send "$WORLD" sender@out.test "${A[$k]}") || bail "postfix.sh send failed"
		QID[$k]=""
		for i in $(seq 1 50); do
			QID[$k]=$(grep -F "message-id=<$id>" "$WORLD/pf-out/maillog" | head -1 |
				sed -E 's/.*\]: ([0-9A-F]+): message-id=.*/\1/')
			[ -n "${QID[$k]}" ] && break
			sleep 0.1
		done
	done
}
outcome() { bash "$PF" wait-log "$WORLD" out "${QID[$1]}: to=<${A[$1]}>.*status=$2" "$3"; }

# ---- an outbound Postfix that validates DANE
create
like "$TOK" '^[0-9a-f]{40}$' "dane: a test created"
sendall do dont wrong
outcome do sent 30
ok $? "dane: do delivered (${QID[do]})"
outcome dont sent 30
ok $? "dane: dont delivered (${QID[dont]})"
outcome wrong deferred 30
ok $? "dane: wrong deferred (${QID[wrong]})"
like "$(grep "${QID[wrong]}: to=<" "$WORLD/pf-out/maillog" | head -1)" "status=deferred.*(TLSA|certificate|verif)" \
	"dane: ... for a certificate that matches no TLSA record"
like "$(grep "Verified TLS connection established to mx.do.$ZONE" "$WORLD/pf-out/maillog")" "TLSv1\.3" \
	"dane: the outbound Postfix verified do's MX with DANE"
out=$(api GET "/api/tests/$TOK")
is "$(j "$out" '[d["results"][k]["received"] for k in ("do", "dont", "wrong")]')" "[True, True, False]" \
	"dane: the API shows do and dont received, wrong not"
is "$(j "$out" '[d["results"][k]["tls"] for k in ("do", "dont")]')" "['TLSv1.3', 'TLSv1.3']" \
	"dane: both over TLSv1.3"
is "$(j "$out" 'd["results"]["do"]["mail_domain"]')" out.test "dane: the MAIL FROM domain"
wait_verdict "$TOK" validates-dane 15
ok $? "dane: validates-dane after grace_s"
is "$(find "$WORLD/pf-in/mail" -type f 2>/dev/null | wc -l)" 0 "dane: nothing was delivered to a mailbox (discarded)"
like "$(cat "$LOG")" "havedane: $TOK do recorded" "dane: the record is logged"
bash "$PF" purge "$WORLD" out
T_DANE=$TOK

# ---- an outbound Postfix without DANE (may)
printf '%s may\n' "do.$ZONE" "dont.$ZONE" "wrong.$ZONE" >"$H/may.policy"
start "postfix.sh set-policy" bash "$PF" set-policy "$WORLD" "texthash:$H/may.policy"
create
sendall do dont wrong
for k in do dont wrong; do
	outcome "$k" sent 30
	ok $? "may: $k delivered (${QID[$k]})"
done
wait_verdict "$TOK" no-dane 10
ok $? "may: no-dane (wrong arrived)"
is "$(j "$(api GET "/api/tests/$TOK")" 'd["results"]["wrong"]["tls"]')" TLSv1.3 "may: wrong arrived over TLSv1.3 (encrypted, not authenticated)"
is "$(j "$(api GET "/api/tests/$T_DANE")" 'd["verdict"]')" validates-dane "the first test's verdict stays"

# ---- swaks to dont's MX only
create
swaks --server "$SERVER" --port 25 --helo client.test --timeout 30 --tls \
	--from probe@client.test --to "${A[dont]}" >"$H/swaks.out" 2>&1
like "$(cat "$H/swaks.out")" "250 2\.0\.0 Ok" "swaks: the message for dont is accepted"
is "$(j "$(api GET "/api/tests/$TOK")" 'd["verdict"]')" pending "swaks, dont only: pending at first"
wait_verdict "$TOK" cannot-deliver-dane 10
ok $? "swaks, dont only: cannot-deliver-dane after grace_s"
is "$(j "$(api GET "/api/tests/$TOK")" 'd["results"]["dont"]["helo"]')" client.test "swaks: its HELO recorded"
swaks --server "$SERVER" --port 25 --helo client.test --timeout 30 \
	--from probe@client.test --to "0000000000000000000000000000000000000000@do.$ZONE" >"$H/swaks2.out" 2>&1
like "$(cat "$H/swaks2.out")" "550 5\.1\.1 .*no such HaveDane test" "swaks: an unknown token gets 550 5.1.1 from the inbound Postfix"

done_testing
