#!/usr/bin/env bash
# sockets.sh: the fault matrix's connection faults, under a socketmap load:
#   - 1,000 socketmap connections opened and left idle (socketmap.
#     max_connections at its default, 1000; the daemon started with a soft
#     RLIMIT_NOFILE of 1024, as systemd gives: it raises it by itself):
#     a new client is still answered at once (the longest idle connection
#     makes room for it), every idle one is closed after
#     socketmap.idle_timeout_ms (5000 here), the daemon's descriptors return
#     to their count before;
#   - a client sending one byte a second (slowloris) to the socketmap and
#     to the metrics port: closed after socketmap.io_timeout_ms (2000) and
#     metrics.timeout_ms (2000) + 2 s (x2 under ASan), while other clients
#     get their answers at once.
# With socketmap.max_connections reached and none idle, a new connection is
# still refused at once (tests/unit/socketmap_test.c).
# Needs python3, curl. ~35 s.
# shellcheck disable=SC2153 # the WORLD_* variables come from world.env
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
. "$top_srcdir/tests/faults/lib.sh"

world_start
ulimit -Sn 1024 || bail "cannot set the soft descriptor limit to 1024"
CONF=$WORLD/d.conf
LOG=$WORLD/daemon.log
METRICS_PORT=$(free_port)
IDLE_MS=5000 IO_MS=2000 MET_MS=2000
SM_EXTRA="idle_timeout_ms = $IDLE_MS; io_timeout_ms = $IO_MS;" daemon_conf "$CONF" \
	"metrics = { listen = \"inet:127.0.0.1:$METRICS_PORT\"; timeout_ms = $MET_MS; };"
daemon_start "$CONF" "$LOG"
CONNS="$FAULTS/conns.py"
fds() { find "/proc/$DAEMON_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

q usable.dane.test
is "$Q_REPLY" "OK dane-only" "before: usable.dane.test dane-only"
q enforce.sts.test
sm_load_start usable.dane.test enforce.sts.test
sleep 1
base=$(fds)

# ------------------------------------------------ 1,000 idle connections
m0=$(mark "$SM_LOG")
"$PYTHON" "$CONNS" idle "$DAEMON_PORT" 1000 $(((IDLE_MS * BOUND_SCALE + 10000) / 1000)) \
	>"$WORLD/idle.out" 2>&1 &
IDLE_PID=$!
at_exit "kill $IDLE_PID 2>/dev/null; wait $IDLE_PID 2>/dev/null"
for i in $(seq 1 200); do grep -q '^open ' "$WORLD/idle.out" && break; sleep 0.1; done
is "$(grep '^open ' "$WORLD/idle.out")" "open 1000" "1,000 idle connections opened"
sleep 0.5
during=$(fds)
q usable.dane.test
is "$Q_REPLY" "OK dane-only" "1,000 idle connections: a new client is answered"
within "$Q_MS" "$(fault_bound 1000)" "... at once"
wait "$IDLE_PID"
last=$(tail -n 1 "$WORLD/idle.out")
is "${last#* }" "closed=1000" "every idle connection was closed by the daemon"
# closed before the idle timeout: only those that made room at the limit
# (the load's connection + 1,000 idle ones + the new client = 1,002 > 1,000)
early=$(awk -v t=$((IDLE_MS - 500)) '$1 != "open" && $1 < t { c = $2 } END { sub(/closed=/, "", c); print c + 0 }' "$WORLD/idle.out")
within "${last%% *}" "$(fault_bound $((IDLE_MS + 2000)))" "... after socketmap.idle_timeout_ms ($IDLE_MS ms)"
ok "$([ "$early" -le 2 ]; echo $?)" "... and not before it: $early closed early, to make room for new clients (want <= 2)"
like "$(cat "$LOG")" "socketmap: inet:127.0.0.1:$DAEMON_PORT: 1000 connections open, closed 1 idle ones to make room" \
	"making room is logged"
for i in $(seq 1 40); do [ "$(fds)" -le "$base" ] && break; sleep 0.1; done
after=$(fds)
ok "$([ "$after" -le "$base" ]; echo $?)" "the daemon's descriptors return to their count before ($base -> $during with the idle connections -> $after)"
no_downgrade "$m0" "1,000 idle connections"
is "$(sm_errors "$m0")" 0 "1,000 idle connections: the load's connection was never refused or closed"

# ------------------------------------------------- slowloris, socketmap
m0=$(mark "$SM_LOG")
"$PYTHON" "$CONNS" slow "$DAEMON_PORT" "24:QUERY usable.dane.test," >"$WORLD/slow-sm.out" 2>&1 &
SLOW_PID=$!
at_exit "kill $SLOW_PID 2>/dev/null; wait $SLOW_PID 2>/dev/null"
sleep 1
q usable.dane.test
is "$Q_REPLY" "OK dane-only" "slowloris on the socketmap: another client is answered"
within "$Q_MS" "$(fault_bound 1000)" "... at once"
wait "$SLOW_PID"
out=$(cat "$WORLD/slow-sm.out")
like "$out" "^closed " "slowloris on the socketmap: the daemon closes the connection ($out)"
ms=$(echo "$out" | awk '{ print $2 }')
within "${ms:-999999}" "$(fault_bound $((IO_MS + 2000)))" "... within socketmap.io_timeout_ms ($IO_MS ms) + 2 s"
like "$(grep 'request incomplete after' "$LOG")" "socketmap: .*: request incomplete after $IO_MS ms, closing" "... and says why"
no_downgrade "$m0" "slowloris (socketmap)"
is "$(sm_errors "$m0")" 0 "slowloris (socketmap): no load request went unanswered"

# --------------------------------------------------- slowloris, metrics
"$PYTHON" "$CONNS" slow "$METRICS_PORT" 'GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n' \
	>"$WORLD/slow-met.out" 2>&1 &
SLOW_PID=$!
at_exit "kill $SLOW_PID 2>/dev/null; wait $SLOW_PID 2>/dev/null"
sleep 1
t0=$(now_ms)
scrape=$(curl -s -m 10 "http://127.0.0.1:$METRICS_PORT/metrics")
ms=$(($(now_ms) - t0))
like "$scrape" "^danemilter_socketmap_requests_total\\{reply=\"OK\"\\} [1-9]" \
	"slowloris on the metrics port: another scrape is served"
within "$ms" "$(fault_bound 1000)" "... at once"
wait "$SLOW_PID"
out=$(cat "$WORLD/slow-met.out")
like "$out" "^closed " "slowloris on the metrics port: the daemon closes the connection ($out)"
ms=$(echo "$out" | awk '{ print $2 }')
within "${ms:-999999}" "$(fault_bound $((MET_MS + 2000)))" "... within metrics.timeout_ms ($MET_MS ms) + 2 s"

kill -0 "$DAEMON_PID" 2>/dev/null
ok $? "the daemon is still running"
kill "$SM_LOAD_PID" 2>/dev/null
wait "$SM_LOAD_PID" 2>/dev/null
daemon_stop
is "$?" 0 "the daemon stops cleanly (exit 0; under ASan: no leak report)"
done_testing
