/*
 * cachefile_fuzz.c: libFuzzer target for the cache file loader: the
 * parser of policy/cachefile.c and what policy/cache.c makes of each line
 * (cache_load_stream(), the same loader as cache_load() on a buffer). The
 * file is the daemon's own, but it lives on disk across restarts and may
 * come back truncated, corrupt or edited: whatever it holds must load, or
 * be refused with an error, and never make a verdict weaker than the text.
 *
 * Once: a configuration with small cache bounds (cache.max_entries 4,
 * cache.max_policies 3, cache.max_ttl 3600, refresh_ahead false, no
 * per-domain rules), its engine and generation. Per input: a new cache;
 * the input is read once by cachefile_read_stream() with callbacks that
 * record what each well-formed line states, then loaded into the cache by
 * cache_load_stream() at a fixed now. Besides memory errors and leaks the
 * target aborts when:
 *   - the load and the read disagree on refusing the file (only a first
 *     line other than the header refuses it), or the load says it loaded
 *     more verdicts than the file has well-formed "e" lines;
 *   - the cache holds more than cca_max_entries verdicts or its policy
 *     store more than cca_max_policies records (the configuration's own
 *     bounds, read from the cfg);
 *   - a verdict the cache serves for a domain at now is not one that an
 *     unexpired "e" line of that domain states: DANE verdict, TTL and
 *     reason equal; MTA-STS absent / error as stated; a stated policy
 *     state never served without a policy;
 *   - a served verdict's MTA-STS policy, or a policy of the store, is not
 *     one a line of that domain states (id, body, fetch time) with an end
 *     after now; a store record lasts beyond the line's POLICY-EXPIRES or
 *     FETCHED + max_age;
 *   - a verdict outlives its line's EXPIRES or now + cca_max_ttl;
 *   - the Postfix policy is not product.md's for the stated facts: TEMP
 *     for DANE bogus / temperror, dane-only for usable, dane for partial
 *     and unusable, and otherwise OK only for an MTA-STS enforce policy
 *     (never a downgrade, never a policy from nowhere).
 * Seeds live in fuzz/corpus/cachefile/.
 */
#include <iv.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "config/cfg.h"
#include "policy/cache.h"
#include "policy/cachefile.h"
#include "policy/engine.h"
#include "policy/generation.h"
#include "policy/stsstore.h"

#define FUZZ_NOW        ((time_t)1700000000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fuzz_conf[] =
    "cache: { max_entries = 4; max_policies = 3; max_ttl = 3600; refresh_ahead = false; };\n";

/* What one well-formed line states. */
struct fuzz_line {
	bool fl_verdict;                /* an "e" line */
	char *fl_domain;
	time_t fl_expires;
	enum dane_verdict fl_dane;
	uint32_t fl_ttl;
	char *fl_reason;
	enum verdict_sts fl_sts;
	time_t fl_pexp;
	char *fl_id;
	time_t fl_fetched;
	char *fl_body;
};

struct fuzz_rec {
	struct fuzz_line *lines;
	size_t n, cap;
};

static struct generation *fuzz_gen;
static const struct cfg_cache *fuzz_cc;

static struct fuzz_line *
fuzz_add(struct fuzz_rec *r)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		r->lines = xreallocarray(r->lines, r->cap, sizeof(*r->lines));
	}
	memset(&r->lines[r->n], 0, sizeof(r->lines[0]));
	return &r->lines[r->n++];
}

static bool
fuzz_rec_entry(void *arg, const struct cachefile_entry *fe)
{
	struct fuzz_line *l = fuzz_add(arg);

	l->fl_verdict = true;
	l->fl_domain = xstrdup(fe->cfe_domain);
	l->fl_expires = fe->cfe_expires;
	l->fl_dane = fe->cfe_dane;
	l->fl_ttl = fe->cfe_dane_ttl;
	l->fl_reason = xstrdup(fe->cfe_dane_reason);
	l->fl_sts = fe->cfe_sts;
	l->fl_pexp = fe->cfe_policy_expires;
	l->fl_id = xstrdup(fe->cfe_policy_id);
	l->fl_fetched = fe->cfe_fetched;
	l->fl_body = xstrdup(fe->cfe_body);
	return true;
}

static bool
fuzz_rec_sts(void *arg, const struct cachefile_sts *fs)
{
	struct fuzz_line *l = fuzz_add(arg);

	l->fl_domain = xstrdup(fs->cfs_domain);
	l->fl_pexp = fs->cfs_policy_expires;
	l->fl_id = xstrdup(fs->cfs_policy_id);
	l->fl_fetched = fs->cfs_fetched;
	l->fl_body = xstrdup(fs->cfs_body);
	return true;
}

static void
fuzz_rec_free(struct fuzz_rec *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->lines[i].fl_domain);
		free(r->lines[i].fl_reason);
		free(r->lines[i].fl_id);
		free(r->lines[i].fl_body);
	}
	free(r->lines);
}

/* Does a line of domain state policy p (id, body, fetch time) with an end
 * at or after pexp (0: any end after now)? */
static bool
fuzz_policy_stated(const struct fuzz_rec *r, const char *domain, const struct mtasts_policy *p,
    time_t pexp)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct fuzz_line *l = &r->lines[i];

		if (strcmp(l->fl_domain, domain) == 0 && strcmp(l->fl_id, p->mp_id) == 0 &&
		    strcmp(l->fl_body, p->mp_text) == 0 && l->fl_fetched == p->mp_fetched &&
		    l->fl_pexp > FUZZ_NOW && l->fl_pexp >= pexp &&
		    (pexp == 0 || p->mp_fetched + (time_t)p->mp_max_age >= pexp))
			return true;
	}
	return false;
}

/* product.md "The Postfix policy", from the stated DANE verdict. */
static void
fuzz_check_policy(const struct verdict *v, enum dane_verdict d)
{
	switch (d) {
	case DANE_BOGUS:
	case DANE_TEMPERROR:
		if (v->v_kind != VERDICT_TEMP)
			abort();
		return;
	case DANE_USABLE:
		if (v->v_kind != VERDICT_OK || v->v_source != VERDICT_SRC_DANE ||
		    strcmp(v->v_level, "dane-only") != 0)
			abort();
		return;
	case DANE_PARTIAL:
	case DANE_UNUSABLE:
		if (v->v_kind != VERDICT_OK || v->v_source != VERDICT_SRC_DANE ||
		    strcmp(v->v_level, "dane") != 0)
			abort();
		return;
	default:
		if (v->v_kind == VERDICT_TEMP)
			abort();
		if (v->v_kind == VERDICT_OK && (v->v_source != VERDICT_SRC_MTASTS ||
		    v->v_sts != VERDICT_STS_ENFORCE || v->v_sts_policy == NULL))
			abort();
		if (v->v_sts == VERDICT_STS_ENFORCE && v->v_kind != VERDICT_OK)
			abort();        /* an enforce policy dropped: a downgrade */
		return;
	}
}

/* Does unexpired "e" line l state what v says? */
static bool
fuzz_verdict_stated(const struct fuzz_line *l, const struct verdict *v)
{
	if (!l->fl_verdict || l->fl_expires <= FUZZ_NOW || v->v_dane->dr_verdict != l->fl_dane ||
	    v->v_dane->dr_ttl != l->fl_ttl || strcmp(v->v_dane->dr_reason, l->fl_reason) != 0)
		return false;
	switch (l->fl_sts) {
	case VERDICT_STS_ABSENT:
	case VERDICT_STS_ERROR:
		return v->v_sts == l->fl_sts && v->v_sts_policy == NULL;
	default:
		return v->v_sts_policy != NULL;
	}
}

static void
fuzz_check_verdicts(struct cache *c, const struct fuzz_rec *r)
{
	size_t i, j;

	for (i = 0; i < r->n; i++) {
		const struct fuzz_line *l = &r->lines[i];
		struct verdict *v;
		time_t last = 0;
		bool stated = false;

		if (!l->fl_verdict)
			continue;
		for (j = 0; j < i; j++)
			if (r->lines[j].fl_verdict && strcmp(r->lines[j].fl_domain, l->fl_domain) == 0)
				break;
		if (j < i)
			continue;       /* this domain was checked at its first line */
		if ((v = cache_lookup(c, l->fl_domain, FUZZ_NOW)) == NULL)
			continue;
		if (strcmp(v->v_dane->dr_domain, l->fl_domain) != 0)
			abort();
		for (j = i; j < r->n; j++) {
			const struct fuzz_line *m = &r->lines[j];

			if (!m->fl_verdict || strcmp(m->fl_domain, l->fl_domain) != 0)
				continue;
			if (m->fl_expires > last)
				last = m->fl_expires;
			if (fuzz_verdict_stated(m, v)) {
				stated = true;
				fuzz_check_policy(v, m->fl_dane);
			}
		}
		if (!stated)
			abort();
		if (v->v_sts_policy != NULL &&
		    !fuzz_policy_stated(r, l->fl_domain, v->v_sts_policy, 0))
			abort();
		/* Never beyond what the file or the configuration allows. */
		if (cache_lookup(c, l->fl_domain, last) != NULL ||
		    cache_lookup(c, l->fl_domain, FUZZ_NOW + (time_t)fuzz_cc->cca_max_ttl) != NULL)
			abort();
	}
}

struct fuzz_store_check {
	const struct fuzz_rec *r;
};

static void
fuzz_check_store_entry(void *arg, const struct stsstore_entry *se)
{
	const struct fuzz_store_check *sc = arg;

	if (se->se_policy == NULL)
		return;
	if (se->se_expires <= FUZZ_NOW ||
	    !fuzz_policy_stated(sc->r, se->se_domain, se->se_policy, se->se_expires))
		abort();
}

static void
fuzz_setup(void)
{
	struct engine *en;
	struct cfg *cfg;
	char *err = NULL;

	log_set_level(LOG_ERR);         /* a warning per malformed line otherwise */
	iv_init();
	if ((cfg = cfg_load_string(fuzz_conf, "fuzz.conf", &err)) == NULL ||
	    (en = engine_new(cfg, false, &err)) == NULL) {
		fprintf(stderr, "cachefile_fuzz: setup: %s\n", err);
		abort();
	}
	fuzz_gen = generation_new(en);
	fuzz_cc = &generation_engine(fuzz_gen)->en_cfg->c_cache;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_rec rec = { NULL, 0, 0 };
	struct fuzz_store_check sc = { &rec };
	struct cache_stats cs;
	struct stsstore_stats ss;
	struct cache *c;
	char *buf, *err = NULL, *err2 = NULL;
	size_t i, nverdicts = 0;
	FILE *f;
	long n;
	int rc;

	if (fuzz_gen == NULL)
		fuzz_setup();
	if (size == 0)
		return 0;               /* fmemopen() needs a byte; an empty file reads nothing */
	buf = xmalloc(size);
	memcpy(buf, data, size);

	/* What the file states, line by line. */
	if ((f = fmemopen(buf, size, "r")) == NULL)
		abort();
	rc = cachefile_read_stream(f, "fuzz", fuzz_rec_entry, fuzz_rec_sts, &rec, &err);
	fclose(f);
	if ((rc == 0) != (err == NULL))
		abort();
	for (i = 0; i < rec.n; i++)
		nverdicts += rec.lines[i].fl_verdict;

	/* The loader. */
	c = cache_new(fuzz_gen);
	if ((f = fmemopen(buf, size, "r")) == NULL)
		abort();
	n = cache_load_stream(c, f, "fuzz", FUZZ_NOW, &err2);
	fclose(f);
	if ((n < 0) != (rc < 0) || (n < 0) != (err2 != NULL) || (n >= 0 && (size_t)n > nverdicts))
		abort();
	cache_stats(c, &cs);
	stsstore_stats(cache_stsstore(c), &ss);
	if (cs.cs_entries > fuzz_cc->cca_max_entries ||
	    ss.ss_policies + ss.ss_failures > fuzz_cc->cca_max_policies)
		abort();
	stsstore_each(cache_stsstore(c), FUZZ_NOW, fuzz_check_store_entry, &sc);
	fuzz_check_verdicts(c, &rec);
	cache_free(c);
	fuzz_rec_free(&rec);
	free(err);
	free(err2);
	free(buf);
	return 0;
}
