#!/usr/bin/env bash
# havedane.sh: the milter's HaveDane part (milter/hdmilter.c) driven by
# miltertest (tests/milter/havedane.lua): test addresses with valid tokens
# (made here with Python's hmac, not with danemilter's code) are accepted
# and their message discarded; forged, expired, future and malformed
# tokens get 550 5.1.1; mixing test and ordinary recipients gets 452
# 4.5.3; what was recorded (client, HELO, TLS, MAIL FROM domain) is read
# from the state file; keep = 3 drops the oldest; a restart reloads the
# records (a repeat is "already recorded"); a broken state file or key
# stops the start with a message naming it.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

command -v miltertest >/dev/null || { echo "1..0 # SKIP miltertest is not installed"; exit 0; }

world_start
ZONE=hd.test
H="$WORLD/havedane"
mkdir -p "$H"
head -c 32 /dev/urandom >"$H/token.key"
STATE="$H/state.json"
# token SECONDS_AGO: a token made with Python's hmac under the key
token() {
	"$PYTHON" - "$H/token.key" "$1" <<'PY'
import hmac, hashlib, os, struct, sys, time
key = open(sys.argv[1], "rb").read()
raw = struct.pack(">I", int(time.time()) - int(sys.argv[2])) + os.urandom(6)
print((raw + hmac.new(key, raw, hashlib.sha256).digest()[:10]).hex())
PY
}
V=$(token 0) V2=$(token 0) V3=$(token 1)
EXPIRED=$(token 700)            # token_ttl_s = 600
FUTURE=$(token -3600)
FORGED=${V:0:39}$(printf '%x' $(( (16#${V:39:1} + 1) % 16 )))

CONF="$WORLD/hd.conf"
LOG="$WORLD/hd.log"
daemon_conf "$CONF" "havedane = { zone = \"$ZONE\"; token_key_file = \"$H/token.key\"; state_file = \"$STATE\"; keep = 3; token_ttl_s = 600; };"
daemon_start "$CONF" "$LOG"

MT=(MT_PORT="$MILTER_PORT" MT_AUTHSERV=x MT_ZONE="$ZONE" MT_QID=HDQ MT_VALID="$V" MT_VALID2="$V2"
	MT_VALID3="$V3" MT_EXPIRED="$EXPIRED" MT_FORGED="$FORGED" MT_FUTURE="$FUTURE")
mt_run hd havedane.lua "${MT[@]}" MT_PHASE=1

# rec TOKEN KIND EXPR: EXPR over that record of the state file (r), or <none>
rec() {
	"$PYTHON" - "$STATE" "$1" "$2" "$3" <<'PY'
import json, sys
path, tok, kind, expr = sys.argv[1:5]
recs = json.load(open(path))["records"]
for r in recs:
    if r["token"] == tok and r["kind"] == kind:
        print(eval(expr, {"r": r}))
        break
else:
    print("<none>")
PY
}
count() { "$PYTHON" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["records"]))' "$STATE"; }

is "$(count)" 3 "the state file holds 3 records (do, wrong, dont of one test)"
is "$(rec "$V" do 'r["client"], r["addr"], r["helo"], r["mail_domain"]')" \
	"('mail.sender.example', '192.0.2.1', 'helo1.sender.example', 'sender.example')" \
	"do: client name, address, HELO, MAIL FROM domain"
is "$(rec "$V" do 'r["tls"], r["cipher"], r["bits"], r["cert_subject"], r["cert_issuer"]')" \
	"('TLSv1.3', 'TLS_AES_256_GCM_SHA384', '256', 'CN=mail.sender.example', 'CN=Sender CA')" \
	"do: TLS version, cipher, bits, client certificate"
is "$(rec "$V" wrong 'r["helo"]')" "helo1.sender.example" "wrong: recorded from the same message"
is "$(rec "$V" dont 'r["helo"], r["mail_domain"], r["cert_subject"]')" "('helo2.sender.example', '', '')" \
	"dont (upper-case token and domain): recorded, null sender, no client certificate"
now=$(date +%s)
at=$(rec "$V" do 'r["at"]')
ok "$([ "$at" -le "$now" ] && [ "$at" -ge $((now - 60)) ]; echo $?)" "do: the time of arrival ($at, now $now)"
is "$(rec "$V2" dont 'r')" "<none>" "the test address refused in a mixed message is not recorded"
for t in "$FORGED" "$EXPIRED" "$FUTURE"; do
	like "$(grep -c "RCPT <$t@.*refused: 550 5\.1\.1 no such HaveDane test" "$LOG")" '^1$' \
		"log: ${t:0:8}... refused with 550 5.1.1 no such HaveDane test"
done
like "$(cat "$LOG")" "RCPT <not-a-token@wrong\.$ZONE> refused: 550 5\.1\.1" "log: the malformed token refused with 550 5.1.1"
like "$(cat "$LOG")" "RCPT <b@nodata\.dane\.test> refused: 452 4\.5\.3 HaveDane test addresses take a message of their own" \
	"log: an ordinary recipient after a test address: 452 4.5.3"
like "$(cat "$LOG")" "RCPT <$V2@dont\.$ZONE> refused: 452 4\.5\.3" "log: a test address after an ordinary one: 452 4.5.3"
like "$(cat "$LOG")" "HDQ1: milter: discard: a HaveDane test message \(2 test addresses\)" "log: the test message discarded"
like "$(cat "$LOG")" "HDQ1: havedane: $V do recorded: client=mail\.sender\.example\[192\.0\.2\.1\] helo=helo1\.sender\.example tls=TLSv1\.3" \
	"log: the record line"

mt_run hd havedane.lua "${MT[@]}" MT_PHASE=2
is "$(count)" 3 "keep = 3: still 3 records after a fourth"
is "$(rec "$V" do 'r')" "<none>" "... the oldest (do of the first test) went"
is "$(rec "$V3" do 'r["helo"]')" "helo4.sender.example" "... the new one is there"

# restart: the records come back from the state file
daemon_stop
rc=$?
is "$rc" 0 "SIGTERM: clean exit"
[ "$rc" = 0 ] || grep -A12 -E "Sanitizer|runtime error" "$LOG" | head -40 | sed 's/^/# /'
daemon_start "$CONF" "$LOG"
mt_run hd havedane.lua "${MT[@]}" MT_PHASE=3
like "$(cat "$LOG")" "HDQ5: havedane: $V wrong already recorded" "after the restart: wrong is known (reloaded)"
like "$(cat "$LOG")" "HDQ5: havedane: $V do recorded" "after the restart: do is recorded anew"
is "$(rec "$V" do 'r["helo"]')" "helo5.sender.example" "... with the new message's HELO"
is "$(rec "$V" wrong 'r')" "<none>" "... and the oldest (wrong of the first test) went: keep = 3"
daemon_stop

# a broken state file, a short key: the start fails naming the file
echo '{"version": 1, "records": [' >"$STATE"
out=$("$DANEMILTER" -f -c "$CONF" 2>&1 </dev/null); rc=$?
is "$rc" 78 "a broken state file: the daemon does not start (EX_CONFIG)"
like "$out" "havedane\.state_file $STATE:.*not JSON" "... and names the file"
rm -f "$STATE"
head -c 8 /dev/urandom >"$H/token.key"
out=$("$DANEMILTER" -f -c "$CONF" 2>&1 </dev/null); rc=$?
is "$rc" 78 "an 8-byte token key: the daemon does not start"
like "$out" "havedane\.token_key_file $H/token\.key: 8 bytes, want at least 16" "... saying why"

done_testing
