/*
 * cache_io.c: the parts of the verdict cache (policy/cache.c, whose
 * insides are in cache_private.h) that move verdicts and MTA-STS policies
 * out of memory and back: the fleet's shared cache (a job's claim on
 * Redis before DNS, rebuilding a value into the verdict, publishing what
 * this member resolved; policy/shared.h) and the cache file (what is saved
 * and what comes back; its format: policy/cachefile.h). Both read values
 * through policy/cachefile.c's parser under the local configuration.
 */
#include "policy/cache_private.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/deadline.h"
#include "common/log.h"
#include "common/sbuf.h"
#include "common/xmalloc.h"
#include "policy/cachefile.h"
#include "policy/shared.h"
#include "policy/stsstore.h"

/* ---- the fleet's shared cache (policy/shared.h) ---- */

enum cache_taken {
	CACHE_TAKEN,            /* the value is j's entry's verdict now */
	CACHE_STALE,            /* well-formed, nothing to take (expired, not newer) */
	CACHE_MALFORMED         /* rejected */
};

struct cache_taker {
	struct cache_job *ct_j;
	time_t ct_now;
	enum cache_taken ct_taken;
	int ct_lines;           /* "e" lines seen */
	const char *ct_why;     /* with CACHE_MALFORMED */
};

/* cachefile_sts_fn: the "p" line of a shared value into the store. */
static bool
cache_shared_sts(void *arg, const struct cachefile_sts *fs)
{
	struct cache_taker *t = arg;
	struct cache *c = t->ct_j->cj_c;
	struct mtasts_policy *p = NULL;
	time_t pexp = 0;

	if (strcmp(fs->cfs_domain, t->ct_j->cj_e->ce_key) != 0) {
		t->ct_why = "its MTA-STS record is for another domain";
		return false;
	}
	if (cachefile_sts_policy(fs, t->ct_now, &p, &pexp) == CACHEFILE_MALFORMED) {
		t->ct_why = "its MTA-STS policy does not parse";
		return false;
	}
	stsstore_put(c->c_sts, fs->cfs_domain, p, pexp, fs->cfs_last_failure, fs->cfs_failed_id,
	    t->ct_now, cache_cfg(c)->cca_max_policies);
	return true;
}

/* cachefile_entry_fn: the "e" line of a shared value into j's entry,
 * unless it is expired, built on a policy the store does not hold, or
 * (a refresh) no newer than the verdict in hand. */
static bool
cache_shared_entry(void *arg, const struct cachefile_entry *fe)
{
	struct cache_taker *t = arg;
	struct cache *c = t->ct_j->cj_c;
	struct cache_entry *e = t->ct_j->cj_e;
	time_t now = t->ct_now, expires = fe->cfe_expires;
	struct mtasts_cached mc;
	struct verdict *v;

	if (strcmp(fe->cfe_domain, e->ce_key) != 0 || t->ct_lines++ > 0) {
		t->ct_why = "its verdict is for another domain, or there are two";
		return false;
	}
	if (expires > now + (time_t)cache_cfg(c)->cca_max_ttl)
		expires = now + (time_t)cache_cfg(c)->cca_max_ttl;
	if (expires <= now || (e->ce_v != NULL && e->ce_gen == cache_gen(c) &&
	    expires <= e->ce_expires)) {
		t->ct_taken = CACHE_STALE;
		return true;
	}
	(void)stsstore_cached(c->c_sts, fe->cfe_domain, now, &mc);
	if (mc.mc_policy == NULL && fe->cfe_sts != VERDICT_STS_ABSENT &&
	    fe->cfe_sts != VERDICT_STS_ERROR) {
		t->ct_taken = CACHE_STALE;      /* built on a policy not held here */
		return true;
	}
	v = cachefile_verdict(fe, generation_engine(c->c_g)->en_cfg, generation_overrides(c->c_g),
	    mc.mc_policy, now);
	if (v->v_valid_until != 0 && expires > v->v_valid_until)
		expires = v->v_valid_until;
	verdict_unref(e->ce_v);
	e->ce_v = v;
	e->ce_gen = cache_gen(c);
	e->ce_expires = expires;
	e->ce_refresh_at = expires - (time_t)cache_refresh_window((uint32_t)(expires - now));
	t->ct_taken = CACHE_TAKEN;
	return true;
}

/* A shared value's payload (the cache file's lines) into j's entry. */
static enum cache_taken
cache_shared_take(struct cache_job *j, const char *payload, time_t now)
{
	struct cache_taker t = { j, now, CACHE_STALE, 0, NULL };
	char *buf = xstrdup(payload), *line, *save = NULL;

	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (!cachefile_parse_line(line, cache_shared_entry, cache_shared_sts, &t)) {
			t.ct_taken = CACHE_MALFORMED;
			if (t.ct_why == NULL)
				t.ct_why = "a line is malformed";
			break;
		}
	}
	free(buf);
	if (t.ct_taken != CACHE_MALFORMED && t.ct_lines == 0) {
		t.ct_taken = CACHE_MALFORMED;
		t.ct_why = "it holds no verdict";
	}
	if (t.ct_taken == CACHE_MALFORMED)
		shared_reject(j->cj_c->c_shared, j->cj_e->ce_key, t.ct_why);
	return t.ct_taken;
}

static void
cache_shared_claimed(void *arg, enum shared_claim st, const char *payload,
    struct shared_lock *lock)
{
	struct cache_job *j = arg;
	struct cache *c = j->cj_c;
	struct cache_entry *e = j->cj_e;
	time_t now = time(NULL);
	bool first = j->cj_poll_ms == 0;

	j->cj_sreq = NULL;
	if (lock != NULL) {
		shared_unlock(j->cj_lock);      /* never two: a job claims no more once locked */
		j->cj_lock = lock;
	}
	if (st == SHARED_VALUE) {
		if (cache_shared_take(j, payload, now) == CACHE_TAKEN) {
			shared_hit(c->c_shared);
			shared_unlock(j->cj_lock);
			j->cj_lock = NULL;
			e->ce_hits = 0;
			e->ce_job = NULL;
			cache_job_answer(j, e->ce_v, false);
			cache_job_free(j);
			return;
		}
		st = j->cj_lock != NULL ? SHARED_LOCKED : SHARED_BUSY;
	}
	if (first && st != SHARED_FAILED)
		shared_miss(c->c_shared);
	if (st == SHARED_BUSY) {
		/* another member resolves: ask again shortly */
		j->cj_poll_ms = j->cj_poll_ms == 0 ? 10 : j->cj_poll_ms * 2 > 50 ? 50 : j->cj_poll_ms * 2;
		iv_validate_now();
		j->cj_poll.expires = iv_now;
		deadline_add_ms(&j->cj_poll.expires, j->cj_poll_ms);
		iv_timer_register(&j->cj_poll);
		return;
	}
	cache_job_lookup(j, now);       /* ours to resolve, or Redis failed: alone */
}

void
cache_shared_poll(void *cookie)
{
	struct cache_job *j = cookie;

	if (!cache_shared_claim(j, false)) {
		log_info("cache: %s: no value from the fleet within %u ms: resolving alone",
		    j->cj_e->ce_key, shared_timeout_ms(j->cj_c->c_shared) + SHARED_WAIT_MS);
		cache_job_lookup(j, time(NULL));
	}
}

/* Ask the shared cache for j's domain (first: the job's first claim, which
 * sets how long it may wait for another member: cache.shared_timeout_ms +
 * SHARED_WAIT_MS, policy/shared.h). False: go alone now. */
bool
cache_shared_claim(struct cache_job *j, bool first)
{
	struct cache *c = j->cj_c;
	int64_t now_ms = deadline_now_ms();
	unsigned t;

	if (c->c_shared == NULL)
		return false;
	t = shared_timeout_ms(c->c_shared);
	if (first)
		j->cj_wait_end = now_ms + t + SHARED_WAIT_MS;
	else if (now_ms + 1 >= j->cj_wait_end)
		return false;
	else if (now_ms + t > j->cj_wait_end)
		t = (unsigned)(j->cj_wait_end - now_ms);
	j->cj_sreq = shared_claim(c->c_shared, j->cj_e->ce_key, t, cache_shared_claimed, j);
	return j->cj_sreq != NULL;
}

/* j resolved v (NULL: nothing worth sharing): publish it for the fleet
 * with the domain's MTA-STS record, for the rest of its life; drop the
 * lock if it is ours. */
void
cache_shared_publish(struct cache_job *j, struct verdict *v, time_t now)
{
	struct cache *c = j->cj_c;
	struct cache_entry *e = j->cj_e;
	struct sbuf sb = SBUF_INIT;
	struct mtasts_cached mc;

	if (v == NULL || !cachefile_keeps(v) || e->ce_expires <= now) {
		shared_unlock(j->cj_lock);
		j->cj_lock = NULL;
		return;
	}
	if (stsstore_cached(c->c_sts, e->ce_key, now, &mc) &&
	    (mc.mc_policy != NULL || mc.mc_last_failure != 0))
		cachefile_append_sts(&sb, e->ce_key, mc.mc_policy, mc.mc_policy == NULL ? 0 :
		    mc.mc_policy->mp_fetched + (time_t)mc.mc_policy->mp_max_age,
		    mc.mc_last_failure, mc.mc_failed_id);
	cachefile_append(&sb, e->ce_key, v, e->ce_expires, NULL, 0, 0);
	shared_publish(c->c_shared, e->ce_key, sbuf_str(&sb), (int64_t)(e->ce_expires - now) * 1000,
	    j->cj_lock);
	j->cj_lock = NULL;
	sbuf_free(&sb);
}

/* ---- the cache file (its format: policy/cachefile.h) ---- */

/* stsstore_each_fn: one record of the policy store as a "p" line. */
static void
cache_save_sts(void *arg, const struct stsstore_entry *se)
{
	cachefile_append_sts(arg, se->se_domain, se->se_policy, se->se_expires,
	    se->se_last_failure, se->se_failed_id);
}

int
cache_save(struct cache *c, const char *path, time_t now, char **errp)
{
	struct sbuf sb = SBUF_INIT;
	struct cache_entry *e;
	int rc;

	cachefile_begin(&sb);
	/* The policies first: a verdict is rebuilt with its domain's policy. */
	stsstore_each(c->c_sts, now, cache_save_sts, &sb);
	for (e = c->c_lru_tail; e; e = e->ce_lprev) {
		const struct verdict *v = e->ce_v;

		if (v == NULL || v->v_kind == VERDICT_TEMP || now >= e->ce_expires)
			continue;
		cachefile_append(&sb, e->ce_key, v, e->ce_expires, NULL, 0, 0);
	}
	rc = cachefile_write(path, &sb, errp);
	sbuf_free(&sb);
	return rc;
}

struct cache_loader {
	struct cache *cl_c;
	time_t cl_now;
};

/* cachefile_sts_fn: one record of the policy store ("p" line) into the
 * store; false when its policy is malformed. A duplicate: the first one
 * wins (stsstore_put). */
static bool
cache_load_sts(void *arg, const struct cachefile_sts *fs)
{
	struct cache_loader *cl = arg;
	struct cache *c = cl->cl_c;
	struct mtasts_policy *p = NULL;
	time_t pexp = 0;

	if (cachefile_sts_policy(fs, cl->cl_now, &p, &pexp) == CACHEFILE_MALFORMED)
		return false;
	stsstore_put(c->c_sts, fs->cfs_domain, p, pexp, fs->cfs_last_failure, fs->cfs_failed_id,
	    cl->cl_now, cache_cfg(c)->cca_max_policies);
	return true;
}

/* cachefile_entry_fn: one verdict of the file ("e" line) into memory,
 * with the policy the store holds for its domain (a verdict built on a
 * policy when the store holds none is left out: the next ask resolves
 * afresh; so is a verdict without a policy when the store holds one,
 * which would serve "no MTA-STS" for a domain whose policy is cached);
 * false when its MTA-STS policy is malformed. A line of the
 * previous version may hold the domain's policy: it goes to the store
 * first. */
static bool
cache_load_entry(void *arg, const struct cachefile_entry *fe)
{
	struct cache_loader *cl = arg;
	struct cache *c = cl->cl_c;
	time_t now = cl->cl_now, expires = fe->cfe_expires, pexp = 0;
	uint32_t h = cache_hash(fe->cfe_domain);
	struct cache_entry *e;
	struct mtasts_policy *p = NULL;
	struct mtasts_cached mc;

	if (cachefile_policy(fe, now, &p, &pexp) == CACHEFILE_MALFORMED)
		return false;
	if (p != NULL || fe->cfe_last_failure != 0)
		stsstore_put(c->c_sts, fe->cfe_domain, p, pexp, fe->cfe_last_failure, NULL, now,
		    cache_cfg(c)->cca_max_policies);
	/* A file could claim anything: never trust an expiry beyond what the
	 * configuration would have given. */
	if (expires > now + (time_t)cache_cfg(c)->cca_max_ttl)
		expires = now + (time_t)cache_cfg(c)->cca_max_ttl;
	if (expires <= now || cache_find(c, fe->cfe_domain, h) != NULL)
		return true;                    /* expired, or a duplicate: the first one wins */
	(void)stsstore_cached(c->c_sts, fe->cfe_domain, now, &mc);
	if (mc.mc_policy == NULL && fe->cfe_sts != VERDICT_STS_ABSENT &&
	    fe->cfe_sts != VERDICT_STS_ERROR)
		return true;                    /* built on a policy no longer held: a miss */
	if (mc.mc_policy != NULL && (fe->cfe_sts == VERDICT_STS_ABSENT ||
	    fe->cfe_sts == VERDICT_STS_ERROR))
		return true;                    /* "no policy" beside a policy still held: a miss
		                                   (a lookup keeps the cached policy, mtasts.c) */
	e = cache_entry_new(c, fe->cfe_domain, h);
	e->ce_v = cachefile_verdict(fe, generation_engine(c->c_g)->en_cfg,
	    generation_overrides(c->c_g), mc.mc_policy, now);
	e->ce_gen = cache_gen(c);
	e->ce_expires = expires;
	e->ce_refresh_at = e->ce_expires - 2;
	return true;
}

long
cache_load(struct cache *c, const char *path, time_t now, char **errp)
{
	unsigned long before = c->c_stats.cs_entries;
	struct cache_loader cl = { c, now };

	if (cachefile_read(path, cache_load_entry, cache_load_sts, &cl, errp) != 0)
		return -1;
	return (long)(c->c_stats.cs_entries - before);
}

long
cache_load_stream(struct cache *c, FILE *f, const char *name, time_t now, char **errp)
{
	unsigned long before = c->c_stats.cs_entries;
	struct cache_loader cl = { c, now };

	if (cachefile_read_stream(f, name, cache_load_entry, cache_load_sts, &cl, errp) != 0)
		return -1;
	return (long)(c->c_stats.cs_entries - before);
}
