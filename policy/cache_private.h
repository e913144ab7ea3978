/*
 * cache_private.h: the insides of the verdict cache (policy/cache.c), shared
 * by its parts: cache.c (table, LRU, resolutions, waiters) and cache_io.c
 * (what leaves and enters memory: the cache file and the fleet's shared
 * cache). Nothing outside policy/cache*.c includes it.
 */
#ifndef DM_CACHE_PRIVATE_H
#define DM_CACHE_PRIVATE_H

#include <iv.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "policy/cache.h"

struct cache_job;
struct shared_lock;

struct cache_wait {
	cache_done_fn *cw_done;
	void *cw_arg;
	bool cw_policy_only;                    /* a DANE-decided verdict will do */
	struct cache_job *cw_job;
	struct cache_wait *cw_prev, *cw_next;
};

struct cache_entry {
	struct cache_entry *ce_hnext;           /* hash chain */
	struct cache_entry *ce_lprev, *ce_lnext;        /* LRU: head = most recent */
	uint32_t ce_hash;
	unsigned ce_gen;                        /* cache generation of ce_v */
	struct verdict *ce_v;                   /* NULL until resolved */
	time_t ce_expires;
	time_t ce_refresh_at;                   /* refresh ahead from here on */
	unsigned ce_hits;                       /* since the last resolution */
	struct cache_job *ce_job;
	char ce_key[];
};

struct cache_job {
	struct cache *cj_c;
	struct cache_entry *cj_e;
	struct engine *cj_en;                   /* the engine it runs on (a reference) */
	unsigned cj_gen;                        /* ... and its generation number */
	struct dane_lookup *cj_dane;
	struct mtasts_lookup *cj_sts;
	struct dane_result *cj_dane_res;
	struct mtasts_result *cj_sts_res;
	int cj_pending;
	struct verdict *cj_early_v;             /* DANE decided it, MTA-STS still running */
	struct cache_wait *cj_waiters;
	time_t cj_now;
	/* the shared cache's phase (before DNS) */
	struct shared_req *cj_sreq;             /* a claim in flight */
	struct iv_timer cj_poll;                /* the next claim while another member resolves */
	unsigned cj_poll_ms;
	int64_t cj_wait_end;                    /* monotonic ms: then resolve alone */
	struct shared_lock *cj_lock;            /* the fleet's lock is ours (renewed): publish */
};


struct cache {
	struct generation *c_g;                 /* the caller's: the engine in force */
	struct engine **c_dead;                 /* engine references to drop... */
	size_t c_ndead;
	struct iv_task c_reaper;                /* ...outside their own callbacks */
	struct cache_entry **c_buckets;
	size_t c_nbuckets;                      /* power of two */
	struct cache_entry *c_lru_head, *c_lru_tail;
	struct cache_stats c_stats;
	struct stsstore *c_sts;                 /* the MTA-STS policies */
	struct shared *c_shared;                /* the fleet's cache (the caller's), or NULL */
};

/* cache.c */
const struct cfg_cache *cache_cfg(const struct cache *c);
struct cache_entry *cache_entry_new(struct cache *c, const char *key, uint32_t h);
struct cache_entry *cache_find(struct cache *c, const char *key, uint32_t h);
unsigned cache_gen(const struct cache *c);
uint32_t cache_hash(const char *s);
void cache_job_answer(struct cache_job *j, struct verdict *v, bool policy_only);
void cache_job_free(struct cache_job *j);
void cache_job_lookup(struct cache_job *j, time_t now);
uint32_t cache_refresh_window(uint32_t life);

/* cache_io.c: the shared cache's phase of a job (before DNS) */
bool cache_shared_claim(struct cache_job *j, bool first);
void cache_shared_poll(void *cookie);
void cache_shared_publish(struct cache_job *j, struct verdict *v, time_t now);

#endif
