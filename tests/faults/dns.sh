#!/usr/bin/env bash
# dns.sh: the fault matrix's DNS faults. danemilter's stub for "." points at
# dnsproxy.py (WORLD_NET.8:53), which relays to the world's NSD; dns.timeout_ms
# is 1000 and the verdict cache keeps nothing longer than a second
# (cache.max_ttl = 1, error_ttl = 0), so every verdict is resolved again
# under the fault. While socketmap queries (usable.dane.test: DANE;
# enforce.sts.test: an MTA-STS policy cached before any fault) and messages
# through the world's inbound Postfix flow, each fault is switched on, the
# daemon reloaded (SIGHUP: a fresh libunbound, nothing left in its cache):
#   NSD answering SERVFAIL, NSD dropping every packet, answers delayed
#   3000 ms (past dns.timeout_ms), NSD stopped (killed by PID; restarted).
# Each time: a domain never asked before gets TEMP within dns.timeout_ms +
# 2 s (x2 under ASan), the load sees TEMP (the fault bites) and never a
# downgrade (never NOTFOUND or "secure" for usable.dane.test, never NOTFOUND
# for enforce.sts.test), RCPT to a require = "dane" domain is never
# accepted, every delivered message has our headers and none of the forged
# one; once the fault is gone, usable.dane.test is dane-only again.
# Needs root, postfix, python3. ~60 s.
# shellcheck disable=SC2153 # the WORLD_* variables come from world.env
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
. "$top_srcdir/tests/faults/lib.sh"

command -v postfix >/dev/null || { echo "1..0 # SKIP postfix is not installed"; exit 0; }

world_start
PROXY=$WORLD_NET.8
MODE=$WORLD/dnsmode
echo pass >"$MODE"
"$PYTHON" "$FAULTS/dnsproxy.py" --listen "$PROXY" --port 53 --upstream "$WORLD_NS:53" \
	--mode-file "$MODE" </dev/null >"$WORLD/dnsproxy.out" 2>"$WORLD/dnsproxy.log" &
PROXY_PID=$!
at_exit "kill $PROXY_PID 2>/dev/null; wait $PROXY_PID 2>/dev/null"
for i in $(seq 1 50); do grep -q listening "$WORLD/dnsproxy.out" && break; sleep 0.1; done
grep -q listening "$WORLD/dnsproxy.out" || bail "dnsproxy.py did not start: $(cat "$WORLD/dnsproxy.log")"

# The world's configuration, pointed at the proxy, with a 1 s DNS bound.
sed -i -e "s/\"$WORLD_NS@53\"/\"$PROXY@53\"/" -e 's/^  timeout_ms = [0-9]*;/  timeout_ms = 1000;/' \
	"$WORLD/danemilter.conf"
grep -q "$PROXY@53" "$WORLD/danemilter.conf" || bail "could not point the stub at the proxy"
DNS_MS=1000
CONF=$WORLD/d.conf
LOG=$WORLD/daemon.log
MAIL=$WORLD/pf-in/mail
M_EXTRA='timeout_ms = 3000;' inbound_start "$CONF" "$LOG" \
	'cache = { min_ttl = 0; max_ttl = 1; error_ttl = 0; };' \
	'domains = ( { name = "notlsa.dane.test"; require = "dane"; } );'

q usable.dane.test
is "$Q_REPLY" "OK dane-only" "before any fault: usable.dane.test dane-only"
q enforce.sts.test
like "$Q_REPLY" "^OK secure match=mx\\.enforce\\.sts\\.test:\\.backup\\.sts\\.test " \
	"before any fault: enforce.sts.test secure (its MTA-STS policy is now cached)"

sm_load_start usable.dane.test enforce.sts.test
smtp_load_start a@usable.dane.test r@notlsa.dane.test ok@none.sts.test
sleep 2

# reload: SIGHUP, wait (bounded) for the log line; a fresh libunbound.
reload() {
	local n
	n=$(grep -c 'configuration reloaded' "$LOG")
	kill -HUP "$DAEMON_PID"
	for i in $(seq 1 100); do
		[ "$(grep -c 'configuration reloaded' "$LOG")" -gt "$n" ] && return 0
		sleep 0.05
	done
	echo "# the daemon did not reload"
}

# recovered DESC: usable.dane.test is dane-only again (bounded: 15 s).
recovered() {
	local i
	for i in $(seq 1 30); do
		q usable.dane.test
		[ "$Q_REPLY" = "OK dane-only" ] && break
		sleep 0.5
	done
	is "$Q_REPLY" "OK dane-only" "$1: after the fault, usable.dane.test is dane-only again"
}

# fault NAME COLD: with the fault on (set by the caller), reload, then
# COLD (never asked before) must be TEMP within the bound; 3 s of load.
fault() {
	local name=$1 cold=$2 m0 mm0 temps
	m0=$(mark "$SM_LOG")
	mm0=$(mark "$SMTP_LOG")
	reload
	q "$cold"
	like "$Q_REPLY" "^TEMP" "$name: $cold (cold) is TEMP"
	within "$Q_MS" "$(fault_bound $((DNS_MS + 2000)))" "$name: ... within dns.timeout_ms + 2 s"
	sleep 3
	no_downgrade "$m0" "$name"
	temps=$(tail -n +"$((m0 + 1))" "$SM_LOG" | awk '$2 == "usable.dane.test" && $4 == "TEMP" { n++ } END { print n + 0 }')
	ok "$([ "$temps" -gt 0 ]; echo $?)" "$name: the fault bites: usable.dane.test got TEMP ($temps times) once its verdict expired"
	FAULT_MAX_MS=$(sm_max_ms "$m0")
	within "$FAULT_MAX_MS" "$(fault_bound $((3 * DNS_MS + 3000)))" "$name: the slowest load request"
	mail_no_downgrade "$mm0" "$name"
	FAULT_MARK=$m0
}

# ---------------------------------------------------------------- SERVFAIL
echo servfail >"$MODE.tmp" && mv "$MODE.tmp" "$MODE"
fault "SERVFAIL" ta.dane.test
echo pass >"$MODE.tmp" && mv "$MODE.tmp" "$MODE"
reload
recovered "SERVFAIL"

# ------------------------------------------------------------------ drop
echo drop >"$MODE.tmp" && mv "$MODE.tmp" "$MODE"
fault "every packet dropped" agility.dane.test
echo pass >"$MODE.tmp" && mv "$MODE.tmp" "$MODE"
reload
recovered "drop"

# ----------------------------------------------------------------- delay
echo "delay:$((3 * DNS_MS))" >"$MODE.tmp" && mv "$MODE.tmp" "$MODE"
fault "answers delayed 3 s (dns.timeout_ms 1 s)" four.dane.test
echo pass >"$MODE.tmp" && mv "$MODE.tmp" "$MODE"
reload
recovered "delay"

# ----------------------------------------------------------- NSD stopped
kill -TERM "$WORLD_NSD_PID"
for i in $(seq 1 60); do
	ss -Hlnu 2>/dev/null | awk '{print $4}' | grep -qx "$WORLD_NS:53" || break
	sleep 0.05
done
ok "$(ss -Hlnu 2>/dev/null | awk '{print $4}' | grep -qx "$WORLD_NS:53"; [ $? = 1 ]; echo $?)" \
	"NSD stopped (pid $WORLD_NSD_PID): nothing listens on $WORLD_NS:53"
fault "NSD stopped" tlsacname.dane.test
nsd -d -c "$WORLD_NSD_CONF" </dev/null >>"$WORLD/nsd/nsd.out" 2>&1 &
NEW_NSD=$!
sed -i "s/^WORLD_NSD_PID=.*/WORLD_NSD_PID='$NEW_NSD'/" "$WORLD/world.env"
for i in $(seq 1 100); do
	dig +norec +time=1 +tries=1 @"$WORLD_NS" . SOA 2>/dev/null | grep -q 'status: NOERROR' && break
	sleep 0.1
done
reload
recovered "NSD restarted"

kill -0 "$DAEMON_PID" 2>/dev/null
ok $? "the daemon is still running after every DNS fault"
daemon_stop
is "$?" 0 "the daemon stops cleanly (exit 0; under ASan: no leak report)"
done_testing
