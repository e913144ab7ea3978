#!/usr/bin/env bash
# monitor_daemon.sh: the daemon's scheduled monitor (monitor.domains,
# interval_s = 1 here) against the signed test world: every check of
# monitor.dane.test at 1 in danemilter_monitor_check, the time of the last
# run; the world's TLSA changed to a wrong digest (world.sh tlsa-set): the
# tlsa-match metric flips from 1 to 0 within a round or two and the log
# line "monitor: monitor.dane.test: tlsa-match fail: ..." appears once,
# however many rounds follow; restored: back to 1, one "pass" line more;
# the socketmap answers at once meanwhile; a reload that drops the domain
# drops its metrics; the exposition passes `promtool check metrics` and the
# alert rule of etc/prometheus fires on it (promtool test rules).
# Needs root (the world), curl. ~15 s.
# shellcheck disable=SC2153 # the WORLD_* variables come from world.env
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed"; exit 0; }

world_start
C=$WORLD/certs
D=monitor.dane.test
H=mx.monitor.dane.test
AD=$WORLD_ADDR_MX_MONITOR_DANE_TEST
OLD=$(spki_sha "$C/$H.pem" sha256)
WRONG=$(spki_sha "$C/mx.wrongtlsa.dane.test.pem" sha256)
smtp_serve "$AD" $H "$C/$H.chain.pem" "$C/$H.key"

CONF=$WORLD/d.conf
LOG=$WORLD/daemon.log
MONITOR="monitor = { domains = ( { name = \"$D\"; } ); interval_s = 1; };"
METRICS_PORT=$(free_port)
daemon_conf "$CONF" "metrics = { listen = \"inet:127.0.0.1:$METRICS_PORT\"; };" \
	'probe = { timeout_ms = 2000; helo = "monitor.test"; };' "$MONITOR"
while [ "$METRICS_PORT" = "$DAEMON_PORT" ] || [ "$METRICS_PORT" = "$MILTER_PORT" ]; do
	old=$METRICS_PORT; METRICS_PORT=$(free_port)
	sed -i "s/127\\.0\\.0\\.1:$old\";/127.0.0.1:$METRICS_PORT\";/" "$CONF"
done
daemon_start "$CONF" "$LOG"

scrape() { curl -s --max-time 5 "http://127.0.0.1:$METRICS_PORT/metrics"; }
# metric CHECK: the value of danemilter_monitor_check for D's CHECK ("" if none)
metric() {
	scrape | awk -v k="danemilter_monitor_check{domain=\"$D\",check=\"$1\"}" '$1 == k { print $2 }'
}
last_run() {
	scrape | awk -v k="danemilter_monitor_last_run_timestamp_seconds{domain=\"$D\"}" '$1 == k { print $2 }'
}
# wait_metric CHECK VALUE: until the metric has VALUE (bounded: 30 s);
# WAITED = the seconds it took.
wait_metric() {
	local t0=$SECONDS
	for _ in $(seq 1 300); do
		[ "$(metric "$1")" = "$2" ] && { WAITED=$((SECONDS - t0)); return 0; }
		sleep 0.1
	done
	WAITED=$((SECONDS - t0))
	return 1
}
# wait_rounds N: until N more runs of D ended (bounded: 30 s)
wait_rounds() {
	local first now
	first=$(last_run)
	for _ in $(seq 1 300); do
		now=$(last_run)
		if [ -n "$now" ] && [ -n "$first" ] && [ "$now" -ge $((first + $1)) ]; then return 0; fi
		[ -z "$first" ] && first=$now
		sleep 0.1
	done
	return 1
}
lines() { grep -c "monitor: $D: $1" "$LOG"; }

wait_metric tlsa-match 1
ok $? "the first round: tlsa-match 1"
wait_metric tlsrpt 1
all=$(scrape | grep "^danemilter_monitor_check{domain=\"$D\"," | awk '{print $1, $2}' |
	sed 's/^danemilter_monitor_check{domain="[^"]*",check="\([^"]*\)"}/\1/' | tr '\n' ' ')
is "$all" "dnssec 1 tlsa-published 1 tlsa-match 1 tlsa-rollover 1 tlsa-stale 1 cert-expiry 1 mta-sts 1 tlsrpt 1 " \
	"every check of $D passes: 1"
lr=$(last_run)
now=$(date +%s)
ok "$([ -n "$lr" ] && [ "$lr" -le "$now" ] && [ "$lr" -ge $((now - 10)) ]; echo $?)" \
	"danemilter_monitor_last_run_timestamp_seconds: the time of the last run ($lr, now $now)"
is "$(scrape | grep -c '^# TYPE danemilter_monitor_check gauge$')" 1 "the check family is a gauge"
is "$(grep "monitor: $D: tlsa-match" "$LOG")" \
	"monitor: $D: tlsa-match pass: $H[$AD] matches at depth 0 (3 1 1 $OLD)" \
	"the first round logs each state once (the exact line)"
is "$(grep -c "monitor: $D: " "$LOG")" 8 "the first round: one line per check"

# the socketmap is served while the monitor runs round after round
t0=$(now_ms)
r=$(pm QUERY usable.dane.test)
t=$(($(now_ms) - t0))
is "$r" "dane-only" "the socketmap answers meanwhile"
ok "$([ "$t" -lt 3000 ]; echo $?)" "... at once (${t} ms)"

# a rollover mistake: the world's TLSA changed to a wrong digest
bash "$top_srcdir/tests/world/world.sh" tlsa-set "$WORLD" $H "3 1 1 $WRONG" >"$WORLD/tlsa-set.log" 2>&1
ok $? "world.sh tlsa-set: a wrong digest published"
wait_metric tlsa-match 0
ok $? "tlsa-match flips from 1 to 0 (after ${WAITED} s; interval 1 s)"
is "$(metric tlsa-stale)" 0.5 "the wrong record is stale: tlsa-stale 0.5 (warn)"
# the alert rule of etc/prometheus fires on this very exposition
if command -v promtool >/dev/null; then
	{
		printf 'rule_files:\n  - %s\n' "$top_srcdir/etc/prometheus/danemilter-alerts.yml"
		printf 'evaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n'
		scrape | grep '^danemilter_monitor_check{' | while read -r series value; do
			printf "      - series: '%s'\n        values: '%s'\n" "$series" "$value"
		done
		cat <<YML
    alert_rule_test:
      - eval_time: 0m
        alertname: DanemilterMonitorCheckFailing
        exp_alerts:
          - exp_labels: { severity: critical, domain: $D, check: tlsa-match }
            exp_annotations:
              summary: "$D: tlsa-match fails"
              description: "danemilter's monitor finds tlsa-match failing for $D (instance ): senders that validate DANE or MTA-STS may not deliver. \`danemilter monitor $D\` prints the record to publish or remove."
YML
	} >"$WORLD/alert.test.yml"
	out=$(promtool test rules "$WORLD/alert.test.yml" 2>&1)
	rc=$?
	is "$rc" 0 "DanemilterMonitorCheckFailing fires on the daemon's exposition, for tlsa-match only"
	[ "$rc" = 0 ] || printf '%s\n' "$out" | sed 's/^/# /'
else
	ok 1 "promtool is not installed (tools/install-deps.sh installs prometheus)"
fi
is "$(metric dnssec)" 1 "dnssec still 1"
wait_rounds 3
ok $? "three more rounds ran"
is "$(lines 'tlsa-match fail: ')" 1 "the fail line appears once, not once per round"
like "$(grep "monitor: $D: tlsa-match fail: " "$LOG")" \
	"^monitor: $D: tlsa-match fail: $H\\[$AD\\] certificate-not-trusted: .* needs _25\\._tcp\\.$H\\. IN TLSA 3 1 1 $OLD, " \
	"the fail line names the host, the address and the record to publish"
is "$(lines 'tlsa-stale warn: ')" 1 "the stale record: one warn line"

# fixed: back to 1, one pass line more
bash "$top_srcdir/tests/world/world.sh" tlsa-set "$WORLD" $H "3 1 1 $OLD" >>"$WORLD/tlsa-set.log" 2>&1
wait_metric tlsa-match 1
ok $? "restored: tlsa-match back to 1 (after ${WAITED} s)"
wait_rounds 2
is "$(lines 'tlsa-match pass: ')" 2 "two pass lines: the first round and the repair"
is "$(lines 'tlsa-match fail: ')" 1 "still one fail line"

# the exposition parses (promtool, Debian's prometheus package)
if command -v promtool >/dev/null; then
	out=$(scrape | promtool check metrics 2>&1)
	like "$(printf '%s\n' "$out" | grep -v 'counter metrics should have "_total" suffix\|no help text\|non-histogram and non-summary metrics should not have' || true)" '^$' \
		"promtool check metrics: the exposition with the monitor's families parses (${out:-no remarks})"
else
	ok 1 "promtool is not installed (tools/install-deps.sh installs prometheus)"
fi

# a reload that drops the domain drops its metrics at the next round
sed -i "s/^monitor = .*/monitor = { interval_s = 1; };/" "$CONF"
kill -HUP "$DAEMON_PID"
gone=1
for _ in $(seq 1 100); do
	[ -z "$(metric tlsa-match)" ] && [ -z "$(last_run)" ] && { gone=0; break; }
	sleep 0.1
done
ok $gone "reloaded without the domain: its metrics are gone"

daemon_stop
is "$?" 0 "clean exit"
unlike "$(cat "$LOG")" "AddressSanitizer|runtime error|LeakSanitizer" "no sanitizer report"
done_testing
