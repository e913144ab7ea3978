#!/usr/bin/env bash
# milter.sh: the fault matrix's milter faults: the MTA side of the milter
# connection goes away in the middle of a message, while socketmap queries
# and messages through the world's inbound Postfix flow:
#   - the SMTP client disconnects in the middle of the header block, and in
#     the middle of the body (Postfix aborts the message to the milter);
#   - the Postfix process that holds the milter connection is killed
#     (SIGKILL) in the middle of the body: the milter sees the connection
#     close with no abort and no quit;
#   - Postfix's milter_command_timeout (1 s) runs out while danemilter
#     waits at RCPT (require = "dane" for lame.test, whose name server
#     never answers): Postfix closes the milter connection and replies 4xx.
# Each time: the daemon is still running, the next message gets its
# headers (forged ones gone), RCPT to a require = "dane" domain is never
# accepted, no socketmap downgrade; at the end the daemon stops with 0 open
# messages (every message freed) and exit 0 (under ASan: no leak report).
# Needs root, postfix, python3. ~40 s.
# shellcheck disable=SC2153 # the WORLD_* variables come from world.env
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
. "$top_srcdir/tests/faults/lib.sh"

command -v postfix >/dev/null || { echo "1..0 # SKIP postfix is not installed"; exit 0; }

world_start
CONF=$WORLD/d.conf
LOG=$WORLD/daemon.log
MAIL=$WORLD/pf-in/mail
INLOG=$WORLD/pf-in/maillog
M_EXTRA='timeout_ms = 5000;' inbound_start "$CONF" "$LOG" \
	'domains = ( { name = "notlsa.dane.test"; require = "dane"; }, { name = "lame.test"; require = "dane"; } );'

sm_load_start usable.dane.test enforce.sts.test
smtp_load_start a@usable.dane.test r@notlsa.dane.test ok@none.sts.test
m0=$(mark "$SM_LOG")
mm0=$(mark "$SMTP_LOG")

# partial WHAT: an SMTP session to the inbound MX that stops in DATA:
# WHAT = header (in the middle of a header line) | body (in the body) |
# hold (in the body, then waits for SIGTERM with the connection open).
# Prints "ready LOCALPORT" once the partial message is sent.
partial() {
	"$PYTHON" - "$SERVER" "$1" <<'PY'
import socket, sys, time, signal, os
host, what = sys.argv[1], sys.argv[2]
s = socket.create_connection((host, 25), timeout=30)
f = s.makefile("rb")
def reply():
    while True:
        l = f.readline()
        if not l or l[3:4] != b"-":
            return l
def cmd(c):
    s.sendall(c.encode() + b"\r\n")
    return reply()
reply()
cmd("EHLO partial.test")
cmd("MAIL FROM:<p@usable.dane.test>")
cmd("RCPT TO:<ok@none.sts.test>")
cmd("DATA")
hdr = "From: <p@usable.dane.test>\r\nSubject: partial %s\r\nX-DANE-Sender: forged\r\n" % what
if what == "header":
    s.sendall((hdr + "X-Unfinished: half a hea").encode())
else:
    s.sendall((hdr + "\r\n" + "a body line\r\n" * 200).encode())
print("ready", s.getsockname()[1], flush=True)
if what == "hold":
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    time.sleep(30)
time.sleep(0.5)
s.close()
PY
}

# next_ok DESC: one message right after the fault gets through with its
# headers (bounded by the load's own pace: wait for its next queued one).
next_ok() {
	local mm=$1 i qid m
	for i in $(seq 1 100); do
		qid=$(tail -n +"$((mm + 1))" "$SMTP_LOG" | awk '$2 != "-" { print $2; exit }')
		[ -n "$qid" ] && break
		sleep 0.1
	done
	for i in $(seq 1 100); do
		grep -q "id $qid" "$MAIL/ok@none.sts.test" 2>/dev/null && break
		sleep 0.1
	done
	m=$(awk -v q="id $qid" '/^From /{ if (x) exit; buf="" } { buf = buf $0 "\n" } index($0, q) { x=1 } END { if (x) printf "%s", buf }' "$MAIL/ok@none.sts.test" 2>/dev/null)
	like "$(printf '%s\n' "$m" | grep '^X-DANE-Sender: ')" "domain=usable\\.dane\\.test; policy=dane-only" \
		"$2: the next message (${qid:-none}) gets its X-DANE-Sender"
	kill -0 "$DAEMON_PID" 2>/dev/null
	ok $? "$2: the daemon is still running"
}

# ---------------------------------------- the client leaves mid-header / mid-body
for what in header body; do
	mm=$(mark "$SMTP_LOG")
	n=$(grep -c 'lost connection after DATA' "$INLOG")
	out=$(partial "$what")
	like "$out" "^ready " "client leaving in the middle of the $what: the partial message was sent"
	for i in $(seq 1 50); do
		[ "$(grep -c 'lost connection after DATA' "$INLOG")" -gt "$n" ] && break
		sleep 0.1
	done
	ok "$([ "$(grep -c 'lost connection after DATA' "$INLOG")" -gt "$n" ]; echo $?)" \
		"mid-$what: Postfix saw the client leave (lost connection after DATA)"
	next_ok "$mm" "mid-$what"
done

# ------------------- the Postfix process holding the milter connection killed
mm=$(mark "$SMTP_LOG")
coproc HOLD { partial hold; }
read -r -t 20 word lport <&"${HOLD[0]}"
is "$word" ready "smtpd killed: the client is in the middle of the body"
# the smtpd serving this client, then whichever process holds its milter
# connection (smtpd itself, or cleanup)
spid=$(ss -Htnp "src $SERVER:25 and dst 127.0.0.1:$lport" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
victims=$spid
for p in $(ss -Htnp "dport = :$MILTER_PORT" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
	[ "$p" = "$spid" ] && continue
	# a cleanup started for this smtpd's message: same master, reads from spid
	ps -o comm= -p "$p" 2>/dev/null | grep -q cleanup && victims="$victims $p"
done
ok "$([ -n "$spid" ] && ss -Htnp "dport = :$MILTER_PORT" | grep -q "pid=$spid,"; echo $?)" \
	"smtpd killed: the smtpd (pid ${spid:-none}) holds a milter connection"
l0=$(mark "$LOG")
kill -KILL "$spid" 2>/dev/null
kill "$HOLD_PID" 2>/dev/null
wait "$HOLD_PID" 2>/dev/null
next_ok "$mm" "smtpd killed with SIGKILL mid-body"

# ----------------------------- Postfix's milter_command_timeout runs out
postconf -c "$WORLD/pf-in/conf" -e "milter_command_timeout = 1s"
bash "$top_srcdir/tests/world/postfix.sh" set-milter "$WORLD" "inet:127.0.0.1:$MILTER_PORT" >/dev/null 2>&1
mm=$(mark "$SMTP_LOG")
t0=$(now_ms)
out=$(swaks --server "$SERVER" --port 25 --helo client.test --timeout 30 --from t@usable.dane.test \
	--to x@lame.test 2>&1)
ms=$(($(now_ms) - t0))
like "$(printf '%s\n' "$out" | grep -E '^<[~*]* +[0-9]{3}' | grep -A0 -E ' 4[0-9]{2} ' | head -1)" " 4[0-9][0-9] " \
	"milter_command_timeout: RCPT to a require=dane domain whose DNS never answers: 4xx"
unlike "$(printf '%s\n' "$out" | grep -E '^<[~*]* +250 2\.1\.5')" "." "... never 250 for it"
like "$(grep 'milter inet:127.0.0.1:'"$MILTER_PORT"': ' "$INLOG" | grep 'SMFIC_RCPT' | tail -n 1)" \
	"can't read SMFIC_RCPT reply packet header: Connection timed out" \
	"Postfix gave up on the milter at its milter_command_timeout (Postfix's log: can't read SMFIC_RCPT reply ... timed out)"
within "$ms" "$(fault_bound 8000)" "milter_command_timeout: the session ended (Postfix's 1 s + its reply)"
sleep 4 # danemilter's own wait for lame.test ends meanwhile (dns.timeout_ms 3 s)
next_ok "$mm" "milter_command_timeout"
postconf -c "$WORLD/pf-in/conf" -e "milter_command_timeout = 30s"

sleep 1
no_downgrade "$m0" "milter faults"
mail_no_downgrade "$mm0" "milter faults"
is "$(sm_errors 0)" 0 "no load request went unanswered"

# every message freed: the drain at stop counts none open
kill "$SMTP_LOAD_PID" 2>/dev/null
wait "$SMTP_LOAD_PID" 2>/dev/null
sleep 1
daemon_stop
rc=$?
like "$(grep 'stopping: new milter messages' "$LOG")" "waiting up to [0-9]+ ms for 0 open messages" \
	"at stop: 0 open messages (every aborted or cut message was freed)"
is "$rc" 0 "the daemon stops cleanly (exit 0; under ASan: no leak report)"
done_testing
