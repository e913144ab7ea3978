#!/usr/bin/env bash
# postfix_out.sh: the daemon as the TLS policy server of a real outbound
# Postfix (smtp_tls_policy_maps = socketmap:inet:...:QUERY, default level
# dane, DNS through postfix.sh's validating unbound), delivering to the
# world's sink. One message per case; each is checked in the outbound
# maillog (by queue id), in the sink, in the queue, and against the policy
# the daemon serves (pm QUERY): DANE verified / wrong TLSA, MTA-STS enforce
# verified / self-signed MX certificate (badcert.sts.test), NOTFOUND (default
# level applies), TEMP before Postfix asks (bogus.test: its own MX lookup
# fails) and TEMP as Postfix sees it (badtlsa.dane.test). Needs root,
# postfix, unbound (postfix.sh). 11-19 s (half of it start-up).
# shellcheck disable=SC2153 # the WORLD_* variables come from world.env
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

PF="$top_srcdir/tests/world/postfix.sh"
for c in postfix postmap postqueue sendmail unbound unshare dig; do
	command -v "$c" >/dev/null || { echo "1..0 # SKIP $c is not installed"; exit 0; }
done

T0=$(now_ms)
world_start
echo "# world: $WORLD"
OUTLOG="$WORLD/pf-out/maillog"
MAIL="$WORLD/pf-sink/mail"
CONF="$WORLD/d.conf"
LOG="$WORLD/daemon.log"

# start STEP CMD...: run a start-up step; bail (the EXIT trap stops it all)
# with its output if it fails.
start() {
	local what=$1 out
	shift
	out=$("$@" 2>&1) || { printf '%s\n' "$out" | sed 's/^/# /'; bail "$what failed"; }
}
start "postfix.sh start-sink" bash "$PF" start-sink "$WORLD"
start "postfix.sh start-resolver" bash "$PF" start-resolver "$WORLD"
# log_resolution: the daemon's log shows which domains Postfix asked for.
daemon_conf "$CONF" 'domains = ( { name = "*"; log_resolution = true; } );'
daemon_start "$CONF" "$LOG"
start "postfix.sh start-outbound" bash "$PF" start-outbound "$WORLD" \
	"socketmap:inet:127.0.0.1:$DAEMON_PORT:QUERY"
T1=$(now_ms)
ok 0 "sink, resolver, danemilter and the outbound Postfix are up ($((T1 - T0)) ms)"
is "$(postconf -c "$WORLD/pf-out/conf" -h smtp_tls_policy_maps smtp_tls_security_level | tr '\n' ' ')" \
	"socketmap:inet:127.0.0.1:$DAEMON_PORT:QUERY dane " "outbound: policy map = danemilter, default level dane"

# shellcheck disable=SC2016 # sed expression
qre() { printf '%s' "$1" | sed 's/[.[\*^$()+?{|]/\\&/g'; } # regex-quote

# --- send one message per case (all at once), then wait for each outcome
CASES="usable.dane.test enforce.sts.test wrongtlsa.dane.test bogus.test
badcert.sts.test notlsa.dane.test testing.sts.test badtlsa.dane.test"
declare -A MSGID QID
for d in $CASES; do
	MSGID[$d]=$(bash "$PF" send "$WORLD" sender@out.test "user@$d" 2>"$WORLD/send.err") ||
		bail "postfix.sh send user@$d failed: $(cat "$WORLD/send.err")"
done
# queue ids, from the cleanup lines (bounded: 10 s for all)
for _ in $(seq 1 50); do
	missing=0
	for d in $CASES; do
		[ -n "${QID[$d]:-}" ] && continue
		QID[$d]=$(grep -E "message-id=<$(qre "${MSGID[$d]}")>" "$OUTLOG" |
			head -n 1 | sed -E 's/.*\]: ([0-9A-F]+): message-id=.*/\1/')
		[ -n "${QID[$d]}" ] || missing=1
	done
	[ $missing = 0 ] && break
	sleep 0.2
done
# the first delivery attempt of each (bounded: 20 s in all)
t0=$(now_ms)
for d in $CASES; do
	left=$((20 - ($(now_ms) - t0) / 1000))
	[ $left -ge 1 ] || left=1
	[ -n "${QID[$d]}" ] && bash "$PF" wait-log "$WORLD" out "${QID[$d]}: to=<user@$(qre "$d")>.*status=" $left
	ok $? "user@$d: queued as ${QID[$d]:-?}, a delivery attempt logged"
done

echo "# sent and first attempts logged: $(($(now_ms) - T1)) ms"

# first LINE: the first status line of the message to user@DOMAIN.
first() {
	grep -E "\]: ${QID[$1]:-NOQUEUE}: to=<user@$(qre "$1")>.*status=" "$OUTLOG" | head -n 1
}
# tls DOMAIN REGEX: the TLS line(s) of the smtp process that made the first
# attempt (same PID), matching REGEX.
tls() {
	local pid
	pid=$(first "$1" | sed -nE 's/.* out\/smtp\[([0-9]+)\]: .*/\1/p')
	grep -E " out/smtp\[${pid:-0}\]: $2" "$OUTLOG"
}
addr() { local v=${1^^}; v=WORLD_ADDR_${v//[.-]/_}; qre "${!v}"; }
# asked DOMAIN: the daemon resolved DOMAIN (log_resolution) before any pm.
asked() { grep -c "^$(qre "$1"): Starting new query for MX $(qre "$1"):" "$LOG"; }
declare -A ASKED
for d in $CASES; do ASKED[$d]=$(asked "$d"); done
# sink MBOX: the sink delivered into mail/MBOX (bounded: 10 s).
sink() {
	bash "$PF" wait-log "$WORLD" sink "to=<$(qre "$1")>, relay=sinkmail.*status=sent" 10 &&
		grep -q "^Message-ID: <$(qre "${MSGID[${1#*@}]}")>" "$MAIL/$1"
}
pmq() { local out; out=$(pm QUERY "$1" 2>&1); echo "$?:$out"; }

# --- DANE: dane-only, verified
d=usable.dane.test
is "$(pmq $d)" "0:dane-only" "$d: danemilter serves dane-only"
ok "$([ "${ASKED[$d]}" -ge 1 ]; echo $?)" "$d: Postfix asked danemilter"
like "$(tls $d "Verified TLS connection established to ")" \
	"Verified TLS connection established to mx1\.usable\.dane\.test\[$(addr mx1.usable.dane.test)\]:25" \
	"$d: Verified TLS connection established to mx1.usable.dane.test"
like "$(first $d)" "relay=mx1\.usable\.dane\.test\[.*dsn=2\.0\.0, status=sent" "$d: status=sent"
sink user@$d
ok $? "$d: the message is in the sink's mailbox"

# --- MTA-STS enforce: secure, verified with the test CA
d=enforce.sts.test
is "$(pmq $d)" "0:secure match=mx.enforce.sts.test:.backup.sts.test servername=hostname" \
	"$d: danemilter serves the MTA-STS secure policy"
ok "$([ "${ASKED[$d]}" -ge 1 ]; echo $?)" "$d: Postfix asked danemilter"
like "$(tls $d "Verified TLS connection established to ")" \
	"Verified TLS connection established to mx\.enforce\.sts\.test\[$(addr mx.enforce.sts.test)\]:25" \
	"$d: Verified TLS connection established to mx.enforce.sts.test (test CA, match=)"
like "$(first $d)" "relay=mx\.enforce\.sts\.test\[.*dsn=2\.0\.0, status=sent" "$d: status=sent"
sink user@$d
ok $? "$d: the message is in the sink's mailbox"

# --- DANE, the TLSA record does not match: deferred
d=wrongtlsa.dane.test
is "$(pmq $d)" "0:dane-only" "$d: danemilter serves dane-only"
ok "$([ "${ASKED[$d]}" -ge 1 ]; echo $?)" "$d: Postfix asked danemilter"
like "$(tls $d "server certificate verification failed")" \
	"server certificate verification failed for mx\.wrongtlsa\.dane\.test\[.*\]:25: num=65:no matching DANE TLSA records" \
	"$d: no matching DANE TLSA records"
like "$(first $d)" "relay=mx\.wrongtlsa\.dane\.test\[.*dsn=4\.7\.5, status=deferred \(Server certificate not verified\)" \
	"$d: deferred (Server certificate not verified)"

# --- DNSSEC bogus: the daemon says TEMP; Postfix's own MX lookup fails
# first (the policy table is consulted per MX host address), so Postfix
# defers on the DNS error and never asks the daemon.
d=bogus.test
is "${ASKED[$d]}" 0 "$d: Postfix did not ask danemilter (its MX lookup failed first)"
like "$(pmq $d)" "^1:.*socketmap server temporary error: DANE bogus: MX bogus\.test: DNSSEC validation failed" \
	"$d: danemilter answers TEMP (DANE bogus)"
like "$(first $d)" "relay=none, .*dsn=4\.4\.3, status=deferred \(Host or domain name not found\. Name service error for name=bogus\.test type=MX: Host not found, try again\)" \
	"$d: deferred (Name service error ... try again)"

# --- MTA-STS enforce, the MX host presents a self-signed certificate
d=badcert.sts.test
is "$(pmq $d)" "0:secure match=mx.badcert.sts.test servername=hostname" \
	"$d: danemilter serves the MTA-STS secure policy"
ok "$([ "${ASKED[$d]}" -ge 1 ]; echo $?)" "$d: Postfix asked danemilter"
like "$(tls $d "certificate verification failed")" \
	"certificate verification failed for mx\.badcert\.sts\.test\[$(addr mx.badcert.sts.test)\]:25: self-signed certificate" \
	"$d: certificate verification failed: self-signed certificate"
like "$(first $d)" "relay=mx\.badcert\.sts\.test\[.*dsn=4\.7\.5, status=deferred \(Server certificate not verified\)" \
	"$d: deferred (Server certificate not verified)"

# --- a policy-table TEMP that does reach Postfix: the MX lookup is secure,
# the TLSA RRset is bogus (Postfix asks per MX host, after its MX lookup)
d=badtlsa.dane.test
like "$(pmq $d)" "^1:.*socketmap server temporary error: DANE bogus: MX host mx\.corrupt\.test: TLSA" \
	"$d: danemilter answers TEMP (bogus TLSA)"
like "$(grep -F 'TLS policy lookup for badtlsa.dane.test/' "$OUTLOG")" \
	"warning: TLS policy lookup for badtlsa\.dane\.test/mx\.corrupt\.test: client TLS configuration problem" \
	"$d: Postfix: TLS policy lookup ... client TLS configuration problem"
like "$(grep -F 'next-hop destination "badtlsa.dane.test"' "$OUTLOG")" \
	"warning: smtp_tls_policy_maps, next-hop destination \"badtlsa\.dane\.test\": policy table lookup error" \
	"$d: Postfix: policy table lookup error"
like "$(first $d)" "relay=none, .*dsn=4\.7\.5, status=deferred \(client TLS configuration problem\)" \
	"$d: deferred (client TLS configuration problem)"

# --- NOTFOUND: Postfix's default level (dane -> opportunistic TLS)
for d in notlsa.dane.test testing.sts.test; do
	is "$(pmq $d)" "1:" "$d: danemilter answers NOTFOUND"
	ok "$([ "${ASKED[$d]}" -ge 1 ]; echo $?)" "$d: Postfix asked danemilter"
	like "$(tls $d "(Verified|Trusted|Untrusted|Anonymous) TLS connection")" \
		"(Trusted|Untrusted|Anonymous) TLS connection established to mx\.${d%%.*}\.(dane|sts)\.test" \
		"$d: opportunistic TLS connection (not Verified)"
	like "$(first $d)" "dsn=2\.0\.0, status=sent" "$d: status=sent"
	sink "user@$d"
	ok $? "$d: the message is in the sink's mailbox"
done

# --- the deferred messages stay queued, also after another attempt
DEFERRED="wrongtlsa.dane.test bogus.test badcert.sts.test badtlsa.dane.test"
declare -A NDEF
ndef() { grep -c "\]: ${QID[$1]:-NOQUEUE}: to=<.*status=deferred" "$OUTLOG"; }
for d in $DEFERRED; do NDEF[$d]=$(ndef "$d"); done
bash "$PF" flush "$WORLD" >/dev/null 2>&1
for _ in $(seq 1 50); do # bounded: 10 s
	more=1
	for d in $DEFERRED; do [ "$(ndef "$d")" -gt "${NDEF[$d]}" ] || more=0; done
	[ $more = 1 ] && break
	sleep 0.2
done
ok "$([ "$more" = 1 ]; echo $?)" "after a flush, every deferred message was tried (and deferred) again"
q=$(bash "$PF" queue "$WORLD" out 2>&1)
for d in $DEFERRED; do
	like "$q" "\"queue_id\": \"${QID[$d]:-NOQUEUE}\".*\"address\": \"user@$(qre "$d")\"" \
		"$d: still in the outbound queue"
	ok "$([ ! -e "$MAIL/user@$d" ]; echo $?)" "$d: nothing reached the sink"
done
unlike "$(grep -E "\]: ($(IFS='|'; for d in $DEFERRED; do printf '%s|' "${QID[$d]}"; done)X): to=" "$OUTLOG")" \
	"status=(sent|bounced)" "no deferred message was ever sent or bounced"

bash "$PF" check-dnssec "$WORLD" >/dev/null 2>&1
ok $? "no 'DNSSEC validation may be unavailable' in the outbound log"
unlike "$(cat "$LOG")" "socketmap: .*(bad request frame|request incomplete|reply not read|exceeds)" "danemilter logged no socketmap protocol problem"
echo "# total: $(($(now_ms) - T0)) ms"

done_testing
