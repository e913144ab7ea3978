#!/usr/bin/env bash
# mx.sh: the fault matrix's MX faults, under load: an MX that resets the
# TCP connection during STARTTLS (smtp_server.py --mode reset at
# mx.nostarttls.dane.test's address: its DNS is DANE-usable, 3 1 1) and one
# that stalls in the handshake (--mode stall at mx.stall.dane.test's).
# probe.timeout_ms is 2000. `danemilter check` must report fail (never pass)
# within probe.timeout_ms + 2 s (x2 under ASan), exit 1; the daemon, with
# probe.enabled, probes them for every message through the world's inbound
# Postfix: X-DANE-Recipient says probe=fail (never probe=pass) and the
# policy stays dane-only; meanwhile socketmap queries see no downgrade and
# RCPT to a require = "dane" domain is never accepted.
# Needs root, postfix, python3. ~40 s.
# shellcheck disable=SC2153 # the WORLD_* variables come from world.env
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
. "$top_srcdir/tests/faults/lib.sh"

command -v postfix >/dev/null || { echo "1..0 # SKIP postfix is not installed"; exit 0; }

world_start
SRV="$top_srcdir/tests/world/smtp_server.py"
PROBE_MS=2000
# mx_server MODE HOST: smtp_server.py in MODE on HOST's address, port 25.
mx_server() {
	local addr v="WORLD_ADDR_$(echo "$2" | tr 'a-z.-' 'A-Z__')" pid i
	addr=${!v}
	"$PYTHON" "$SRV" --listen "$addr" --port 25 --mode "$1" --hostname "$2" \
		--cert "$WORLD_CERTS/$2.chain.pem" --key "$WORLD_CERTS/$2.key" --timeout 30 \
		--stall-secs 30 --log "$WORLD/mx-$1.log" </dev/null >"$WORLD/mx-$1.out" 2>&1 &
	pid=$!
	at_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
	for i in $(seq 1 50); do grep -q listening "$WORLD/mx-$1.out" && return 0; sleep 0.1; done
	bail "smtp_server.py --mode $1 did not start: $(cat "$WORLD/mx-$1.out")"
}
mx_server reset mx.nostarttls.dane.test
mx_server stall mx.stall.dane.test

CONF=$WORLD/d.conf
LOG=$WORLD/daemon.log
MAIL=$WORLD/pf-in/mail
M_EXTRA='timeout_ms = 6000;' inbound_start "$CONF" "$LOG" \
	"probe = { enabled = true; timeout_ms = $PROBE_MS; helo = \"fault.test\"; };" \
	'domains = ( { name = "notlsa.dane.test"; require = "dane"; } );'

sm_load_start usable.dane.test enforce.sts.test nostarttls.dane.test stall.dane.test
smtp_load_start a@usable.dane.test r@notlsa.dane.test s@stall.dane.test n@nostarttls.dane.test
m0=$(mark "$SM_LOG")
mm0=$(mark "$SMTP_LOG")

# check NAME DOMAIN: danemilter check; RC, MS, output in $WORLD/NAME.out
check() {
	local t0
	t0=$(now_ms)
	"$DANEMILTER" check -c "$CONF" "$2" >"$WORLD/$1.out" 2>"$WORLD/$1.err"
	RC=$?
	MS=$(($(now_ms) - t0))
}
check reset nostarttls.dane.test
like "$(grep 'mx.nostarttls.dane.test\[' "$WORLD/reset.out")" " dane fail " \
	"check, MX resetting during STARTTLS: fail ($(grep -o 'detail="[^"]*"' "$WORLD/reset.out" | head -1))"
unlike "$(cat "$WORLD/reset.out")" " pass " "check, reset: no pass anywhere"
is "$RC" 1 "check, reset: exit 1"
within "$MS" "$(fault_bound $((PROBE_MS + 2000)))" "check, reset: within probe.timeout_ms + 2 s"
like "$(cat "$WORLD/mx-reset.log")" " reset$" "the server did reset the connection after STARTTLS"

check stall stall.dane.test
like "$(grep 'mx.stall.dane.test\[' "$WORLD/stall.out")" " dane fail .*timeout" \
	"check, MX stalling in the handshake: fail ($(grep -o 'detail="[^"]*"' "$WORLD/stall.out" | head -1))"
unlike "$(cat "$WORLD/stall.out")" " pass " "check, stall: no pass anywhere"
is "$RC" 1 "check, stall: exit 1"
within "$MS" "$(fault_bound $((PROBE_MS + 2000)))" "check, stall: within probe.timeout_ms + 2 s"

sleep 6
no_downgrade "$m0" "MX faults"
mail_no_downgrade "$mm0" "MX faults"
# the milter's probes: every delivered message's header for each domain
hd=$(grep -h '^X-DANE-Recipient: .*domain=\(stall\|nostarttls\)\.dane\.test' "$MAIL/n@nostarttls.dane.test" 2>/dev/null)
n=$(printf '%s\n' "$hd" | grep -c 'probe=')
ok "$([ "$n" -ge 4 ]; echo $?)" "milter probe: $n X-DANE-Recipient headers with a probe result for the two faulty MX (want >= 4)"
unlike "$hd" "probe=pass" "milter probe: never probe=pass for an MX that resets or stalls"
like "$(printf '%s\n' "$hd" | grep 'domain=stall' | tail -n 1)" "policy=dane-only; .*probe=fail" \
	"milter probe, stall: policy dane-only, probe=fail ($(printf '%s\n' "$hd" | grep 'domain=stall' | tail -n 1 | grep -o 'probe=.*'))"
like "$(printf '%s\n' "$hd" | grep 'domain=nostarttls' | tail -n 1)" "policy=dane-only; .*probe=fail" \
	"milter probe, reset: policy dane-only, probe=fail ($(printf '%s\n' "$hd" | grep 'domain=nostarttls' | tail -n 1 | grep -o 'probe=.*'))"
w=$(tail -n +"$((mm0 + 1))" "$SMTP_LOG" | awk '$3 > m { m = $3 } END { print m + 0 }')
within "$w" "$(fault_bound $((PROBE_MS + 2000)))" "milter: the slowest SMTP transaction (the first waits for the probes)"

kill -0 "$DAEMON_PID" 2>/dev/null
ok $? "the daemon is still running"
is "$(sm_errors 0)" 0 "no load request went unanswered"
daemon_stop
is "$?" 0 "the daemon stops cleanly (exit 0; under ASan: no leak report)"
done_testing
