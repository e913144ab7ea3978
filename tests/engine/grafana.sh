#!/usr/bin/env bash
# grafana.sh: the Grafana dashboard etc/grafana/danemilter.json against a
# real scrape of the daemon: it loads as JSON with a uid, a title, unique
# panel ids and a query in every panel; every metric name its expressions
# name is a sample name of the scrape; every label a selector matches on
# (and every label value it compares with = or !=) is on that metric; every
# "by (...)" label is on the metrics it aggregates; the panels the
# operations issue asks for are there (verdicts by source, cache hit rate,
# DNS and HTTPS latency, probe failures by reason, milter actions, RCPT
# refusals); and the checker itself catches a misspelt metric, a label the
# metric lacks and a value it never has. ~3 s.
# shellcheck disable=SC2153 # the WORLD_* variables come from world.env
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed"; exit 77; }
DASH="$top_srcdir/etc/grafana/danemilter.json"

world_start
CONF="$WORLD/d.conf"
LOG="$WORLD/daemon.log"
MPORT=$(free_port)
# a monitored domain, so that the monitor's families are in the scrape
daemon_conf "$CONF" "metrics = { listen = \"inet:127.0.0.1:$MPORT\"; };" \
	'monitor = { domains = ( { name = "monitor.dane.test"; } ); interval_s = 3600; };'
daemon_start "$CONF" "$LOG"
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$MPORT/metrics" >/dev/null && break; sleep 0.05; done
# (bounded) until the monitor's first run is in the metrics
for _ in $(seq 1 200); do
	curl -sf "http://127.0.0.1:$MPORT/metrics" | grep -q '^danemilter_monitor_last_run_timestamp_seconds' && break
	sleep 0.1
done
is "$(pm QUERY usable.dane.test)" "dane-only" "some traffic first"
curl -sS --max-time 5 "http://127.0.0.1:$MPORT/metrics" >"$WORLD/scrape.txt"
like "$(head -n 3 "$WORLD/scrape.txt")" "danemilter_build_info" "a real scrape of the daemon"

# check DASHBOARD SCRAPE: one line per problem, then "checked N expressions, M metrics"
check() {
	"$PYTHON" - "$1" "$2" <<'PY'
import json, re, sys
dash_path, scrape_path = sys.argv[1:3]
problems = []
try:
    d = json.load(open(dash_path))
except ValueError as e:
    print("not JSON: %s" % e); sys.exit(0)
# the scrape: sample name -> {label: set(values)}
samples = {}
for line in open(scrape_path):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s', line)
    if not m:
        problems.append("scrape: unparsable line: %s" % line); continue
    labels = samples.setdefault(m.group(1), {})
    for k, v in re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""):
        labels.setdefault(k, set()).add(v)
TARGET_LABELS = {"instance", "job"}     # added by Prometheus, not in a scrape
for key in ("uid", "title", "panels"):
    if not d.get(key):
        problems.append("dashboard: no %s" % key)
ids = [p.get("id") for p in d.get("panels", [])]
if len(ids) != len(set(ids)):
    problems.append("dashboard: panel ids repeat: %s" % ids)
nexpr, names_seen = 0, set()
for p in d.get("panels", []):
    targets = [t for t in p.get("targets", []) if t.get("expr")]
    if not targets:
        problems.append("panel %r: no query" % p.get("title"))
    for t in targets:
        e = t["expr"]; nexpr += 1
        names = set(re.findall(r'\b(danemilter_[a-z0-9_]+)\b', e))
        if not names:
            problems.append("panel %r: %s names no danemilter metric" % (p.get("title"), e))
        for n in names:
            names_seen.add(n)
            if n not in samples:
                problems.append("panel %r: %s is not in the scrape" % (p.get("title"), n))
        for n, body in re.findall(r'\b(danemilter_[a-z0-9_]+)\{([^}]*)\}', e):
            for k, op, v in re.findall(r'(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"', body):
                if k in TARGET_LABELS or n not in samples:
                    continue
                if k not in samples[n]:
                    problems.append("panel %r: %s has no label %s" % (p.get("title"), n, k))
                elif op in ("=", "!=") and v not in samples[n][k]:
                    problems.append("panel %r: %s{%s} never has the value %r" % (p.get("title"), n, k, v))
        for labels in re.findall(r'\bby\s*\(([^)]*)\)', e):
            for k in [x.strip() for x in labels.split(",") if x.strip()]:
                if k in TARGET_LABELS:
                    continue
                if not any(k in samples.get(n, {}) for n in names):
                    problems.append("panel %r: by (%s): no metric of %s has it" % (p.get("title"), k, e))
for p in problems:
    print(p)
print("checked %d expressions, %d metrics" % (nexpr, len(names_seen)))
PY
}

out=$(check "$DASH" "$WORLD/scrape.txt")
is "$out" "checked 27 expressions, 25 metrics" \
	"every metric, label and value the dashboard names exists in the scrape"
# what the operations issue asks the dashboard to show
exprs=$("$PYTHON" -c 'import json,sys; [print(t["expr"]) for p in json.load(open(sys.argv[1]))["panels"] for t in p["targets"]]' "$DASH")
like "$exprs" 'sum by \(source\) \(rate\(danemilter_verdicts_total' "verdicts by source"
like "$exprs" 'danemilter_cache_hits_total.*danemilter_cache_misses_total' "cache hit rate"
like "$exprs" 'histogram_quantile\(0\.99, sum by \(le\) \(rate\(danemilter_dns_query_duration_seconds_bucket' "DNS latency"
like "$exprs" 'histogram_quantile\(0\.99, sum by \(le\) \(rate\(danemilter_mtasts_fetch_duration_seconds_bucket' "HTTPS (MTA-STS fetch) latency"
like "$exprs" 'sum by \(reason\) \(rate\(danemilter_probes_total\{[^}]*result!="pass"' "probe failures by reason"
like "$exprs" 'sum by \(action\) \(rate\(danemilter_milter_messages_total' "milter actions"
like "$exprs" 'danemilter_milter_rcpt_refused_total' "RCPT refusals"
like "$exprs" 'min by \(domain, check\) \(danemilter_monitor_check' "monitor checks"
# every family of the scrape is on the dashboard
fams=$(sed -n 's/^# TYPE \([a-z0-9_]*\) .*/\1/p' "$WORLD/scrape.txt" | sort)
missing=""
for f in $fams; do grep -q "$f" "$DASH" || missing="$missing $f"; done
is "$missing" "" "every metric family of the scrape has a panel"

# the checker can fail
sed 's/danemilter_cache_hits_total/danemilter_cache_hit_total/' "$DASH" >"$WORLD/bad1.json"
like "$(check "$WORLD/bad1.json" "$WORLD/scrape.txt")" "danemilter_cache_hit_total is not in the scrape" \
	"a misspelt metric is caught"
sed 's/sum by (reason)/sum by (cause)/' "$DASH" >"$WORLD/bad2.json"
like "$(check "$WORLD/bad2.json" "$WORLD/scrape.txt")" "by \\(cause\\): no metric" "a by-label the metric lacks is caught"
sed 's/result!=\\"pass\\"/result!=\\"passed\\"/' "$DASH" >"$WORLD/bad3.json"
like "$(check "$WORLD/bad3.json" "$WORLD/scrape.txt")" "never has the value 'passed'" "a label value it never has is caught"
printf '{ "uid": ' >"$WORLD/bad4.json"
like "$(check "$WORLD/bad4.json" "$WORLD/scrape.txt")" "^not JSON" "a dashboard that is not JSON is caught"
daemon_stop
done_testing
