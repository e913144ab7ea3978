#!/usr/bin/env bash
# miltertest.sh: the milter as an MTA sees it, driven by miltertest (Debian
# package miltertest) with the Lua scripts of tests/milter/ (lib.lua: the
# helpers; each script prints one T:PASS / T:FAIL line per assertion, which
# become TAP lines here, plus one line saying it ran to its end with the
# number of assertions it planned).
#
# Covered: X-DANE-Inbound from the Postfix and the Sendmail macro sets
# (inbound.lua); forged incoming X-DANE-* headers deleted, injection through
# macros / client name / queue id percent-encoded (forged.lua);
# X-DANE-Sender / X-DANE-Recipient for every class of world domain, null
# sender, normalization, max_recipient_headers and more=N (domains.lua);
# RCPT rules: require = "dane" with temporary and permanent replies,
# bogus_tempfail (rules.lua + the daemon log for the reply texts); a slow
# engine: timeout_ms = 300 with on_timeout continue / tempfail
# (timeout.lua); plaintext senders: tag / reject / quarantine
# (plaintext.lua); submission (trusted_networks, {auth_authen}) is no
# plaintext violation (trusted.lua, on A and C); abort and dropped
# connections, then a clean SIGTERM
# (lifecycle.lua); without authserv_id: the j macro (authserv.lua); the
# domain of quoted addresses, from {mail_addr} / {rcpt_addr} or the
# argument, and addresses without a usable domain (addr.lua, on A and C);
# the summary log line, text and JSON.
#
# One world, three daemons. A: authserv_id, timeout_ms = 300, on_timeout
# continue, temporary require reply, no bogus_tempfail, plaintext tag,
# max_recipient_headers = 2, trusted_networks 198.51.100.0/24 and
# 2001:db8:1::/48 (so 127.0.0.1 is not trusted), text log. B: no authserv_id, timeout_ms = 300,
# on_timeout tempfail, require_dane_reply permanent, bogus_tempfail,
# plaintext reject, JSON log; then reloaded (SIGHUP) with plaintext
# quarantine. Both: require = "dane" for nodata.dane.test (dane none),
# ta.dane.test (usable), badtlsa.dane.test (bogus); the scripts' clients
# are at 192.0.2.1, outside every trusted_networks. C: no domains entries,
# defaults (trusted_networks loopback) but authserv_id and timeout_ms =
# 2000. Every domain but
# lame.test / dead.test is resolved once through the socketmap first, so
# the 300 ms bound meets only those two. ~12 s (~20 s with four copies at
# once on 2 cores); needs miltertest (else skipped), root (the world).
# shellcheck disable=SC2153 # the WORLD_* variables come from world.env
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

command -v miltertest >/dev/null || { echo "1..0 # SKIP miltertest is not installed"; exit 0; }

# warm PORT,PORT... DOMAIN...: resolve each domain once through each
# daemon's socketmap (the milter shares the cache), all at once. (Not
# with postmap: it sleeps a second before it exits on a TEMP reply.)
warm() {
	"$PYTHON" - "$@" <<'PY'
import socket, sys, threading
ports, domains = [int(p) for p in sys.argv[1].split(",")], sys.argv[2:]
def ask(port, domain):
    req = ("QUERY " + domain).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(b"%d:%s," % (len(req), req))
        buf = b""
        while b":" not in buf or len(buf) < buf.index(b":") + 2 + int(buf[:buf.index(b":")]):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
threads = [threading.Thread(target=ask, args=(p, d)) for p in ports for d in domains]
for t in threads:
    t.start()
for t in threads:
    t.join()
PY
}

# json_summary LOG QID EXPR: EXPR (python, the summary object bound to d)
# for the JSON summary line of QID in LOG; "<N lines>" unless exactly one.
json_summary() {
	"$PYTHON" - "$1" "$2" "$3" <<'PY'
import json, sys
path, qid, expr = sys.argv[1:4]
found = []
for line in open(path, errors="replace"):
    line = line.strip()
    if not line.startswith("{"):
        continue
    try:
        d = json.loads(line)
    except ValueError:
        continue
    if d.get("event") == "summary" and d.get("queue_id") == qid:
        found.append(d)
if len(found) != 1:
    print("<%d summary lines for %s>" % (len(found), qid))
    sys.exit(0)
d = found[0]
v = eval(expr, {"d": d})
print(json.dumps(v, sort_keys=True) if not isinstance(v, str) else v)
PY
}

# reload CONF LOG PID: SIGHUP and wait (bounded) for "configuration reloaded".
reload() {
	local n i
	n=$(grep -c "configuration reloaded" "$2")
	kill -HUP "$3"
	for i in $(seq 1 50); do
		[ "$(grep -c "configuration reloaded" "$2")" -gt "$n" ] && return 0
		sleep 0.1
	done
	return 1
}

T0=$(now_ms)
world_start
echo "# world: $WORLD"
DOMAINS='domains = ( { name = "nodata.dane.test"; require = "dane"; },
  { name = "ta.dane.test"; require = "dane"; },
  { name = "badtlsa.dane.test"; require = "dane"; } );'

A_CONF="$WORLD/a.conf" A_LOG="$WORLD/a.log"
M_EXTRA='authserv_id = "mx.test.example"; timeout_ms = 300; max_recipient_headers = 2; trusted_networks = [ "198.51.100.0/24", "2001:db8:1::/48" ];' \
	daemon_conf "$A_CONF" "$DOMAINS"
daemon_start "$A_CONF" "$A_LOG"
A_PID=$DAEMON_PID A_PORT=$MILTER_PORT A_SM=$DAEMON_PORT

B_CONF="$WORLD/b.conf" B_LOG="$WORLD/b.log"
M_EXTRA='timeout_ms = 300; on_timeout = "tempfail"; require_dane_reply = "permanent"; bogus_tempfail = true; plaintext_sender = "reject";' \
	daemon_conf "$B_CONF" "$DOMAINS"
sed -i 's/^log = { destination = "stderr"; level = "info"; };/log = { destination = "stderr"; level = "info"; format = "json"; };/' "$B_CONF"
daemon_start "$B_CONF" "$B_LOG"
B_PID=$DAEMON_PID B_PORT=$MILTER_PORT B_SM=$DAEMON_PORT
grep -q 'format = "json"' "$B_CONF" || bail "b.conf: could not set log.format = json"

C_CONF="$WORLD/c.conf" C_LOG="$WORLD/c.log"
M_EXTRA='authserv_id = "mx.c.example"; timeout_ms = 2000;' daemon_conf "$C_CONF"
daemon_start "$C_CONF" "$C_LOG"
C_PID=$DAEMON_PID C_PORT=$MILTER_PORT C_SM=$DAEMON_PORT

# The domains of the scripts but lame.test and dead.test.
warm "$A_SM,$B_SM,$C_SM" usable.dane.test partial.dane.test unusable.dane.test notlsa.dane.test \
	unsigned.test nullmx.dane.test bogus.test enforce.sts.test testing.sts.test \
	nosts.sts.test nodata.dane.test ta.dane.test badtlsa.dane.test
echo "# world and daemons up, caches warm: $(($(now_ms) - T0)) ms"

A_ENV=(MT_PORT="$A_PORT" MT_AUTHSERV=mx.test.example)
B_ENV=(MT_PORT="$B_PORT" MT_AUTHSERV=mx.j.example)
C_ENV=(MT_PORT="$C_PORT" MT_AUTHSERV=mx.c.example)

# ------------------------------------------------ A: headers
mt_run A inbound.lua "${A_ENV[@]}"
mt_run A forged.lua "${A_ENV[@]}"
like "$(grep -a ': summary: client=evil' "$A_LOG")" '^FORGE3%20x%3B%0D%0AX-Evil:%201: summary: client=evil\.example%3B%20dane=usable\[192\.0\.2\.9\], ' \
	"[A] a queue id with CR LF and a client name with '; ' are percent-encoded in the log line"
mt_run A domains.lua "${A_ENV[@]}"

# ------------------------------------------------ A: RCPT rules (temporary replies)
mt_run A rules.lua "${A_ENV[@]}" MT_QID=RULES-A MT_BOGUS_TEMPFAIL=0
rcpt_log() { grep -a "^$2: milter: RCPT [^ ]*$3[^ ]* refused: " "$1"; }
like "$(rcpt_log "$A_LOG" RULES-A b@nodata.dane.test)" \
	'refused: 450 4\.7\.5 Recipient domain nodata\.dane\.test requires DANE, but its DANE status is none$' \
	"[A] require = dane, dane=none: logged 450 4.7.5 with the reason"
like "$(rcpt_log "$A_LOG" RULES-A b@badtlsa.dane.test)" \
	'refused: 450 4\.7\.5 Recipient domain badtlsa\.dane\.test requires DANE, but its DANE status is bogus$' \
	"[A] require = dane, dane=bogus: logged 450 4.7.5"
is "$(grep -ac '^RULES-A: milter: RCPT .* refused' "$A_LOG")" 2 "[A] two refusals logged (not ta.dane.test, not bogus.test)"

# ------------------------------------------------ A, C: the domain of quoted addresses
mt_run A addr.lua "${A_ENV[@]}" MT_QID=ADDR-A MT_REQUIRE=1
NODATA_450="450 4.7.5 Recipient domain nodata.dane.test requires DANE, but its DANE status is none"
INVALID_450="450 4.7.5 Cannot tell the recipient domain of this address, so its TLS policy cannot be checked; try again later"
# refusals LOG QID: each logged RCPT refusal reply of QID, counted
refusals() { grep -a "^$2: milter: RCPT " "$1" | sed 's/.* refused: //' | sort | uniq -c | sed 's/^ *//'; }
is "$(refusals "$A_LOG" ADDR-AM)" "3 $NODATA_450" \
	"[A] {rcpt_addr}: each quoted address at nodata.dane.test refused, with its reason"
is "$(refusals "$A_LOG" ADDR-AA)" "3 $NODATA_450" \
	"[A] no {rcpt_addr}: each quoted argument at nodata.dane.test refused, with its reason"
is "$(refusals "$A_LOG" ADDR-AU)" "1 $INVALID_450
3 $NODATA_450" "[A] unquoted {rcpt_addr}: nodata.dane.test refused; the unreadable one too"
is "$(refusals "$A_LOG" ADDR-AI)" "3 $INVALID_450" \
	"[A] recipients without a usable domain: 450 4.7.5, cannot tell the recipient domain"
like "$(grep -a '^ADDR-AM: milter: RCPT ' "$A_LOG" | head -1)" \
	'^ADDR-AM: milter: RCPT <%22x@partial\.dane\.test%3E%22@nodata\.dane\.test> refused: ' \
	"[A] the refused address is logged whole, percent-encoded"
like "$(grep -a '^ADDR-AI: summary: ' "$A_LOG")" \
	'^ADDR-AI: summary: client=client\.example\[192\.0\.2\.1\], tls=none, sender=invalid, rcpt=partial\.dane\.test \(policy=dane source=dane dane=partial mta-sts=absent action=accept\), rcpt=invalid \(action=tempfail\), action=accept, wait=[0-9]+ms$' \
	"[A] summary: sender=invalid, the invalid recipient domain with its action"
mt_run C addr.lua "${C_ENV[@]}" MT_QID=ADDR-C MT_REQUIRE=0
is "$(grep -ac '^ADDR-C.: milter: RCPT .* refused' "$C_LOG")" 0 \
	"[C] no domains entries, no bogus_tempfail: no recipient refused, invalid domains neither"
like "$(grep -a '^ADDR-CI: summary: ' "$C_LOG")" \
	', sender=invalid, rcpt=invalid \(action=accept\), rcpt=partial\.dane\.test \(policy=dane source=dane dane=partial mta-sts=absent action=accept\), action=accept, ' \
	"[C] summary: sender=invalid, rcpt=invalid accepted"

# ------------------------------------------------ A: slow engine, on_timeout continue
t0=$(now_ms)
mt_run A timeout.lua "${A_ENV[@]}" MT_QID=SLOW-A MT_ON_TIMEOUT=continue
t1=$(now_ms)
ok "$([ $((t1 - t0)) -lt 3000 ]; echo $?)" "[A] lame.test recipient: the whole miltertest run took < 3 s ($((t1 - t0)) ms)"

# ------------------------------------------------ A: plaintext sender, tag
mt_run A plaintext.lua "${A_ENV[@]}" MT_QID=PTA MT_PLAINTEXT=tag
like "$(grep -a '^PTA1: milter: ' "$A_LOG")" \
	'^PTA1: milter: tag: plaintext message from a domain that requires TLS \(sender usable\.dane\.test\)$' \
	"[A] plaintext tag: the action is logged with the queue id and the reason"

# ------------------------------------------------ A, C: submission is no violation
mt_run A trusted.lua "${A_ENV[@]}" MT_QID=TRUST-A MT_TRUSTED="198.51.100.7 198.51.100.255 2001:db8:1::5" \
	MT_UNTRUSTED="192.0.2.1 127.0.0.1 2001:db8:2::5"
mt_run C trusted.lua "${C_ENV[@]}" MT_QID=TRUST-C MT_TRUSTED="127.0.0.1 127.1.2.3 ::1 ::ffff:127.0.0.1" \
	MT_UNTRUSTED="192.0.2.1 ::2"
is "$(grep -ac '^TRUST-A[0-9]*: milter: tag: ' "$A_LOG"):$(grep -ac '^TRUST-C[0-9]*: milter: tag: ' "$C_LOG")" "6:4" \
	"[A, C] a tag is logged for each unauthenticated plaintext message from an untrusted client only"

# ------------------------------------------------ A: summary lines (text)
is "$(grep -ac '^RULES-A: summary: ' "$A_LOG")" 1 "[A] one summary line per message"
like "$(grep -a '^RULES-A: summary: ' "$A_LOG")" \
	'^RULES-A: summary: client=client\.example\[192\.0\.2\.1\], tls=TLSv1\.3, sender=partial\.dane\.test \(policy=dane dane=partial mta-sts=absent\), rcpt=ta\.dane\.test \(policy=dane-only source=dane dane=usable mta-sts=absent action=accept\), rcpt=bogus\.test \(policy=temperror source=dane dane=bogus mta-sts=error action=accept\), rcpt=nodata\.dane\.test \(policy=dane-only source=config dane=none mta-sts=absent action=tempfail\), rcpt=badtlsa\.dane\.test \(policy=temperror source=dane dane=bogus mta-sts=absent action=tempfail\), action=accept, wait=[0-9]+ms$' \
	"[A] summary: accepted recipient domains, then the refused ones with their action"
like "$(grep -a '^DOM1: summary: ' "$A_LOG")" \
	'^DOM1: summary: client=client\.example\[192\.0\.2\.1\], tls=TLSv1\.3, sender=usable\.dane\.test \(policy=dane-only dane=usable mta-sts=enforce\), rcpt=usable\.dane\.test \(policy=dane-only source=dane dane=usable mta-sts=enforce action=accept\), action=accept, wait=[0-9]+ms$' \
	"[A] summary of a plain message"
line=$(grep -a '^SLOW-A: summary: ' "$A_LOG")
like "$line" \
	'^SLOW-A: summary: client=client\.example\[192\.0\.2\.1\], tls=TLSv1\.3, sender=usable\.dane\.test \(policy=dane-only dane=usable mta-sts=enforce\), rcpt=lame\.test \(policy=temperror reason=timeout action=accept\), action=accept, wait=[0-9]+ms$' \
	"[A] summary: a recipient domain without a verdict in time"
wait_ms=$(printf '%s' "$line" | sed -n 's/.*, wait=\([0-9]*\)ms$/\1/p')
ok "$([ "${wait_ms:-0}" -ge 290 ] && [ "${wait_ms:-0}" -lt 1000 ]; echo $?)" "[A] summary: wait= is the 300 ms bound (${wait_ms:-?} ms)"
like "$(grep -a '^PTA1: summary: ' "$A_LOG")" \
	', action=tag, reason=plaintext%20message%20from%20a%20domain%20that%20requires%20TLS, wait=[0-9]+ms$' \
	"[A] summary: action=tag with its reason"

# ------------------------------------------------ A: abort, dropped connections
mt_run A lifecycle.lua "${A_ENV[@]}" MT_QID=LC-
sleep 0.2
ok "$(kill -0 "$A_PID" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$A_PID/status" 2>/dev/null; echo $?)" \
	"[A] the daemon is still running after dropped connections"
is "$(grep -acE '^LC-(ABORT|DROP1|DROP2): summary' "$A_LOG")" 0 "[A] no summary line for aborted or dropped messages"
is "$(grep -ac '^LC-NEXT: summary: client=client\.example\[192\.0\.2\.1\], tls=none, sender=testing\.sts\.test ' "$A_LOG")" 1 \
	"[A] the message after the abort has its own summary (plaintext, its own sender)"

# ------------------------------------------------ B: no authserv_id, JSON summary
mt_run B authserv.lua "${B_ENV[@]}" MT_QID=JSON1 MT_HOSTNAME="$(hostname)"
is "$(json_summary "$B_LOG" JSON1 'dict(d, wait_ms=type(d["wait_ms"]).__name__)')" \
	"$("$PYTHON" -c 'import json; print(json.dumps({"event": "summary", "queue_id": "JSON1",
	  "client_name": "client.example", "client_addr": "192.0.2.1",
	  "tls": {"version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384", "bits": "256", "client_cert": "verified"},
	  "sender": {"domain": "partial.dane.test", "policy": "dane", "source": "dane", "dane": "partial", "mta_sts": "absent"},
	  "recipients": [
	    {"domain": "ta.dane.test", "policy": "dane-only", "source": "dane", "dane": "usable", "mta_sts": "absent", "action": "accept", "count": 1},
	    {"domain": "nodata.dane.test", "policy": "dane-only", "source": "config", "dane": "none", "mta_sts": "absent", "action": "reject", "count": 1}],
	  "action": "accept", "reason": None, "wait_ms": "int"}, sort_keys=True))')" \
	"[B] JSON summary: one object with every field of milter/summary.c"
is "$(grep -ac '^JSON1: summary: ' "$B_LOG")" 0 "[B] log.format = json: no text summary line"

# ------------------------------------------------ B: RCPT rules (permanent replies, bogus_tempfail)
mt_run B rules.lua "${B_ENV[@]}" MT_QID=RULES-B MT_BOGUS_TEMPFAIL=1
like "$(rcpt_log "$B_LOG" RULES-B b@nodata.dane.test)" \
	'refused: 550 5\.7\.5 Recipient domain nodata\.dane\.test requires DANE, but its DANE status is none$' \
	"[B] require_dane_reply = permanent, dane=none: logged 550 5.7.5"
like "$(rcpt_log "$B_LOG" RULES-B b@badtlsa.dane.test)" \
	'refused: 450 4\.7\.5 Recipient domain badtlsa\.dane\.test requires DANE, but its DANE status is bogus$' \
	"[B] require_dane_reply = permanent, dane=bogus: still 450 4.7.5 (a lookup error is temporary)"
like "$(rcpt_log "$B_LOG" RULES-B b@bogus.test)" \
	'refused: 450 4\.7\.5 DNSSEC validation failed for recipient domain bogus\.test \(dane=bogus\); try again later$' \
	"[B] bogus_tempfail: logged 450 4.7.5 for bogus.test"
is "$(json_summary "$B_LOG" RULES-B '" ".join(r["domain"] + ":" + r["action"] for r in d["recipients"])')" \
	"ta.dane.test:accept nodata.dane.test:reject bogus.test:tempfail badtlsa.dane.test:tempfail" \
	"[B] JSON summary: each recipient domain's action"

# ------------------------------------------------ B: slow engine, on_timeout tempfail
mt_run B timeout.lua "${B_ENV[@]}" MT_QID=SLOW-B MT_ON_TIMEOUT=tempfail
is "$(json_summary "$B_LOG" SLOW-B '[d["action"], d["reason"], d["recipients"]]')" \
	'["tempfail", "TLS policy lookups did not finish in time", [{"action": "accept", "count": 1, "domain": "lame.test", "policy": "temperror", "reason": "timeout"}]]' \
	"[B] JSON summary: action tempfail, the recipient without a verdict"

# ------------------------------------------------ B: plaintext sender, reject; then quarantine
mt_run B plaintext.lua "${B_ENV[@]}" MT_QID=PTB MT_PLAINTEXT=reject
is "$(json_summary "$B_LOG" PTB1 '[d["action"], d["reason"], d["tls"]]')" \
	'["reject", "plaintext message from a domain that requires TLS", null]' \
	"[B] JSON summary: action reject with its reason"
sed -i 's/plaintext_sender = "reject";/plaintext_sender = "quarantine";/' "$B_CONF"
reload "$B_CONF" "$B_LOG" "$B_PID"
ok $? "[B] SIGHUP: plaintext_sender = quarantine loaded"
mt_run B plaintext.lua "${B_ENV[@]}" MT_QID=PTQ MT_PLAINTEXT=quarantine
is "$(json_summary "$B_LOG" PTQ1 'd["action"]')" quarantine "[B] JSON summary: action quarantine"

# ------------------------------------------------ stop
t0=$(now_ms)
DAEMON_PID=$A_PID daemon_stop
rc=$?
t1=$(now_ms)
is "$rc" 0 "[A] SIGTERM: exit 0"
ok "$([ $((t1 - t0)) -lt 2000 ]; echo $?)" "[A] SIGTERM: stopped promptly ($((t1 - t0)) ms)"
like "$(grep -a 'stopping: ' "$A_LOG")" 'waiting up to [0-9]+ ms for 0 open messages' \
	"[A] SIGTERM: no message left open by the aborted / dropped connections"
unlike "$(cat "$A_LOG")" 'still open' "[A] SIGTERM: no \"messages still open\" warning"
DAEMON_PID=$B_PID daemon_stop
is "$?" 0 "[B] SIGTERM: exit 0"
DAEMON_PID=$C_PID daemon_stop
is "$?" 0 "[C] SIGTERM: exit 0"
unlike "$(cat "$A_LOG" "$B_LOG" "$C_LOG")" '(ERROR|AddressSanitizer|runtime error|cannot (add|delete|quarantine|set))' \
	"no errors in the daemon logs"
echo "# total: $(($(now_ms) - T0)) ms"

done_testing
