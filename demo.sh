#!/bin/sh
# demo.sh: danemilter on the local demo world, from a fresh Debian 12
# machine (as root): installs what is missing, builds, starts a private
# DNSSEC-signed DNS world on loopback, shows what `danemilter query --log`
# says about its domains, and stops everything again.
#
# Then it runs the daemon as Postfix's TLS policy server and asks it, with
# Postfix's own postmap, for the policy of DANE and MTA-STS domains.
#
#   ./demo.sh           run the demo and clean up
#   ./demo.sh --keep    leave the world running and print how to use it
set -eu
top=$(cd "$(dirname "$0")" && pwd)
cd "$top"
keep=0
[ "${1:-}" = "--keep" ] && keep=1
jobs=$(nproc 2>/dev/null || echo 2)

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Installing missing Debian packages"
./tools/install-deps.sh

step "Building danemilter"
mkdir -p _build/logs _build/plain
if [ -f config.status ]; then make distclean >/dev/null 2>&1 || rm -f config.status; fi
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
	./autogen.sh >_build/logs/autogen.log 2>&1
fi
(cd _build/plain && { [ -f Makefile ] || ../../configure -q; } && make -j"$jobs" >../logs/build-plain.log 2>&1) ||
	{ tail -30 _build/logs/build-plain.log; exit 1; }
DM="$top/_build/plain/danemilter"
echo "built $DM"

WORLD=$(mktemp -d /tmp/danemilter-demo.XXXXXX)
DAEMON=""
cleanup() {
	[ -n "$DAEMON" ] && kill "$DAEMON" 2>/dev/null
	if [ "$keep" -eq 0 ]; then
		bash "$top/tests/world/world.sh" stop "$WORLD" >/dev/null 2>&1 || true
		rm -rf "$WORLD"
	fi
}
trap cleanup EXIT INT TERM

step "Starting the demo world: a private signed root, test. and its zones in NSD"
bash tests/world/world.sh start "$WORLD" >"$WORLD.log" 2>&1 || { cat "$WORLD.log"; exit 1; }
rm -f "$WORLD.log"
. "$WORLD/world.env"
echo "NSD on $WORLD_NS:53, trust anchor $WORLD/root.key; configuration:"
sed 's/^/    /' "$WORLD/danemilter.conf"

step "danemilter query --log tlsacname.dane.test  (the PowerMTA-style resolution log)"
"$DM" query -c "$WORLD/danemilter.conf" --log tlsacname.dane.test || true

step "danemilter query: one domain per verdict"
"$DM" query -c "$WORLD/danemilter.conf" usable.dane.test partial.dane.test unusable.dane.test \
	notlsa.dane.test unsigned.test nullmx.dane.test bogus.test lame.test || true

step "danemilter query --json cnamehost.dane.test"
"$DM" query -c "$WORLD/danemilter.conf" --json cnamehost.dane.test || true

step "danemilter as Postfix's TLS policy server (smtp_tls_policy_maps = socketmap:...)"
PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 12000))  # below the ephemeral range
{
	grep -v '^domains = ' "$WORLD/danemilter.conf"
	echo "socketmap = { listen = [ \"inet:127.0.0.1:$PORT\" ]; };"
	echo "mta_sts = { ca_file = \"$WORLD/certs/ca.pem\"; timeout_ms = 3000; };"
	echo "log = { destination = \"stderr\"; };"
	echo "domains = ( { name = \"enforce.sts.test\"; log_resolution = true; } );"
} >"$WORLD/daemon.conf"
"$DM" -f -c "$WORLD/daemon.conf" 2>"$WORLD/daemon.log" &
DAEMON=$!
for i in $(seq 1 100); do ss -Hltn "sport = :$PORT" | grep -q . && break; sleep 0.05; done
PM="$WORLD/pm"; mkdir -p "$PM"; echo "compatibility_level = 3.6" >"$PM/main.cf"; touch -d '-10 seconds' "$PM/main.cf"
for d in usable.dane.test partial.dane.test enforce.sts.test testing.sts.test selfsigned.sts.test unsigned.test bogus.test; do
	printf '  postmap -q %-22s socketmap:inet:127.0.0.1:%s:QUERY  ->  ' "$d" "$PORT"
	rc=0
	out=$(postmap -c "$PM" -q "$d" "socketmap:inet:127.0.0.1:$PORT:QUERY" 2>&1) || rc=$?
	if [ $rc -eq 0 ]; then echo "OK $out"; elif [ -z "$out" ]; then echo "NOTFOUND"; else echo "$out" | sed -n 's/.*server \(temporary error\)/TEMP (\1)/p' | head -1; fi
done
printf '  QUERYwithTLSRPT enforce.sts.test  ->  OK %s\n' \
	"$(postmap -c "$PM" -q enforce.sts.test "socketmap:inet:127.0.0.1:$PORT:QUERYwithTLSRPT")"
echo "  the daemon's log for enforce.sts.test (MTA-STS fetch):"
grep -E "^enforce\.sts\.test: (mta-sts|Starting new query for TXT)" "$WORLD/daemon.log" | sed 's/^/    /'
kill "$DAEMON"; wait "$DAEMON" 2>/dev/null || true
DAEMON=""

if [ "$keep" -eq 1 ]; then
	step "The world keeps running"
	echo "try:  $DM query -c $WORLD/danemilter.conf --log four.dane.test"
	echo "stop: bash $top/tests/world/world.sh stop $WORLD && rm -rf $WORLD"
else
	step "Stopping the world"
fi
