#!/usr/bin/env bash
# systemd.sh: the daemon under a service manager, without systemd as PID 1.
# [A] readiness: the test listens on a NOTIFY_SOCKET datagram socket and
# checks every message in order: READY=1 (with STATUS=) once the
# listeners answer, RELOADING=1 / READY=1 around a SIGHUP reload and
# around a refused `ctl reload` (the STATUS= line says so), STOPPING=1 at
# SIGTERM. [B] socket activation: systemd-socket-activate (package
# systemd) passes four sockets named socketmap, milter, metrics and
# control; the daemon serves each face on its passed socket (a Postfix
# socketmap query, a miltertest message with its header, a scrape, a ctl
# stats) and binds none of the configured ones. [C] a face with no socket
# passed binds its configured one as before. ~6 s.
# shellcheck disable=SC2153 # the WORLD_* variables come from world.env
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

command -v systemd-socket-activate >/dev/null ||
	{ echo "1..0 # SKIP systemd-socket-activate (package systemd) is not installed"; exit 77; }

world_start
CONF="$WORLD/d.conf"
LOG="$WORLD/daemon.log"
NSOCK="$WORLD/notify.sock"
NLOG="$WORLD/notify.log"

# The service manager's side: every datagram on one line ("\n" -> "|").
"$PYTHON" - "$NSOCK" "$NLOG" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
    while True:
        m = s.recv(4096).decode()
        f.write(m.replace("\n", "|") + "\n")
        f.flush()
PY
NPID=$!
at_exit "kill $NPID 2>/dev/null"
for _ in $(seq 1 100); do [ -S "$NSOCK" ] && break; sleep 0.05; done
: >"$NLOG"

# wait_msgs N: until the listener has N messages (bounded: 10 s)
wait_msgs() {
	local i
	for i in $(seq 1 200); do
		[ "$(wc -l <"$NLOG")" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
# the messages so far, MONOTONIC_USEC= made fixed
msgs() { sed -E 's/MONOTONIC_USEC=[0-9]+/MONOTONIC_USEC=T/' "$NLOG"; }

# --- [A] readiness
daemon_conf "$CONF"
NOTIFY_SOCKET="$NSOCK" daemon_start "$CONF" "$LOG"
wait_msgs 1
is "$(msgs)" "READY=1|STATUS=0 cache entries; generation 1; no reload yet" \
	"READY=1 with a STATUS= line once the daemon listens"
is "$(pm QUERY usable.dane.test)" "dane-only" "... and it answers"
kill -HUP "$DAEMON_PID"
wait_msgs 3
is "$(msgs)" "READY=1|STATUS=0 cache entries; generation 1; no reload yet
RELOADING=1|MONOTONIC_USEC=T
READY=1|STATUS=1 cache entries; generation 2; last reload ok" \
	"SIGHUP: RELOADING=1, then READY=1 with the reload's outcome"
usec=$(sed -n 's/^RELOADING=1|MONOTONIC_USEC=//p' "$NLOG")
up=$(cut -d' ' -f1 /proc/uptime)
now_usec=$((${up%.*} * 1000000))
ok "$([ "$usec" -gt $((now_usec - 60000000)) ] && [ "$usec" -le $((now_usec + 1000000)) ]; echo $?)" \
	"MONOTONIC_USEC is CLOCK_MONOTONIC now (got $usec, now $now_usec)"
cp "$CONF" "$CONF.good"
printf 'cache = { max_ttl = -1; };\n' >>"$CONF"
out=$("$DANEMILTER" ctl -s "unix:$CTL_SOCKET" reload 2>&1)
like "$out" "reload refused" "ctl reload of a broken file is refused"
wait_msgs 5
is "$(msgs | tail -n 2)" "RELOADING=1|MONOTONIC_USEC=T
READY=1|STATUS=1 cache entries; generation 2; last reload refused (see the log)" \
	"a refused reload: RELOADING=1, then READY=1 saying so (the old configuration serves)"
cp "$CONF.good" "$CONF"
daemon_stop
is "$?" 0 "SIGTERM: exit 0"
is "$(msgs | tail -n 1)" "STOPPING=1|STATUS=stopping: draining the milter, saving the cache" \
	"SIGTERM: STOPPING=1"
is "$(wc -l <"$NLOG")" 6 "six messages in all, none twice"
: >"$NLOG"

# --- [B] socket activation of all four sockets
SMP=$(free_port); MP=$(free_port); METP=$(free_port)
while [ "$MP" = "$SMP" ]; do MP=$(free_port); done
while [ "$METP" = "$SMP" ] || [ "$METP" = "$MP" ]; do METP=$(free_port); done
ASOCK="$WORLD/act-control.sock"
CONF2="$WORLD/d2.conf"
LOG2="$WORLD/daemon2.log"
M_EXTRA='authserv_id = "act.example";' daemon_conf "$CONF2" \
	"metrics = { listen = \"inet:127.0.0.1:$(free_port)\"; };"
systemd-socket-activate -l "127.0.0.1:$SMP" -l "127.0.0.1:$MP" -l "127.0.0.1:$METP" -l "$ASOCK" \
	--fdname=socketmap:milter:metrics:control -E "NOTIFY_SOCKET=$NSOCK" \
	"$DANEMILTER" -f -c "$CONF2" 2>"$LOG2" &
APID=$!
at_exit "kill $APID 2>/dev/null; wait $APID 2>/dev/null"
for _ in $(seq 1 100); do [ -S "$ASOCK" ] && break; sleep 0.05; done
# The first connection starts the daemon (systemd-socket-activate execs it).
out=$(timeout 30 "$DANEMILTER" ctl -s "unix:$ASOCK" stats 2>&1)
like "$out" "^generation 1
cache_entries 0" "control: ctl stats over the passed socket started the daemon and got its answer"
wait_msgs 1
is "$(msgs)" "READY=1|STATUS=0 cache entries; generation 1; no reload yet" "READY=1 from the activated daemon"
is "$(tr '\0' ' ' <"/proc/$APID/cmdline")" "$DANEMILTER -f -c $CONF2 " "the daemon runs in the activator's process"
like "$(cat "$LOG2")" "started: .*milter on systemd:fd4, metrics on systemd:fd5, control on systemd:fd6" \
	"the start line names the passed sockets"
like "$(cat "$LOG2")" "socket activation: the socketmap server accepts on 1 socket\\(s\\) from systemd \\(fd 3\\.\\.\\.\\)" \
	"... and the socketmap's"
is "$(DAEMON_PORT=$SMP pm QUERY usable.dane.test)" "dane-only" "socketmap: Postfix's client on the passed socket"
S=$(curl -sS --max-time 5 "http://127.0.0.1:$METP/metrics")
like "$S" 'danemilter_socketmap_requests_total\{reply="OK"\} 1' "metrics: a scrape on the passed socket counts that query"
mt_script "$WORLD/act.lua" "
local conn = mt.connect('inet:$MP@127.0.0.1')
check(conn ~= nil, 'milter: connect to the passed socket', conn)
check(mt.conninfo(conn, 'client.example', '192.0.2.1') == nil, 'conninfo', nil)
mt.macro(conn, SMFIC_MAIL, 'i', 'ACT1', '{tls_version}', 'TLSv1.3', '{cipher}', 'TLS_AES_128_GCM_SHA256', '{cipher_bits}', '128')
check(mt.mailfrom(conn, '<a@usable.dane.test>') == nil, 'MAIL', nil)
check(mt.rcptto(conn, '<b@usable.dane.test>') == nil, 'RCPT', nil)
check(mt.eom(conn) == nil, 'EOM', nil)
check(mt.eom_check(conn, MT_HDRINSERT, 'X-DANE-Sender', 'act.example; domain=usable.dane.test; policy=dane-only; dane=usable; mta-sts=enforce'),
	'the activated milter adds its header', nil)
mt.disconnect(conn)
"
mt_tap "$WORLD/act.lua" 6 "milter: "
for p in "$DAEMON_PORT" "$MILTER_PORT" "$(sed -n 's/.*metrics = { listen = "inet:127.0.0.1:\([0-9]*\)".*/\1/p' "$CONF2")"; do
	unlike "$(ss -Hltnp "sport = :$p" 2>/dev/null)" "pid=$APID," "the configured port $p is not bound"
done
ok "$([ ! -e "$CTL_SOCKET" ]; echo $?)" "the configured control socket is not created"
kill -TERM "$APID"
for _ in $(seq 1 100); do kill -0 "$APID" 2>/dev/null || break; sleep 0.05; done
wait "$APID"
is "$?" 0 "the activated daemon stops with exit 0"
ok "$([ -S "$ASOCK" ]; echo $?)" "the passed unix socket is systemd's: left in place"

# --- [C] only the control socket passed: the others bind as configured
CONF3="$WORLD/d3.conf"
LOG3="$WORLD/daemon3.log"
ASOCK3="$WORLD/act3.sock"
daemon_conf "$CONF3"
systemd-socket-activate -l "$ASOCK3" --fdname=control "$DANEMILTER" -f -c "$CONF3" 2>"$LOG3" &
APID=$!
at_exit "kill $APID 2>/dev/null; wait $APID 2>/dev/null"
for _ in $(seq 1 100); do [ -S "$ASOCK3" ] && break; sleep 0.05; done
like "$(timeout 30 "$DANEMILTER" ctl -s "unix:$ASOCK3" query usable.dane.test 2>&1)" \
	'^usable\.dane\.test reply="OK dane-only"' "only control passed: ctl query over it"
is "$(pm QUERY usable.dane.test)" "dane-only" "... and the socketmap binds its configured port"
like "$(ss -Hltnp "sport = :$MILTER_PORT" 2>/dev/null)" "pid=$APID," "... the milter its configured one"
kill -TERM "$APID"; wait "$APID"
done_testing
