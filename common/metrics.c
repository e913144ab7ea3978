/*
 * metrics.c: see metrics.h.
 *
 * Storage: one static struct of C11 atomic counters, arrays indexed by the
 * label enums. A histogram keeps one non-cumulative counter per bucket
 * (the last one is +Inf) and the sum in microseconds; its _count is the
 * sum of its buckets, so _count always equals the +Inf bucket even while
 * other threads observe. Label names and values live in tables parallel
 * to the enums (checked by _Static_assert).
 *
 * EXPOSITION (text format 0.0.4)
 *	# HELP NAME TEXT
 *	# TYPE NAME counter|gauge|histogram
 *	NAME{label="value",...} VALUE
 *	Histograms: NAME_bucket{le="B"} cumulative count, for every bound B
 *	and "+Inf"; NAME_sum in seconds (microsecond precision); NAME_count.
 */
#include "metrics.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>

#include "log.h"

_Static_assert(ATOMIC_LONG_LOCK_FREE == 2, "atomic unsigned long must be lock-free");

#define NELEM(a)        (sizeof(a) / sizeof((a)[0]))
#define PFX             "danemilter_"

typedef atomic_ulong metrics_counter;

#define HIST_MAX_BOUNDS 16

struct metrics_hist_def {
	const char *hd_name;
	const char *hd_help;
	const unsigned long *hd_bounds_us;      /* ascending */
	const char *const *hd_le;               /* the same bounds as label text */
	size_t hd_nbounds;
};

struct metrics_hist {
	metrics_counter mh_bucket[HIST_MAX_BOUNDS + 1];        /* last: above every bound */
	metrics_counter mh_sum_us;
};

static const char *const metrics_policy_names[] = {
	"dane-only", "dane", "secure", "none", "temperror", "other"
};
static const char *const metrics_source_names[] = { "dane", "mta-sts", "config", "none" };
static const char *const metrics_dns_names[] = {
	"records", "nodata", "nxdomain", "error", "timeout"
};
static const char *const metrics_fetch_names[] = { "ok", "error" };
static const char *const metrics_probe_names[] = { "pass", "fail", "error" };
static const char *const metrics_reason_names[] = {
	"none", "starttls-not-supported", "certificate-host-mismatch", "certificate-expired",
	"certificate-not-trusted", "validation-failure", "tlsa-invalid"
};
static const char *const metrics_action_names[] = {
	"accept", "tag", "quarantine", "reject", "tempfail"
};
static const char *const metrics_rcpt_names[] = { "4xx", "5xx" };
static const char *const metrics_reply_names[] = { "OK", "NOTFOUND", "TEMP", "PERM" };

_Static_assert(NELEM(metrics_policy_names) == METRICS_POLICY_N, "policy names");
_Static_assert(NELEM(metrics_source_names) == METRICS_SOURCE_N, "source names");
_Static_assert(NELEM(metrics_dns_names) == METRICS_DNS_N, "dns names");
_Static_assert(NELEM(metrics_fetch_names) == METRICS_FETCH_N, "fetch names");
_Static_assert(NELEM(metrics_probe_names) == METRICS_PROBE_N, "probe names");
_Static_assert(NELEM(metrics_reason_names) == METRICS_REASON_N, "reason names");
_Static_assert(NELEM(metrics_action_names) == METRICS_ACTION_N, "action names");
_Static_assert(NELEM(metrics_rcpt_names) == METRICS_RCPT_N, "rcpt names");
_Static_assert(NELEM(metrics_reply_names) == METRICS_REPLY_N, "reply names");

/* DNS queries: 1 ms .. 10 s. */
static const unsigned long metrics_dns_bounds[] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000
};
static const char *const metrics_dns_le[] = {
	"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
	"1", "2.5", "5", "10"
};
/* MTA-STS fetches (address lookup + HTTPS): 5 ms .. 60 s. */
static const unsigned long metrics_fetch_bounds[] = {
	5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000, 30000000, 60000000
};
static const char *const metrics_fetch_le[] = {
	"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
	"1", "2.5", "5", "10", "30", "60"
};
_Static_assert(NELEM(metrics_dns_bounds) == NELEM(metrics_dns_le) &&
    NELEM(metrics_dns_bounds) <= HIST_MAX_BOUNDS, "dns buckets");
_Static_assert(NELEM(metrics_fetch_bounds) == NELEM(metrics_fetch_le) &&
    NELEM(metrics_fetch_bounds) <= HIST_MAX_BOUNDS, "fetch buckets");

static const struct metrics_hist_def metrics_dns_hist = {
	PFX "dns_query_duration_seconds",
	"Time from the start of a DNS query to its answer, error or timeout.",
	metrics_dns_bounds, metrics_dns_le, NELEM(metrics_dns_bounds)
};
static const struct metrics_hist_def metrics_fetch_hist = {
	PFX "mtasts_fetch_duration_seconds",
	"Time of an MTA-STS policy fetch, from the policy host's address lookup to the parsed policy or the failure.",
	metrics_fetch_bounds, metrics_fetch_le, NELEM(metrics_fetch_bounds)
};

static struct {
	metrics_counter m_verdicts[METRICS_POLICY_N][METRICS_SOURCE_N];
	metrics_counter m_dns[METRICS_DNS_N];
	struct metrics_hist m_dns_hist;
	metrics_counter m_fetches[METRICS_FETCH_N];
	struct metrics_hist m_fetch_hist;
	metrics_counter m_probes[METRICS_PROBE_N][METRICS_REASON_N];
	metrics_counter m_actions[METRICS_ACTION_N];
	metrics_counter m_rcpt[METRICS_RCPT_N];
	metrics_counter m_replies[METRICS_REPLY_N];
} M;

/* ---- counting ---- */

static inline void
metrics_add(metrics_counter *c, unsigned long n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static inline unsigned long
metrics_get(const metrics_counter *c)
{
	return atomic_load_explicit((metrics_counter *)c, memory_order_relaxed);
}

#define METRICS_CHECK(v, n, what) do { \
	if ((unsigned)(v) >= (unsigned)(n)) \
		log_abort("metrics: %s %d out of range", what, (int)(v)); \
} while (0)

static void
metrics_observe(const struct metrics_hist_def *def, struct metrics_hist *h, uint64_t us)
{
	size_t i;

	for (i = 0; i < def->hd_nbounds && us > def->hd_bounds_us[i]; i++)
		;
	metrics_add(&h->mh_bucket[i], 1);
	metrics_add(&h->mh_sum_us, (unsigned long)us);
}

void
metrics_verdict(enum metrics_policy policy, enum metrics_source source)
{
	METRICS_CHECK(policy, METRICS_POLICY_N, "policy");
	METRICS_CHECK(source, METRICS_SOURCE_N, "source");
	metrics_add(&M.m_verdicts[policy][source], 1);
}

void
metrics_dns_query(enum metrics_dns result, uint64_t elapsed_us)
{
	METRICS_CHECK(result, METRICS_DNS_N, "dns result");
	metrics_add(&M.m_dns[result], 1);
	metrics_observe(&metrics_dns_hist, &M.m_dns_hist, elapsed_us);
}

void
metrics_mtasts_fetch(enum metrics_fetch result, uint64_t elapsed_us)
{
	METRICS_CHECK(result, METRICS_FETCH_N, "fetch result");
	metrics_add(&M.m_fetches[result], 1);
	metrics_observe(&metrics_fetch_hist, &M.m_fetch_hist, elapsed_us);
}

void
metrics_probe(enum metrics_probe result, enum metrics_reason reason)
{
	METRICS_CHECK(result, METRICS_PROBE_N, "probe result");
	METRICS_CHECK(reason, METRICS_REASON_N, "probe reason");
	metrics_add(&M.m_probes[result][reason], 1);
}

void
metrics_milter_message(enum metrics_action action)
{
	METRICS_CHECK(action, METRICS_ACTION_N, "action");
	metrics_add(&M.m_actions[action], 1);
}

void
metrics_rcpt_refused(enum metrics_rcpt code)
{
	METRICS_CHECK(code, METRICS_RCPT_N, "rcpt code");
	metrics_add(&M.m_rcpt[code], 1);
}

void
metrics_socketmap_reply(enum metrics_reply reply)
{
	METRICS_CHECK(reply, METRICS_REPLY_N, "socketmap reply");
	metrics_add(&M.m_replies[reply], 1);
}

static void
metrics_zero(metrics_counter *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		atomic_store_explicit(&c[i], 0, memory_order_relaxed);
}

static void
metrics_zero_hist(struct metrics_hist *h)
{
	metrics_zero(h->mh_bucket, NELEM(h->mh_bucket));
	atomic_store_explicit(&h->mh_sum_us, 0, memory_order_relaxed);
}

void
metrics_reset(void)
{
	metrics_zero(&M.m_verdicts[0][0], (size_t)METRICS_POLICY_N * METRICS_SOURCE_N);
	metrics_zero(M.m_dns, NELEM(M.m_dns));
	metrics_zero_hist(&M.m_dns_hist);
	metrics_zero(M.m_fetches, NELEM(M.m_fetches));
	metrics_zero_hist(&M.m_fetch_hist);
	metrics_zero(&M.m_probes[0][0], (size_t)METRICS_PROBE_N * METRICS_REASON_N);
	metrics_zero(M.m_actions, NELEM(M.m_actions));
	metrics_zero(M.m_rcpt, NELEM(M.m_rcpt));
	metrics_zero(M.m_replies, NELEM(M.m_replies));
}

/* ---- rendering ---- */

/* A label value, escaped: backslash, double quote and line feed. */
static void
metrics_escape(struct sbuf *sb, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '\\': sbuf_append(sb, "\\\\"); break;
		case '"': sbuf_append(sb, "\\\""); break;
		case '\n': sbuf_append(sb, "\\n"); break;
		default: sbuf_appendc(sb, *s); break;
		}
	}
}

static void
metrics_head(struct sbuf *sb, const char *name, const char *type, const char *help)
{
	sbuf_printf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* NAME{k1="v1",k2="v2"} VALUE; k2 NULL for one label, k1 NULL for none. */
static void
metrics_line(struct sbuf *sb, const char *name, const char *k1, const char *v1,
    const char *k2, const char *v2, unsigned long value)
{
	sbuf_append(sb, name);
	if (k1 != NULL) {
		sbuf_printf(sb, "{%s=\"", k1);
		metrics_escape(sb, v1);
		if (k2 != NULL) {
			sbuf_printf(sb, "\",%s=\"", k2);
			metrics_escape(sb, v2);
		}
		sbuf_append(sb, "\"}");
	}
	sbuf_printf(sb, " %lu\n", value);
}

/* A counter family with one label over a closed enum. */
static void
metrics_family1(struct sbuf *sb, const char *name, const char *help, const char *label,
    const char *const *values, const metrics_counter *c, size_t n)
{
	size_t i;

	metrics_head(sb, name, "counter", help);
	for (i = 0; i < n; i++)
		metrics_line(sb, name, label, values[i], NULL, NULL, metrics_get(&c[i]));
}

static void
metrics_histogram(struct sbuf *sb, const struct metrics_hist_def *def,
    const struct metrics_hist *h)
{
	unsigned long cum = 0, sum_us;
	size_t i;

	metrics_head(sb, def->hd_name, "histogram", def->hd_help);
	for (i = 0; i <= def->hd_nbounds; i++) {
		cum += metrics_get(&h->mh_bucket[i]);
		sbuf_printf(sb, "%s_bucket{le=\"%s\"} %lu\n", def->hd_name,
		    i < def->hd_nbounds ? def->hd_le[i] : "+Inf", cum);
	}
	sum_us = metrics_get(&h->mh_sum_us);
	sbuf_printf(sb, "%s_sum %lu.%06lu\n", def->hd_name, sum_us / 1000000UL,
	    sum_us % 1000000UL);
	sbuf_printf(sb, "%s_count %lu\n", def->hd_name, cum);
}

static void
metrics_single(struct sbuf *sb, const char *name, const char *type, const char *help,
    unsigned long value)
{
	metrics_head(sb, name, type, help);
	metrics_line(sb, name, NULL, NULL, NULL, NULL, value);
}

void
metrics_render(struct sbuf *sb, const char *version, const struct metrics_cache *cache)
{
	size_t i, j;

	metrics_head(sb, PFX "build_info", "gauge", "The danemilter version; always 1.");
	metrics_line(sb, PFX "build_info", "version", version, NULL, NULL, 1);

	metrics_head(sb, PFX "verdicts_total", "counter",
	    "Verdicts of completed resolutions (not cache hits), by Postfix policy level and source.");
	for (i = 0; i < METRICS_POLICY_N; i++)
		for (j = 0; j < METRICS_SOURCE_N; j++)
			metrics_line(sb, PFX "verdicts_total", "policy", metrics_policy_names[i],
			    "source", metrics_source_names[j], metrics_get(&M.m_verdicts[i][j]));

	if (cache != NULL) {
		metrics_single(sb, PFX "cache_hits_total", "counter",
		    "Verdict cache lookups answered from the cache.", cache->mc_hits);
		metrics_single(sb, PFX "cache_misses_total", "counter",
		    "Verdict cache lookups that started or joined a resolution.", cache->mc_misses);
		metrics_single(sb, PFX "cache_entries", "gauge",
		    "Domains in the verdict cache.", cache->mc_entries);
		metrics_single(sb, PFX "cache_evictions_total", "counter",
		    "Verdict cache entries evicted past cache.max_entries.", cache->mc_evictions);
	}

	metrics_histogram(sb, &metrics_dns_hist, &M.m_dns_hist);
	metrics_family1(sb, PFX "dns_queries_total", "DNS queries answered, by result.",
	    "result", metrics_dns_names, M.m_dns, METRICS_DNS_N);

	metrics_histogram(sb, &metrics_fetch_hist, &M.m_fetch_hist);
	metrics_family1(sb, PFX "mtasts_fetches_total", "MTA-STS policy fetches, by result.",
	    "result", metrics_fetch_names, M.m_fetches, METRICS_FETCH_N);

	metrics_head(sb, PFX "probes_total", "counter",
	    "TLS probes of MX hosts run (not probe cache hits), by result and RFC 8460 reason.");
	for (i = 0; i < METRICS_PROBE_N; i++)
		for (j = 0; j < METRICS_REASON_N; j++)
			metrics_line(sb, PFX "probes_total", "result", metrics_probe_names[i],
			    "reason", metrics_reason_names[j], metrics_get(&M.m_probes[i][j]));

	metrics_family1(sb, PFX "milter_messages_total",
	    "Messages at end of data, by the action taken.", "action",
	    metrics_action_names, M.m_actions, METRICS_ACTION_N);
	metrics_family1(sb, PFX "milter_rcpt_refused_total",
	    "Recipients refused at RCPT TO, by reply class.", "code",
	    metrics_rcpt_names, M.m_rcpt, METRICS_RCPT_N);
	metrics_family1(sb, PFX "socketmap_requests_total",
	    "Socketmap (Postfix TLS policy) requests answered, by reply.", "reply",
	    metrics_reply_names, M.m_replies, METRICS_REPLY_N);
}
