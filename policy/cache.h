/*
 * cache.h: the verdict cache shared by every face (socketmap, milter,
 * command line), on the engine's ivykis loop.
 *
 * One entry per domain holds the current verdict and when it expires. A
 * miss starts one resolution (DANE and MTA-STS in parallel) that every
 * concurrent asker of the same domain joins. A hit costs a hash lookup and
 * no allocation. Entries that keep being asked for are refreshed shortly
 * before they expire; the least recently used are evicted past
 * cache.max_entries. The MTA-STS state that must outlive verdicts (the
 * last good policy until its max_age, the last failed fetch) is kept in
 * the cache's policy store (policy/stsstore.h), bounded by
 * cache.max_policies apart from the verdicts, so that verdict churn never
 * evicts a policy. The cache can be saved to a file and loaded from it,
 * so verdicts and MTA-STS policies survive restarts.
 *
 * Lifetimes: DANE verdicts live for their smallest DNS TTL clamped to
 * [cache.min_ttl, cache.max_ttl]; temporary errors for cache.error_ttl;
 * the MTA-STS part is re-checked after its TXT TTL (same clamp).
 *
 * Verdicts handed out are borrowed: valid until control returns to the
 * loop; take a reference (verdict_ref) to keep one longer.
 */
#ifndef DM_CACHE_H
#define DM_CACHE_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "policy/engine.h"
#include "policy/generation.h"
#include "policy/stsstore.h"
#include "policy/verdict.h"

struct cache;
struct cache_wait;

/* v is borrowed (see above). Runs once, from the loop. */
typedef void cache_done_fn(void *arg, struct verdict *v);

/*
 * Resolutions run on g's engine in force (g is the caller's and outlives
 * the cache). After a reload (generation_swap) every cached verdict is
 * recomputed at its next use; MTA-STS policies are kept.
 */
struct cache *cache_new(struct generation *g);
/* Drop every entry and the policy store; waiters are not called back.
 * Unbinds c's metrics (cache_metrics_register()) and its store's. */
void cache_free(struct cache *c);

/* Share verdicts and MTA-STS records with the fleet through s
 * (policy/shared.h; the caller's, outliving c; NULL: none): lookups go
 * local cache -> shared cache -> resolve (see cache.c), resolutions are
 * published, and cache_purge / cache_purge_all drop the shared values
 * too. */
struct shared;
void cache_set_shared(struct cache *c, struct shared *s);

/* c's MTA-STS policy store (c owns it), for its metrics
 * (stsstore_metrics_register). */
struct stsstore *cache_stsstore(struct cache *c);

/*
 * The fresh cached verdict for domain, or NULL (nothing is started then).
 * The hot path: no allocation. May start a refresh ahead in the background.
 */
struct verdict *cache_lookup(struct cache *c, const char *domain, time_t now);

/*
 * The verdict for domain (a valid host name, lower case, no trailing dot).
 * A fresh cached verdict is returned at once. Otherwise NULL: a resolution
 * was started or joined, done(arg, v) will run later (never from inside
 * this call), and *waitp (if not NULL) receives a handle for cache_cancel().
 */
struct verdict *cache_get(struct cache *c, const char *domain, time_t now,
    cache_done_fn *done, void *arg, struct cache_wait **waitp);
/*
 * The same for an asker of the Postfix policy alone (the socketmap): when
 * DANE has decided the policy (usable, partial, unusable, bogus,
 * temperror) while the MTA-STS lookup is still running, done runs at once
 * with a verdict built from DANE and the MTA-STS state the policy store
 * holds ("DANE first": a slow policy host never holds the answer); the
 * full verdict then replaces it in the cache when MTA-STS ends.
 */
struct verdict *cache_get_policy(struct cache *c, const char *domain, time_t now,
    cache_done_fn *done, void *arg, struct cache_wait **waitp);
/* The waiter's callback will not run. */
void cache_cancel(struct cache_wait *w);

/*
 * What the cache holds for one domain, for the control socket (ctl query,
 * ctl dump). ci_v is borrowed (see above).
 */
struct cache_info {
	const char *ci_domain;          /* the key (borrowed) */
	struct verdict *ci_v;
	time_t ci_expires;
};

/* domain's verdict if it would be answered now (fresh, under the
 * configuration in force), without counting a hit, touching the LRU
 * order or starting a refresh: true with *out filled; false otherwise. */
bool cache_peek(const struct cache *c, const char *domain, time_t now, struct cache_info *out);
/* Call fn for every verdict that would be answered now, in no order. fn
 * must not change the cache. */
typedef void cache_each_fn(void *arg, const struct cache_info *ci);
void cache_each(const struct cache *c, time_t now, cache_each_fn *fn, void *arg);

/*
 * Drop cached verdicts: domain's (cache_purge: 1 when it held one, else
 * 0) or all of them (cache_purge_all: how many). Only verdicts go: the
 * MTA-STS policy store keeps its policies (dropping one would let a
 * downgrade through), a resolution in flight goes on and answers its
 * waiters, and the next ask resolves again. With a shared cache
 * (cache_set_shared) the fleet's values go too (shared_purge,
 * shared_purge_all), so that no member takes the purged verdict back.
 */
unsigned long cache_purge(struct cache *c, const char *domain);
unsigned long cache_purge_all(struct cache *c);

/* Write every MTA-STS policy (and failed fetch) and every verdict worth
 * keeping to path (atomically: temp file + rename; the format is
 * policy/cachefile.h's). 0, or -1 with a malloc'ed *errp. */
int cache_save(struct cache *c, const char *path, time_t now, char **errp);
/* Load policies and verdicts from path, dropping expired ones and
 * malformed lines (with a warning each); a file of the previous version
 * (policies inside the verdict lines) loads too. The number of verdict
 * entries loaded, or -1 with *errp (a missing file is not an error: 0). */
long cache_load(struct cache *c, const char *path, time_t now, char **errp);
/* The same from an open stream (name for messages); the fuzz target's
 * entry point (fuzz/cachefile_fuzz.c): the same loader on a buffer. */
long cache_load_stream(struct cache *c, FILE *f, const char *name, time_t now, char **errp);

struct cache_stats {
	unsigned long cs_hits;
	unsigned long cs_misses;
	unsigned long cs_joined;        /* misses that joined a resolution in flight */
	unsigned long cs_resolutions;
	unsigned long cs_refreshes;     /* started ahead of expiry */
	unsigned long cs_evictions;
	unsigned long cs_entries;
};
void cache_stats(const struct cache *c, struct cache_stats *out);

/*
 * Put the verdict cache's metric families in the render list of
 * common/metrics.h, in this order: danemilter_verdicts_total{policy,source}
 * (counted for the resolutions of every cache), then cache_hits_total,
 * cache_misses_total, cache_entries and cache_evictions_total, read from
 * c's cache_stats() at scrape time (on the loop thread, which renders).
 * A later call binds the latter to its cache instead; cache_free(c) takes
 * them out of the list while they are bound to c.
 */
void cache_metrics_register(struct cache *c);

#endif
