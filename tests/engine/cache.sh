#!/usr/bin/env bash
# cache.sh: the verdict cache's policies, seen from outside through the
# daemon's resolution log: least-recently-used eviction past max_entries,
# popular entries refreshed before they expire (askers never wait), and
# temporary errors held for error_ttl only; the cache file keeps a
# verdict's MX host detail across a restart, and a hostile one is refused.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

world_start
CONF="$WORLD/d.conf"
LOG="$WORLD/daemon.log"
mx_queries() { grep -c "Starting new query for MX $1:" "$LOG"; }

# max_ttl = 8 s: entries live 8 s, refreshed ahead in their last 4 s; DNS
# queries give up after 500 ms (the lame case below stays quick).
daemon_conf "$CONF" 'cache = { max_entries = 2; max_ttl = 8; min_ttl = 1; error_ttl = 4; };' \
	'domains = ( { name = "*"; log_resolution = true; } );'
sed -i -e 's/^mta_sts = { ca_file[^}]*};$/mta_sts = { enabled = false; };/' \
	-e 's/timeout_ms = 3000;/timeout_ms = 500;/' -e 's/level = "info"/level = "debug"/' "$CONF"
daemon_start "$CONF" "$LOG"

# --- eviction: a, b, c with room for 2 -> a is gone, b and c stay
pm QUERY usable.dane.test >/dev/null
pm QUERY partial.dane.test >/dev/null
pm QUERY four.dane.test >/dev/null
pm QUERY partial.dane.test >/dev/null
pm QUERY four.dane.test >/dev/null
is "$(mx_queries partial.dane.test)/$(mx_queries four.dane.test)" "1/1" "the two most recent entries stay cached"
pm QUERY usable.dane.test >/dev/null
is "$(mx_queries usable.dane.test)" 2 "the least recently used entry was evicted (resolved again)"

# --- refresh ahead: asked twice in the last part of its life (before it
# expires, so both are hits) -> resolved again in the background; asked on
# past the original expiry, never a miss: every resolution after the first
# is a refresh ahead, so no asker waits
refreshes() { grep -c "cache: four.dane.test asked [0-9]* times near its expiry: refreshing ahead" "$LOG"; }
t_first=$(now_ms)
sleep 4.2
pm QUERY four.dane.test >/dev/null; pm QUERY four.dane.test >/dev/null
for i in $(seq 1 30); do [ "$(mx_queries four.dane.test)" -ge 2 ] && break; sleep 0.1; done
is "$(mx_queries four.dane.test)/$(refreshes)" "2/1" "a popular entry is refreshed before it expires (both asks were hits)"
while [ $(( $(now_ms) - t_first )) -lt 9500 ]; do pm QUERY four.dane.test >/dev/null; sleep 0.3; done
is "$(pm QUERY four.dane.test)" dane-only "asked on past the original expiry: answered"
is "$(( $(mx_queries four.dane.test) - 1 ))" "$(refreshes)" "... and every resolution after the first was a refresh ahead, not a miss"

# --- temporary errors are held briefly (error_ttl = 4 s: postmap itself
# sleeps 1 s after a TEMP reply, and a loaded sanitizer run is slow), not for a TTL
pm QUERY lame.test >/dev/null 2>&1
pm QUERY lame.test >/dev/null 2>&1
is "$(mx_queries lame.test)" 1 "a TEMP verdict is cached for a moment"
sleep 4.5
pm QUERY lame.test >/dev/null 2>&1
is "$(mx_queries lame.test)" 2 "... and retried after error_ttl"

# --- more lookups in flight than max_entries: the new entry is not evicted
pm QUERY dead.test >/dev/null 2>&1 &
p1=$!
pm QUERY sub.lame.test >/dev/null 2>&1 &
p2=$!
sleep 0.2
is "$(pm QUERY nodata.dane.test 2>&1; echo "rc=$?")" "rc=1" "a new domain while every entry is busy: answered (NOTFOUND)"
wait "$p1" "$p2"
ok "$(kill -0 "$DAEMON_PID" 2>/dev/null; echo $?)" "... and the daemon lives on"

daemon_stop
is "$?" 0 "clean exit"

# --- a hostile cache file: malformed lines skipped with a warning, a
# forged far-future expiry clamped to max_ttl (8 s here)
big=$(printf '%064d' 0 | tr 0 z)
{
	echo "danemilter-cache 1"
	echo "e usable.dane.test 99999999999 3 0 - 3 0 - 0 0 - 0 -"
	echo "e partial.dane.test 1 2 3"
	echo "e bad..name 99999999999 3 0 - 3 0 - 0 0 - 0 -"
	echo "e four.dane.test 99999999999 3 0 zz 3 0 - 0 0 - 0 -"
	echo "e four.dane.test 99999999999 3 0 $big 3 0 - 0 0 - 0 -"
	printf 'e four.dane.test 9999\0 3 0 - 3 0 - 0 0 - 0 -\n'
} >"$WORLD/hostile.cache"
sed -i "s|cache = { max_entries = 2;|cache = { file = \"$WORLD/hostile.cache\"; max_entries = 100;|" "$CONF"
: >"$LOG"
daemon_start "$CONF" "$LOG"
is "$(grep -c "malformed entry ignored" "$LOG")" 5 "five malformed lines, five warnings; the daemon starts"
expect_out=$(pm QUERY usable.dane.test 2>&1; echo "rc=$?")
is "$expect_out" "rc=1" "the forged verdict (dane none for usable.dane.test) is served while it lasts..."
sleep 9
is "$(pm QUERY usable.dane.test 2>&1)" dane-only "... but its forged far-future expiry was clamped to max_ttl"
daemon_stop
is "$?" 0 "clean exit"

# --- the cache file keeps a verdict's MX host detail across a restart
# (version 2, DETAIL): the restarted daemon, its DNS pointed where nothing
# answers, shows the hosts the resolver found (socketmap JSON)
hosts_json() {
	pm JSON "$1" 2>/dev/null | "$PYTHON" -c '
import json, sys
d = json.load(sys.stdin)["dane_detail"]
print(d["mx_dnssec"], d["rounds"], [(h["name"], h["addresses"], h["tlsa_state"],
    [t["data"] for t in h["tlsa"]]) for h in d["hosts"]])'
}
CF="$WORLD/detail.cache"
daemon_conf "$CONF" "cache = { file = \"$CF\"; };" 'domains = ( { name = "*"; log_resolution = true; } );'
sed -i -e 's/^mta_sts = { ca_file[^}]*};$/mta_sts = { enabled = false; };/' "$CONF"
: >"$LOG"
daemon_start "$CONF" "$LOG"
j1=$(hosts_json usable.dane.test)
like "$j1" "^secure [0-9]+ \\[\\('mx1.usable.dane.test', \\['[0-9.]+', '::1'\\], 'usable', \\['[0-9A-F]{64}'\\]\\)\\]\$" \
	"usable.dane.test resolved: its MX host, addresses and TLSA record in the JSON"
daemon_stop
is "$?" 0 "clean exit (the cache file saved)"
is "$(head -n 1 "$CF")" "danemilter-cache 2" "the cache file is of version 2"
like "$(awk '$1 == "e" && $2 == "usable.dane.test" { print $15 }' "$CF")" '^d,1,0,-,0,[0-9]+,[0-9]+,[0-9]+;h,10,' \
	"... and usable.dane.test's line carries its MX hosts (DETAIL)"
sed -i "s/\"$WORLD_NS@53\"/\"$WORLD_DEAD@53\"/" "$CONF"
: >"$LOG"
daemon_start "$CONF" "$LOG"
is "$(hosts_json usable.dane.test)" "$j1" "restarted without DNS: the same MX host detail, from the file"
is "$(mx_queries usable.dane.test)" 0 "... not resolved again"
daemon_stop
is "$?" 0 "clean exit"

# --- a hostile DETAIL: the line is malformed (a warning), never a crash
many=$(for i in $(seq 1 17); do printf ';h,%d,6d78,-,1,0,0,-,-,-,-,-' "$i"; done)
{
	echo "danemilter-cache 2"
	echo "e partial.dane.test 99999999999 1 300 - 3 0 - 0 0 - 0 - d,1,0,-,0,1,1,1;h,10,zz,-,1,0,0,-,-,-,-,-"
	echo "e partial.dane.test 99999999999 1 300 - 3 0 - 0 0 - 0 - d,1,0,-,0,1,1,1;h,10,6d78,-,1,0,0,-,-,-,999.1.1.1,-"
	echo "e partial.dane.test 99999999999 1 300 - 3 0 - 0 0 - 0 - d,1,0,-,0,1,1,1$many"
	echo "e partial.dane.test 99999999999 1 300 - 3 0 - 0 0 - 0 - d,9,0,-,0,1,1,1"
	echo "e partial.dane.test 99999999999 1 300 - 3 0 - 0 0 - 0 - d,1,0,-,0,1,1,1;h,10,6d78,-,1,0,0,-,-,-,-,3.1.1.0.0.0"
	echo "e partial.dane.test 99999999999 1 300 - 3 0 - 0 0 - 0 - d,1,0,-,0,1,1,1;h,10,6d78,-,1,0,0,-,-,-,-,- extra"
} >"$CF"
: >"$LOG"
daemon_start "$CONF" "$LOG"
is "$(grep -c "malformed entry ignored" "$LOG")" 6 "six hostile DETAIL fields, six warnings; the daemon starts"
like "$(pm QUERY partial.dane.test 2>&1)" "temporary error" "... none of them became a verdict (its own lookup: TEMP without DNS)"
daemon_stop
is "$?" 0 "clean exit"
done_testing
