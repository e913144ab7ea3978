#!/usr/bin/env bash
# stsstore.sh: cached MTA-STS policies outlive verdict churn (RFC 8461
# §5.1, §10.2: a policy is kept for its max_age). With cache.max_entries
# = 3, distinct domains asked through the socketmap and as MAIL FROM
# domains through the milter flush every verdict; an attacker then
# breaks the policy host (HTTP 500 under a new TXT id) or removes the
# _mta-sts TXT record; the verdicts expire (max_ttl = 2 s), and the
# domains must still get "OK secure match=...", also after a restart
# from cache.file with the policy host still broken (the wait after the
# failed fetch survives it too). A cache file of the previous version
# (the policy inside its "e" line) still loads. Then the store's own
# bound, cache.max_policies: the least recently used policy goes, with a
# warning and danemilter_mtasts_policy_evictions_total; and a policy past
# its max_age is dropped. Needs root (the world), curl, miltertest. ~25 s.
# shellcheck disable=SC2153 # the WORLD_* variables come from world.env
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed"; exit 0; }
command -v miltertest >/dev/null || { echo "1..0 # SKIP miltertest is not installed"; exit 0; }

world_start
CONF="$WORLD/d.conf"
LOG="$WORLD/daemon.log"
ACCESS="$WORLD_STS_DIR/access.log"
CACHE="$WORLD/cache"
world() { bash "$top_srcdir/tests/world/world.sh" "$1" "$WORLD" "${@:2}" >/dev/null; }

METRICS_PORT=$(free_port)
M_EXTRA='authserv_id = "mx.test";' daemon_conf "$CONF" \
	"metrics = { listen = \"inet:127.0.0.1:$METRICS_PORT\"; };" \
	"cache = { file = \"$CACHE\"; max_entries = 3; min_ttl = 1; max_ttl = 2; error_ttl = 1; save_interval = 0; };" \
	'domains = ( { name = "*"; log_resolution = true; } );'
while [ "$METRICS_PORT" = "$DAEMON_PORT" ] || [ "$METRICS_PORT" = "$MILTER_PORT" ]; do
	old=$METRICS_PORT; METRICS_PORT=$(free_port)
	sed -i "s/127\\.0\\.0\\.1:$old\";/127.0.0.1:$METRICS_PORT\";/" "$CONF"
done

# start CONF: daemon_start, and wait for the metrics listener (moved to
# another port when someone took it meanwhile).
start() {
	local try
	for try in 1 2 3; do
		daemon_start "$CONF" "$LOG"
		for _ in $(seq 1 100); do
			ss -Hltnp "sport = :$METRICS_PORT" 2>/dev/null | grep -q "pid=$DAEMON_PID," && return 0
			kill -0 "$DAEMON_PID" 2>/dev/null || break
			sleep 0.05
		done
		grep -q "metrics: inet:127.0.0.1:$METRICS_PORT: bind" "$LOG" || break
		kill "$DAEMON_PID" 2>/dev/null; wait "$DAEMON_PID" 2>/dev/null
		old=$METRICS_PORT; METRICS_PORT=$(free_port)
		sed -i "s/127\\.0\\.0\\.1:$old\";/127.0.0.1:$METRICS_PORT\";/" "$CONF"
	done
	sed 's/^/# /' "$LOG"
	bail "no metrics listener on port $METRICS_PORT"
}
S=""
scrape() { S=$(curl -sS --max-time 5 "http://127.0.0.1:$METRICS_PORT/metrics"); }
val() { printf '%s\n' "$S" | awk -v k="$1" '$1 == k { print $2 }'; }
expect() {      # expect KEY WANT-OUTPUT WANT-RC DESC
	local out rc
	out=$(pm QUERY "$1" 2>&1); rc=$?
	is "$rc:$out" "$3:$2" "$4"
}
js() {          # js DOMAIN EXPR: a python expression over the JSON verdict "d"
	pm JSON "$1" 2>/dev/null | "$PYTHON" -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$2"
}
fetches() { grep -c "host=mta-sts.$1 " "$ACCESS" 2>/dev/null || true; }
# flood TAG N: N distinct domains through the socketmap and N as MAIL FROM
# domains through the milter (one message each, aborted), then wait until
# every resolution is over.
flood() {
	local i lua=""
	for i in $(seq 1 "$2"); do pm QUERY "$1-sm$i.sts.test" >/dev/null 2>&1; done
	for i in $(seq 1 "$2"); do
		lua="$lua
check(mt.mailfrom(conn, '<x@$1-mf$i.sts.test>') == nil, 'MAIL FROM $1-mf$i.sts.test', nil)
check(mt.abort(conn) == nil, 'abort', nil)"
	done
	mt_script "$WORLD/flood-$1.lua" "
local conn = mt.connect('inet:$MILTER_PORT@127.0.0.1')
check(conn ~= nil, 'connect', conn)
check(mt.conninfo(conn, 'client.example', '192.0.2.1') == nil, 'conninfo', nil)
$lua
mt.disconnect(conn)
"
	mt_tap "$WORLD/flood-$1.lua" $((2 + 2 * $2)) "flood $1 through the milter: "
	for _ in $(seq 1 50); do
		[ "$(grep -c "Starting new query for MX $1-mf$2.sts.test:" "$LOG")" -ge 1 ] && break
		sleep 0.1
	done
	sleep 0.5
}

SECURE_E="secure match=mx.enforce.sts.test:.backup.sts.test servername=hostname"
SECURE_C="secure match=mx.changing.sts.test servername=hostname"

start
expect enforce.sts.test "$SECURE_E" 0 "enforce.sts.test: its policy is fetched"
expect changing.sts.test "$SECURE_C" 0 "changing.sts.test: its policy is fetched"
is "$(fetches enforce.sts.test)/$(fetches changing.sts.test)" "1/1" "one fetch each"

# --- the attacker: enforce's policy host answers 500 and a new TXT id
# asks for a fetch; changing's TXT record is gone and its host answers 500
world sts-mode enforce.sts.test status:500
world sts-set enforce.sts.test enforce2
world sts-mode changing.sts.test status:500
world sts-set changing.sts.test -

# --- anyone who can open an SMTP session flushes the verdict cache
flood a 6
scrape
ev=$(val danemilter_cache_evictions_total)
ok "$([ "${ev:-0}" -ge 2 ]; echo $?)" "the flood evicted verdicts (cache_evictions_total $ev)"
is "$(( ${ev:-0} + $(val danemilter_cache_entries) ))" 14 "... 14 domains passed through a cache of 3"
sleep 2.1                       # any verdict left has expired (max_ttl = 2)

expect enforce.sts.test "$SECURE_E" 0 \
	"verdicts flushed and expired, policy host broken, new TXT id: still OK secure (the cached policy)"
like "$(grep "host=mta-sts.enforce.sts.test " "$ACCESS" | tail -1)" " 500 " \
	"... and the refresh for the new id really hit the broken policy host"
expect changing.sts.test "$SECURE_C" 0 \
	"verdicts flushed and expired, TXT record gone, policy host broken: still OK secure"
is "$(js changing.sts.test 'd["mta_sts"]+" "+d["mta_sts_detail"]["id"]')" "enforce changing1" \
	"... the policy kept is the one fetched (id changing1)"

# The milter sees the same policy (MAIL FROM enforce.sts.test).
mt_script "$WORLD/sender.lua" "
local conn = mt.connect('inet:$MILTER_PORT@127.0.0.1')
check(conn ~= nil, 'connect', conn)
check(mt.conninfo(conn, 'client.example', '192.0.2.1') == nil, 'conninfo', nil)
mt.macro(conn, SMFIC_MAIL, 'i', 'STS1', '{tls_version}', 'TLSv1.3', '{cipher}', 'TLS_AES_128_GCM_SHA256', '{cipher_bits}', '128')
check(mt.mailfrom(conn, '<a@enforce.sts.test>') == nil, 'MAIL', nil)
check(mt.rcptto(conn, '<b@changing.sts.test>') == nil, 'RCPT', nil)
check(mt.eom(conn) == nil, 'EOM', nil)
check(mt.eom_check(conn, MT_HDRINSERT, 'X-DANE-Sender', 'mx.test; domain=enforce.sts.test; policy=secure; dane=none; mta-sts=enforce'),
	'X-DANE-Sender: enforce.sts.test is secure by its cached MTA-STS policy', nil)
check(mt.eom_check(conn, MT_HDRINSERT, 'X-DANE-Recipient', 'mx.test; domain=changing.sts.test; policy=secure; source=mta-sts; dane=none; mta-sts=enforce'),
	'X-DANE-Recipient: changing.sts.test is secure by its cached MTA-STS policy', nil)
mt.disconnect(conn)
"
mt_tap "$WORLD/sender.lua" 7 "milter: "

# --- a restart from cache.file, the policy hosts still broken
daemon_stop
is "$?" 0 "clean exit (the cache file is saved)"
n_e=$(fetches enforce.sts.test)
: >"$LOG"
start
flood b 3
sleep 2.1                       # the loaded verdicts have expired (clamped to max_ttl)
expect enforce.sts.test "$SECURE_E" 0 "after a restart, a flood and the verdict's expiry: still OK secure"
expect changing.sts.test "$SECURE_C" 0 "... and so is changing.sts.test (no TXT record, host broken)"
is "$(fetches enforce.sts.test)" "$n_e" \
	"the failed id enforce2 is not fetched again: the 5-minute wait survived the restart"
daemon_stop
is "$?" 0 "clean exit"

# --- a cache file of the previous version: the policy inside the "e"
# line. The file's policy names another MX, so it shows where it came
# from; crlf.sts.test's host is broken (TXT id crlf1 unchanged).
world sts-mode crlf.sts.test status:500
now=$(date +%s)
body=$(printf 'version: STSv1\nmode: enforce\nmx: mx.fromfile.sts.test\nmax_age: 86400\n' | od -An -v -tx1 | tr -d ' \n')
{
	echo "danemilter-cache 1"
	echo "e crlf.sts.test 0 0 0 - 3 0 - $((now + 86000)) 0 crlf1 $((now - 100)) $body"
} >"$CACHE"
: >"$LOG"
start
expect crlf.sts.test "secure match=mx.fromfile.sts.test servername=hostname" 0 \
	"a policy from a cache file of the previous version applies (id unchanged, no fetch)"
unlike "$(cat "$LOG")" "malformed" "... and the old file loads without a warning"
daemon_stop
is "$?" 0 "clean exit"

# --- the store's own bound: cache.max_policies = 2; and max_age
world sts-mode crlf.sts.test ok
sed -i "s|^cache = { file = \"$CACHE\"; max_entries = 3;|cache = { file = \"$WORLD/cache2\"; max_entries = 100; max_policies = 2;|" "$CONF"
: >"$LOG"
start
expect testing.sts.test "" 1 "testing.sts.test: a policy (mode testing)"
expect none.sts.test "" 1 "none.sts.test: a policy (mode none)"
expect crlf.sts.test "secure match=mx.crlf.sts.test servername=hostname" 0 "crlf.sts.test: a third policy"
scrape
is "$(val danemilter_mtasts_policies):$(val danemilter_mtasts_policy_evictions_total)" "2:1" \
	"max_policies = 2: two policies kept, one evicted"
like "$(grep "max_policies" "$LOG")" "testing\\.sts\\.test" \
	"the eviction of the least recently used policy (testing.sts.test) is logged"

printf 'version: STSv1\nmode: enforce\nmx: mx.badcert.sts.test\nmax_age: 3\n' >"$WORLD/short-policy"
world sts-set badcert.sts.test badcert2 "$WORLD/short-policy"
sleep 1.1
expect badcert.sts.test "secure match=mx.badcert.sts.test servername=hostname" 0 "a policy with max_age 3"
world sts-mode badcert.sts.test status:500
world sts-set badcert.sts.test -
sleep 3.2
expect badcert.sts.test "" 1 "past its max_age, TXT gone, host broken: the policy no longer applies"
is "$(js badcert.sts.test 'd["mta_sts"]')" absent "... mta-sts=absent"
scrape
is "$(val danemilter_mtasts_policies)" 1 "... and it left the store"
daemon_stop
is "$?" 0 "clean exit"
done_testing
