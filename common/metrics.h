/*
 * metrics.h: danemilter's process-wide Prometheus metrics.
 *
 * A fixed set of counters and histograms (no dynamic registration), held
 * in static storage owned by this module. Every label is a small closed
 * enum, so an increment is one relaxed atomic add on an array element:
 * lock-free, callable from any thread (the engine's loop, the libmilter
 * threads) and allocation-free. The modules that know an event count it
 * (policy/cache.c a resolution's verdict, dns/resolver.c a DNS answer,
 * policy/mtasts.c a policy fetch, policy/probeset.c a probe,
 * milter/filter.c a message's action and RCPT refusals,
 * socketmap/socketmap.h a socketmap reply); the values of the verdict cache
 * are not duplicated here: the caller of metrics_render() passes a
 * snapshot of them (cache_stats(), read on the engine thread).
 *
 * metrics_render() appends the Prometheus text exposition format 0.0.4 to
 * a struct sbuf (the caller's): "# HELP" and "# TYPE" once per metric,
 * every label combination of every family (zeros included), counters
 * named *_total, histograms as cumulative _bucket{le="..."} lines ending
 * with le="+Inf", then _sum (seconds) and _count (== the +Inf bucket).
 * Label values are escaped (\\, \", \n). Values read while other threads
 * count are each exact, but not one atomic snapshot of all of them.
 *
 * Metric names (all prefixed danemilter_), see metrics_render().
 */
#ifndef DM_METRICS_H
#define DM_METRICS_H

#include <stdint.h>

#include "sbuf.h"

/* verdicts_total{policy=...}: the Postfix policy level of a verdict. */
enum metrics_policy {
	METRICS_POLICY_DANE_ONLY,
	METRICS_POLICY_DANE,
	METRICS_POLICY_SECURE,
	METRICS_POLICY_NONE,            /* NOTFOUND, or a fixed policy "none" */
	METRICS_POLICY_TEMPERROR,       /* TEMP */
	METRICS_POLICY_OTHER,           /* any other fixed policy (may, encrypt, ...) */
	METRICS_POLICY_N
};

/* verdicts_total{source=...}: what decided it. */
enum metrics_source {
	METRICS_SOURCE_DANE,
	METRICS_SOURCE_MTASTS,
	METRICS_SOURCE_CONFIG,
	METRICS_SOURCE_NONE,
	METRICS_SOURCE_N
};

/* dns_queries_total{result=...} */
enum metrics_dns {
	METRICS_DNS_RECORDS,
	METRICS_DNS_NODATA,
	METRICS_DNS_NXDOMAIN,
	METRICS_DNS_ERROR,
	METRICS_DNS_TIMEOUT,
	METRICS_DNS_N
};

/* mtasts_fetches_total{result=...} */
enum metrics_fetch {
	METRICS_FETCH_OK,
	METRICS_FETCH_ERROR,
	METRICS_FETCH_N
};

/* probes_total{result=...} */
enum metrics_probe {
	METRICS_PROBE_PASS,
	METRICS_PROBE_FAIL,
	METRICS_PROBE_ERROR,
	METRICS_PROBE_N
};

/* probes_total{reason=...}: RFC 8460 result types a probe can find. */
enum metrics_reason {
	METRICS_REASON_NONE,
	METRICS_REASON_STARTTLS_NOT_SUPPORTED,
	METRICS_REASON_CERT_HOST_MISMATCH,
	METRICS_REASON_CERT_EXPIRED,
	METRICS_REASON_CERT_NOT_TRUSTED,
	METRICS_REASON_VALIDATION_FAILURE,
	METRICS_REASON_TLSA_INVALID,
	METRICS_REASON_N
};

/* milter_messages_total{action=...}: a message's fate at end of data. */
enum metrics_action {
	METRICS_ACTION_ACCEPT,
	METRICS_ACTION_TAG,
	METRICS_ACTION_QUARANTINE,
	METRICS_ACTION_REJECT,
	METRICS_ACTION_TEMPFAIL,
	METRICS_ACTION_N
};

/* milter_rcpt_refused_total{code=...} */
enum metrics_rcpt {
	METRICS_RCPT_4XX,
	METRICS_RCPT_5XX,
	METRICS_RCPT_N
};

/* socketmap_requests_total{reply=...} */
enum metrics_reply {
	METRICS_REPLY_OK,
	METRICS_REPLY_NOTFOUND,
	METRICS_REPLY_TEMP,
	METRICS_REPLY_PERM,
	METRICS_REPLY_N
};

/* Count one event. Out-of-range enum values abort (internal inconsistency). */
void metrics_verdict(enum metrics_policy policy, enum metrics_source source);
void metrics_dns_query(enum metrics_dns result, uint64_t elapsed_us);
void metrics_mtasts_fetch(enum metrics_fetch result, uint64_t elapsed_us);
void metrics_probe(enum metrics_probe result, enum metrics_reason reason);
void metrics_milter_message(enum metrics_action action);
void metrics_rcpt_refused(enum metrics_rcpt code);
void metrics_socketmap_reply(enum metrics_reply reply);

/* The verdict cache's numbers at scrape time (cache_stats()). */
struct metrics_cache {
	unsigned long mc_hits;
	unsigned long mc_misses;
	unsigned long mc_entries;
	unsigned long mc_evictions;
};

/*
 * Append the whole exposition to sb. version: the build_info label value
 * (escaped here); cache: NULL leaves the cache metrics out.
 */
void metrics_render(struct sbuf *sb, const char *version, const struct metrics_cache *cache);

/* Zero everything (tests; not while other threads count). */
void metrics_reset(void);

#endif
