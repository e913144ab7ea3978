#!/usr/bin/env bash
# run-milter.sh: what the milter costs a real Postfix smtpd: messages/s
# with no milter, with a no-op libmilter filter, and with danemilter.
#
#   bench/run-milter.sh [-n MESSAGES] [-s SESSIONS]
#
# Builds danemilter (in $top_builddir, default _build/plain; configured
# there first if needed: bench/builddir.sh) and bench/noop_milter.c (cc
# straight into $builddir/bench/noop_milter; needs libmilter-dev, installed
# with apt-get when missing), starts a test world (bench/lib.sh bench_world)
# and its inbound MX (IN_DISCARD=1 postfix.sh start-inbound: smtpd on
# WORLD_NET.6:25, milter_protocol 6, accepted mail discarded so that
# delivery costs nothing), then makes three runs with Postfix's smtp-source
# (-m MESSAGES, default 2000, over -s SESSIONS parallel sessions, default
# 20; one message of 1024 bytes per connection, MAIL FROM
# bench@usable.dane.test, RCPT TO rcpt@enforce.sts.test, no STARTTLS:
# smtp-source has none):
#   1. no milter (smtpd_milters empty)
#   2. the no-op filter: the protocol work of danemilter without its policy
#      (same negotiation, macros and header edits; see noop_milter.c)
#   3. danemilter (bench/lib.sh bench_danemilter: its milter on
#      MILTER_PORT; cache.min_ttl 3600, log level warning so that
#      per-message info lines are not timed)
# The milter is switched with postfix.sh set-milter (reload; old smtpd
# processes gone). Before each timed run: a warm-up of 20 messages through
# the same path (for danemilter: its cache then holds the domains), and
# the queue is empty. The time is smtp-source's wall time (date +%s%N);
# printed per run: messages/s, and the ratios no-op/none and
# danemilter/no-op.
#
# Each run must have every message accepted: smtp-source exits 0, the
# inbound maillog (WORLD/pf-in/maillog) gets one qmgr "from=<bench@...>"
# line per message and no "reject" line. The figures are printed, never
# judged: exit non-zero only when something cannot be built or started or
# a message is not accepted. Everything is stopped on exit (trap EXIT, by
# PID; the world's stop also stops Postfix).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
msgs=2000
sess=20
while getopts n:s: opt; do
	case $opt in
	n) msgs=$OPTARG ;;
	s) sess=$OPTARG ;;
	*) echo "usage: bench/run-milter.sh [-n MESSAGES] [-s SESSIONS]" >&2; exit 64 ;;
	esac
done
case $msgs$sess in *[!0-9]* | '') echo "run-milter: -n and -s take numbers" >&2; exit 64 ;; esac
if [ "$msgs" -lt 1 ] || [ "$sess" -lt 1 ]; then
	echo "run-milter: -n and -s must be at least 1" >&2
	exit 64
fi
[ "$sess" -le 200 ] || echo "run-milter: warning: the inbound MX is sized for 200 sessions (-s $sess)" >&2
WARM=20
FROM=bench@usable.dane.test
RCPT=rcpt@enforce.sts.test

# ---- tools
SOURCE=$(command -v smtp-source || true)
for p in /usr/sbin/smtp-source /usr/lib/postfix/sbin/smtp-source; do
	[ -n "$SOURCE" ] || { [ -x "$p" ] && SOURCE=$p; } || true
done
[ -n "$SOURCE" ] || { echo "run-milter: smtp-source not found (package postfix)" >&2; exit 1; }
[ -r /usr/include/libmilter/mfapi.h ] || bench_install run-milter libmilter-dev

# ---- build
# shellcheck source=bench/builddir.sh
. "$top/bench/builddir.sh"
make -s -C "$builddir" danemilter >&2
NOOP=$builddir/bench/noop_milter
if [ ! -x "$NOOP" ] || [ "$top/bench/noop_milter.c" -nt "$NOOP" ]; then
	mkdir -p "$builddir/bench"
	"${CC:-cc}" -O2 -Wall -Wextra -o "$NOOP" "$top/bench/noop_milter.c" -lmilter -lpthread >&2
fi

# ---- the world and its inbound MX
bench_world
PF=$top/tests/world/postfix.sh
IN_DISCARD=1 bash "$PF" start-inbound "$WORLD" "" >&2 || bail "postfix.sh start-inbound failed"
MX=$WORLD_NET.6
INLOG=$WORLD/pf-in/maillog

# ---- one run
# queue_empty: wait (bounded: 60 s) until the inbound queue is empty.
queue_empty() {
	for _ in $(seq 1 300); do
		[ -z "$(bash "$PF" queue "$WORLD" in 2>/dev/null)" ] && return 0
		sleep 0.2
	done
	bail "the inbound queue is not empty after 60 s"
}

# send WHAT N S: smtp-source N messages over S sessions; check that all N
# were accepted (maillog lines after the current end); sets NS (wall time
# in ns). (No command substitution around send/run: bail must end the
# script, with its message on stdout.)
send() {
	local what=$1 n=$2 s=$3 l0 t0 t1 rc=0 got rej
	l0=$(wc -l <"$INLOG")
	t0=$(date +%s%N)
	"$SOURCE" -l 1024 -m "$n" -s "$s" -M client.bench.test -f "$FROM" -t "$RCPT" \
		"$MX:25" >"$WORLD/smtp-source.out" 2>&1 || rc=$?
	t1=$(date +%s%N)
	if [ "$rc" != 0 ]; then
		sed 's/^/# /' "$WORLD/smtp-source.out" | tail -n 5
		bail "$what: smtp-source exited $rc"
	fi
	# the maillog is written through postlogd: allow it a moment (10 s)
	for _ in $(seq 1 100); do
		got=$(tail -n "+$((l0 + 1))" "$INLOG" |
			grep -cE " in/qmgr\[[0-9]+\]: [0-9A-F]+: from=<${FROM//./\\.}>" || true)
		[ "$got" -ge "$n" ] && break
		sleep 0.1
	done
	rej=$(tail -n "+$((l0 + 1))" "$INLOG" | grep -cE ' (milter-)?reject: ' || true)
	if [ "$got" != "$n" ] || [ "$rej" != 0 ]; then
		tail -n "+$((l0 + 1))" "$INLOG" | grep -E 'reject|warning|error|fatal' | head -n 5 | sed 's/^/# /'
		bail "$what: $got of $n messages accepted, $rej rejected (see $INLOG)"
	fi
	NS=$((t1 - t0))
}

# run WHAT: warm-up, empty queue, timed run; sets RATE (messages/s).
run() {
	send "$1 (warm-up)" "$WARM" "$((sess < 5 ? sess : 5))"
	queue_empty
	send "$1" "$msgs" "$sess"
	queue_empty
	RATE=$(awk -v n="$msgs" -v ns="$NS" 'BEGIN { printf "%.0f", n * 1e9 / ns }')
}

# run_milter WHAT NAME PORT PID: run WHAT with smtpd's milter switched to
# the one on PORT (NAME, process PID), which must outlive the run; sets RATE.
run_milter() {
	bash "$PF" set-milter "$WORLD" "inet:127.0.0.1:$3" >&2 || bail "postfix.sh set-milter failed"
	run "$1"
	kill -0 "$4" 2>/dev/null || bail "$2 died during the run"
}

# ratio A B: A/B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

echo "bench/milter: $msgs messages, $sess sessions, Postfix smtpd on $MX:25"
echo "# $(nproc) cores shared by smtp-source, Postfix and the milter; $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), load $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. no milter
run "no milter"
none=$RATE
printf '%-14s %6s msg/s\n' "no milter" "$none"

# 2. the no-op filter
NPORT=$(free_port)
"$NOOP" "inet:$NPORT@127.0.0.1" </dev/null >"$WORLD/noop_milter.log" 2>&1 &
NPID=$!
at_exit "kill $NPID 2>/dev/null; wait $NPID 2>/dev/null"
bench_listening noop_milter "$NPID" "$NPORT" "$WORLD/noop_milter.log"
run_milter "no-op filter" noop_milter "$NPORT" "$NPID"
noop=$RATE
printf '%-14s %6s msg/s   %s of no milter\n' "no-op filter" "$noop" "$(ratio "$noop" "$none")"

# 3. danemilter
MILTER_PORT=""
bench_danemilter
[ -n "$MILTER_PORT" ] || bail "tests/lib.sh daemon_conf sets no MILTER_PORT (no milter configuration)"
ss -Hltnp "sport = :$MILTER_PORT" 2>/dev/null | grep -q "pid=$DAEMON_PID," ||
	bail "danemilter does not listen on its milter port $MILTER_PORT"
run_milter "danemilter" danemilter "$MILTER_PORT" "$DAEMON_PID"
dm=$RATE
printf '%-14s %6s msg/s   %s of no-op\n' "danemilter" "$dm" "$(ratio "$dm" "$noop")"
