#!/usr/bin/env bash
# run-fleet.sh: the fleet's shared cache on Redis (cache.shared), in one
# command.
#
#   bench/run-fleet.sh [-t SHARED_TIMEOUT_MS]
#
# Builds danemilter (in $top_builddir, default _build/plain; configured
# there first if needed), starts a test world (bench/lib.sh bench_world)
# and a redis-server on a free 127.0.0.1 port (package redis-server,
# installed with apt-get when missing; stopped by PID on exit), then runs
# the same workload, every mail domain of the world with an MTA-STS
# policy plus the DANE domains (one socketmap QUERY each, through every
# member of the fleet at once), through:
#   solo           1 member, no shared cache
#   solo+shared    1 member with the shared cache
#   fleet          3 members, no shared cache
#   fleet+shared   3 members sharing Redis
# and prints, per scenario, the DNS queries (danemilter_dns_queries_total)
# and the HTTPS policy fetches (danemilter_mtasts_fetches_total) per
# domain summed over the fleet (the goal: 1.0 with sharing against 3.0
# without), and the p50 / p99 / max latency of the replies. Then:
#   shared hit     a fresh member asked the workload Redis holds: the
#                  latency of a reply from the shared cache
#   redis stalled  a fresh member with Redis stopped by SIGSTOP (a Redis
#                  that does not answer) and
#   redis down     ... killed (connections refused): the latency of the
#                  same cold workload, and the latency added to solo's,
#                  domain by domain (goal: at most shared_timeout_ms)
# The figures are printed, never judged. Exit non-zero only when a
# server cannot be started or a reply is an error.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
tmo=50
while getopts t: opt; do
	case $opt in
	t) tmo=$OPTARG ;;
	*) echo "usage: bench/run-fleet.sh [-t SHARED_TIMEOUT_MS]" >&2; exit 64 ;;
	esac
done

# shellcheck source=bench/builddir.sh
. "$top/bench/builddir.sh"
make -s -C "$builddir" danemilter >&2
command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
	bench_install run-fleet.sh redis-server redis-tools

bench_world
RPORT=$(free_port)
redis_start() {
	redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORLD" \
		--logfile "$WORLD/redis.log" --daemonize no &
	REDIS_PID=$!
	at_exit "kill -CONT $REDIS_PID 2>/dev/null; kill $REDIS_PID 2>/dev/null; wait $REDIS_PID 2>/dev/null"
	for _ in $(seq 1 100); do
		[ "$(redis-cli -p "$RPORT" PING 2>/dev/null)" = PONG ] && return 0
		sleep 0.05
	done
	bail "redis-server did not start"
}
redis_start
openssl rand -hex 32 >"$WORLD/fleet.key"
SHARED="shared = \"redis://127.0.0.1:$RPORT/0\"; shared_key_file = \"$WORLD/fleet.key\"; shared_timeout_ms = $tmo;"

# the workload: every mail domain of the world with an MTA-STS policy,
# and the DANE domains
# shellcheck disable=SC2153 # from world.env
DOMAINS="$WORLD_STS_DOMAINS partial.dane.test unusable.dane.test implicit.dane.test
cnamehost.dane.test tlsacname.dane.test notlsa.dane.test nullmx.dane.test unsigned.test"
set -f
# shellcheck disable=SC2086
set -- $DOMAINS
set +f
NDOM=$#

# member NAME CACHE-KEYS: a fresh daemon with its metrics endpoint
member() {
	local mp conf="$WORLD/$1.conf"
	mp=$(free_port)
	daemon_conf "$conf" "metrics = { listen = \"inet:127.0.0.1:$mp\"; };" "cache = { $2 };"
	sed -i 's/level = "info"/level = "warning"/' "$conf"
	daemon_start "$conf" "$WORLD/$1.log"
	bench_listening "$1 metrics" "$DAEMON_PID" "$mp" "$WORLD/$1.log"
	eval "PORT_$1=$DAEMON_PORT PID_$1=$DAEMON_PID METRICS_$1=$mp"
}
stop_member() {
	local pid
	eval "pid=\$PID_$1"
	kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
}
msum() {        # msum MEMBER FAMILY: the sum of the family's samples
	local mp
	eval "mp=\$METRICS_$1"
	curl -s --max-time 5 "http://127.0.0.1:$mp/metrics" |
		awk -v f="$2" 'index($1, f) == 1 && (substr($1, length(f) + 1, 1) == "{" || length($1) == length(f)) { s += $2 } END { print s + 0 }'
}
# ask MEMBER OUT: the workload through MEMBER, one "<latency ms> <reply>" line per domain
ask() {
	local port
	eval "port=\$PORT_$1"
	"$PYTHON" - "$port" "$2" $DOMAINS <<'PY'
import socket, sys, time
port, out, keys = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
def ns(b): return str(len(b)).encode() + b":" + b + b","
with open(out, "w") as f:
    for k in keys:
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        t = time.monotonic()
        s.sendall(ns(b"QUERY " + k.encode()))
        buf = b""
        while True:
            c = s.recv(65536)
            if not c: break
            buf += c
            n, _, rest = buf.partition(b":")
            if n.isdigit() and len(rest) >= int(n) + 1: break
        ms = (time.monotonic() - t) * 1000
        s.close()
        n, _, rest = buf.partition(b":")
        f.write("%.1f %s\n" % (ms, rest[:int(n)].decode() if n.isdigit() else "ERR"))
PY
}
# pct FILE...: "p50 p99 max" of the latencies
pct() {
	cat "$@" | awk '{ print $1 }' | sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "- - -"; exit }
		i = int((NR + 1) / 2); j = int(NR * 0.99 + 0.999); if (j > NR) j = NR
		printf "%.1f %.1f %.1f", v[i], v[j], v[NR] }'
}
errors() { cat "$@" | awk '$2 != "OK" && $2 != "NOTFOUND" && $2 != "TEMP"' | head -3; }

printf '%-14s %7s %9s %11s %8s %8s %8s\n' scenario members "dns/dom" "fetches/dom" "p50 ms" "p99 ms" "max ms"
# scenario NAME N CACHE-KEYS
scenario() {
	local name=$1 n=$2 keys=$3 i m dns=0 f=0 pids="" outs=""
	redis-cli -p "$RPORT" FLUSHALL >/dev/null
	for i in $(seq 1 "$n"); do member "M$i" "$keys"; done
	for i in $(seq 1 "$n"); do
		ask "M$i" "$WORLD/out.$name.$i" &
		pids="$pids $!"
		outs="$outs $WORLD/out.$name.$i"
	done
	# shellcheck disable=SC2086
	wait $pids
	for i in $(seq 1 "$n"); do
		dns=$((dns + $(msum "M$i" danemilter_dns_queries_total)))
		f=$((f + $(msum "M$i" danemilter_mtasts_fetches_total)))
	done
	# shellcheck disable=SC2086
	[ -z "$(errors $outs)" ] || { errors $outs; bail "$name: error replies"; }
	# shellcheck disable=SC2086
	printf '%-14s %7s %9s %11s %8s %8s %8s\n' "$name" "$n" \
		"$(awk -v a=$dns -v b=$NDOM 'BEGIN { printf "%.2f", a / b }')" \
		"$(awk -v a=$f -v b=$NDOM 'BEGIN { printf "%.2f", a / b }')" $(pct $outs)
	for i in $(seq 1 "$n"); do stop_member "M$i"; done
}
scenario solo 1 ""
scenario solo+shared 1 "$SHARED"
scenario fleet 3 ""
scenario fleet+shared 3 "$SHARED"

# a fresh member takes what fleet+shared left in Redis: shared hits
member H1 "$SHARED"; ask H1 "$WORLD/out.hit1"; stop_member H1
member H2 "$SHARED"; ask H2 "$WORLD/out.hit2"
h=$(msum H2 danemilter_shared_cache_hits_total); stop_member H2
printf '%-14s %7s %9s %11s %8s %8s %8s   (%s of %s from Redis)\n' "shared hit" 1 - - $(pct "$WORLD/out.hit1" "$WORLD/out.hit2") "$h" "$NDOM"

# Redis that does not answer, then Redis gone: the same cold workload
kill -STOP "$REDIS_PID"
member S1 "$SHARED"; sleep 1.5      # its handshake gives up after 1 s: down from the start
ask S1 "$WORLD/out.stall.down"
stop_member S1
member S2 "$SHARED"
kill -CONT "$REDIS_PID"; sleep 0.3  # S2 connected: up
kill -STOP "$REDIS_PID"
ask S2 "$WORLD/out.stall"           # the first claim waits shared_timeout_ms, then alone
e=$(msum S2 danemilter_shared_cache_errors_total)
stop_member S2
kill -CONT "$REDIS_PID"; kill "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null || true
member S3 "$SHARED"
ask S3 "$WORLD/out.down"
stop_member S3
# the added latency, domain by domain (the same workload in the same order)
added() {
	paste -d ' ' "$WORLD/out.solo.1" "$1" | awk '{ print $3 - $1 }' | sort -n |
		awk '{ v[NR] = $1 } END { i = int((NR + 1) / 2); printf "p50 %+.1f ms, max %+.1f ms", v[i], v[NR] }'
}
for s in "redis stalled:out.stall" "stalled, down:out.stall.down" "redis down:out.down"; do
	# shellcheck disable=SC2046
	printf '%-14s %7s %9s %11s %8s %8s %8s   added to solo, per domain: %s\n' "${s%%:*}" 1 - - \
		$(pct "$WORLD/${s#*:}") "$(added "$WORLD/${s#*:}")"
done
echo "(redis stalled: the first claim timed out after ${tmo} ms, $e errors counted, then the member went on alone)"
