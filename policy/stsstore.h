/*
 * stsstore.h: the MTA-STS policy store, on the engine's ivykis loop.
 *
 * One record per policy domain (a domain key, engine_domain_key): the last
 * good policy until its end (mp_fetched + mp_max_age: RFC 8461 §5.1, §10.2
 * keep a policy for its max_age), and the last failed fetch (its wall-clock
 * time and the TXT id it was for: the 5-minute wait of §3.3 is per id).
 * The store is apart from the verdict cache (policy/cache.h) so that
 * verdict churn (every MAIL FROM and RCPT domain, every socketmap key)
 * never evicts a policy: only domains with a policy or a recent failed
 * fetch get a record.
 *
 * The store decides no MTA-STS rule: policy/mtasts.c does (what a TXT id,
 * a failed refresh or a missing TXT record mean). The verdict cache asks
 * the store what it has when it starts a lookup (stsstore_cached, in the
 * form mtasts_lookup_start takes) and hands back the lookup's result
 * (stsstore_update): a fresh policy replaces the stored one; a result that
 * carries the stored policy (an unchanged id, a failed refresh, a TXT
 * record gone or not answering) keeps it; a failed fetch is recorded with
 * its id; a successful fetch clears it.
 *
 * Lifetimes: a policy leaves at its end; a record without a policy leaves
 * MTASTS_RETRY_SECONDS after its failure (it only keeps the wait). The
 * bound is the caller's (cache.max_policies), given to every call that
 * adds: past it the least recently used record without a policy goes
 * first, then the least recently used policy, logged (warning) and
 * counted (danemilter_mtasts_policy_evictions_total).
 *
 * Ownership: the store holds one reference on each stored policy; the
 * policies and strings it hands out are borrowed, valid until the next
 * call that changes the store. Thread: the loop's only (the metrics are
 * read there too).
 */
#ifndef DM_STSSTORE_H
#define DM_STSSTORE_H

#include <stdbool.h>
#include <time.h>

#include "policy/mtasts.h"

struct stsstore;

/* An empty store. Never NULL (out of memory aborts). */
struct stsstore *stsstore_new(void);
/* Drop every record and its policy reference; NULL: nothing. Unbinds
 * the store's metrics (stsstore_metrics_register). */
void stsstore_free(struct stsstore *s);

/*
 * What the store holds for domain at now, into *mc for
 * mtasts_lookup_start(): mc_policy (borrowed; NULL when none: a policy
 * past its end is dropped here), mc_last_failure (0 when none) and
 * mc_failed_id (borrowed; NULL when none). The record becomes the most
 * recently used. True when the store holds a record for domain.
 */
bool stsstore_cached(struct stsstore *s, const char *domain, time_t now,
    struct mtasts_cached *mc);

/*
 * An MTA-STS lookup for domain, started with what stsstore_cached() gave,
 * ended at now with res: store what it says (see above), then keep at
 * most max records.
 */
void stsstore_update(struct stsstore *s, const char *domain, const struct mtasts_result *res,
    time_t now, unsigned long max);

/*
 * A record from a saved store (policy/cachefile.h): p (its reference is
 * taken over; NULL: none) until expires, the last failure at
 * last_failure (0: none) for the TXT id failed_id (NULL or "": unknown).
 * A domain the store holds already keeps its record (the first one
 * wins: p is dropped); a record with nothing left at now is not added.
 * It becomes the most recently used; then at most max records are kept.
 */
void stsstore_put(struct stsstore *s, const char *domain, struct mtasts_policy *p,
    time_t expires, time_t last_failure, const char *failed_id, time_t now,
    unsigned long max);

/* One record, as stsstore_each() shows it; everything borrowed. */
struct stsstore_entry {
	const char *se_domain;
	const struct mtasts_policy *se_policy;  /* NULL when none */
	time_t se_expires;                      /* the policy's end (0 without one) */
	time_t se_last_failure;                 /* 0 when none (or past the wait) */
	const char *se_failed_id;               /* "" when unknown or none */
};
typedef void stsstore_each_fn(void *arg, const struct stsstore_entry *se);

/*
 * fn for every record still worth keeping at now (its policy not past its
 * end, or its failure inside the wait), policies first, each kind from
 * the least to the most recently used: stsstore_put() in this order
 * rebuilds the same order. fn must not change the store.
 */
void stsstore_each(const struct stsstore *s, time_t now, stsstore_each_fn *fn, void *arg);

struct stsstore_stats {
	unsigned long ss_policies;      /* records with a policy */
	unsigned long ss_failures;      /* records with only a failed fetch */
	unsigned long ss_evictions;     /* policies evicted past the bound before their end */
	unsigned long ss_expired;       /* policies dropped at their end */
};
void stsstore_stats(const struct stsstore *s, struct stsstore_stats *out);

/*
 * Put the store's metric families in the render list of common/metrics.h,
 * read from s's stsstore_stats() at scrape time: danemilter_mtasts_policies
 * (gauge) and danemilter_mtasts_policy_evictions_total. A later call binds
 * them to its store instead; stsstore_free(s) takes them out of the list
 * while they are bound to s.
 */
void stsstore_metrics_register(struct stsstore *s);

#endif
