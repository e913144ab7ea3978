#!/usr/bin/env bash
# havedane_api.sh: the HaveDane JSON API on libmicrohttpd (http/hdweb.c,
# http/hdapi.c) with the milter recording test messages (miltertest,
# tests/milter/havedane_send.lua): POST /api/tests gives a token and its
# three addresses; GET shows pending, then validates-dane (do and dont,
# not wrong, after grace_s), no-dane (wrong arrived), cannot-deliver-dane
# (dont only, after grace_s), with the recorded TLS of each message; 400
# for a malformed token, 404 for a forged, expired or unknown one; a flood
# of creations is rate limited (429, Retry-After); oversized headers and
# bodies, unknown paths and methods, a client that never finishes its
# request (closed after timeout_ms); the answers are valid JSON.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

command -v miltertest >/dev/null || { echo "1..0 # SKIP miltertest is not installed"; exit 0; }

world_start
ZONE=hd.test
H="$WORLD/havedane"
mkdir -p "$H"
head -c 32 /dev/urandom >"$H/token.key"
WEB_PORT=$(free_port)
CONF="$WORLD/hd.conf"
LOG="$WORLD/hd.log"
daemon_conf "$CONF" "havedane = { zone = \"$ZONE\"; token_key_file = \"$H/token.key\"; listen = [ \"inet:127.0.0.1:$WEB_PORT\" ]; grace_s = 2; token_ttl_s = 600; creates_per_minute = 5; timeout_ms = 2000; };"
daemon_start "$CONF" "$LOG"
for i in $(seq 1 100); do
	ss -Hltnp "sport = :$WEB_PORT" 2>/dev/null | grep -q "pid=$DAEMON_PID," && break
	sleep 0.05
done
URL="http://127.0.0.1:$WEB_PORT"

# api METHOD PATH [CURL ARGS...]: "STATUS BODY"
api() {
	local m=$1 p=$2
	shift 2
	curl -s -m 10 -o "$H/body" -w '%{http_code}' -X "$m" "$@" "$URL$p"
	printf ' %s\n' "$(cat "$H/body")"
}
# j JSON EXPR: EXPR over the parsed JSON (d)
j() { "$PYTHON" -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }
send() { mt_run send havedane_send.lua MT_PORT="$MILTER_PORT" MT_AUTHSERV=x MT_QID="$1" MT_RCPTS="$2"; }
# create: a test; sets TOK, A_DO, A_DONT, A_WRONG
create() {
	local out
	out=$(api POST /api/tests)
	CREATED=$out
	TOK=$(j "${out#* }" 'd["token"]')
	A_DO=$(j "${out#* }" 'd["addresses"]["do"]')
	A_DONT=$(j "${out#* }" 'd["addresses"]["dont"]')
	A_WRONG=$(j "${out#* }" 'd["addresses"]["wrong"]')
}
verdict() { j "$(api GET "/api/tests/$1" | cut -d' ' -f2-)" 'd["verdict"]'; }

# ---- a test that validates DANE
t0=$(date +%s)
create
is "${CREATED%% *}" 201 "POST /api/tests: 201"
like "$TOK" '^[0-9a-f]{40}$' "... a token of 40 hex digits"
is "$A_DO $A_DONT $A_WRONG" "$TOK@do.$ZONE $TOK@dont.$ZONE $TOK@wrong.$ZONE" "... its three addresses"
exp=$(j "${CREATED#* }" 'd["expires"]')
ok "$([ "$exp" -ge $((t0 + 600)) ] && [ "$exp" -le $((t0 + 602)) ]; echo $?)" "... expires after token_ttl_s ($exp)"
is "$(j "${CREATED#* }" 'd["grace_s"]')" 2 "... grace_s"
out=$(api GET "/api/tests/$TOK")
is "${out%% *}" 200 "GET a fresh test: 200"
is "$(j "${out#* }" '[d["verdict"], d["results"]["do"], d["results"]["dont"], d["results"]["wrong"]]')" \
	"['pending', {'received': False}, {'received': False}, {'received': False}]" "... pending, nothing received"
send V1- "$A_DO $A_DONT"
out=$(api GET "/api/tests/$TOK")
r=${out#* }
is "$(j "$r" 'd["verdict"]')" pending "do and dont arrived, within the grace: pending"
is "$(j "$r" '[d["results"]["do"][k] for k in ("received", "client", "addr", "helo", "tls", "cipher", "bits", "mail_domain")]')" \
	"[True, 'mail.sender.example', '192.0.2.7', 'out.sender.example', 'TLSv1.3', 'TLS_AES_256_GCM_SHA384', '256', 'sender.example']" \
	"... do: client, address, HELO, TLS version, cipher, bits, MAIL FROM domain"
is "$(j "$r" 'd["results"]["dont"]["tls"]')" TLSv1.3 "... dont: TLSv1.3"
is "$(j "$r" 'd["results"]["wrong"]')" "{'received': False}" "... wrong: not received"
at=$(j "$r" 'd["results"]["do"]["at"]')
for i in $(seq 1 40); do
	[ "$(verdict "$TOK")" = validates-dane ] && break
	sleep 0.25
done
is "$(verdict "$TOK")" validates-dane "after grace_s: validates-dane"
ok "$([ $(( $(date +%s) - at )) -ge 2 ]; echo $?)" "... not before grace_s after do"
is "$(api GET "/api/tests/$(tr a-f A-F <<<"$TOK")" | cut -d' ' -f1)" 200 "GET with the token in upper case: 200"

# ---- a test that does not validate (wrong arrived)
create
send V2- "$A_DO $A_DONT $A_WRONG"
is "$(verdict "$TOK")" no-dane "do, dont and wrong arrived: no-dane at once"

# ---- dont only: cannot-deliver-dane after the grace
create
send V3- "$A_DONT"
is "$(verdict "$TOK")" pending "dont alone, within the grace: pending"
sleep 2.2
is "$(verdict "$TOK")" cannot-deliver-dane "dont alone, after grace_s: cannot-deliver-dane"

# ---- bad tokens
out=$(api GET /api/tests/xyz)
is "${out%% *}" 400 "a malformed token: 400"
like "$(j "${out#* }" 'd["error"]')" "malformed" "... with a JSON error"
forged=${TOK:0:39}$(printf '%x' $(( (16#${TOK:39:1} + 1) % 16 )))
is "$(api GET "/api/tests/$forged" | cut -d' ' -f1)" 404 "a forged token (MAC digit changed): 404"
expired=$("$PYTHON" - "$H/token.key" <<'PY'
import hmac, hashlib, os, struct, sys, time
key = open(sys.argv[1], "rb").read()
raw = struct.pack(">I", int(time.time()) - 700) + os.urandom(6)
print((raw + hmac.new(key, raw, hashlib.sha256).digest()[:10]).hex())
PY
)
is "$(api GET "/api/tests/$expired" | cut -d' ' -f1)" 404 "an expired token (genuine MAC, older than token_ttl_s): 404"
other=$("$PYTHON" -c 'import os; print(os.urandom(20).hex())')
is "$(api GET "/api/tests/$other" | cut -d' ' -f1)" 404 "a random token: 404"
is "$(api GET "/api/tests/$TOK/x" | cut -d' ' -f1)" 400 "a token with a path after it: 400"

# ---- methods and paths
is "$(api GET /api/tests | cut -d' ' -f1)" 405 "GET /api/tests: 405"
is "$(api DELETE "/api/tests/$TOK" | cut -d' ' -f1)" 405 "DELETE a test: 405"
is "$(api GET /nothing | cut -d' ' -f1)" 404 "an unknown path: 404"

# ---- the rate limit: 5 per minute, 3 used above
codes=""
for i in 1 2 3 4; do codes="$codes $(api POST /api/tests | cut -d' ' -f1)"; done
is "$codes" " 201 201 429 429" "a flood of creations: the 6th and later in the minute get 429"
ra=$(curl -s -m 10 -D - -o /dev/null -X POST "$URL/api/tests" | tr -d '\r' | sed -n 's/^Retry-After: //Ip')
ok "$([ -n "$ra" ] && [ "$ra" -ge 1 ] && [ "$ra" -le 60 ]; echo $?)" "... with Retry-After ($ra s)"

# ---- bounded requests
big=$(head -c 2000 /dev/zero | tr '\0' x)
is "$(api GET "/api/tests/$TOK" --data-binary "$big" -X GET | cut -d' ' -f1)" 413 "a 2000-byte body: 413"
hdr=$(head -c 20000 /dev/zero | tr '\0' y)
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -H "X-Big: $hdr" "$URL/api/tests/$TOK")
like "$code" '^(413|414|431)$' "a 20 kB header: refused ($code)"
t1=$(now_ms)
out=$("$PYTHON" - "$WEB_PORT" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=15)
s.sendall(b"GET /api/tests/")
t = time.time()
try:
    data = s.recv(100)
except socket.timeout:
    data = b"timeout"
print("closed" if data == b"" else repr(data[:40]))
PY
)
t2=$(now_ms)
is "$out" closed "a request never finished: the connection is closed"
ok "$([ $((t2 - t1)) -ge 1500 ] && [ $((t2 - t1)) -le 8000 ]; echo $?)" "... after about timeout_ms = 2000 ($((t2 - t1)) ms)"
is "$(api GET "/api/tests/$TOK" | cut -d' ' -f1)" 200 "the server still answers"
kill -0 "$DAEMON_PID"
ok $? "the daemon is alive"
daemon_stop
is "$?" 0 "SIGTERM: clean exit"
unlike "$(cat "$LOG")" "ERROR: AddressSanitizer|runtime error" "no sanitizer report"

done_testing
