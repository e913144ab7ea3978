/*
 * NAME
 *	mtasts 3
 * SUMMARY
 *	MTA-STS (RFC 8461) policy discovery on the engine's ivykis loop
 * SYNOPSIS
 *	#include "policy/mtasts.h"
 * DESCRIPTION
 *	The lookup: the TXT record, the rules about the cached policy, its
 *	id and the wait after a failed fetch, and the result. It parses with
 *	policy/mtasts_policy.c and fetches with policy/stsfetch.c.
 *
 *	One struct mtasts_ctx per engine holds the resolver it was given and
 *	a struct stsfetch (libcurl's multi handle on the loop). The context
 *	must be freed before that resolver.
 *
 *	One struct mtasts_lookup per mtasts_lookup_start() walks:
 *
 *	1. TXT _mta-sts.DOMAIN. Each record's strings are concatenated.
 *	   Records that begin with the version field ("v=STSv1" then *WSP and
 *	   ";" or the end) are the candidates; exactly one is needed and it
 *	   must parse (mtasts_policy_txt_parse), else there is no policy
 *	   (a cached one is kept). NXDOMAIN/NODATA: no policy.
 *	   SERVFAIL/timeout: the cached policy, or MTASTS_ERROR. Security does
 *	   not matter here.
 *	2. Same id as the cached policy: done, no fetch. A failed fetch less
 *	   than MTASTS_RETRY_SECONDS ago: no fetch either.
 *	3. A and AAAA of mta-sts.DOMAIN in parallel (our resolver; the
 *	   fetch gets the addresses and never resolves).
 *	4. stsfetch_start(): GET https://mta-sts.DOMAIN/.well-known/mta-sts.txt
 *	   under the fetch rules (PKIX, no redirects, 200 only, text/plain,
 *	   MTASTS_BODY_MAX, bounded time; policy/stsfetch.h). A certificate
 *	   failure is MTASTS_FAIL_WEBPKI, any other MTASTS_FAIL_FETCH.
 *	5. mtasts_policy_parse() on the body (a failure is
 *	   MTASTS_FAIL_INVALID).
 *
 *	The result is handed over from an iv_task, never from inside
 *	the fetch or the resolver's callbacks, so the callback may cancel
 *	other lookups or free the context. The lookup is gone by the time
 *	the callback runs.
 *
 *	Steps 3 to 5 are one fetch for danemilter_mtasts_fetches_total and
 *	danemilter_mtasts_fetch_duration_seconds (defined here, rendered by
 *	common/metrics.h): ok when a policy parsed, error for any failure; a
 *	cancelled lookup's fetch is not counted.
 * DIAGNOSTICS
 *	With a logtag, each step logs one "TAG: mta-sts: ..." line at info.
 *	Every failure is described in mr_reason. Out of memory aborts.
 */
#include "mtasts.h"

#include <ctype.h>
#include <iv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/deadline.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/sbuf.h"
#include "common/xmalloc.h"
#include "dns/rdata.h"
#include "policy/stsfetch.h"

#define MTASTS_ADDRS_MAX        16      /* policy host addresses handed to the fetch */

struct mtasts_ctx {
	struct dns_resolver *cx_r;
	struct stsfetch *cx_fetch;
	struct mtasts_lookup *cx_lookups;
};

struct mtasts_lookup {
	struct mtasts_ctx *ml_ctx;
	struct mtasts_lookup *ml_prev, *ml_next;
	char *ml_domain;
	char *ml_logtag;
	struct mtasts_policy *ml_cached;        /* one reference, or NULL */
	time_t ml_last_failure;
	time_t ml_now;
	mtasts_done_fn *ml_done;
	void *ml_arg;
	uint32_t ml_txt_ttl;
	char ml_id[MTASTS_ID_MAX + 1];
	char ml_failed_id[MTASTS_ID_MAX + 1];   /* the id of the last failed fetch */

	struct dns_query *ml_txt, *ml_a, *ml_aaaa;
	struct timespec ml_fetch_t0;    /* the fetch began (metrics) */
	int ml_addr_pending;
	char *ml_addrs[MTASTS_ADDRS_MAX];
	size_t ml_naddrs;
	char *ml_addr_err[2];           /* A, AAAA lookup errors */

	struct stsfetch_req *ml_fetch;  /* the HTTPS GET in flight */

	struct mtasts_result *ml_res;   /* finished: delivered by ml_task */
	struct iv_task ml_task;
};

/* ---------------------------------------------------------------- names */

const char *
mtasts_failure_name(enum mtasts_failure f)
{
	static const char *const n[] = {
		"none", "sts-policy-fetch-error", "sts-policy-invalid", "sts-webpki-invalid"
	};

	return (unsigned)f < sizeof(n) / sizeof(n[0]) ? n[f] : "?";
}

/* ---------------------------------------------------------------- results */

void
mtasts_result_free(struct mtasts_result *res)
{
	if (res == NULL)
		return;
	mtasts_policy_unref(res->mr_policy);
	free(res->mr_reason);
	free(res);
}

static void mtasts_lookup_free(struct mtasts_lookup *l);

static void
mtasts_deliver(void *cookie)
{
	struct mtasts_lookup *l = cookie;
	struct mtasts_result *res = l->ml_res;
	mtasts_done_fn *done = l->ml_done;
	void *arg = l->ml_arg;

	l->ml_res = NULL;
	mtasts_lookup_free(l);
	done(arg, res);
}

/* The lookup is over: queue the result for delivery from the loop. The
 * reason is taken over. */
static void
mtasts_finish(struct mtasts_lookup *l, enum mtasts_status st, struct mtasts_policy *pol,
    char *reason)
{
	struct mtasts_result *res = xcalloc(1, sizeof(*res));

	res->mr_status = st;
	res->mr_policy = pol;
	res->mr_reason = reason;
	res->mr_txt_ttl = l->ml_txt_ttl;
	memcpy(res->mr_txt_id, l->ml_id, sizeof(res->mr_txt_id));
	l->ml_res = res;
	iv_task_register(&l->ml_task);
}

/* A policy still under its TXT id is fetched again (RFC 8461 §10.2: refresh
 * proactively) once it is this old: half its max_age, at most a day. A
 * failed refresh keeps it. */
static time_t
mtasts_refresh_age(const struct mtasts_policy *p)
{
	uint32_t half = p->mp_max_age / 2;

	return (time_t)(half < 86400 ? half : 86400);
}

static void mtasts_a_cb(void *arg, const struct dns_answer *a);
static void mtasts_aaaa_cb(void *arg, const struct dns_answer *a);

/* ---- metrics ---- */

/* mtasts_fetches_total{result} */
enum mtasts_fetch_result {
	MTASTS_FETCH_OK,
	MTASTS_FETCH_ERROR
};
static const char *const mtasts_metric_results[] = {
	[MTASTS_FETCH_OK] = "ok",
	[MTASTS_FETCH_ERROR] = "error"
};

static struct metrics_family mtasts_fetches_metric = {
	METRICS_HEAD(METRICS_COUNTER, "danemilter_mtasts_fetches_total",
	    "MTA-STS policy fetches, by result."),
	METRICS_LABEL1("result", mtasts_metric_results),
};

/* mtasts_fetch_duration_seconds (address lookup + HTTPS): 5 ms .. 60 s. */
static const unsigned long mtasts_metric_bounds_us[] = {
	5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000, 30000000, 60000000
};
static const char *const mtasts_metric_le[] = {
	"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
	"1", "2.5", "5", "10", "30", "60"
};

static struct metrics_family mtasts_duration_metric = {
	METRICS_HEAD(METRICS_HISTOGRAM, "danemilter_mtasts_fetch_duration_seconds",
	    "Time of an MTA-STS policy fetch, from the policy host's address lookup to the parsed policy or the failure."),
	METRICS_BUCKETS(mtasts_metric_bounds_us, mtasts_metric_le),
};

void
mtasts_metrics_register(void)
{
	metrics_register(&mtasts_duration_metric);
	metrics_register(&mtasts_fetches_metric);
}

/* The fetch that began at ml_fetch_t0 ended: count it. */
static void
mtasts_fetch_count(const struct mtasts_lookup *l, enum mtasts_fetch_result result)
{
	metrics_inc(&mtasts_fetches_metric, result, 0);
	metrics_observe(&mtasts_duration_metric, deadline_since_us(&l->ml_fetch_t0));
}

/* Fetch the policy under l->ml_id: the policy host's addresses first. */
static void
mtasts_fetch_begin(struct mtasts_lookup *l)
{
	char host[RDATA_NAME_MAX + 16];

	clock_gettime(CLOCK_MONOTONIC, &l->ml_fetch_t0);
	snprintf(host, sizeof(host), "mta-sts.%s", l->ml_domain);
	l->ml_addr_pending = 2;
	l->ml_a = dns_query_start(l->ml_ctx->cx_r, host, DNS_TYPE_A, l->ml_logtag,
	    mtasts_a_cb, l);
	l->ml_aaaa = dns_query_start(l->ml_ctx->cx_r, host, DNS_TYPE_AAAA, l->ml_logtag,
	    mtasts_aaaa_cb, l);
}

/*
 * No usable TXT record (or none could be looked up): the cached policy,
 * else st. A cached policy old enough to be refreshed is fetched again all
 * the same (RFC 8461 §10.2: refresh regardless of the state of the TXT
 * record), unless a fetch failed in the last MTASTS_RETRY_SECONDS; a
 * failure keeps it, so a blocked TXT lookup cannot run it out.
 */
static void
mtasts_no_txt(struct mtasts_lookup *l, enum mtasts_status st, char *why)
{
	if (l->ml_cached != NULL) {
		if (l->ml_now - l->ml_cached->mp_fetched >= mtasts_refresh_age(l->ml_cached) &&
		    (l->ml_last_failure == 0 || l->ml_now < l->ml_last_failure ||
		    l->ml_now - l->ml_last_failure >= MTASTS_RETRY_SECONDS)) {
			if (l->ml_logtag)
				log_info("%s: mta-sts: %s; refreshing the cached policy (id %s) anyway",
				    l->ml_logtag, why, l->ml_cached->mp_id);
			free(why);
			memcpy(l->ml_id, l->ml_cached->mp_id, sizeof(l->ml_id));
			mtasts_fetch_begin(l);
			return;
		}
		if (l->ml_logtag)
			log_info("%s: mta-sts: %s; cached policy (id %s) kept", l->ml_logtag, why,
			    l->ml_cached->mp_id);
		mtasts_finish(l, MTASTS_POLICY, mtasts_policy_ref(l->ml_cached),
		    xasprintf("%s; cached policy (id %s) kept", why, l->ml_cached->mp_id));
		free(why);
		return;
	}
	if (l->ml_logtag)
		log_info("%s: mta-sts: %s", l->ml_logtag, why);
	mtasts_finish(l, st, NULL, why);
}

/* The fetch failed: keep the cached policy if there is one. */
static void
mtasts_fetch_failed(struct mtasts_lookup *l, enum mtasts_failure f, char *why)
{
	struct mtasts_result *res;

	mtasts_fetch_count(l, MTASTS_FETCH_ERROR);
	if (l->ml_logtag)
		log_info("%s: mta-sts: fetch failed: %s (%s)%s", l->ml_logtag, why,
		    mtasts_failure_name(f), l->ml_cached ? "; cached policy kept" : "");
	if (l->ml_cached != NULL) {
		mtasts_finish(l, MTASTS_POLICY, mtasts_policy_ref(l->ml_cached),
		    xasprintf("%s (cached policy id %s kept)", why, l->ml_cached->mp_id));
		free(why);
	} else
		mtasts_finish(l, MTASTS_ERROR, NULL, why);
	res = l->ml_res;
	res->mr_fetch_failed = true;
	res->mr_failure = f;
}

/* ---------------------------------------------------------------- fetch */

static void
mtasts_log_policy(struct mtasts_lookup *l, const struct mtasts_policy *p)
{
	struct sbuf sb = SBUF_INIT;
	size_t i;

	for (i = 0; i < p->mp_nmx; i++) {
		if (i > 0)
			sbuf_appendc(&sb, ',');
		sbuf_append(&sb, p->mp_mx[i]);
	}
	log_info("%s: mta-sts: fetched policy mode=%s max_age=%u mx=%s (id %s)", l->ml_logtag,
	    mtasts_policy_mode_name(p->mp_mode), p->mp_max_age, p->mp_nmx ? sbuf_str(&sb) : "-",
	    p->mp_id);
	sbuf_free(&sb);
}

/* The GET is over (stsfetch_done_fn): parse what came. */
static void
mtasts_fetched(void *arg, enum stsfetch_status st, const char *body, size_t len, char *why,
    time_t cert_not_after)
{
	struct mtasts_lookup *l = arg;
	struct mtasts_policy *p;
	char *err = NULL;

	l->ml_fetch = NULL;
	if (st != STSFETCH_OK) {
		enum mtasts_failure f = st == STSFETCH_WEBPKI ? MTASTS_FAIL_WEBPKI :
		    MTASTS_FAIL_FETCH;

		mtasts_fetch_failed(l, f, why);
		return;
	}
	if ((p = mtasts_policy_parse(body, len, &err)) == NULL) {
		why = xasprintf("policy invalid: %s", err);
		free(err);
		mtasts_fetch_failed(l, MTASTS_FAIL_INVALID, why);
		return;
	}
	memcpy(p->mp_id, l->ml_id, sizeof(p->mp_id));
	p->mp_fetched = l->ml_now;
	mtasts_fetch_count(l, MTASTS_FETCH_OK);
	if (l->ml_logtag)
		mtasts_log_policy(l, p);
	mtasts_finish(l, MTASTS_POLICY, p,
	    xasprintf("policy fetched (id %s): mode %s, max_age %u, %zu mx pattern%s",
	    p->mp_id, mtasts_policy_mode_name(p->mp_mode), p->mp_max_age, p->mp_nmx,
	    p->mp_nmx == 1 ? "" : "s"));
	l->ml_res->mr_fetched = true;
	l->ml_res->mr_cert_not_after = cert_not_after;
}

/* The policy host's addresses are in: the GET. */
static void
mtasts_fetch_start(struct mtasts_lookup *l)
{
	char host[RDATA_NAME_MAX + 16], *err = NULL;

	snprintf(host, sizeof(host), "mta-sts.%s", l->ml_domain);
	l->ml_fetch = stsfetch_start(l->ml_ctx->cx_fetch, host, l->ml_addrs, l->ml_naddrs,
	    l->ml_logtag, mtasts_fetched, l, &err);
	if (l->ml_fetch == NULL)
		mtasts_fetch_failed(l, MTASTS_FAIL_FETCH, err);
}

/* ---------------------------------------------------------------- DNS */

static char *
mtasts_answer_error(const struct dns_answer *a)
{
	return xasprintf("%s %s: %s%s%s", dns_type_name(a->da_qtype), a->da_qname,
	    dns_status_name(a->da_status), a->da_why ? ": " : "", a->da_why ? a->da_why : "");
}

static void
mtasts_addrs_done(struct mtasts_lookup *l)
{
	if (l->ml_naddrs > 0) {
		mtasts_fetch_start(l);
		return;
	}
	if (l->ml_addr_err[0] || l->ml_addr_err[1])
		mtasts_fetch_failed(l, MTASTS_FAIL_FETCH, xasprintf("no address for mta-sts.%s: %s%s%s",
		    l->ml_domain, l->ml_addr_err[0] ? l->ml_addr_err[0] : "",
		    l->ml_addr_err[0] && l->ml_addr_err[1] ? "; " : "",
		    l->ml_addr_err[1] ? l->ml_addr_err[1] : ""));
	else
		mtasts_fetch_failed(l, MTASTS_FAIL_FETCH,
		    xasprintf("no A or AAAA record for mta-sts.%s", l->ml_domain));
}

static void
mtasts_addr_cb(struct mtasts_lookup *l, int fam, const struct dns_answer *a)
{
	size_t i;

	if (a->da_status == DNS_ERROR || a->da_status == DNS_TIMEOUT)
		l->ml_addr_err[fam] = mtasts_answer_error(a);
	else if (a->da_status == DNS_RECORDS)
		for (i = 0; i < a->da_nrr && l->ml_naddrs < MTASTS_ADDRS_MAX; i++) {
			char text[64];

			if (rdata_addr(a->da_qtype, a->da_rr[i].dr_data, a->da_rr[i].dr_len,
			    text, sizeof(text)) == RDATA_OK)
				l->ml_addrs[l->ml_naddrs++] = xstrdup(text);
		}
	if (--l->ml_addr_pending == 0)
		mtasts_addrs_done(l);
}

static void
mtasts_a_cb(void *arg, const struct dns_answer *a)
{
	struct mtasts_lookup *l = arg;

	l->ml_a = NULL;
	mtasts_addr_cb(l, 0, a);
}

static void
mtasts_aaaa_cb(void *arg, const struct dns_answer *a)
{
	struct mtasts_lookup *l = arg;

	l->ml_aaaa = NULL;
	mtasts_addr_cb(l, 1, a);
}

static void
mtasts_txt_cb(void *arg, const struct dns_answer *a)
{
	struct mtasts_lookup *l = arg;
	char id[MTASTS_ID_MAX + 1];
	size_t i, ncand = 0, nvalid = 0;

	l->ml_txt = NULL;
	if (a->da_status == DNS_ERROR || a->da_status == DNS_TIMEOUT) {
		char *err = mtasts_answer_error(a);

		mtasts_no_txt(l, MTASTS_ERROR, xasprintf("TXT lookup failed: %s", err));
		free(err);
		return;
	}
	l->ml_txt_ttl = a->da_ttl;
	if (a->da_status != DNS_RECORDS) {
		mtasts_no_txt(l, MTASTS_ABSENT, xasprintf("no TXT record at _mta-sts.%s (%s)",
		    l->ml_domain, dns_status_name(a->da_status)));
		return;
	}
	for (i = 0; i < a->da_nrr; i++) {
		char *txt = xmalloc(a->da_rr[i].dr_len + 1);
		int trunc;

		if (rdata_txt(a->da_rr[i].dr_data, a->da_rr[i].dr_len, txt,
		    a->da_rr[i].dr_len + 1, &trunc) == RDATA_OK && !trunc &&
		    mtasts_policy_txt_candidate(txt)) {
			ncand++;
			if (mtasts_policy_txt_parse(txt, id)) {
				nvalid++;
				memcpy(l->ml_id, id, sizeof(id));
			}
		}
		free(txt);
	}
	if (ncand != 1) {
		mtasts_no_txt(l, MTASTS_ABSENT, xasprintf("%zu v=STSv1 TXT records at _mta-sts.%s",
		    ncand, l->ml_domain));
		return;
	}
	if (nvalid != 1) {
		mtasts_no_txt(l, MTASTS_ABSENT, xasprintf("invalid v=STSv1 TXT record at _mta-sts.%s",
		    l->ml_domain));
		return;
	}
	if (l->ml_logtag)
		log_info("%s: mta-sts: TXT _mta-sts.%s id=%s", l->ml_logtag, l->ml_domain, l->ml_id);
	if (l->ml_cached != NULL && strcmp(l->ml_cached->mp_id, l->ml_id) == 0 &&
	    l->ml_now - l->ml_cached->mp_fetched < mtasts_refresh_age(l->ml_cached)) {
		if (l->ml_logtag)
			log_info("%s: mta-sts: id unchanged, cached policy kept", l->ml_logtag);
		mtasts_finish(l, MTASTS_POLICY, mtasts_policy_ref(l->ml_cached),
		    xasprintf("id %s unchanged: cached policy", l->ml_id));
		return;
	}
	if (l->ml_last_failure != 0 && strcmp(l->ml_failed_id, l->ml_id) == 0 &&
	    l->ml_now >= l->ml_last_failure && l->ml_now - l->ml_last_failure < MTASTS_RETRY_SECONDS) {
		char *why = xasprintf("id %s: last fetch failed %lld s ago, next try in %lld s", l->ml_id,
		    (long long)(l->ml_now - l->ml_last_failure),
		    (long long)(MTASTS_RETRY_SECONDS - (l->ml_now - l->ml_last_failure)));

		mtasts_no_txt(l, MTASTS_ERROR, why);
		return;
	}
	mtasts_fetch_begin(l);
}

/* ---------------------------------------------------------------- lookups */


struct mtasts_lookup *
mtasts_lookup_start(struct mtasts_ctx *c, const char *domain,
    const struct mtasts_cached *cached, time_t now, const char *logtag,
    mtasts_done_fn *done, void *arg)
{
	struct mtasts_lookup *l = xcalloc(1, sizeof(*l));
	char qname[RDATA_NAME_MAX + 16];
	size_t i;

	l->ml_ctx = c;
	l->ml_domain = xstrdup(domain);
	for (i = 0; l->ml_domain[i]; i++)
		l->ml_domain[i] = (char)tolower((unsigned char)l->ml_domain[i]);
	l->ml_logtag = logtag ? xstrdup(logtag) : NULL;
	if (cached != NULL) {
		l->ml_cached = cached->mc_policy ? mtasts_policy_ref(cached->mc_policy) : NULL;
		l->ml_last_failure = cached->mc_last_failure;
		snprintf(l->ml_failed_id, sizeof(l->ml_failed_id), "%s",
		    cached->mc_failed_id ? cached->mc_failed_id : "");
	}
	l->ml_now = now;
	l->ml_done = done;
	l->ml_arg = arg;
	IV_TASK_INIT(&l->ml_task);
	l->ml_task.cookie = l;
	l->ml_task.handler = mtasts_deliver;
	l->ml_next = c->cx_lookups;
	if (c->cx_lookups)
		c->cx_lookups->ml_prev = l;
	c->cx_lookups = l;

	/* "mta-sts." + domain must still be a name. */
	if (!rdata_name_is_hostname(l->ml_domain) || strlen(l->ml_domain) > 253 - 9) {
		struct sbuf sb = SBUF_INIT;

		sbuf_append(&sb, "not a domain name: ");
		mtasts_policy_quote(&sb, domain, strlen(domain));
		if (l->ml_logtag)
			log_info("%s: mta-sts: %s", l->ml_logtag, sbuf_str(&sb));
		mtasts_finish(l, MTASTS_ABSENT, NULL, sbuf_steal(&sb));
		return l;
	}
	snprintf(qname, sizeof(qname), "_mta-sts.%s", l->ml_domain);
	l->ml_txt = dns_query_start(c->cx_r, qname, DNS_TYPE_TXT, l->ml_logtag, mtasts_txt_cb, l);
	return l;
}

static void
mtasts_lookup_free(struct mtasts_lookup *l)
{
	struct mtasts_ctx *c = l->ml_ctx;
	size_t i;

	if (l->ml_prev)
		l->ml_prev->ml_next = l->ml_next;
	else
		c->cx_lookups = l->ml_next;
	if (l->ml_next)
		l->ml_next->ml_prev = l->ml_prev;
	if (l->ml_txt)
		dns_query_cancel(l->ml_txt);
	if (l->ml_a)
		dns_query_cancel(l->ml_a);
	if (l->ml_aaaa)
		dns_query_cancel(l->ml_aaaa);
	stsfetch_cancel(l->ml_fetch);
	if (iv_task_registered(&l->ml_task))
		iv_task_unregister(&l->ml_task);
	mtasts_result_free(l->ml_res);
	mtasts_policy_unref(l->ml_cached);
	for (i = 0; i < l->ml_naddrs; i++)
		free(l->ml_addrs[i]);
	free(l->ml_addr_err[0]);
	free(l->ml_addr_err[1]);
	free(l->ml_domain);
	free(l->ml_logtag);
	free(l);
}

void
mtasts_lookup_cancel(struct mtasts_lookup *l)
{
	if (l != NULL)
		mtasts_lookup_free(l);
}

/* ---------------------------------------------------------------- context */

struct mtasts_ctx *
mtasts_ctx_new(struct dns_resolver *r, const struct mtasts_options *o, char **errp)
{
	struct mtasts_options d = { NULL, 10000, 30000, 443 };   /* the defaults */
	struct mtasts_ctx *c;
	struct stsfetch *f;

	if (o != NULL) {
		if (o->mo_ca_file != NULL && *o->mo_ca_file != '\0')
			d.mo_ca_file = o->mo_ca_file;
		if (o->mo_connect_timeout_ms)
			d.mo_connect_timeout_ms = o->mo_connect_timeout_ms;
		if (o->mo_timeout_ms)
			d.mo_timeout_ms = o->mo_timeout_ms;
		if (o->mo_port)
			d.mo_port = o->mo_port;
	}
	f = stsfetch_new(d.mo_ca_file, d.mo_connect_timeout_ms, d.mo_timeout_ms, d.mo_port, errp);
	if (f == NULL)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->cx_r = r;
	c->cx_fetch = f;
	return c;
}

void
mtasts_ctx_free(struct mtasts_ctx *c)
{
	if (c == NULL)
		return;
	while (c->cx_lookups != NULL)
		mtasts_lookup_free(c->cx_lookups);
	stsfetch_free(c->cx_fetch);
	free(c);
}
