/*
 * cache.c: see cache.h.
 *
 * A chained hash table (power-of-two buckets, FNV-1a) plus an LRU list.
 * An entry's resolution in flight is a struct cache_job with the DANE and
 * MTA-STS lookups and the list of waiters; the job ends when both lookups
 * have answered, builds the new verdict, and calls the waiters.
 *
 * The cache file is text, one entry per line, fields separated by one
 * space, free text hex-encoded:
 *   danemilter-cache 1
 *   e DOMAIN EXPIRES DANE-VERDICT DANE-TTL DANE-REASON STS-STATE STS-FAILURE
 *     STS-REASON POLICY-EXPIRES LAST-FAILURE ID FETCHED BODY
 * ("-" for an empty field; EXPIRES 0 when only the MTA-STS part is kept).
 */
#include "cache.h"

#include <errno.h>
#include <iv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/metrics.h"
#include "common/sbuf.h"
#include "common/xmalloc.h"
#include "dns/rdata.h"

struct cache_job;

struct cache_wait {
	cache_done_fn *cw_done;
	void *cw_arg;
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
	struct mtasts_policy *ce_sts_policy;    /* last good policy */
	time_t ce_sts_policy_expires;
	time_t ce_sts_last_failure;
	char ce_sts_failed_id[MTASTS_ID_MAX + 1];       /* the id whose fetch failed */
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
	struct cache_wait *cj_waiters;
	time_t cj_now;
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
};

static uint32_t
cache_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static const struct cfg_cache *
cache_cfg(const struct cache *c)
{
	return &generation_engine(c->c_g)->en_cfg->c_cache;
}

/* The generation cached verdicts must have been built under to be used. */
static unsigned
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
	return c;
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

static struct cache_entry *
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
	if (e->ce_sts_policy)
		mtasts_policy_unref(e->ce_sts_policy);
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

static struct cache_entry *
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
	while (c->c_lru_head)
		cache_entry_free(c, c->c_lru_head);
	if (iv_task_registered(&c->c_reaper))
		iv_task_unregister(&c->c_reaper);
	cache_reap(c);
	free(c->c_dead);
	free(c->c_buckets);
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
static uint32_t
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

static void
cache_job_free(struct cache_job *j)
{
	if (j->cj_dane)
		dane_lookup_cancel(j->cj_dane);
	if (j->cj_sts)
		mtasts_lookup_cancel(j->cj_sts);
	dane_result_free(j->cj_dane_res);
	if (j->cj_sts_res)
		mtasts_result_free(j->cj_sts_res);
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
	enum metrics_policy p;
	enum metrics_source src;

	if (v->v_kind == VERDICT_TEMP)
		p = METRICS_POLICY_TEMPERROR;
	else if (v->v_kind == VERDICT_NOTFOUND || strcmp(v->v_level, "none") == 0)
		p = METRICS_POLICY_NONE;
	else if (strcmp(v->v_level, "dane-only") == 0)
		p = METRICS_POLICY_DANE_ONLY;
	else if (strcmp(v->v_level, "dane") == 0)
		p = METRICS_POLICY_DANE;
	else if (strcmp(v->v_level, "secure") == 0)
		p = METRICS_POLICY_SECURE;
	else
		p = METRICS_POLICY_OTHER;
	switch (v->v_source) {
	case VERDICT_SRC_DANE:          src = METRICS_SOURCE_DANE; break;
	case VERDICT_SRC_MTASTS:        src = METRICS_SOURCE_MTASTS; break;
	case VERDICT_SRC_CONFIG:        src = METRICS_SOURCE_CONFIG; break;
	case VERDICT_SRC_NONE:
	default:                        src = METRICS_SOURCE_NONE; break;
	}
	metrics_verdict(p, src);
}

/* Both lookups are in: build the verdict, store it, call the waiters. */
static void
cache_job_finish(struct cache_job *j)
{
	struct cache *c = j->cj_c;
	struct cache_entry *e = j->cj_e;
	struct mtasts_result *sts = j->cj_sts_res;
	struct cache_wait *w, *next;
	struct verdict *v;
	uint32_t life;
	time_t now = time(NULL);        /* lifetimes count from the answer, not the question */

	v = verdict_build(j->cj_en->en_cfg, j->cj_dane_res, sts, now);
	j->cj_dane_res = NULL;                  /* the verdict owns it now */
	cache_count_verdict(v);
	if (sts != NULL) {
		if (sts->mr_policy != NULL && sts->mr_policy != e->ce_sts_policy) {
			if (e->ce_sts_policy)
				mtasts_policy_unref(e->ce_sts_policy);
			e->ce_sts_policy = mtasts_policy_ref(sts->mr_policy);
			e->ce_sts_policy_expires = sts->mr_policy->mp_fetched + (time_t)sts->mr_policy->mp_max_age;
		}
		if (sts->mr_fetch_failed) {
			e->ce_sts_last_failure = now;
			memcpy(e->ce_sts_failed_id, sts->mr_txt_id, sizeof(e->ce_sts_failed_id));
		}
		else if (sts->mr_fetched)
			e->ce_sts_last_failure = 0;
	}
	if (v->v_kind == VERDICT_TEMP && e->ce_v != NULL && e->ce_v->v_kind != VERDICT_TEMP &&
	    e->ce_gen == cache_gen(c) && now < e->ce_expires) {
		/* A refresh ahead failed: the verdict in hand is still valid.
		 * Keep it until it expires and try again after error_ttl. */
		log_warnx("cache: refresh of %s failed (%s); the cached verdict stays until it expires",
		    e->ce_key, v->v_reason);
		verdict_unref(v);
		v = e->ce_v;
		e->ce_refresh_at = now + (time_t)cache_cfg(c)->cca_error_ttl;
	} else {
		life = cache_lifetime(c, v, sts, now);
		verdict_unref(e->ce_v);
		e->ce_v = v;
		e->ce_gen = j->cj_gen;          /* stale at once if a reload came meanwhile */
		e->ce_expires = now + (time_t)life;
		e->ce_refresh_at = e->ce_expires - (time_t)cache_refresh_window(life);
	}
	e->ce_hits = 0;
	e->ce_job = NULL;
	verdict_ref(v);                         /* kept alive through the callbacks */
	for (w = j->cj_waiters; w; w = next) {
		next = w->cw_next;
		w->cw_done(w->cw_arg, v);
		free(w);
	}
	j->cj_waiters = NULL;
	cache_job_free(j);
	verdict_unref(v);
}

static void
cache_dane_done(void *arg, struct dane_result *res)
{
	struct cache_job *j = arg;

	j->cj_dane = NULL;
	j->cj_dane_res = res;
	if (--j->cj_pending == 0)
		cache_job_finish(j);
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

static void
cache_resolve(struct cache *c, struct cache_entry *e, time_t now)
{
	struct cache_job *j = xcalloc(1, sizeof(*j));
	struct mtasts_cached mc;

	j->cj_c = c;
	j->cj_e = e;
	j->cj_en = engine_ref(generation_engine(c->c_g));
	j->cj_gen = cache_gen(c);
	j->cj_now = now;
	e->ce_job = j;
	c->c_stats.cs_resolutions++;
	memset(&mc, 0, sizeof(mc));
	if (e->ce_sts_policy && e->ce_sts_policy_expires > now)
		mc.mc_policy = e->ce_sts_policy;
	mc.mc_last_failure = e->ce_sts_last_failure;
	mc.mc_failed_id = e->ce_sts_failed_id;
	j->cj_pending = 2;
	j->cj_dane = engine_dane(j->cj_en, e->ce_key, cache_dane_done, j);
	if (j->cj_dane == NULL)
		log_abort("cache: DANE lookup refused for %s", e->ce_key);
	j->cj_sts = engine_mtasts(j->cj_en, e->ce_key, &mc, now, cache_sts_done, j);
	if (j->cj_sts == NULL)
		j->cj_pending--;                /* MTA-STS disabled */
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

struct verdict *
cache_get(struct cache *c, const char *domain, time_t now, cache_done_fn *done,
    void *arg, struct cache_wait **waitp)
{
	uint32_t h = cache_hash(domain);
	struct cache_entry *e;
	struct cache_wait *w;
	struct verdict *v;

	if (waitp)
		*waitp = NULL;
	if ((v = cache_lookup(c, domain, now)) != NULL)
		return v;
	c->c_stats.cs_misses++;
	if ((e = cache_find(c, domain, h)) == NULL)
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
	w->cw_job = e->ce_job;
	w->cw_next = e->ce_job->cj_waiters;
	if (w->cw_next)
		w->cw_next->cw_prev = w;
	e->ce_job->cj_waiters = w;
	if (waitp)
		*waitp = w;
	return NULL;
}

void
cache_cancel(struct cache_wait *w)
{
	struct cache_job *j = w->cw_job;

	if (w->cw_prev)
		w->cw_prev->cw_next = w->cw_next;
	else
		j->cj_waiters = w->cw_next;
	if (w->cw_next)
		w->cw_next->cw_prev = w->cw_prev;
	free(w);
}

void
cache_stats(const struct cache *c, struct cache_stats *out)
{
	*out = c->c_stats;
}

/* ---- the cache file ---- */

static void
cache_hex_field(struct sbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	sbuf_appendc(sb, ' ');
	if (s == NULL || *s == '\0') {
		sbuf_appendc(sb, '-');
		return;
	}
	for (; *p; p++)
		sbuf_printf(sb, "%02x", *p);
}

int
cache_save(struct cache *c, const char *path, time_t now, char **errp)
{
	struct sbuf sb = SBUF_INIT;
	struct cache_entry *e;
	char *tmp;
	FILE *f;
	int rc = 0;

	*errp = NULL;
	sbuf_append(&sb, "danemilter-cache 1\n");
	for (e = c->c_lru_tail; e; e = e->ce_lprev) {
		const struct verdict *v = e->ce_v;
		bool keep_v = v != NULL && v->v_kind != VERDICT_TEMP && now < e->ce_expires;
		bool keep_sts = e->ce_sts_policy != NULL && now < e->ce_sts_policy_expires;
		const struct mtasts_policy *p = e->ce_sts_policy;

		if (!keep_v && !keep_sts)
			continue;
		sbuf_printf(&sb, "e %s %lld %d %u", e->ce_key, keep_v ? (long long)e->ce_expires : 0LL,
		    keep_v ? (int)v->v_dane->dr_verdict : 0, keep_v ? v->v_dane->dr_ttl : 0);
		cache_hex_field(&sb, keep_v ? v->v_dane->dr_reason : NULL);
		sbuf_printf(&sb, " %d %d", keep_v ? (int)v->v_sts : (int)VERDICT_STS_ABSENT,
		    keep_v ? (int)v->v_sts_failure : 0);
		cache_hex_field(&sb, keep_v ? v->v_sts_reason : NULL);
		sbuf_printf(&sb, " %lld %lld %s %lld", keep_sts ? (long long)e->ce_sts_policy_expires : 0LL,
		    (long long)e->ce_sts_last_failure, keep_sts ? p->mp_id : "-",
		    keep_sts ? (long long)p->mp_fetched : 0LL);
		cache_hex_field(&sb, keep_sts ? p->mp_text : NULL);
		sbuf_appendc(&sb, '\n');
	}
	tmp = xasprintf("%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL ||
	    fwrite(sbuf_str(&sb), 1, sb.sb_len, f) != sb.sb_len || fflush(f) != 0 ||
	    fsync(fileno(f)) != 0) {
		*errp = xasprintf("cannot write %s: %s", tmp, strerror(errno));
		rc = -1;
	}
	if (f != NULL && fclose(f) != 0 && rc == 0) {
		*errp = xasprintf("cannot write %s: %s", tmp, strerror(errno));
		rc = -1;
	}
	if (rc == 0 && rename(tmp, path) != 0) {
		*errp = xasprintf("cannot rename %s to %s: %s", tmp, path, strerror(errno));
		rc = -1;
	}
	if (rc != 0)
		(void)unlink(tmp);
	free(tmp);
	sbuf_free(&sb);
	return rc;
}

static int
cache_hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Decode a hex field ("-" = empty) into a malloc'ed string; NULL if it is
 * not exactly pairs of hex digits, holds a NUL, or decodes past max bytes. */
static char *
cache_unhex(const char *s, size_t max)
{
	size_t n = strlen(s), i;
	char *out;

	if (strcmp(s, "-") == 0)
		return xstrdup("");
	if (n == 0 || n % 2 != 0 || n / 2 > max)
		return NULL;
	out = xmalloc(n / 2 + 1);
	for (i = 0; i < n / 2; i++) {
		int hi = cache_hexval(s[2 * i]), lo = cache_hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			free(out);
			return NULL;
		}
		out[i] = (char)(hi << 4 | lo);
	}
	out[n / 2] = '\0';
	return out;
}

static bool
cache_num(const char *s, long long lo, long long hi, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && *out >= lo && *out <= hi;
}

/* One "e ..." line; false when malformed. */
static bool
cache_load_line(struct cache *c, char *line, time_t now)
{
	char *f[14], *save = NULL, *tok;
	char key[256], *reason = NULL, *sts_reason = NULL, *body = NULL;
	long long expires, dv, dttl, sst, sfail, pexp, lastfail, fetched;
	struct cache_entry *e;
	int n = 0;
	bool ok = false;

	for (tok = strtok_r(line, " ", &save); tok && n < 14; tok = strtok_r(NULL, " ", &save))
		f[n++] = tok;
	if (n != 14 || tok != NULL || strcmp(f[0], "e") != 0 ||
	    engine_domain_key(f[1], key, sizeof(key)) == NULL || strcmp(key, f[1]) != 0 ||
	    !cache_num(f[2], 0, (long long)1 << 40, &expires) ||
	    !cache_num(f[3], DANE_USABLE, DANE_TEMPERROR, &dv) ||
	    !cache_num(f[4], 0, UINT32_MAX, &dttl) ||
	    !cache_num(f[6], VERDICT_STS_ENFORCE, VERDICT_STS_ERROR, &sst) ||
	    !cache_num(f[7], MTASTS_FAIL_NONE, MTASTS_FAIL_WEBPKI, &sfail) ||
	    !cache_num(f[9], 0, (long long)1 << 40, &pexp) ||
	    !cache_num(f[10], 0, (long long)1 << 40, &lastfail) ||
	    !cache_num(f[12], 0, (long long)1 << 40, &fetched) ||
	    (reason = cache_unhex(f[5], 4096)) == NULL || (sts_reason = cache_unhex(f[8], 4096)) == NULL ||
	    (body = cache_unhex(f[13], MTASTS_BODY_MAX)) == NULL)
		goto out;
	/* A file could claim anything: never trust an expiry beyond what the
	 * configuration would have given. */
	if (expires > now + (long long)cache_cfg(c)->cca_max_ttl)
		expires = now + (long long)cache_cfg(c)->cca_max_ttl;
	if (cache_find(c, key, cache_hash(key)) != NULL) {
		ok = true;                      /* a duplicate: the first one wins */
		goto out;
	}
	e = NULL;
	if (pexp > now && *body != '\0') {
		char *perr = NULL;
		struct mtasts_policy *p = mtasts_policy_parse(body, strlen(body), &perr);

		if (p == NULL || strlen(f[11]) > MTASTS_ID_MAX || strspn(f[11],
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != strlen(f[11])) {
			free(perr);
			if (p)
				mtasts_policy_unref(p);
			goto out;
		}
		snprintf(p->mp_id, sizeof(p->mp_id), "%s", f[11]);
		p->mp_fetched = (time_t)fetched;
		/* fetched + max_age is the end, whatever the file says */
		if (p->mp_fetched + (time_t)p->mp_max_age < (time_t)pexp)
			pexp = (long long)(p->mp_fetched + (time_t)p->mp_max_age);
		if (pexp <= now) {
			mtasts_policy_unref(p);         /* stale: as if not saved */
		} else {
			e = cache_entry_new(c, key, cache_hash(key));
			e->ce_sts_policy = p;
			e->ce_sts_policy_expires = (time_t)pexp;
			e->ce_sts_last_failure = (time_t)lastfail;
		}
	}
	if (expires > now) {
		struct dane_result *d = xcalloc(1, sizeof(*d));
		struct mtasts_result sts;

		d->dr_domain = xstrdup(key);
		d->dr_verdict = (enum dane_verdict)dv;
		d->dr_policy = dane_verdict_policy(d->dr_verdict);
		d->dr_reason = reason;
		reason = NULL;
		d->dr_ttl = (uint32_t)dttl;
		d->dr_mx_security = DNS_SEC_INDETERMINATE;
		memset(&sts, 0, sizeof(sts));
		sts.mr_status = sst == VERDICT_STS_ABSENT ? MTASTS_ABSENT :
		    sst == VERDICT_STS_ERROR ? MTASTS_ERROR : MTASTS_POLICY;
		sts.mr_failure = (enum mtasts_failure)sfail;
		sts.mr_reason = sts_reason;
		sts.mr_policy = e ? e->ce_sts_policy : NULL;
		if (sts.mr_status == MTASTS_POLICY && sts.mr_policy == NULL)
			sts.mr_status = MTASTS_ERROR;
		if (e == NULL)
			e = cache_entry_new(c, key, cache_hash(key));
		e->ce_v = verdict_build(generation_engine(c->c_g)->en_cfg, d, &sts, now);
		e->ce_gen = cache_gen(c);
		e->ce_expires = (time_t)expires;
		e->ce_refresh_at = e->ce_expires - 2;
	}
	ok = true;
out:
	free(reason);
	free(sts_reason);
	free(body);
	return ok;
}

long
cache_load(struct cache *c, const char *path, time_t now, char **errp)
{
	unsigned long before = c->c_stats.cs_entries;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0;
	FILE *f;

	*errp = NULL;
	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT)
			return 0;
		*errp = xasprintf("cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (lineno == 1) {
			if (strcmp(line, "danemilter-cache 1") != 0) {
				*errp = xasprintf("%s:1: not a danemilter cache file", path);
				break;
			}
			continue;
		}
		if (len == 0)
			continue;
		if ((size_t)len != strlen(line) || !cache_load_line(c, line, now))
			log_warnx("cache: %s:%ld: malformed entry ignored", path, lineno);
	}
	free(line);
	fclose(f);
	if (*errp)
		return -1;
	return (long)(c->c_stats.cs_entries - before);
}
