#!/usr/bin/env bash
# postfix_in.sh: the milter behind a real Postfix smtpd (postfix.sh
# start-inbound: smtpd_milters = inet:127.0.0.1:MILTER_PORT). Mail is sent
# with swaks (with and without STARTTLS) from senders at the world's
# domains to recipients at several world domains; the delivered messages
# are checked header by header (exact values, order, forged copies gone;
# plaintext tagged from 127.0.0.1, not from 127.0.0.2 in trusted_networks),
# the RCPT refusal for a require = "dane" domain is checked in swaks's
# transcript, the summary lines in the daemon's log are matched to
# Postfix's queue ids, and 200 concurrent SMTP sessions (smtp-source) must
# all be accepted, every one annotated, none waiting past the bound.
# Needs root, postfix, swaks. ~20-30 s.
# shellcheck disable=SC2153 # the WORLD_* variables come from world.env
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

for c in postfix swaks smtp-source; do
	command -v "$c" >/dev/null || [ -x "/usr/sbin/$c" ] ||
		{ echo "1..0 # SKIP $c is not installed"; exit 0; }
done
SMTP_SOURCE=$(command -v smtp-source || echo /usr/sbin/smtp-source)

world_start
CONF="$WORLD/d.conf"
LOG="$WORLD/daemon.log"
INLOG="$WORLD/pf-in/maillog"
MAIL="$WORLD/pf-in/mail"
AS=mx.inbound.test      # authserv-id: Postfix's j macro (myhostname)

# swaks connects from 127.0.0.1, which is not trusted here (the default
# would trust it: its plaintext would be a submission, not a violation);
# 127.0.0.2 is, for the submission case.
M_EXTRA='timeout_ms = 5000; trusted_networks = [ "127.0.0.2/32" ];' inbound_start "$CONF" "$LOG" \
	'domains = ( { name = "notlsa.dane.test"; require = "dane"; } );'

# send NAME SWAKS-ARGS...: one message; the transcript goes to
# $WORLD/NAME.swaks; its Postfix queue id is printed.
send() {
	local name=$1 qid
	shift
	swaks --server "$SERVER" --port 25 --helo client.test --timeout 30 \
		--header "Subject: $name" "$@" >"$WORLD/$name.swaks" 2>&1 || true
	qid=$(sed -n 's/.*250 2\.0\.0 Ok: queued as \([0-9A-Za-z]*\).*/\1/p' "$WORLD/$name.swaks")
	echo "$qid"
}

# message FILE QID: the message QID in mbox FILE (From_ line to the next
# From_ line).
message() {
	awk -v q="id $2" '/^From /{ if (m) exit; buf="" } { buf = buf $0 "\n" } index($0, q) { m=1 } END { if (m) printf "%s", buf }' "$1" 2>/dev/null |
		awk 'NR==1 || !/^From /'
}

# delivered RCPT QID: wait (bounded) until QID reached RCPT's mailbox;
# print that message.
delivered() {
	local f="$MAIL/$1" i
	for i in $(seq 1 100); do
		[ -f "$f" ] && grep -q "id $2" "$f" && break
		sleep 0.1
	done
	message "$f" "$2"
}

# delivered_to QID: wait (bounded) until QID reached a mailbox (any: the
# file name is the recipient as Postfix keeps it, quotes gone); print the
# names of the mailboxes it reached, one per line.
delivered_to() {
	local i
	for i in $(seq 1 100); do
		grep -lF "id $1" "$MAIL"/* 2>/dev/null | grep -q . && break
		sleep 0.1
	done
	grep -lF "id $1" "$MAIL"/* 2>/dev/null | sed 's|.*/||' | sort
}

# hdrs MSG NAME: the values of header NAME in MSG, one per line, in order
# (header block only, unfolded).
hdrs() {
	printf '%s\n' "$1" | awk -v n="$2" 'BEGIN{IGNORECASE=1} /^$/{exit} { if (tolower(substr($0,1,length(n)+1)) == tolower(n) ":") { sub(/^[^:]*: ?/, ""); print } }'
}

# ----------------------------------------------------------------- TLS
q1=$(send tls --tls --from a@usable.dane.test \
	--to r1@enforce.sts.test,r2@partial.dane.test,r3@unsigned.test \
	--add-header "X-DANE-Sender: $AS; domain=usable.dane.test; policy=forged" \
	--add-header "x-dane-recipient: forged copy 1" \
	--add-header "X-DANE-Recipient: forged copy 2" \
	--add-header "X-DANE-Inbound: $AS; tls=TLSv1.3; forged")
ok "$([ -n "$q1" ]; echo $?)" "TLS message accepted by Postfix (queue id $q1)"
m=$(delivered r1@enforce.sts.test "$q1")
is "$(hdrs "$m" X-DANE-Inbound)" \
	"$AS; tls=TLSv1.3; cipher=TLS_AES_256_GCM_SHA384; bits=256; client-cert=none; client=unknown; addr=127.0.0.1" \
	"TLS: X-DANE-Inbound (one, exact)"
is "$(hdrs "$m" X-DANE-Sender)" \
	"$AS; domain=usable.dane.test; policy=dane-only; dane=usable; mta-sts=enforce" \
	"TLS: X-DANE-Sender (one, exact; the forged copy is gone)"
is "$(hdrs "$m" X-DANE-Recipient)" \
"$AS; domain=enforce.sts.test; policy=secure; source=mta-sts; dane=none; mta-sts=enforce
$AS; domain=partial.dane.test; policy=dane; source=dane; dane=partial; mta-sts=absent
$AS; domain=unsigned.test; policy=none; source=none; dane=insecure; mta-sts=absent" \
	"TLS: one X-DANE-Recipient per recipient domain, in RCPT order, forged copies gone"
unlike "$m" "forged" "no forged header text left in the delivered message"
first=$(printf '%s\n' "$m" | grep -n -m1 -E '^(X-DANE-Inbound|Received):' | cut -d: -f2)
is "$first" "X-DANE-Inbound" "our headers sit above Postfix's Received:"
is "$(hdrs "$(delivered r3@unsigned.test "$q1")" X-DANE-Sender)" \
	"$AS; domain=usable.dane.test; policy=dane-only; dane=usable; mta-sts=enforce" \
	"the copy for another recipient carries the same headers"
like "$(grep "^$q1: summary: " "$LOG")" \
	"^$q1: summary: client=unknown\\[127\\.0\\.0\\.1\\], tls=TLSv1\\.3, sender=usable\\.dane\\.test \\(policy=dane-only dane=usable mta-sts=enforce\\), rcpt=enforce\\.sts\\.test \\(policy=secure source=mta-sts dane=none mta-sts=enforce action=accept\\), rcpt=partial\\.dane\\.test \\(policy=dane source=dane dane=partial mta-sts=absent action=accept\\), rcpt=unsigned\\.test \\(policy=none source=none dane=insecure mta-sts=absent action=accept\\), action=accept, wait=[0-9]+ms$" \
	"summary line with Postfix's queue id"
is "$(grep -c "^$q1: summary: " "$LOG")" 1 "exactly one summary line for the message"

# ----------------------------------------------------------- plaintext
q2=$(send plain --from b@usable.dane.test --to r4@none.sts.test,r5@bogus.test)
m=$(delivered r4@none.sts.test "$q2")
is "$(hdrs "$m" X-DANE-Inbound)" "$AS; tls=none; client=unknown; addr=127.0.0.1" \
	"plaintext: X-DANE-Inbound tls=none"
is "$(hdrs "$m" X-DANE-Sender)" \
	"$AS; domain=usable.dane.test; policy=dane-only; dane=usable; mta-sts=enforce; violation=plaintext" \
	"plaintext from a DANE domain: tagged violation=plaintext (default: tag only)"
is "$(hdrs "$m" X-DANE-Recipient)" \
"$AS; domain=none.sts.test; policy=none; source=none; dane=none; mta-sts=none
$AS; domain=bogus.test; policy=temperror; source=dane; dane=bogus; mta-sts=error" \
	"plaintext: recipient headers (MTA-STS mode none; DNSSEC bogus: its TXT lookup failed too)"
like "$(grep "^$q2: summary: " "$LOG")" "action=tag, reason=plaintext%20message" \
	"summary line says the message was tagged"
like "$(grep "^$q2: milter: tag: " "$LOG")" "sender usable\\.dane\\.test" \
	"the action is logged with the queue id and the reason"

q3=$(send plain2 --from c@enforce.sts.test --to r6@usable.dane.test)
m=$(delivered r6@usable.dane.test "$q3")
is "$(hdrs "$m" X-DANE-Sender)" \
	"$AS; domain=enforce.sts.test; policy=secure; dane=none; mta-sts=enforce; violation=plaintext" \
	"plaintext from an MTA-STS enforce domain: tagged"
q4=$(send plain3 --from c@notlsa.dane.test --to r7@usable.dane.test)
m=$(delivered r7@usable.dane.test "$q4")
is "$(hdrs "$m" X-DANE-Sender)" \
	"$AS; domain=notlsa.dane.test; policy=dane-only; dane=none; mta-sts=absent" \
	"plaintext from a domain without DANE or MTA-STS: no violation (require=dane shows as dane-only)"

q9=$(send trusted --local-interface 127.0.0.2 --from b@usable.dane.test --to r12@none.sts.test)
m=$(delivered r12@none.sts.test "$q9")
is "$(hdrs "$m" X-DANE-Inbound)" "$AS; tls=none; client=unknown; addr=127.0.0.2" \
	"plaintext from 127.0.0.2 (in trusted_networks): X-DANE-Inbound addr=127.0.0.2"
is "$(hdrs "$m" X-DANE-Sender)" \
	"$AS; domain=usable.dane.test; policy=dane-only; dane=usable; mta-sts=enforce" \
	"plaintext from a DANE domain, submitted from a trusted network: no violation"
like "$(grep "^$q9: summary: " "$LOG")" ", action=accept, wait=" "summary line: accepted, not tagged"

q5=$(send nullsender --tls --from '<>' --to r8@usable.dane.test)
m=$(delivered r8@usable.dane.test "$q5")
is "$(hdrs "$m" X-DANE-Sender)" "$AS; domain=none" "null sender: domain=none"

# ------------------------------------------------------ require = dane
q6=$(send require --tls --from d@usable.dane.test --to r9@notlsa.dane.test,r10@usable.dane.test)
like "$(cat "$WORLD/require.swaks")" \
	"<[~*]+ +450 4\\.7\\.5 Recipient domain notlsa\\.dane\\.test requires DANE, but its DANE status is none" \
	"RCPT to a require=dane domain without DANE: 450 4.7.5 with the reason"
m=$(delivered r10@usable.dane.test "$q6")
is "$(hdrs "$m" X-DANE-Recipient)" \
	"$AS; domain=usable.dane.test; policy=dane-only; source=dane; dane=usable; mta-sts=enforce" \
	"the refused domain gets no header; the accepted one does"
like "$(grep "^$q6: summary: " "$LOG")" \
	"rcpt=notlsa\\.dane\\.test \\(policy=dane-only source=config dane=none mta-sts=absent action=tempfail\\)" \
	"summary line lists the refused domain with its action"
like "$(grep "milter: RCPT <r9@notlsa.dane.test> refused" "$LOG")" "450 4\\.7\\.5" \
	"the refusal is logged"
ok "$([ ! -e "$MAIL/r9@notlsa.dane.test" ]; echo $?)" "nothing delivered to the refused recipient"

# ------------------------------- quoted local parts: the domain Postfix routes to
# (swaks writes RCPT TO:<ARG>; Postfix gives the milter {rcpt_addr} with
# the local part quoted, and routes to the domain after the last '@'
# outside the quotes)
q8=$(send quoted1 --tls --from '"s@notlsa.dane.test>"@usable.dane.test' \
	--to '"x@usable.dane.test>"@notlsa.dane.test,"a>b"@partial.dane.test,"x y\\z@notlsa.dane.test"@unsigned.test')
like "$(cat "$WORLD/quoted1.swaks")" \
	"<[~*]+ +450 4\\.7\\.5 Recipient domain notlsa\\.dane\\.test requires DANE, but its DANE status is none" \
	"quoted '@usable.dane.test>' at the require=dane domain notlsa.dane.test: 450 4.7.5 (not judged as usable.dane.test)"
is "$(delivered_to "$q8")" 'a>b@partial.dane.test
x y\z@notlsa.dane.test@unsigned.test' \
	"quoted local parts: Postfix delivered to the other two recipients"
m=$(message "$MAIL/a>b@partial.dane.test" "$q8")
is "$(hdrs "$m" X-DANE-Sender)" \
	"$AS; domain=usable.dane.test; policy=dane-only; dane=usable; mta-sts=enforce" \
	"quoted '@notlsa.dane.test>' in the sender: X-DANE-Sender names usable.dane.test, where Postfix routes it"
is "$(hdrs "$m" X-DANE-Recipient)" \
"$AS; domain=partial.dane.test; policy=dane; source=dane; dane=partial; mta-sts=absent
$AS; domain=unsigned.test; policy=none; source=none; dane=insecure; mta-sts=absent" \
	"quoted '>' / '@notlsa.dane.test' with a space and a backslash: X-DANE-Recipient names the domains Postfix delivered to"
like "$(grep "milter: RCPT <%22x@usable.dane.test%3E%22@notlsa.dane.test> refused" "$LOG")" "450 4\\.7\\.5" \
	"the refusal is logged with the whole quoted address"
ok "$([ ! -e "$MAIL/x@usable.dane.test>@notlsa.dane.test" ]; echo $?)" "nothing delivered to the refused quoted recipient"

# ------------------------------------------------ SMTPUTF8: U-label domains
# a real SMTPUTF8 transaction (Python's smtplib: MAIL FROM ... SMTPUTF8,
# STARTTLS): Postfix hands the milter the UTF-8 envelope; the headers name
# the domains' A-labels and their policies (bücher.dane.test is an IDN
# whose MX has usable TLSA), and an address IDNA forbids is domain=invalid
out=$("$PYTHON" - "$SERVER" <<'PY' 2>&1
import smtplib, ssl, sys
s = smtplib.SMTP(sys.argv[1], 25, local_hostname="client.test", timeout=30)
s.starttls(context=ssl._create_unverified_context())
s.ehlo("client.test")
msg = "Subject: utf8\r\n\r\nbody\r\n".encode()
refused = s.sendmail("sender@bücher.dane.test", ["rcpt@BÜCHER.dane.test", "r2@partial.dane.test"],
    msg, mail_options=["SMTPUTF8"])
print("refused:", refused)
s.quit()
PY
)
like "$out" "refused: \\{\\}" "SMTPUTF8 message with U-label domains accepted by Postfix"
q9=$(sed -n 's/.*smtpd\[[0-9]*\]: \([0-9A-Za-z]*\): client=.*/\1/p' "$INLOG" | tail -1)
m=$(delivered r2@partial.dane.test "$q9")
is "$(hdrs "$m" X-DANE-Sender)" \
	"$AS; domain=xn--bcher-kva.dane.test; policy=dane-only; dane=usable; mta-sts=absent" \
	"SMTPUTF8: the sender's U-label domain is looked up as its A-label (dane=usable)"
is "$(hdrs "$m" X-DANE-Recipient)" \
"$AS; domain=xn--bcher-kva.dane.test; policy=dane-only; source=dane; dane=usable; mta-sts=absent
$AS; domain=partial.dane.test; policy=dane; source=dane; dane=partial; mta-sts=absent" \
	"SMTPUTF8: the recipient's U-label domain (in upper case) is its A-label, one header per domain"

# ------------------------------------------- 200 concurrent SMTP sessions
n=200
before=$(grep -c ": summary: " "$LOG")
t0=$(now_ms)
"$SMTP_SOURCE" -c -s "$n" -m "$n" -l 512 -f load@usable.dane.test \
	-t load@enforce.sts.test "$SERVER:25" >"$WORLD/load.out" 2>&1
rc=$?
t1=$(now_ms)
is "$rc" 0 "smtp-source: $n sessions at once, no failure ($((t1 - t0)) ms)"
for i in $(seq 1 300); do
	[ "$(grep -c ": summary: " "$LOG")" -ge $((before + n)) ] && break
	sleep 0.1
done
sums=$(grep ": summary: " "$LOG" | tail -n +$((before + 1)))
is "$(printf '%s\n' "$sums" | grep -c 'sender=usable\.dane\.test')" "$n" "$n summary lines, one per message"
is "$(printf '%s\n' "$sums" | grep -c 'temperror')" 0 "no verdict missed the bound"
maxwait=$(printf '%s\n' "$sums" | sed -n 's/.*wait=\([0-9]*\)ms$/\1/p' | sort -n | tail -1)
ok "$([ "${maxwait:-99999}" -lt 5000 ]; echo $?)" "longest wait for verdicts ${maxwait} ms, below milter.timeout_ms"
for i in $(seq 1 300); do
	[ "$(grep -c '^X-DANE-Recipient:' "$MAIL/load@enforce.sts.test" 2>/dev/null)" -ge "$n" ] && break
	sleep 0.1
done
is "$(grep -c "^X-DANE-Recipient: $AS; domain=enforce.sts.test; policy=secure; source=mta-sts; dane=none; mta-sts=enforce\$" "$MAIL/load@enforce.sts.test")" \
	"$n" "all $n delivered messages carry the recipient header"
is "$(grep -c "^X-DANE-Inbound: $AS; tls=none; client=unknown; addr=127.0.0.1\$" "$MAIL/load@enforce.sts.test")" \
	"$n" "... and the inbound header"
unlike "$(grep -E 'warning|milter-reject|reject:' "$INLOG" | grep -v 'r9@notlsa\|x@usable\.dane\.test>' || true)" "milter" \
	"Postfix logged no milter warning, timeout or unexpected reject"

# ------------------------------------------------------------- shutdown
daemon_stop
is "$?" 0 "SIGTERM: the daemon drains and exits 0"
like "$(tail -3 "$LOG")" "stopped" "the daemon logged its stop"
q7=$(send after --from e@usable.dane.test --to r11@usable.dane.test)
like "$(cat "$WORLD/after.swaks")" "<[~*]+ +451 4\\.7\\.1" \
	"with the milter gone Postfix applies milter_default_action (tempfail)"
done_testing
