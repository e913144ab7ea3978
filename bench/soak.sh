#!/usr/bin/env bash
# soak.sh: one danemilter daemon (socketmap + milter + metrics) under a
# mixed load for the whole run; its memory and descriptors before and after.
#
#   bench/soak.sh [-q QUERIES] [-m MESSAGES] [-d DOMAINS] [--asan]
#
# Defaults: -q 100000 -m 10000 -d 10000 (the goal of issue 15 is stated at
# -q 1000000 -m 100000). --asan: the ASan+UBSan build ($top_builddir,
# default _build/asan, configured with --enable-sanitizers when new; an
# existing one must have been) instead of the plain one (_build/plain).
#
# The world (bench/lib.sh bench_world) is started with WORLD_GEN_DOMAINS =
# DOMAINS: the signed zone gen.test served by NSD (tests/world/world.sh:
# 60 % dI.gen.test with usable DANE, "OK dane-only"; 30 % pI.gen.test with
# no TLSA and no MTA-STS, "NOTFOUND"; 10 % tI.gen.test whose TLSA RRSIG is
# corrupted, "TEMP"). Its inbound Postfix (postfix.sh start-inbound with
# IN_DISCARD=1: accepted mail is discarded) has danemilter's milter.
# danemilter runs with cache.min_ttl 0, max_ttl 30, error_ttl 5 (verdicts
# expire while the load runs: hits, misses, expiries and refreshes all
# happen), a cache file saved every 10 s, metrics on a free port, log level
# "error" (every line it logs is an error).
#
# Phases:
#   warm-up  every domain asked twice over the socketmap (cold, then hot);
#            then cycles of the load's own shape (below: 3 x DOMAINS
#            queries, 1000 messages, SIGHUPs, scrapes) until the daemon's
#            RSS is steady: twice in a row a cycle added less than 1 % (at
#            most 15 cycles, 3 with --asan; the RSS after each is printed). Its footprint
#            is bounded but fills up: a reload starts a new engine whose
#            libunbound caches fill again while the previous one finishes
#            its resolutions, and glibc's malloc arenas (one per thread
#            that allocates, up to 8 per core) keep what they grew to.
#            Then 3 s of quiet and the first sample of the daemon's RSS
#            (VmRSS of /proc/PID/status) and open descriptors
#            (/proc/PID/fd).
#   load     at once, until both are done (the function mixed):
#            - QUERIES socketmap requests in rounds of DOMAINS: each round
#              is bench/socketmap -S -c 16 -N DOMAINS over every domain
#              (new connections; each key once), each reply checked
#              against the domain's expected one (key file, -k); a second
#              of pause between rounds while messages still flow, so that
#              the queries spread over the run;
#            - bench/smtp_load.py: MESSAGES messages to the inbound Postfix,
#              8 processes, 20 messages per connection, every other
#              connection STARTTLS (the world's CA), 1 to 4 recipients at
#              random gen.test domains, the sender at one too;
#            - SIGHUP to the daemon every 10 s (a reload starts a new
#              engine: every cached verdict is resolved again, from NSD);
#            - GET /metrics every 2 s (curl, 5 s bound): HTTP 200 with
#              danemilter_cache_hits_total in the body.
#   end      3 s of quiet, the second sample; the daemon is stopped with
#            SIGTERM and must exit 0 within 15 s.
# The last line is exactly:
#   soak: queries=N messages=M rss_start_kib=A rss_end_kib=B growth=G% fds_start=C fds_end=D errors=E
# N and M are the replies and accepted messages of the load phase; growth
# = (B - A) / A in %, one decimal. errors = the load generator's errors
# (a reply missing, malformed or not the domain's expected one: an
# expected TEMP is no error, a TEMP elsewhere is) + the messages not
# accepted (a refused RCPT, a 4xx/5xx, a dropped connection) + daemon
# errors: lines in its log (level error), scrapes that failed, the daemon
# dead before the end or not exiting 0 at SIGTERM, and with --asan every
# AddressSanitizer, LeakSanitizer or UBSan report (UBSan does not halt:
# halt_on_error=0, so that every report is counted). Lines before it
# ("# ...") give the counters. Exit 0 when errors is 0, else 1 (the
# figures are printed either way; growth and descriptors are not judged).
# Everything started is stopped on exit (lib.sh's EXIT trap, by PID).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
queries=100000
msgs=10000
domains=10000
asan=0
usage() { echo "usage: bench/soak.sh [-q QUERIES] [-m MESSAGES] [-d DOMAINS] [--asan]" >&2; exit 64; }
while [ $# -gt 0 ]; do
	case $1 in
	-q) [ $# -ge 2 ] || usage; queries=$2; shift 2 ;;
	-m) [ $# -ge 2 ] || usage; msgs=$2; shift 2 ;;
	-d) [ $# -ge 2 ] || usage; domains=$2; shift 2 ;;
	--asan) asan=1; shift ;;
	*) usage ;;
	esac
done
case $queries$msgs$domains in *[!0-9]* | '') echo "soak: -q, -m and -d take numbers" >&2; exit 64 ;; esac
if [ "$queries" -lt 1 ] || [ "$domains" -lt 10 ] || [ "$domains" -gt 200000 ]; then
	echo "soak: -q at least 1, -d from 10 to 200000" >&2
	exit 64
fi
HUP_EVERY=10
SCRAPE_EVERY=2
CONNS=16
MAIL_PROCS=8
WARM_MSGS=1000
WARM_MAX=15

# ---- build
if [ "$asan" = 1 ]; then
	top_builddir=${top_builddir:-$top/_build/asan}
	builddir_flags=--enable-sanitizers
	WARM_MAX=3 # ASan's quarantine keeps freed memory anyway: the reports are the point
fi
# shellcheck source=bench/builddir.sh
. "$top/bench/builddir.sh"
if [ "$asan" = 1 ] && ! grep -q -- '--enable-sanitizers' "$builddir/config.status"; then
	echo "soak: --asan: $builddir is not configured with --enable-sanitizers" >&2
	exit 1
fi
make -s -C "$builddir" danemilter bench/socketmap >&2
LOADGEN=$builddir/bench/socketmap
export LSAN_OPTIONS="suppressions=$top/tests/lsan.supp print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=0"
export ASAN_OPTIONS="detect_leaks=1"

# ---- the world (with gen.test), the daemon, the inbound Postfix
export WORLD_GEN_DOMAINS=$domains
bench_world
KEYS=$WORLD/soak-keys
awk -v n="$domains" 'BEGIN {
	for (i = 0; i < n; i++) {
		k = i % 10
		if (k <= 5) printf "d%d.gen.test\tOK dane-only\n", i
		else if (k <= 8) printf "p%d.gen.test\tNOTFOUND\n", i
		else printf "t%d.gen.test\tTEMP\n", i
	}
}' >"$KEYS"
MPORT=$(free_port)
DCONF=$WORLD/soak-danemilter.conf
DLOG=$WORLD/soak-danemilter.log
daemon_conf "$DCONF" \
	"cache = { min_ttl = 0; max_ttl = 30; error_ttl = 5; file = \"$WORLD/soak-cache\"; save_interval = 10; };" \
	"metrics = { listen = \"inet:127.0.0.1:$MPORT\"; };"
sed -i 's/level = "info"/level = "error"/' "$DCONF"
while [ "$MPORT" = "$DAEMON_PORT" ] || [ "$MPORT" = "$MILTER_PORT" ]; do
	old=$MPORT
	MPORT=$(free_port)
	sed -i "s/127\.0\.0\.1:$old\"/127.0.0.1:$MPORT\"/" "$DCONF"
done
daemon_start "$DCONF" "$DLOG"
IN_DISCARD=1 bash "$top/tests/world/postfix.sh" start-inbound "$WORLD" \
	"inet:127.0.0.1:$MILTER_PORT" >&2 || bail "postfix.sh start-inbound failed"
MX=$WORLD_NET.6

# ---- helpers
# sample: "RSS_KIB FDS" of the daemon.
sample() {
	local rss
	rss=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$DAEMON_PID/status")
	echo "$rss $(find "/proc/$DAEMON_PID/fd" -mindepth 1 -maxdepth 1 | wc -l)"
}
# scrape FILE: GET /metrics into FILE; 0 when it is a good answer.
scrape() {
	local code
	code=$(curl -s -o "$1" -w '%{http_code}' --max-time 5 "http://127.0.0.1:$MPORT/metrics") || return 1
	[ "$code" = 200 ] && grep -q '^danemilter_cache_hits_total ' "$1"
}
# metric FILE NAME [LABELS]: the value of one metric line (0 if absent).
metric() {
	local n=$2
	[ -z "${3:-}" ] || n="$n{$3}"
	N=$n awk '$1 == ENVIRON["N"] { v = $2 } END { print v + 0 }' "$1"
}
# loadgen N OUT: bench/socketmap -S over every key until N replies.
loadgen() {
	"$LOADGEN" -h 127.0.0.1 -p "$DAEMON_PORT" -c "$CONNS" -S -N "$1" -w 0 -d 86400 \
		-t 20000 -k "$KEYS" >"$2" 2>"$2.err"
}
# mail N SEED OUT: bench/smtp_load.py.
mail() {
	"$PYTHON" "$top/bench/smtp_load.py" --server "$MX:25" --domains "$KEYS" \
		--messages "$1" --seed "$2" --ca "$WORLD_CA" --procs "$MAIL_PROCS" >"$3" 2>"$3.err"
}
# field FILE NAME: NAME=VALUE from a one-line report.
field() { local v; v=$(tr ' ' '\n' <"$1" | sed -n "s/^$2=//p" | head -n 1); echo "${v:-0}"; }
daemon_alive() { kill -0 "$DAEMON_PID" 2>/dev/null; }

echo "# soak: $queries queries, $msgs messages, $domains domains (gen.test), $(nproc) cores; $([ "$asan" = 1 ] && echo 'ASan+UBSan build' || echo 'plain build') $builddir"
t_start=$(date +%s)

# mixed TAG Q M SEED: the load's shape until Q queries and M messages are
# done: smtp_load.py (M messages); the queries in rounds of at most DOMAINS
# (bench/socketmap -S -N, new connections each), a second's pause between
# rounds while messages flow, so that they spread over the run; SIGHUP
# every HUP_EVERY s; a scrape and an RSS sample every SCRAPE_EVERY s.
# Writes $WORLD/TAG-sm ("rounds= replies= errors= ok= notfound= temp="),
# TAG-mail (smtp_load's line), TAG-hups, TAG-scrapes ("N FAILED"),
# TAG-rss ("SECONDS RSS FDS" per scrape) and *.err files.
mixed() {
	local tag=$1 q=$2 m=$3 seed=$4 stop=$WORLD/$1-stop maildone=$WORLD/$1-mail-done
	local t0 mpid spid hpid cpid
	t0=$(date +%s)
	: >"$WORLD/$tag-sm.err"
	{ mail "$m" "$seed" "$WORLD/$tag-mail"; touch "$maildone"; } &
	mpid=$!
	at_exit "kill $mpid 2>/dev/null"
	(
		left=$q sum_r=0 sum_e=0 sum_ok=0 sum_nf=0 sum_t=0 rounds=0 rc=0
		while [ "$left" -gt 0 ]; do
			n=$((left < domains ? left : domains))
			loadgen "$n" "$WORLD/$tag-round" ||
				{ rc=1; sed "s/^/round $rounds: /" "$WORLD/$tag-round.err" >>"$WORLD/$tag-sm.err"; }
			sum_r=$((sum_r + $(field "$WORLD/$tag-round" replies)))
			sum_e=$((sum_e + $(field "$WORLD/$tag-round" errors)))
			sum_ok=$((sum_ok + $(field "$WORLD/$tag-round" ok)))
			sum_nf=$((sum_nf + $(field "$WORLD/$tag-round" notfound)))
			sum_t=$((sum_t + $(field "$WORLD/$tag-round" temp)))
			rounds=$((rounds + 1))
			left=$((left - n))
			[ -e "$maildone" ] || sleep 1
		done
		echo "rounds=$rounds replies=$sum_r errors=$sum_e ok=$sum_ok notfound=$sum_nf temp=$sum_t" >"$WORLD/$tag-sm"
		exit "$rc"
	) &
	spid=$!
	at_exit "kill $spid 2>/dev/null"
	(
		n=0
		echo 0 >"$WORLD/$tag-hups"
		while [ ! -e "$stop" ]; do
			sleep "$HUP_EVERY"
			[ -e "$stop" ] && break
			kill -HUP "$DAEMON_PID" 2>/dev/null || break
			n=$((n + 1))
			echo "$n" >"$WORLD/$tag-hups"
		done
	) &
	hpid=$!
	at_exit "kill $hpid 2>/dev/null"
	(
		n=0 bad=0
		while [ ! -e "$stop" ]; do
			n=$((n + 1))
			scrape "$WORLD/metrics.scrape" ||
				{ bad=$((bad + 1)); cp "$WORLD/metrics.scrape" "$WORLD/metrics.bad.$bad" 2>/dev/null || true; }
			echo "$n $bad" >"$WORLD/$tag-scrapes"
			echo "$(($(date +%s) - t0)) $(sample)" >>"$WORLD/$tag-rss"
			sleep "$SCRAPE_EVERY"
		done
	) &
	cpid=$!
	at_exit "kill $cpid 2>/dev/null"
	SM_RC=0
	wait "$spid" || SM_RC=$?
	wait "$mpid" || true
	touch "$stop"
	wait "$hpid" || true
	wait "$cpid" || true
}

# ---- warm-up
scrape "$WORLD/metrics.0" || bail "the first scrape of /metrics failed"
loadgen $((2 * domains)) "$WORLD/warm-sm" || { cat "$WORLD/warm-sm" "$WORLD/warm-sm.err" | sed 's/^/# /'; bail "warm-up queries failed"; }
# Then cycles of the load's shape (mixed: 3 rounds of queries, WARM_MSGS
# messages) until the RSS is steady: a cycle that adds less than 1 %
# twice in a row (at most WARM_MAX cycles).
prev=$(sample | cut -d' ' -f1) steady=0 cyc=0 series=$prev
while [ "$cyc" -lt "$WARM_MAX" ] && [ "$steady" -lt 2 ]; do
	cyc=$((cyc + 1))
	mixed "warm$cyc" $((3 * domains)) "$WARM_MSGS" "$((1000 + cyc))"
	if [ "$(field "$WORLD/warm$cyc-sm" errors)" != 0 ] || [ "$SM_RC" != 0 ]; then
		sed 's/^/# /' "$WORLD/warm$cyc-sm" "$WORLD/warm$cyc-sm.err" | head
		bail "warm-up queries failed"
	fi
	[ "$(field "$WORLD/warm$cyc-mail" failed)" = 0 ] ||
		{ sed 's/^/# /' "$WORLD/warm$cyc-mail" "$WORLD/warm$cyc-mail.err"; bail "warm-up messages failed"; }
	daemon_alive || bail "danemilter died during the warm-up"
	cur=$(sample | cut -d' ' -f1)
	series="$series $cur"
	if [ $(((cur - prev) * 100)) -lt "$prev" ]; then steady=$((steady + 1)); else steady=0; fi
	prev=$cur
done
echo "# warm-up: $cyc cycles of $((3 * domains)) queries + $WARM_MSGS messages + SIGHUP every $HUP_EVERY s; RSS KiB after each: $series"
sleep 3
daemon_alive || bail "danemilter died during the warm-up"
read -r rss0 fds0 <<<"$(sample)"
echo "# after warm-up ($(($(date +%s) - t_start)) s): rss=${rss0} KiB fds=$fds0"

# ---- load
t_load=$(date +%s)
mixed load "$queries" "$msgs" 1
sm_rc=$SM_RC
t_end=$(date +%s)
[ ! -s "$WORLD/load-sm.err" ] || sed 's/^/# socketmap: /' "$WORLD/load-sm.err" | head -n 10
[ ! -s "$WORLD/load-mail.err" ] || sed 's/^/# smtp_load: /' "$WORLD/load-mail.err" | head -n 10

# ---- end
sleep 3
alive_end=1
daemon_alive || alive_end=0
rss1=0 fds1=0
[ "$alive_end" = 0 ] || read -r rss1 fds1 <<<"$(sample)"
scrape "$WORLD/metrics.end" || true
stop_rc=0
if [ "$alive_end" = 1 ]; then
	kill -TERM "$DAEMON_PID"
	for _ in $(seq 1 150); do
		daemon_alive || break
		sleep 0.1
	done
	if daemon_alive; then
		stop_rc=timeout
		kill -KILL "$DAEMON_PID" 2>/dev/null || true
	fi
	wait "$DAEMON_PID" || stop_rc=$?
fi

# ---- figures
sm_replies=$(field "$WORLD/load-sm" replies)
[ "$sm_replies" -ge "$queries" ] || sm_rc=1
sm_err=$(field "$WORLD/load-sm" errors)
accepted=$(field "$WORLD/load-mail" accepted)
m_failed=$(field "$WORLD/load-mail" failed)
read -r scrapes scrape_bad <"$WORLD/load-scrapes" || { scrapes=0; scrape_bad=0; }
hups=$(cat "$WORLD/load-hups" 2>/dev/null || echo 0)
# the warm-up's failed scrapes count too
for f in "$WORLD"/warm*-scrapes; do
	[ -e "$f" ] || continue
	read -r _ wb <"$f" || wb=0
	scrape_bad=$((scrape_bad + wb))
done
san=$(grep -cE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$DLOG" || true)
loglines=$(grep -cvE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$DLOG" || true)
daemon_err=$((loglines + scrape_bad + san))
[ "$alive_end" = 1 ] || daemon_err=$((daemon_err + 1))
[ "$stop_rc" = 0 ] || daemon_err=$((daemon_err + 1))
errors=$((sm_err + m_failed + (msgs - accepted - m_failed > 0 ? msgs - accepted - m_failed : 0) + daemon_err))
[ "$sm_rc" = 0 ] || [ "$sm_err" != 0 ] || errors=$((errors + 1)) # a round short of its replies
M=$WORLD/metrics.end
[ -s "$M" ] || M=$WORLD/metrics.scrape
echo "# load phase: $((t_end - t_load)) s; socketmap: $(cat "$WORLD/load-sm")"
echo "# messages: $(cat "$WORLD/load-mail")"
echo "# SIGHUPs: $hups (+ those of the warm-up); scrapes: $scrapes, failed: $scrape_bad"
if [ -s "$WORLD/load-rss" ]; then
	echo "# RSS during the load (s:KiB, every tenth of the run): $(awk '{ t[NR] = $1; r[NR] = $2 }
		END { for (i = 1; i <= 10; i++) { j = int(NR * i / 10); if (j < 1) j = 1; printf "%s:%s ", t[j], r[j] } }' "$WORLD/load-rss")"
	echo "# RSS during the load: min $(sort -k2n "$WORLD/load-rss" | head -n1 | cut -d' ' -f2) max $(sort -k2n "$WORLD/load-rss" | tail -n1 | cut -d' ' -f2) KiB"
fi
if [ -s "$M" ]; then
	echo "# daemon counters: cache hits $(metric "$M" danemilter_cache_hits_total)," \
		"misses $(metric "$M" danemilter_cache_misses_total)," \
		"evictions $(metric "$M" danemilter_cache_evictions_total)," \
		"entries $(metric "$M" danemilter_cache_entries);" \
		"verdicts dane-only $(metric "$M" danemilter_verdicts_total 'policy="dane-only",source="dane"')," \
		"none $(metric "$M" danemilter_verdicts_total 'policy="none",source="none"')," \
		"temperror $(metric "$M" danemilter_verdicts_total 'policy="temperror",source="dane"');" \
		"DNS queries $(awk '$1 ~ /^danemilter_dns_queries_total/ { s += $2 } END { print s + 0 }' "$M");" \
		"socketmap OK $(metric "$M" danemilter_socketmap_requests_total 'reply="OK"')" \
		"NOTFOUND $(metric "$M" danemilter_socketmap_requests_total 'reply="NOTFOUND"')" \
		"TEMP $(metric "$M" danemilter_socketmap_requests_total 'reply="TEMP"');" \
		"milter accept $(metric "$M" danemilter_milter_messages_total 'action="accept"')" \
		"tag $(metric "$M" danemilter_milter_messages_total 'action="tag"')" \
		"tempfail $(metric "$M" danemilter_milter_messages_total 'action="tempfail"')"
fi
echo "# daemon: log lines (errors) $loglines, sanitizer reports $san, alive at the end $alive_end, exit at SIGTERM $stop_rc"
if [ "$loglines" != 0 ] || [ "$san" != 0 ]; then
	head -n 40 "$DLOG" | sed 's/^/#   log: /'
fi
growth=$(awk -v a="$rss0" -v b="$rss1" 'BEGIN { if (a > 0) printf "%.1f", (b - a) * 100 / a; else print "-" }')
echo "soak: queries=${sm_replies:-0} messages=${accepted:-0} rss_start_kib=$rss0 rss_end_kib=$rss1 growth=$growth% fds_start=$fds0 fds_end=$fds1 errors=$errors"
[ "$errors" = 0 ]
