#!/usr/bin/env bash
# run-socketmap.sh: socketmap cache-hit throughput, danemilter against
# Debian's postfix-mta-sts-resolver, in one command.
#
#   bench/run-socketmap.sh [-d SECONDS] [-c "1 16 128"]
#
# Builds danemilter and bench/socketmap (in $top_builddir, default
# _build/plain; configured there first if needed), starts a test world
# (bench/lib.sh bench_world), its validating unbound on .5 (postfix.sh
# start-resolver), danemilter with the world's configuration
# (bench_danemilter) and mta-sts-daemon (package postfix-mta-sts-resolver,
# installed with apt-get when missing) on free 127.0.0.1 ports. Both are
# primed with one request per key, then bench/socketmap runs -d seconds
# (default 3) at each connection count against each, and one table is
# printed. Everything is stopped on exit (trap EXIT, by PID).
#
# mta-sts-daemon (bench/lib.sh bench_resolver): its own YAML (internal
# cache, cache_grace 3600 so every
# request in the run is a cache hit, require_sni as shipped; reuse_port
# stays true: 1.1.2 cannot start with false), run inside
# `unshare -m` with a private resolv.conf ("nameserver <.5>") bind-mounted
# over /etc/resolv.conf (c-ares reads it; the host's file is never
# touched), SSL_CERT_FILE = the world's test CA (Python's default SSL
# context reads it for the HTTPS policy fetch), proxy variables unset.
# danemilter: cache.min_ttl 3600 for the same reason.
#
# Keys: enforce.sts.test, changing.sts.test (both MTA-STS enforce) and
# usable.dane.test (DANE for danemilter, whose answer is "dane-only";
# MTA-STS enforce for the resolver, which knows no DANE). Not
# crlf.sts.test: its policy says "mode: enforce" then "mode: testing";
# danemilter takes the first (enforce), the resolver the last (testing:
# NOTFOUND), so the two would not be answering the same question.
#
# The figures are printed, never judged. Exit non-zero only when a server
# cannot be started, answers a priming request wrongly, or the load
# generator reports errors.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
dur=3
counts="1 16 128"
while getopts d:c: opt; do
	case $opt in
	d) dur=$OPTARG ;;
	c) counts=$OPTARG ;;
	*) echo "usage: bench/run-socketmap.sh [-d SECONDS] [-c \"1 16 128\"]" >&2; exit 64 ;;
	esac
done
KEYS="enforce.sts.test changing.sts.test usable.dane.test"

# ---- build
# shellcheck source=bench/builddir.sh
. "$top/bench/builddir.sh"
make -s -C "$builddir" danemilter bench/socketmap >&2
LOADGEN=$builddir/bench/socketmap

# ---- the resolver package (and uvloop, which Debian recommends with it)
bench_resolver_install run-socketmap

# ---- the world, its validating resolver, danemilter
bench_world
bash "$top/tests/world/postfix.sh" start-resolver "$WORLD" >&2 ||
	bail "the world's validating unbound did not start"
bench_danemilter

# ---- mta-sts-daemon, then prime both caches: one request per key, checked
bench_resolver
# shellcheck disable=SC2086 # the keys, split on purpose
bench_prime $KEYS

# ---- load
# run PORT CONNS: "qps p50 p99"; the load generator's failures are noted
# in $FAILED (this runs in a subshell).
FAILED=$WORLD/bench-failed
run() {
	local line rc=0
	# shellcheck disable=SC2086
	line=$("$LOADGEN" -h 127.0.0.1 -p "$1" -c "$2" -d "$dur" $KEYS) || rc=$?
	if [ "$rc" != 0 ]; then
		echo "# bench/socketmap -p $1 -c $2 exited $rc: $line" >&2
		echo "$1 $2" >>"$FAILED"
	fi
	# shellcheck disable=SC2086
	set -- $line
	printf "%s %s %s" "${3#qps=}" "${4#p50=}" "${5#p99=}"
}
ncpu=$(nproc)
echo "# socketmap cache hits, keys: $KEYS; ${dur} s per run after 0.5 s warm-up"
echo "# one machine, $ncpu cores, shared by both servers and the load generator (one epoll thread):"
echo "# $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# resolver: mta-sts-daemon $(dpkg-query -W -f='${Version}' postfix-mta-sts-resolver) (Debian), one process, internal cache$("$PYTHON" -c "import uvloop" 2>/dev/null && echo ', uvloop')"
printf '%-12s %-15s %-7s %-8s| %-13s %-7s %-8s| %s\n' connections "danemilter qps" p50 p99 "resolver qps" p50 p99 ratio
for c in $counts; do
	# shellcheck disable=SC2046
	set -- $(run "$DAEMON_PORT" "$c") $(run "$RPORT" "$c") - - - - - -
	ratio=$(awk -v a="$1" -v b="$4" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }')
	printf '%-12s %-15s %-7s %-8s| %-13s %-7s %-8s| %s\n' "$c" "$1" "$2" "$3" "$4" "$5" "$6" "$ratio"
done
kill -0 "$DAEMON_PID" 2>/dev/null || bail "danemilter died during the run"
kill -0 "$RPID" 2>/dev/null || bail "mta-sts-daemon died during the run"
[ ! -s "$FAILED" ] || bail "the load generator reported errors (see above)"
