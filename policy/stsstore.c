/*
 * NAME
 *	stsstore 3
 * SUMMARY
 *	the MTA-STS policy store, apart from the verdict cache
 * SYNOPSIS
 *	#include "policy/stsstore.h"
 * DESCRIPTION
 *	A chained hash table of records (power-of-two buckets, FNV-1a,
 *	doubled when the records outnumber the buckets) and two LRU lists:
 *	the records with a policy, and those with only a failed fetch. A
 *	record moves between them when it gains or loses its policy. Past
 *	the bound the second list gives first: a failure only saves a
 *	fetch, a policy is what keeps a domain out of reach of a downgrade.
 *
 *	Policies past their end leave when they are asked for, and in a
 *	sweep of every record at most once a minute (on any call that
 *	passes the time), so that the gauge and the memory follow.
 * DIAGNOSTICS
 *	An eviction of a policy before its end logs a warning naming the
 *	domain; further evictions within STSSTORE_WARN_SECONDS are counted
 *	into the next warning. Out of memory aborts.
 */
#include "stsstore.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/metrics.h"
#include "common/xmalloc.h"

#define STSSTORE_SWEEP_SECONDS  60      /* at most one sweep per minute */
#define STSSTORE_WARN_SECONDS   60      /* at most one eviction warning per minute */

struct stsstore_rec {
	struct stsstore_rec *sr_hnext;          /* hash chain */
	struct stsstore_rec *sr_prev, *sr_next; /* its LRU list: head = most recent */
	uint32_t sr_hash;
	struct mtasts_policy *sr_policy;        /* one reference, or NULL */
	time_t sr_expires;                      /* sr_policy's end */
	time_t sr_last_failure;                 /* 0 when none */
	char sr_failed_id[MTASTS_ID_MAX + 1];   /* "" when unknown */
	char sr_domain[];
};

struct stsstore_list {
	struct stsstore_rec *sl_head, *sl_tail;
	unsigned long sl_n;
};

struct stsstore {
	struct stsstore_rec **s_buckets;
	size_t s_nbuckets;                      /* power of two */
	struct stsstore_list s_policies;        /* records with a policy */
	struct stsstore_list s_failures;        /* records with only a failure */
	unsigned long s_evictions;
	unsigned long s_expired;
	time_t s_next_sweep;
	time_t s_warned;                        /* the last eviction warning */
	unsigned long s_unwarned;               /* evictions since, not logged */
};

static uint32_t
stsstore_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* ---- metrics ---- */

/* Read at scrape time from the store bound by stsstore_metrics_register();
 * each family's mf_arg is the offset of its field in struct stsstore_stats. */
static struct stsstore *stsstore_metrics_bound;

static const size_t stsstore_off_policies = offsetof(struct stsstore_stats, ss_policies);
static const size_t stsstore_off_evictions = offsetof(struct stsstore_stats, ss_evictions);

static void
stsstore_metric_read(void *arg, unsigned long *cells, size_t n)
{
	struct stsstore_stats ss;

	(void)n;
	stsstore_stats(stsstore_metrics_bound, &ss);
	memcpy(&cells[0], (const char *)&ss + *(const size_t *)arg, sizeof(cells[0]));
}

static struct metrics_family stsstore_policies_metric = {
	METRICS_HEAD(METRICS_GAUGE, "danemilter_mtasts_policies",
	    "MTA-STS policies kept for their max_age in the policy store."),
	.mf_read = stsstore_metric_read, .mf_arg = (void *)&stsstore_off_policies,
};
static struct metrics_family stsstore_evictions_metric = {
	METRICS_HEAD(METRICS_COUNTER, "danemilter_mtasts_policy_evictions_total",
	    "MTA-STS policies evicted before their max_age past cache.max_policies."),
	.mf_read = stsstore_metric_read, .mf_arg = (void *)&stsstore_off_evictions,
};

void
stsstore_metrics_register(struct stsstore *s)
{
	stsstore_metrics_bound = s;
	metrics_register(&stsstore_policies_metric);
	metrics_register(&stsstore_evictions_metric);
}

static void
stsstore_metrics_unbind(struct stsstore *s)
{
	if (stsstore_metrics_bound != s)
		return;
	metrics_unregister(&stsstore_policies_metric);
	metrics_unregister(&stsstore_evictions_metric);
	stsstore_metrics_bound = NULL;
}

/* ---- records ---- */

static struct stsstore_list *
stsstore_list_of(struct stsstore *s, const struct stsstore_rec *r)
{
	return r->sr_policy != NULL ? &s->s_policies : &s->s_failures;
}

static void
stsstore_list_unlink(struct stsstore_list *l, struct stsstore_rec *r)
{
	if (r->sr_prev)
		r->sr_prev->sr_next = r->sr_next;
	else
		l->sl_head = r->sr_next;
	if (r->sr_next)
		r->sr_next->sr_prev = r->sr_prev;
	else
		l->sl_tail = r->sr_prev;
	r->sr_prev = r->sr_next = NULL;
	l->sl_n--;
}

static void
stsstore_list_push(struct stsstore_list *l, struct stsstore_rec *r)
{
	r->sr_prev = NULL;
	r->sr_next = l->sl_head;
	if (l->sl_head)
		l->sl_head->sr_prev = r;
	l->sl_head = r;
	if (l->sl_tail == NULL)
		l->sl_tail = r;
	l->sl_n++;
}

/* r becomes the most recently used of its list. */
static void
stsstore_touch(struct stsstore *s, struct stsstore_rec *r)
{
	struct stsstore_list *l = stsstore_list_of(s, r);

	if (l->sl_head == r)
		return;
	stsstore_list_unlink(l, r);
	stsstore_list_push(l, r);
}

/* r's policy becomes p (a reference taken over, or NULL) until expires;
 * r moves to the head of the list that fits. */
static void
stsstore_set_policy(struct stsstore *s, struct stsstore_rec *r, struct mtasts_policy *p,
    time_t expires)
{
	stsstore_list_unlink(stsstore_list_of(s, r), r);
	mtasts_policy_unref(r->sr_policy);
	r->sr_policy = p;
	r->sr_expires = p != NULL ? expires : 0;
	stsstore_list_push(stsstore_list_of(s, r), r);
}

static struct stsstore_rec *
stsstore_find(const struct stsstore *s, const char *domain, uint32_t h)
{
	struct stsstore_rec *r;

	for (r = s->s_buckets[h & (s->s_nbuckets - 1)]; r; r = r->sr_hnext)
		if (r->sr_hash == h && strcmp(r->sr_domain, domain) == 0)
			return r;
	return NULL;
}

static void
stsstore_grow(struct stsstore *s)
{
	size_t n = s->s_nbuckets * 2, i;
	struct stsstore_rec **b = xcalloc(n, sizeof(*b)), *r, *next;

	for (i = 0; i < s->s_nbuckets; i++)
		for (r = s->s_buckets[i]; r; r = next) {
			next = r->sr_hnext;
			r->sr_hnext = b[r->sr_hash & (n - 1)];
			b[r->sr_hash & (n - 1)] = r;
		}
	free(s->s_buckets);
	s->s_buckets = b;
	s->s_nbuckets = n;
}

/* A new record for domain, without a policy or a failure yet (the caller
 * gives it one before the next call). */
static struct stsstore_rec *
stsstore_rec_new(struct stsstore *s, const char *domain, uint32_t h)
{
	size_t len = strlen(domain);
	struct stsstore_rec *r = xcalloc(1, sizeof(*r) + len + 1);
	struct stsstore_rec **b;

	if (s->s_policies.sl_n + s->s_failures.sl_n >= s->s_nbuckets &&
	    s->s_nbuckets < ((size_t)1 << 24))
		stsstore_grow(s);
	memcpy(r->sr_domain, domain, len + 1);
	r->sr_hash = h;
	b = &s->s_buckets[h & (s->s_nbuckets - 1)];
	r->sr_hnext = *b;
	*b = r;
	stsstore_list_push(&s->s_failures, r);
	return r;
}

static void
stsstore_rec_free(struct stsstore *s, struct stsstore_rec *r)
{
	struct stsstore_rec **pp = &s->s_buckets[r->sr_hash & (s->s_nbuckets - 1)];

	while (*pp != r)
		pp = &(*pp)->sr_hnext;
	*pp = r->sr_hnext;
	stsstore_list_unlink(stsstore_list_of(s, r), r);
	mtasts_policy_unref(r->sr_policy);
	free(r);
}

/* Does r's failed fetch still hold back a fetch at now (mtasts.c's wait)? */
static bool
stsstore_failure_live(const struct stsstore_rec *r, time_t now)
{
	return r->sr_last_failure != 0 && now >= r->sr_last_failure &&
	    now - r->sr_last_failure < MTASTS_RETRY_SECONDS;
}

/* Drop what r holds past its time at now; true when r is gone. */
static bool
stsstore_tidy(struct stsstore *s, struct stsstore_rec *r, time_t now)
{
	if (r->sr_policy != NULL && r->sr_expires <= now) {
		log_debug("mta-sts: the policy of %s (id %s) reached its max_age: dropped",
		    r->sr_domain, r->sr_policy->mp_id);
		stsstore_set_policy(s, r, NULL, 0);
		s->s_expired++;
	}
	if (r->sr_policy == NULL && !stsstore_failure_live(r, now)) {
		stsstore_rec_free(s, r);
		return true;
	}
	return false;
}

static void
stsstore_sweep(struct stsstore *s, time_t now)
{
	struct stsstore_list *lists[2] = { &s->s_policies, &s->s_failures };
	struct stsstore_rec *r, *next;
	size_t i;

	if (now < s->s_next_sweep && s->s_next_sweep - now <= STSSTORE_SWEEP_SECONDS)
		return;                 /* (a clock set back does not stop the sweeps) */
	s->s_next_sweep = now + STSSTORE_SWEEP_SECONDS;
	/* A policy that expires moves to the head of the failures list; the
	 * walk of that list then sees it again, and drops it or keeps it. */
	for (i = 0; i < 2; i++)
		for (r = lists[i]->sl_head; r; r = next) {
			next = r->sr_next;
			(void)stsstore_tidy(s, r, now);
		}
}

/* One eviction of a policy before its end: counted and logged. */
static void
stsstore_evicted(struct stsstore *s, const struct stsstore_rec *r, time_t now,
    unsigned long max)
{
	char more[64] = "";

	s->s_evictions++;
	if (s->s_warned != 0 && now >= s->s_warned && now - s->s_warned < STSSTORE_WARN_SECONDS) {
		s->s_unwarned++;
		return;
	}
	if (s->s_unwarned > 0)
		snprintf(more, sizeof(more), "; %lu more since the last warning", s->s_unwarned);
	log_warnx("mta-sts: cache.max_policies (%lu) reached: the policy of %s (id %s) "
	    "evicted %lld s before its max_age%s", max, r->sr_domain, r->sr_policy->mp_id,
	    (long long)(r->sr_expires - now), more);
	s->s_warned = now;
	s->s_unwarned = 0;
}

/* At most max records: the least recently used without a policy go
 * first, then the least recently used policies. */
static void
stsstore_bound(struct stsstore *s, time_t now, unsigned long max)
{
	struct stsstore_rec *r;

	while (s->s_policies.sl_n + s->s_failures.sl_n > max) {
		if ((r = s->s_failures.sl_tail) == NULL) {
			r = s->s_policies.sl_tail;
			if (r->sr_expires > now)
				stsstore_evicted(s, r, now, max);
			else
				s->s_expired++;
		}
		stsstore_rec_free(s, r);
	}
}

/* ---- the interface ---- */

struct stsstore *
stsstore_new(void)
{
	struct stsstore *s = xcalloc(1, sizeof(*s));

	s->s_nbuckets = 64;
	s->s_buckets = xcalloc(s->s_nbuckets, sizeof(*s->s_buckets));
	return s;
}

void
stsstore_free(struct stsstore *s)
{
	if (s == NULL)
		return;
	stsstore_metrics_unbind(s);
	while (s->s_policies.sl_head)
		stsstore_rec_free(s, s->s_policies.sl_head);
	while (s->s_failures.sl_head)
		stsstore_rec_free(s, s->s_failures.sl_head);
	free(s->s_buckets);
	free(s);
}

bool
stsstore_cached(struct stsstore *s, const char *domain, time_t now, struct mtasts_cached *mc)
{
	struct stsstore_rec *r;

	memset(mc, 0, sizeof(*mc));
	stsstore_sweep(s, now);
	r = stsstore_find(s, domain, stsstore_hash(domain));
	if (r == NULL || stsstore_tidy(s, r, now))
		return false;
	stsstore_touch(s, r);
	mc->mc_policy = r->sr_policy;
	mc->mc_last_failure = r->sr_last_failure;
	mc->mc_failed_id = r->sr_last_failure != 0 ? r->sr_failed_id : NULL;
	return true;
}

void
stsstore_update(struct stsstore *s, const char *domain, const struct mtasts_result *res,
    time_t now, unsigned long max)
{
	uint32_t h = stsstore_hash(domain);
	struct stsstore_rec *r;
	struct mtasts_policy *p = res->mr_policy;

	stsstore_sweep(s, now);
	r = stsstore_find(s, domain, h);
	if (p != NULL && (r == NULL || r->sr_policy != p)) {
		time_t end = p->mp_fetched + (time_t)p->mp_max_age;

		if (end > now) {
			if (r == NULL)
				r = stsstore_rec_new(s, domain, h);
			stsstore_set_policy(s, r, mtasts_policy_ref(p), end);
		}
	}
	if (res->mr_fetch_failed) {
		if (r == NULL)
			r = stsstore_rec_new(s, domain, h);
		r->sr_last_failure = now;
		snprintf(r->sr_failed_id, sizeof(r->sr_failed_id), "%s", res->mr_txt_id);
	} else if (res->mr_fetched && r != NULL) {
		r->sr_last_failure = 0;
		r->sr_failed_id[0] = '\0';
	}
	if (r == NULL)
		return;
	if (stsstore_tidy(s, r, now))
		return;
	stsstore_touch(s, r);
	stsstore_bound(s, now, max);
}

void
stsstore_put(struct stsstore *s, const char *domain, struct mtasts_policy *p,
    time_t expires, time_t last_failure, const char *failed_id, time_t now,
    unsigned long max)
{
	uint32_t h = stsstore_hash(domain);
	struct stsstore_rec *r;

	stsstore_sweep(s, now);
	if (stsstore_find(s, domain, h) != NULL) {
		mtasts_policy_unref(p);
		return;
	}
	if (p != NULL && expires <= now) {
		mtasts_policy_unref(p);
		p = NULL;
	}
	r = stsstore_rec_new(s, domain, h);
	r->sr_last_failure = last_failure;
	snprintf(r->sr_failed_id, sizeof(r->sr_failed_id), "%s", failed_id ? failed_id : "");
	if (p != NULL)
		stsstore_set_policy(s, r, p, expires);
	if (stsstore_tidy(s, r, now))
		return;
	stsstore_bound(s, now, max);
}

void
stsstore_each(const struct stsstore *s, time_t now, stsstore_each_fn *fn, void *arg)
{
	const struct stsstore_list *lists[2] = { &s->s_policies, &s->s_failures };
	const struct stsstore_rec *r;
	struct stsstore_entry se;
	size_t i;

	for (i = 0; i < 2; i++)
		for (r = lists[i]->sl_tail; r; r = r->sr_prev) {
			bool pol = r->sr_policy != NULL && r->sr_expires > now;
			bool failed = stsstore_failure_live(r, now);

			if (!pol && !failed)
				continue;
			se.se_domain = r->sr_domain;
			se.se_policy = pol ? r->sr_policy : NULL;
			se.se_expires = pol ? r->sr_expires : 0;
			se.se_last_failure = failed ? r->sr_last_failure : 0;
			se.se_failed_id = failed ? r->sr_failed_id : "";
			fn(arg, &se);
		}
}

void
stsstore_stats(const struct stsstore *s, struct stsstore_stats *out)
{
	out->ss_policies = s->s_policies.sl_n;
	out->ss_failures = s->s_failures.sl_n;
	out->ss_evictions = s->s_evictions;
	out->ss_expired = s->s_expired;
}
