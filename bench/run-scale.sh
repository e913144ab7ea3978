#!/usr/bin/env bash
# run-scale.sh: what danemilter costs as the work grows, in one command.
#
#   bench/run-scale.sh [-n DOMAINS] [-c CONNS] [-s "10000 100000 1000000"]
#
# Builds danemilter and bench/socketmap ($top_builddir, default
# _build/plain: bench/builddir.sh), starts a test world with the generated
# zone gen.test of DOMAINS mail domains (default 10,000; world.sh
# WORLD_GEN_DOMAINS: 60 % usable DANE, 30 % none, 10 % bogus TLSA), its
# validating unbound (postfix.sh start-resolver, for mta-sts-daemon), and
# prints:
#
# 1. Cold resolution: a danemilter (cache.min_ttl 3600, log level error,
#    metrics on) asked every gen.test domain once over the socketmap by
#    bench/socketmap -S -N DOMAINS -c CONNS (default 16 connections: the
#    concurrency; every reply checked against the domain's expected one).
#    Figures: domains per second (DOMAINS / the load generator's wall
#    time), DNS queries that reached NSD per domain (nsd-control
#    stats_noreset num.queries, before and after; includes the DNSSEC
#    chain, DNSKEY and DS, fetched once), the daemon's own DNS queries per
#    domain (danemilter_dns_queries_total, before and after: libunbound's
#    validator queries not included), and the sequential DNS round trips
#    (the critical path) and queries of one lookup of a domain of each kind
#    (dI, pI, tI) from `danemilter query --json` (dane_detail rounds and
#    queries).
# 2. CPU per cache-hit request: the same danemilter (its cache now holds
#    every key) and Debian's mta-sts-daemon (bench/lib.sh bench_resolver),
#    primed on the keys of bench/run-socketmap.sh (enforce.sts.test,
#    changing.sts.test, usable.dane.test: bench_prime), then
#    bench/socketmap -c CONNS -d 5 against each in turn; each server's
#    CPU time is read from its own /proc/PID/stat (utime + stime, all its
#    threads) before and after, divided by the replies the load generator
#    got (warm-up included: all fall between the two readings).
# 3. RSS per cached verdict: the daemon above is stopped (SIGTERM: it
#    saves its cache file), one saved "e" line of each kind (dI, pI, tI;
#    a kind it did not save, tI: temporary errors are not saved, takes dI's)
#    is the template of generated cache files of N verdicts (-s, default 10^4, 10^5 and 10^6; the kinds
#    in the zone's proportions; domains xN.scale.test; expiring in 23 h;
#    resolving 10^6 domains is not practical here, loading them is what
#    a restart does). A daemon (cache.max_entries N, so that its hash
#    table, the next power of two >= N buckets of 8 bytes, is part of the
#    cost; max_ttl 86400) is started on each file and on an empty one (the
#    header line only, max_entries 1000): the time from exec to its socketmap listening (polled
#    every 10 ms), its VmRSS 1 s later, and danemilter_cache_entries
#    (must equal N). Per verdict: (RSS(N) - RSS(empty)) / N. The load
#    time of a file is the start time with it less the start time with
#    the empty one (the fastest of three starts).
#
# The figures are printed, never judged. Exit non-zero only when something
# cannot be built or started, or a server answers wrongly. Everything is
# stopped on exit (trap EXIT, by PID).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
domains=10000
conns=16
sizes="10000 100000 1000000"
while getopts n:c:s: opt; do
	case $opt in
	n) domains=$OPTARG ;;
	c) conns=$OPTARG ;;
	s) sizes=$OPTARG ;;
	*) echo "usage: bench/run-scale.sh [-n DOMAINS] [-c CONNS] [-s \"10000 100000 1000000\"]" >&2; exit 64 ;;
	esac
done
case $domains$conns${sizes// /} in *[!0-9]* | '') echo "run-scale: -n, -c and -s take numbers" >&2; exit 64 ;; esac
if [ "$domains" -lt 10 ] || [ "$domains" -gt 200000 ]; then
	echo "run-scale: -n from 10 to 200000" >&2
	exit 64
fi
for n in $sizes; do
	if [ "$n" -lt 1 ] || [ "$n" -gt 2000000 ]; then
		echo "run-scale: -s sizes from 1 to 2000000" >&2
		exit 64
	fi
done
KEYS="enforce.sts.test changing.sts.test usable.dane.test"

# ---- build, packages
# shellcheck source=bench/builddir.sh
. "$top/bench/builddir.sh"
make -s -C "$builddir" danemilter bench/socketmap >&2
LOADGEN=$builddir/bench/socketmap
bench_resolver_install run-scale

# ---- the world
export WORLD_GEN_DOMAINS=$domains
bench_world
bash "$top/tests/world/postfix.sh" start-resolver "$WORLD" >&2 ||
	bail "the world's validating unbound did not start"
GKEYS=$WORLD/scale-keys
awk -v n="$domains" 'BEGIN {
	for (i = 0; i < n; i++) {
		k = i % 10
		if (k <= 5) printf "d%d.gen.test\tOK dane-only\n", i
		else if (k <= 8) printf "p%d.gen.test\tNOTFOUND\n", i
		else printf "t%d.gen.test\tTEMP\n", i
	}
}' >"$GKEYS"

# helpers
# cpu PID: utime + stime of PID in clock ticks (fields 14 and 15 of stat;
# the command name in parentheses may hold spaces).
cpu() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
rss() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }
field() { local v; v=$(tr ' ' '\n' <"$1" | sed -n "s/^$2=//p" | head -n 1); echo "${v:-0}"; }
# metric PORT NAME: the sum of every line of metric NAME.
metric() {
	curl -s --max-time 5 "http://127.0.0.1:$1/metrics" |
		awk -v n="$2" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%.0f\n", s }'
}
nsd_queries() {
	nsd-control -c "$WORLD_NSD_CONF" stats_noreset 2>/dev/null | sed -n 's/^num\.queries=//p'
}
TCK=$(getconf CLK_TCK)

echo "# run-scale: $domains gen.test domains, $conns connections; $(nproc) cores,"\
	"$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), load $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- 1. cold resolution
MPORT=$(free_port)
DCONF=$WORLD/scale-danemilter.conf
DLOG=$WORLD/scale-danemilter.log
daemon_conf "$DCONF" \
	"cache = { min_ttl = 3600; file = \"$WORLD/scale-saved\"; save_interval = 0; };" \
	"metrics = { listen = \"inet:127.0.0.1:$MPORT\"; };"
sed -i 's/level = "info"/level = "error"/' "$DCONF"
daemon_start "$DCONF" "$DLOG"
q0=$(nsd_queries)
[ -n "$q0" ] || bail "nsd-control stats_noreset gives no num.queries"
d0=$(metric "$MPORT" danemilter_dns_queries_total)
"$LOADGEN" -h 127.0.0.1 -p "$DAEMON_PORT" -c "$conns" -S -N "$domains" -w 0 -d 3600 -t 30000 \
	-k "$GKEYS" >"$WORLD/cold" 2>"$WORLD/cold.err" ||
	{ sed 's/^/# /' "$WORLD/cold" "$WORLD/cold.err"; bail "the cold resolution had errors"; }
q1=$(nsd_queries)
d1=$(metric "$MPORT" danemilter_dns_queries_total)
secs=$(field "$WORLD/cold" secs)
echo "# cold: $(cat "$WORLD/cold")"
awk -v n="$domains" -v s="$secs" -v c="$conns" -v q=$((q1 - q0)) -v d=$((d1 - d0)) 'BEGIN {
	printf "cold resolution: %d domains in %.1f s at %d connections: %.0f domains/s; DNS queries per domain: %.2f at NSD, %.2f by the daemon\n", n, s, c, n / s, q / n, d / n
}'
for d in d0.gen.test p6.gen.test t9.gen.test; do
	"$DANEMILTER" query -c "$WORLD_CONF" --json "$d" 2>/dev/null |
		"$PYTHON" -c 'import json, sys
d = json.loads(sys.stdin.readline())
x = d.get("dane_detail", {})
print("one lookup of %-12s policy %-10s DNS round trips %s, queries %s" % (sys.argv[1], d.get("policy"), x.get("rounds"), x.get("queries")))' "$d" ||
		echo "one lookup of $d: danemilter query --json failed"
done

# ---- 2. CPU per cache-hit request
bench_resolver
# shellcheck disable=SC2086 # the keys, split on purpose
bench_prime $KEYS
# hits PID PORT: "replies ticks" of a 5 s run against the server on PORT.
hits() {
	local c0 c1 rc=0
	c0=$(cpu "$1")
	# shellcheck disable=SC2086
	"$LOADGEN" -h 127.0.0.1 -p "$2" -c "$conns" -d 5 $KEYS >"$WORLD/hits" 2>"$WORLD/hits.err" || rc=$?
	c1=$(cpu "$1")
	[ "$rc" = 0 ] || { sed 's/^/# /' "$WORLD/hits" "$WORLD/hits.err"; bail "the load generator reported errors against port $2"; }
	echo "$(field "$WORLD/hits" replies) $((c1 - c0))"
}
grep -q mta-sts-daemon "/proc/$RPID/cmdline" || bail "process $RPID is not mta-sts-daemon"
read -r dm_n dm_t <<<"$(hits "$DAEMON_PID" "$DAEMON_PORT")"
read -r rs_n rs_t <<<"$(hits "$RPID" "$RPORT")"
awk -v a="$dm_n" -v at="$dm_t" -v b="$rs_n" -v bt="$rs_t" -v tck="$TCK" -v c="$conns" 'BEGIN {
	x = at / tck * 1e6 / a; y = bt / tck * 1e6 / b
	printf "CPU per cache-hit request (%d connections, 5 s each, server CPU from /proc/PID/stat):\n", c
	printf "  danemilter     %.2f us  (%d requests, %.2f s CPU)\n", x, a, at / tck
	printf "  mta-sts-daemon %.2f us  (%d requests, %.2f s CPU)  %.1fx danemilter\n", y, b, bt / tck, y / x
}'
kill "$RPID" 2>/dev/null || true

# ---- 3. RSS per cached verdict, cache file load time
kill -TERM "$DAEMON_PID"
for _ in $(seq 1 300); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
wait "$DAEMON_PID" 2>/dev/null || true
[ -s "$WORLD/scale-saved" ] || bail "the daemon saved no cache file"
TPL=$WORLD/scale-template
: >"$TPL"
for k in d p t; do
	awk -v k="$k" '$1 == "e" && substr($2, 1, 1) == k && $2 ~ /\.gen\.test$/ { print k, $0; exit }' \
		"$WORLD/scale-saved" >>"$TPL"
done
[ -s "$TPL" ] || bail "no verdict line in the saved cache file"
echo "# templates from the saved file: $(cut -d' ' -f1 "$TPL" | tr '\n' ' ')(of $(grep -c '^e ' "$WORLD/scale-saved") verdicts saved)"
# gen N FILE: N verdicts from the templates; kind by i mod 10 as gen.test.
gen() {
	awk -v n="$1" -v ex=$(($(date +%s) + 23 * 3600)) '
	FILENAME == ARGV[1] { k = $1; sub(/^[dpt] /, ""); t[k] = $0; next }
	END {
		print "danemilter-cache 1"
		for (i = 0; i < n; i++) {
			m = i % 10
			k = m <= 5 ? "d" : m <= 8 ? "p" : "t"
			if (!(k in t)) k = "d"
			split(t[k], f, " ")
			f[2] = k i ".scale.test"; f[3] = ex
			line = f[1]
			for (j = 2; j in f; j++) line = line " " f[j]
			print line
		}
	}' "$TPL" /dev/null >"$2"
}
# start_on FILE MAX: a daemon loading FILE (cache.max_entries MAX); sets SPID, START_MS (exec to the
# socketmap listening), RSS_KIB (1 s later), ENTRIES; then stops it.
start_on() {
	local conf=$WORLD/scale-run.conf log=$WORLD/scale-run.log t0 t1 i
	cp "$1" "$WORLD/scale-run-cache"
	daemon_conf "$conf" \
		"cache = { min_ttl = 3600; max_ttl = 86400; max_entries = $2; file = \"$WORLD/scale-run-cache\"; save_interval = 0; };" \
		"metrics = { listen = \"inet:127.0.0.1:$MPORT\"; };"
	sed -i 's/level = "info"/level = "error"/' "$conf"
	t0=$(date +%s%N)
	"$DANEMILTER" -f -c "$conf" 2>>"$log" &
	SPID=$!
	at_exit "kill $SPID 2>/dev/null"
	for i in $(seq 1 6000); do # 60 s
		ss -Hltnp "sport = :$DAEMON_PORT" 2>/dev/null | grep -q "pid=$SPID," && break
		kill -0 "$SPID" 2>/dev/null || { sed 's/^/# /' "$log"; bail "danemilter did not start on $1"; }
		sleep 0.01
	done
	t1=$(date +%s%N)
	START_MS=$(((t1 - t0) / 1000000))
	sleep 1
	RSS_KIB=$(rss "$SPID")
	ENTRIES=$(metric "$MPORT" danemilter_cache_entries)
	rm -f "$WORLD/scale-run-cache" # nothing to save at exit
	kill -TERM "$SPID"
	for i in $(seq 1 600); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
	wait "$SPID" 2>/dev/null || true
}
gen 0 "$WORLD/scale-0"
base_ms=999999
for _ in 1 2 3; do # the fastest of three: the start time without a cache
	start_on "$WORLD/scale-0" 1000
	[ "$START_MS" -ge "$base_ms" ] || base_ms=$START_MS
done
base_rss=$RSS_KIB
printf 'cache file of %8s verdicts: start %5d ms, RSS %7d KiB, entries %s\n' 0 "$base_ms" "$base_rss" "$ENTRIES"
for n in $sizes; do
	gen "$n" "$WORLD/scale-$n"
	start_on "$WORLD/scale-$n" "$n"
	[ "$ENTRIES" = "$n" ] || echo "# note: $ENTRIES entries loaded of $n"
	printf 'cache file of %8s verdicts: start %5d ms, RSS %7d KiB, entries %s; %.0f bytes per verdict; load %d ms (%s bytes)\n' \
		"$n" "$START_MS" "$RSS_KIB" "$ENTRIES" "$(awk -v a="$RSS_KIB" -v b="$base_rss" -v n="$n" 'BEGIN { print (a - b) * 1024 / n }')" \
		"$((START_MS - base_ms))" "$(stat -c %s "$WORLD/scale-$n")"
	rm -f "$WORLD/scale-$n"
done
