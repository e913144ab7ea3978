/*
 * metrics_test.c: the Prometheus renderer (common/metrics.h): exact text
 * of metric families after known increments (table-driven), label value
 * escaping, histogram bucket edges (le is inclusive) and sums, the cache
 * snapshot in and out, and 8 threads counting at once without losing an
 * increment.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/metrics.h"
#include "common/sbuf.h"
#include "tests/tap.h"

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
render(const char *version, const struct metrics_cache *mc)
{
	struct sbuf sb = SBUF_INIT;

	metrics_render(&sb, version, mc);
	return sbuf_steal(&sb);
}

/* ---- exact families ---- */

static void
setup_none(void)
{
}

static void
setup_socketmap(void)
{
	metrics_socketmap_reply(METRICS_REPLY_OK);
	metrics_socketmap_reply(METRICS_REPLY_OK);
	metrics_socketmap_reply(METRICS_REPLY_OK);
	metrics_socketmap_reply(METRICS_REPLY_NOTFOUND);
	metrics_socketmap_reply(METRICS_REPLY_PERM);
	metrics_socketmap_reply(METRICS_REPLY_PERM);
}

static void
setup_rcpt(void)
{
	metrics_rcpt_refused(METRICS_RCPT_4XX);
	metrics_rcpt_refused(METRICS_RCPT_4XX);
	metrics_rcpt_refused(METRICS_RCPT_5XX);
}

static void
setup_actions(void)
{
	metrics_milter_message(METRICS_ACTION_ACCEPT);
	metrics_milter_message(METRICS_ACTION_QUARANTINE);
	metrics_milter_message(METRICS_ACTION_ACCEPT);
}

static void
setup_dns(void)
{
	metrics_dns_query(METRICS_DNS_RECORDS, 500);            /* le 0.001 */
	metrics_dns_query(METRICS_DNS_RECORDS, 1000);           /* exactly 0.001: le 0.001 */
	metrics_dns_query(METRICS_DNS_NXDOMAIN, 1001);          /* le 0.0025 */
	metrics_dns_query(METRICS_DNS_ERROR, 3000000);          /* le 5 */
	metrics_dns_query(METRICS_DNS_TIMEOUT, 20000000);       /* +Inf only */
}

static void
setup_fetch(void)
{
	metrics_mtasts_fetch(METRICS_FETCH_OK, 42000);          /* le 0.05 */
	metrics_mtasts_fetch(METRICS_FETCH_ERROR, 30000000);    /* le 30 */
}

#define HIST_DNS_HEAD \
	"# HELP danemilter_dns_query_duration_seconds Time from the start of a DNS query to its answer, error or timeout.\n" \
	"# TYPE danemilter_dns_query_duration_seconds histogram\n"

static const struct {
	const char *desc;
	void (*setup)(void);
	const char *name;
	const char *want;
} exact[] = {
	{ "socketmap replies by first word", setup_socketmap, "danemilter_socketmap_requests_total",
	  "# HELP danemilter_socketmap_requests_total Socketmap (Postfix TLS policy) requests answered, by reply.\n"
	  "# TYPE danemilter_socketmap_requests_total counter\n"
	  "danemilter_socketmap_requests_total{reply=\"OK\"} 3\n"
	  "danemilter_socketmap_requests_total{reply=\"NOTFOUND\"} 1\n"
	  "danemilter_socketmap_requests_total{reply=\"TEMP\"} 0\n"
	  "danemilter_socketmap_requests_total{reply=\"PERM\"} 2\n" },
	{ "RCPT refusals by class", setup_rcpt, "danemilter_milter_rcpt_refused_total",
	  "# HELP danemilter_milter_rcpt_refused_total Recipients refused at RCPT TO, by reply class.\n"
	  "# TYPE danemilter_milter_rcpt_refused_total counter\n"
	  "danemilter_milter_rcpt_refused_total{code=\"4xx\"} 2\n"
	  "danemilter_milter_rcpt_refused_total{code=\"5xx\"} 1\n" },
	{ "message actions", setup_actions, "danemilter_milter_messages_total",
	  "# HELP danemilter_milter_messages_total Messages at end of data, by the action taken.\n"
	  "# TYPE danemilter_milter_messages_total counter\n"
	  "danemilter_milter_messages_total{action=\"accept\"} 2\n"
	  "danemilter_milter_messages_total{action=\"tag\"} 0\n"
	  "danemilter_milter_messages_total{action=\"quarantine\"} 1\n"
	  "danemilter_milter_messages_total{action=\"reject\"} 0\n"
	  "danemilter_milter_messages_total{action=\"tempfail\"} 0\n" },
	{ "empty DNS histogram", setup_none, "danemilter_dns_query_duration_seconds",
	  HIST_DNS_HEAD
	  "danemilter_dns_query_duration_seconds_bucket{le=\"0.001\"} 0\n"
	  "danemilter_dns_query_duration_seconds_bucket{le=\"0.0025\"} 0\n"
	  "danemilter_dns_query_duration_seconds_bucket{le=\"0.005\"} 0\n"
	  "danemilter_dns_query_duration_seconds_bucket{le=\"0.01\"} 0\n"
	  "danemilter_dns_query_duration_seconds_bucket{le=\"0.025\"} 0\n"
	  "danemilter_dns_query_duration_seconds_bucket{le=\"0.05\"} 0\n"
	  "danemilter_dns_query_duration_seconds_bucket{le=\"0.1\"} 0\n"
	  "danemilter_dns_query_duration_seconds_bucket{le=\"0.25\"} 0\n"
	  "danemilter_dns_query_duration_seconds_bucket{le=\"0.5\"} 0\n"
	  "danemilter_dns_query_duration_seconds_bucket{le=\"1\"} 0\n"
	  "danemilter_dns_query_duration_seconds_bucket{le=\"2.5\"} 0\n"
	  "danemilter_dns_query_duration_seconds_bucket{le=\"5\"} 0\n"
	  "danemilter_dns_query_duration_seconds_bucket{le=\"10\"} 0\n"
	  "danemilter_dns_query_duration_seconds_bucket{le=\"+Inf\"} 0\n"
	  "danemilter_dns_query_duration_seconds_sum 0.000000\n"
	  "danemilter_dns_query_duration_seconds_count 0\n" },
	{ "DNS histogram: cumulative, le inclusive, sum in seconds", setup_dns,
	  "danemilter_dns_query_duration_seconds",
	  HIST_DNS_HEAD
	  "danemilter_dns_query_duration_seconds_bucket{le=\"0.001\"} 2\n"
	  "danemilter_dns_query_duration_seconds_bucket{le=\"0.0025\"} 3\n"
	  "danemilter_dns_query_duration_seconds_bucket{le=\"0.005\"} 3\n"
	  "danemilter_dns_query_duration_seconds_bucket{le=\"0.01\"} 3\n"
	  "danemilter_dns_query_duration_seconds_bucket{le=\"0.025\"} 3\n"
	  "danemilter_dns_query_duration_seconds_bucket{le=\"0.05\"} 3\n"
	  "danemilter_dns_query_duration_seconds_bucket{le=\"0.1\"} 3\n"
	  "danemilter_dns_query_duration_seconds_bucket{le=\"0.25\"} 3\n"
	  "danemilter_dns_query_duration_seconds_bucket{le=\"0.5\"} 3\n"
	  "danemilter_dns_query_duration_seconds_bucket{le=\"1\"} 3\n"
	  "danemilter_dns_query_duration_seconds_bucket{le=\"2.5\"} 3\n"
	  "danemilter_dns_query_duration_seconds_bucket{le=\"5\"} 4\n"
	  "danemilter_dns_query_duration_seconds_bucket{le=\"10\"} 4\n"
	  "danemilter_dns_query_duration_seconds_bucket{le=\"+Inf\"} 5\n"
	  "danemilter_dns_query_duration_seconds_sum 23.002501\n"
	  "danemilter_dns_query_duration_seconds_count 5\n" },
	{ "DNS results beside the histogram", setup_dns, "danemilter_dns_queries_total",
	  "# HELP danemilter_dns_queries_total DNS queries answered, by result.\n"
	  "# TYPE danemilter_dns_queries_total counter\n"
	  "danemilter_dns_queries_total{result=\"records\"} 2\n"
	  "danemilter_dns_queries_total{result=\"nodata\"} 0\n"
	  "danemilter_dns_queries_total{result=\"nxdomain\"} 1\n"
	  "danemilter_dns_queries_total{result=\"error\"} 1\n"
	  "danemilter_dns_queries_total{result=\"timeout\"} 1\n" },
	{ "MTA-STS fetches", setup_fetch, "danemilter_mtasts_fetches_total",
	  "# HELP danemilter_mtasts_fetches_total MTA-STS policy fetches, by result.\n"
	  "# TYPE danemilter_mtasts_fetches_total counter\n"
	  "danemilter_mtasts_fetches_total{result=\"ok\"} 1\n"
	  "danemilter_mtasts_fetches_total{result=\"error\"} 1\n" },
};

/* Lines that must be in the whole text after setup. */
static void
setup_verdicts(void)
{
	metrics_verdict(METRICS_POLICY_DANE_ONLY, METRICS_SOURCE_DANE);
	metrics_verdict(METRICS_POLICY_DANE_ONLY, METRICS_SOURCE_DANE);
	metrics_verdict(METRICS_POLICY_DANE_ONLY, METRICS_SOURCE_CONFIG);
	metrics_verdict(METRICS_POLICY_SECURE, METRICS_SOURCE_MTASTS);
	metrics_verdict(METRICS_POLICY_TEMPERROR, METRICS_SOURCE_DANE);
	metrics_verdict(METRICS_POLICY_OTHER, METRICS_SOURCE_CONFIG);
}

static void
setup_probes(void)
{
	metrics_probe(METRICS_PROBE_PASS, METRICS_REASON_NONE);
	metrics_probe(METRICS_PROBE_FAIL, METRICS_REASON_CERT_HOST_MISMATCH);
	metrics_probe(METRICS_PROBE_FAIL, METRICS_REASON_CERT_HOST_MISMATCH);
	metrics_probe(METRICS_PROBE_FAIL, METRICS_REASON_TLSA_INVALID);
}

static void
setup_fetch_hist(void)
{
	setup_fetch();
}

static const struct {
	const char *desc;
	void (*setup)(void);
	const char *line;
} lines[] = {
	{ "verdict: dane-only from DANE", setup_verdicts,
	  "\ndanemilter_verdicts_total{policy=\"dane-only\",source=\"dane\"} 2\n" },
	{ "verdict: dane-only from config (require = dane)", setup_verdicts,
	  "\ndanemilter_verdicts_total{policy=\"dane-only\",source=\"config\"} 1\n" },
	{ "verdict: secure from MTA-STS", setup_verdicts,
	  "\ndanemilter_verdicts_total{policy=\"secure\",source=\"mta-sts\"} 1\n" },
	{ "verdict: temperror", setup_verdicts,
	  "\ndanemilter_verdicts_total{policy=\"temperror\",source=\"dane\"} 1\n" },
	{ "verdict: other fixed policy", setup_verdicts,
	  "\ndanemilter_verdicts_total{policy=\"other\",source=\"config\"} 1\n" },
	{ "verdict: zero combinations are shown", setup_verdicts,
	  "\ndanemilter_verdicts_total{policy=\"none\",source=\"none\"} 0\n" },
	{ "verdicts: 24 combinations (last one)", setup_verdicts,
	  "\ndanemilter_verdicts_total{policy=\"other\",source=\"none\"} 0\n" },
	{ "probe pass", setup_probes,
	  "\ndanemilter_probes_total{result=\"pass\",reason=\"none\"} 1\n" },
	{ "probe fail with its RFC 8460 reason", setup_probes,
	  "\ndanemilter_probes_total{result=\"fail\",reason=\"certificate-host-mismatch\"} 2\n" },
	{ "probe fail, tlsa-invalid", setup_probes,
	  "\ndanemilter_probes_total{result=\"fail\",reason=\"tlsa-invalid\"} 1\n" },
	{ "probe error (none yet)", setup_probes,
	  "\ndanemilter_probes_total{result=\"error\",reason=\"none\"} 0\n" },
	{ "fetch histogram: 42 ms in le 0.05", setup_fetch_hist,
	  "\ndanemilter_mtasts_fetch_duration_seconds_bucket{le=\"0.05\"} 1\n" },
	{ "fetch histogram: 30 s in le 30", setup_fetch_hist,
	  "\ndanemilter_mtasts_fetch_duration_seconds_bucket{le=\"30\"} 2\n" },
	{ "fetch histogram: sum", setup_fetch_hist,
	  "\ndanemilter_mtasts_fetch_duration_seconds_sum 30.042000\n" },
	{ "fetch histogram: count", setup_fetch_hist,
	  "\ndanemilter_mtasts_fetch_duration_seconds_count 2\n" },
};

static size_t
count(const char *text, const char *what)
{
	size_t n = 0;
	const char *p;

	for (p = text; (p = strstr(p, what)) != NULL; p++)
		n++;
	return n;
}

static void
test_exact(void)
{
	size_t i;

	for (i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
		char *text, *got;

		metrics_reset();
		exact[i].setup();
		text = render("1.0", NULL);
		got = family(text, exact[i].name);
		tap_is_str(got, exact[i].want, exact[i].desc);
		free(got);
		free(text);
	}
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		char *text;

		metrics_reset();
		lines[i].setup();
		text = render("1.0", NULL);
		if (!tap_ok(strstr(text, lines[i].line) != NULL, "%s", lines[i].desc))
			tap_diag("want the line %s", lines[i].line + 1);
		free(text);
	}
}

static void
test_build_info_and_cache(void)
{
	struct metrics_cache mc = { 11, 4, 7, 2 };
	char *text, *got;

	metrics_reset();
	text = render("1.2\"x\\y\nz", NULL);
	got = family(text, "danemilter_build_info");
	tap_is_str(got,
	    "# HELP danemilter_build_info The danemilter version; always 1.\n"
	    "# TYPE danemilter_build_info gauge\n"
	    "danemilter_build_info{version=\"1.2\\\"x\\\\y\\nz\"} 1\n",
	    "build_info: the version label escaped (quote, backslash, line feed)");
	free(got);
	tap_ok(strncmp(text, "# HELP danemilter_build_info ", 29) == 0,
	    "the exposition starts with build_info");
	tap_ok(strstr(text, "cache_") == NULL, "no cache snapshot: no cache metrics");
	tap_is_long((long)count(text, "# HELP "), (long)count(text, "# TYPE "),
	    "as many HELP as TYPE lines");
	tap_is_long((long)count(text, "# HELP "), 10, "10 families without the cache");
	tap_ok(text[strlen(text) - 1] == '\n', "the text ends with a line feed");
	free(text);

	text = render("1.0", &mc);
	tap_is_long((long)count(text, "# HELP "), 14, "14 families with the cache");
	got = family(text, "danemilter_cache_hits_total");
	tap_is_str(got,
	    "# HELP danemilter_cache_hits_total Verdict cache lookups answered from the cache.\n"
	    "# TYPE danemilter_cache_hits_total counter\n"
	    "danemilter_cache_hits_total 11\n", "cache hits from the snapshot");
	free(got);
	got = family(text, "danemilter_cache_entries");
	tap_is_str(got,
	    "# HELP danemilter_cache_entries Domains in the verdict cache.\n"
	    "# TYPE danemilter_cache_entries gauge\n"
	    "danemilter_cache_entries 7\n", "cache entries: a gauge");
	free(got);
	tap_ok(strstr(text, "\ndanemilter_cache_misses_total 4\n") != NULL, "cache misses");
	tap_ok(strstr(text, "\ndanemilter_cache_evictions_total 2\n") != NULL, "cache evictions");
	free(text);
}

/* ---- threads ---- */

#define NTHREADS        8
#define PER_THREAD      100000

static void *
worker(void *arg)
{
	long i, t = (long)(intptr_t)arg;

	for (i = 0; i < PER_THREAD; i++) {
		metrics_milter_message(METRICS_ACTION_ACCEPT);
		metrics_rcpt_refused(t % 2 ? METRICS_RCPT_5XX : METRICS_RCPT_4XX);
		metrics_dns_query(METRICS_DNS_RECORDS, 1000 + (uint64_t)(i % 2) * 1000);
		metrics_verdict(METRICS_POLICY_DANE, METRICS_SOURCE_DANE);
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
	text = render("1.0", NULL);
	tap_ok(strstr(text, "\ndanemilter_milter_messages_total{action=\"accept\"} 800000\n") != NULL,
	    "8 threads x 100000 messages: 800000");
	tap_ok(strstr(text, "\ndanemilter_milter_rcpt_refused_total{code=\"4xx\"} 400000\n") != NULL &&
	    strstr(text, "\ndanemilter_milter_rcpt_refused_total{code=\"5xx\"} 400000\n") != NULL,
	    "8 threads: refusals split 400000 / 400000");
	tap_ok(strstr(text, "\ndanemilter_verdicts_total{policy=\"dane\",source=\"dane\"} 800000\n") != NULL,
	    "8 threads: verdicts 800000");
	tap_ok(strstr(text, "\ndanemilter_dns_query_duration_seconds_bucket{le=\"0.001\"} 400000\n") != NULL,
	    "8 threads: histogram bucket 0.001 has half");
	tap_ok(strstr(text, "\ndanemilter_dns_query_duration_seconds_bucket{le=\"0.0025\"} 800000\n") != NULL,
	    "8 threads: bucket 0.0025 has all (cumulative)");
	tap_ok(strstr(text, "\ndanemilter_dns_query_duration_seconds_sum 1200.000000\n") != NULL,
	    "8 threads: histogram sum 1200 s");
	tap_ok(strstr(text, "\ndanemilter_dns_query_duration_seconds_count 800000\n") != NULL,
	    "8 threads: histogram count 800000");
	free(text);
}

int
main(void)
{
	tap_watchdog(60);
	test_exact();
	test_build_info_and_cache();
	test_threads();
	return tap_done();
}
