/*
 * cache.c: see cache.h.
 *
 * A chained hash table (power-of-two buckets, FNV-1a) plus an LRU list.
 * An entry's resolution in flight is a struct cache_job with the DANE and
 * MTA-STS lookups and the list of waiters; the job ends when both lookups
 * have answered, builds the new verdict, and calls the waiters.
 *
 * MTA-STS policies are not kept in the entries: policy/stsstore.c keeps
 * them, with a bound of their own, so that the LRU eviction of verdicts
 * never takes one. A resolution asks the store what it has for the domain
 * (stsstore_cached) and hands the MTA-STS result back (stsstore_update).
 *
 * cache_save() and cache_load() (in cache_io.c, with the shared cache's
 * code; the insides both parts see are in cache_private.h) choose what goes
 * to the cache file and what comes back into memory (the policy store
 * too); the file's format, its atomic write and its parser are
 * policy/cachefile.c's.
 *
 * With the fleet's shared cache (cache_set_shared; policy/shared.h;
 * cache_io.c) a
 * job starts with a claim on Redis instead of DNS: a value there is
 * rebuilt into the verdict (its payload: the cache file's "p" and "e"
 * lines of the domain, parsed by policy/cachefile.c, under the local
 * configuration); no value and the fleet's lock taken: this member
 * resolves (its lock renewed meanwhile) and publishes; another member
 * holds the lock: ask again every 10-50 ms until the value comes, the
 * lock is gone (then this member takes it) or shared_timeout_ms +
 * SHARED_WAIT_MS have passed, then resolve alone;
 * Redis failing or slow: resolve alone at once. A refresh ahead takes the
 * same path, so that one member of the fleet refreshes.
 */
#include "cache.h"

#include <iv.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/metrics.h"
#include "common/sbuf.h"
#include "common/xmalloc.h"
#include "common/deadline.h"
#include "policy/cachefile.h"
#include "policy/shared.h"
#include "policy/stsstore.h"

#include "policy/cache_private.h"

uint32_t
cache_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

const struct cfg_cache *
cache_cfg(const struct cache *c)
{
	return &generation_engine(c->c_g)->en_cfg->c_cache;
}

/* The generation cached verdicts must have been built under to be used. */
unsigned
cache_gen(const struct cache *c)
{
	return generation_number(c->c_g);
}

/* Drop the engine references of finished jobs. A job ends inside a DNS
 * callback of its engine's resolver; when the engine was replaced by a
 * reload, that may be the last reference, and freeing the resolver from
 * inside its own callback would pull it out from under itself. */
static void
cache_reap(void *cookie)
{
	struct cache *c = cookie;
	size_t i;

	for (i = 0; i < c->c_ndead; i++)
		engine_unref(c->c_dead[i]);
	c->c_ndead = 0;
}

static void
cache_release_engine(struct cache *c, struct engine *en)
{
	c->c_dead = xreallocarray(c->c_dead, c->c_ndead + 1, sizeof(*c->c_dead));
	c->c_dead[c->c_ndead++] = en;
	if (!iv_task_registered(&c->c_reaper))
		iv_task_register(&c->c_reaper);
}

/* ---- metrics ---- */

/* verdicts_total{policy=...}: the Postfix policy level of a verdict. */
enum cache_metric_policy {
	CACHE_M_DANE_ONLY,
	CACHE_M_DANE,
	CACHE_M_SECURE,
	CACHE_M_NONE,                   /* NOTFOUND, or a fixed policy "none" */
	CACHE_M_TEMPERROR,              /* TEMP */
	CACHE_M_OTHER                   /* any other fixed policy (may, encrypt, ...) */
};
static const char *const cache_metric_policies[] = {
	[CACHE_M_DANE_ONLY] = "dane-only",
	[CACHE_M_DANE] = "dane",
	[CACHE_M_SECURE] = "secure",
	[CACHE_M_NONE] = "none",
	[CACHE_M_TEMPERROR] = "temperror",
	[CACHE_M_OTHER] = "other"
};

/* verdicts_total{source=...}: what decided it. */
enum cache_metric_source {
	CACHE_M_SRC_DANE,
	CACHE_M_SRC_MTASTS,
	CACHE_M_SRC_CONFIG,
	CACHE_M_SRC_NONE
};
static const char *const cache_metric_sources[] = {
	[CACHE_M_SRC_DANE] = "dane",
	[CACHE_M_SRC_MTASTS] = "mta-sts",
	[CACHE_M_SRC_CONFIG] = "config",
	[CACHE_M_SRC_NONE] = "none"
};

static struct metrics_family cache_verdicts_metric = {
	METRICS_HEAD(METRICS_COUNTER, "danemilter_verdicts_total",
	    "Verdicts of completed resolutions (not cache hits), by Postfix policy level and source."),
	METRICS_LABEL2("policy", cache_metric_policies, "source", cache_metric_sources),
};

/* The cache's own numbers (struct cache_stats), read at scrape time from
 * the cache bound by cache_metrics_register(); each family's mf_arg is
 * the offset of its field in struct cache_stats. */
static struct cache *cache_metrics_bound;

static const size_t cache_off_hits = offsetof(struct cache_stats, cs_hits);
static const size_t cache_off_misses = offsetof(struct cache_stats, cs_misses);
static const size_t cache_off_entries = offsetof(struct cache_stats, cs_entries);
static const size_t cache_off_evictions = offsetof(struct cache_stats, cs_evictions);

static void
cache_metric_read(void *arg, unsigned long *cells, size_t n)
{
	struct cache_stats cs;

	cache_stats(cache_metrics_bound, &cs);
	memcpy(&cells[0], (const char *)&cs + *(const size_t *)arg, sizeof(cells[0]));
}

static struct metrics_family cache_hits_metric = {
	METRICS_HEAD(METRICS_COUNTER, "danemilter_cache_hits_total",
	    "Verdict cache lookups answered from the cache."),
	.mf_read = cache_metric_read, .mf_arg = (void *)&cache_off_hits,
};
static struct metrics_family cache_misses_metric = {
	METRICS_HEAD(METRICS_COUNTER, "danemilter_cache_misses_total",
	    "Verdict cache lookups that started or joined a resolution."),
	.mf_read = cache_metric_read, .mf_arg = (void *)&cache_off_misses,
};
static struct metrics_family cache_entries_metric = {
	METRICS_HEAD(METRICS_GAUGE, "danemilter_cache_entries",
	    "Domains in the verdict cache."),
	.mf_read = cache_metric_read, .mf_arg = (void *)&cache_off_entries,
};
static struct metrics_family cache_evictions_metric = {
	METRICS_HEAD(METRICS_COUNTER, "danemilter_cache_evictions_total",
	    "Verdict cache entries evicted past cache.max_entries."),
	.mf_read = cache_metric_read, .mf_arg = (void *)&cache_off_evictions,
};

/* In the order of the exposition. */
static struct metrics_family *const cache_stat_metrics[] = {
	&cache_hits_metric, &cache_misses_metric, &cache_entries_metric, &cache_evictions_metric
};

void
cache_metrics_register(struct cache *c)
{
	size_t i;

	metrics_register(&cache_verdicts_metric);
	cache_metrics_bound = c;
	for (i = 0; i < METRICS_NELEM(cache_stat_metrics); i++)
		metrics_register(cache_stat_metrics[i]);
}

/* c goes away: its numbers leave the render list. */
static void
cache_metrics_unbind(struct cache *c)
{
	size_t i;

	if (cache_metrics_bound != c)
		return;
	for (i = 0; i < METRICS_NELEM(cache_stat_metrics); i++)
		metrics_unregister(cache_stat_metrics[i]);
	cache_metrics_bound = NULL;
}

struct cache *
cache_new(struct generation *g)
{
	struct cache *c = xcalloc(1, sizeof(*c));
	size_t want = generation_engine(g)->en_cfg->c_cache.cca_max_entries;

	c->c_g = g;
	IV_TASK_INIT(&c->c_reaper);
	c->c_reaper.cookie = c;
	c->c_reaper.handler = cache_reap;
	c->c_nbuckets = 64;
	while (c->c_nbuckets < want && c->c_nbuckets < (1u << 22))
		c->c_nbuckets <<= 1;
	c->c_buckets = xcalloc(c->c_nbuckets, sizeof(*c->c_buckets));
	c->c_sts = stsstore_new();
	return c;
}

struct stsstore *
cache_stsstore(struct cache *c)
{
	return c->c_sts;
}

void
cache_set_shared(struct cache *c, struct shared *s)
{
	c->c_shared = s;
}

static void
cache_lru_unlink(struct cache *c, struct cache_entry *e)
{
	if (e->ce_lprev)
		e->ce_lprev->ce_lnext = e->ce_lnext;
	else
		c->c_lru_head = e->ce_lnext;
	if (e->ce_lnext)
		e->ce_lnext->ce_lprev = e->ce_lprev;
	else
		c->c_lru_tail = e->ce_lprev;
	e->ce_lprev = e->ce_lnext = NULL;
}

static void
cache_lru_front(struct cache *c, struct cache_entry *e)
{
	if (c->c_lru_head == e)
		return;
	if (e->ce_lprev || e->ce_lnext || c->c_lru_tail == e)
		cache_lru_unlink(c, e);
	e->ce_lnext = c->c_lru_head;
	if (c->c_lru_head)
		c->c_lru_head->ce_lprev = e;
	c->c_lru_head = e;
	if (c->c_lru_tail == NULL)
		c->c_lru_tail = e;
}

struct cache_entry *
cache_find(struct cache *c, const char *key, uint32_t h)
{
	struct cache_entry *e;

	for (e = c->c_buckets[h & (c->c_nbuckets - 1)]; e; e = e->ce_hnext)
		if (e->ce_hash == h && strcmp(e->ce_key, key) == 0)
			return e;
	return NULL;
}

static void cache_job_abandon(struct cache_job *j);

static void
cache_entry_free(struct cache *c, struct cache_entry *e)
{
	struct cache_entry **pp = &c->c_buckets[e->ce_hash & (c->c_nbuckets - 1)];

	while (*pp != e)
		pp = &(*pp)->ce_hnext;
	*pp = e->ce_hnext;
	cache_lru_unlink(c, e);
	if (e->ce_job)
		cache_job_abandon(e->ce_job);
	verdict_unref(e->ce_v);
	free(e);
	c->c_stats.cs_entries--;
}

/* Past the size bound: drop the least recently used idle entries, never
 * keep (the entry being created). */
static void
cache_evict(struct cache *c, const struct cache_entry *keep)
{
	struct cache_entry *e = c->c_lru_tail, *prev;

	while (e != NULL && c->c_stats.cs_entries > cache_cfg(c)->cca_max_entries) {
		prev = e->ce_lprev;
		if (e->ce_job == NULL && e != keep) {
			cache_entry_free(c, e);
			c->c_stats.cs_evictions++;
		}
		e = prev;
	}
}

struct cache_entry *
cache_entry_new(struct cache *c, const char *key, uint32_t h)
{
	size_t len = strlen(key);
	struct cache_entry *e = xcalloc(1, sizeof(*e) + len + 1);
	struct cache_entry **b = &c->c_buckets[h & (c->c_nbuckets - 1)];

	memcpy(e->ce_key, key, len + 1);
	e->ce_hash = h;
	e->ce_hnext = *b;
	*b = e;
	cache_lru_front(c, e);
	c->c_stats.cs_entries++;
	cache_evict(c, e);
	return e;
}

void
cache_free(struct cache *c)
{
	cache_metrics_unbind(c);
	while (c->c_lru_head)
		cache_entry_free(c, c->c_lru_head);
	if (iv_task_registered(&c->c_reaper))
		iv_task_unregister(&c->c_reaper);
	cache_reap(c);
	free(c->c_dead);
	free(c->c_buckets);
	stsstore_free(c->c_sts);
	free(c);
}

static uint32_t
cache_clamp(const struct cfg_cache *cc, uint32_t ttl)
{
	if (ttl < cc->cca_min_ttl)
		ttl = cc->cca_min_ttl;
	if (ttl > cc->cca_max_ttl)
		ttl = cc->cca_max_ttl;
	return ttl;
}

/* The last part of a verdict's life in which being asked for starts a
 * refresh ahead: a tenth, but at least min(5 s, half of it). */
uint32_t
cache_refresh_window(uint32_t life)
{
	uint32_t w = life / 10, floor = life / 2 < 5 ? life / 2 : 5;

	return w > floor ? w : floor;
}

/* How long a new verdict lives, from its parts. */
static uint32_t
cache_lifetime(const struct cache *c, const struct verdict *v, const struct mtasts_result *sts,
    time_t now)
{
	const struct cfg_cache *cc = cache_cfg(c);
	uint32_t life;

	if (v->v_kind == VERDICT_TEMP)
		return cc->cca_error_ttl;
	life = cache_clamp(cc, v->v_dane->dr_ttl);
	if (v->v_valid_until != 0) {
		/* Never past the overrides entry's expiry it rests on. */
		time_t left = v->v_valid_until - now;

		if (left < 1)
			left = 1;
		if ((time_t)life > left)
			life = (uint32_t)left;
	}
	if (sts != NULL) {
		uint32_t sl = sts->mr_status == MTASTS_ERROR ? cc->cca_error_ttl :
		    cache_clamp(cc, sts->mr_txt_ttl);

		if (sts->mr_status == MTASTS_ERROR && sl < cc->cca_min_ttl)
			sl = cc->cca_min_ttl < MTASTS_RETRY_SECONDS ? cc->cca_min_ttl : MTASTS_RETRY_SECONDS;
		if (sl < life)
			life = sl;
	}
	if (v->v_sts_policy != NULL) {
		/* Never past the policy's own end (fetched + max_age). */
		time_t end = v->v_sts_policy->mp_fetched + (time_t)v->v_sts_policy->mp_max_age - now;

		if (end < 1)
			end = 1;
		if ((time_t)life > end)
			life = (uint32_t)end;
	}
	return life;
}

void
cache_job_free(struct cache_job *j)
{
	if (j->cj_dane)
		dane_lookup_cancel(j->cj_dane);
	if (j->cj_sts)
		mtasts_lookup_cancel(j->cj_sts);
	dane_result_free(j->cj_dane_res);
	if (j->cj_early_v != NULL)
		verdict_unref(j->cj_early_v);
	if (j->cj_sts_res)
		mtasts_result_free(j->cj_sts_res);
	if (j->cj_sreq != NULL)
		shared_cancel(j->cj_sreq);
	shared_unlock(j->cj_lock);              /* a job that ends unpublished */
	if (iv_timer_registered(&j->cj_poll))
		iv_timer_unregister(&j->cj_poll);
	cache_release_engine(j->cj_c, j->cj_en);
	free(j);
}

/* The entry goes away with its job in flight: waiters are not called. */
static void
cache_job_abandon(struct cache_job *j)
{
	struct cache_wait *w, *next;

	for (w = j->cj_waiters; w; w = next) {
		next = w->cw_next;
		free(w);
	}
	j->cj_e->ce_job = NULL;
	cache_job_free(j);
}

/* verdicts_total{policy,source} for a verdict just built by a resolution. */
static void
cache_count_verdict(const struct verdict *v)
{
	enum cache_metric_policy p;
	enum cache_metric_source src;

	if (v->v_kind == VERDICT_TEMP)
		p = CACHE_M_TEMPERROR;
	else if (v->v_kind == VERDICT_NOTFOUND || strcmp(v->v_level, "none") == 0)
		p = CACHE_M_NONE;
	else if (strcmp(v->v_level, "dane-only") == 0)
		p = CACHE_M_DANE_ONLY;
	else if (strcmp(v->v_level, "dane") == 0)
		p = CACHE_M_DANE;
	else if (strcmp(v->v_level, "secure") == 0)
		p = CACHE_M_SECURE;
	else
		p = CACHE_M_OTHER;
	switch (v->v_source) {
	case VERDICT_SRC_DANE:          src = CACHE_M_SRC_DANE; break;
	case VERDICT_SRC_MTASTS:        src = CACHE_M_SRC_MTASTS; break;
	case VERDICT_SRC_CONFIG:        src = CACHE_M_SRC_CONFIG; break;
	case VERDICT_SRC_NONE:
	default:                        src = CACHE_M_SRC_NONE; break;
	}
	metrics_inc(&cache_verdicts_metric, p, src);
}

/* Both lookups are in: build the verdict, store it, call the waiters. */
/*
 * Put v (a reference, taken over) into j's entry, unless a refresh ahead
 * failed while the verdict in hand is still valid (then that one stays
 * until it expires, and the refresh is tried again after error_ttl).
 * Returns the verdict the entry holds now (borrowed).
 */
static struct verdict *
cache_job_install(struct cache_job *j, struct verdict *v, const struct mtasts_result *sts,
    time_t now)
{
	struct cache *c = j->cj_c;
	struct cache_entry *e = j->cj_e;
	uint32_t life;

	if (v->v_kind == VERDICT_TEMP && e->ce_v != NULL && e->ce_v != v &&
	    e->ce_v->v_kind != VERDICT_TEMP && e->ce_gen == cache_gen(c) && now < e->ce_expires) {
		log_warnx("cache: refresh of %s failed (%s); the cached verdict stays until it expires",
		    e->ce_key, v->v_reason);
		verdict_unref(v);
		e->ce_refresh_at = now + (time_t)cache_cfg(c)->cca_error_ttl;
		return e->ce_v;
	}
	life = cache_lifetime(c, v, sts, now);
	verdict_unref(e->ce_v);
	e->ce_v = v;
	e->ce_gen = j->cj_gen;          /* stale at once if a reload came meanwhile */
	e->ce_expires = now + (time_t)life;
	e->ce_refresh_at = e->ce_expires - (time_t)cache_refresh_window(life);
	return v;
}

/* Take w out of its job's list of waiters. */
static void
cache_wait_unlink(struct cache_wait *w)
{
	if (w->cw_prev)
		w->cw_prev->cw_next = w->cw_next;
	else
		w->cw_job->cj_waiters = w->cw_next;
	if (w->cw_next)
		w->cw_next->cw_prev = w->cw_prev;
	w->cw_prev = w->cw_next = NULL;
}

/* Answer j's waiters with v (borrowed; kept alive through the calls):
 * every one, or with policy_only only those that asked for the policy
 * alone (cache_get_policy); the others stay. */
void
cache_job_answer(struct cache_job *j, struct verdict *v, bool policy_only)
{
	struct cache_wait *w, *next;

	verdict_ref(v);
	for (w = j->cj_waiters; w; w = next) {
		next = w->cw_next;
		if (policy_only && !w->cw_policy_only)
			continue;
		cache_wait_unlink(w);
		w->cw_done(w->cw_arg, v);
		free(w);
	}
	verdict_unref(v);
}

/*
 * DANE decided the policy while MTA-STS is still being looked up (a slow
 * or stalling policy host must not hold a dane-only answer): the askers
 * of the policy alone (the socketmap) get it now, built with what the
 * policy store holds for MTA-STS; the MTA-STS lookup goes on, and
 * cache_job_finish() puts the whole verdict into the entry and answers
 * the others (the milter's headers want the MTA-STS state too).
 */
static void
cache_job_early(struct cache_job *j)
{
	struct cache *c = j->cj_c;
	struct mtasts_result sts;
	struct mtasts_cached mc;
	time_t now = time(NULL);

	memset(&sts, 0, sizeof(sts));
	(void)stsstore_cached(c->c_sts, j->cj_e->ce_key, now, &mc);
	if (mc.mc_policy != NULL) {
		sts.mr_status = MTASTS_POLICY;
		sts.mr_policy = mc.mc_policy;
		sts.mr_reason = (char *)"the cached policy (the MTA-STS lookup is still running)";
	} else {
		sts.mr_status = MTASTS_ABSENT;
		sts.mr_reason = (char *)"not known yet: the MTA-STS lookup is still running "
		    "(DANE decided the policy)";
	}
	j->cj_early_v = verdict_build(j->cj_en->en_cfg, generation_overrides(c->c_g),
	    dane_result_dup(j->cj_dane_res), &sts, now);
	cache_job_answer(j, j->cj_early_v, true);
}

/* Does this DANE result decide the Postfix policy whatever MTA-STS says
 * (verdict_build: DANE before MTA-STS)? Not at the hosts of an unsigned
 * MX, where MTA-STS in enforce mode wins. */
static bool
cache_dane_decides(const struct dane_result *res)
{
	if (res->dr_verdict == DANE_INSECURE)
		return false;
	return res->dr_policy == DANE_POLICY_TEMP || res->dr_policy == DANE_POLICY_DANE_ONLY ||
	    res->dr_policy == DANE_POLICY_DANE;
}

static void
cache_job_finish(struct cache_job *j)
{
	struct cache *c = j->cj_c;
	struct cache_entry *e = j->cj_e;
	struct mtasts_result *sts = j->cj_sts_res;
	struct verdict *v, *installed;
	time_t now = time(NULL);        /* lifetimes count from the answer, not the question */

	v = verdict_build(j->cj_en->en_cfg, generation_overrides(c->c_g), j->cj_dane_res, sts, now);
	j->cj_dane_res = NULL;                  /* the verdict owns it now */
	cache_count_verdict(v);
	if (sts != NULL)
		stsstore_update(c->c_sts, e->ce_key, sts, now, cache_cfg(c)->cca_max_policies);
	installed = cache_job_install(j, v, sts, now);
	if (c->c_shared != NULL)
		cache_shared_publish(j, installed == v && v->v_kind != VERDICT_TEMP ? v : NULL, now);
	e->ce_hits = 0;
	e->ce_job = NULL;
	cache_job_answer(j, installed, false);
	cache_job_free(j);
}

static void
cache_dane_done(void *arg, struct dane_result *res)
{
	struct cache_job *j = arg;

	j->cj_dane = NULL;
	j->cj_dane_res = res;
	if (--j->cj_pending == 0)
		cache_job_finish(j);
	else if (cache_dane_decides(res))
		cache_job_early(j);
}

static void
cache_sts_done(void *arg, struct mtasts_result *res)
{
	struct cache_job *j = arg;

	j->cj_sts = NULL;
	j->cj_sts_res = res;
	if (--j->cj_pending == 0)
		cache_job_finish(j);
}

/* Start j's DNS and MTA-STS lookups. */
void
cache_job_lookup(struct cache_job *j, time_t now)
{
	struct cache *c = j->cj_c;
	struct cache_entry *e = j->cj_e;
	struct mtasts_cached mc;        /* borrowed from the store: used at once */

	c->c_stats.cs_resolutions++;
	j->cj_pending = 2;
	j->cj_dane = engine_dane(j->cj_en, e->ce_key, cache_dane_done, j);
	if (j->cj_dane == NULL)
		log_abort("cache: DANE lookup refused for %s", e->ce_key);
	(void)stsstore_cached(c->c_sts, e->ce_key, now, &mc);
	j->cj_sts = engine_mtasts(j->cj_en, e->ce_key, &mc, now, cache_sts_done, j);
	if (j->cj_sts == NULL)
		j->cj_pending--;                /* MTA-STS disabled */
}

static void
cache_resolve(struct cache *c, struct cache_entry *e, time_t now)
{
	struct cache_job *j = xcalloc(1, sizeof(*j));

	j->cj_c = c;
	j->cj_e = e;
	j->cj_en = engine_ref(generation_engine(c->c_g));
	j->cj_gen = cache_gen(c);
	j->cj_now = now;
	IV_TIMER_INIT(&j->cj_poll);
	j->cj_poll.cookie = j;
	j->cj_poll.handler = cache_shared_poll;
	e->ce_job = j;
	if (!cache_shared_claim(j, true))
		cache_job_lookup(j, now);
}

struct verdict *
cache_lookup(struct cache *c, const char *domain, time_t now)
{
	struct cache_entry *e = cache_find(c, domain, cache_hash(domain));

	if (e == NULL || e->ce_v == NULL || e->ce_gen != cache_gen(c) || now >= e->ce_expires)
		return NULL;
	c->c_stats.cs_hits++;
	cache_lru_front(c, e);
	if (++e->ce_hits >= 2 && now >= e->ce_refresh_at && e->ce_job == NULL &&
	    cache_cfg(c)->cca_refresh_ahead) {
		log_debug("cache: %s asked %u times near its expiry: refreshing ahead",
		    e->ce_key, e->ce_hits);
		c->c_stats.cs_refreshes++;
		cache_resolve(c, e, now);
	}
	return e->ce_v;
}

static struct verdict *
cache_get_flags(struct cache *c, const char *domain, time_t now, bool policy_only,
    cache_done_fn *done, void *arg, struct cache_wait **waitp)
{
	uint32_t h = cache_hash(domain);
	struct cache_entry *e;
	struct cache_wait *w;
	struct verdict *v;

	if (waitp)
		*waitp = NULL;
	if ((v = cache_lookup(c, domain, now)) != NULL)
		return v;
	e = cache_find(c, domain, h);
	if (policy_only && e != NULL && e->ce_job != NULL && e->ce_job->cj_early_v != NULL) {
		/* DANE decided while MTA-STS runs: answered from the cache */
		c->c_stats.cs_hits++;
		cache_lru_front(c, e);
		return e->ce_job->cj_early_v;
	}
	c->c_stats.cs_misses++;
	if (e == NULL)
		e = cache_entry_new(c, domain, h);
	else
		cache_lru_front(c, e);
	if (e->ce_job != NULL)
		c->c_stats.cs_joined++;
	else
		cache_resolve(c, e, now);
	w = xcalloc(1, sizeof(*w));
	w->cw_done = done;
	w->cw_arg = arg;
	w->cw_policy_only = policy_only;
	w->cw_job = e->ce_job;
	w->cw_next = e->ce_job->cj_waiters;
	if (w->cw_next)
		w->cw_next->cw_prev = w;
	e->ce_job->cj_waiters = w;
	if (waitp)
		*waitp = w;
	return NULL;
}

struct verdict *
cache_get(struct cache *c, const char *domain, time_t now, cache_done_fn *done,
    void *arg, struct cache_wait **waitp)
{
	return cache_get_flags(c, domain, now, false, done, arg, waitp);
}

struct verdict *
cache_get_policy(struct cache *c, const char *domain, time_t now, cache_done_fn *done,
    void *arg, struct cache_wait **waitp)
{
	return cache_get_flags(c, domain, now, true, done, arg, waitp);
}

void
cache_cancel(struct cache_wait *w)
{
	cache_wait_unlink(w);
	free(w);
}

/* Would e's verdict be answered now (cache_lookup's test)? */
static bool
cache_entry_fresh(const struct cache *c, const struct cache_entry *e, time_t now)
{
	return e->ce_v != NULL && e->ce_gen == cache_gen(c) && now < e->ce_expires;
}

bool
cache_peek(const struct cache *c, const char *domain, time_t now, struct cache_info *out)
{
	struct cache_entry *e = cache_find((struct cache *)c, domain, cache_hash(domain));

	if (e == NULL || !cache_entry_fresh(c, e, now))
		return false;
	out->ci_domain = e->ce_key;
	out->ci_v = e->ce_v;
	out->ci_expires = e->ce_expires;
	return true;
}

void
cache_each(const struct cache *c, time_t now, cache_each_fn *fn, void *arg)
{
	const struct cache_entry *e;
	struct cache_info ci;

	for (e = c->c_lru_head; e != NULL; e = e->ce_lnext) {
		if (!cache_entry_fresh(c, e, now))
			continue;
		ci.ci_domain = e->ce_key;
		ci.ci_v = e->ce_v;
		ci.ci_expires = e->ce_expires;
		fn(arg, &ci);
	}
}

/* Drop e's verdict: 1 when it had one. An entry with a resolution in
 * flight stays (its waiters get the answer, which then fills it). */
static unsigned long
cache_entry_purge(struct cache *c, struct cache_entry *e)
{
	unsigned long had = e->ce_v != NULL;

	if (e->ce_job != NULL) {
		verdict_unref(e->ce_v);
		e->ce_v = NULL;
		e->ce_expires = 0;
	} else {
		cache_entry_free(c, e);
	}
	return had;
}

unsigned long
cache_purge(struct cache *c, const char *domain)
{
	struct cache_entry *e = cache_find(c, domain, cache_hash(domain));

	if (c->c_shared != NULL)
		shared_purge(c->c_shared, domain);      /* for the whole fleet */
	return e != NULL ? cache_entry_purge(c, e) : 0;
}

unsigned long
cache_purge_all(struct cache *c)
{
	struct cache_entry *e, *next;
	unsigned long n = 0;

	if (c->c_shared != NULL)
		shared_purge_all(c->c_shared);          /* for the whole fleet */
	for (e = c->c_lru_head; e != NULL; e = next) {
		next = e->ce_lnext;
		n += cache_entry_purge(c, e);
	}
	return n;
}

void
cache_stats(const struct cache *c, struct cache_stats *out)
{
	*out = c->c_stats;
}
