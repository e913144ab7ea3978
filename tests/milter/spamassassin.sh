#!/usr/bin/env bash
# spamassassin.sh: etc/spamassassin/60_danemilter.cf in a real SpamAssassin.
# First `spamassassin --lint` with the shipped file (alone, and included
# from the stock configuration): exit 0, nothing on stderr. Then real
# messages: sent with swaks (with and without STARTTLS) through a real
# Postfix smtpd with the milter (as postfix_in.sh), the milter probing the
# recipient domains' MX hosts (postfix.sh start-sink), delivered, and run
# through SpamAssassin with only the danemilter rules (no network tests,
# no Bayes, no user preferences: deterministic, ~0.5 s per run). For every
# message the EXACT set of DANEMILTER_* rules that hit is asserted:
# plaintext and TLS from DANE, MTA-STS and policy-less domains, a DNSSEC
# bogus sender, a recipient whose lookups time out, a recipient whose MX
# fails the TLS probe, forged X-DANE-* headers (deleted by the milter, so
# they must not score), and TLSv1.1 (Postfix and swaks opened to it).
# Finally hand-made headers check the regular expressions' anchoring.
# Needs root, postfix, swaks, spamassassin. ~20 s.
# shellcheck disable=SC2153 # the WORLD_* variables come from world.env
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

PF="$top_srcdir/tests/world/postfix.sh"
RULES="$top_srcdir/etc/spamassassin/60_danemilter.cf"
for c in postfix swaks spamassassin; do
	command -v "$c" >/dev/null || [ -x "/usr/sbin/$c" ] ||
		{ echo "1..0 # SKIP $c is not installed"; exit 0; }
done

# ------------------------------------------------- SpamAssassin set-up
# A configuration of our own: the rules directory holds only the shipped
# file; the site directory loads the one plugin that runs rules (Check),
# turns Bayes off, names one TLD (else RegistryBoundaries warns) and adds
# a header listing the rules that hit; user preferences: an empty file.
SA=$(mktemp -d /tmp/dm-sa.XXXXXX)
at_exit "rm -rf '$SA'"
mkdir "$SA/rules" "$SA/site"
cp "$RULES" "$SA/rules/"
printf 'loadplugin Mail::SpamAssassin::Plugin::Check\n' >"$SA/site/init.pre"
cat >"$SA/site/local.cf" <<'EOF'
use_bayes 0
util_rb_tld test
add_header all DM-Tests _TESTS(,)_
EOF
: >"$SA/prefs"
sa() { spamassassin -L -C "$SA/rules" --siteconfigpath "$SA/site" -p "$SA/prefs" "$@"; }

sa --lint >"$SA/lint.out" 2>"$SA/lint.err"
is "$?" 0 "spamassassin --lint with only 60_danemilter.cf: exit 0"
is "$(cat "$SA/lint.err")" "" "... and nothing on stderr"
spamassassin --lint -p "$SA/prefs" --cf "include $RULES" >"$SA/lint2.out" 2>"$SA/lint2.err"
is "$?" 0 "spamassassin --lint, stock configuration + include 60_danemilter.cf: exit 0"
is "$(cat "$SA/lint2.err")" "" "... and nothing on stderr"

# hits MBOX: one line per message, "SUBJECT: RULE RULE ..." (the
# DANEMILTER_* rules that hit, sorted), from one SpamAssassin run.
hits() {
	sa --mbox <"$1" | "$PYTHON" -c '
import sys, email, re
text = sys.stdin.read()
for part in re.split(r"(?m)^From .*\n", text)[1:]:
    m = email.message_from_string(part)
    tests = re.sub(r"\s+", "", m.get("X-Spam-DM-Tests", ""))
    rules = sorted(t for t in tests.split(",") if t.startswith("DANEMILTER_"))
    print("%s: %s" % (m.get("Subject", "?"), " ".join(rules)))
' | sort
}

# ------------------------------------------------ the milter in Postfix
world_start
CONF="$WORLD/d.conf"
LOG="$WORLD/daemon.log"
MAIL="$WORLD/pf-in/mail"
AS=mx.inbound.test      # authserv-id: Postfix's j macro (myhostname)

out=$(bash "$PF" start-sink "$WORLD" 2>&1) ||
	{ printf '%s\n' "$out" | sed 's/^/# /'; bail "postfix.sh start-sink failed"; }
# 2 s: far more than the world's verdicts and probes need, far less than
# lame.test's lookups (dns.timeout_ms = 3000).
# trusted_networks = [ ]: swaks connects from 127.0.0.1, and its plaintext
# must stay a violation (loopback is trusted by default).
M_EXTRA='timeout_ms = 2000; trusted_networks = [ ];' inbound_start "$CONF" "$LOG" \
	'probe = { enabled = true; timeout_ms = 1500; };'

# send NAME RCPT SWAKS-ARGS...: one message with Subject NAME to RCPT (its
# own mailbox); waits (bounded) for the delivery and appends the message
# to $WORLD/all.mbox.
NAMES=()
send() {
	local name=$1 rcpt=$2 qid i
	shift 2
	swaks --server "$SERVER" --port 25 --helo client.test --timeout 30 \
		--to "$rcpt" --header "Subject: $name" "$@" >"$WORLD/$name.swaks" 2>&1
	qid=$(sed -n 's/.*250 2\.0\.0 Ok: queued as \([0-9A-Za-z]*\).*/\1/p' "$WORLD/$name.swaks")
	ok "$([ -n "$qid" ]; echo $?)" "$name: accepted by Postfix (queue id $qid)"
	for i in $(seq 1 100); do
		[ -n "$qid" ] && grep -q "id $qid" "$MAIL/$rcpt" 2>/dev/null && break
		sleep 0.1
	done
	cat "$MAIL/$rcpt" >>"$WORLD/all.mbox" 2>/dev/null
	NAMES+=("$name")
}

# ask NAME HEADER: the values of HEADER in NAME's delivered message.
ask() {
	"$PYTHON" - "$WORLD/all.mbox" "$1" "$2" <<'PY'
import mailbox, sys
for m in mailbox.mbox(sys.argv[1]):
    if m["Subject"] == sys.argv[2]:
        for v in m.get_all(sys.argv[3]) or []:
            print(" ".join(v.split()))
PY
}

send plain-dane r1@usable.dane.test --from a@usable.dane.test
send tls-dane r2@usable.dane.test --tls --from a@usable.dane.test
send tls-sts r3@usable.dane.test --tls --from a@enforce.sts.test
send plain-sts r4@usable.dane.test --from a@enforce.sts.test
send plain-notlsa r5@usable.dane.test --from a@notlsa.dane.test
send tls-unsigned r6@usable.dane.test --tls --from a@unsigned.test
send tls-bogus r7@usable.dane.test --tls --from a@bogus.test
send tls-lame r8@lame.test --tls --from a@usable.dane.test
send tls-probefail r9@wrongtlsa.dane.test --tls --from a@usable.dane.test
send forged r10@usable.dane.test --tls --from a@notlsa.dane.test \
	--add-header "X-DANE-Inbound: $AS; tls=none; client=unknown; addr=192.0.2.1" \
	--add-header "X-DANE-Inbound: $AS; tls=TLSv1; cipher=X" \
	--add-header "X-DANE-Sender: $AS; domain=usable.dane.test; policy=dane-only; dane=bogus; mta-sts=enforce; violation=plaintext" \
	--add-header "X-DANE-Recipient: $AS; domain=usable.dane.test; policy=temperror; reason=timeout; probe=fail"

# TLSv1.1: Postfix and swaks must both go below OpenSSL 3's default
# security level (TLS < 1.2 needs SHA-1/MD5: level 0).
# (set-milter with the same milter: postfix.sh's reload, which waits until
# every smtpd of the old configuration is gone.)
postconf -c "$WORLD/pf-in/conf" -e \
	'tls_medium_cipherlist = DEFAULT:@SECLEVEL=0' 'smtpd_tls_protocols = >=TLSv1' ||
	bail "postconf failed"
out=$(bash "$PF" set-milter "$WORLD" "inet:127.0.0.1:$MILTER_PORT" 2>&1) ||
	{ printf '%s\n' "$out" | sed 's/^/# /'; bail "postfix.sh set-milter (reload) failed"; }
send tls11 r11@usable.dane.test --tls --tls-protocol tlsv1_1 --tls-cipher 'DEFAULT:@SECLEVEL=0' \
	--from a@usable.dane.test

# The milter's headers, as the rules below expect them (the exact syntax
# is postfix_in.sh's business; here only what the rules read).
like "$(ask plain-dane X-DANE-Sender)" "; dane=usable; mta-sts=enforce; violation=plaintext\$" \
	"plain-dane: the milter tagged violation=plaintext"
like "$(ask tls-bogus X-DANE-Sender)" "; domain=bogus\\.test; policy=temperror; dane=bogus;" \
	"tls-bogus: sender dane=bogus, policy=temperror"
like "$(ask tls-lame X-DANE-Recipient)" "^$AS; domain=lame\\.test; policy=temperror; reason=timeout\$" \
	"tls-lame: the recipient's verdict missed milter.timeout_ms"
like "$(ask tls-probefail X-DANE-Recipient)" "; domain=wrongtlsa\\.dane\\.test; .*; probe=fail; probe-reason=certificate-not-trusted\$" \
	"tls-probefail: probe=fail"
like "$(ask tls-dane X-DANE-Recipient)" "; probe=pass\$" "tls-dane: the recipient's probe passed"
is "$(ask forged X-DANE-Sender)" "$AS; domain=notlsa.dane.test; policy=none; dane=none; mta-sts=absent" \
	"forged: one X-DANE-Sender, the milter's"
like "$(ask forged X-DANE-Inbound)" "^$AS; tls=TLSv1\\.3; " "forged: one X-DANE-Inbound, the milter's"
like "$(ask tls11 X-DANE-Inbound)" "^$AS; tls=TLSv1\\.1; " "tls11: the message came over TLSv1.1"

# ------------------------------------------------- the rules, per message
t0=$(now_ms)
got=$(hits "$WORLD/all.mbox")
ms=$(($(now_ms) - t0))
# NAME: the exact DANEMILTER_* rules, sorted.
want="forged: 
plain-dane: DANEMILTER_INBOUND_PLAINTEXT DANEMILTER_PLAINTEXT_VIOLATION
plain-notlsa: DANEMILTER_INBOUND_PLAINTEXT
plain-sts: DANEMILTER_INBOUND_PLAINTEXT DANEMILTER_PLAINTEXT_VIOLATION
tls-bogus: DANEMILTER_SENDER_DNSSEC_BOGUS DANEMILTER_SENDER_TEMPERROR
tls-dane: DANEMILTER_SENDER_DANE
tls-lame: DANEMILTER_RCPT_TEMPERROR DANEMILTER_SENDER_DANE
tls-probefail: DANEMILTER_RCPT_PROBE_FAIL DANEMILTER_SENDER_DANE
tls-sts: DANEMILTER_SENDER_MTASTS
tls-unsigned: 
tls11: DANEMILTER_INBOUND_OLD_TLS DANEMILTER_SENDER_DANE"
while IFS= read -r w; do
	n=${w%%:*}
	is "$(printf '%s\n' "$got" | grep "^$n: " || echo "$n: <no message>")" "$w" \
		"$n: exactly {${w#*: }}"
done <<<"$want"
is "$(printf '%s\n' "$got" | wc -l)" "$(printf '%s\n' "$want" | wc -l)" \
	"SpamAssassin saw every message once (${#NAMES[@]} sent; one run, $ms ms)"

# --------------------------------------- anchoring, hand-made headers
# Values that contain a key's text, keys with a prefix, other TLS
# versions, several recipient headers, upper case (the tokens are lower
# case: not ours), a folded header (SpamAssassin unfolds).
mk() { # SUBJECT HEADER-LINES...
	local s=$1
	shift
	printf 'From x@y Sat Nov 22 00:00:00 2026\nFrom: x@y.test\nSubject: %s\n' "$s"
	printf '%s\n' "$@"
	printf 'Message-ID: <%s@x.test>\n\nbody\n\n' "$s"
}
{
	mk a-prefix "X-DANE-Inbound: $AS; xtls=none; client=unknown" \
		"X-DANE-Sender: $AS; domain=x.test; policy=none; dane=none; mta-sts=none; xviolation=plaintext; ydane=bogus; policyx=temperror"
	mk b-invalue "X-DANE-Inbound: $AS; tls=TLSv1.3; client=tls=none; addr=1" \
		"X-DANE-Sender: $AS; domain=violation=plaintext; policy=x-policy=temperror; dane=none%3Bdane=bogus; mta-sts=none" \
		"X-DANE-Recipient: $AS; domain=probe=fail; policy=none; source=none; dane=none; mta-sts=none; probe=failed"
	mk c-authserv "X-DANE-Inbound: tls=none; tls=TLSv1.2; client=u" \
		"X-DANE-Sender: violation=plaintext; domain=x.test; policy=none; dane=none; mta-sts=none"
	mk d-versions "X-DANE-Inbound: $AS; tls=TLSv1.2; cipher=X" \
		"X-DANE-Sender: $AS; domain=d.test; policy=secure; dane=none; mta-sts=enforce" \
		"X-DANE-Recipient: $AS; domain=r1.test; policy=none; source=none; dane=none; mta-sts=none; probe=pass" \
		"X-DANE-Recipient: $AS; domain=r2.test; policy=temperror; reason=unavailable; probe=fail" \
		"X-DANE-Recipient: $AS; domain=r3.test; policy=none; source=none; dane=none; mta-sts=none; more=2"
	mk e-sslv3 "X-DANE-Inbound: $AS; tls=SSLv3; cipher=X" \
		"X-DANE-Sender: $AS; domain=e.test; policy=temperror; reason=timeout"
	mk f-tlsv1 "X-DANE-Inbound: $AS; tls=TLSv1; cipher=X" \
		"X-DANE-Sender: $AS; domain=f.test; policy=dane-only;" \
		"	dane=usable; mta-sts=absent"
	mk g-tlsv1x "X-DANE-Inbound: $AS; tls=TLSv1.10; cipher=X"
	mk h-upper "X-DANE-Inbound: $AS; TLS=NONE" \
		"X-DANE-Sender: $AS; domain=h.test; DANE=USABLE; VIOLATION=PLAINTEXT"
	mk i-none "X-DANE-Sender: $AS; domain=none"
} >"$WORLD/hand.mbox"
is "$(hits "$WORLD/hand.mbox")" "a-prefix: 
b-invalue: 
c-authserv: 
d-versions: DANEMILTER_RCPT_PROBE_FAIL DANEMILTER_RCPT_TEMPERROR DANEMILTER_SENDER_MTASTS
e-sslv3: DANEMILTER_INBOUND_OLD_TLS DANEMILTER_SENDER_TEMPERROR
f-tlsv1: DANEMILTER_INBOUND_OLD_TLS DANEMILTER_SENDER_DANE
g-tlsv1x: 
h-upper: 
i-none: " "hand-made headers: keys only after \";\", values up to \";\", lower case, all recipient headers, folding"
done_testing
