#!/usr/bin/env bash
# demo.sh: the whole of danemilter on a local demo world, from a fresh
# Debian 12 machine (as root): installs what is missing, builds, starts a
# private DNSSEC-signed DNS world on loopback with STARTTLS mail servers and
# an MTA-STS policy server, then shows, one step at a time:
#   - the PowerMTA-style resolution log and a verdict per DANE class (query);
#   - TLS probes with the PowerMTA-style TLS lines (check) and TLSA records
#     for a certificate (tlsa);
#   - the daemon behind a real Postfix smtpd (smtpd_milters): messages sent
#     with swaks, their X-DANE-* headers as delivered, a refused RCPT, and the
#     per-message summary lines;
#   - the daemon as the TLS policy server of a real outbound Postfix
#     (smtp_tls_policy_maps = socketmap:...): postmap's answers, the delivery
#     log ("Verified TLS connection") and the deferred queue;
#   - a HaveDane test (outbound DANE of a sending server): the zone records
#     of `danemilter havedane records`, a test created with the JSON API,
#     the outbound Postfix sending to its three addresses, the verdict;
#   - `doctor` on that Postfix configuration and a Prometheus scrape;
# and stops everything again.
#
#   ./demo.sh           run the demo and clean up (nothing is left running)
#   ./demo.sh --keep    leave the world, Postfix and the daemon running and
#                       print how to use them
set -eu
top=$(cd "$(dirname "$0")" && pwd)
cd "$top"
keep=0
[ "${1:-}" = "--keep" ] && keep=1
jobs=$(nproc 2>/dev/null || echo 2)
T0=$(date +%s)

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
indent() { sed 's/^/    /'; }

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
chmod 755 "$WORLD"
PF="$top/tests/world/postfix.sh"
DAEMON=""
cleanup() {
	if [ "$keep" -eq 0 ]; then
		[ -n "$DAEMON" ] && kill "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null
		bash "$top/tests/world/world.sh" stop "$WORLD" >/dev/null 2>&1 || true
		rm -rf "$WORLD"
	fi
}
trap cleanup EXIT INT TERM
free_port() {
	local p
	while :; do
		p=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 12000))  # below the ephemeral range
		ss -Hltn "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
}

step "Starting the demo world: a signed root, test. and its zones in NSD; STARTTLS MX hosts; an MTA-STS server"
bash tests/world/world.sh start "$WORLD" >"$WORLD/start.log" 2>&1 || { cat "$WORLD/start.log"; exit 1; }
. "$WORLD/world.env"
bash "$PF" start-sink "$WORLD" >>"$WORLD/start.log" 2>&1 || { cat "$WORLD/start.log"; exit 1; }
bash "$PF" start-resolver "$WORLD" >>"$WORLD/start.log" 2>&1 || { cat "$WORLD/start.log"; exit 1; }
echo "NSD on $WORLD_NS:53 (trust anchor: the root's DS only), Postfix on every MX address, MTA-STS on $WORLD_STS:443"
{
	grep -v '^domains = ' "$WORLD/danemilter.conf"
	printf 'mta_sts = { ca_file = "%s"; timeout_ms = 3000; };\n' "$WORLD/certs/ca.pem"
	printf 'probe = { timeout_ms = 3000; };\n'
} >"$WORLD/cli.conf"

step "danemilter query --log tlsacname.dane.test  (the PowerMTA-style resolution log)"
"$DM" query -c "$WORLD/cli.conf" --log tlsacname.dane.test 2>&1 | grep -v '^  ' || true

step "danemilter query: one domain per verdict"
"$DM" query -c "$WORLD/cli.conf" usable.dane.test partial.dane.test unusable.dane.test \
	notlsa.dane.test unsigned.test nullmx.dane.test bogus.test enforce.sts.test 2>&1 | grep -v '^    ' || true

step "danemilter check --log: STARTTLS probes verified with OpenSSL's DANE API (PowerMTA-style TLS lines)"
"$DM" check -c "$WORLD/cli.conf" --log ta.dane.test wrongtlsa.dane.test taexpired.dane.test \
	enforce.sts.test badcert.sts.test 2>&1 | grep -E ': tls: |^[a-z0-9.]+: policy=|^  [a-z0-9.-]+\[[0-9.]+\]|  check:' |
	sed -E 's/ match="([0-9]+ [0-9]+ [0-9]+ [0-9A-F]{12})[0-9A-F]*"/ match="\1..."/; s/ detail="[^"]*"//' || true

step "danemilter tlsa: the TLSA records for a certificate, and --verify against DNS"
"$DM" tlsa "$WORLD/certs/mx.ta.dane.test.chain.pem" | indent
"$DM" tlsa -c "$WORLD/cli.conf" --verify "$WORLD/certs/mx.tlsacname.dane.test.pem" | indent || true

step "The daemon: milter + TLS policy server (socketmap) + metrics, one process"
SMPORT=$(free_port); MPORT=$(free_port); METPORT=$(free_port); HDPORT=$(free_port)
head -c 32 /dev/urandom >"$WORLD/havedane.key"
{
	grep -v '^domains = ' "$WORLD/danemilter.conf"
	echo "socketmap = { listen = [ \"inet:127.0.0.1:$SMPORT\" ]; };"
	echo "milter = { socket = \"inet:$MPORT@127.0.0.1\"; };"
	echo "metrics = { listen = \"inet:127.0.0.1:$METPORT\"; };"
	echo "mta_sts = { ca_file = \"$WORLD/certs/ca.pem\"; timeout_ms = 3000; };"
	echo "probe = { enabled = true; timeout_ms = 3000; };"
	echo "log = { destination = \"stderr\"; };"
	echo "domains = ( { name = \"nodata.dane.test\"; require = \"dane\"; } );"
	echo "havedane = { zone = \"hd.dane.test\"; listen = [ \"inet:127.0.0.1:$HDPORT\" ]; grace_s = 3;"
	echo "             token_key_file = \"$WORLD/havedane.key\"; state_file = \"$WORLD/havedane.json\"; };"
} >"$WORLD/daemon.conf"
"$DM" -f -c "$WORLD/daemon.conf" 2>"$WORLD/daemon.log" &
DAEMON=$!
for _ in $(seq 1 100); do ss -Hltn "sport = :$MPORT" | grep -q . && break; sleep 0.05; done
sed 's/^/    /' "$WORLD/daemon.log"

step "Inbound: Postfix smtpd with smtpd_milters = inet:127.0.0.1:$MPORT (swaks from the world's domains)"
bash "$PF" start-inbound "$WORLD" "inet:127.0.0.1:$MPORT" >>"$WORLD/start.log" 2>&1 || { cat "$WORLD/start.log"; exit 1; }
send() {
	local name=$1; shift
	swaks --server "$WORLD_NET.6" --helo client.test --header "Subject: $name" "$@" >"$WORLD/$name.swaks" 2>&1 || true
	sed -n 's/.*queued as \([0-9A-F]*\).*/\1/p' "$WORLD/$name.swaks"
}
show() {   # show RCPT QID: the X-DANE-* headers of the delivered message
	local f="$WORLD/pf-in/mail/$1" i
	for i in $(seq 1 50); do [ -f "$f" ] && grep -q "id $2" "$f" && break; sleep 0.1; done
	awk -v q="id $2" '/^From /{ if (m) exit; buf="" } { buf = buf $0 "\n" } index($0, q) { m=1 } END { printf "%s", buf }' "$f" |
		grep '^X-DANE-' | indent
}
echo "1. over TLS from a@usable.dane.test to enforce.sts.test, partial.dane.test and wrongtlsa.dane.test,"
echo "   with a forged 'X-DANE-Sender: ...; dane=usable' in the message:"
q=$(send tls --tls --from a@usable.dane.test --to b@enforce.sts.test,c@partial.dane.test,d@wrongtlsa.dane.test \
	--add-header "X-DANE-Sender: mx.inbound.test; domain=evil.example; dane=usable")
show b@enforce.sts.test "$q"
echo "2. in plaintext from a@usable.dane.test (which publishes DANE): tagged violation=plaintext"
q=$(send plain --from a@usable.dane.test --to e@notlsa.dane.test)
show e@notlsa.dane.test "$q"
echo "3. RCPT to nodata.dane.test, which the configuration says requires DANE (it has none):"
send require --tls --from a@usable.dane.test --to f@nodata.dane.test >/dev/null
grep -E '^ *<[~*]* +450' "$WORLD/require.swaks" | indent
echo "the summary lines (one per message; log.format = \"json\" for JSON):"
sleep 0.3
grep -E ': summary: |: milter: ' "$WORLD/daemon.log" | indent

step "Outbound: Postfix with smtp_tls_policy_maps = socketmap:inet:127.0.0.1:$SMPORT:QUERY"
PM="$WORLD/pm"; mkdir -p "$PM"; echo "compatibility_level = 3.6" >"$PM/main.cf"; touch -d '-10 seconds' "$PM/main.cf"
for d in usable.dane.test partial.dane.test enforce.sts.test notlsa.dane.test wrongtlsa.dane.test bogus.test; do
	printf '    postmap -q %-20s ->  ' "$d"
	rc=0
	out=$(postmap -c "$PM" -q "$d" "socketmap:inet:127.0.0.1:$SMPORT:QUERY" 2>&1) || rc=$?
	if [ $rc -eq 0 ]; then echo "OK $out"; elif [ -z "$out" ]; then echo "NOTFOUND"; else echo "TEMP (deferred)"; fi
done
bash "$PF" start-outbound "$WORLD" "socketmap:inet:127.0.0.1:$SMPORT:QUERY" >>"$WORLD/start.log" 2>&1 ||
	{ cat "$WORLD/start.log"; exit 1; }
for r in user@usable.dane.test user@enforce.sts.test user@wrongtlsa.dane.test user@bogus.test; do
	bash "$PF" send "$WORLD" demo@out.test "$r" >/dev/null
done
bash "$PF" wait-log "$WORLD" out 'status=deferred.*wrongtlsa' 20 || true
bash "$PF" wait-log "$WORLD" out 'status=deferred.*bogus\.test' 20 || true
grep -E 'Verified TLS connection|status=(sent|deferred)' "$WORLD/pf-out/maillog" |
	sed -E 's/^.*(out\/smtp\[[0-9]+\]|out\/error\[[0-9]+\]): //' | cut -c1-160 | indent
echo "the deferred queue:"
postqueue -c "$WORLD/pf-out/conf" -p | indent

step "HaveDane: does a sending server check DANE? (page and API on http://127.0.0.1:$HDPORT/)"
echo "the zone records for the inbound Postfix's certificate (danemilter havedane records):"
"$DM" havedane records -c "$WORLD/daemon.conf" --cert "$WORLD/certs/mx.inbound.test.pem" | indent
# the demo world's dane.test has do.hd / dont.hd / wrong.hd with MX hosts at the
# inbound Postfix; publish the TLSA records the command printed
"$DM" havedane records -c "$WORLD/daemon.conf" --cert "$WORLD/certs/mx.inbound.test.pem" |
	sed -n 's/^_25\._tcp\.\(mx\.[a-z]*\.hd\.dane\.test\)\. IN TLSA /\1 /p' |
	while read -r host rr; do bash tests/world/world.sh tlsa-set "$WORLD" "$host" "$rr" >/dev/null; done
created=$(curl -s -X POST "http://127.0.0.1:$HDPORT/api/tests")
echo "POST /api/tests -> $created"
tok=$(printf '%s' "$created" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
echo "the outbound Postfix (smtp_tls_security_level = dane) sends to the three addresses:"
for k in do dont wrong; do bash "$PF" send "$WORLD" demo@out.test "$tok@$k.hd.dane.test" >/dev/null; done
bash "$PF" wait-log "$WORLD" out "to=<$tok@wrong.hd.dane.test>.*status=deferred" 20 || true
grep -E "to=<$tok@" "$WORLD/pf-out/maillog" | sed -E 's/^.*: (to=<[^>]*>).*(status=[a-z]+ \([^)]{0,60}).*/\1 \2...)/' | indent
for _ in $(seq 1 40); do
	v=$(curl -s "http://127.0.0.1:$HDPORT/api/tests/$tok" | python3 -c 'import json,sys; print(json.load(sys.stdin)["verdict"])')
	[ "$v" != pending ] && break
	sleep 0.5
done
echo "GET /api/tests/$tok after grace_s:"
curl -s "http://127.0.0.1:$HDPORT/api/tests/$tok" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for k in ("do", "dont", "wrong"):
    r = d["results"][k]
    print("  %-5s %s" % (k, "received %s from [%s] HELO %s over %s %s" % (r["at"], r["addr"], r["helo"], r["tls"], r["cipher"]) if r["received"] else "not received"))
print("  verdict: " + d["verdict"])' | indent
bash "$PF" purge "$WORLD" out

step "danemilter doctor --postfix-config (the outbound Postfix of this demo: no milter there)"
"$DM" doctor -c "$WORLD/daemon.conf" --postfix-config "$WORLD/pf-out/conf" --resolv-conf "$WORLD/pf-out/resolv.conf" 2>&1 | grep -v ': note:' | indent || true

step "Prometheus metrics (curl http://127.0.0.1:$METPORT/metrics, non-zero series)"
curl -s "http://127.0.0.1:$METPORT/metrics" | grep -v '^#' | grep -vE ' 0$|_bucket' | indent

if [ "$keep" -eq 1 ]; then
	step "Everything keeps running"
	echo "daemon pid $DAEMON, log $WORLD/daemon.log, config $WORLD/daemon.conf"
	echo "try:  $DM check -c $WORLD/cli.conf --log usable.dane.test"
	echo "      swaks --server $WORLD_NET.6 --tls --from you@usable.dane.test --to me@enforce.sts.test"
	echo "      the HaveDane page: http://127.0.0.1:$HDPORT/ (zone hd.dane.test; MX hosts $WORLD_NET.6)"
	echo "stop: kill $DAEMON; bash $top/tests/world/world.sh stop $WORLD && rm -rf $WORLD"
else
	step "Stopping everything (daemon, Postfix, unbound, NSD, the STARTTLS and HTTPS servers)"
	kill "$DAEMON"; wait "$DAEMON" 2>/dev/null || true
	DAEMON=""
	echo "done in $(($(date +%s) - T0)) s"
fi
