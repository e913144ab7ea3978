#!/usr/bin/env bash
# capture.sh: real danemilter log lines, captured from live runs against the
# test world, for etc/syslog-ng/danemilter.pdb (its <examples>) and for
# tests/syslog/patterndb.sh (every line of a known kind must match a rule).
#
#   capture.sh [OUT]    write the lines to OUT (default: stdout)
#
# The lines are the MESSAGE part of what syslog would get ("TAG: ..."; the
# program is "danemilter"): the stderr of
#   - `danemilter query --log` for domains that give every resolution line
#     (Starting new query / answer / result with records, nodata, nxdomain,
#     CNAMEs, secure / insecure / bogus, MX host ..., verdict, mta-sts: ...);
#   - `danemilter check --log` against the world's Postfix sink (tls:
#     connected / cert / DANE match / DANE mismatch / STARTTLS not offered /
#     failed: / error:);
#   - the daemon behind a real Postfix smtpd (postfix.sh start-inbound), mail
#     sent with swaks, reloaded (SIGHUP) between messages to go through
#     every milter line: RCPT refused (450 4.7.5, 550 5.7.5, bogus_tempfail),
#     tag / quarantine / reject / tempfail, the text and the JSON summary.
# Run by patterndb.sh inline, or by hand to refresh the examples:
#   top_builddir=_build/plain bash tests/syslog/capture.sh /tmp/lines.txt
# Needs root (the world), postfix, swaks (exit 77 without them). ~8 s
# (~12 s on a loaded machine), most of it the world and the two Postfixes.
# shellcheck disable=SC2153 # the WORLD_* variables come from world.env
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

OUT=${1:-/dev/stdout}
PF="$top_srcdir/tests/world/postfix.sh"
for c in postfix swaks; do
	command -v "$c" >/dev/null || [ -x "/usr/sbin/$c" ] ||
		{ echo "capture.sh: $c is not installed" >&2; exit 77; }
done

world_start
LINES="$WORLD/capture.lines"
: >"$LINES"

# ------------------------------------------------ resolution (query --log)
# (in the background while the Postfix sink starts)
CONF="$WORLD/capture.conf"
{
	cat "$WORLD/danemilter.conf"
	printf 'mta_sts = { ca_file = "%s"; connect_timeout_ms = 2000; timeout_ms = 3000; };\n' "$WORLD/certs/ca.pem"
	printf 'probe = { timeout_ms = 2000; helo = "checker.test"; };\n'
} >"$CONF"
sed 's/timeout_ms = 3000;/timeout_ms = 300;/' "$CONF" >"$WORLD/capture-short.conf"
"$DANEMILTER" query --log -c "$CONF" usable.dane.test tlsacname.dane.test partial.dane.test \
	unusable.dane.test notlsa.dane.test nullmx.dane.test implicit.dane.test \
	cnamedomain.dane.test insecurehost.dane.test ipmx.dane.test unsigned.test bogus.test \
	enforce.sts.test selfsigned.sts.test >/dev/null 2>"$WORLD/query.err" &
q1=$!
# a name server that never answers: timeouts (dns.timeout_ms = 300)
"$DANEMILTER" query --log -c "$WORLD/capture-short.conf" dead.test lame.test \
	>/dev/null 2>"$WORLD/query-dead.err" &
q2=$!

# ------------------------------------------------ TLS (check --log)
out=$(bash "$PF" start-sink "$WORLD" 2>&1) ||
	{ printf '%s\n' "$out" >&2; echo "capture.sh: postfix.sh start-sink failed" >&2; exit 1; }
wait "$q1" "$q2"
cat "$WORLD/query.err" "$WORLD/query-dead.err" >>"$LINES"
"$DANEMILTER" check --log -c "$CONF" usable.dane.test ta.dane.test wrongtlsa.dane.test \
	nostarttls.dane.test badcert.sts.test >/dev/null 2>>"$LINES"

# ------------------------------------------------ milter (daemon + Postfix)
DCONF="$WORLD/d.conf"
DLOG="$WORLD/daemon.log"
# trusted_networks = [ ]: swaks connects from 127.0.0.1 (trusted by
# default), and its plaintext must be tagged, held, refused
M_EXTRA='timeout_ms = 5000; bogus_tempfail = true; trusted_networks = [ ];' daemon_conf "$DCONF" \
	'domains = ( { name = "notlsa.dane.test"; require = "dane"; } );'
daemon_start "$DCONF" "$DLOG"
out=$(bash "$PF" start-inbound "$WORLD" "inet:127.0.0.1:$MILTER_PORT" 2>&1) ||
	{ printf '%s\n' "$out" >&2; echo "capture.sh: postfix.sh start-inbound failed" >&2; exit 1; }
SERVER=$WORLD_NET.6

send() {        # send SWAKS-ARGS...: one message to the inbound Postfix
	swaks --server "$SERVER" --port 25 --helo client.test --timeout 30 \
		--header "Subject: capture" "$@" >>"$WORLD/swaks.log" 2>&1 || true
}
# reconf MILTER_SETTINGS text|json: replace the settings of the milter group
# and the log format, SIGHUP, wait (bounded) for "configuration reloaded"
reconf() {
	local n
	n=$(grep -c "configuration reloaded" "$DLOG")
	sed -i "s|^milter = { socket = \"\\([^\"]*\\)\";.*|milter = { socket = \"\\1\"; $1 };|" "$DCONF"
	sed -i "s|^log = .*|log = { destination = \"stderr\"; level = \"info\"; format = \"$2\"; };|" "$DCONF"
	kill -HUP "$DAEMON_PID"
	for _ in $(seq 1 50); do
		[ "$(grep -c "configuration reloaded" "$DLOG")" -gt "$n" ] && return 0
		sleep 0.1
	done
	echo "capture.sh: the daemon did not reload" >&2
	exit 1
}

# TLS, four recipient domains: two accepted, two refused at RCPT (require =
# "dane" without DANE: 450 4.7.5; bogus_tempfail)
send --tls --from a@usable.dane.test \
	--to r1@enforce.sts.test,r2@partial.dane.test,r3@notlsa.dane.test,r4@bogus.test
# plaintext from a DANE domain: tag; a null sender; an unqualified
# recipient only (Postfix's {rcpt_addr} qualifies it with $myorigin)
send --from b@usable.dane.test --to r5@none.sts.test
send --from '<>' --to r6@unsigned.test
send --from g@unsigned.test --to postmaster
# quarantine, JSON summaries (plaintext and TLS)
reconf 'timeout_ms = 5000; plaintext_sender = "quarantine"; trusted_networks = [ ];' json
send --from c@enforce.sts.test --to r7@usable.dane.test
send --tls --from d@partial.dane.test --to r8@usable.dane.test,r9@notlsa.dane.test
# reject; require_dane_reply permanent (550 5.7.5)
reconf 'timeout_ms = 5000; plaintext_sender = "reject"; require_dane_reply = "permanent"; trusted_networks = [ ];' text
send --from e@usable.dane.test --to r10@notlsa.dane.test,r11@enforce.sts.test
# a lookup that cannot finish in time: tempfail
reconf 'timeout_ms = 300; on_timeout = "tempfail"; trusted_networks = [ ];' text
send --tls --from f@lame.test --to r12@dead.test,r13@usable.dane.test
daemon_stop >/dev/null 2>&1
cat "$DLOG" >>"$LINES"

cat "$LINES" >"$OUT"
