#!/usr/bin/env bash
# daemon.sh: the milter side of the daemon process: a unix-socket milter
# made mode 0660 and owned by daemon.user/group, the drop to that user
# after binding, the pid file from the configuration, a SIGHUP while a
# milter connection is open (the open connection keeps its configuration,
# the next one gets the new one), twenty SIGHUPs in a row (libmilter must
# not take them as "stop"), a milter socket already in use (clear error,
# exit 71), and SIGTERM with a message in progress (it is finished first).
# Needs root, miltertest. ~10 s.
# shellcheck disable=SC2153 # the WORLD_* variables come from world.env
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

command -v miltertest >/dev/null || { echo "1..0 # SKIP miltertest is not installed"; exit 0; }

world_start
CONF="$WORLD/d.conf"
LOG="$WORLD/daemon.log"
SOCK="$WORLD/milter.sock"
chmod a+x "$WORLD"

# A unix socket milter, run as nobody.
daemon_conf "$CONF" "daemon = { user = \"nobody\"; group = \"nogroup\"; pidfile = \"$WORLD/dm.pid\"; };"
sed -i "s|^milter = .*|milter = { socket = \"unix:$SOCK\"; authserv_id = \"first.example\"; };|" "$CONF"
daemon_start "$CONF" "$LOG"
for _ in $(seq 1 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
is "$(stat -c '%A %U %G' "$SOCK" 2>&1)" "srw-rw---- nobody nogroup" \
	"unix milter socket: mode 0660, owned by daemon.user/group"
is "$(awk '/^Uid:/{print $2}' "/proc/$DAEMON_PID/status")" "$(id -u nobody)" \
	"the daemon runs as nobody after binding"
is "$(awk '/^Gid:/{print $2}' "/proc/$DAEMON_PID/status")" "$(getent group nogroup | cut -d: -f3)" \
	"... with group nogroup"
is "$(cat "$WORLD/dm.pid" 2>&1)" "$DAEMON_PID" "daemon.pidfile holds the pid"

# The checks: mt_script, run by mt_tap (tests/lib.sh).
# One message, with a SIGHUP (new authserv_id) between MAIL and end of data.
mt_script "$WORLD/reload.lua" "
local conn = mt.connect('unix:$SOCK')
check(conn ~= nil, 'connect over the unix socket as nobody', conn)
check(mt.conninfo(conn, 'client.example', '192.0.2.1') == nil, 'conninfo', nil)
mt.macro(conn, SMFIC_MAIL, 'i', 'RELOAD1', '{tls_version}', 'TLSv1.3', '{cipher}', 'TLS_AES_128_GCM_SHA256', '{cipher_bits}', '128')
check(mt.mailfrom(conn, '<a@usable.dane.test>') == nil, 'MAIL', nil)
check(mt.rcptto(conn, '<b@usable.dane.test>') == nil, 'RCPT', nil)
os.execute(\"sed -i 's/first.example/second.example/' $CONF; kill -HUP $DAEMON_PID; sleep 0.5\")
check(mt.eom(conn) == nil, 'EOM after SIGHUP', nil)
check(mt.eom_check(conn, MT_HDRINSERT, 'X-DANE-Sender', 'first.example; domain=usable.dane.test; policy=dane-only; dane=usable; mta-sts=enforce'),
	'the open connection keeps the configuration it started with', nil)
mt.disconnect(conn)
conn = mt.connect('unix:$SOCK')
check(mt.conninfo(conn, 'client.example', '192.0.2.1') == nil, 'second connection', nil)
mt.macro(conn, SMFIC_MAIL, 'i', 'RELOAD2', '{tls_version}', 'TLSv1.3', '{cipher}', 'TLS_AES_128_GCM_SHA256', '{cipher_bits}', '128')
check(mt.mailfrom(conn, '<a@usable.dane.test>') == nil, 'MAIL 2', nil)
check(mt.rcptto(conn, '<b@usable.dane.test>') == nil, 'RCPT 2', nil)
check(mt.eom(conn) == nil, 'EOM 2', nil)
check(mt.eom_check(conn, MT_HDRINSERT, 'X-DANE-Sender', 'second.example; domain=usable.dane.test; policy=dane-only; dane=usable; mta-sts=enforce'),
	'a new connection gets the reloaded configuration', nil)
mt.disconnect(conn)
"
mt_tap "$WORLD/reload.lua" 11
like "$(cat "$LOG")" "configuration reloaded" "the reload was logged"

# Signals closer together than a reload takes: the engine thread often has
# one pending when the next comes, and the kernel then hands it to another
# thread that does not block it (libmilter's signal thread would have
# taken it as "stop"; milter/lifecycle.c).
for _ in $(seq 1 100); do kill -HUP "$DAEMON_PID"; sleep 0.01; done
sleep 0.3
ok "$(kill -0 "$DAEMON_PID"; echo $?)" "a hundred SIGHUPs: the daemon still runs"
sed -i 's/second.example/first.example/' "$CONF"
kill -HUP "$DAEMON_PID"
sleep 0.3
mt_tap "$WORLD/reload.lua" 11
is "$(grep -c 'libmilter stopped' "$LOG")" 0 "libmilter never took a SIGHUP as stop"
n=$(grep -c 'configuration reloaded' "$LOG")
kill -USR1 "$DAEMON_PID"
for _ in $(seq 1 50); do [ "$(grep -c 'configuration reloaded' "$LOG")" -gt "$n" ] && break; sleep 0.1; done
is "$(grep -c 'configuration reloaded' "$LOG")" "$((n + 1))" "SIGUSR1 reloads too (a signal libmilter never waits for)"

# A message in progress when SIGTERM comes is finished first.
mt_script "$WORLD/drain.lua" "
local conn = mt.connect('unix:$SOCK')
check(mt.conninfo(conn, 'client.example', '192.0.2.1') == nil, 'conninfo', nil)
mt.macro(conn, SMFIC_MAIL, 'i', 'DRAIN1')
check(mt.mailfrom(conn, '<a@usable.dane.test>') == nil, 'MAIL', nil)
check(mt.rcptto(conn, '<b@usable.dane.test>') == nil, 'RCPT', nil)
os.execute('kill -TERM $DAEMON_PID; sleep 0.5')
local c2 = mt.connect('unix:$SOCK')
check(c2 ~= nil, 'a new connection while draining is accepted by libmilter', c2)
mt.conninfo(c2, 'client2.example', '192.0.2.2')
mt.mailfrom(c2, '<x@usable.dane.test>')
mt.rcptto(c2, '<y@usable.dane.test>')
check(mt.getreply(c2) == SMFIR_REPLYCODE, 'a new message while draining gets a temporary failure (451 4.3.2)', mt.getreply(c2))
mt.disconnect(c2)
check(mt.eom(conn) == nil, 'EOM after SIGTERM', nil)
check(mt.eom_check(conn, MT_HDRINSERT, 'X-DANE-Sender'), 'the open message still gets its headers', nil)
mt.disconnect(conn)
"
mt_tap "$WORLD/drain.lua" 7
for _ in $(seq 1 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.05; done
wait "$DAEMON_PID"
is "$?" 0 "after the message the daemon exits 0"
like "$(grep 'DRAIN1: summary' "$LOG")" "action=accept" "the drained message was logged"
mt_script "$WORLD/probe.lua" "
local conn = mt.connect('unix:$SOCK')
check(conn ~= nil, 'connect', conn)
"
unlike "$(timeout 10 miltertest -s "$WORLD/probe.lua" 2>&1)" "PASS" "no milter answers after the stop"

# The milter socket is taken: a clear error, exit 71, nothing left running.
busy=$(free_port)
"$PYTHON" -c "
import socket, time, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $busy)); s.listen(1); sys.stdout.write('up\n'); sys.stdout.flush(); time.sleep(20)
" >"$WORLD/busy.out" &
bpid=$!
at_exit "kill $bpid 2>/dev/null"
for _ in $(seq 1 50); do grep -q up "$WORLD/busy.out" && break; sleep 0.1; done
daemon_conf "$WORLD/busy.conf"
sed -i "s|^milter = .*|milter = { socket = \"inet:$busy@127.0.0.1\"; };|" "$WORLD/busy.conf"
out=$("$DANEMILTER" -f -c "$WORLD/busy.conf" 2>&1); rc=$?
is "$rc" 71 "milter socket in use: exit 71 (EX_OSERR)"
like "$out" "milter: cannot listen on inet:$busy@127.0.0.1: Address already in use" "... and says why"
kill "$bpid" 2>/dev/null
done_testing
