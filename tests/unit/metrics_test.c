/*
 * metrics_test.c: the generic metrics registry and renderer
 * (common/metrics.h), with families defined here: exact text of counters
 * without, with one and with two labels, gauges set or read by a callback
 * after known counts (table-driven); label value escaping; histogram
 * bucket edges (le is inclusive, above the last bound only +Inf, _count ==
 * +Inf, _sum in seconds to the microsecond); HELP and TYPE once per
 * family, in registration order; register twice, unregister, count while
 * unregistered; reset; 8 threads counting at once without losing an
 * increment; and the aborts on an index out of range, counting of the
 * wrong kind and an inconsistent family (in a child process each).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/metrics.h"
#include "common/sbuf.h"
#include "tests/tap.h"

/* ---- the families under test ---- */

enum t_reply { T_OK, T_NOTFOUND, T_TEMP, T_PERM };
static const char *const t_replies[] = { "OK", "NOTFOUND", "TEMP", "PERM" };
static struct metrics_family t_reply_metric = {
	METRICS_HEAD(METRICS_COUNTER, "test_requests_total", "Requests answered, by reply."),
	METRICS_LABEL1("reply", t_replies),
};

enum t_class { T_4XX, T_5XX };
static const char *const t_classes[] = { "4xx", "5xx" };
static struct metrics_family t_class_metric = {
	METRICS_HEAD(METRICS_COUNTER, "test_refused_total", "Refusals, by reply class."),
	METRICS_LABEL1("code", t_classes),
};

enum t_action { T_ACCEPT, T_TAG, T_QUARANTINE, T_REJECT, T_TEMPFAIL };
static const char *const t_actions[] = { "accept", "tag", "quarantine", "reject", "tempfail" };
static struct metrics_family t_action_metric = {
	METRICS_HEAD(METRICS_COUNTER, "test_messages_total", "Messages, by the action taken."),
	METRICS_LABEL1("action", t_actions),
};

static struct metrics_family t_plain_metric = {
	METRICS_HEAD(METRICS_COUNTER, "test_plain_total", "A counter without labels."),
};

enum t_policy { T_P_DANE_ONLY, T_P_DANE, T_P_SECURE, T_P_NONE, T_P_TEMPERROR, T_P_OTHER };
static const char *const t_policies[] = {
	"dane-only", "dane", "secure", "none", "temperror", "other"
};
enum t_source { T_S_DANE, T_S_MTASTS, T_S_CONFIG, T_S_NONE };
static const char *const t_sources[] = { "dane", "mta-sts", "config", "none" };
static struct metrics_family t_verdict_metric = {
	METRICS_HEAD(METRICS_COUNTER, "test_verdicts_total", "Verdicts, by policy and source."),
	METRICS_LABEL2("policy", t_policies, "source", t_sources),
};

enum t_probe { T_PASS, T_FAIL, T_ERROR };
static const char *const t_probes[] = { "pass", "fail", "error" };
enum t_reason { T_R_NONE, T_R_STARTTLS, T_R_MISMATCH, T_R_EXPIRED, T_R_UNTRUSTED,
	T_R_VALIDATION, T_R_TLSA };
static const char *const t_reasons[] = {
	"none", "starttls-not-supported", "certificate-host-mismatch", "certificate-expired",
	"certificate-not-trusted", "validation-failure", "tlsa-invalid"
};
static struct metrics_family t_probe_metric = {
	METRICS_HEAD(METRICS_COUNTER, "test_probes_total", "Probes, by result and reason."),
	METRICS_LABEL2("result", t_probes, "reason", t_reasons),
};

/* Two labels, small enough to check whole: the first label is the outer loop. */
static const char *const t_rows[] = { "r0", "r1" };
static const char *const t_cols[] = { "c0", "c1", "c2" };
static struct metrics_family t_grid_metric = {
	METRICS_HEAD(METRICS_COUNTER, "test_grid_total", "Two labels, 2 x 3."),
	METRICS_LABEL2("row", t_rows, "col", t_cols),
};

/* METRICS_CELLS_MAX cells exactly. */
static const char *const t_four[] = { "a", "b", "c", "d" };
static const char *const t_eight[] = { "0", "1", "2", "3", "4", "5", "6", "7" };
_Static_assert(METRICS_NELEM(t_four) * METRICS_NELEM(t_eight) == METRICS_CELLS_MAX,
    "the full family fills every cell");
static struct metrics_family t_full_metric = {
	METRICS_HEAD(METRICS_COUNTER, "test_full_total", "Every cell in use."),
	METRICS_LABEL2("x", t_four, "y", t_eight),
};

static const char *const t_odd[] = { "back\\slash", "quo\"te", "line\nfeed", "plain" };
static struct metrics_family t_escape_metric = {
	METRICS_HEAD(METRICS_COUNTER, "test_escaped_total", "Label values that need escaping."),
	METRICS_LABEL1("value", t_odd),
};

enum t_result { T_RECORDS, T_NODATA, T_NXDOMAIN, T_DNSERR, T_TIMEOUT };
static const char *const t_results[] = { "records", "nodata", "nxdomain", "error", "timeout" };
static struct metrics_family t_result_metric = {
	METRICS_HEAD(METRICS_COUNTER, "test_queries_total", "Queries answered, by result."),
	METRICS_LABEL1("result", t_results),
};

/* 1 ms .. 10 s */
static const unsigned long t_bounds_us[] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000
};
static const char *const t_le[] = {
	"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
	"1", "2.5", "5", "10"
};
static struct metrics_family t_hist_metric = {
	METRICS_HEAD(METRICS_HISTOGRAM, "test_duration_seconds", "Time of a query."),
	METRICS_BUCKETS(t_bounds_us, t_le),
};

/* 5 ms .. 60 s */
static const unsigned long t_fetch_bounds_us[] = {
	5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000, 30000000, 60000000
};
static const char *const t_fetch_le[] = {
	"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
	"1", "2.5", "5", "10", "30", "60"
};
static struct metrics_family t_fetch_hist_metric = {
	METRICS_HEAD(METRICS_HISTOGRAM, "test_fetch_duration_seconds", "Time of a fetch."),
	METRICS_BUCKETS(t_fetch_bounds_us, t_fetch_le),
};

/* A gauge set by its module. */
static const char *const t_pools[] = { "small", "big" };
static struct metrics_family t_set_metric = {
	METRICS_HEAD(METRICS_GAUGE, "test_pool_size", "Pool sizes, set."),
	METRICS_LABEL1("pool", t_pools),
};

/* Values read at scrape time, from the object bound in mf_arg. */
struct t_source_numbers {
	unsigned long ts_hits;
	unsigned long ts_entries[2];
	size_t ts_last_n;               /* n of the last read call */
	int ts_reads;
};

static void
t_read_hits(void *arg, unsigned long *cells, size_t n)
{
	struct t_source_numbers *ts = arg;

	ts->ts_reads++;
	ts->ts_last_n = n;
	cells[0] = ts->ts_hits;
}

static void
t_read_entries(void *arg, unsigned long *cells, size_t n)
{
	struct t_source_numbers *ts = arg;

	ts->ts_reads++;
	ts->ts_last_n = n;
	cells[0] = ts->ts_entries[0];
	cells[1] = ts->ts_entries[1];
}

static struct metrics_family t_hits_metric = {
	METRICS_HEAD(METRICS_COUNTER, "test_hits_total", "Lookups answered from the store."),
	.mf_read = t_read_hits,
};
static const char *const t_kinds[] = { "fresh", "stale" };
static struct metrics_family t_entries_metric = {
	METRICS_HEAD(METRICS_GAUGE, "test_entries", "Entries in the store, by kind."),
	METRICS_LABEL1("kind", t_kinds),
	.mf_read = t_read_entries,
};

static struct t_source_numbers t_numbers;

/* Registered in this order; the exposition follows it. */
static struct metrics_family *const t_all[] = {
	&t_verdict_metric, &t_hits_metric, &t_entries_metric, &t_hist_metric, &t_result_metric,
	&t_fetch_hist_metric, &t_reply_metric, &t_probe_metric, &t_action_metric,
	&t_class_metric, &t_plain_metric, &t_grid_metric, &t_full_metric, &t_escape_metric,
	&t_set_metric
};
#define T_NALL  METRICS_NELEM(t_all)

static void
register_all(void)
{
	size_t i;

	t_hits_metric.mf_arg = &t_numbers;
	t_entries_metric.mf_arg = &t_numbers;
	for (i = 0; i < T_NALL; i++)
		metrics_register(t_all[i]);
}

/* ---- helpers ---- */

/* The block of one metric family: from its "# HELP NAME " line up to the
 * next "# HELP " (malloc'ed), or NULL when it is not there. */
static char *
family(const char *text, const char *name)
{
	char head[128];
	const char *start, *end;
	size_t n;

	snprintf(head, sizeof(head), "# HELP %s ", name);
	if ((start = strstr(text, head)) == NULL)
		return NULL;
	end = strstr(start + 1, "# HELP ");
	n = end != NULL ? (size_t)(end - start) : strlen(start);
	return strndup(start, n);
}

static char *
render(const char *version)
{
	struct sbuf sb = SBUF_INIT;

	metrics_render(&sb, version);
	return sbuf_steal(&sb);
}

static size_t
count(const char *text, const char *what)
{
	size_t n = 0;
	const char *p;

	for (p = text; (p = strstr(p, what)) != NULL; p++)
		n++;
	return n;
}

/* ---- exact families ---- */

static void
setup_none(void)
{
}

static void
setup_replies(void)
{
	metrics_inc(&t_reply_metric, T_OK, 0);
	metrics_inc(&t_reply_metric, T_OK, 0);
	metrics_inc(&t_reply_metric, T_OK, 0);
	metrics_inc(&t_reply_metric, T_NOTFOUND, 0);
	metrics_add(&t_reply_metric, T_PERM, 0, 2);
}

static void
setup_classes(void)
{
	metrics_inc(&t_class_metric, T_4XX, 0);
	metrics_inc(&t_class_metric, T_4XX, 0);
	metrics_inc(&t_class_metric, T_5XX, 0);
}

static void
setup_actions(void)
{
	metrics_inc(&t_action_metric, T_ACCEPT, 0);
	metrics_inc(&t_action_metric, T_QUARANTINE, 0);
	metrics_inc(&t_action_metric, T_ACCEPT, 0);
}

static void
setup_queries(void)
{
	metrics_inc(&t_result_metric, T_RECORDS, 0);
	metrics_observe(&t_hist_metric, 500);           /* le 0.001 */
	metrics_inc(&t_result_metric, T_RECORDS, 0);
	metrics_observe(&t_hist_metric, 1000);          /* exactly 0.001: le 0.001 */
	metrics_inc(&t_result_metric, T_NXDOMAIN, 0);
	metrics_observe(&t_hist_metric, 1001);          /* le 0.0025 */
	metrics_inc(&t_result_metric, T_DNSERR, 0);
	metrics_observe(&t_hist_metric, 3000000);       /* le 5 */
	metrics_inc(&t_result_metric, T_TIMEOUT, 0);
	metrics_observe(&t_hist_metric, 20000000);      /* +Inf only */
}

static void
setup_plain(void)
{
	metrics_inc(&t_plain_metric, 0, 0);
	metrics_add(&t_plain_metric, 0, 0, 2);
}

static void
setup_grid(void)
{
	metrics_inc(&t_grid_metric, 0, 2);
	metrics_add(&t_grid_metric, 1, 0, 5);
	metrics_inc(&t_grid_metric, 1, 1);
}

static void
setup_escape(void)
{
	metrics_inc(&t_escape_metric, 1, 0);
}

static void
setup_set(void)
{
	metrics_set(&t_set_metric, 0, 0, 9);
	metrics_set(&t_set_metric, 1, 0, 40);
	metrics_set(&t_set_metric, 1, 0, 12);   /* a gauge goes down, too */
}

static void
setup_read(void)
{
	t_numbers.ts_hits = 11;
	t_numbers.ts_entries[0] = 7;
	t_numbers.ts_entries[1] = 2;
}

#define HIST_HEAD \
	"# HELP test_duration_seconds Time of a query.\n" \
	"# TYPE test_duration_seconds histogram\n"

static const struct {
	const char *desc;
	void (*setup)(void);
	const char *name;
	const char *want;
} exact[] = {
	{ "one label: every value in order, zeros included", setup_replies, "test_requests_total",
	  "# HELP test_requests_total Requests answered, by reply.\n"
	  "# TYPE test_requests_total counter\n"
	  "test_requests_total{reply=\"OK\"} 3\n"
	  "test_requests_total{reply=\"NOTFOUND\"} 1\n"
	  "test_requests_total{reply=\"TEMP\"} 0\n"
	  "test_requests_total{reply=\"PERM\"} 2\n" },
	{ "one label, two values", setup_classes, "test_refused_total",
	  "# HELP test_refused_total Refusals, by reply class.\n"
	  "# TYPE test_refused_total counter\n"
	  "test_refused_total{code=\"4xx\"} 2\n"
	  "test_refused_total{code=\"5xx\"} 1\n" },
	{ "one label, five values", setup_actions, "test_messages_total",
	  "# HELP test_messages_total Messages, by the action taken.\n"
	  "# TYPE test_messages_total counter\n"
	  "test_messages_total{action=\"accept\"} 2\n"
	  "test_messages_total{action=\"tag\"} 0\n"
	  "test_messages_total{action=\"quarantine\"} 1\n"
	  "test_messages_total{action=\"reject\"} 0\n"
	  "test_messages_total{action=\"tempfail\"} 0\n" },
	{ "no labels: one sample without braces", setup_plain, "test_plain_total",
	  "# HELP test_plain_total A counter without labels.\n"
	  "# TYPE test_plain_total counter\n"
	  "test_plain_total 3\n" },
	{ "two labels: the first one outer, every combination", setup_grid, "test_grid_total",
	  "# HELP test_grid_total Two labels, 2 x 3.\n"
	  "# TYPE test_grid_total counter\n"
	  "test_grid_total{row=\"r0\",col=\"c0\"} 0\n"
	  "test_grid_total{row=\"r0\",col=\"c1\"} 0\n"
	  "test_grid_total{row=\"r0\",col=\"c2\"} 1\n"
	  "test_grid_total{row=\"r1\",col=\"c0\"} 5\n"
	  "test_grid_total{row=\"r1\",col=\"c1\"} 1\n"
	  "test_grid_total{row=\"r1\",col=\"c2\"} 0\n" },
	{ "label values escaped: backslash, quote, line feed", setup_escape, "test_escaped_total",
	  "# HELP test_escaped_total Label values that need escaping.\n"
	  "# TYPE test_escaped_total counter\n"
	  "test_escaped_total{value=\"back\\\\slash\"} 0\n"
	  "test_escaped_total{value=\"quo\\\"te\"} 1\n"
	  "test_escaped_total{value=\"line\\nfeed\"} 0\n"
	  "test_escaped_total{value=\"plain\"} 0\n" },
	{ "gauge set (and set lower)", setup_set, "test_pool_size",
	  "# HELP test_pool_size Pool sizes, set.\n"
	  "# TYPE test_pool_size gauge\n"
	  "test_pool_size{pool=\"small\"} 9\n"
	  "test_pool_size{pool=\"big\"} 12\n" },
	{ "counter read at scrape time", setup_read, "test_hits_total",
	  "# HELP test_hits_total Lookups answered from the store.\n"
	  "# TYPE test_hits_total counter\n"
	  "test_hits_total 11\n" },
	{ "gauge with a label read at scrape time", setup_read, "test_entries",
	  "# HELP test_entries Entries in the store, by kind.\n"
	  "# TYPE test_entries gauge\n"
	  "test_entries{kind=\"fresh\"} 7\n"
	  "test_entries{kind=\"stale\"} 2\n" },
	{ "empty histogram", setup_none, "test_duration_seconds",
	  HIST_HEAD
	  "test_duration_seconds_bucket{le=\"0.001\"} 0\n"
	  "test_duration_seconds_bucket{le=\"0.0025\"} 0\n"
	  "test_duration_seconds_bucket{le=\"0.005\"} 0\n"
	  "test_duration_seconds_bucket{le=\"0.01\"} 0\n"
	  "test_duration_seconds_bucket{le=\"0.025\"} 0\n"
	  "test_duration_seconds_bucket{le=\"0.05\"} 0\n"
	  "test_duration_seconds_bucket{le=\"0.1\"} 0\n"
	  "test_duration_seconds_bucket{le=\"0.25\"} 0\n"
	  "test_duration_seconds_bucket{le=\"0.5\"} 0\n"
	  "test_duration_seconds_bucket{le=\"1\"} 0\n"
	  "test_duration_seconds_bucket{le=\"2.5\"} 0\n"
	  "test_duration_seconds_bucket{le=\"5\"} 0\n"
	  "test_duration_seconds_bucket{le=\"10\"} 0\n"
	  "test_duration_seconds_bucket{le=\"+Inf\"} 0\n"
	  "test_duration_seconds_sum 0.000000\n"
	  "test_duration_seconds_count 0\n" },
	{ "histogram: cumulative, le inclusive, above the last bound only +Inf, sum in seconds",
	  setup_queries, "test_duration_seconds",
	  HIST_HEAD
	  "test_duration_seconds_bucket{le=\"0.001\"} 2\n"
	  "test_duration_seconds_bucket{le=\"0.0025\"} 3\n"
	  "test_duration_seconds_bucket{le=\"0.005\"} 3\n"
	  "test_duration_seconds_bucket{le=\"0.01\"} 3\n"
	  "test_duration_seconds_bucket{le=\"0.025\"} 3\n"
	  "test_duration_seconds_bucket{le=\"0.05\"} 3\n"
	  "test_duration_seconds_bucket{le=\"0.1\"} 3\n"
	  "test_duration_seconds_bucket{le=\"0.25\"} 3\n"
	  "test_duration_seconds_bucket{le=\"0.5\"} 3\n"
	  "test_duration_seconds_bucket{le=\"1\"} 3\n"
	  "test_duration_seconds_bucket{le=\"2.5\"} 3\n"
	  "test_duration_seconds_bucket{le=\"5\"} 4\n"
	  "test_duration_seconds_bucket{le=\"10\"} 4\n"
	  "test_duration_seconds_bucket{le=\"+Inf\"} 5\n"
	  "test_duration_seconds_sum 23.002501\n"
	  "test_duration_seconds_count 5\n" },
	{ "a counter beside the histogram", setup_queries, "test_queries_total",
	  "# HELP test_queries_total Queries answered, by result.\n"
	  "# TYPE test_queries_total counter\n"
	  "test_queries_total{result=\"records\"} 2\n"
	  "test_queries_total{result=\"nodata\"} 0\n"
	  "test_queries_total{result=\"nxdomain\"} 1\n"
	  "test_queries_total{result=\"error\"} 1\n"
	  "test_queries_total{result=\"timeout\"} 1\n" },
};

/* Lines that must be in the whole text after setup. */
static void
setup_verdicts(void)
{
	metrics_inc(&t_verdict_metric, T_P_DANE_ONLY, T_S_DANE);
	metrics_inc(&t_verdict_metric, T_P_DANE_ONLY, T_S_DANE);
	metrics_inc(&t_verdict_metric, T_P_DANE_ONLY, T_S_CONFIG);
	metrics_inc(&t_verdict_metric, T_P_SECURE, T_S_MTASTS);
	metrics_inc(&t_verdict_metric, T_P_TEMPERROR, T_S_DANE);
	metrics_inc(&t_verdict_metric, T_P_OTHER, T_S_CONFIG);
}

static void
setup_probes(void)
{
	metrics_inc(&t_probe_metric, T_PASS, T_R_NONE);
	metrics_inc(&t_probe_metric, T_FAIL, T_R_MISMATCH);
	metrics_inc(&t_probe_metric, T_FAIL, T_R_MISMATCH);
	metrics_inc(&t_probe_metric, T_FAIL, T_R_TLSA);
}

static void
setup_fetch_hist(void)
{
	metrics_observe(&t_fetch_hist_metric, 42000);           /* le 0.05 */
	metrics_observe(&t_fetch_hist_metric, 30000000);        /* exactly 30: le 30 */
}

static void
setup_edges(void)
{
	metrics_observe(&t_fetch_hist_metric, 1);               /* 1 us: the first bucket */
	metrics_observe(&t_fetch_hist_metric, 60000000);        /* the last bound */
	metrics_observe(&t_fetch_hist_metric, 60000001);        /* 1 us above: +Inf only */
}

static void
setup_full(void)
{
	metrics_inc(&t_full_metric, 0, 0);
	metrics_add(&t_full_metric, 3, 7, 32);
}

static const struct {
	const char *desc;
	void (*setup)(void);
	const char *line;
} lines[] = {
	{ "two labels: dane-only from dane", setup_verdicts,
	  "\ntest_verdicts_total{policy=\"dane-only\",source=\"dane\"} 2\n" },
	{ "two labels: dane-only from config", setup_verdicts,
	  "\ntest_verdicts_total{policy=\"dane-only\",source=\"config\"} 1\n" },
	{ "two labels: secure from mta-sts", setup_verdicts,
	  "\ntest_verdicts_total{policy=\"secure\",source=\"mta-sts\"} 1\n" },
	{ "two labels: temperror", setup_verdicts,
	  "\ntest_verdicts_total{policy=\"temperror\",source=\"dane\"} 1\n" },
	{ "two labels: the last first-label value", setup_verdicts,
	  "\ntest_verdicts_total{policy=\"other\",source=\"config\"} 1\n" },
	{ "two labels: zero combinations are shown", setup_verdicts,
	  "\ntest_verdicts_total{policy=\"none\",source=\"none\"} 0\n" },
	{ "two labels: 24 combinations (last one)", setup_verdicts,
	  "\ntest_verdicts_total{policy=\"other\",source=\"none\"} 0\n" },
	{ "3 x 7: pass, none", setup_probes,
	  "\ntest_probes_total{result=\"pass\",reason=\"none\"} 1\n" },
	{ "3 x 7: fail with its reason", setup_probes,
	  "\ntest_probes_total{result=\"fail\",reason=\"certificate-host-mismatch\"} 2\n" },
	{ "3 x 7: the last second-label value", setup_probes,
	  "\ntest_probes_total{result=\"fail\",reason=\"tlsa-invalid\"} 1\n" },
	{ "3 x 7: a zero", setup_probes,
	  "\ntest_probes_total{result=\"error\",reason=\"none\"} 0\n" },
	{ "second histogram: 42 ms in le 0.05", setup_fetch_hist,
	  "\ntest_fetch_duration_seconds_bucket{le=\"0.05\"} 1\n" },
	{ "second histogram: exactly 30 s in le 30", setup_fetch_hist,
	  "\ntest_fetch_duration_seconds_bucket{le=\"30\"} 2\n" },
	{ "second histogram: sum", setup_fetch_hist,
	  "\ntest_fetch_duration_seconds_sum 30.042000\n" },
	{ "second histogram: count", setup_fetch_hist,
	  "\ntest_fetch_duration_seconds_count 2\n" },
	{ "edges: 1 us in the first bucket", setup_edges,
	  "\ntest_fetch_duration_seconds_bucket{le=\"0.005\"} 1\n" },
	{ "edges: exactly the last bound is in it", setup_edges,
	  "\ntest_fetch_duration_seconds_bucket{le=\"60\"} 2\n" },
	{ "edges: 1 us above the last bound only in +Inf", setup_edges,
	  "\ntest_fetch_duration_seconds_bucket{le=\"+Inf\"} 3\n" },
	{ "edges: _count == the +Inf bucket", setup_edges,
	  "\ntest_fetch_duration_seconds_count 3\n" },
	{ "edges: _sum to the microsecond", setup_edges,
	  "\ntest_fetch_duration_seconds_sum 120.000002\n" },
	{ "all 32 cells: the first", setup_full, "\ntest_full_total{x=\"a\",y=\"0\"} 1\n" },
	{ "all 32 cells: the last", setup_full, "\ntest_full_total{x=\"d\",y=\"7\"} 32\n" },
};

static void
test_exact(void)
{
	size_t i;

	for (i = 0; i < METRICS_NELEM(exact); i++) {
		char *text, *got;

		metrics_reset();
		exact[i].setup();
		text = render("1.0");
		got = family(text, exact[i].name);
		tap_is_str(got, exact[i].want, exact[i].desc);
		free(got);
		free(text);
	}
	for (i = 0; i < METRICS_NELEM(lines); i++) {
		char *text;

		metrics_reset();
		lines[i].setup();
		text = render("1.0");
		if (!tap_ok(strstr(text, lines[i].line) != NULL, "%s", lines[i].desc))
			tap_diag("want the line %s", lines[i].line + 1);
		free(text);
	}
}

/* ---- the exposition as a whole, the registry ---- */

/* Whether the "# HELP " lines name the registered families in order. */
static bool
in_order(const char *text, struct metrics_family *const *fams, size_t n)
{
	const char *p = text;
	char head[128];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(head, sizeof(head), "# HELP %s ", fams[i]->mf_name);
		if ((p = strstr(p, head)) == NULL)
			return false;
	}
	return true;
}

static void
test_exposition(void)
{
	char *text, *got;
	size_t i, once;

	metrics_reset();
	text = render("1.2\"x\\y\nz");
	got = family(text, "danemilter_build_info");
	tap_is_str(got,
	    "# HELP danemilter_build_info The danemilter version; always 1.\n"
	    "# TYPE danemilter_build_info gauge\n"
	    "danemilter_build_info{version=\"1.2\\\"x\\\\y\\nz\"} 1\n",
	    "build_info: the version label escaped (quote, backslash, line feed)");
	free(got);
	tap_ok(strncmp(text, "# HELP danemilter_build_info ", 29) == 0,
	    "the exposition starts with build_info");
	tap_is_long((long)count(text, "# HELP "), (long)count(text, "# TYPE "),
	    "as many HELP as TYPE lines");
	tap_is_long((long)count(text, "# HELP "), (long)T_NALL + 1,
	    "one HELP per registered family, and build_info");
	for (i = 0, once = 0; i < T_NALL; i++) {
		char help[128], type[128];

		snprintf(help, sizeof(help), "# HELP %s ", t_all[i]->mf_name);
		snprintf(type, sizeof(type), "# TYPE %s ", t_all[i]->mf_name);
		once += count(text, help) == 1 && count(text, type) == 1;
	}
	tap_is_long((long)once, (long)T_NALL, "HELP and TYPE once for every family");
	tap_ok(in_order(text, t_all, T_NALL), "families in registration order");
	tap_ok(strstr(text, "\ntest_verdicts_total{policy=\"dane\",source=\"mta-sts\"} 0\n") != NULL &&
	    strstr(text, "\ntest_duration_seconds_count 0\n") != NULL,
	    "nothing counted: zeros rendered");
	tap_ok(text[strlen(text) - 1] == '\n', "the text ends with a line feed");
	free(text);

	/* registering again adds nothing */
	metrics_register(&t_reply_metric);
	metrics_register(&t_hist_metric);
	text = render("1.0");
	tap_is_long((long)count(text, "# HELP "), (long)T_NALL + 1,
	    "registering a registered family again: no second block");
	free(text);
}

static void
test_registry(void)
{
	struct metrics_family *moved[T_NALL];
	char *text, *got;
	size_t i, n = 0;
	int reads;

	/* the read callbacks: their arg, their n, called once per scrape each */
	metrics_reset();
	setup_read();
	reads = t_numbers.ts_reads;
	text = render("1.0");
	tap_is_long(t_numbers.ts_reads - reads, 2, "one read call per read family per scrape");
	tap_is_long((long)t_numbers.ts_last_n, 2, "a read callback is told its number of cells");
	free(text);
	t_numbers.ts_hits = 12;
	text = render("1.0");
	tap_ok(strstr(text, "\ntest_hits_total 12\n") != NULL,
	    "a read family shows the value of the moment");
	free(text);

	/* unregister, count while unregistered, register again: at the end */
	metrics_unregister(&t_reply_metric);
	metrics_unregister(&t_reply_metric);            /* again: nothing */
	metrics_inc(&t_reply_metric, T_TEMP, 0);
	text = render("1.0");
	tap_ok(strstr(text, "test_requests_total") == NULL, "an unregistered family is not rendered");
	tap_is_long((long)count(text, "# HELP "), (long)T_NALL, "one family less");
	free(text);
	metrics_register(&t_reply_metric);
	text = render("1.0");
	tap_ok(strstr(text, "\ntest_requests_total{reply=\"TEMP\"} 1\n") != NULL,
	    "counted while unregistered: kept");
	for (i = 0; i < T_NALL; i++)
		if (t_all[i] != &t_reply_metric)
			moved[n++] = t_all[i];
	moved[n++] = &t_reply_metric;
	tap_ok(in_order(text, moved, n), "registered again: rendered last");
	free(text);

	/* the last one out, then the first one out */
	metrics_unregister(&t_reply_metric);
	metrics_unregister(&t_verdict_metric);
	text = render("1.0");
	tap_ok(in_order(text, moved + 1, n - 2) && strstr(text, "test_verdicts_total") == NULL,
	    "first and last unregistered: the rest in order");
	free(text);
	for (i = 0; i < T_NALL; i++)
		metrics_unregister(t_all[i]);
	text = render("1.0");
	tap_is_long((long)count(text, "# HELP "), 1, "nothing registered: build_info alone");
	free(text);
	register_all();

	/* reset zeroes counters, gauges, buckets and sums; registrations stay */
	metrics_inc(&t_plain_metric, 0, 0);
	metrics_set(&t_set_metric, 1, 0, 5);
	metrics_observe(&t_hist_metric, 7);
	metrics_reset();
	text = render("1.0");
	got = family(text, "test_duration_seconds");
	tap_ok(got != NULL && strstr(got, "_sum 0.000000\n") != NULL &&
	    strstr(got, "_count 0\n") != NULL &&
	    strstr(text, "\ntest_plain_total 0\n") != NULL &&
	    strstr(text, "\ntest_pool_size{pool=\"big\"} 0\n") != NULL,
	    "reset: counters, gauges, histogram buckets and sum at zero");
	tap_is_long((long)count(text, "# HELP "), (long)T_NALL + 1, "reset: registrations stay");
	free(got);
	free(text);
}

/* ---- open label sets: samples written at scrape time ---- */

static int t_open_calls;

static void
t_open_emit(void *arg, struct metrics_out *o)
{
	t_open_calls++;
	if (arg == NULL)
		return;
	metrics_sample(o, arg, "tlsa-match", 1);
	metrics_sample(o, "we\"ird\\.example", "mta-sts", 0.5);
	metrics_sample(o, "x.example", "dnssec", -1);
	metrics_sample(o, "x.example", "tlsrpt", 1796288742);
}

static struct metrics_family t_open_metric = {
	METRICS_HEAD(METRICS_GAUGE, "test_open", "Open label sets."),
	METRICS_OPEN_LABEL2("domain", "check"),
	.mf_emit = t_open_emit,
};

static void
test_open(void)
{
	char *text, *got;

	t_open_metric.mf_arg = "a.example";
	metrics_register(&t_open_metric);
	text = render("1.0");
	got = family(text, "test_open");
	tap_is_str(got, "# HELP test_open Open label sets.\n# TYPE test_open gauge\n"
	    "test_open{domain=\"a.example\",check=\"tlsa-match\"} 1\n"
	    "test_open{domain=\"we\\\"ird\\\\.example\",check=\"mta-sts\"} 0.5\n"
	    "test_open{domain=\"x.example\",check=\"dnssec\"} -1\n"
	    "test_open{domain=\"x.example\",check=\"tlsrpt\"} 1796288742\n",
	    "open label sets: the family's samples as emitted, escaped, fractions and "
	    "timestamps exact");
	tap_is_long(t_open_calls, 1, "open label sets: one emit call per scrape");
	free(got);
	free(text);
	t_open_metric.mf_arg = NULL;
	text = render("1.0");
	tap_ok(strstr(text, "test_open") == NULL && t_open_calls == 2,
	    "open label sets: no sample, no HELP or TYPE either");
	free(text);
	metrics_unregister(&t_open_metric);
	text = render("1.0");
	tap_ok(strstr(text, "test_open") == NULL, "open label sets: unregistered, not rendered");
	free(text);
}

/* ---- aborts: an internal inconsistency, in a child ---- */

static void abort_reply_index(void) { metrics_inc(&t_reply_metric, T_PERM + 1, 0); }
static void abort_second_index(void) { metrics_inc(&t_reply_metric, T_OK, 1); }
static void abort_two_labels(void) { metrics_inc(&t_verdict_metric, T_P_OTHER, T_S_NONE + 1); }
static void abort_inc_histogram(void) { metrics_inc(&t_hist_metric, 0, 0); }
static void abort_observe_counter(void) { metrics_observe(&t_plain_metric, 5); }
static void abort_inc_read(void) { metrics_inc(&t_hits_metric, 0, 0); }
static void abort_set_counter(void) { metrics_set(&t_plain_metric, 0, 0, 1); }

static void
abort_bad_bounds(void)
{
	static const unsigned long bounds_us[] = { 2000, 1000 };
	static const char *const le[] = { "0.002", "0.001" };
	static struct metrics_family f = {
		METRICS_HEAD(METRICS_HISTOGRAM, "test_bad_seconds", "Bounds not ascending."),
		METRICS_BUCKETS(bounds_us, le),
	};

	metrics_register(&f);
}

static void
abort_label_on_histogram(void)
{
	static struct metrics_family f = {
		METRICS_HEAD(METRICS_HISTOGRAM, "test_labelled_seconds", "A histogram with a label."),
		METRICS_LABEL1("code", t_classes),
		METRICS_BUCKETS(t_bounds_us, t_le),
	};

	metrics_register(&f);
}

static void
abort_second_without_first(void)
{
	static struct metrics_family f = {
		METRICS_HEAD(METRICS_COUNTER, "test_gap_total", "A second label without a first."),
	};

	f.mf_label[1].ml_name = "code";
	f.mf_label[1].ml_values = t_classes;
	f.mf_label[1].ml_n = 2;
	metrics_register(&f);
}

static const struct {
	const char *desc;
	void (*fn)(void);
} aborts[] = {
	{ "first label index out of range", abort_reply_index },
	{ "an index for a label the family does not have", abort_second_index },
	{ "second label index out of range", abort_two_labels },
	{ "inc on a histogram", abort_inc_histogram },
	{ "observe on a counter", abort_observe_counter },
	{ "inc on a family read at scrape time", abort_inc_read },
	{ "set on a counter", abort_set_counter },
	{ "register: histogram bounds not ascending", abort_bad_bounds },
	{ "register: a histogram with a label", abort_label_on_histogram },
	{ "register: a second label without a first", abort_second_without_first },
};

static void
test_aborts(void)
{
	size_t i;

	for (i = 0; i < METRICS_NELEM(aborts); i++) {
		int status = 0;
		pid_t pid;

		fflush(stdout);
		if ((pid = fork()) < 0) {
			printf("Bail out! fork failed\n");
			exit(1);
		}
		if (pid == 0) {
			int null = open("/dev/null", O_WRONLY);

			if (null >= 0)
				dup2(null, STDERR_FILENO);      /* log_abort's message */
			aborts[i].fn();
			_exit(0);
		}
		waitpid(pid, &status, 0);
		if (!tap_ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "aborts: %s",
		    aborts[i].desc))
			tap_diag("child status 0x%x", status);
	}
}

/* ---- threads ---- */

#define NTHREADS        8
#define PER_THREAD      100000

static void *
worker(void *arg)
{
	long i, t = (long)(intptr_t)arg;

	for (i = 0; i < PER_THREAD; i++) {
		metrics_inc(&t_action_metric, T_ACCEPT, 0);
		metrics_inc(&t_class_metric, t % 2 ? T_5XX : T_4XX, 0);
		metrics_observe(&t_hist_metric, 1000 + (uint64_t)(i % 2) * 1000);
		metrics_inc(&t_verdict_metric, T_P_DANE, T_S_DANE);
	}
	return NULL;
}

static void
test_threads(void)
{
	pthread_t th[NTHREADS];
	char *text;
	long i;

	metrics_reset();
	for (i = 0; i < NTHREADS; i++) {
		if (pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i) != 0) {
			printf("Bail out! pthread_create failed\n");
			exit(1);
		}
	}
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	text = render("1.0");
	tap_ok(strstr(text, "\ntest_messages_total{action=\"accept\"} 800000\n") != NULL,
	    "8 threads x 100000 increments: 800000");
	tap_ok(strstr(text, "\ntest_refused_total{code=\"4xx\"} 400000\n") != NULL &&
	    strstr(text, "\ntest_refused_total{code=\"5xx\"} 400000\n") != NULL,
	    "8 threads: split 400000 / 400000");
	tap_ok(strstr(text, "\ntest_verdicts_total{policy=\"dane\",source=\"dane\"} 800000\n") != NULL,
	    "8 threads: two-label cell 800000");
	tap_ok(strstr(text, "\ntest_duration_seconds_bucket{le=\"0.001\"} 400000\n") != NULL,
	    "8 threads: histogram bucket 0.001 has half");
	tap_ok(strstr(text, "\ntest_duration_seconds_bucket{le=\"0.0025\"} 800000\n") != NULL,
	    "8 threads: bucket 0.0025 has all (cumulative)");
	tap_ok(strstr(text, "\ntest_duration_seconds_sum 1200.000000\n") != NULL,
	    "8 threads: histogram sum 1200 s");
	tap_ok(strstr(text, "\ntest_duration_seconds_count 800000\n") != NULL,
	    "8 threads: histogram count 800000");
	free(text);
}

int
main(void)
{
	tap_watchdog(60);
	register_all();
	test_exact();
	test_exposition();
	test_registry();
	test_open();
	test_aborts();
	test_threads();
	return tap_done();
}
