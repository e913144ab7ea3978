/*
 * NAME
 *	bench/query - how long one DANE verdict takes
 * SUMMARY
 *	bench/query -c CONF [-n N] DOMAIN
 * DESCRIPTION
 *	Drives the policy engine in-process on an ivykis loop, as
 *	`danemilter query` does, and prints the time from engine_dane() to
 *	its callback (CLOCK_MONOTONIC), one figure per line:
 *
 *	domain:        the domain, its number of MX hosts and the verdict.
 *	cold:          N runs, each with a new engine and so a new libunbound
 *	               context: nothing is cached, every query goes to the
 *	               name servers. Creating and freeing the engine (reading
 *	               trust anchors) is not timed.
 *	critical path: sequential DNS round trips and queries made by a cold
 *	               run (dr_rounds, dr_queries of struct dane_result).
 *	warm:          one engine, one untimed priming lookup, then N timed
 *	               lookups answered from libunbound's in-process cache.
 *
 *	Median and 90th percentile (nearest rank) are given in milliseconds.
 *	The program measures and prints; it never judges the speed.
 * DIAGNOSTICS
 *	Exit 0 when every run gave the same verdict and none was temperror
 *	or bogus; 1 otherwise (the differing run is named on stderr);
 *	EX_USAGE (64) for bad arguments, EX_CONFIG (78) when the configuration
 *	or the resolver cannot be set up.
 */
#include <getopt.h>
#include <iv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "policy/cache.h"
#include "policy/generation.h"
#include "config/cfg.h"
#include "policy/engine.h"

#define QUERY_DEFAULT_RUNS 50
#define QUERY_MAX_RUNS 1000000

/* One timed lookup: filled in by query_done(). */
struct query_run {
	struct timespec qr_start;
	struct timespec qr_end;
	struct dane_result *qr_res;
};

/* What every run is compared with: the first cold run. */
struct query_ref {
	enum dane_verdict qf_verdict;
	size_t qf_nhosts;
	unsigned qf_rounds;
	unsigned qf_queries;
	int qf_bad;                     /* runs that did not match */
};

static void
query_usage(void)
{
	fprintf(stderr, "usage: bench/query -c CONF [-n N] DOMAIN\n");
}

static void
query_done(void *arg, struct dane_result *res)
{
	struct query_run *r = arg;

	clock_gettime(CLOCK_MONOTONIC, &r->qr_end);
	r->qr_res = res;
	iv_quit();
}

/* One lookup on en, timed; the milliseconds it took. The caller frees
 * r->qr_res with dane_result_free(). */
static double
query_once(struct engine *en, const char *domain, struct query_run *r)
{
	memset(r, 0, sizeof(*r));
	clock_gettime(CLOCK_MONOTONIC, &r->qr_start);
	if (engine_dane(en, domain, query_done, r) == NULL)
		log_abort("bench/query: engine_dane refused checked domain %s", domain);
	iv_main();
	if (r->qr_res == NULL)
		log_abort("bench/query: loop ended without a result for %s", domain);
	return (double)(r->qr_end.tv_sec - r->qr_start.tv_sec) * 1e3 +
	    (double)(r->qr_end.tv_nsec - r->qr_start.tv_nsec) / 1e6;
}

/* Compare res with the reference; 0 when it matches, else 1 after saying why. */
static int
query_check(const struct query_ref *ref, const char *phase, int run,
    const struct dane_result *res)
{
	if (res->dr_verdict == DANE_TEMPERROR || res->dr_verdict == DANE_BOGUS) {
		fprintf(stderr, "bench/query: %s run %d: verdict %s: %s\n", phase,
		    run, dane_verdict_name(res->dr_verdict), res->dr_reason);
		return 1;
	}
	if (res->dr_verdict != ref->qf_verdict) {
		fprintf(stderr, "bench/query: %s run %d: verdict %s, first run %s\n",
		    phase, run, dane_verdict_name(res->dr_verdict),
		    dane_verdict_name(ref->qf_verdict));
		return 1;
	}
	return 0;
}

static int
query_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sort ms[0..n) and print "LABEL: N runs, median M ms, p90 P ms (NOTE)". */
static void
query_print_stats(const char *label, double *ms, int n, const char *note)
{
	double median;
	int p90;

	qsort(ms, (size_t)n, sizeof(*ms), query_cmp_double);
	median = n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
	p90 = (9 * n + 9) / 10 - 1;     /* nearest rank: ceil(0.9 n) - 1 */
	printf("%s: %d runs, median %.2f ms, p90 %.2f ms (%s)\n",
	    label, n, median, ms[p90], note);
}

/* A new engine, or exit EX_CONFIG. */
static struct engine *
query_engine(struct cfg *cfg)
{
	struct engine *en;
	char *err = NULL;

	if ((en = engine_new(cfg, false, &err)) == NULL) {
		fprintf(stderr, "bench/query: resolver: %s\n", err);
		free(err);
		exit(EX_CONFIG);
	}
	return en;
}

static void
query_cached_done(void *arg, struct verdict *v)
{
	*(struct verdict **)arg = verdict_ref(v);
	iv_quit();
}

/*
 * The verdict cache that the socketmap server and the milter use: prime it
 * once, then time a million hits (a hash lookup, no allocation). Returns
 * nanoseconds per hit, or -1 when the cached verdict is not usable DANE.
 */
static double
query_cached(struct cfg *cfg, const char *domain)
{
	struct engine *en = query_engine(cfg);
	struct generation *g = generation_new(en);
	struct cache *c = cache_new(g);
	struct verdict *v = NULL;
	struct timespec t0, t1;
	time_t now = time(NULL);
	long i, hits = 0, n = 1000000;

	if (cache_get(c, domain, now, query_cached_done, &v, NULL) == NULL)
		iv_main();
	if (v == NULL || v->v_kind == VERDICT_TEMP) {
		verdict_unref(v);
		cache_free(c);
		generation_free(g);
		engine_unref(en);
		return -1;
	}
	verdict_unref(v);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++)
		hits += cache_lookup(c, domain, now) != NULL;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cache_free(c);
	generation_free(g);
	engine_unref(en);
	if (hits != n)
		return -1;
	return ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / (double)n;
}

int
main(int argc, char **argv)
{
	const char *cfgpath = NULL;
	char domain[256], *end, *err = NULL;
	struct query_ref ref;
	struct query_run run;
	struct engine *en;
	struct cfg *cfg;
	double *ms;
	long n = QUERY_DEFAULT_RUNS;
	int c, i, bad = 0;

	while ((c = getopt(argc, argv, "c:n:h")) != -1) {
		switch (c) {
		case 'c':
			cfgpath = optarg;
			break;
		case 'n':
			n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n < 1 || n > QUERY_MAX_RUNS) {
				fprintf(stderr, "bench/query: -n wants 1..%d, got \"%s\"\n",
				    QUERY_MAX_RUNS, optarg);
				return EX_USAGE;
			}
			break;
		case 'h':
			query_usage();
			return 0;
		default:
			query_usage();
			return EX_USAGE;
		}
	}
	if (cfgpath == NULL || argc - optind != 1) {
		query_usage();
		return EX_USAGE;
	}
	if (engine_domain_key(argv[optind], domain, sizeof(domain)) == NULL) {
		fprintf(stderr, "bench/query: \"%s\" is not a valid domain name\n",
		    argv[optind]);
		return EX_USAGE;
	}
	if ((cfg = cfg_load(cfgpath, &err)) == NULL) {
		fprintf(stderr, "bench/query: %s\n", err);
		free(err);
		return EX_CONFIG;
	}
	/* Per-lookup log lines would be timed too: errors only. */
	log_set_level(LOG_ERR);
	ms = xcalloc((size_t)n, sizeof(*ms));
	iv_init();

	/* Cold: a fresh resolver (empty cache) for every run. */
	memset(&ref, 0, sizeof(ref));
	for (i = 0; i < n; i++) {
		en = query_engine(cfg);
		ms[i] = query_once(en, domain, &run);
		if (i == 0) {
			ref.qf_verdict = run.qr_res->dr_verdict;
			ref.qf_nhosts = run.qr_res->dr_nhosts;
			ref.qf_rounds = run.qr_res->dr_rounds;
			ref.qf_queries = run.qr_res->dr_queries;
		}
		bad += query_check(&ref, "cold", i + 1, run.qr_res);
		dane_result_free(run.qr_res);
		engine_unref(en);
	}
	printf("domain: %s (%zu MX host%s), verdict dane=%s\n", domain,
	    ref.qf_nhosts, ref.qf_nhosts == 1 ? "" : "s",
	    dane_verdict_name(ref.qf_verdict));
	query_print_stats("cold", ms, (int)n, "fresh resolver each run: no cache");
	printf("critical path: %u sequential DNS round trip%s, %u queries\n",
	    ref.qf_rounds, ref.qf_rounds == 1 ? "" : "s", ref.qf_queries);
	fflush(stdout);

	/* Warm: one resolver, primed once, then served from its cache. */
	en = query_engine(cfg);
	query_once(en, domain, &run);
	bad += query_check(&ref, "warm priming", 0, run.qr_res);
	dane_result_free(run.qr_res);
	for (i = 0; i < n; i++) {
		ms[i] = query_once(en, domain, &run);
		bad += query_check(&ref, "warm", i + 1, run.qr_res);
		dane_result_free(run.qr_res);
	}
	engine_unref(en);
	query_print_stats("warm", ms, (int)n, "resolver cache in-process");
	{
		double ns = query_cached(cfg, domain);

		if (ns < 0) {
			printf("cached: the verdict cache did not hold a usable verdict\n");
			bad++;
		} else {
			printf("cached: 1000000 hits, %.0f ns per hit (the verdict cache the socketmap "
			    "and the milter use)\n", ns);
		}
	}

	if (bad > 0)
		printf("verdict check: %d run%s differed from the first or failed\n",
		    bad, bad == 1 ? "" : "s");
	free(ms);
	cfg_unref(cfg);
	iv_deinit();
	return bad > 0 ? 1 : 0;
}
