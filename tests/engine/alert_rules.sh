#!/usr/bin/env bash
# alert_rules.sh: etc/prometheus/danemilter-alerts.yml with Prometheus's own
# promtool (Debian package prometheus): `promtool check rules` accepts it,
# `promtool test rules` runs tests/prometheus/danemilter-alerts.test.yml
# (a rollover mistake fires DanemilterMonitorCheckFailing at the first
# failed run and stops when repaired; warnings after an hour; checks that
# cannot be done after 3 hours; a monitor that stopped running), and the
# same test fails on a rules file whose failing alert waits an hour (the
# test can fail). tests/engine/monitor_daemon.sh fires the rule on the
# daemon's real exposition. ~1 s.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
command -v promtool >/dev/null ||
	bail "promtool is not installed (tools/install-deps.sh installs prometheus)"

RULES=$top_srcdir/etc/prometheus/danemilter-alerts.yml
TESTS=$top_srcdir/tests/prometheus/danemilter-alerts.test.yml
TMP=$(mktemp -d /tmp/dm-alerts.XXXXXX)
at_exit "rm -rf '$TMP'"

out=$(promtool check rules "$RULES" 2>&1)
is "$?" 0 "promtool check rules: exit 0"
like "$out" "SUCCESS: 4 rules found" "promtool check rules: the four rules"

out=$(promtool test rules "$TESTS" 2>&1)
rc=$?
is "$rc" 0 "promtool test rules: the alerts fire when they should, and only then"
[ "$rc" = 0 ] || printf '%s\n' "$out" | sed 's/^/# /'

# the same tests against rules whose failing alert waits an hour must fail
mkdir -p "$TMP/etc/prometheus" "$TMP/tests/prometheus"
awk '{ print } /expr: danemilter_monitor_check == 0$/ { print "        for: 1h" }' "$RULES" \
	>"$TMP/etc/prometheus/danemilter-alerts.yml"
cp "$TESTS" "$TMP/tests/prometheus/"
is "$(grep -c 'for: 1h' "$TMP/etc/prometheus/danemilter-alerts.yml")" 2 "a slower rule made"
out=$(promtool test rules "$TMP/tests/prometheus/danemilter-alerts.test.yml" 2>&1)
ok "$([ $? != 0 ]; echo $?)" "promtool test rules fails when the failing alert would wait an hour"
like "$out" "DanemilterMonitorCheckFailing" "... and names the alert"

done_testing
