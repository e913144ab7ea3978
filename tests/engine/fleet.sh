#!/usr/bin/env bash
# fleet.sh: a fleet of danemilter daemons sharing one cache on a real
# redis-server (started here on loopback, stopped by PID; never the
# packaged service). A (the world's DNS, TCP + ACL user) resolves; B
# (a unix socket + ACL user, its DNS pointed at WORLD_DEAD where nothing
# answers) gives the same socketmap replies and milter headers from Redis,
# enforces an MTA-STS policy it never fetched, and TEMP for a domain it
# never saw. A member refused by AUTH goes on alone. Twenty concurrent asks
# for one cold domain across three members: one resolution and one
# policy fetch for the fleet. Redis stalled (SIGSTOP), stopped and
# started again under socketmap load: no failed reply, none later than
# shared_timeout_ms plus the resolution, sharing resumes. Garbage,
# truncated, old-format, unsigned, forged and moved values: misses,
# counted, never a verdict, no crash (a value of format version 1 too).
# ctl purge drops the fleet's value. B shows A's MX host detail (socketmap
# JSON: hosts, addresses, TLSA records) for the domains A resolved. Probe
# results are shared: Q (no DNS) gives P's probe=pass without probing (one
# STARTTLS connection in the MX server's log); a garbage probe value is a
# miss, counted, and S probes itself. A resolution that outlasts the
# lock's life (a policy server answering after 4.5 s): its holder renews
# the lock, the two other members wait for its value: one fetch, one
# resolution for the fleet.
# Needs root (the world), redis-server, redis-cli, curl, miltertest. ~75 s.
# shellcheck disable=SC2153 # the WORLD_* variables come from world.env
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

for t in redis-server redis-cli curl miltertest; do
	command -v $t >/dev/null || { echo "1..0 # SKIP $t is not installed"; exit 0; }
done

world_start
RPORT=$(free_port)
RSOCK="$WORLD/redis.sock"
R() { redis-cli -p "$RPORT" "$@"; }
redis_start() {
	redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no \
		--dir "$WORLD" --unixsocket "$RSOCK" --unixsocketperm 777 \
		--logfile "$WORLD/redis.log" --daemonize no &
	REDIS_PID=$!
	at_exit "kill -CONT $REDIS_PID 2>/dev/null; kill $REDIS_PID 2>/dev/null; wait $REDIS_PID 2>/dev/null"
	for _ in $(seq 1 100); do
		[ "$(R PING 2>/dev/null)" = PONG ] && break
		sleep 0.05
	done
	[ "$(R PING 2>/dev/null)" = PONG ] || bail "redis-server did not start on port $RPORT"
	R ACL SETUSER fleet on '>fleet-secret' '~danemilter:*' '+@all' >/dev/null
}
redis_start
printf 'fleet-secret\n' >"$WORLD/fleet.pass"
printf 'wrong-secret\n' >"$WORLD/wrong.pass"
openssl rand -hex 32 >"$WORLD/fleet.key"

# shared_timeout_ms 250, not the default 50: on a loaded 2-core machine a
# Redis reply can take longer than 50 ms, and a member then rightly goes
# alone (a second resolution where one is checked).
TMO=250
SH_TCP="shared_timeout_ms = $TMO; shared = \"redis://127.0.0.1:$RPORT/0\"; shared_user = \"fleet\"; shared_password_file = \"$WORLD/fleet.pass\"; shared_key_file = \"$WORLD/fleet.key\";"
SH_UNIX="shared_timeout_ms = $TMO; shared = \"unix:$RSOCK\"; shared_user = \"fleet\"; shared_password_file = \"$WORLD/fleet.pass\"; shared_key_file = \"$WORLD/fleet.key\";"
SH_BADAUTH="shared = \"redis://127.0.0.1:$RPORT\"; shared_user = \"fleet\"; shared_password_file = \"$WORLD/wrong.pass\"; shared_key_file = \"$WORLD/fleet.key\";"

# member NAME DNS(ok|dead|slowsts) CACHE-KEYS [MORE-CONFIG]: a daemon with
# its metrics; sets PORT_NAME, PID_NAME, CTL_NAME, MILTER_NAME,
# METRICS_NAME, LOG_NAME. slowsts: the world's DNS, mta_sts.timeout_ms 10 s.
member() {
	local n=$1 dns=$2 mp conf="$WORLD/$1.conf" log="$WORLD/$1.log"
	mp=$(free_port)
	M_EXTRA='authserv_id = "mx.test";' daemon_conf "$conf" \
		"metrics = { listen = \"inet:127.0.0.1:$mp\"; };" \
		"cache = { $3 };" \
		'domains = ( { name = "*"; log_resolution = true; } );' \
		"${4:-}"
	if [ "$dns" = dead ]; then
		sed -i "s/\"$WORLD_NS@53\"/\"$WORLD_DEAD@53\"/" "$conf"
		grep -q "$WORLD_DEAD@53" "$conf" || bail "$n: cannot point its DNS at $WORLD_DEAD"
	elif [ "$dns" = slowsts ]; then
		sed -i 's/^\(mta_sts = {.*\) timeout_ms = [0-9]*;/\1 timeout_ms = 10000;/' "$conf"
		grep -q '^mta_sts = {.* timeout_ms = 10000;' "$conf" || bail "$n: cannot set mta_sts.timeout_ms"
	fi
	daemon_start "$conf" "$log"
	for _ in $(seq 1 100); do
		curl -s --max-time 1 "http://127.0.0.1:$mp/metrics" >/dev/null && break
		sleep 0.05
	done
	eval "PORT_$n=$DAEMON_PORT PID_$n=$DAEMON_PID CTL_$n='$CTL_SOCKET' MILTER_$n=$MILTER_PORT METRICS_$n=$mp LOG_$n='$log'"
}
on() { eval "DAEMON_PORT=\$PORT_$1"; }          # pm asks member $1
metric() {      # metric MEMBER NAME
	local mp
	eval "mp=\$METRICS_$1"
	curl -s --max-time 5 "http://127.0.0.1:$mp/metrics" | awk -v k="$2" '$1 == k { print $2 }'
}
cstat() {       # cstat MEMBER FIELD (ctl stats)
	local s
	eval "s=\$CTL_$1"
	"$DANEMILTER" ctl -s "unix:$s" stats 2>/dev/null | awk -v k="$2" '$1 == k { print $2 }'
}
up_wait() {     # up_wait MEMBER WANT SECONDS
	local i
	for i in $(seq 1 $(($3 * 10))); do
		[ "$(metric "$1" danemilter_shared_cache_up)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
# headers MEMBER DOMAIN...: "DOMAIN|X-DANE-Sender|X-DANE-Recipient" per domain
headers() {
	local m=$1 port lua="$WORLD/hdr-$1.lua" d i=0
	shift
	eval "port=\$MILTER_$m"
	{
		echo 'dofile(os.getenv("MT_LIB"))'
		echo 'T.run(function()'
		echo '  local conn = T.connect("client.example", "192.0.2.1")'
		for d in "$@"; do
			i=$((i + 1))
			echo "  T.mail(conn, 'Q$i', '<s@$d>', T.TLS13)"
			echo "  T.rcpt(conn, 'Q$i', '<r@$d>')"
			echo "  T.eom(conn)"
			echo "  mt.echo('H|$d|' .. tostring(T.hdr(conn, 'X-DANE-Sender')) .. '|' .. tostring(T.hdr(conn, 'X-DANE-Recipient')))"
		done
		echo '  mt.disconnect(conn)'
		echo 'end)'
	} >"$lua"
	MT_LIB="$top_srcdir/tests/milter/lib.lua" MT_PORT=$port MT_AUTHSERV=mx.test \
		timeout 60 miltertest -s "$lua" 2>&1 | grep '^H|'
}

DOMAINS="usable.dane.test partial.dane.test enforce.sts.test unsigned.test nullmx.dane.test testing.sts.test"
SECURE_E="secure match=mx.enforce.sts.test:.backup.sts.test servername=hostname"

# ---- A resolves, B (dead DNS, unix socket) answers from Redis ----
member A ok "$SH_TCP"
member B dead "$SH_UNIX"
up_wait A 1 5; ok $? "A: danemilter_shared_cache_up 1 (TCP, ACL user fleet)"
up_wait B 1 5; ok $? "B: danemilter_shared_cache_up 1 (unix socket, ACL user fleet)"
on A
declare -A WANT
for d in $DOMAINS; do WANT[$d]="$(pm QUERY "$d" 2>&1; echo "rc=$?")"; done
is "${WANT[enforce.sts.test]}" "$SECURE_E
rc=0" "A: enforce.sts.test fetched and enforced"
is "${WANT[usable.dane.test]}" "dane-only
rc=0" "A: usable.dane.test OK dane-only"
hA=$(headers A $DOMAINS)
is "$(printf '%s\n' "$hA" | wc -l)" 6 "A: headers for the 6 domains"
like "$hA" "H\\|enforce.sts.test\\|mx.test; domain=enforce.sts.test; policy=secure; dane=none; mta-sts=enforce\\|" \
	"A: enforce.sts.test's sender header"
sleep 0.3       # the last publications are fire-and-forget
keys=$(R --scan --pattern 'danemilter:v:*' | sort | tr '\n' ' ')
is "$keys" "$(for d in $DOMAINS; do printf 'danemilter:v:%s\n' "$d"; done | sort | tr '\n' ' ')" \
	"Redis holds one value per domain A resolved"
ttl=$(R PTTL danemilter:v:usable.dane.test)
ok "$([ "$ttl" -gt 0 ] && [ "$ttl" -le 3600000 ]; echo $?)" "a value's Redis TTL is its remaining lifetime ($ttl ms)"
like "$(R GET danemilter:v:enforce.sts.test | head -1)" '^danemilter-shared 2 [0-9a-f]{64}$' \
	"a value: format version and HMAC-SHA256"
like "$(R GET danemilter:v:usable.dane.test | grep '^e ' | awk '{ print $15 }')" \
	'^d,1,0,-,0,[0-9]+,[0-9]+,[0-9]+;h,10,[0-9a-f]+,-,1,0,0,-,' \
	"a verdict's value carries its MX hosts (DETAIL: secure MX, host 10 secure with usable TLSA)"

# hosts DOMAIN: the socketmap JSON's MX host detail, one line per host
hosts() {
	pm JSON "$1" 2>/dev/null | "$PYTHON" -c '
import json, sys
d = json.load(sys.stdin)["dane_detail"]
print("mx_dnssec=%s implicit=%s cname=%s rounds=%s queries=%s" % (d["mx_dnssec"],
    d["implicit_mx"], d["cname"], d["rounds"], d["queries"]))
for h in d["hosts"]:
    print("%s %s addrs=%s dnssec=%s tlsa=%s base=%s why=%s records=%s" % (h["preference"],
        h["name"], ",".join(h["addresses"]), h["address_dnssec"], h["tlsa_state"],
        h["tlsa_base"], h["why"], " ".join("%s.%s.%s.%s.%s" % (t["usage"], t["selector"],
        t["mtype"], t["data"], t["status"]) for t in h["tlsa"])))'
}
declare -A WANTJ
for d in $DOMAINS; do WANTJ[$d]="$(hosts "$d")"; done
like "$(printf '%s\n' "${WANTJ[usable.dane.test]}" | tail -n +2)" \
	"^10 mx1.usable.dane.test addrs=[0-9.]+,::1 dnssec=secure tlsa=usable base=mx1.usable.dane.test why=None records=3.1.1.[0-9A-F]{64}.usable\$" \
	"A: usable.dane.test's JSON shows its MX hosts with addresses and TLSA records"

on B
for d in $DOMAINS; do
	is "$(pm QUERY "$d" 2>&1; echo "rc=$?")" "${WANT[$d]}" "B (no DNS) answers $d as A does"
done
hB=$(headers B $DOMAINS)
is "$hB" "$hA" "B's X-DANE-Sender and X-DANE-Recipient headers equal A's for the 6 domains"
for d in $DOMAINS; do
	is "$(hosts "$d")" "${WANTJ[$d]}" "B (no DNS) shows A's MX host detail for $d (socketmap JSON)"
done
is "$(grep -c "host=mta-sts.enforce.sts.test " "$WORLD_STS_DIR/access.log")" 1 \
	"the policy was fetched once (by A): B enforces a policy it never fetched"
is "$(cstat B cache_resolutions)" 0 "B resolved nothing"
t0=$(now_ms)
out=$(pm QUERY cnamehost.dane.test 2>&1)
like "$out" "temporary error" "B: TEMP for a domain A never resolved (the answers above came from Redis)"
ok "$([ $(($(now_ms) - t0)) -lt 6000 ]; echo $?)" "... within its DNS timeout ($(($(now_ms) - t0)) ms)"
is "$(metric B danemilter_shared_cache_hits_total)" 6 "B: shared_cache_hits_total 6"
ok "$([ "$(metric B danemilter_shared_cache_misses_total)" -ge 1 ]; echo $?)" "B: a miss for cnamehost.dane.test"

# ---- AUTH refused: the member goes on alone ----
member E ok "$SH_BADAUTH"
sleep 0.5
is "$(metric E danemilter_shared_cache_up)" 0 "E (wrong password): shared_cache_up 0"
like "$(cat "$LOG_E")" "shared cache: redis://127.0.0.1:$RPORT: AUTH refused: WRONGPASS" "E logs the refused AUTH"
on E
is "$(pm QUERY usable.dane.test 2>&1; echo "rc=$?")" "${WANT[usable.dane.test]}" "E resolves alone: the same answer"
is "$(cstat E cache_resolutions)" 1 "... by its own resolution"
kill "$PID_E"

# ---- twenty concurrent asks for one cold domain across three members ----
member C ok "$SH_TCP"
member D ok "$SH_TCP"
up_wait C 1 5 && up_wait D 1 5; ok $? "C and D: shared cache up"
r0=$(( $(cstat A cache_resolutions) + $(cstat C cache_resolutions) + $(cstat D cache_resolutions) ))
COLD=(tlsacname.dane.test changing.sts.test)
for d in "${COLD[@]}"; do
	rm -f "$WORLD"/cold.*
	pids=""
	for i in $(seq 1 20); do
		case $((i % 3)) in 0) m=A ;; 1) m=C ;; *) m=D ;; esac
		( on "$m"; out=$(pm QUERY "$d" 2>&1); echo "$out rc=$?" >"$WORLD/cold.$i" ) &
		pids="$pids $!"
	done
	# shellcheck disable=SC2086
	wait $pids
	is "$(cat "$WORLD"/cold.* | sort | uniq -c | awk '{ print $1 }')" 20 \
		"$d: 20 concurrent asks across A, C and D, one answer: $(head -1 "$WORLD/cold.1")"
	n=$(cat "$LOG_A" "$LOG_C" "$LOG_D" | grep -c "Starting new query for MX $d:")
	is "$n" 1 "$d: one MX resolution for the fleet (the members' resolution logs)"
	[ "$n" = 1 ] || cat "$LOG_A" "$LOG_C" "$LOG_D" | grep "shared cache:\|no value from the fleet" | sed 's/^/# /'
done
is "$(grep -c "host=mta-sts.changing.sts.test " "$WORLD_STS_DIR/access.log")" 1 \
	"changing.sts.test: one policy fetch for the fleet"
r1=$(( $(cstat A cache_resolutions) + $(cstat C cache_resolutions) + $(cstat D cache_resolutions) ))
is "$((r1 - r0))" 2 "two cold domains, two resolutions (ctl stats) across the three members"

# ---- planted values: misses, counted, never a verdict ----
good=$(R GET danemilter:v:usable.dane.test)
rej0=$(metric B danemilter_shared_cache_rejected_total)
plant() { printf '%s' "$2" | R -x SET "danemilter:v:$1" >/dev/null; }
plant garbage.dane.test "hello world"
plant truncated.dane.test "${good:0:60}"
plant oldformat.dane.test "danemilter-shared 0 -
$(printf '%s\n' "$good" | tail -n +2)"
# a genuine value of the previous format (version 1: no MX host detail),
# signed with the fleet's key: its version makes it a miss
v1payload=$(printf '%s\n' "$good" | tail -n +2 | sed 's/usable\.dane\.test/v1.dane.test/g' |
	awk '$1 == "e" { NF = 14 } { print }')
v1mac=$(printf '%s' "danemilter:v:v1.dane.test
$v1payload" | "$PYTHON" -c 'import hmac, hashlib, sys
print(hmac.new(open(sys.argv[1], "rb").read().rstrip(b"\r\n"), sys.stdin.buffer.read(), hashlib.sha256).hexdigest())' "$WORLD/fleet.key")
plant v1.dane.test "danemilter-shared 1 $v1mac
$v1payload"
plant unsigned.dane.test "danemilter-shared 1 -
$(printf '%s\n' "$good" | tail -n +2 | sed 's/usable\.dane\.test/unsigned.dane.test/')"
# the genuine value of usable.dane.test under another name: the HMAC covers the key
plant moved.dane.test "$good"
# a forged downgrade: usable.dane.test's own value rewritten to DANE "none" (3)
forged=$(printf '%s\n' "$good" | sed -E 's/^(e [^ ]+ [0-9]+) 0 /\1 3 /')
plant usable.dane.test "$forged"
on B
for d in garbage truncated oldformat v1 unsigned moved; do
	like "$(pm QUERY $d.dane.test 2>&1)" "temporary error" "B: a $d value is a miss (B's own lookup: TEMP), never a verdict"
done
R DEL danemilter:v:usable.dane.test >/dev/null
"$DANEMILTER" ctl -s "unix:$CTL_B" purge usable.dane.test >/dev/null 2>&1
sleep 0.3       # B's DEL (the purge) before the plant
plant usable.dane.test "$forged"
like "$(pm QUERY usable.dane.test 2>&1)" "temporary error" "B: a forged value (usable rewritten to none, bad HMAC) is no NOTFOUND: TEMP"
is "$(( $(metric B danemilter_shared_cache_rejected_total) - rej0 ))" 7 "B: rejected_total counts the 7 bad values"
like "$(grep 'shared cache: the value for v1.dane.test is rejected' "$LOG_B")" "another format version" \
	"B logs why (v1.dane.test: a value of format version 1)"
like "$(grep 'shared cache: the value for moved.dane.test is rejected' "$LOG_B")" "HMAC does not verify" \
	"B logs why (moved.dane.test: the HMAC does not verify)"
kill -0 "$PID_B"; ok $? "B still runs"

# ---- ctl purge drops the fleet's value ----
"$DANEMILTER" ctl -s "unix:$CTL_A" purge partial.dane.test >/dev/null 2>&1
sleep 0.2
is "$(R EXISTS danemilter:v:partial.dane.test)" 0 "ctl purge partial.dane.test on A drops it from Redis"

# ---- probe results are shared: Q (no DNS) takes P's and probes nothing ----
probes() {      # probes MEMBER: danemilter_probes_total, all results
	local mp
	eval "mp=\$METRICS_$1"
	curl -s --max-time 5 "http://127.0.0.1:$mp/metrics" |
		awk '/^danemilter_probes_total/ { s += $2 } END { print s + 0 }'
}
V6PORT=$(free_port)
h=mx.v6only.dane.test
"$PYTHON" "$top_srcdir/tests/world/smtp_server.py" --listen ::1 --port "$V6PORT" \
	--cert "$WORLD/certs/$h.chain.pem" --key "$WORLD/certs/$h.key" --mode ok \
	--log "$WORLD/v6smtp.log" >"$WORLD/v6smtp.out" 2>&1 &
V6PID=$!
at_exit "kill $V6PID 2>/dev/null"
for _ in $(seq 1 50); do ss -Hltn "sport = :$V6PORT" | grep -q . && break; sleep 0.1; done
conns() { grep -c ' connect$' "$WORLD/v6smtp.log"; }
PROBE="probe = { enabled = true; timeout_ms = 3000; port = $V6PORT; helo = \"fleet.test\"; };"
member P ok "$SH_TCP" "$PROBE"
member Q dead "$SH_UNIX" "$PROBE"
up_wait P 1 5 && up_wait Q 1 5; ok $? "P and Q (probes enabled): shared cache up"
hP=$(headers P v6only.dane.test)
like "$hP" "domain=v6only.dane.test; policy=dane-only; source=dane; dane=usable; mta-sts=[a-z]+; probe=pass\$" \
	"P probes v6only.dane.test's MX (::1 only): probe=pass"
sleep 0.3       # the publication is fire-and-forget
is "$(conns)" 1 "... one STARTTLS connection to the MX host"
pk=$(R --scan --pattern 'danemilter:probe:*')
like "$pk" '^danemilter:probe:[0-9a-f]{64}$' "P published its probe result"
pttl=$(R PTTL "$pk")
ok "$([ "$pttl" -gt 0 ] && [ "$pttl" -le 3600000 ]; echo $?)" \
	"... with its remaining lifetime as Redis TTL ($pttl ms, probe.ttl 3600 s)"
like "$(R GET "$pk" | head -1)" '^danemilter-shared 2 [0-9a-f]{64}$' "... format version and HMAC"
hQ=$(headers Q v6only.dane.test)
is "$hQ" "$hP" "Q (no DNS) gives P's X-DANE-Recipient, probe=pass included (verdict, hosts and probe from Redis)"
is "$(conns)" 1 "... and did not probe: still one connection to the MX host"
is "$(probes Q)" 0 "... Q's danemilter_probes_total 0"
# a garbage probe value: a miss, counted; the member probes itself
printf 'r 1 2 3' | R -x SET "$pk" >/dev/null
member S dead "$SH_UNIX" "$PROBE"
up_wait S 1 5; ok $? "S (no DNS, probes enabled): shared cache up"
is "$(headers S v6only.dane.test)" "$hP" "S: a garbage probe value in Redis: S probes itself, the same header"
is "$(conns)" 2 "... its own probe (two connections now)"
is "$(metric S danemilter_shared_cache_rejected_total)" 1 "... the value counted in rejected_total"
for m in P Q S; do
	eval "DAEMON_PID=\$PID_$m"
	daemon_stop; is "$?" 0 "$m stops cleanly"
done

# ---- a slow resolution: the holder renews the lock, the waiters wait ----
# badcert.sts.test's policy server answers after 4.5 s (sts_server.py
# delay:4.5): its resolution (unsigned DANE, then the MTA-STS fetch)
# outlasts the lock's 3 s life. Three members, nine concurrent asks: the
# holder renews its lock while it resolves, the two others wait for its
# value (before the lock was renewed they resolved themselves after
# shared_timeout_ms + 3 s: a second and a third fetch).
SLOW=badcert.sts.test
bash "$top_srcdir/tests/world/world.sh" sts-mode "$WORLD" "$SLOW" delay:4.5 >/dev/null ||
	bail "cannot make $SLOW's policy server slow"
# shared_timeout_ms 1000 here: a claim that times out under load makes
# its member go alone (rightly), which is not what this part checks.
SH_SLOW="${SH_TCP/shared_timeout_ms = $TMO;/shared_timeout_ms = 1000;}"
member F slowsts "$SH_SLOW"
member G slowsts "$SH_SLOW"
member H slowsts "$SH_SLOW"
up_wait F 1 5 && up_wait G 1 5 && up_wait H 1 5; ok $? "F, G and H (mta_sts.timeout_ms 10 s): shared cache up"
rm -f "$WORLD"/slow.*
pids=""
t0=$(now_ms)
for i in $(seq 1 9); do
	case $((i % 3)) in 0) m=F ;; 1) m=G ;; *) m=H ;; esac
	( on "$m"; out=$(pm QUERY "$SLOW" 2>&1); echo "$out rc=$?" >"$WORLD/slow.$i" ) &
	pids="$pids $!"
	[ "$i" = 1 ] && sleep 0.3     # G's first ask takes the lock
done
# shellcheck disable=SC2086
wait $pids
took=$(( $(now_ms) - t0 ))
is "$(cat "$WORLD"/slow.* | sort | uniq -c | awk '{ print $1 " " $2 }')" "9 secure" \
	"$SLOW: 9 concurrent asks across F, G and H, one answer: $(head -1 "$WORLD/slow.1")"
ok "$([ "$took" -gt 4000 ]; echo $?)" "... the resolution outlasted the lock's 3 s life ($took ms)"
is "$(grep -c "host=mta-sts.$SLOW " "$WORLD_STS_DIR/access.log")" 1 \
	"$SLOW: one policy fetch for the fleet: the lock was renewed, the waiters waited"
n=$(cat "$LOG_F" "$LOG_G" "$LOG_H" | grep -c "Starting new query for MX $SLOW:")
is "$n" 1 "$SLOW: one MX resolution (the members' resolution logs)"
[ "$n" = 1 ] || grep -H "$SLOW\|shared cache:" "$LOG_F" "$LOG_G" "$LOG_H" | sed "s|^$WORLD/||; s/^/# /" | head -40
is "$(( $(metric F danemilter_shared_cache_hits_total) + $(metric G danemilter_shared_cache_hits_total) + $(metric H danemilter_shared_cache_hits_total) ))" 2 \
	"... the two waiting members took the published value (shared_cache_hits_total 2)"
is "$(R EXISTS "danemilter:lock:$SLOW")" 0 "... and the holder dropped its lock"
for m in F G H; do
	eval "DAEMON_PID=\$PID_$m"
	daemon_stop; is "$?" 0 "$m stops cleanly"
done

# ---- Redis stalled, stopped and started under socketmap load ----
LOAD="$WORLD/load.out"
keys=(); for i in $(seq 1 400); do keys+=("ld$i.dane.test"); done
on C
"$PYTHON" "$top_srcdir/tests/faults/load.py" sm "$PORT_C" "$LOAD" "${keys[@]}" &
LPID=$!
at_exit "kill $LPID 2>/dev/null"
sleep 2
kill -STOP "$REDIS_PID"; tstop=$(now_ms)
sleep 3
kill -CONT "$REDIS_PID"; kill "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null; tkill=$(now_ms)
sleep 3
redis_start; tstart=$(now_ms)
up_wait C 1 8; ok $? "C: shared_cache_up back to 1 after the restart ($(( $(now_ms) - tstart )) ms)"
sleep 2
kill "$LPID"; wait "$LPID" 2>/dev/null
n=$(wc -l <"$LOAD")
bad=$(awk '$4 != "NOTFOUND" && $4 !~ /^OK/' "$LOAD" | head -3)
is "$bad" "" "no failed or TEMP reply in $n socketmap replies under load"
BOUND=$((TMO + 450))
for ph in "up $((tstop - 100000)) $tstop" "stalled $tstop $tkill" "stopped $tkill $tstart" "restarted $tstart 99999999999999"; do
	set -- $ph
	st=$(awk -v a="$2" -v b="$3" '$1 >= a && $1 < b { print $3 }' "$LOAD" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR == 0) { print "0 0 0 0"; exit }
			i = int((NR + 1) / 2); j = int(NR * 0.99 + 0.999); if (j > NR) j = NR
			print NR, v[i], v[j], v[NR] }')
	set -- $1 $st
	echo "# Redis $1: $2 replies, p50 $3 ms, p99 $4 ms, max $5 ms"
	ok "$([ "$2" -gt 0 ] && [ "$5" -le "$BOUND" ]; echo $?)" \
		"Redis $1: $2 replies, none later than $BOUND ms (max $5 ms)"
done
ok "$([ "$(metric C danemilter_shared_cache_errors_total)" -ge 1 ]; echo $?)" "C: the stall counted in shared_cache_errors_total"
on C
pm QUERY resumed.dane.test >/dev/null 2>&1
sleep 0.3
is "$(R EXISTS danemilter:v:resumed.dane.test)" 1 "sharing resumes: C publishes after the restart"
on B
is "$(pm QUERY resumed.dane.test 2>&1; echo "rc=$?")" "$(on C; pm QUERY resumed.dane.test 2>&1; echo "rc=$?")" \
	"... and B (no DNS, reconnected) answers from it"

for m in A B C D; do
	eval "DAEMON_PID=\$PID_$m"
	daemon_stop; is "$?" 0 "$m stops cleanly"
done
done_testing
