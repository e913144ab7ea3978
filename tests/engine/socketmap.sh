#!/usr/bin/env bash
# socketmap.sh: the daemon as Postfix's TLS policy server, asked by real
# Postfix (postmap -q ... socketmap:inet:...): the reply for every DANE
# domain of the signed world, key normalization, JSON, per-domain
# overrides, one resolution for many concurrent askers, cache hits,
# restart from the cache file with the DNS gone, and configuration reload.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

world_start
CONF="$WORLD/d.conf"
LOG="$WORLD/daemon.log"
# A fixed policy as long as a socketmap reply allows ("OK " + 99997 bytes).
BIGPOL=$("$PYTHON" -c 'n = 99997 - len("secure match= servername=hostname"); print("secure match=" + ("a" * 60 + ".") * (n // 61) + "b" * (n % 61) + " servername=hostname")')
SM_EXTRA="io_timeout_ms = 1000; idle_timeout_ms = 3000;" daemon_conf "$CONF" "cache = { file = \"$WORLD/cache.dat\"; };" \
	'domains = ( { name = "*"; log_resolution = true; },
	  { name = "bigfixed.test"; policy = "'"$BIGPOL"'"; },
	  { name = "notlsa.dane.test"; policy = "encrypt"; },
	  { name = "nodata.dane.test"; require = "dane"; },
	  { name = "dead.test"; policy = "may"; } );'
daemon_start "$CONF" "$LOG"

# --- the policy for each DANE row (NOTFOUND: exit 1, nothing printed)
expect() {      # expect NAME KEY WANT-OUTPUT WANT-RC DESC
	local out rc
	out=$(pm "$1" "$2" 2>&1); rc=$?
	is "$rc:$out" "$4:$3" "$5"
}
expect QUERY usable.dane.test dane-only 0 "usable: OK dane-only"
expect QUERY partial.dane.test dane 0 "partial: OK dane"
expect QUERY unusable.dane.test dane 0 "unusable: OK dane"
expect QUERY implicit.dane.test dane-only 0 "implicit MX: OK dane-only"
expect QUERY cnamehost.dane.test dane-only 0 "MX host CNAME: OK dane-only"
expect QUERY tlsacname.dane.test dane-only 0 "TLSA owner CNAME: OK dane-only"
expect QUERY unsigned.test "" 1 "insecure: NOTFOUND"
expect QUERY bücher.dane.test dane-only 0 "a UTF-8 key (Postfix with smtputf8_enable): its A-label's policy"
# (postmap refuses a key that is not UTF-8 itself: sent as a raw netstring)
raw=$("$PYTHON" - "$DAEMON_PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
q = b"QUERY b\xfccher.dane.test"
s.sendall(b"%d:%s," % (len(q), q))
print(s.recv(200).decode("latin-1"))
PY
)
is "$raw" "9:NOTFOUND ," "a key that is not UTF-8 (a Latin-1 byte): NOTFOUND, the connection goes on"
expect QUERY nullmx.dane.test "" 1 "null MX: NOTFOUND"
expect QUERY insecurehost.dane.test "" 1 "insecure MX host: NOTFOUND"
# postmap exits 1 for NOTFOUND (silently) and for errors (with a message).
out=$(pm QUERY bogus.test 2>&1)
like "$out" "socketmap server temporary error: DANE bogus: MX bogus\.test: DNSSEC validation failed" \
	"bogus: TEMP with the validator's reason (Postfix defers, never downgrades)"
t0=$(now_ms)
out=$(pm QUERY lame.test 2>&1)
t1=$(now_ms)
like "$out" "socketmap server temporary error: DANE temperror: MX lame\.test: timeout" "lame delegation: TEMP"
ok "$([ $((t1 - t0)) -lt 8000 ]; echo $?)" "lame delegation answered within the DNS bound ($((t1 - t0)) ms, 3 s of it DNS)"

# --- overrides from the domains list
expect QUERY notlsa.dane.test encrypt 0 "fixed policy from the configuration wins"
expect QUERY nodata.dane.test dane-only 0 "require = dane without DANE: dane-only"
t0=$(now_ms)
expect QUERY dead.test may 0 "a fixed policy wins even over a lookup error"
t1=$(now_ms)
ok "$([ $((t1 - t0)) -lt 1500 ]; echo $?)" "... and is answered at once, without waiting for DNS ($((t1 - t0)) ms)"
out=$(pm QUERY bigfixed.test 2>&1); rc=$?
is "$rc:${#out}" "0:99997" "a fixed policy of 99997 bytes (a whole 100000-byte reply): answered whole"
ok "$([ "$out" = "$BIGPOL" ]; echo $?)" "... exactly as configured"

# --- keys
expect QUERY USABLE.Dane.Test. dane-only 0 "key lower-cased, trailing dot dropped"
expect QUERY '[usable.dane.test]' "" 1 "[host]: NOTFOUND"
expect QUERY '[usable.dane.test]:25' "" 1 "[host]:port: NOTFOUND"
expect QUERY usable.dane.test:25 "" 1 "host:port: NOTFOUND"
expect QUERY .dane.test "" 1 ".parent: NOTFOUND"
expect QUERY 192.0.2.1 "" 1 "IPv4 literal: NOTFOUND"
expect QUERY 'bad..name' "" 1 "invalid name: NOTFOUND"

# --- request names
expect QUERYwithTLSRPT usable.dane.test dane-only 0 "QUERYwithTLSRPT for a DANE domain: no extra attributes (Postfix reports DANE itself)"
json=$(pm JSON partial.dane.test 2>&1)
is "$(printf '%s' "$json" | "$PYTHON" -c 'import json,sys; d=json.load(sys.stdin); print(d["domain"], d["policy"], d["dane"], d["source"], len(d["dane_detail"]["hosts"]))')" \
	"partial.dane.test dane partial dane 2" "JSON: the whole verdict"
out=$(pm FOO usable.dane.test 2>&1)
like "$out" "socketmap server permanent error: unknown request name" "unknown request name: PERM"

# --- many concurrent askers, one resolution; then cache hits
before=$(grep -c "Starting new query for MX four.dane.test:" "$LOG")
pids=""
for i in $(seq 1 20); do pm QUERY four.dane.test >"$WORLD/c.$i" 2>&1 & pids="$pids $!"; done
# shellcheck disable=SC2086
wait $pids
same=0
for i in $(seq 1 20); do [ "$(cat "$WORLD/c.$i")" = dane-only ] && same=$((same + 1)); done
is "$same" 20 "20 concurrent askers all get dane-only"
after=$(grep -c "Starting new query for MX four.dane.test:" "$LOG")
is "$((after - before))" 1 "20 concurrent askers: one DNS resolution"
pm QUERY four.dane.test >/dev/null
is "$(grep -c "Starting new query for MX four.dane.test:" "$LOG")" "$after" "a cache hit makes no DNS query"

# --- reload: a new override applies; a broken file keeps the old config
sed -i 's/{ name = "notlsa.dane.test"; policy = "encrypt"; }/{ name = "notlsa.dane.test"; policy = "verify"; }/' "$CONF"
kill -HUP "$DAEMON_PID"
for i in $(seq 1 50); do grep -q "configuration reloaded" "$LOG" && break; sleep 0.1; done
expect QUERY notlsa.dane.test verify 0 "SIGHUP: the new override applies"
cp "$CONF" "$WORLD/good.conf"
printf 'dns = { timeout_ms = "x"; };\n' >>"$CONF"
kill -HUP "$DAEMON_PID"
for i in $(seq 1 50); do grep -q "reload refused" "$LOG" && break; sleep 0.1; done
like "$(cat "$LOG")" "reload refused, keeping the running configuration: .*d\\.conf:[0-9]+: " "SIGHUP with a broken file: refused with file and line"
expect QUERY notlsa.dane.test verify 0 "... and the running configuration keeps serving"
cp "$WORLD/good.conf" "$CONF"

# --- a reload while lookups are in flight (their engine is the old one)
pm QUERY lame.test >/dev/null 2>&1 &
inflight=$!
sleep 0.3
kill -HUP "$DAEMON_PID"
wait "$inflight"
sleep 0.5
ok "$(kill -0 "$DAEMON_PID" 2>/dev/null; echo $?)" "SIGHUP with a lookup in flight: the daemon lives on"
expect QUERY usable.dane.test dane-only 0 "... and answers"

# --- protocol abuse: the server stays responsive for a well-behaved client
"$PYTHON" "$top_srcdir/tests/socketmap_abuse.py" --io-timeout 1 --idle-timeout 3 127.0.0.1 "$DAEMON_PORT" >"$WORLD/abuse.tap" 2>&1
while read -r line; do
	case "$line" in
	"ok "*) ok 0 "abuse: ${line#ok * - }" ;;
	"not ok "*) ok 1 "abuse: ${line#not ok * - }" ;;
	esac
done <"$WORLD/abuse.tap"
ok "$(grep -q '^ok ' "$WORLD/abuse.tap"; echo $?)" "abuse script ran"
expect QUERY usable.dane.test dane-only 0 "after the abuse the server still answers"

# --- restart: verdicts survive through the cache file, with the DNS gone
pm QUERY usable.dane.test >/dev/null
expect QUERY hosted.unsigned.test dane 0 "unsigned MX, a signed host with usable TLSA: OK dane"
daemon_stop
is "$?" 0 "SIGTERM: clean exit"
like "$(cat "$LOG")" "stopping: saving the cache" "SIGTERM saves the cache"
ok "$(grep -q '^e usable\.dane\.test ' "$WORLD/cache.dat"; echo $?)" "the cache file holds the verdicts"
kill "$WORLD_NSD_PID"
: >"$LOG"
daemon_start "$CONF" "$LOG"
like "$(cat "$LOG")" "started: [1-9][0-9]* cache entries loaded" "restart: entries loaded from the cache file"
expect QUERY usable.dane.test dane-only 0 "restart: usable.dane.test answered from the cache (NSD is stopped)"
expect QUERY partial.dane.test dane 0 "restart: partial.dane.test answered from the cache"
expect QUERY unsigned.test "" 1 "restart: NOTFOUND verdicts survive too"
like "$(pm QUERY hosted.unsigned.test 2>&1)" "socketmap server temporary error" \
	"restart: DANE at an unsigned MX's host is not saved as 'insecure' (that would read NOTFOUND): looked up again, TEMP without DNS"
unlike "$(cat "$LOG")" "Starting new query for MX (usable|partial)\\.dane\\.test" "restart: no DNS query for cached domains"

daemon_stop
is "$?" 0 "clean exit after the abuse"

# --- detached (no -f), started with relative paths: the pid file lands
# where asked and SIGHUP finds the configuration again after daemon() moved to /
cp "$CONF" "$WORLD/rel.conf"
sed -i 's|cache = { file = "[^"]*"; };||; s/log = { destination = "stderr"; level = "info"; };//' "$WORLD/rel.conf"
(cd "$WORLD" && "$DANEMILTER" -c rel.conf -p rel.pid)
is "$?" 0 "detached start: exit 0 once listening"
for i in $(seq 1 50); do [ -s "$WORLD/rel.pid" ] && break; sleep 0.1; done
ok "$([ -s "$WORLD/rel.pid" ]; echo $?)" "relative -p: the pid file is where it was asked for"
RELPID=$(cat "$WORLD/rel.pid" 2>/dev/null)
at_exit "kill $RELPID 2>/dev/null"
sed -i 's/{ name = "notlsa.dane.test"; policy = "[a-z]*"; }/{ name = "notlsa.dane.test"; policy = "secure"; }/' "$WORLD/rel.conf"
kill -HUP "$RELPID"
for i in $(seq 1 30); do [ "$(pm QUERY notlsa.dane.test 2>/dev/null)" = secure ] && break; sleep 0.1; done
expect QUERY notlsa.dane.test secure 0 "relative -c: SIGHUP reloads it after detaching"
kill -TERM "$RELPID"
for i in $(seq 1 50); do kill -0 "$RELPID" 2>/dev/null || break; sleep 0.1; done
ok "$([ ! -e "$WORLD/rel.pid" ]; echo $?)" "SIGTERM removes the pid file"

done_testing
