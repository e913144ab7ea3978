#!/usr/bin/env bash
# sts.sh: the fault matrix's MTA-STS policy host faults (sts_server.py
# modes, world.sh sts-mode): the host refusing connections (a TCP reset at
# accept), resetting mid-body, stalling after the headers, sending garbage
# instead of TLS. changing.sts.test's policy (enforce) is fetched and
# cached first; for each fault its policy host is switched to the fault
# and its TXT id changed (world.sh sts-set), so the daemon fetches again and
# fails; a domain never asked before (its host in the same fault) is
# fetched cold. mta_sts: connect_timeout_ms 2000, timeout_ms 3000; the
# verdict cache keeps nothing longer than a second. While socketmap queries
# and messages through the world's inbound Postfix flow, each fault must
# give: the cached policy kept (changing.sts.test "OK secure match=..."
# or TEMP, never NOTFOUND: no downgrade; the milter's header for it says
# mta-sts=enforce), the cold domain answered (NOTFOUND or TEMP: it has no
# policy to lose) within mta_sts.timeout_ms + 2 s (x2 under ASan), the fault
# seen by the server (its access log), the daemon still serving.
# Needs root, postfix, python3. ~50 s.
# shellcheck disable=SC2153 # the WORLD_* variables come from world.env
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
. "$top_srcdir/tests/faults/lib.sh"

command -v postfix >/dev/null || { echo "1..0 # SKIP postfix is not installed"; exit 0; }

world_start
WS="$top_srcdir/tests/world/world.sh"
CONF=$WORLD/d.conf
LOG=$WORLD/daemon.log
MAIL=$WORLD/pf-in/mail
ACCESS=$WORLD_STS_DIR/access.log
STS_MS=3000
M_EXTRA='timeout_ms = 4000;' inbound_start "$CONF" "$LOG" \
	'cache = { min_ttl = 0; max_ttl = 1; error_ttl = 0; };' \
	'domains = ( { name = "notlsa.dane.test"; require = "dane"; },
	  { name = "changing.sts.test"; log_resolution = true; } );'

q changing.sts.test
like "$Q_REPLY" "^OK secure match=mx\\.changing\\.sts\\.test " \
	"before any fault: changing.sts.test secure (its policy is now cached)"
q enforce.sts.test
like "$Q_REPLY" "^OK secure match=" "before any fault: enforce.sts.test secure"

NODOWN_STS="enforce.sts.test changing.sts.test"
sm_load_start usable.dane.test enforce.sts.test changing.sts.test
smtp_load_start a@usable.dane.test r@notlsa.dane.test ok@changing.sts.test
sleep 1

# rcpt_headers FROM: X-DANE-Recipient values for changing.sts.test in the
# messages the load queued after line FROM of $SMTP_LOG.
rcpt_headers() {
	local qid
	tail -n +"$(($1 + 1))" "$SMTP_LOG" | awk '$2 != "-" { print $2 }' | while read -r qid; do
		for i in $(seq 1 100); do
			grep -q "id $qid" "$MAIL/ok@changing.sts.test" 2>/dev/null && break
			sleep 0.1
		done
		awk -v q="id $qid" '/^From /{ if (x) exit; buf="" } { buf = buf $0 "\n" } index($0, q) { x=1 } END { if (x) printf "%s", buf }' \
			"$MAIL/ok@changing.sts.test" | grep '^X-DANE-Recipient: .*domain=changing\.sts\.test'
	done
}

n=0
for f in refuse:testing.sts.test reset:crlf.sts.test stall:none.sts.test garbage:syntax.sts.test; do
	fault=${f%%:*} cold=${f#*:} n=$((n + 1))
	m0=$(mark "$SM_LOG")
	mm0=$(mark "$SMTP_LOG")
	a0=$(mark "$ACCESS")
	l0=$(mark "$LOG")
	bash "$WS" sts-mode "$WORLD" changing.sts.test "$fault"
	bash "$WS" sts-mode "$WORLD" "$cold" "$fault"
	bash "$WS" sts-set "$WORLD" changing.sts.test "fault$n"
	q "$cold"
	like "$Q_REPLY" "^(NOTFOUND|TEMP)" "$fault: $cold (no policy cached, host failing) NOTFOUND or TEMP"
	within "$Q_MS" "$(fault_bound $((STS_MS + 2000)))" "$fault: ... within mta_sts.timeout_ms + 2 s"
	# the refetch of changing.sts.test reached the failing host (bounded)
	for i in $(seq 1 100); do
		tail -n +"$((a0 + 1))" "$ACCESS" | grep -q "mta-sts.changing.sts.test.*\\(mode=$fault\\|$fault\\)" && break
		sleep 0.1
	done
	like "$(tail -n +"$((a0 + 1))" "$ACCESS" | grep 'mta-sts.changing.sts.test')" \
		"(mode=$fault|sni=mta-sts.changing.sts.test $fault)" \
		"$fault: the new TXT id made the daemon fetch changing.sts.test's policy from the failing host"
	sleep $((STS_MS / 1000 + 1))
	fl=$(tail -n +"$((l0 + 1))" "$LOG" | grep -m1 'changing\.sts\.test.*mta-sts: fetch failed')
	like "$fl" "mta-sts: fetch failed: .*cached|kept" "$fault: the failed fetch is logged, the cached policy kept (${fl#*fetch failed: })"
	q changing.sts.test
	like "$Q_REPLY" "^OK secure match=mx\\.changing\\.sts\\.test " \
		"$fault: changing.sts.test keeps its cached policy after the failed fetch"
	no_downgrade "$m0" "$fault"
	mail_no_downgrade "$mm0" "$fault"
	h=$(rcpt_headers "$mm0")
	unlike "$h" "mta-sts=(absent|error|none)|policy=none" \
		"$fault: the milter's X-DANE-Recipient for changing.sts.test never loses the policy ($(printf '%s\n' "$h" | grep -c .) headers)"
	bash "$WS" sts-mode "$WORLD" changing.sts.test ok
done

kill -0 "$DAEMON_PID" 2>/dev/null
ok $? "the daemon is still running after every policy host fault"
is "$(sm_errors 0)" 0 "no load request went unanswered"
daemon_stop
is "$?" 0 "the daemon stops cleanly (exit 0; under ASan: no leak report)"
done_testing
